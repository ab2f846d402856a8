package inference_test

import (
	"testing"

	"github.com/hearth-ai/hearth/inference"
)

// TestCountTokens: OpenAI's tokenizer, offline. The counts are tiktoken's
// reference values for these strings ("hello world" is 2 tokens in both
// cl100k_base and o200k_base).
func TestCountTokens(t *testing.T) {
	for _, c := range []struct {
		model, text string
		want        int
	}{
		{"gpt-4o", "hello world", 2},
		{"gpt-4", "hello world", 2},
		{"gpt-4o-mini", "", 0},
		{"llama-3-8b-instruct", "hello world", 2}, // unknown to tiktoken: o200k_base
	} {
		if got := inference.CountTokens(c.model, c.text); got != c.want {
			t.Errorf("CountTokens(%q, %q) = %d, want %d", c.model, c.text, got, c.want)
		}
	}
	long := inference.CountTokens("gpt-4o", "The Tipped Kettle is Kettleford's only inn, and Hobb Fairweather keeps it.")
	if long < 12 || long > 24 {
		t.Errorf("a 13-word sentence counted %d tokens", long)
	}
}

package openaiserve

import (
	"testing"
)

func TestRenderPrompt(t *testing.T) {
	got, prefix := renderPrompt([]turn{{"user", "hi"}})
	if got != "User: hi\nAssistant:" || prefix != 0 {
		t.Fatalf("%q %d", got, prefix)
	}
	got, prefix = renderPrompt([]turn{{"system", "S"}, {"user", "hi"}, {"assistant", "Hel"}})
	if got != "S\n\nUser: hi\nAssistant: Hel" || prefix != 3 {
		t.Fatalf("%q %d", got, prefix)
	}
}

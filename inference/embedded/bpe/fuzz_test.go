package bpe

import (
	"strings"
	"testing"
)

// FuzzRoundTrip checks, for any bytes, that pre-tokens cover the input,
// Decode(Encode(s)) == s, no special token comes out of text, and the
// prompt layout decodes back to the prompt. Seeds: testdata/fuzz/FuzzRoundTrip.
func FuzzRoundTrip(f *testing.F) {
	tok := loreTokenizer(f)
	for _, s := range []string{"", "Hello  world\n\nThe", "<|eos|>", "it's \xff\xfe 日本 😀", "   \t\n"} {
		f.Add(s, 3)
	}
	f.Fuzz(func(t *testing.T, s string, prefix int) {
		if strings.Join(PreTokenize(s), "") != s {
			t.Fatalf("pre-tokens of %q do not cover it", s)
		}
		ids := tok.Encode(s)
		for _, id := range ids {
			if tok.IsSpecial(id) || id < 0 || id >= tok.VocabSize() {
				t.Fatalf("Encode(%q) gave id %d", s, id)
			}
		}
		if got := tok.Decode(ids); got != s {
			t.Fatalf("Decode(Encode(%q)) = %q", s, got)
		}
		p := tok.EncodePrompt(s, prefix)
		if p[0] != tok.BOS() || tok.Decode(p) != s {
			t.Fatalf("EncodePrompt(%q, %d) = %v", s, prefix, p)
		}
	})
}

package bpe

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

func TestPreTokenizeHandWorked(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		// Two spaces: the first stands alone (\s+(?!\S) backs off one), the
		// second joins the word; "\n\n" before a letter splits the same way.
		{"Hello  world\n\nThe", []string{"Hello", " ", " world", "\n", "\n", "The"}},
		{"it's", []string{"it", "'s"}},
		{"x  \n y", []string{"x", "  \n", " y"}},
		{"I'll've we'RE", []string{"I", "'ll", "'ve", " we", "'", "RE"}},
		{"''s", []string{"''", "s"}},
		{"'", []string{"'"}},
		{"12345 67,890", []string{"12345", " 67", ",", "890"}},
		{"a1b2", []string{"a", "1", "b", "2"}},
		{"!!!??? ...", []string{"!!!???", " ..."}},
		{"<|eos|>", []string{"<|", "eos", "|>"}},
		{"naïve café", []string{"naïve", " café"}},
		{"e\u0301t\u00e9", []string{"e", "\u0301", "t\u00e9"}}, // combining mark is \p{Mn}, not \p{L}
		{"Здравствуй, мир", []string{"Здравствуй", ",", " мир"}},
		{"日本語 テキスト", []string{"日本語", " テキスト"}},
		{"😀😀 😀!", []string{"😀😀", " 😀!"}},
		{"Ⅻ½٣", []string{"Ⅻ½٣"}},
		{"   ", []string{"   "}},
		{"a   ", []string{"a", "   "}},
		{" ", []string{" "}},
		{"\t x", []string{"\t", " x"}},
		{"a\u00a0b", []string{"a", "\u00a0", "b"}}, // NBSP is \s but not the optional ' '
		{"\xff\xfe abc", []string{"\xff\xfe", " abc"}},
		{"a\xffb", []string{"a", "\xff", "b"}},
		{" \xc3", []string{" \xc3"}},
		{"\xe2\x82 x", []string{"\xe2\x82", " x"}},
		{"", nil},
	}
	for _, c := range cases {
		if got := PreTokenize(c.in); !slices.Equal(got, c.want) {
			t.Errorf("PreTokenize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestPreTokenizeGolden compares with GPT2Pattern run by Python's regex
// module (testdata/pretokenize_golden.json, 416 cases: random mixes of
// ASCII, contractions, whitespace kinds, accents, scripts, numbers of all
// kinds and emoji).
func TestPreTokenizeGolden(t *testing.T) {
	raw, err := os.ReadFile("testdata/pretokenize_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		In  string   `json:"in"`
		Out []string `json:"out"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 400 {
		t.Fatalf("only %d golden cases", len(cases))
	}
	for _, c := range cases {
		if got := PreTokenize(c.In); !slices.Equal(got, c.Out) {
			t.Errorf("PreTokenize(%q) = %q, want %q", c.In, got, c.Out)
		}
	}
}

func TestPreTokenizeCoversInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		s := randomText(rng, rng.IntN(40))
		parts := PreTokenize(s)
		if strings.Join(parts, "") != s {
			t.Fatalf("pre-tokens of %q do not concatenate back: %q", s, parts)
		}
		for _, p := range parts {
			if p == "" {
				t.Fatalf("empty pre-token in %q", s)
			}
		}
	}
}

// randomText mixes random bytes (often invalid UTF-8), random runes from
// the whole Unicode range and common text pieces.
func randomText(rng *rand.Rand, n int) string {
	pieces := []string{" ", "  ", "\n", "\t", "'s", "'", "a", "Hello", "42", ".", "é", "日本", "😀", "\u00a0", "<|eos|>", "\r\n"}
	var b strings.Builder
	for range n {
		switch rng.IntN(4) {
		case 0:
			b.WriteByte(byte(rng.IntN(256)))
		case 1:
			b.WriteRune(rune(rng.IntN(0x110000)))
		default:
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
	}
	return b.String()
}

package bpe

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

func mergeStrings(tok *Tokenizer) []string {
	var out []string
	for _, m := range tok.merges {
		out = append(out, string(tok.bytes[m.left])+"|"+string(tok.bytes[m.right]))
	}
	return out
}

// TestTrainHandChecked follows "aaabdaaabac" (one pre-token) by hand:
// aa:4 → merge a+a, giving aa a b d aa a b a c; now aa+a and a+b both
// count 2 and "a" < "aa" bytewise, so a+b; then aa+ab (2); then all pairs
// count 1 and the smallest left token wins: a+c, aaab+ac ("ac" < "d"),
// aaab+d, aaabd+aaabac.
func TestTrainHandChecked(t *testing.T) {
	tok, err := Train([]string{"aaabdaaabac"}, 256+7+1, []string{EOSName})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a|a", "a|b", "aa|ab", "a|c", "aaab|ac", "aaab|d", "aaabd|aaabac"}
	if got := mergeStrings(tok); !slices.Equal(got, want) {
		t.Fatalf("merges %q, want %q", got, want)
	}
	if got := tok.Encode("aaabdaaabac"); !slices.Equal(got, []int{256 + 6}) {
		t.Errorf("training word encodes to %v, want one token", got)
	}
	if tok.EOS() != 256+7 || tok.VocabSize() != 264 {
		t.Errorf("EOS %d vocab %d", tok.EOS(), tok.VocabSize())
	}
	// Corpus exhausted: asking for more gives what there is.
	big, err := Train([]string{"aaabdaaabac"}, 1000, nil)
	if err != nil || big.VocabSize() != 256+7 {
		t.Errorf("exhausted corpus: vocab %d, err %v", big.VocabSize(), err)
	}
}

// TestTrainCountsWords: pre-token counts weight the pairs. In
// "ab ab ab cd" the pre-tokens are "ab" once and " ab" twice, so a+b
// (3) comes first, then " "+ab (2), then " "+c vs c+d (1 each; " " < "c").
func TestTrainCountsWords(t *testing.T) {
	tok, err := Train([]string{"ab ab ab cd"}, 256+4, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a|b", " |ab", " |c", " c|d"}
	if got := mergeStrings(tok); !slices.Equal(got, want) {
		t.Fatalf("merges %q, want %q", got, want)
	}
	if got := tok.Encode("ab ab cd"); !slices.Equal(got, []int{256, 257, 259}) {
		t.Errorf("encode = %v", got)
	}
}

func TestTrainMergesAcrossWordsNeverCrossPreTokens(t *testing.T) {
	tok, err := Train([]string{"a.a.a.a. a.a."}, 400, nil)
	if err != nil {
		t.Fatal(err)
	}
	for id := 256; id < tok.VocabSize(); id++ {
		b := tok.bytes[id]
		if got := PreTokenize(string(b)); len(got) != 1 {
			t.Errorf("token %q spans pre-tokens %q", b, got)
		}
	}
}

func TestTrainDeterministic(t *testing.T) {
	docs := loreCorpus(t)
	a, err := Train(docs, 700, specials)
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(docs)
	slices.Reverse(rev)
	b, err := Train(rev, 700, specials)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a.Meta(), b.Meta()) {
		t.Fatal("same pre-token counts gave different tokenizers")
	}
	seen := map[string]bool{}
	for _, s := range a.Meta().Tokens {
		if seen[s] {
			t.Fatalf("duplicate token %q", s)
		}
		seen[s] = true
	}
}

func TestTrainErrors(t *testing.T) {
	for _, c := range []struct {
		vocab int
		sp    []string
	}{
		{255, nil},
		{257, []string{"a", "b"}},
		{MaxVocab + 1, nil},
		{300, []string{""}},
		{300, []string{"<x>", "<x>"}},
		{300, []string{"\xff"}},
		{300, []string{"a"}},
		{300, []string{"ell"}}, // a merged token of "hello"
		{300, []string{"Ġ"}},
	} {
		if _, err := Train([]string{"hello"}, c.vocab, c.sp); !errors.Is(err, ErrTrain) {
			t.Errorf("Train(vocab %d, %q) err = %v, want ErrTrain", c.vocab, c.sp, err)
		}
	}
	tok, err := Train(nil, 259, specials)
	if err != nil || tok.VocabSize() != 259 || tok.Decode(tok.Encode("any\xffthing")) != "any\xffthing" {
		t.Errorf("empty corpus: %v", err)
	}
}

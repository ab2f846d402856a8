package inference

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// runStopStream feeds text to a StopStream in the given piece sizes and returns
// each release and the concatenated output (flushed at the end unless a
// stop was found).
func runStopStream(text string, stops []string, sizes []int) ([]string, string) {
	s := NewStopStream(stops)
	var rel []string
	for i, k := 0, 0; i < len(text); k++ {
		n := min(sizes[k%len(sizes)], len(text)-i)
		rel = append(rel, s.Feed(text[i:i+n]))
		i += n
	}
	if !s.stopped {
		rel = append(rel, s.Flush())
	}
	return rel, strings.Join(rel, "")
}

func TestStopStreamCutsAcrossDeltas(t *testing.T) {
	text := "The mill is east. STOP here, then more."
	for size := 1; size <= len(text); size++ {
		_, got := runStopStream(text, []string{"STOP", "zz"}, []int{size})
		if got != "The mill is east. " {
			t.Fatalf("size %d: %q", size, got)
		}
	}
	// The earliest stop wins, whichever is listed first.
	if _, got := runStopStream("abcXYdefAB", []string{"AB", "XY"}, []int{2}); got != "abc" {
		t.Fatalf("earliest: %q", got)
	}
	// A partial match that does not complete is released.
	if _, got := runStopStream("ST and STO and end", []string{"STOP"}, []int{1}); got != "ST and STO and end" {
		t.Fatalf("partial: %q", got)
	}
}

// TestStopStreamProperty: for random texts, stops and splits, the stopper's
// output equals cutting the whole text at the earliest stop, and every
// release is valid UTF-8 when the text is.
func TestStopStreamProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "é", "…", "🔥", " "}
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 3000 {
		text := word(rng.IntN(30))
		var stops []string
		for range rng.IntN(3) {
			stops = append(stops, word(1+rng.IntN(3)))
		}
		sizes := []int{1 + rng.IntN(5), 1 + rng.IntN(5)}
		rel, got := runStopStream(text, stops, sizes)
		want, _ := CutAtStop(text, stops)
		if got != want {
			t.Fatalf("text %q stops %q sizes %v: %q, want %q", text, stops, sizes, got, want)
		}
		for _, r := range rel {
			if !utf8.ValidString(r) {
				t.Fatalf("text %q sizes %v: release %q is not valid UTF-8", text, sizes, r)
			}
		}
	}
}

func TestStopStreamHoldsBackOnlyWhatItMust(t *testing.T) {
	s := NewStopStream([]string{"END"})
	if got := s.Feed("hello E"); got != "hello " {
		t.Fatalf("released %q", got)
	}
	if got := s.Feed("x"); got != "Ex" {
		t.Fatalf("released %q", got)
	}
	n := NewStopStream(nil)
	if got := n.Feed("caf\xc3"); got != "caf" {
		t.Fatalf("split rune: released %q", got)
	}
	if got := n.Feed("\xa9!"); got != "é!" {
		t.Fatalf("rest of rune: released %q", got)
	}
}

func TestIncompleteTail(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
	}{{"", 0}, {"abc", 0}, {"é", 0}, {"a\xc3", 1}, {"a\xe2\x80", 2}, {"\xf0\x9f\x94", 3}, {"🔥", 0}, {"a\x80", 0}} {
		if got := incompleteTail(c.s); got != c.want {
			t.Errorf("incompleteTail(%q) = %d, want %d", c.s, got, c.want)
		}
	}
}

package embedded

import (
	"strings"
	"testing"
)

func TestTextOutHoldsBackStopPrefixesAndPartialRunes(t *testing.T) {
	cases := []struct {
		name   string
		stops  []string
		tokens []string
		want   string // everything streamed
	}{
		{"plain", []string{"\n"}, []string{" Aye", ",", " friend", "."}, "Aye, friend."},
		{"stop inside a token", []string{"\n"}, []string{" Aye", ".\nA", " stranger"}, "Aye."},
		{"stop across tokens", []string{"END"}, []string{"one E", "N", "D two"}, "one "},
		{"false start of a stop", []string{"END"}, []string{"one E", "NVOY"}, "one ENVOY"},
		{"split rune", nil, []string{"caf", "\xc3", "\xa9", " ok"}, "café ok"},
		{"split 4-byte rune", nil, []string{"\xf0\x9f", "\x94", "\xa5!"}, "🔥!"},
		{"leading space trimmed", nil, []string{"  ", " hi"}, "hi"},
		{"stray continuation byte dropped", nil, []string{"ok", "\xa9", " go"}, "ok go"},
		{"cut inside a rune at the end dropped", nil, []string{"caf", "\xc3"}, "caf"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := newTextOut(c.stops)
			var got strings.Builder
			for _, tok := range c.tokens {
				d := o.add([]byte(tok))
				if !strings.HasPrefix(c.want[got.Len():], d) {
					t.Fatalf("streamed %q then %q: not a prefix of %q", got.String(), d, c.want)
				}
				got.WriteString(d)
			}
			got.WriteString(o.finish())
			if got.String() != c.want || o.text() != c.want {
				t.Fatalf("streamed %q, text %q, want %q", got.String(), o.text(), c.want)
			}
		})
	}
}

func TestSamplerGreedyTopKTopPAndPenalty(t *testing.T) {
	logits := func() []float64 { return []float64{1, 5, 3, 5, -2} }
	s := newSampler(Sampling{}, 1)
	if got := s.next(logits(), nil); got != 1 {
		t.Fatalf("greedy picked %d, want 1 (the first of the tied best)", got)
	}
	if got := s.next(logits(), []bool{true, false, true, false, true}); got != 2 {
		t.Fatalf("masked greedy picked %d, want 2", got)
	}
	// The repetition penalty (token 1 was generated) moves greedy to 3.
	p := newSampler(Sampling{RepetitionPenalty: 2}, 1)
	p.seen[1] = true
	if got := p.next(logits(), nil); got != 3 {
		t.Fatalf("penalised greedy picked %d, want 3", got)
	}
	// top-k 2 only ever draws the two best; the same seed draws the same.
	a, b := newSampler(Sampling{Temperature: 1, TopK: 2}, 7), newSampler(Sampling{Temperature: 1, TopK: 2}, 7)
	counts := map[int]int{}
	for range 2000 {
		x, y := a.next(logits(), nil), b.next(logits(), nil)
		if x != y {
			t.Fatal("same seed, different draws")
		}
		counts[x]++
	}
	if len(counts) != 2 || counts[1] == 0 || counts[3] == 0 {
		t.Fatalf("top-k 2 drew %v, want only tokens 1 and 3", counts)
	}
	// top-p 0.5 over {5, 5, 3, 1, -2}: the two 5s hold ≈0.93, so the nucleus is one or two tokens.
	n := newSampler(Sampling{Temperature: 1, TopP: 0.3}, 3)
	for range 500 {
		if x := n.next(logits(), nil); x != 1 {
			t.Fatalf("top-p 0.3 drew %d; the nucleus is the first best token alone", x)
		}
	}
	if got := newSampler(Sampling{}, 1).next(logits(), make([]bool, 5)); got != -1 {
		t.Fatalf("nothing allowed gave %d, want -1", got)
	}
}

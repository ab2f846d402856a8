package constrain

import (
	"strings"
	"testing"
)

// benchMask measures one Mask call over a realistic vocabulary of size n
// after the matcher has consumed prefix.
func benchMask(b *testing.B, n int, prefix string) {
	v, _ := realisticVocab(n, 1)
	s := mustCompile(b, questSchema)
	m := s.NewMatcher(byteV)
	if err := feed(m, []byte(prefix)); err != nil {
		b.Fatal(err)
	}
	m.v = v // same automaton state, masked over the realistic vocabulary
	allowed := make([]bool, v.Size())
	b.ReportAllocs()
	for b.Loop() {
		m.Mask(allowed)
	}
	cnt := 0
	for _, a := range allowed {
		if a {
			cnt++
		}
	}
	b.ReportMetric(float64(cnt), "allowed")
}

// Mid-string: nearly every token is allowed, the worst case for the walk.
func BenchmarkMask8kInString(b *testing.B) {
	benchMask(b, 8192, `{"title":"The lost sword of`)
}

// At a property name: only key prefixes survive the first bytes.
func BenchmarkMask8kPropertyName(b *testing.B) {
	benchMask(b, 8192, `{"title":"The lost sword","giver":"npc_witch","`)
}

// Inside an integer (reward_gold 0..500 after "4").
func BenchmarkMask8kInteger(b *testing.B) {
	benchMask(b, 8192, `{"title":"x","giver":"npc_witch","objectives":[],"reward_gold":4`)
}

// Enum value start.
func BenchmarkMask8kEnum(b *testing.B) {
	benchMask(b, 8192, `{"title":"x","giver":"`)
}

// Five code points below title's maxLength 60: the plain-string fast path
// only covers short subtrees, the rest is walked and pruned.
func BenchmarkMask8kNearMaxLength(b *testing.B) {
	benchMask(b, 8192, `{"title":"`+strings.Repeat("x", 55))
}

// After a non-ASCII character and an escape: the common path still applies.
func BenchmarkMask8kAfterEscape(b *testing.B) {
	benchMask(b, 8192, `{"title":"Épée \"`)
}

// Top-level position of a nested object: only "{" tokens survive.
func BenchmarkMask8kStart(b *testing.B) {
	benchMask(b, 8192, ``)
}

func BenchmarkMask4kInString(b *testing.B) {
	benchMask(b, 4096, `{"title":"The lost sword of`)
}

func BenchmarkNewVocab8k(b *testing.B) {
	_, toks := realisticVocab(8192, 1)
	b.ReportAllocs()
	for b.Loop() {
		NewVocab(toks, 1)
	}
}

func BenchmarkAccept(b *testing.B) {
	v, toks := realisticVocab(4096, 1)
	s := mustCompile(b, questSchema)
	ids := map[string]int{}
	for id, t := range toks {
		if t != nil {
			ids[string(t)] = id
		}
	}
	seq := []string{`{"`, `title`, `":"`, `The`, ` sword`, ` of`, `","`, `giver`, `":"`, `npc_witch`, `","`,
		`objectives`, `":[`, `]`, `,"`, `reward_gold`, `":`, `4`, `0`, `}`}
	b.ReportAllocs()
	for b.Loop() {
		m := s.NewMatcher(v)
		for _, t := range seq {
			id, ok := ids[t]
			if !ok {
				b.Fatalf("token %q missing", t)
			}
			if err := m.Accept(id); err != nil {
				b.Fatal(err)
			}
		}
	}
}

package lore

import "testing"

// TestPassFilter checks that a filter allowing every chunk becomes a nil
// predicate and that any other filter keeps Filter.Allows's rules.
func TestPassFilter(t *testing.T) {
	chunks := []Chunk{
		{Source: "a", Text: "open lore"},
		{Source: "b", Text: "secret lore", Secrecy: 2, Region: "north"},
	}
	ics := make([]*indexedChunk, len(chunks))
	for i, c := range chunks {
		ics[i] = analyze(c)
	}
	ix := buildIndex(ics)
	for _, tc := range []struct {
		f       Filter
		isNil   bool
		allowed []bool
	}{
		{Filter{MaxSecrecy: 2}, true, []bool{true, true}},
		{Filter{MaxSecrecy: 5}, true, []bool{true, true}},
		{Filter{}, false, []bool{true, false}},
		{Filter{MaxSecrecy: 2, Sources: []string{"a"}}, false, []bool{true, false}},
		{Filter{MaxSecrecy: 2, Regions: []string{"south"}}, false, []bool{true, false}},
	} {
		pass := ix.passFilter(tc.f)
		if (pass == nil) != tc.isNil {
			t.Errorf("%+v: nil predicate %v, want %v", tc.f, pass == nil, tc.isNil)
		}
		for i, want := range tc.allowed {
			got := pass == nil || pass(uint32(i))
			if got != want || got != tc.f.Allows(&chunks[i]) {
				t.Errorf("%+v chunk %d: %v, want %v", tc.f, i, got, want)
			}
		}
	}
}

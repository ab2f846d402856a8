package lore

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// topExhaustive is index.top without pruning: every posting of every query
// term is scored (term at a time, in sorted term order). It is the
// reference that the MaxScore search must equal exactly.
func (ix *index) topExhaustive(query string, k int, f Filter) []scored {
	if k <= 0 || len(ix.chunks) == 0 {
		return nil
	}
	qterms := appendTokens(nil, query)
	slices.Sort(qterms)
	qterms = slices.Compact(qterms)
	score := map[uint32]float64{}
	for _, t := range qterms {
		e := ix.terms[t]
		if e == nil {
			continue
		}
		for _, p := range e.postings {
			if f.Allows(&ix.chunks[p.chunk].chunk) {
				score[p.chunk] += bm25Term(e.idf, p.tf)
			}
		}
	}
	out := make([]scored, 0, len(score))
	for c, s := range score {
		out = append(out, scored{c, s})
	}
	sortScored(out)
	if len(out) > k {
		out = out[:k]
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// TestMaxScoreEqualsExhaustive checks that the pruned BM25 search returns
// exactly the exhaustive ranking (chunks, order and scores) on the SRD and
// on a synthetic SRD-like corpus with secrecy, regions and tags, for the
// benchmark questions and for random queries of 1 to 40 words drawn from
// the vocabulary (common and rare words alike), with and without filters.
func TestMaxScoreEqualsExhaustive(t *testing.T) {
	srd := srdChunks(t)
	chunks := synthChunks(srd, 3*len(srd), 5)
	rng := rand.New(rand.NewPCG(11, 12))
	regions := []string{"", "north", "south"}
	for i := range chunks {
		chunks[i].Secrecy = rng.IntN(3)
		chunks[i].Region = regions[rng.IntN(len(regions))]
	}
	filters := []Filter{
		{MaxSecrecy: 2},
		{},
		{MaxSecrecy: 1, Regions: []string{"north"}},
		{MaxSecrecy: 2, Sources: []string{"synth"}},
	}
	for name, cs := range map[string][]Chunk{"srd": srd, "synth": chunks} {
		ics := make([]*indexedChunk, len(cs))
		for i, c := range cs {
			ics[i] = analyze(c)
		}
		ix := buildIndex(ics)
		vocab := make([]string, 0, len(ix.terms))
		for w := range ix.terms {
			vocab = append(vocab, w)
		}
		slices.Sort(vocab)
		queries := slices.Clone(benchQueries)
		for range 400 {
			q := ""
			for range 1 + rng.IntN(40) {
				q += vocab[rng.IntN(len(vocab))] + " "
			}
			queries = append(queries, q)
		}
		// Common words: long posting lists, where pruning works hardest.
		queries = append(queries, "the creature armor class hit points damage", "spell level target range")
		n := 0
		for _, q := range queries {
			for _, k := range []int{1, 5, 10, 40} {
				for _, f := range filters {
					got, want := ix.top(q, k, f), ix.topExhaustive(q, k, f)
					if !slices.Equal(got, want) {
						t.Fatalf("%s: %q k=%d filter %+v:\n got %v\nwant %v", name, q, k, f, got, want)
					}
					n++
				}
			}
		}
		t.Logf("%s: %d chunks, %d searches equal", name, len(cs), n)
	}
}

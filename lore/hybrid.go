package lore

import (
	"context"
	"time"
)

// SearchMode selects the ranking of a search.
type SearchMode int

const (
	// SearchAuto is hybrid when the library has an embedder, BM25 otherwise.
	SearchAuto SearchMode = iota
	// SearchBM25 ranks by BM25F alone (Hit.Score: the BM25 score).
	SearchBM25
	// SearchVector ranks by the cosine similarity of the query's embedding
	// to the chunks' (Hit.Score: the cosine, in [-1, 1]).
	SearchVector
	// SearchHybrid fuses the BM25 and vector rankings by reciprocal rank
	// fusion (Hit.Score: the fused score; see RRFK).
	SearchHybrid
)

// String returns "auto", "bm25", "vector" or "hybrid".
func (m SearchMode) String() string {
	switch m {
	case SearchBM25:
		return "bm25"
	case SearchVector:
		return "vector"
	case SearchHybrid:
		return "hybrid"
	}
	return "auto"
}

// SearchOptions tunes one search; the zero value is the library default.
type SearchOptions struct {
	Mode SearchMode
	// MMRLambda, in (0, 1), re-ranks the fused candidates by maximal
	// marginal relevance with this λ (1 would be pure relevance); 0 turns
	// diversification off. Needs vectors; ignored in BM25 mode.
	MMRLambda float64
	// Depth is how many results of each ranking are fused (and re-ranked
	// by MMR); default max(DefaultFusionDepth, k).
	Depth int
	// Exact forces a brute-force vector search (evaluation, benchmarks).
	Exact bool
}

// RRFK is the k of reciprocal rank fusion (Cormack, Clarke and Büttcher,
// "Reciprocal rank fusion outperforms Condorcet and individual rank
// learning methods", SIGIR 2009): a chunk's fused score is the sum over
// the rankings that return it of 1/(RRFK + rank), ranks from 1.
const RRFK = 60

// DefaultFusionDepth is the default number of results of each ranking
// that hybrid search fuses (at least k). Measured on the SRD query set
// (recall@5 of hybrid search): depth 10: 0.908, 20: 0.892, 50: 0.892 — a
// deeper list lets chunks that both rankings place in the middle outvote
// a chunk that one of them places near the top.
const DefaultFusionDepth = 10

// hybridSequential runs a hybrid search's two rankings one after the
// other; a variable for benchmarks.
var hybridSequential = false

// queryEmbedTimeout bounds the embedding of a query by default.
const queryEmbedTimeout = 5 * time.Second

// SearchWith is Search with options: it returns up to k chunks passing f,
// best first, ranked as o.Mode says (see SearchMode for what Hit.Score
// then means). Vector and hybrid modes fall back to BM25 when the library
// has no embedder or the query cannot be embedded (no known word, or the
// embedder failed: logged). The filter applies inside both searches.
func (l *Library) SearchWith(query string, k int, f Filter, o SearchOptions) []Hit {
	l.mu.RLock()
	ix, vec := l.idx, l.vec
	l.mu.RUnlock()
	if k <= 0 {
		return nil
	}
	mode := o.Mode
	if mode == SearchAuto {
		mode = l.opts.Search.Mode
	}
	if mode == SearchAuto {
		mode = SearchHybrid
	}
	if o.MMRLambda == 0 && o.Mode == SearchAuto {
		o.MMRLambda = l.opts.Search.MMRLambda
	}
	if mode == SearchBM25 || vec == nil {
		return ix.search(query, k, f)
	}
	qv := l.embedQuery(vec.emb, query)
	if qv == nil {
		if mode == SearchVector {
			return nil
		}
		return ix.search(query, k, f)
	}
	pass := ix.passFilter(f)
	depth := max(o.Depth, k)
	if o.Depth <= 0 {
		depth = max(DefaultFusionDepth, k)
	}
	var ranked []scored
	if mode == SearchVector {
		n := k
		if o.MMRLambda > 0 {
			n = depth
		}
		ranked = vec.index.search(qv, n, pass, o.Exact)
	} else {
		// The two rankings run in parallel: at 100k chunks each takes
		// hundreds of microseconds (BenchmarkHybrid100k; sequential in
		// BenchmarkHybridSequential100k).
		if hybridSequential {
			ranked = fuseRRF(bm25Rows(ix, vec, query, depth, f), vec.index.search(qv, depth, pass, o.Exact))
		} else {
			bm := make(chan []scored, 1)
			go func() { bm <- bm25Rows(ix, vec, query, depth, f) }()
			vr := vec.index.search(qv, depth, pass, o.Exact)
			ranked = fuseRRF(<-bm, vr)
		}
	}
	if o.MMRLambda > 0 && o.MMRLambda < 1 {
		ranked = mmr(vec.index, ranked, k, o.MMRLambda)
	}
	if len(ranked) > k {
		ranked = ranked[:k]
	}
	if len(ranked) == 0 {
		return nil
	}
	hits := make([]Hit, len(ranked))
	for i, s := range ranked {
		hits[i] = Hit{Chunk: cloneChunk(ix.chunks[s.chunk].chunk), Score: s.score}
	}
	return hits
}

// embedQuery returns the unit embedding of query, or nil.
func (l *Library) embedQuery(e Embedder, query string) []float32 {
	if m, ok := e.(*LSA); ok { // no I/O, no allocation beyond the vector
		v := m.embed(query, nil)
		if !normalize(v) {
			return nil
		}
		return v
	}
	timeout := l.opts.EmbedTimeout
	if timeout <= 0 {
		timeout = queryEmbedTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := e.Embed(ctx, []string{query})
	if err == nil {
		err = checkEmbeddings(e, 1, out)
	}
	if err != nil {
		l.log.Warn("lore: query not embedded; BM25 only", "model", e.Model(), "err", err)
		return nil
	}
	if !normalize(out[0]) {
		return nil
	}
	return out[0]
}

// bm25Rows runs the BM25 search and returns its hits as rows of vec (the
// chunks that have a vector), without copying any chunk.
func bm25Rows(ix *index, vec *vectors, query string, depth int, f Filter) []scored {
	top := ix.top(query, depth, f)
	out := top[:0]
	for _, s := range top {
		if r, ok := vec.rows[ix.chunks[s.chunk].chunk.ID]; ok {
			out = append(out, scored{r, s.score})
		}
	}
	return out
}

// fuseRRF fuses rankings (each best first) by reciprocal rank fusion with
// k = RRFK; ties keep index order.
func fuseRRF(rankings ...[]scored) []scored {
	score := map[uint32]float64{}
	for _, r := range rankings {
		for rank, s := range r {
			score[s.chunk] += 1 / float64(RRFK+rank+1)
		}
	}
	out := make([]scored, 0, len(score))
	for c, s := range score {
		out = append(out, scored{c, s})
	}
	sortScored(out)
	return out
}

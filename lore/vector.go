package lore

import (
	"math"
	"slices"
	"sync"
	"sync/atomic"
)

// Vector index parameters, measured with BenchmarkVector100k (100,000
// SRD-like chunks, 241,527 rows of 384 float32s, on this 2-core machine
// shared with other work):
//
//	efConstruction  efSearch  recall@10 vs exact  p50     p99
//	100             64        0.883               0.79 ms 1.3 ms
//	100             128       0.915               0.86 ms 1.4 ms
//	100             256       0.937               2.6 ms  13 ms
//	200             128       0.943               1.1 ms  2.2 ms
//	200             160       0.949               1.5 ms  2.4 ms
//	200             192       0.962               1.5 ms  2.7 ms
//
// A search is memory-bound: each visited row is 1.5 KB from DRAM (about
// 200 ns), so the exact scan of all rows takes 53 ms. With the AVX2 kernel
// and rows prefetched ahead (dotRows), efConstruction 200, measured again
// in one run (HEARTH_BENCH_EFS=128,160,192,256 HEARTH_BENCH_AHEAD=0,1,2,4,
// load average 10–14 from other builds; quiet p99 is each query's fastest
// run, see reportLatencies):
//
//	efSearch  recall@10  p50 (no prefetch → ahead 1–4)  quiet p99
//	128       0.943      1.04 → 0.73–0.82 ms            0.93–1.2 ms
//	160       0.949      1.33 → 0.92–1.3 ms             1.0–1.7 ms
//	192       0.962      1.72 → 0.93–1.1 ms             1.2–1.5 ms
//	256       0.971      1.97 → 1.2–1.4 ms              1.6–1.8 ms
//
// Since then the walk scores int8 copies of the rows (vector_int8.go) and
// rescores its best 3k rows exactly; side by side in one run
// (HEARTH_BENCH_EFS=160,176,192 HEARTH_BENCH_INT8S=0,1, load average
// 1.3–1.8, 07:25–07:30; ranges over 2–3 runs):
//
//	efSearch  walk     recall@10  p50           p99
//	160       float32  0.949      0.78 ms       1.4–1.5 ms
//	160       int8     0.948      0.38–0.44 ms  0.62–0.68 ms
//	176       float32  0.951      0.72–0.75 ms  1.3 ms
//	176       int8     0.951      0.44–0.53 ms  0.71–0.80 ms
//	192       float32  0.962      0.75–0.83 ms  1.3–1.7 ms
//	192       int8     0.959      0.44–0.46 ms  0.72–0.77 ms

// exactThreshold is the number of rows below which the index does not
// build an HNSW graph and every search is exact (brute force). The SRD's
// 5,870 rows are searched exactly in about 0.6 ms, where building a graph
// would add seconds to its ingest. A variable for tests.
var exactThreshold = 20000

// hnswEfSearch is the minimum beam width of a query; a query for k chunks
// fetches 2k rows with a beam of max(hnswEfSearch, 2k): 192 keeps
// recall@10 ≥ 0.95 at 100k chunks with a margin (0.962 on float32 rows,
// 0.959 on int8 rows; 176 gives 0.951, 160 0.949). A variable for
// benchmarks (HEARTH_BENCH_EF).
var hnswEfSearch = 192

const (
	// hnswM is the number of links per node on the upper layers (2·hnswM on
	// layer 0), as in Malkov and Yashunin (2018); hnswEfConstruction is the
	// beam width when inserting: 200 rather than 100 raises recall@10 at a
	// given efSearch by about 0.03 and doubles the build (6.6 min for the
	// 241,527 rows above; the graph is then persisted).
	hnswM              = 16
	hnswEfConstruction = 200
	// filteredVisitBudget bounds the nodes a filtered graph walk may score,
	// as a multiple of its beam width; a walk that would exceed it (a
	// selective filter) is replaced by an exact search of the rows that pass.
	filteredVisitBudget = 40
)

// vectorIndex is an immutable index of unit vectors: one or more rows
// (passages) per chunk of the BM25 index, in chunk order, so that the rows
// of chunk c are first[c] ≤ row < first[c+1] and the first of them embeds
// the whole chunk. A chunk's similarity to a query is the best of its rows'
// (a multi-vector, max-sim representation). Rows without an embedding are
// zero and never match. Similarity is the inner product (cosine of unit
// vectors).
type vectorIndex struct {
	dim   int
	vecs  []float32 // rows×dim
	has   []bool    // per row
	owner []uint32  // row → chunk
	first []uint32  // chunk → its first row; len(chunks)+1 entries
	g     *hnsw     // nil below exactThreshold rows
}

// newVectorIndex indexes vecs (rows of dim float32s, unit length or zero)
// owned by chunks as first says. seed seeds the HNSW level draws, so that a
// build is reproducible.
func newVectorIndex(dim int, vecs []float32, has []bool, first []uint32, seed uint64) *vectorIndex {
	vi := indexRows(dim, vecs, has, first)
	if vi.needsGraph() {
		vi.g = buildHNSW(vi, seed)
	}
	return vi
}

// indexRows is newVectorIndex without the graph.
func indexRows(dim int, vecs []float32, has []bool, first []uint32) *vectorIndex {
	vi := &vectorIndex{dim: dim, vecs: vecs, has: has, first: first, owner: make([]uint32, len(has))}
	for c := range len(first) - 1 {
		for r := first[c]; r < first[c+1]; r++ {
			vi.owner[r] = uint32(c)
		}
	}
	return vi
}

// needsGraph reports whether the index has enough rows for an HNSW graph.
func (vi *vectorIndex) needsGraph() bool {
	count := 0
	for _, h := range vi.has {
		if h {
			count++
		}
	}
	return count >= exactThreshold
}

func (vi *vectorIndex) row(i uint32) []float32 {
	return vi.vecs[int(i)*vi.dim : int(i+1)*vi.dim]
}

// len is the number of rows.
func (vi *vectorIndex) len() int { return len(vi.has) }

// chunkVec is the whole-chunk vector of chunk c, or nil.
func (vi *vectorIndex) chunkVec(c uint32) []float32 {
	r := vi.first[c]
	if r >= vi.first[c+1] || !vi.has[r] {
		return nil
	}
	return vi.row(r)
}

// search returns up to k chunks most similar to q (unit length) among
// those that pass (nil passes all), best first, as scored (score = the best
// cosine similarity of the chunk's rows). exact forces a brute-force search.
func (vi *vectorIndex) search(q []float32, k int, pass func(uint32) bool, exact bool) []scored {
	if k <= 0 || len(q) != vi.dim {
		return nil
	}
	if vi.g != nil && !exact {
		rowPass := pass
		if pass != nil {
			rowPass = func(r uint32) bool { return pass(vi.owner[r]) }
		}
		// Ask for more rows than chunks, since a chunk may hold several of
		// the best rows; ask again for more when they were too few chunks.
		for kr := k * rowsPerChunkFetch; kr <= k*rowsPerChunkFetch*4; kr *= 2 {
			rows, ok := vi.g.search(q, kr, max(hnswEfSearch, kr), rowPass)
			if !ok {
				break // a selective filter: exact search
			}
			if res := vi.byChunk(rows, k); len(res) == k || len(rows) < kr {
				return res
			}
		}
		exactFallbacks.Add(1)
	}
	return vi.exact(q, k, pass)
}

// exactFallbacks counts the graph searches that ended in an exact search
// (a selective filter, or too few distinct chunks); for benchmarks.
var exactFallbacks atomic.Int64

// rowsPerChunkFetch is how many rows an HNSW search first fetches per
// chunk wanted.
const rowsPerChunkFetch = 2

// byChunk keeps the best row of each chunk, up to k chunks, best first.
func (vi *vectorIndex) byChunk(rows []scored, k int) []scored {
	out := make([]scored, 0, k)
	for _, r := range rows {
		c := vi.owner[r.chunk]
		if slices.ContainsFunc(out, func(s scored) bool { return s.chunk == c }) {
			continue
		}
		out = append(out, scored{c, r.score})
		if len(out) == k {
			break
		}
	}
	return out
}

// exact is the brute-force search.
func (vi *vectorIndex) exact(q []float32, k int, pass func(uint32) bool) []scored {
	h := make([]scored, 0, k+1)
	d := vi.dim
	for c := range len(vi.first) - 1 {
		lo, hi := int(vi.first[c]), int(vi.first[c+1])
		if lo == hi || (pass != nil && !pass(uint32(c))) {
			continue
		}
		best, ok := float32(-2), false
		for r := lo; r < hi; r++ {
			if vi.has[r] {
				best, ok = max(best, dot(q, vi.vecs[r*d:(r+1)*d])), true
			}
		}
		if !ok {
			continue
		}
		s := scored{uint32(c), float64(best)}
		if len(h) < k {
			h = append(h, s)
			siftUp(h, len(h)-1)
		} else if s.better(h[0]) {
			h[0] = s
			siftDown(h, 0)
		}
	}
	sortScored(h)
	return h
}

func sortScored(h []scored) {
	slices.SortFunc(h, func(a, b scored) int {
		if a.better(b) {
			return -1
		}
		if b.better(a) {
			return 1
		}
		return 0
	})
}

// hnsw is a hierarchical navigable small world graph (Malkov and Yashunin,
// "Efficient and robust approximate nearest neighbor search using
// Hierarchical Navigable Small World graphs", IEEE TPAMI 42(4), 2020) over
// the rows of a vectorIndex, built once and then read-only. Neighbours are
// chosen with the paper's heuristic (algorithm 4), also when a full
// neighbour list takes a newcomer. Searches take a filter
// predicate: rows that fail it are walked through but never returned.
type hnsw struct {
	vi       *vectorIndex
	entry    uint32
	maxLevel int
	links0   []uint32     // layer 0: node i's links are links0[i*2M : i*2M+n0[i]]
	n0       []uint8      // number of layer-0 links per node
	upper    [][][]uint32 // upper[i][l-1]: node i's links on layer l ≥ 1
	built    bool         // built here rather than loaded from the store
	updated  bool         // made from the previous index's graph (updateHNSW)
	q8       *quantRows   // int8 copies of the rows, walked by searches (vector_int8.go)
	visited  sync.Pool    // *visitSet
}

// visitSet is one graph search's working memory, pooled per graph so that
// a search allocates nothing for it: the visited marks (a one-byte
// generation counter per node, so that only one search in 255 clears the
// array; 241 KB at 241,527 rows, where uint32 marks took 1 MB and missed
// the 2 MB L2 cache more often), the
// two heaps of the beam search, and the batch of neighbours to score.
type visitSet struct {
	mark []uint8 // one byte a node, so that the marks stay in cache
	gen  uint8
	cand maxHeap
	res  []scored
	ids  [2 * hnswM]uint32
	sims [2 * hnswM]float32
	sums [2 * hnswM]int32
	// The quantized query and the rescoring buffers (vector_int8.go).
	q16   []int16
	rids  []uint32
	rsims []float32
}

func (v *visitSet) reset() {
	v.gen++
	if v.gen == 0 {
		clear(v.mark)
		v.gen = 1
	}
}

// visit marks i and reports whether it was unmarked.
func (v *visitSet) visit(i uint32) bool {
	if v.mark[i] == v.gen {
		return false
	}
	v.mark[i] = v.gen
	return true
}

func buildHNSW(vi *vectorIndex, seed uint64) *hnsw {
	n := vi.len()
	m0 := 2 * hnswM
	g := &hnsw{vi: vi, links0: make([]uint32, n*m0), n0: make([]uint8, n), upper: make([][][]uint32, n), maxLevel: -1, built: true}
	g.visited.New = func() any { return &visitSet{mark: make([]uint8, n)} }
	levels := levelDraws(seed)
	vs := g.visited.Get().(*visitSet)
	defer g.visited.Put(vs)
	for i := range n {
		if !vi.has[i] {
			continue
		}
		g.insert(uint32(i), levels(), vs)
	}
	g.q8 = graphRows8(vi)
	return g
}

// levelDraws returns the HNSW level draws floor(-ln(U)·mL), mL = 1/ln(M),
// from a splitmix64 stream seeded by seed.
func levelDraws(seed uint64) func() int {
	ml := 1 / math.Log(hnswM)
	state := seed
	return func() int {
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		u := (float64(z>>11) + 0.5) / (1 << 53)
		return int(-math.Log(u) * ml)
	}
}

func (g *hnsw) links(i uint32, level int) []uint32 {
	if level == 0 {
		m0 := 2 * hnswM
		return g.links0[int(i)*m0 : int(i)*m0+int(g.n0[i])]
	}
	return g.upper[i][level-1]
}

func (g *hnsw) setLinks(i uint32, level int, ls []uint32) {
	if level == 0 {
		m0 := 2 * hnswM
		copy(g.links0[int(i)*m0:], ls)
		g.n0[i] = uint8(len(ls))
		return
	}
	g.upper[i][level-1] = append(g.upper[i][level-1][:0], ls...)
}

func (g *hnsw) insert(i uint32, level int, vs *visitSet) {
	if level > 0 {
		g.upper[i] = make([][]uint32, level)
		for l := range g.upper[i] {
			g.upper[i][l] = make([]uint32, 0, hnswM)
		}
	}
	if g.maxLevel < 0 {
		g.entry, g.maxLevel = i, level
		return
	}
	q := g.vi.row(i)
	ep := scored{g.entry, float64(dot(q, g.vi.row(g.entry)))}
	for l := g.maxLevel; l > level; l-- {
		ep = g.greedy(q, ep, l)
	}
	eps := []scored{ep}
	for l := min(level, g.maxLevel); l >= 0; l-- {
		cands := g.searchLayer(q, eps, hnswEfConstruction, l, nil, vs, 0)
		maxLinks := hnswM
		if l == 0 {
			maxLinks = 2 * hnswM
		}
		nbs := g.selectNeighbors(cands, hnswM)
		ids := make([]uint32, len(nbs))
		for j, nb := range nbs {
			ids[j] = nb.chunk
		}
		g.setLinks(i, l, ids)
		for _, nb := range nbs {
			ls := g.links(nb.chunk, l)
			if len(ls) < maxLinks {
				if l == 0 {
					m0 := 2 * hnswM
					g.links0[int(nb.chunk)*m0+len(ls)] = i
					g.n0[nb.chunk]++
				} else {
					g.upper[nb.chunk][l-1] = append(g.upper[nb.chunk][l-1], i)
				}
				continue
			}
			// Full: re-select nb's links among the old ones and i with the
			// same heuristic (O(M²) inner products, but it keeps the graph
			// navigable: dropping the farthest link instead cost 2 points
			// of recall@10 at 48k rows).
			nv := g.vi.row(nb.chunk)
			{
				pool := make([]scored, 0, len(ls)+1)
				for _, o := range ls {
					pool = append(pool, scored{o, float64(dot(nv, g.vi.row(o)))})
				}
				pool = append(pool, scored{i, nb.score})
				sortScored(pool)
				sel := g.selectNeighbors(pool, maxLinks)
				ids := make([]uint32, len(sel))
				for j, s := range sel {
					ids[j] = s.chunk
				}
				g.setLinks(nb.chunk, l, ids)
				continue
			}
		}
		eps = cands
	}
	if level > g.maxLevel {
		g.entry, g.maxLevel = i, level
	}
}

// selectNeighbors is the heuristic of Malkov and Yashunin (algorithm 4,
// without extension, keeping pruned connections to fill up to m): a
// candidate is kept when it is closer to the base than to every neighbour
// kept so far. cands is sorted best first.
func (g *hnsw) selectNeighbors(cands []scored, m int) []scored {
	out := make([]scored, 0, m)
	var pruned []scored
	for _, c := range cands {
		if len(out) >= m {
			break
		}
		cv := g.vi.row(c.chunk)
		good := true
		for _, o := range out {
			if float64(dot(cv, g.vi.row(o.chunk))) > c.score {
				good = false
				break
			}
		}
		if good {
			out = append(out, c)
		} else {
			pruned = append(pruned, c)
		}
	}
	for _, p := range pruned {
		if len(out) >= m {
			break
		}
		out = append(out, p)
	}
	return out
}

// greedy walks layer l from ep to a local best match of q.
func (g *hnsw) greedy(q []float32, ep scored, l int) scored {
	for changed := true; changed; {
		changed = false
		for _, nb := range g.links(ep.chunk, l) {
			if s := float64(dot(q, g.vi.row(nb))); s > ep.score {
				ep, changed = scored{nb, s}, true
			}
		}
	}
	return ep
}

// searchLayer is the beam search of layer l (algorithm 2) from eps with
// width ef; it returns up to ef best nodes that pass (all when pass is
// nil), best first, in a new slice.
func (g *hnsw) searchLayer(q []float32, eps []scored, ef, l int, pass func(uint32) bool, vs *visitSet, budget int) []scored {
	res, _ := g.searchLayerBudget(q, nil, eps, ef, l, pass, vs, budget)
	return slices.Clone(res)
}

// searchLayerBudget is searchLayer returning vs.res (valid until vs is
// used again). With budget > 0 it gives up (returning nil, false) after
// scoring budget nodes. The neighbours of a node are scored in one batch
// (dotRows), their rows prefetched ahead of the kernel; with q8 non-nil,
// on the int8 rows (score8), approximately.
func (g *hnsw) searchLayerBudget(q []float32, q8 *query8, eps []scored, ef, l int, pass func(uint32) bool, vs *visitSet, budget int) ([]scored, bool) {
	vs.reset()
	cand := vs.cand[:0]
	res := vs.res[:0] // min-heap, worst on top
	defer func() { vs.cand, vs.res = cand[:0], res[:0] }()
	for _, ep := range eps {
		vs.visit(ep.chunk)
		cand.push(ep)
		if pass == nil || pass(ep.chunk) {
			if len(res) < ef {
				res = append(res, ep)
				siftUp(res, len(res)-1)
			}
		}
	}
	scoredN := 0
	for len(cand) > 0 {
		c := cand.pop()
		if len(res) >= ef && c.score < res[0].score {
			break
		}
		n := 0
		for _, nb := range g.links(c.chunk, l) {
			if vs.visit(nb) {
				vs.ids[n] = nb
				n++
			}
		}
		if q8 != nil {
			g.score8(q8, vs.ids[:n], vs.sums[:n], vs.sims[:n])
		} else {
			dotRows(q, g.vi.vecs, vs.ids[:n], vs.sims[:n])
		}
		scoredN += n
		for j, nb := range vs.ids[:n] {
			s := scored{nb, float64(vs.sims[j])}
			if len(res) < ef || s.score > res[0].score {
				cand.push(s)
				if pass == nil || pass(nb) {
					if len(res) < ef {
						res = append(res, s)
						siftUp(res, len(res)-1)
					} else {
						res[0] = s
						siftDown(res, 0)
					}
				}
			}
		}
		if budget > 0 && scoredN > budget {
			return nil, false
		}
	}
	sortScored(res)
	return res, true
}

// search returns the k best rows passing pass, or false when a filtered
// walk ran out of budget or found fewer than k rows (the caller then
// searches exactly). With int8 rows (hnswInt8), the walk scores them and
// the ef rows it keeps are rescored exactly (float32) to pick the k.
func (g *hnsw) search(q []float32, k, ef int, pass func(uint32) bool) ([]scored, bool) {
	vs := g.visited.Get().(*visitSet)
	defer g.visited.Put(vs)
	var q8 *query8
	if hnswInt8 && g.q8 != nil && g.q8.dim == len(q) {
		qq := newQuery8(q, vs.q16)
		vs.q16 = qq.v
		q8 = &qq
	}
	var ep scored
	if q8 != nil {
		vs.ids[0] = g.entry
		g.score8(q8, vs.ids[:1], vs.sums[:1], vs.sims[:1])
		ep = scored{g.entry, float64(vs.sims[0])}
		for l := g.maxLevel; l > 0; l-- {
			ep = g.greedy8(q8, ep, l, vs)
		}
	} else {
		ep = scored{g.entry, float64(dot(q, g.vi.row(g.entry)))}
		for l := g.maxLevel; l > 0; l-- {
			ep = g.greedy(q, ep, l)
		}
	}
	budget := 0
	if pass != nil {
		budget = filteredVisitBudget * ef
	}
	eps := [1]scored{ep}
	res, ok := g.searchLayerBudget(q, q8, eps[:], ef, 0, pass, vs, budget)
	if !ok || (pass != nil && len(res) < k) {
		return nil, false
	}
	if q8 != nil {
		return g.rescore(q, res, k, vs), true
	}
	return slices.Clone(res[:min(k, len(res))]), true
}

// maxHeap is a binary heap of scored with the best on top.
type maxHeap []scored

func (h *maxHeap) push(s scored) {
	*h = append(*h, s)
	a := *h
	for i := len(a) - 1; i > 0; {
		p := (i - 1) / 2
		if !a[i].better(a[p]) {
			break
		}
		a[i], a[p] = a[p], a[i]
		i = p
	}
}

func (h *maxHeap) pop() scored {
	a := *h
	top := a[0]
	last := len(a) - 1
	a[0] = a[last]
	a = a[:last]
	for i := 0; ; {
		l, best := 2*i+1, i
		if l < len(a) && a[l].better(a[best]) {
			best = l
		}
		if r := l + 1; r < len(a) && a[r].better(a[best]) {
			best = r
		}
		if best == i {
			break
		}
		a[i], a[best] = a[best], a[i]
		i = best
	}
	*h = a
	return top
}

package lore

import (
	"math"
	"slices"
)

// Scalar-quantized graph walk. A graph search is memory-bound: every row it
// scores is read from DRAM, 1.5 KB for 384 float32s. The walk therefore
// scores int8 copies of the rows (384 bytes each, a quarter of the memory
// traffic) and the ef best rows it finds are then rescored exactly in
// float32, which orders the k returned (the rerank step of quantized
// indexes such as FAISS's IVFSQ8 with refinement, or Qdrant's scalar
// quantization with rescoring).
//
// Quantization is symmetric per row: scale = max|x| / 127 and
// x8 = round(x / scale), in [-127, 127]; the query is quantized the same
// way, and the approximate inner product of query q and row r is
// scale_q · scale_r · Σ q8·r8, the sum exact in int32 (|Σ| ≤ dim · 127²).

// hnswInt8 turns the int8 graph walk on; a variable for benchmarks
// (HEARTH_BENCH_INT8=0 walks the float32 rows, as before).
var hnswInt8 = true

// hnswRescore is how many of the walk's best rows, as a multiple of the k
// asked for, are rescored exactly; 0 rescores all ef of them. A variable
// for benchmarks (HEARTH_BENCH_RESCORE).
var hnswRescore = 3

// quantRows holds the int8 copies of an index's rows.
type quantRows struct {
	dim   int
	v     []int8    // rows×dim, contiguous
	scale []float32 // per row; 0 for a zero row
}

// graphRows8 returns the int8 copies of vi's rows for its graph walk, or
// nil where the AVX2 kernel cannot run (off amd64, the purego tag, or a
// dimension that is not a multiple of 32, which dotRows8 leaves to Go): in
// plain Go the int8 inner product is slower than gonum's float32 kernel
// (BenchmarkDotRows8: 11.9 µs against 0.73 µs with AVX2 for 32 rows), so
// the walk stays on the float32 rows there.
func graphRows8(vi *vectorIndex) *quantRows {
	if !hasAVX2FMA || vi.dim%32 != 0 {
		return nil
	}
	return quantizeRows(vi.dim, vi.vecs)
}

// quantizeRows returns the int8 copies of vecs (rows of dim float32s):
// 0.25 s for 241,527 rows of 384 dims (BenchmarkQuantizeRows).
func quantizeRows(dim int, vecs []float32) *quantRows {
	n := 0
	if dim > 0 {
		n = len(vecs) / dim
	}
	qr := &quantRows{dim: dim, v: make([]int8, n*dim), scale: make([]float32, n)}
	for r := range n {
		qr.scale[r] = quantize(vecs[r*dim:(r+1)*dim], qr.v[r*dim:(r+1)*dim])
	}
	return qr
}

// quantize writes x's int8 quantization to out (len(x) values) and returns
// its scale (max|x|/127, 0 when x is zero or not finite).
func quantize(x []float32, out []int8) float32 {
	var m float32
	finite := true
	for _, v := range x {
		a := math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) // |v|
		if a > m {
			m = a
		}
		if !(a <= math.MaxFloat32) { // NaN or ±Inf
			finite = false
		}
	}
	if m == 0 || !finite {
		clear(out[:len(x)])
		return 0
	}
	// v·inv is within ±127 (its rounding error far below 0.5), so
	// v·inv + 128.5 is positive and truncating it rounds to nearest without
	// a branch (a sign test mispredicts on half the values).
	inv := 127 / m
	out = out[:len(x)]
	for i, v := range x {
		out[i] = int8(int32(v*inv+128.5) - 128)
	}
	return m / 127
}

// query8 is a query quantized for the walk: its int8 values widened to
// int16 (the kernel's operand) and its scale.
type query8 struct {
	v     []int16
	scale float32
}

// newQuery8 quantizes q into buf's storage.
func newQuery8(q []float32, buf []int16) query8 {
	var tmp [512]int8
	var x8 []int8
	if len(q) <= len(tmp) {
		x8 = tmp[:len(q)]
	} else {
		x8 = make([]int8, len(q))
	}
	s := quantize(q, x8)
	buf = slices.Grow(buf[:0], len(q))[:len(q)]
	for i, x := range x8 {
		buf[i] = int16(x)
	}
	return query8{v: buf, scale: s}
}

// dotRows8 sets out[j] to Σ q[i]·rows[ids[j]·len(q)+i] (exact, int32) for
// every j: the AVX2 kernel (dot8_amd64.s) when the CPU has it and len(q)
// is a multiple of 32, else plain Go; both give the same sums. out has at
// least len(ids) entries; every id is a valid row.
func dotRows8(q []int16, rows []int8, ids []uint32, out []int32) {
	d := len(q)
	if len(ids) == 0 {
		return
	}
	_ = out[len(ids)-1]
	if rowKernel(d, len(rows), ids) {
		dotRows8AVX2(&q[0], &rows[0], d, &ids[0], len(ids), dotRowsAhead, &out[0])
		return
	}
	dotRows8Go(q, rows, ids, out)
}

// dotRows8Go is dotRows8 in plain Go.
func dotRows8Go(q []int16, rows []int8, ids []uint32, out []int32) {
	d := len(q)
	for j, id := range ids {
		r := rows[int(id)*d : (int(id)+1)*d]
		var s int32
		for i, x := range q {
			s += int32(x) * int32(r[i])
		}
		out[j] = s
	}
}

// score8 scores the rows ids against q8 into sims (approximate inner
// products), using sums as scratch.
func (g *hnsw) score8(q8 *query8, ids []uint32, sums []int32, sims []float32) {
	dotRows8(q8.v, g.q8.v, ids, sums)
	sc := g.q8.scale
	for j, id := range ids {
		sims[j] = float32(sums[j]) * q8.scale * sc[id]
	}
}

// greedy8 is greedy on the int8 rows: from ep, move to the best-scoring
// neighbour on layer l while it improves.
func (g *hnsw) greedy8(q8 *query8, ep scored, l int, vs *visitSet) scored {
	for changed := true; changed; {
		changed = false
		ls := g.links(ep.chunk, l)
		for start := 0; start < len(ls); start += len(vs.ids) {
			ids := ls[start:min(len(ls), start+len(vs.ids))]
			n := copy(vs.ids[:], ids)
			g.score8(q8, vs.ids[:n], vs.sums[:n], vs.sims[:n])
			for j := range n {
				if s := float64(vs.sims[j]); s > ep.score {
					ep, changed = scored{vs.ids[j], s}, true
				}
			}
		}
	}
	return ep
}

// rescore replaces the scores of rows (the walk's approximate ones) by
// exact float32 inner products with q, sorts them best first and returns
// the first k, in a new slice.
func (g *hnsw) rescore(q []float32, rows []scored, k int, vs *visitSet) []scored {
	n := len(rows)
	if hnswRescore > 0 {
		n = min(n, hnswRescore*k)
	}
	rows = rows[:n]
	vs.rids = slices.Grow(vs.rids[:0], n)[:n]
	vs.rsims = slices.Grow(vs.rsims[:0], n)[:n]
	for j, r := range rows {
		vs.rids[j] = r.chunk
	}
	dotRows(q, g.vi.vecs, vs.rids, vs.rsims)
	out := make([]scored, n)
	for j, id := range vs.rids {
		out[j] = scored{id, float64(vs.rsims[j])}
	}
	sortScored(out)
	return out[:min(k, n)]
}

package llama

import (
	"github.com/hearth-ai/hearth/inference/embedded/gguf"
)

// Q8_0 is ggml's 8-bit block quantisation (ggml-quants.c,
// quantize_row_q8_0_ref; gguf-py's gguf/quants.py Q8_0): a row is cut into
// blocks of q8Block values; each block stores one scale d = max|x|/127 as an
// IEEE float16 and q8Block int8 values q = round(x/d) (round half away from
// zero), so x ≈ d·q. Rows whose length is not a multiple of q8Block are
// zero-padded here (a GGUF Q8_0 tensor requires a multiple).
const q8Block = 32

// q8Matrix is a [out][in] matrix in Q8_0 blocks: row o's block b holds
// qs[(o·nb+b)·32 : +32] with scale d[o·nb+b] (the float16 scale widened
// back to float32, so products equal those of a GGUF Q8_0 file).
type q8Matrix struct {
	out, in, nb int
	qs          []int8
	d           []float32
}

// newQ8Matrix quantises w ([out][in], row-major) to Q8_0.
func newQ8Matrix(w []float64, out, in int) *q8Matrix {
	nb := (in + q8Block - 1) / q8Block
	m := &q8Matrix{out: out, in: in, nb: nb, qs: make([]int8, out*nb*q8Block), d: make([]float32, out*nb)}
	for o := 0; o < out; o++ {
		quantizeRowQ8(w[o*in:(o+1)*in], m.qs[o*nb*q8Block:(o+1)*nb*q8Block], m.d[o*nb:(o+1)*nb])
	}
	return m
}

// quantizeRowQ8 quantises x into len(d) blocks: qs gets len(d)·32 values
// (zero past len(x)), d the float16-rounded scales, by
// gguf.QuantizeBlockQ8_0 (ggml's quantize_row_q8_0_ref), the one rule for
// weights written to files and activations quantised at run time.
func quantizeRowQ8(x []float64, qs []int8, d []float32) {
	for b := range d {
		lo := b * q8Block
		d[b], _ = gguf.QuantizeBlockQ8_0(x[lo:min(lo+q8Block, len(x))], qs[lo:lo+q8Block])
	}
}

// mul computes y[r][o] = Σ_i x[r][i]·W[o][i] (plus y's old value when
// accumulate) for rows r of x ([rows][in]) and y ([rows][out]), as ggml's
// q8_0×q8_0 dot does: each activation row is itself quantised to Q8_0
// blocks, block products are exact int32 sums, scaled by both blocks'
// scales. qx/dx are scratch of at least rows·nb·32 and rows·nb. Output rows
// of W (and rows of x, for quantising) are split across team t.
func (m *q8Matrix) mul(y, x []float64, rows int, accumulate bool, qx []int8, dx []float32, t *team) {
	nb := m.nb
	qx, dx = qx[:rows*nb*q8Block], dx[:rows*nb]
	if t.size() > 1 && rows*m.in >= 1<<13 {
		t.parallelFor(rows, 1, func(lo, hi int) { m.quantizeRows(x, qx, dx, lo, hi) })
	} else {
		m.quantizeRows(x, qx, dx, 0, rows)
	}
	if rows*m.out*m.in < parMinFlops || t.size() <= 1 {
		m.mulRows(y, qx, dx, rows, 0, m.out, accumulate)
		return
	}
	t.parallelFor(m.out, 8, func(lo, hi int) { m.mulRows(y, qx, dx, rows, lo, hi, accumulate) })
}

// quantizeRows quantises activation rows [lo, hi) of x into qx/dx.
func (m *q8Matrix) quantizeRows(x []float64, qx []int8, dx []float32, lo, hi int) {
	nb := m.nb
	for r := lo; r < hi; r++ {
		quantizeRowQ8(x[r*m.in:(r+1)*m.in], qx[r*nb*q8Block:(r+1)*nb*q8Block], dx[r*nb:(r+1)*nb])
	}
}

// mulRows computes outputs [lo, hi) of mul from the quantised activations:
// with AVX2 through q8DotRowsAVX (float32 block accumulation, as ggml),
// else in Go (float64 accumulation of the exact int32 block sums).
func (m *q8Matrix) mulRows(y []float64, qx []int8, dx []float32, rows, lo, hi int, accumulate bool) {
	nb := m.nb
	if hasAVX2FMA {
		if lo >= hi {
			return
		}
		acc := 0
		if accumulate {
			acc = 1
		}
		_ = m.qs[hi*nb*q8Block-1]
		_ = m.d[hi*nb-1]
		_ = qx[rows*nb*q8Block-1]
		_ = dx[rows*nb-1]
		_ = y[(rows-1)*m.out+hi-1]
		// Output blocks of ~16 KiB of weights stay in L1 across row pairs.
		ob := max(1, (16<<10)/(nb*q8Block))
		for o0 := lo; o0 < hi; o0 += ob {
			o1 := min(o0+ob, hi)
			r := 0
			for ; r+2 <= rows; r += 2 {
				q8Dot2RowsAVX(nb, o1-o0, &m.qs[o0*nb*q8Block], &m.d[o0*nb], &qx[r*nb*q8Block], &dx[r*nb], &y[r*m.out+o0], m.out, acc)
			}
			if r < rows {
				q8DotRowsAVX(nb, o1-o0, &m.qs[o0*nb*q8Block], &m.d[o0*nb], &qx[r*nb*q8Block], &dx[r*nb], &y[r*m.out+o0], acc)
			}
		}
		return
	}
	for o := lo; o < hi; o++ {
		wq := m.qs[o*nb*q8Block : (o+1)*nb*q8Block]
		wd := m.d[o*nb : (o+1)*nb]
		for r := 0; r < rows; r++ {
			aq := qx[r*nb*q8Block : (r+1)*nb*q8Block]
			ad := dx[r*nb : (r+1)*nb]
			var acc float64
			for b := range wd {
				s := dotQ8(wq[b*q8Block:(b+1)*q8Block], aq[b*q8Block:(b+1)*q8Block])
				acc += float64(wd[b]*ad[b]) * float64(s)
			}
			if accumulate {
				y[r*m.out+o] += acc
			} else {
				y[r*m.out+o] = acc
			}
		}
	}
}

// dotQ8 is the exact int32 dot product of two 32-value int8 blocks.
func dotQ8(a, b []int8) int32 {
	a, b = a[:q8Block], b[:q8Block]
	var s0, s1, s2, s3 int32
	for i := 0; i < q8Block; i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	return s0 + s1 + s2 + s3
}

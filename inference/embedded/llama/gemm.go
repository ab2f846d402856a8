package llama

import "math"

// gemmNT computes C = A·Bᵀ (or C += A·Bᵀ when accumulate) for A [m][k]
// (row stride lda), B [n][k] (row stride ldb) and C [m][n] (row stride
// ldc): the shape of every weight product x·Wᵀ with W row-major [out][in],
// and of attention's q·Kᵀ.
//
// On amd64 CPUs with AVX2 and FMA3 it runs the Go-assembly kernels of
// gemm_amd64.s (2×4 and 1×4 blocks of dot products, 4 float64 per
// instruction); elsewhere, or with the purego build tag, gemmNTGo. Both
// are serial; gemmNTPar splits the columns over goroutines. The slice
// lengths are checked up front (a violation is a bug in this package, and
// panics), since the assembly does not bounds-check.
func gemmNT(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, accumulate bool) {
	if m <= 0 || n <= 0 {
		return
	}
	if k < 0 || lda < k || ldb < k || ldc < n || len(a) < (m-1)*lda+k || len(b) < (n-1)*ldb+k || len(c) < (m-1)*ldc+n {
		panic("llama: gemmNT shapes out of range")
	}
	if hasAVX2FMA && k >= 4 && k%4 == 0 && benchKernel != kernelGo {
		gemmNTAVX(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
		return
	}
	gemmNTGo(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
}

// gemmNTAVX is gemmNT through dot2x4AVX/dot1x4AVX (which store into C
// themselves), finishing the n mod 4 columns in Go. k is a multiple of 4.
func gemmNTAVX(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, accumulate bool) {
	acc := 0
	if accumulate {
		acc = 1
	}
	n4 := n &^ 3
	// Columns in blocks whose B rows fit in ~16 KiB of L1, reused by every
	// row pair of A, rather than streaming all of B from L2 per pair.
	jb := max(4, (16<<10)/(8*k)&^3)
	for j0 := 0; j0 < n4; j0 += jb {
		j1 := min(j0+jb, n4)
		i := 0
		for ; i+2 <= m; i += 2 {
			for j := j0; j < j1; j += 4 {
				dot2x4AVX(k, &a[i*lda], lda, &b[j*ldb], ldb, &c[i*ldc+j], ldc, acc)
			}
		}
		for ; i < m; i++ {
			for j := j0; j < j1; j += 4 {
				dot1x4AVX(k, &a[i*lda], &b[j*ldb], ldb, &c[i*ldc+j], acc)
			}
		}
	}
	for i := 0; i < m; i++ {
		for j := n4; j < n; j++ {
			store1(c[i*ldc+j:], dot(a[i*lda:i*lda+k], b[j*ldb:j*ldb+k]), accumulate)
		}
	}
}

// gemmNTGo is the plain-Go register-blocked kernel: four rows of A against
// two rows of B per step (8 accumulators and 6 loads per k, fitting amd64's
// 15 usable float registers), then one row of A against four rows of B for
// the m mod 4 rest. It is the portable fallback: measured on the 2-core
// target it runs ~1.3× slower than gonum's Dgemm single-threaded and ~3.8×
// slower than the assembly (BenchmarkGemmKernels); unlike Dgemm it spawns
// no goroutine per 64×64 block, so Options.Threads alone sets the
// parallelism.
func gemmNTGo(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, accumulate bool) {
	i := 0
	for ; i+4 <= m; i += 4 {
		a0 := a[i*lda : i*lda+k]
		a1 := a[(i+1)*lda : (i+1)*lda+k]
		a2 := a[(i+2)*lda : (i+2)*lda+k]
		a3 := a[(i+3)*lda : (i+3)*lda+k]
		j := 0
		for ; j+2 <= n; j += 2 {
			b0 := b[j*ldb : j*ldb+k]
			b1 := b[(j+1)*ldb : (j+1)*ldb+k]
			b1 = b1[:len(b0)]
			a0, a1, a2, a3 := a0[:len(b0)], a1[:len(b0)], a2[:len(b0)], a3[:len(b0)]
			var c00, c01, c10, c11, c20, c21, c30, c31 float64
			for l, x0 := range b0 {
				x1 := b1[l]
				y0, y1, y2, y3 := a0[l], a1[l], a2[l], a3[l]
				c00 += y0 * x0
				c01 += y0 * x1
				c10 += y1 * x0
				c11 += y1 * x1
				c20 += y2 * x0
				c21 += y2 * x1
				c30 += y3 * x0
				c31 += y3 * x1
			}
			store2(c[i*ldc+j:], c00, c01, accumulate)
			store2(c[(i+1)*ldc+j:], c10, c11, accumulate)
			store2(c[(i+2)*ldc+j:], c20, c21, accumulate)
			store2(c[(i+3)*ldc+j:], c30, c31, accumulate)
		}
		for ; j < n; j++ {
			for r, ar := range [4][]float64{a0, a1, a2, a3} {
				store1(c[(i+r)*ldc+j:], dot(ar, b[j*ldb:j*ldb+k]), accumulate)
			}
		}
	}
	for ; i < m; i++ {
		ar := a[i*lda : i*lda+k]
		j := 0
		for ; j+4 <= n; j += 4 {
			b0 := b[j*ldb : j*ldb+k]
			b1 := b[(j+1)*ldb : (j+1)*ldb+k]
			b2 := b[(j+2)*ldb : (j+2)*ldb+k]
			b3 := b[(j+3)*ldb : (j+3)*ldb+k]
			b0, b1, b2, b3 = b0[:len(ar)], b1[:len(ar)], b2[:len(ar)], b3[:len(ar)]
			var s0, s1, s2, s3 float64
			for l, x := range ar {
				s0 += x * b0[l]
				s1 += x * b1[l]
				s2 += x * b2[l]
				s3 += x * b3[l]
			}
			cr := c[i*ldc+j : i*ldc+j+4]
			if accumulate {
				cr[0] += s0
				cr[1] += s1
				cr[2] += s2
				cr[3] += s3
			} else {
				cr[0], cr[1], cr[2], cr[3] = s0, s1, s2, s3
			}
		}
		for ; j < n; j++ {
			store1(c[i*ldc+j:], dot(ar, b[j*ldb:j*ldb+k]), accumulate)
		}
	}
}

func store1(c []float64, v float64, accumulate bool) {
	if accumulate {
		c[0] += v
	} else {
		c[0] = v
	}
}

func store2(c []float64, v0, v1 float64, accumulate bool) {
	c = c[:2]
	if accumulate {
		c[0] += v0
		c[1] += v1
	} else {
		c[0], c[1] = v0, v1
	}
}

func dot(x, y []float64) float64 {
	y = y[:len(x)]
	var s float64
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

// parMinFlops is the smallest weight product (m·n·k multiply-adds) worth
// splitting across a team. BenchmarkParMin on 2 dedicated cores (d128
// reply workload, p50 ms, f64/q8): 2^14 12.9/12.0, 2^16 13.9/13.9,
// Threads=1 26.2/18.0 (an earlier team without sched_yield: 2^18
// 20.0/12.8, 2^20 21.7/15.2, never 24.7/17.8). A variable only so that
// benchmark can sweep it.
var parMinFlops = 1 << 14

// gemmNTPar is gemmNT with C's columns (B's rows) split over team t in
// contiguous blocks (multiples of 4), when the product is large enough.
func gemmNTPar(t *team, m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, accumulate bool) {
	members := t.size()
	if members <= 1 || m*n*k < parMinFlops || n < 8 {
		gemmNT(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
		return
	}
	// About 4 chunks per member, each a multiple of 4 columns and at least 16.
	chunks := max(1, min(4*members, n/16))
	chunk := ((n+chunks-1)/chunks + 3) &^ 3
	chunks = (n + chunk - 1) / chunk
	t.run(chunks, func(_, ci int) {
		j0 := ci * chunk
		j1 := min(j0+chunk, n)
		gemmNT(m, j1-j0, k, a, lda, b[j0*ldb:], ldb, c[j0:], ldc, accumulate)
	})
}

// probsTimesV sets out[c] = Σ_{j<n} p[j]·v[j·ldv+c] for c < len(out):
// one attention row's probabilities times V (row stride ldv). It uses
// axpyRows16AVX for each 16-wide slice of out when available, keeping
// those 16 sums in registers over all n rows.
func probsTimesV(p []float64, v []float64, ldv int, out []float64) {
	n, w := len(p), len(out)
	if n == 0 {
		clear(out)
		return
	}
	if ldv < w || len(v) < (n-1)*ldv+w {
		panic("llama: probsTimesV shapes out of range")
	}
	c0 := 0
	if hasAVX2FMA {
		for ; c0+16 <= w; c0 += 16 {
			axpyRows16AVX(n, &p[0], &v[c0], ldv, (*[16]float64)(out[c0:c0+16]))
		}
	}
	if c0 == w {
		return
	}
	rest := out[c0:]
	clear(rest)
	for j, pj := range p {
		row := v[j*ldv+c0 : j*ldv+w]
		for c := range rest {
			rest[c] += pj * row[c]
		}
	}
}

// expSubSum sets x[i] = exp(x[i]-sub) and returns Σ x[i] (softmax's
// numerators and denominator). With AVX2 it runs expSubSumAVX on groups
// of four (within ~2 ulp of math.Exp for results above 3e-308; smaller
// ones read as exp(-708)), the rest with math.Exp.
func expSubSum(x []float64, sub float64) float64 {
	var sum float64
	n4 := 0
	if hasAVX2FMA {
		n4 = len(x) &^ 3
		if n4 > 0 {
			sum = expSubSumAVX(n4, &x[0], sub)
		}
	}
	for i := n4; i < len(x); i++ {
		e := math.Exp(x[i] - sub)
		x[i] = e
		sum += e
	}
	return sum
}

// probsTimesV2 is probsTimesV for two probability rows of equal length
// (two query heads sharing one K/V head) into out0 and out1 (equal
// lengths), reading each V row once.
func probsTimesV2(p0, p1 []float64, v []float64, ldv int, out0, out1 []float64) {
	n, w := len(p0), len(out0)
	if len(p1) != n || len(out1) != w {
		panic("llama: probsTimesV2 lengths differ")
	}
	if !hasAVX2FMA || w%16 != 0 || n == 0 {
		probsTimesV(p0, v, ldv, out0)
		probsTimesV(p1, v, ldv, out1)
		return
	}
	if ldv < w || len(v) < (n-1)*ldv+w {
		panic("llama: probsTimesV2 shapes out of range")
	}
	for c0 := 0; c0 < w; c0 += 16 {
		axpyRows16x2AVX(n, &p0[0], &p1[0], &v[c0], ldv, (*[16]float64)(out0[c0:c0+16]), (*[16]float64)(out1[c0:c0+16]))
	}
}

// GemmNT is C = A·Bᵀ (C += A·Bᵀ when accumulate) for row-major A [m][k]
// (row stride lda), B [n][k] (ldb) and C [m][n] (ldc), on the calling
// goroutine, with the kernels inference uses: the AVX2/FMA assembly when
// the CPU has it and k is a multiple of 4 (FastGemmNT), else plain Go.
// It is exported for the trainer (package train), whose training step it
// runs 3.1× faster than gonum's Dgemm does (BenchmarkTrainStepAllTargets,
// docs/models.md). It panics when a slice is
// too short for its shape.
func GemmNT(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, accumulate bool) {
	gemmNT(m, n, k, a, lda, b, ldb, c, ldc, accumulate)
}

// FastGemmNT reports whether GemmNT runs the assembly kernels here (amd64
// with AVX2 and FMA3, not built with the purego tag).
func FastGemmNT() bool { return hasAVX2FMA }

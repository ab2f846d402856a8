//go:build !amd64 || purego

package llama

// hasAVX2FMA is false off amd64 (or with the purego tag): gemmNT runs the
// plain-Go kernel.
const hasAVX2FMA = false

func dot1x4AVX(k int, a, b *float64, ldb int, c *float64, acc int) {
	panic("llama: dot1x4AVX without AVX2")
}

func dot2x4AVX(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, acc int) {
	panic("llama: dot2x4AVX without AVX2")
}

func axpyRows16AVX(n int, p, v *float64, ldv int, out *[16]float64) {
	panic("llama: axpyRows16AVX without AVX2")
}

func expSubSumAVX(n int, x *float64, sub float64) float64 {
	panic("llama: expSubSumAVX without AVX2")
}

func q8DotRowsAVX(nb, n int, wq *int8, wd *float32, aq *int8, ad *float32, y *float64, acc int) {
	panic("llama: q8DotRowsAVX without AVX2")
}

func axpyRows16x2AVX(n int, p0, p1, v *float64, ldv int, out0, out1 *[16]float64) {
	panic("llama: axpyRows16x2AVX without AVX2")
}

func q8Dot2RowsAVX(nb, n int, wq *int8, wd *float32, aq *int8, ad *float32, y *float64, ldy int, acc int) {
	panic("llama: q8Dot2RowsAVX without AVX2")
}

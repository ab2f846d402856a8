//go:build amd64 && !purego

package llama

// Assembly kernels in gemm_amd64.s (Go assembler, no cgo). Build with the
// purego tag to use the plain-Go kernel only.

//go:noescape
func cpuidAsm(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

//go:noescape
func xgetbvAsm() (eax, edx uint32)

//go:noescape
func dot1x4AVX(k int, a, b *float64, ldb int, c *float64, acc int)

//go:noescape
func dot2x4AVX(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, acc int)

//go:noescape
func axpyRows16AVX(n int, p, v *float64, ldv int, out *[16]float64)

// hasAVX2FMA reports AVX2 and FMA3 support with the OS saving YMM state
// (Intel SDM vol. 2A, CPUID leaves 1 and 7; XCR0 bits 1–2).
var hasAVX2FMA = func() bool {
	maxLeaf, _, _, _ := cpuidAsm(0, 0)
	if maxLeaf < 7 {
		return false
	}
	_, _, c1, _ := cpuidAsm(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if c1&fma == 0 || c1&osxsave == 0 || c1&avx == 0 {
		return false
	}
	if xcr0, _ := xgetbvAsm(); xcr0&6 != 6 {
		return false
	}
	_, b7, _, _ := cpuidAsm(7, 0)
	return b7&(1<<5) != 0
}()

//go:noescape
func expSubSumAVX(n int, x *float64, sub float64) float64

//go:noescape
func q8DotRowsAVX(nb, n int, wq *int8, wd *float32, aq *int8, ad *float32, y *float64, acc int)

//go:noescape
func axpyRows16x2AVX(n int, p0, p1, v *float64, ldv int, out0, out1 *[16]float64)

//go:noescape
func q8Dot2RowsAVX(nb, n int, wq *int8, wd *float32, aq *int8, ad *float32, y *float64, ldy int, acc int)

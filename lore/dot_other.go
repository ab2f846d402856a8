//go:build !amd64 || purego

package lore

// hasAVX2FMA is false off amd64 (or with the purego tag): dot and dotRows
// use gonum's kernel.
const hasAVX2FMA = false

func dotAVX2(a, b *float32, n int) float32 { panic("lore: dotAVX2 without AVX2") }

func dotRowsAVX2(q, base *float32, dim int, ids *uint32, n, ahead int, out *float32) {
	panic("lore: dotRowsAVX2 without AVX2")
}

func dotRows8AVX2(q *int16, base *int8, dim int, ids *uint32, n, ahead int, out *int32) {
	panic("lore: dotRows8AVX2 without AVX2")
}

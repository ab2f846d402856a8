//go:build amd64 && !purego

package lore

import "golang.org/x/sys/cpu"

// Assembly kernels in dot_amd64.s (Go assembler, no cgo). Build with the
// purego tag to use gonum's SSE kernel and plain Go instead.

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func dotRowsAVX2(q, base *float32, dim int, ids *uint32, n, ahead int, out *float32)

//go:noescape
func dotRows8AVX2(q *int16, base *int8, dim int, ids *uint32, n, ahead int, out *int32)

// hasAVX2FMA reports AVX2 and FMA3 with the OS saving the YMM registers.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasAVX

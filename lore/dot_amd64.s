//go:build amd64 && !purego

#include "textflag.h"

// func dotAVX2(a, b *float32, n int) float32
//
// Σ_{i<n} a[i]·b[i] with AVX2 FMA: four accumulators of 8 lanes (32 values
// a step) hide the FMA latency, then steps of 8, then single values.
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-32, BX

loop32:
	CMPQ AX, BX
	JGE  tail8
	VMOVUPS (SI)(AX*4), Y4
	VMOVUPS 32(SI)(AX*4), Y5
	VMOVUPS 64(SI)(AX*4), Y6
	VMOVUPS 96(SI)(AX*4), Y7
	VFMADD231PS (DI)(AX*4), Y4, Y0
	VFMADD231PS 32(DI)(AX*4), Y5, Y1
	VFMADD231PS 64(DI)(AX*4), Y6, Y2
	VFMADD231PS 96(DI)(AX*4), Y7, Y3
	ADDQ $32, AX
	JMP  loop32

tail8:
	MOVQ CX, BX
	ANDQ $-8, BX

loop8:
	CMPQ AX, BX
	JGE  reduce
	VMOVUPS (SI)(AX*4), Y4
	VFMADD231PS (DI)(AX*4), Y4, Y0
	ADDQ $8, AX
	JMP  loop8

reduce:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0

loop1:
	CMPQ AX, CX
	JGE  done
	VMOVSS (SI)(AX*4), X4
	VFMADD231SS (DI)(AX*4), X4, X0
	INCQ AX
	JMP  loop1

done:
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func dotRowsAVX2(q, base *float32, dim int, ids *uint32, n, ahead int, out *float32)
//
// out[j] = Σ_{i<dim} q[i]·base[ids[j]·dim+i] for j < n; dim is a positive
// multiple of 32. While it computes row j it prefetches (PREFETCHT0) every
// cache line of row ids[j+ahead], so that the rows' loads from memory
// overlap instead of queuing behind each other.
TEXT ·dotRowsAVX2(SB), NOSPLIT, $0-56
	MOVQ q+0(FP), SI
	MOVQ base+8(FP), R8
	MOVQ dim+16(FP), CX
	MOVQ ids+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ ahead+40(FP), R12
	MOVQ out+48(FP), R11
	MOVQ CX, DX
	SHLQ $2, DX // row bytes
	XORQ R13, R13

rowloop:
	CMPQ R13, R10
	JGE  rowsdone
	LEAQ (R13)(R12*1), BX
	CMPQ BX, R10
	JGE  compute
	MOVL (R9)(BX*4), BX
	IMULQ DX, BX
	ADDQ R8, BX
	XORQ AX, AX

pfloop:
	PREFETCHT0 (BX)(AX*1)
	ADDQ $64, AX
	CMPQ AX, DX
	JLT  pfloop

compute:
	MOVL (R9)(R13*4), DI
	IMULQ DX, DI
	ADDQ R8, DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ AX, AX

rloop:
	VMOVUPS (SI)(AX*4), Y4
	VMOVUPS 32(SI)(AX*4), Y5
	VMOVUPS 64(SI)(AX*4), Y6
	VMOVUPS 96(SI)(AX*4), Y7
	VFMADD231PS (DI)(AX*4), Y4, Y0
	VFMADD231PS 32(DI)(AX*4), Y5, Y1
	VFMADD231PS 64(DI)(AX*4), Y6, Y2
	VFMADD231PS 96(DI)(AX*4), Y7, Y3
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  rloop
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, (R11)(R13*4)
	INCQ R13
	JMP  rowloop

rowsdone:
	VZEROUPPER
	RET

//go:build amd64 && !purego

#include "textflag.h"

// func dotRows8AVX2(q *int16, base *int8, dim int, ids *uint32, n, ahead int, out *int32)
//
// out[j] = Σ_{i<dim} q[i]·base[ids[j]·dim+i] for j < n, exactly, in int32:
// the int8 row is widened to int16 (VPMOVSXBW, 16 values a step) and
// multiplied by the pre-widened int16 query with VPMADDWD (pairs summed
// into int32), two accumulators of 8 lanes. dim is a positive multiple of
// 32; the values are within ±127, so nothing overflows. While it computes
// row j it prefetches (PREFETCHT0) every cache line of row ids[j+ahead].
TEXT ·dotRows8AVX2(SB), NOSPLIT, $0-56
	MOVQ q+0(FP), SI
	MOVQ base+8(FP), R8
	MOVQ dim+16(FP), CX
	MOVQ ids+24(FP), R9
	MOVQ n+32(FP), R10
	MOVQ ahead+40(FP), R12
	MOVQ out+48(FP), R11
	XORQ R13, R13

rowloop:
	CMPQ R13, R10
	JGE  rowsdone
	LEAQ (R13)(R12*1), BX
	CMPQ BX, R10
	JGE  compute
	MOVL (R9)(BX*4), BX
	IMULQ CX, BX
	ADDQ R8, BX
	XORQ AX, AX

pfloop:
	PREFETCHT0 (BX)(AX*1)
	ADDQ $64, AX
	CMPQ AX, CX
	JLT  pfloop

compute:
	MOVL (R9)(R13*4), DI
	IMULQ CX, DI
	ADDQ R8, DI
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	XORQ AX, AX

rloop:
	VPMOVSXBW (DI)(AX*1), Y4
	VPMOVSXBW 16(DI)(AX*1), Y5
	VPMADDWD (SI)(AX*2), Y4, Y4
	VPMADDWD 32(SI)(AX*2), Y5, Y5
	VPADDD Y4, Y0, Y0
	VPADDD Y5, Y1, Y1
	ADDQ $32, AX
	CMPQ AX, CX
	JLT  rloop
	VPADDD Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0x4E, X0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0xB1, X0, X1
	VPADDD X1, X0, X0
	VMOVD X0, (R11)(R13*4)
	INCQ R13
	JMP  rowloop

rowsdone:
	VZEROUPPER
	RET

//go:build amd64 && !purego

#include "textflag.h"

// func cpuidAsm(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuidAsm(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbvAsm() (eax, edx uint32)
TEXT ·xgetbvAsm(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func dot1x4AVX(k int, a, b *float64, ldb int, c *float64, acc int)
//
// c[j] (+)= Σ_{l<k} a[l]·b[j·ldb+l] for j < 4 (added to c's old values
// when acc ≠ 0); k is a positive multiple of 4. Two accumulator sets (even and odd groups of 4 values of l) hide
// the FMA latency.
TEXT ·dot1x4AVX(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ ldb+24(FP), DX
	SHLQ $3, DX
	LEAQ (DI)(DX*1), R8
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ AX, AX
	SHLQ $3, CX
	MOVQ CX, BX
	ANDQ $-64, BX

loop8:
	CMPQ AX, BX
	JGE  tail4
	VMOVUPD     (SI)(AX*1), Y8
	VMOVUPD     32(SI)(AX*1), Y9
	VFMADD231PD (DI)(AX*1), Y8, Y0
	VFMADD231PD (R8)(AX*1), Y8, Y1
	VFMADD231PD (R9)(AX*1), Y8, Y2
	VFMADD231PD (R10)(AX*1), Y8, Y3
	VFMADD231PD 32(DI)(AX*1), Y9, Y4
	VFMADD231PD 32(R8)(AX*1), Y9, Y5
	VFMADD231PD 32(R9)(AX*1), Y9, Y6
	VFMADD231PD 32(R10)(AX*1), Y9, Y7
	ADDQ        $64, AX
	JMP         loop8

tail4:
	CMPQ AX, CX
	JGE  reduce
	VMOVUPD     (SI)(AX*1), Y8
	VFMADD231PD (DI)(AX*1), Y8, Y0
	VFMADD231PD (R8)(AX*1), Y8, Y1
	VFMADD231PD (R9)(AX*1), Y8, Y2
	VFMADD231PD (R10)(AX*1), Y8, Y3
	ADDQ        $32, AX
	JMP         tail4

reduce:
	VADDPD       Y4, Y0, Y0
	VADDPD       Y5, Y1, Y1
	VADDPD       Y6, Y2, Y2
	VADDPD       Y7, Y3, Y3
	VHADDPD      Y1, Y0, Y0
	VHADDPD      Y3, Y2, Y2
	VEXTRACTF128 $1, Y0, X4
	VADDPD       X4, X0, X0
	VEXTRACTF128 $1, Y2, X5
	VADDPD       X5, X2, X2
	MOVQ         c+32(FP), DI
	MOVQ         acc+40(FP), AX
	TESTQ        AX, AX
	JZ           store1
	VADDPD       (DI), X0, X0
	VADDPD       16(DI), X2, X2

store1:
	VMOVUPD X0, (DI)
	VMOVUPD X2, 16(DI)
	VZEROUPPER
	RET

// func dot2x4AVX(k int, a *float64, lda int, b *float64, ldb int, c *float64, ldc int, acc int)
//
// c[i·ldc+j] (+)= Σ_{l<k} a[i·lda+l]·b[j·ldb+l] for i < 2, j < 4 (added
// to c's old values when acc ≠ 0); k is a positive multiple of 4.
TEXT ·dot2x4AVX(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R11
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), DX
	SHLQ $3, DX
	SHLQ $3, R11
	ADDQ SI, R11
	LEAQ (DI)(DX*1), R8
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ AX, AX
	SHLQ $3, CX

loop:
	CMPQ AX, CX
	JGE  reduce2
	VMOVUPD     (SI)(AX*1), Y8
	VMOVUPD     (R11)(AX*1), Y9
	VMOVUPD     (DI)(AX*1), Y10
	VFMADD231PD Y10, Y8, Y0
	VFMADD231PD Y10, Y9, Y4
	VMOVUPD     (R8)(AX*1), Y11
	VFMADD231PD Y11, Y8, Y1
	VFMADD231PD Y11, Y9, Y5
	VMOVUPD     (R9)(AX*1), Y12
	VFMADD231PD Y12, Y8, Y2
	VFMADD231PD Y12, Y9, Y6
	VMOVUPD     (R10)(AX*1), Y13
	VFMADD231PD Y13, Y8, Y3
	VFMADD231PD Y13, Y9, Y7
	ADDQ        $32, AX
	JMP         loop

reduce2:
	VHADDPD      Y1, Y0, Y0
	VHADDPD      Y3, Y2, Y2
	VHADDPD      Y5, Y4, Y4
	VHADDPD      Y7, Y6, Y6
	VEXTRACTF128 $1, Y0, X8
	VADDPD       X8, X0, X0
	VEXTRACTF128 $1, Y2, X9
	VADDPD       X9, X2, X2
	VEXTRACTF128 $1, Y4, X10
	VADDPD       X10, X4, X4
	VEXTRACTF128 $1, Y6, X11
	VADDPD       X11, X6, X6
	MOVQ         c+40(FP), DI
	MOVQ         ldc+48(FP), DX
	SHLQ         $3, DX
	LEAQ         (DI)(DX*1), R8
	MOVQ         acc+56(FP), AX
	TESTQ        AX, AX
	JZ           store2
	VADDPD       (DI), X0, X0
	VADDPD       16(DI), X2, X2
	VADDPD       (R8), X4, X4
	VADDPD       16(R8), X6, X6

store2:
	VMOVUPD X0, (DI)
	VMOVUPD X2, 16(DI)
	VMOVUPD X4, (R8)
	VMOVUPD X6, 16(R8)
	VZEROUPPER
	RET

// func axpyRows16AVX(n int, p, v *float64, ldv int, out *[16]float64)
//
// out[c] = Σ_{j<n} p[j]·v[j·ldv+c] for c < 16 (attention's probabilities
// times a 16-wide slice of V); n ≥ 0. Even and odd j use separate
// accumulators to hide the FMA latency.
TEXT ·axpyRows16AVX(SB), NOSPLIT, $0-40
	MOVQ n+0(FP), CX
	MOVQ p+8(FP), SI
	MOVQ v+16(FP), DI
	MOVQ ldv+24(FP), DX
	SHLQ $3, DX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7

pair:
	CMPQ CX, $2
	JLT  single
	VBROADCASTSD (SI), Y8
	VBROADCASTSD 8(SI), Y9
	LEAQ         (DI)(DX*1), R8
	VFMADD231PD  (DI), Y8, Y0
	VFMADD231PD  32(DI), Y8, Y1
	VFMADD231PD  64(DI), Y8, Y2
	VFMADD231PD  96(DI), Y8, Y3
	VFMADD231PD  (R8), Y9, Y4
	VFMADD231PD  32(R8), Y9, Y5
	VFMADD231PD  64(R8), Y9, Y6
	VFMADD231PD  96(R8), Y9, Y7
	ADDQ         $16, SI
	LEAQ         (R8)(DX*1), DI
	SUBQ         $2, CX
	JMP          pair

single:
	CMPQ CX, $1
	JLT  done
	VBROADCASTSD (SI), Y8
	VFMADD231PD  (DI), Y8, Y0
	VFMADD231PD  32(DI), Y8, Y1
	VFMADD231PD  64(DI), Y8, Y2
	VFMADD231PD  96(DI), Y8, Y3

done:
	VADDPD  Y4, Y0, Y0
	VADDPD  Y5, Y1, Y1
	VADDPD  Y6, Y2, Y2
	VADDPD  Y7, Y3, Y3
	MOVQ    out+32(FP), DI
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VZEROUPPER
	RET

// Constants of expSubSumAVX: the Taylor coefficients 1/13!, …, 1/0!
// (each four times, one ymm apiece), the exponent bias 1023 (int64 ×4),
// then scalars log2(e), ln2 split in high and low parts (fdlibm's
// ln2_hi/ln2_lo), and the clamp range [-708, 709].
DATA expConsts<>+0(SB)/8, $1.6059043836821613e-10
DATA expConsts<>+8(SB)/8, $1.6059043836821613e-10
DATA expConsts<>+16(SB)/8, $1.6059043836821613e-10
DATA expConsts<>+24(SB)/8, $1.6059043836821613e-10
DATA expConsts<>+32(SB)/8, $2.08767569878681e-09
DATA expConsts<>+40(SB)/8, $2.08767569878681e-09
DATA expConsts<>+48(SB)/8, $2.08767569878681e-09
DATA expConsts<>+56(SB)/8, $2.08767569878681e-09
DATA expConsts<>+64(SB)/8, $2.505210838544172e-08
DATA expConsts<>+72(SB)/8, $2.505210838544172e-08
DATA expConsts<>+80(SB)/8, $2.505210838544172e-08
DATA expConsts<>+88(SB)/8, $2.505210838544172e-08
DATA expConsts<>+96(SB)/8, $2.755731922398589e-07
DATA expConsts<>+104(SB)/8, $2.755731922398589e-07
DATA expConsts<>+112(SB)/8, $2.755731922398589e-07
DATA expConsts<>+120(SB)/8, $2.755731922398589e-07
DATA expConsts<>+128(SB)/8, $2.7557319223985893e-06
DATA expConsts<>+136(SB)/8, $2.7557319223985893e-06
DATA expConsts<>+144(SB)/8, $2.7557319223985893e-06
DATA expConsts<>+152(SB)/8, $2.7557319223985893e-06
DATA expConsts<>+160(SB)/8, $2.48015873015873e-05
DATA expConsts<>+168(SB)/8, $2.48015873015873e-05
DATA expConsts<>+176(SB)/8, $2.48015873015873e-05
DATA expConsts<>+184(SB)/8, $2.48015873015873e-05
DATA expConsts<>+192(SB)/8, $0.0001984126984126984
DATA expConsts<>+200(SB)/8, $0.0001984126984126984
DATA expConsts<>+208(SB)/8, $0.0001984126984126984
DATA expConsts<>+216(SB)/8, $0.0001984126984126984
DATA expConsts<>+224(SB)/8, $0.001388888888888889
DATA expConsts<>+232(SB)/8, $0.001388888888888889
DATA expConsts<>+240(SB)/8, $0.001388888888888889
DATA expConsts<>+248(SB)/8, $0.001388888888888889
DATA expConsts<>+256(SB)/8, $0.008333333333333333
DATA expConsts<>+264(SB)/8, $0.008333333333333333
DATA expConsts<>+272(SB)/8, $0.008333333333333333
DATA expConsts<>+280(SB)/8, $0.008333333333333333
DATA expConsts<>+288(SB)/8, $0.041666666666666664
DATA expConsts<>+296(SB)/8, $0.041666666666666664
DATA expConsts<>+304(SB)/8, $0.041666666666666664
DATA expConsts<>+312(SB)/8, $0.041666666666666664
DATA expConsts<>+320(SB)/8, $0.16666666666666666
DATA expConsts<>+328(SB)/8, $0.16666666666666666
DATA expConsts<>+336(SB)/8, $0.16666666666666666
DATA expConsts<>+344(SB)/8, $0.16666666666666666
DATA expConsts<>+352(SB)/8, $0.5
DATA expConsts<>+360(SB)/8, $0.5
DATA expConsts<>+368(SB)/8, $0.5
DATA expConsts<>+376(SB)/8, $0.5
DATA expConsts<>+384(SB)/8, $1.0
DATA expConsts<>+392(SB)/8, $1.0
DATA expConsts<>+400(SB)/8, $1.0
DATA expConsts<>+408(SB)/8, $1.0
DATA expConsts<>+416(SB)/8, $1.0
DATA expConsts<>+424(SB)/8, $1.0
DATA expConsts<>+432(SB)/8, $1.0
DATA expConsts<>+440(SB)/8, $1.0
DATA expConsts<>+448(SB)/8, $1023
DATA expConsts<>+456(SB)/8, $1023
DATA expConsts<>+464(SB)/8, $1023
DATA expConsts<>+472(SB)/8, $1023
DATA expConsts<>+480(SB)/8, $1.4426950408889634
DATA expConsts<>+488(SB)/8, $6.93147180369123816490e-01
DATA expConsts<>+496(SB)/8, $1.90821492927058770002e-10
DATA expConsts<>+504(SB)/8, $-708.0
DATA expConsts<>+512(SB)/8, $709.0
GLOBL expConsts<>(SB), RODATA|NOPTR, $520

// func expSubSumAVX(n int, x *float64, sub float64) float64
//
// x[i] = exp(x[i]-sub) for i < n (n a multiple of 4), returning Σ x[i]
// after the update. exp(t) = 2^k·e^r with k = round(t·log2 e) and
// r = t − k·ln2 (|r| ≤ ln2/2, reduced with FMA in two parts), e^r by its
// degree-13 Taylor polynomial (truncation < 1e-17 relative), 2^k built in
// the exponent bits. t is clamped to [-708, 709], so results stay normal
// and finite (exp(-708) ≈ 3e-308 stands in for smaller values).
TEXT ·expSubSumAVX(SB), NOSPLIT, $0-32
	MOVQ         n+0(FP), CX
	MOVQ         x+8(FP), DI
	VBROADCASTSD sub+16(FP), Y15
	LEAQ         expConsts<>(SB), R8
	VBROADCASTSD 480(R8), Y14
	VBROADCASTSD 488(R8), Y13
	VBROADCASTSD 496(R8), Y12
	VBROADCASTSD 504(R8), Y11
	VBROADCASTSD 512(R8), Y10
	VXORPD       Y9, Y9, Y9

expLoop:
	CMPQ         CX, $4
	JLT          expDone
	VMOVUPD      (DI), Y0
	VSUBPD       Y15, Y0, Y0
	VMAXPD       Y11, Y0, Y0
	VMINPD       Y10, Y0, Y0
	VMULPD       Y14, Y0, Y1
	VROUNDPD     $0, Y1, Y1
	VMOVAPD      Y0, Y2
	VFNMADD231PD Y13, Y1, Y2
	VFNMADD231PD Y12, Y1, Y2
	VMOVUPD      0(R8), Y3
	VFMADD213PD  32(R8), Y2, Y3
	VFMADD213PD  64(R8), Y2, Y3
	VFMADD213PD  96(R8), Y2, Y3
	VFMADD213PD  128(R8), Y2, Y3
	VFMADD213PD  160(R8), Y2, Y3
	VFMADD213PD  192(R8), Y2, Y3
	VFMADD213PD  224(R8), Y2, Y3
	VFMADD213PD  256(R8), Y2, Y3
	VFMADD213PD  288(R8), Y2, Y3
	VFMADD213PD  320(R8), Y2, Y3
	VFMADD213PD  352(R8), Y2, Y3
	VFMADD213PD  384(R8), Y2, Y3
	VFMADD213PD  416(R8), Y2, Y3
	VCVTPD2DQY   Y1, X4
	VPMOVSXDQ    X4, Y4
	VPADDQ       448(R8), Y4, Y4
	VPSLLQ       $52, Y4, Y4
	VMULPD       Y4, Y3, Y3
	VMOVUPD      Y3, (DI)
	VADDPD       Y3, Y9, Y9
	ADDQ         $32, DI
	SUBQ         $4, CX
	JMP          expLoop

expDone:
	VEXTRACTF128 $1, Y9, X0
	VADDPD       X0, X9, X0
	VHADDPD      X0, X0, X0
	VMOVSD       X0, ret+24(FP)
	VZEROUPPER
	RET

// func q8DotRowsAVX(nb, n int, wq *int8, wd *float32, aq *int8, ad *float32, y *float64, acc int)
//
// For o < n: y[o] (+)= Σ_{b<nb} wd[o·nb+b]·ad[b]·Σ_{i<32} wq[(o·nb+b)·32+i]·aq[b·32+i]
// (added to y's old values when acc ≠ 0): n consecutive Q8_0 weight rows
// against one Q8_0 activation row, as ggml's AVX2 ggml_vec_dot_q8_0_q8_0
// does it: VPSIGNB moves w's sign onto a so VPMADDUBSW can multiply
// |w| (unsigned) by it, VPMADDWD sums pairs to int32 (exact: |q| ≤ 127),
// and each block's sum is scaled in float32 into a float32 accumulator.
TEXT ·q8DotRowsAVX(SB), NOSPLIT, $0-64
	MOVQ     nb+0(FP), CX
	MOVQ     n+8(FP), BX
	MOVQ     wq+16(FP), SI
	MOVQ     wd+24(FP), R8
	MOVQ     aq+32(FP), R9
	MOVQ     ad+40(FP), R10
	MOVQ     y+48(FP), DI
	MOVQ     acc+56(FP), R11
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15

q8Row:
	TESTQ  BX, BX
	JZ     q8Done
	VXORPS Y0, Y0, Y0
	XORQ   AX, AX
	MOVQ   R9, R12
	MOVQ   R10, R13

q8Block:
	CMPQ          AX, CX
	JGE           q8RowDone
	VMOVDQU       (SI), Y1
	VMOVDQU       (R12), Y2
	VPSIGNB       Y1, Y1, Y3
	VPSIGNB       Y1, Y2, Y4
	VPMADDUBSW    Y4, Y3, Y5
	VPMADDWD      Y15, Y5, Y5
	VCVTDQ2PS     Y5, Y5
	VMOVSS        (R8), X6
	VMULSS        (R13), X6, X6
	VBROADCASTSS  X6, Y6
	VFMADD231PS   Y6, Y5, Y0
	ADDQ          $32, SI
	ADDQ          $32, R12
	ADDQ          $4, R8
	ADDQ          $4, R13
	INCQ          AX
	JMP           q8Block

q8RowDone:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VCVTSS2SD    X0, X0, X0
	TESTQ        R11, R11
	JZ           q8Store
	VADDSD       (DI), X0, X0

q8Store:
	VMOVSD X0, (DI)
	ADDQ   $8, DI
	DECQ   BX
	JMP    q8Row

q8Done:
	VZEROUPPER
	RET

// func axpyRows16x2AVX(n int, p0, p1, v *float64, ldv int, out0, out1 *[16]float64)
//
// out0[c] = Σ_{j<n} p0[j]·v[j·ldv+c] and out1[c] = Σ_{j<n} p1[j]·v[j·ldv+c]
// for c < 16: two query heads of a grouped-query attention group sharing
// one load of each V row; n ≥ 0.
TEXT ·axpyRows16x2AVX(SB), NOSPLIT, $0-56
	MOVQ   n+0(FP), CX
	MOVQ   p0+8(FP), SI
	MOVQ   p1+16(FP), R9
	MOVQ   v+24(FP), DI
	MOVQ   ldv+32(FP), DX
	SHLQ   $3, DX
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7

pv2Loop:
	TESTQ        CX, CX
	JZ           pv2Done
	VBROADCASTSD (SI), Y8
	VBROADCASTSD (R9), Y9
	VMOVUPD      (DI), Y10
	VFMADD231PD  Y10, Y8, Y0
	VFMADD231PD  Y10, Y9, Y4
	VMOVUPD      32(DI), Y11
	VFMADD231PD  Y11, Y8, Y1
	VFMADD231PD  Y11, Y9, Y5
	VMOVUPD      64(DI), Y12
	VFMADD231PD  Y12, Y8, Y2
	VFMADD231PD  Y12, Y9, Y6
	VMOVUPD      96(DI), Y13
	VFMADD231PD  Y13, Y8, Y3
	VFMADD231PD  Y13, Y9, Y7
	ADDQ         $8, SI
	ADDQ         $8, R9
	ADDQ         DX, DI
	DECQ         CX
	JMP          pv2Loop

pv2Done:
	MOVQ    out0+40(FP), DI
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	MOVQ    out1+48(FP), DI
	VMOVUPD Y4, (DI)
	VMOVUPD Y5, 32(DI)
	VMOVUPD Y6, 64(DI)
	VMOVUPD Y7, 96(DI)
	VZEROUPPER
	RET

// func q8Dot2RowsAVX(nb, n int, wq *int8, wd *float32, aq *int8, ad *float32, y *float64, ldy int, acc int)
//
// q8DotRowsAVX for two activation rows at once (aq/ad hold row 0, then
// row 1 at offsets nb·32 and nb): y[o] and y[ldy+o] for o < n, each weight
// block loaded and made absolute once for both rows.
TEXT ·q8Dot2RowsAVX(SB), NOSPLIT, $0-72
	MOVQ     nb+0(FP), CX
	MOVQ     n+8(FP), BX
	MOVQ     wq+16(FP), SI
	MOVQ     wd+24(FP), R8
	MOVQ     aq+32(FP), R9
	MOVQ     ad+40(FP), R10
	MOVQ     y+48(FP), DI
	MOVQ     ldy+56(FP), R15
	SHLQ     $3, R15
	MOVQ     acc+64(FP), R11
	MOVQ     CX, DX
	SHLQ     $5, DX                 // row 1's quants: aq + nb·32
	MOVQ     CX, R14
	SHLQ     $2, R14                // row 1's scales: ad + nb·4
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15

q82Row:
	TESTQ  BX, BX
	JZ     q82Done
	VXORPS Y0, Y0, Y0
	VXORPS Y7, Y7, Y7
	XORQ   AX, AX
	MOVQ   R9, R12
	MOVQ   R10, R13

q82Block:
	CMPQ         AX, CX
	JGE          q82RowDone
	VMOVDQU      (SI), Y1
	VPSIGNB      Y1, Y1, Y3
	VMOVDQU      (R12), Y2
	VPSIGNB      Y1, Y2, Y4
	VPMADDUBSW   Y4, Y3, Y5
	VPMADDWD     Y15, Y5, Y5
	VCVTDQ2PS    Y5, Y5
	VMOVSS       (R8), X6
	VMULSS       (R13), X6, X8
	VBROADCASTSS X8, Y8
	VFMADD231PS  Y8, Y5, Y0
	VMOVDQU      (R12)(DX*1), Y2
	VPSIGNB      Y1, Y2, Y4
	VPMADDUBSW   Y4, Y3, Y5
	VPMADDWD     Y15, Y5, Y5
	VCVTDQ2PS    Y5, Y5
	VMULSS       (R13)(R14*1), X6, X9
	VBROADCASTSS X9, Y9
	VFMADD231PS  Y9, Y5, Y7
	ADDQ         $32, SI
	ADDQ         $32, R12
	ADDQ         $4, R8
	ADDQ         $4, R13
	INCQ         AX
	JMP          q82Block

q82RowDone:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VCVTSS2SD    X0, X0, X0
	VEXTRACTF128 $1, Y7, X1
	VADDPS       X1, X7, X7
	VHADDPS      X7, X7, X7
	VHADDPS      X7, X7, X7
	VCVTSS2SD    X7, X7, X7
	TESTQ        R11, R11
	JZ           q82Store
	VADDSD       (DI), X0, X0
	VADDSD       (DI)(R15*1), X7, X7

q82Store:
	VMOVSD X0, (DI)
	VMOVSD X7, (DI)(R15*1)
	ADDQ   $8, DI
	DECQ   BX
	JMP    q82Row

q82Done:
	VZEROUPPER
	RET

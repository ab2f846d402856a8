package gguf

import (
	"fmt"
	"math"
	"sync"
)

// Float16Max is the largest finite IEEE 754 binary16 value, 65504.
const Float16Max = 65504.0

// f16Overflow is the smallest magnitude that rounds to half-precision
// infinity: 65520, halfway between 65504 and the next step, 65536.
const f16Overflow = 65520.0

// f16Table maps every half-precision bit pattern to its float64 value; it
// is built on first use (512 KiB) and makes F16 tensor decoding a lookup.
var f16Table = sync.OnceValue(func() *[1 << 16]float64 {
	t := new([1 << 16]float64)
	for h := range t {
		t[h] = Float16ToFloat64(uint16(h))
	}
	return t
})

// Float16Bits converts x to IEEE 754 binary16 (half precision) bits with
// round-to-nearest-even, directly from the float64 so there is no double
// rounding. Values beyond the half range become ±Inf, values below half the
// smallest subnormal (2⁻²⁵) become ±0, NaN becomes a quiet NaN.
func Float16Bits(x float64) uint16 {
	b := math.Float64bits(x)
	sign := uint16(b>>48) & 0x8000
	exp := int(b>>52) & 0x7ff
	mant := b & (1<<52 - 1)
	if exp == 0x7ff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	e := exp - 1023 + 15 // biased half exponent
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		// Half subnormal: value = m · 2⁻²⁴ with m = M · 2^(e−43), where M is
		// the 53-bit significand with its implicit bit.
		if exp == 0 {
			return sign // float64 subnormals are far below half's range
		}
		shift := uint(43 - e)
		if shift >= 54 {
			return sign
		}
		m := mant | 1<<52
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint64(1) << (shift - 1)
		if rem > half || (rem == half && h&1 == 1) {
			h++ // may carry into the smallest normal, which is right
		}
		return sign | uint16(h)
	}
	h := uint16(e)<<10 | uint16(mant>>42)
	rem := mant & (1<<42 - 1)
	const half = 1 << 41
	if rem > half || (rem == half && h&1 == 1) {
		h++ // a carry into the exponent is right, up to +Inf
	}
	return sign | h
}

// Float16ToFloat64 converts IEEE 754 binary16 bits to float64 exactly,
// including subnormals, ±Inf and NaN (payload kept).
func Float16ToFloat64(h uint16) float64 {
	sign := uint64(h&0x8000) << 48
	exp := uint64(h>>10) & 0x1f
	mant := uint64(h & 0x3ff)
	switch exp {
	case 0:
		v := float64(mant) * (1.0 / (1 << 24)) // subnormal or zero, exact
		if sign != 0 {
			v = -v
		}
		return v
	case 0x1f:
		return math.Float64frombits(sign | 0x7ff<<52 | mant<<42)
	}
	return math.Float64frombits(sign | (exp-15+1023)<<52 | mant<<42)
}

// BFloat16ToFloat64 converts bfloat16 bits (the top half of a float32) to
// float64 exactly.
func BFloat16ToFloat64(h uint16) float64 {
	return float64(math.Float32frombits(uint32(h) << 16))
}

// Q8_0 block geometry (ggml's block_q8_0): a float16 scale d followed by 32
// int8 quants; value i of the block is d·q[i].
const (
	Q8_0BlockSize  = 32 // elements per block
	Q8_0BlockBytes = 34 // bytes per block
)

// QuantizeQ8_0 encodes src as Q8_0 blocks, each by QuantizeBlockQ8_0
// (ggml's quantize_row_q8_0_ref), the scale stored as float16. A final
// partial block is quantized as if padded with zeros, so the result has
// ceil(len(src)/32)·34 bytes. NaN counts as 0 and infinities are left out
// of the scale and quantize to 0; Write rejects both, and values whose
// scale overflows float16 (|x| > 127·65504).
func QuantizeQ8_0(src []float64) []byte {
	nb := (len(src) + Q8_0BlockSize - 1) / Q8_0BlockSize
	out := make([]byte, nb*Q8_0BlockBytes)
	var q [Q8_0BlockSize]int8
	for b := 0; b < nb; b++ {
		_, h := QuantizeBlockQ8_0(src[b*Q8_0BlockSize:min(len(src), (b+1)*Q8_0BlockSize)], q[:])
		o := out[b*Q8_0BlockBytes:]
		o[0], o[1] = byte(h), byte(h>>8)
		for i, v := range q {
			o[2+i] = byte(v)
		}
	}
	return out
}

// QuantizeBlockQ8_0 quantizes one block of at most 32 values into q (32
// entries; those past len(x) are zeroed) exactly as ggml's
// quantize_row_q8_0_ref does, so that a file Hearth writes and the
// activations its engine quantizes at run time (inference/embedded/llama)
// round like llama.cpp's: amax = max over float32(|x|); the scale d =
// amax/127 in float32; q = roundf(float32(x)·(1/d)) (half away from zero);
// only the stored scale is rounded to float16. It returns that scale, as
// a float32 value and as float16 bits. NaN counts as 0, and infinities
// are left out of amax and quantize to 0.
func QuantizeBlockQ8_0(x []float64, q []int8) (d float32, bits uint16) {
	// max|x| in float64, then rounded: float32 rounding is monotonic, so
	// this is max over float32(|x|) as ggml computes it. Compared as bits
	// (monotonic for non-negative floats); NaN and Inf (exponent all ones)
	// are skipped.
	const expMask = 0x7ff0000000000000
	var amaxBits uint64
	for _, v := range x {
		if b := math.Float64bits(v) &^ (1 << 63); b&expMask != expMask {
			amaxBits = max(amaxBits, b)
		}
	}
	scale := float32(math.Float64frombits(amaxBits)) / 127
	var id float32
	if scale != 0 {
		id = 1 / scale
	}
	for i, v := range x {
		if math.Float64bits(v)&expMask == expMask {
			q[i] = 0
			continue
		}
		// Round half away from zero (C's roundf): f ± 0.5 is exact in
		// float64 for |f| ≤ 128, and the conversion truncates.
		f := float64(float32(v) * id)
		q[i] = int8(int32(f + math.Copysign(0.5, f)))
	}
	clear(q[len(x):Q8_0BlockSize])
	bits = Float16Bits(float64(scale))
	return float32(Float16ToFloat64(bits)), bits
}

// DequantizeQ8_0 decodes Q8_0 blocks into float64, 32 values per 34-byte
// block. The error wraps ErrInvalid when len(src) is not a multiple of 34.
func DequantizeQ8_0(src []byte) ([]float64, error) {
	if len(src)%Q8_0BlockBytes != 0 {
		return nil, fmt.Errorf("%w: %d bytes of Q8_0 is not a whole number of %d-byte blocks", ErrInvalid, len(src), Q8_0BlockBytes)
	}
	dst := make([]float64, len(src)/Q8_0BlockBytes*Q8_0BlockSize)
	dequantizeQ8_0(dst, src)
	return dst, nil
}

// dequantizeQ8_0 decodes len(dst)/32 blocks of src into dst.
func dequantizeQ8_0(dst []float64, src []byte) {
	for b := 0; b < len(dst)/Q8_0BlockSize; b++ {
		s := src[b*Q8_0BlockBytes : (b+1)*Q8_0BlockBytes]
		d := Float16ToFloat64(le16(s))
		o := dst[b*Q8_0BlockSize : (b+1)*Q8_0BlockSize]
		for i := range o {
			o[i] = d * float64(int8(s[2+i]))
		}
	}
}

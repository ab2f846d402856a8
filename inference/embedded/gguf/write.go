package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// TensorData is one tensor for Write: float64 values in ggml order
// (Dims[0] fastest) and the type to encode them as.
type TensorData struct {
	Name string
	// Dims are ggml's ne, innermost first: [cols, rows] for a row-major
	// matrix. 1 to MaxDims positive dims.
	Dims []int64
	Type Type      // TypeF32, TypeF16 or TypeQ8_0
	Data []float64 // product(Dims) values
}

// Write encodes a GGUF version 3 file: the metadata pairs in the order
// given, then the tensors in the order given, each tensor's data at a
// multiple of the alignment and padded with zeros to it.
//
// The alignment is general.alignment if kv has it (it must then be a UINT32
// power of two); otherwise Write appends general.alignment = 32 to the
// metadata. Tensors are encoded as F32, F16 (round to nearest even) or Q8_0
// (QuantizeQ8_0; Dims[0] must be a multiple of 32).
//
// Errors wrap ErrInvalid: a value of an unsupported Go type, an empty or
// duplicate key or tensor name, a name longer than MaxNameLen bytes, a
// string longer than MaxStringLen, bad dims, len(Data) not matching them, a
// type other than F32/F16/Q8_0, a finite value that overflows F16 or a
// non-finite value in a Q8_0 tensor. An error from w is returned as is
// (wrapped with context); nothing is written before the inputs are checked.
func Write(w io.Writer, kv []KV, tensors []TensorData) error {
	align := uint32(DefaultAlignment)
	seen := make(map[string]bool, len(kv))
	hasAlign := false
	for _, p := range kv {
		if err := checkKV(p); err != nil {
			return err
		}
		if seen[p.Key] {
			return fmt.Errorf("%w: metadata key %q given twice", ErrInvalid, p.Key)
		}
		seen[p.Key] = true
		if p.Key == KeyAlignment {
			a, ok := p.Value.(uint32)
			if !ok || a == 0 || a&(a-1) != 0 {
				return fmt.Errorf("%w: %s must be a UINT32 power of two, got %s %v", ErrInvalid, KeyAlignment, describe(p.Value), p.Value)
			}
			align, hasAlign = a, true
		}
	}
	if !hasAlign {
		kv = append(kv[:len(kv):len(kv)], KV{KeyAlignment, uint32(DefaultAlignment)})
	}

	offsets := make([]uint64, len(tensors))
	sizes := make([]int64, len(tensors))
	names := make(map[string]bool, len(tensors))
	var off uint64
	for i, t := range tensors {
		size, err := checkTensor(t)
		if err != nil {
			return err
		}
		if names[t.Name] {
			return fmt.Errorf("%w: tensor %q given twice", ErrInvalid, t.Name)
		}
		names[t.Name] = true
		offsets[i], sizes[i] = off, size
		off += pad(uint64(size), uint64(align))
	}

	e := &encoder{w: bufio.NewWriterSize(w, 256<<10)}
	e.bytes([]byte(Magic))
	e.u32(Version)
	e.u64(uint64(len(tensors)))
	e.u64(uint64(len(kv)))
	for _, p := range kv {
		e.str(p.Key)
		e.value(p.Value)
	}
	for i, t := range tensors {
		e.str(t.Name)
		e.u32(uint32(len(t.Dims)))
		for _, d := range t.Dims {
			e.u64(uint64(d))
		}
		e.u32(uint32(t.Type))
		e.u64(offsets[i])
	}
	e.zeros(pad(e.n, uint64(align)) - e.n)
	for i, t := range tensors {
		e.bytes(encode(t))
		e.zeros(pad(uint64(sizes[i]), uint64(align)) - uint64(sizes[i]))
	}
	if e.err == nil {
		e.err = e.w.Flush()
	}
	if e.err != nil {
		return fmt.Errorf("gguf: writing: %w", e.err)
	}
	return nil
}

// pad rounds n up to a multiple of align.
func pad(n, align uint64) uint64 { return (n + align - 1) / align * align }

func checkKV(p KV) error {
	if p.Key == "" {
		return fmt.Errorf("%w: empty metadata key", ErrInvalid)
	}
	if len(p.Key) > MaxStringLen {
		return fmt.Errorf("%w: metadata key of %d bytes exceeds %d", ErrInvalid, len(p.Key), MaxStringLen)
	}
	if _, _, ok := TypeOf(p.Value); !ok {
		return fmt.Errorf("%w: metadata key %q has Go type %T, which has no GGUF encoding", ErrInvalid, p.Key, p.Value)
	}
	switch v := p.Value.(type) {
	case string:
		if len(v) > MaxStringLen {
			return fmt.Errorf("%w: metadata key %q: string of %d bytes exceeds %d", ErrInvalid, p.Key, len(v), MaxStringLen)
		}
	case []string:
		for i, s := range v {
			if len(s) > MaxStringLen {
				return fmt.Errorf("%w: metadata key %q element %d: string of %d bytes exceeds %d", ErrInvalid, p.Key, i, len(s), MaxStringLen)
			}
		}
	}
	return nil
}

// checkTensor validates t and returns its encoded size in bytes.
func checkTensor(t TensorData) (int64, error) {
	switch {
	case t.Name == "":
		return 0, fmt.Errorf("%w: empty tensor name", ErrInvalid)
	case len(t.Name) > MaxNameLen:
		return 0, fmt.Errorf("%w: tensor name %q is %d bytes, ggml allows %d", ErrInvalid, t.Name, len(t.Name), MaxNameLen)
	case len(t.Dims) == 0 || len(t.Dims) > MaxDims:
		return 0, fmt.Errorf("%w: tensor %q has %d dims, want 1 to %d", ErrInvalid, t.Name, len(t.Dims), MaxDims)
	}
	n := int64(1)
	for _, d := range t.Dims {
		if d <= 0 {
			return 0, fmt.Errorf("%w: tensor %q has dims %v; each must be positive", ErrInvalid, t.Name, t.Dims)
		}
		if n > math.MaxInt64/d {
			return 0, fmt.Errorf("%w: tensor %q dims %v overflow", ErrInvalid, t.Name, t.Dims)
		}
		n *= d
	}
	if int64(len(t.Data)) != n {
		return 0, fmt.Errorf("%w: tensor %q has %d values, dims %v need %d", ErrInvalid, t.Name, len(t.Data), t.Dims, n)
	}
	switch t.Type {
	case TypeF32:
		return 4 * n, nil
	case TypeF16:
		for i, x := range t.Data {
			// Finite values from f16Overflow up round to Inf.
			if a := math.Abs(x); a >= f16Overflow && a <= math.MaxFloat64 {
				return 0, fmt.Errorf("%w: tensor %q value %d (%g) overflows F16 (max %g)", ErrInvalid, t.Name, i, x, Float16Max)
			}
		}
		return 2 * n, nil
	case TypeQ8_0:
		if t.Dims[0]%Q8_0BlockSize != 0 {
			return 0, fmt.Errorf("%w: tensor %q: Q8_0 needs the innermost dim to be a multiple of %d, dims are %v", ErrInvalid, t.Name, Q8_0BlockSize, t.Dims)
		}
		for i, x := range t.Data {
			a := math.Abs(x)
			if !(a <= math.MaxFloat64) {
				return 0, fmt.Errorf("%w: tensor %q value %d is %g, which Q8_0 cannot represent", ErrInvalid, t.Name, i, x)
			}
			if a/127 >= f16Overflow {
				return 0, fmt.Errorf("%w: tensor %q value %d (%g) makes the Q8_0 scale overflow F16", ErrInvalid, t.Name, i, x)
			}
		}
		return n / Q8_0BlockSize * Q8_0BlockBytes, nil
	}
	return 0, fmt.Errorf("%w: tensor %q: cannot encode type %s; Write encodes F32 (0), F16 (1) and Q8_0 (8)", ErrInvalid, t.Name, t.Type.label())
}

// encode returns t's data in its type's encoding.
func encode(t TensorData) []byte {
	switch t.Type {
	case TypeF32:
		out := make([]byte, 4*len(t.Data))
		for i, x := range t.Data {
			binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(float32(x)))
		}
		return out
	case TypeF16:
		out := make([]byte, 2*len(t.Data))
		for i, x := range t.Data {
			binary.LittleEndian.PutUint16(out[2*i:], Float16Bits(x))
		}
		return out
	}
	return QuantizeQ8_0(t.Data)
}

// encoder writes little-endian fields, remembering the first error and the
// byte count.
type encoder struct {
	w   *bufio.Writer
	n   uint64
	err error
	buf [8]byte
}

func (e *encoder) bytes(p []byte) {
	if e.err != nil {
		return
	}
	_, e.err = e.w.Write(p)
	e.n += uint64(len(p))
}

func (e *encoder) zeros(n uint64) {
	var z [64]byte
	for n > 0 {
		k := min(n, uint64(len(z)))
		e.bytes(z[:k])
		n -= k
	}
}

func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:4], v)
	e.bytes(e.buf[:4])
}

func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:8], v)
	e.bytes(e.buf[:8])
}

func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	if e.err == nil {
		_, e.err = e.w.WriteString(s)
		e.n += uint64(len(s))
	}
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

// value writes a value's type and encoding; v is one of TypeOf's types.
func (e *encoder) value(v any) {
	t, et, _ := TypeOf(v)
	e.u32(uint32(t))
	if t == TypeArray {
		e.u32(uint32(et))
		e.array(v)
		return
	}
	e.scalar(v)
}

func (e *encoder) scalar(v any) {
	switch x := v.(type) {
	case uint8:
		e.bytes([]byte{x})
	case int8:
		e.bytes([]byte{byte(x)})
	case uint16:
		binary.LittleEndian.PutUint16(e.buf[:2], x)
		e.bytes(e.buf[:2])
	case int16:
		binary.LittleEndian.PutUint16(e.buf[:2], uint16(x))
		e.bytes(e.buf[:2])
	case uint32:
		e.u32(x)
	case int32:
		e.u32(uint32(x))
	case float32:
		e.u32(math.Float32bits(x))
	case bool:
		e.bytes([]byte{b2u(x)})
	case string:
		e.str(x)
	case uint64:
		e.u64(x)
	case int64:
		e.u64(uint64(x))
	case float64:
		e.u64(math.Float64bits(x))
	}
}

func (e *encoder) array(v any) {
	switch x := v.(type) {
	case []uint8:
		e.u64(uint64(len(x)))
		e.bytes(x)
	case []int8:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.scalar(y)
		}
	case []uint16:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.scalar(y)
		}
	case []int16:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.scalar(y)
		}
	case []uint32:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.scalar(y)
		}
	case []int32:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.scalar(y)
		}
	case []float32:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.scalar(y)
		}
	case []bool:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.scalar(y)
		}
	case []string:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.scalar(y)
		}
	case []uint64:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.scalar(y)
		}
	case []int64:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.scalar(y)
		}
	case []float64:
		e.u64(uint64(len(x)))
		for _, y := range x {
			e.scalar(y)
		}
	}
}

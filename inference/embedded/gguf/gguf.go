// Package gguf reads and writes GGUF files, the single-file model format of
// ggml and llama.cpp.
//
// The layout follows the GGUF specification (ggml's docs/gguf.md, version 3;
// version 2 has the same layout and is read too):
//
//	magic      "GGUF" (0x47 0x47 0x55 0x46)
//	version    uint32
//	n_tensors  uint64
//	n_kv       uint64
//	kv[n_kv]   key string, value type uint32, value
//	info[n_tensors] name string, n_dims uint32, ne uint64×n_dims,
//	           ggml type uint32, offset uint64 (relative to the data section)
//	padding    to general.alignment (default 32)
//	data       tensor bytes, each tensor starting at a multiple of the alignment
//
// Every integer is little-endian; a string is a uint64 byte length followed
// by its UTF-8 bytes; an array is an element type uint32, a uint64 count and
// the elements.
//
// Read treats its input as hostile: every length and count is checked
// against the bytes that remain before anything is allocated, tensor data
// must lie inside the file, aligned and without overlap, and every failure is
// an error wrapping one of the sentinel errors below, never a panic.
//
// Tensor data can be decoded to float64 from F32, F16, BF16 and Q8_0; Write
// encodes float64 tensors as F32, F16 or Q8_0.
package gguf

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// Sentinel errors. Every error this package returns wraps exactly one of
// them (test with errors.Is) and adds context: the key, tensor, offset or
// value concerned.
var (
	// ErrBadMagic: the input does not start with "GGUF".
	ErrBadMagic = errors.New("gguf: not a GGUF file (bad magic)")
	// ErrTruncated: the input ends before a field or a tensor's data does.
	ErrTruncated = errors.New("gguf: file truncated")
	// ErrUnsupported: a valid file uses something this package does not
	// handle (a version other than 2 or 3, a tensor type it cannot decode,
	// nested arrays).
	ErrUnsupported = errors.New("gguf: unsupported")
	// ErrMalformed: the file breaks the format's rules (absurd lengths,
	// unknown value types, duplicate keys or tensor names, misaligned or
	// overlapping tensor data, dims whose product overflows).
	ErrMalformed = errors.New("gguf: malformed file")
	// ErrNotFound: a metadata key or tensor is absent.
	ErrNotFound = errors.New("gguf: not found")
	// ErrWrongType: a metadata value has a type the accessor cannot return.
	ErrWrongType = errors.New("gguf: wrong metadata type")
	// ErrInvalid: Write was given data it cannot encode.
	ErrInvalid = errors.New("gguf: invalid input to writer")
)

// Magic is the file's first four bytes, "GGUF".
const Magic = "GGUF"

// Version is the format version Write produces.
const Version = 3

// DefaultAlignment is the tensor data alignment in bytes when the file has
// no general.alignment key (GGUF specification).
const DefaultAlignment = 32

// KeyAlignment is the metadata key (UINT32) that overrides DefaultAlignment.
const KeyAlignment = "general.alignment"

// MaxDims is the most dims a tensor may have (ggml's GGML_MAX_DIMS).
const MaxDims = 4

// MaxNameLen is the longest tensor name in bytes that ggml accepts
// (GGML_MAX_NAME is 64 including the terminating NUL).
const MaxNameLen = 63

// MaxStringLen caps any one string in a file, 16 MiB. Real files hold
// strings up to a few MiB (tokenizer.huggingface.json); the cap exists so a
// hostile length cannot request a giant allocation even before the bytes
// remaining are checked.
const MaxStringLen = 16 << 20

// ValueType is a metadata value's type (the specification's gguf_metadata_value_type).
type ValueType uint32

// Metadata value types, with their numbers in the file.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{"UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64"}

// String is the specification's name, e.g. "UINT32", or "type(N)" for an
// unknown number.
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// size is the encoded size in bytes of a scalar of type t; 0 for STRING,
// ARRAY and unknown types.
func (t ValueType) size() int {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// KV is one metadata key-value pair. Value holds one of the Go types
// uint8, int8, uint16, int16, uint32, int32, float32, bool, string, uint64,
// int64, float64 (the scalar GGUF types, in that order) or a slice of one of
// them (a GGUF array). Read produces exactly these types and Write accepts
// exactly these types.
type KV struct {
	Key   string
	Value any
}

// TypeOf reports the GGUF type of a KV value and, for a slice, its element
// type. ok is false for a Go type that has no GGUF encoding.
func TypeOf(v any) (t, elem ValueType, ok bool) {
	switch v.(type) {
	case uint8:
		return TypeUint8, 0, true
	case int8:
		return TypeInt8, 0, true
	case uint16:
		return TypeUint16, 0, true
	case int16:
		return TypeInt16, 0, true
	case uint32:
		return TypeUint32, 0, true
	case int32:
		return TypeInt32, 0, true
	case float32:
		return TypeFloat32, 0, true
	case bool:
		return TypeBool, 0, true
	case string:
		return TypeString, 0, true
	case uint64:
		return TypeUint64, 0, true
	case int64:
		return TypeInt64, 0, true
	case float64:
		return TypeFloat64, 0, true
	case []uint8:
		return TypeArray, TypeUint8, true
	case []int8:
		return TypeArray, TypeInt8, true
	case []uint16:
		return TypeArray, TypeUint16, true
	case []int16:
		return TypeArray, TypeInt16, true
	case []uint32:
		return TypeArray, TypeUint32, true
	case []int32:
		return TypeArray, TypeInt32, true
	case []float32:
		return TypeArray, TypeFloat32, true
	case []bool:
		return TypeArray, TypeBool, true
	case []string:
		return TypeArray, TypeString, true
	case []uint64:
		return TypeArray, TypeUint64, true
	case []int64:
		return TypeArray, TypeInt64, true
	case []float64:
		return TypeArray, TypeFloat64, true
	}
	return 0, 0, false
}

func describe(v any) string {
	t, e, ok := TypeOf(v)
	switch {
	case !ok:
		return fmt.Sprintf("%T", v)
	case t == TypeArray:
		return "ARRAY[" + e.String() + "]"
	}
	return t.String()
}

// Type is a tensor's ggml type (enum ggml_type in ggml.h).
type Type uint32

// ggml tensor types. Numbers 4, 5, 31–33 and 36–38 belonged to types ggml
// has removed; Read rejects them.
const (
	TypeF32     Type = 0
	TypeF16     Type = 1
	TypeQ4_0    Type = 2
	TypeQ4_1    Type = 3
	TypeQ5_0    Type = 6
	TypeQ5_1    Type = 7
	TypeQ8_0    Type = 8
	TypeQ8_1    Type = 9
	TypeQ2_K    Type = 10
	TypeQ3_K    Type = 11
	TypeQ4_K    Type = 12
	TypeQ5_K    Type = 13
	TypeQ6_K    Type = 14
	TypeQ8_K    Type = 15
	TypeIQ2_XXS Type = 16
	TypeIQ2_XS  Type = 17
	TypeIQ3_XXS Type = 18
	TypeIQ1_S   Type = 19
	TypeIQ4_NL  Type = 20
	TypeIQ3_S   Type = 21
	TypeIQ2_S   Type = 22
	TypeIQ4_XS  Type = 23
	TypeI8      Type = 24
	TypeI16     Type = 25
	TypeI32     Type = 26
	TypeI64     Type = 27
	TypeF64     Type = 28
	TypeIQ1_M   Type = 29
	TypeBF16    Type = 30
	TypeTQ1_0   Type = 34
	TypeTQ2_0   Type = 35
	TypeMXFP4   Type = 39
)

// typeTraits is a ggml type's name, block size in elements and block size
// in bytes (ggml.c's type_traits; the K- and IQ-quants use super-blocks of
// QK_K = 256). block == 0 marks a removed type.
type typeTraits struct {
	name         string
	block, bytes int64
}

var traits = map[Type]typeTraits{
	TypeF32: {"F32", 1, 4}, TypeF16: {"F16", 1, 2},
	TypeQ4_0: {"Q4_0", 32, 18}, TypeQ4_1: {"Q4_1", 32, 20},
	4: {"Q4_2", 0, 0}, 5: {"Q4_3", 0, 0},
	TypeQ5_0: {"Q5_0", 32, 22}, TypeQ5_1: {"Q5_1", 32, 24},
	TypeQ8_0: {"Q8_0", 32, 34}, TypeQ8_1: {"Q8_1", 32, 36},
	TypeQ2_K: {"Q2_K", 256, 84}, TypeQ3_K: {"Q3_K", 256, 110},
	TypeQ4_K: {"Q4_K", 256, 144}, TypeQ5_K: {"Q5_K", 256, 176},
	TypeQ6_K: {"Q6_K", 256, 210}, TypeQ8_K: {"Q8_K", 256, 292},
	TypeIQ2_XXS: {"IQ2_XXS", 256, 66}, TypeIQ2_XS: {"IQ2_XS", 256, 74},
	TypeIQ3_XXS: {"IQ3_XXS", 256, 98}, TypeIQ1_S: {"IQ1_S", 256, 50},
	TypeIQ4_NL: {"IQ4_NL", 32, 18}, TypeIQ3_S: {"IQ3_S", 256, 110},
	TypeIQ2_S: {"IQ2_S", 256, 82}, TypeIQ4_XS: {"IQ4_XS", 256, 136},
	TypeI8: {"I8", 1, 1}, TypeI16: {"I16", 1, 2}, TypeI32: {"I32", 1, 4},
	TypeI64: {"I64", 1, 8}, TypeF64: {"F64", 1, 8},
	TypeIQ1_M: {"IQ1_M", 256, 56}, TypeBF16: {"BF16", 1, 2},
	31: {"Q4_0_4_4", 0, 0}, 32: {"Q4_0_4_8", 0, 0}, 33: {"Q4_0_8_8", 0, 0},
	TypeTQ1_0: {"TQ1_0", 256, 54}, TypeTQ2_0: {"TQ2_0", 256, 66},
	36: {"IQ4_NL_4_4", 0, 0}, 37: {"IQ4_NL_4_8", 0, 0}, 38: {"IQ4_NL_8_8", 0, 0},
	TypeMXFP4: {"MXFP4", 32, 17},
}

// String is ggml's name for the type, e.g. "Q4_K", or "type(N)" for a
// number ggml does not define.
func (t Type) String() string {
	if tr, ok := traits[t]; ok {
		return tr.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// label is "Q4_K (12)", the form errors use.
func (t Type) label() string { return fmt.Sprintf("%s (%d)", t, uint32(t)) }

// BlockSize returns the number of elements in one block of type t (1 for
// the plain types, 32 or 256 for quantized ones) and the block's size in
// bytes; ok is false for an unknown or removed type.
func (t Type) BlockSize() (elems, bytes int64, ok bool) {
	tr, ok := traits[t]
	if !ok || tr.block == 0 {
		return 0, 0, false
	}
	return tr.block, tr.bytes, true
}

// Decodable reports whether TensorFloat64 can decode tensors of type t:
// F32, F16, BF16 and Q8_0.
func (t Type) Decodable() bool {
	switch t {
	case TypeF32, TypeF16, TypeBF16, TypeQ8_0:
		return true
	}
	return false
}

// TensorInfo describes one tensor of a file.
type TensorInfo struct {
	Name string
	// Dims are ggml's ne: Dims[0] is the innermost, contiguous dimension
	// (the columns of a row-major matrix), Dims[1] the rows.
	Dims   []int64
	Type   Type
	Offset uint64 // bytes from the start of the data section
	Size   int64  // bytes of data
}

// Elements is the product of Dims (1 for a tensor with no dims).
func (t TensorInfo) Elements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// File is a parsed GGUF file: its header, metadata and tensor directory.
// Tensor data stays in the underlying reader and is read on demand by
// TensorFloat64 and TensorBytes. A File is safe for concurrent reads when
// its io.ReaderAt is (an *os.File is).
type File struct {
	Version    uint32
	KVs        []KV         // metadata in file order
	Tensors    []TensorInfo // tensor directory in file order
	Alignment  uint32       // bytes; general.alignment or DefaultAlignment
	DataOffset int64        // absolute offset of the data section in bytes

	r       io.ReaderAt
	size    int64
	closer  io.Closer
	kvIndex map[string]int
	tIndex  map[string]int
}

// Close releases the file opened by Open; it is a no-op for a File from
// Read.
func (f *File) Close() error {
	if f.closer == nil {
		return nil
	}
	c := f.closer
	f.closer = nil
	return c.Close()
}

// Open opens and parses the GGUF file at path. The caller must Close the
// returned File. Errors are those of os.Open and Read.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, err
	}
	f, err := Read(fh, st.Size())
	if err != nil {
		fh.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.closer = fh
	return f, nil
}

// Get returns the value of key (see KV for its Go types) and whether the
// file has it.
func (f *File) Get(key string) (any, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return nil, false
	}
	return f.KVs[i].Value, true
}

// Has reports whether the file has the metadata key.
func (f *File) Has(key string) bool {
	_, ok := f.kvIndex[key]
	return ok
}

func (f *File) lookup(key string) (any, error) {
	v, ok := f.Get(key)
	if !ok {
		return nil, fmt.Errorf("gguf: metadata key %q: %w", key, ErrNotFound)
	}
	return v, nil
}

func wrongType(key string, v any, want string) error {
	return fmt.Errorf("%w: metadata key %q is %s, want %s", ErrWrongType, key, describe(v), want)
}

// String returns a STRING value. Errors wrap ErrNotFound or ErrWrongType.
func (f *File) String(key string) (string, error) {
	v, err := f.lookup(key)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", wrongType(key, v, "STRING")
	}
	return s, nil
}

// Bool returns a BOOL value. Errors wrap ErrNotFound or ErrWrongType.
func (f *File) Bool(key string) (bool, error) {
	v, err := f.lookup(key)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, wrongType(key, v, "BOOL")
	}
	return b, nil
}

// asInt64 converts any integer scalar; ok is false for other types, fits
// false for a uint64 above math.MaxInt64.
func asInt64(v any) (n int64, ok, fits bool) {
	switch x := v.(type) {
	case uint8:
		return int64(x), true, true
	case int8:
		return int64(x), true, true
	case uint16:
		return int64(x), true, true
	case int16:
		return int64(x), true, true
	case uint32:
		return int64(x), true, true
	case int32:
		return int64(x), true, true
	case int64:
		return x, true, true
	case uint64:
		if x > math.MaxInt64 {
			return 0, true, false
		}
		return int64(x), true, true
	}
	return 0, false, false
}

// Uint returns an integer value of any GGUF integer type as uint64.
// Errors wrap ErrNotFound, or ErrWrongType for a non-integer or negative
// value.
func (f *File) Uint(key string) (uint64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	if u, ok := v.(uint64); ok {
		return u, nil
	}
	n, ok, _ := asInt64(v)
	if !ok {
		return 0, wrongType(key, v, "an unsigned integer")
	}
	if n < 0 {
		return 0, fmt.Errorf("%w: metadata key %q is negative (%d), want an unsigned integer", ErrWrongType, key, n)
	}
	return uint64(n), nil
}

// Int returns an integer value of any GGUF integer type as int64. Errors
// wrap ErrNotFound, or ErrWrongType for a non-integer or a UINT64 above
// math.MaxInt64.
func (f *File) Int(key string) (int64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	n, ok, fits := asInt64(v)
	switch {
	case !ok:
		return 0, wrongType(key, v, "an integer")
	case !fits:
		return 0, fmt.Errorf("%w: metadata key %q (%d) overflows int64", ErrWrongType, key, v)
	}
	return n, nil
}

// Float returns a FLOAT32 or FLOAT64 value as float64 (exactly). Errors
// wrap ErrNotFound or ErrWrongType.
func (f *File) Float(key string) (float64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	}
	return 0, wrongType(key, v, "FLOAT32 or FLOAT64")
}

// Strings returns an ARRAY of STRING. The slice is the File's own; do not
// modify it. Errors wrap ErrNotFound or ErrWrongType.
func (f *File) Strings(key string) ([]string, error) {
	v, err := f.lookup(key)
	if err != nil {
		return nil, err
	}
	s, ok := v.([]string)
	if !ok {
		return nil, wrongType(key, v, "ARRAY[STRING]")
	}
	return s, nil
}

// Int32s returns an ARRAY of any integer type whose values fit in int32,
// as a new slice. Errors wrap ErrNotFound or ErrWrongType (non-integer
// elements, or a value out of int32's range, named by index).
func (f *File) Int32s(key string) ([]int32, error) {
	v, err := f.lookup(key)
	if err != nil {
		return nil, err
	}
	var out []int32
	conv := func(n int) { out = make([]int32, n) }
	switch x := v.(type) {
	case []int32:
		return append([]int32(nil), x...), nil
	case []uint8:
		conv(len(x))
		for i, e := range x {
			out[i] = int32(e)
		}
	case []int8:
		conv(len(x))
		for i, e := range x {
			out[i] = int32(e)
		}
	case []uint16:
		conv(len(x))
		for i, e := range x {
			out[i] = int32(e)
		}
	case []int16:
		conv(len(x))
		for i, e := range x {
			out[i] = int32(e)
		}
	case []uint32:
		conv(len(x))
		for i, e := range x {
			if e > math.MaxInt32 {
				return nil, fmt.Errorf("%w: metadata key %q element %d (%d) overflows int32", ErrWrongType, key, i, e)
			}
			out[i] = int32(e)
		}
	case []int64:
		conv(len(x))
		for i, e := range x {
			if e > math.MaxInt32 || e < math.MinInt32 {
				return nil, fmt.Errorf("%w: metadata key %q element %d (%d) overflows int32", ErrWrongType, key, i, e)
			}
			out[i] = int32(e)
		}
	case []uint64:
		conv(len(x))
		for i, e := range x {
			if e > math.MaxInt32 {
				return nil, fmt.Errorf("%w: metadata key %q element %d (%d) overflows int32", ErrWrongType, key, i, e)
			}
			out[i] = int32(e)
		}
	default:
		return nil, wrongType(key, v, "an ARRAY of integers")
	}
	return out, nil
}

// Float64s returns an ARRAY of FLOAT32 or FLOAT64 as a new []float64.
// Errors wrap ErrNotFound or ErrWrongType.
func (f *File) Float64s(key string) ([]float64, error) {
	v, err := f.lookup(key)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case []float64:
		return append([]float64(nil), x...), nil
	case []float32:
		out := make([]float64, len(x))
		for i, e := range x {
			out[i] = float64(e)
		}
		return out, nil
	}
	return nil, wrongType(key, v, "ARRAY[FLOAT32] or ARRAY[FLOAT64]")
}

// Tensor returns the named tensor's info and whether the file has it.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	i, ok := f.tIndex[name]
	if !ok {
		return TensorInfo{}, false
	}
	return f.Tensors[i], true
}

// TensorBytes returns the named tensor's raw data (TensorInfo.Size bytes).
// Errors wrap ErrNotFound, or ErrTruncated when the reader ends early.
func (f *File) TensorBytes(name string) ([]byte, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("gguf: tensor %q: %w", name, ErrNotFound)
	}
	buf := make([]byte, t.Size)
	if err := f.readData(t, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

func (f *File) readData(t TensorInfo, buf []byte) error {
	off := f.DataOffset + int64(t.Offset)
	n, err := f.r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: tensor %q: reading %d bytes at offset %d: %w", ErrTruncated, t.Name, len(buf), off, err)
}

// TensorFloat64 decodes the named tensor into a new []float64 of
// Elements() values, in ggml order (Dims[0] fastest). Errors: ErrNotFound,
// ErrUnsupported for a type other than F32, F16, BF16 and Q8_0 (naming the
// tensor and type, e.g. "Q4_K (12)"), ErrTruncated.
func (f *File) TensorFloat64(name string) ([]float64, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("gguf: tensor %q: %w", name, ErrNotFound)
	}
	if !t.Type.Decodable() {
		return nil, unsupportedType(t)
	}
	dst := make([]float64, t.Elements())
	if err := f.ReadFloat64(name, dst); err != nil {
		return nil, err
	}
	return dst, nil
}

func unsupportedType(t TensorInfo) error {
	return fmt.Errorf("%w: tensor %q has type %s; decodable types are F32 (0), F16 (1), Q8_0 (8) and BF16 (30)",
		ErrUnsupported, t.Name, t.Type.label())
}

// ReadFloat64 decodes the named tensor into dst, which must have exactly
// Elements() values; it lets callers decode into memory they already hold.
// Errors are those of TensorFloat64, plus ErrInvalid for a wrong len(dst).
func (f *File) ReadFloat64(name string, dst []float64) error {
	t, ok := f.Tensor(name)
	if !ok {
		return fmt.Errorf("gguf: tensor %q: %w", name, ErrNotFound)
	}
	if !t.Type.Decodable() {
		return unsupportedType(t)
	}
	if int64(len(dst)) != t.Elements() {
		return fmt.Errorf("%w: tensor %q has %d elements, destination holds %d", ErrInvalid, name, t.Elements(), len(dst))
	}
	// Decode in chunks of whole blocks so a large tensor needs only a
	// bounded scratch buffer besides dst.
	elems, bytes, _ := t.Type.BlockSize()
	const chunkBytes = 1 << 20
	blocksPerChunk := max(chunkBytes/bytes, 1)
	buf := make([]byte, min(t.Size, blocksPerChunk*bytes))
	sub := t
	for done := int64(0); done < t.Size; {
		n := min(int64(len(buf)), t.Size-done)
		sub.Offset = t.Offset + uint64(done)
		if err := f.readData(sub, buf[:n]); err != nil {
			return err
		}
		first := done / bytes * elems
		decode(t.Type, dst[first:first+n/bytes*elems], buf[:n])
		done += n
	}
	return nil
}

// decode converts src (whole blocks of type t) into dst.
func decode(t Type, dst []float64, src []byte) {
	switch t {
	case TypeF32:
		for i := range dst {
			dst[i] = float64(math.Float32frombits(le32(src[4*i:])))
		}
	case TypeF16:
		tab := f16Table()
		for i := range dst {
			dst[i] = tab[le16(src[2*i:])]
		}
	case TypeBF16:
		for i := range dst {
			dst[i] = BFloat16ToFloat64(le16(src[2*i:]))
		}
	case TypeQ8_0:
		dequantizeQ8_0(dst, src)
	}
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

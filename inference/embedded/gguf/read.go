package gguf

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"sort"
)

// Smallest encodings, used to bound counts by the bytes remaining before
// anything is allocated.
const (
	minKVBytes     = 8 + 4 + 1     // empty key, type, one-byte value
	minTensorBytes = 8 + 4 + 4 + 8 // empty name, n_dims 0, type, offset
)

// decoder reads the header region sequentially and knows how many bytes
// remain, so that every length can be checked before it is used.
type decoder struct {
	r    *bufio.Reader
	pos  int64 // bytes consumed
	size int64 // total input size
	buf  [8]byte
}

func (d *decoder) remaining() int64 { return d.size - d.pos }

// need fails with ErrTruncated unless n more bytes remain.
func (d *decoder) need(n uint64, what string) error {
	if n > uint64(d.remaining()) {
		return fmt.Errorf("%w: %s needs %d bytes at offset %d, %d remain", ErrTruncated, what, n, d.pos, d.remaining())
	}
	return nil
}

// read fills p, which the caller has checked with need.
func (d *decoder) read(p []byte, what string) error {
	if err := d.need(uint64(len(p)), what); err != nil {
		return err
	}
	if _, err := io.ReadFull(d.r, p); err != nil {
		return fmt.Errorf("%w: %s at offset %d: %w", ErrTruncated, what, d.pos, err)
	}
	d.pos += int64(len(p))
	return nil
}

func (d *decoder) u32(what string) (uint32, error) {
	if err := d.read(d.buf[:4], what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(d.buf[:4]), nil
}

func (d *decoder) u64(what string) (uint64, error) {
	if err := d.read(d.buf[:8], what); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(d.buf[:8]), nil
}

func (d *decoder) str(what string) (string, error) {
	n, err := d.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > MaxStringLen {
		return "", fmt.Errorf("%w: %s is %d bytes long at offset %d, limit %d", ErrMalformed, what, n, d.pos-8, MaxStringLen)
	}
	if err := d.need(n, what); err != nil {
		return "", err
	}
	b := make([]byte, n)
	if err := d.read(b, what); err != nil {
		return "", err
	}
	return string(b), nil
}

// Read parses a GGUF file of size bytes from r: header, metadata and tensor
// directory; tensor data is read later, on demand. It checks the whole
// layout: magic, version (2 or 3), that every length and count fits in the
// remaining bytes, that keys and tensor names are unique, that
// general.alignment is a UINT32 power of two, that tensors have at most
// MaxDims dims whose product does not overflow and whose innermost dim is a
// multiple of the type's block size, and that each tensor's data is aligned,
// inside the file and overlaps no other.
//
// Errors wrap ErrBadMagic, ErrTruncated, ErrUnsupported or ErrMalformed.
func Read(r io.ReaderAt, size int64) (*File, error) {
	if size < 0 {
		return nil, fmt.Errorf("%w: negative size %d", ErrMalformed, size)
	}
	d := &decoder{r: bufio.NewReaderSize(io.NewSectionReader(r, 0, size), 64<<10), size: size}
	var magic [4]byte
	if size < 4 {
		// Too short for the magic: truncated if what is there starts it.
		n, _ := r.ReadAt(magic[:size], 0)
		if string(magic[:n]) == Magic[:n] {
			return nil, fmt.Errorf("%w: %d bytes, too short for the magic", ErrTruncated, size)
		}
		return nil, fmt.Errorf("%w: first bytes are %q", ErrBadMagic, magic[:n])
	}
	if err := d.read(magic[:], "magic"); err != nil {
		return nil, err
	}
	if string(magic[:]) != Magic {
		return nil, fmt.Errorf("%w: first bytes are %q", ErrBadMagic, magic[:])
	}
	f := &File{r: r, size: size, kvIndex: map[string]int{}, tIndex: map[string]int{}}
	var err error
	if f.Version, err = d.u32("version"); err != nil {
		return nil, err
	}
	if f.Version != 2 && f.Version != 3 {
		return nil, fmt.Errorf("%w: GGUF version %d (this reader handles versions 2 and 3)", ErrUnsupported, f.Version)
	}
	nTensors, err := d.u64("tensor count")
	if err != nil {
		return nil, err
	}
	nKV, err := d.u64("metadata count")
	if err != nil {
		return nil, err
	}
	// Bound both counts by the bytes that remain before allocating.
	if nKV > uint64(d.remaining())/minKVBytes {
		return nil, fmt.Errorf("%w: %d metadata pairs cannot fit in the %d bytes that remain", ErrTruncated, nKV, d.remaining())
	}
	if nTensors > uint64(d.remaining())/minTensorBytes {
		return nil, fmt.Errorf("%w: %d tensors cannot fit in the %d bytes that remain", ErrTruncated, nTensors, d.remaining())
	}
	if nKV > 0 {
		f.KVs = make([]KV, 0, min(nKV, 1024))
	}
	for i := uint64(0); i < nKV; i++ {
		kv, err := d.kv(i)
		if err != nil {
			return nil, err
		}
		if _, dup := f.kvIndex[kv.Key]; dup {
			return nil, fmt.Errorf("%w: metadata key %q appears twice", ErrMalformed, kv.Key)
		}
		f.kvIndex[kv.Key] = len(f.KVs)
		f.KVs = append(f.KVs, kv)
	}
	f.Alignment = DefaultAlignment
	if v, ok := f.Get(KeyAlignment); ok {
		a, isU32 := v.(uint32)
		if !isU32 {
			return nil, fmt.Errorf("%w: %s is %s, want UINT32", ErrMalformed, KeyAlignment, describe(v))
		}
		if a == 0 || a&(a-1) != 0 {
			return nil, fmt.Errorf("%w: %s is %d, not a power of two", ErrMalformed, KeyAlignment, a)
		}
		f.Alignment = a
	}
	if nTensors > 0 {
		f.Tensors = make([]TensorInfo, 0, nTensors)
	}
	for i := uint64(0); i < nTensors; i++ {
		t, err := d.tensorInfo(i)
		if err != nil {
			return nil, err
		}
		if _, dup := f.tIndex[t.Name]; dup {
			return nil, fmt.Errorf("%w: tensor %q appears twice", ErrMalformed, t.Name)
		}
		f.tIndex[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
	}
	// The data section starts at the next multiple of the alignment.
	align := int64(f.Alignment)
	f.DataOffset = (d.pos + align - 1) / align * align
	if err := f.checkLayout(); err != nil {
		return nil, err
	}
	return f, nil
}

// checkLayout verifies that every tensor's data is aligned, inside the file
// and disjoint from the others.
func (f *File) checkLayout() error {
	avail := f.size - f.DataOffset // may be negative when there is no data
	order := make([]int, 0, len(f.Tensors))
	for i, t := range f.Tensors {
		if t.Offset%uint64(f.Alignment) != 0 {
			return fmt.Errorf("%w: tensor %q data offset %d is not a multiple of the alignment %d", ErrMalformed, t.Name, t.Offset, f.Alignment)
		}
		if avail < 0 || t.Offset > uint64(avail) || uint64(t.Size) > uint64(avail)-t.Offset {
			return fmt.Errorf("%w: tensor %q data [%d, %d+%d) of the data section at %d lies beyond the file's %d bytes",
				ErrTruncated, t.Name, t.Offset, t.Offset, t.Size, f.DataOffset, f.size)
		}
		if t.Size > 0 {
			order = append(order, i)
		}
	}
	sort.Slice(order, func(a, b int) bool { return f.Tensors[order[a]].Offset < f.Tensors[order[b]].Offset })
	for k := 1; k < len(order); k++ {
		prev, cur := f.Tensors[order[k-1]], f.Tensors[order[k]]
		if prev.Offset+uint64(prev.Size) > cur.Offset {
			return fmt.Errorf("%w: data of tensors %q [%d, %d) and %q [%d, %d) overlap", ErrMalformed,
				prev.Name, prev.Offset, prev.Offset+uint64(prev.Size), cur.Name, cur.Offset, cur.Offset+uint64(cur.Size))
		}
	}
	return nil
}

func (d *decoder) kv(i uint64) (KV, error) {
	key, err := d.str(fmt.Sprintf("metadata key #%d", i))
	if err != nil {
		return KV{}, err
	}
	t, err := d.u32(fmt.Sprintf("type of metadata key %q", key))
	if err != nil {
		return KV{}, err
	}
	v, err := d.value(ValueType(t), key)
	if err != nil {
		return KV{}, err
	}
	return KV{Key: key, Value: v}, nil
}

func (d *decoder) value(t ValueType, key string) (any, error) {
	what := fmt.Sprintf("value of metadata key %q", key)
	switch t {
	case TypeString:
		return d.str(what)
	case TypeArray:
		return d.array(key)
	}
	n := t.size()
	if n == 0 {
		return nil, fmt.Errorf("%w: metadata key %q has unknown value type %d", ErrMalformed, key, uint32(t))
	}
	if err := d.read(d.buf[:n], what); err != nil {
		return nil, err
	}
	return scalar(t, d.buf[:n], key)
}

// scalar decodes one fixed-size value of type t from b.
func scalar(t ValueType, b []byte, key string) (any, error) {
	switch t {
	case TypeUint8:
		return b[0], nil
	case TypeInt8:
		return int8(b[0]), nil
	case TypeUint16:
		return binary.LittleEndian.Uint16(b), nil
	case TypeInt16:
		return int16(binary.LittleEndian.Uint16(b)), nil
	case TypeUint32:
		return binary.LittleEndian.Uint32(b), nil
	case TypeInt32:
		return int32(binary.LittleEndian.Uint32(b)), nil
	case TypeFloat32:
		return math.Float32frombits(binary.LittleEndian.Uint32(b)), nil
	case TypeBool:
		if b[0] > 1 {
			return nil, fmt.Errorf("%w: metadata key %q has BOOL byte %d, want 0 or 1", ErrMalformed, key, b[0])
		}
		return b[0] == 1, nil
	case TypeUint64:
		return binary.LittleEndian.Uint64(b), nil
	case TypeInt64:
		return int64(binary.LittleEndian.Uint64(b)), nil
	case TypeFloat64:
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), nil
	}
	return nil, fmt.Errorf("%w: metadata key %q has unknown value type %d", ErrMalformed, key, uint32(t))
}

func (d *decoder) array(key string) (any, error) {
	et, err := d.u32(fmt.Sprintf("element type of metadata array %q", key))
	if err != nil {
		return nil, err
	}
	t := ValueType(et)
	n, err := d.u64(fmt.Sprintf("length of metadata array %q", key))
	if err != nil {
		return nil, err
	}
	switch t {
	case TypeArray:
		return nil, fmt.Errorf("%w: metadata key %q is an array of arrays (ggml does not read them either)", ErrUnsupported, key)
	case TypeString:
		// Each string takes at least its 8-byte length.
		if n > uint64(d.remaining())/8 {
			return nil, fmt.Errorf("%w: metadata array %q of %d strings cannot fit in the %d bytes that remain", ErrTruncated, key, n, d.remaining())
		}
		out := make([]string, n)
		for i := range out {
			// A constant description: formatting one per element would
			// cost an allocation per token of a vocabulary.
			if out[i], err = d.str("string"); err != nil {
				return nil, fmt.Errorf("element %d of metadata array %q: %w", i, key, err)
			}
		}
		return out, nil
	}
	es := t.size()
	if es == 0 {
		return nil, fmt.Errorf("%w: metadata array %q has unknown element type %d", ErrMalformed, key, et)
	}
	if n > uint64(d.remaining())/uint64(es) {
		return nil, fmt.Errorf("%w: metadata array %q of %d %s cannot fit in the %d bytes that remain", ErrTruncated, key, n, t, d.remaining())
	}
	raw := make([]byte, n*uint64(es))
	if err := d.read(raw, fmt.Sprintf("metadata array %q", key)); err != nil {
		return nil, err
	}
	return decodeArray(t, raw, int(n), key)
}

func decodeArray(t ValueType, raw []byte, n int, key string) (any, error) {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return raw, nil
	case TypeInt8:
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(raw[i])
		}
		return out, nil
	case TypeUint16:
		out := make([]uint16, n)
		for i := range out {
			out[i] = le.Uint16(raw[2*i:])
		}
		return out, nil
	case TypeInt16:
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(le.Uint16(raw[2*i:]))
		}
		return out, nil
	case TypeUint32:
		out := make([]uint32, n)
		for i := range out {
			out[i] = le.Uint32(raw[4*i:])
		}
		return out, nil
	case TypeInt32:
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(le.Uint32(raw[4*i:]))
		}
		return out, nil
	case TypeFloat32:
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
		}
		return out, nil
	case TypeBool:
		out := make([]bool, n)
		for i := range out {
			if raw[i] > 1 {
				return nil, fmt.Errorf("%w: metadata array %q element %d has BOOL byte %d, want 0 or 1", ErrMalformed, key, i, raw[i])
			}
			out[i] = raw[i] == 1
		}
		return out, nil
	case TypeUint64:
		out := make([]uint64, n)
		for i := range out {
			out[i] = le.Uint64(raw[8*i:])
		}
		return out, nil
	case TypeInt64:
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(le.Uint64(raw[8*i:]))
		}
		return out, nil
	case TypeFloat64:
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(le.Uint64(raw[8*i:]))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%w: metadata array %q has unknown element type %d", ErrMalformed, key, uint32(t))
}

func (d *decoder) tensorInfo(i uint64) (TensorInfo, error) {
	name, err := d.str(fmt.Sprintf("name of tensor #%d", i))
	if err != nil {
		return TensorInfo{}, err
	}
	if len(name) > MaxNameLen {
		return TensorInfo{}, fmt.Errorf("%w: tensor #%d name is %d bytes, ggml allows %d", ErrMalformed, i, len(name), MaxNameLen)
	}
	nd, err := d.u32(fmt.Sprintf("dim count of tensor %q", name))
	if err != nil {
		return TensorInfo{}, err
	}
	if nd > MaxDims {
		return TensorInfo{}, fmt.Errorf("%w: tensor %q has %d dims, ggml allows %d", ErrMalformed, name, nd, MaxDims)
	}
	t := TensorInfo{Name: name, Dims: make([]int64, nd)}
	elems := uint64(1)
	overflow := false
	for j := range t.Dims {
		v, err := d.u64(fmt.Sprintf("dim %d of tensor %q", j, name))
		if err != nil {
			return TensorInfo{}, err
		}
		if v > math.MaxInt64 {
			return TensorInfo{}, fmt.Errorf("%w: tensor %q dim %d is %d, above int64's range", ErrMalformed, name, j, v)
		}
		t.Dims[j] = int64(v)
		hi, lo := bits.Mul64(elems, v)
		if hi != 0 || lo > math.MaxInt64 {
			overflow = true
		}
		elems = lo
	}
	if overflow {
		return TensorInfo{}, fmt.Errorf("%w: tensor %q dims %v: element count overflows int64", ErrMalformed, name, t.Dims)
	}
	typ, err := d.u32(fmt.Sprintf("type of tensor %q", name))
	if err != nil {
		return TensorInfo{}, err
	}
	t.Type = Type(typ)
	be, bb, ok := t.Type.BlockSize()
	if !ok {
		return TensorInfo{}, fmt.Errorf("%w: tensor %q has unknown or removed ggml type %s", ErrUnsupported, name, t.Type.label())
	}
	inner := uint64(1)
	if nd > 0 {
		inner = uint64(t.Dims[0])
	}
	if inner%uint64(be) != 0 {
		return TensorInfo{}, fmt.Errorf("%w: tensor %q of type %s has innermost dim %d, not a multiple of its block size %d",
			ErrMalformed, name, t.Type.label(), inner, be)
	}
	hi, size := bits.Mul64(elems/uint64(be), uint64(bb))
	if hi != 0 || size > math.MaxInt64 {
		return TensorInfo{}, fmt.Errorf("%w: tensor %q dims %v: byte size overflows int64", ErrMalformed, name, t.Dims)
	}
	t.Size = int64(size)
	if t.Offset, err = d.u64(fmt.Sprintf("data offset of tensor %q", name)); err != nil {
		return TensorInfo{}, err
	}
	return t, nil
}

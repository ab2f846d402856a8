package protocol

import (
	"encoding/binary"
	"math"
	"strconv"
)

// mpReader decodes the MessagePack objects of a frame that validateMsgpack has
// accepted. It still checks every bound, so it never panics on other input,
// but it relies on the validator for UTF-8 and nesting checks.
//
// Typed getters accept nil as the zero value (an explicit "absent"), and
// integers in any width or signedness as long as the value fits the target.
type mpReader struct {
	b   []byte
	off int
}

// fieldDecoder is implemented by pointers to this package's payload types.
type fieldDecoder interface {
	// decodeField decodes the value of key (the reader is positioned on it),
	// skipping keys it does not know.
	decodeField(r *mpReader, key []byte) *Error
}

// decodeMsgpackPayload decodes a payload map (or nil) into v.
func decodeMsgpackPayload(b []byte, what string, v fieldDecoder) *Error {
	if len(b) == 0 {
		return nil // absent payload: all fields zero
	}
	r := mpReader{b: b}
	if err := r.decodeMap(what, v); err != nil {
		return err
	}
	if r.off != len(b) {
		return badFrame(what + ": trailing bytes")
	}
	return nil
}

// decodeMap decodes a map of string keys into v; nil decodes as an empty map.
func (r *mpReader) decodeMap(what string, v fieldDecoder) *Error {
	n, isNil, err := r.mapLen(what)
	if err != nil || isNil {
		return err
	}
	for i := 0; i < n; i++ {
		key, err := r.keyBytes(what)
		if err != nil {
			return err
		}
		if err := v.decodeField(r, key); err != nil {
			return err
		}
	}
	return nil
}

func (r *mpReader) code() (byte, bool) {
	if r.off >= len(r.b) {
		return 0, false
	}
	return r.b[r.off], true
}

// take returns the next n bytes, or nil, false if fewer remain.
func (r *mpReader) take(n uint64) ([]byte, bool) {
	if n > uint64(len(r.b)-r.off) {
		return nil, false
	}
	s := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return s, true
}

func (r *mpReader) be(n int) (uint64, bool) {
	s, ok := r.take(uint64(n))
	if !ok {
		return 0, false
	}
	switch n {
	case 1:
		return uint64(s[0]), true
	case 2:
		return uint64(binary.BigEndian.Uint16(s)), true
	case 4:
		return uint64(binary.BigEndian.Uint32(s)), true
	default:
		return binary.BigEndian.Uint64(s), true
	}
}

func wrongType(field, want string) *Error {
	return badFrame(field + ": want " + want)
}

// mapLen reads a map header; isNil reports a nil in its place.
func (r *mpReader) mapLen(field string) (n int, isNil bool, err *Error) {
	c, ok := r.code()
	if !ok {
		return 0, false, truncated(r.off)
	}
	var l uint64
	switch {
	case c == 0xc0:
		r.off++
		return 0, true, nil
	case c >= 0x80 && c <= 0x8f:
		r.off++
		l = uint64(c & 0x0f)
	case c == 0xde || c == 0xdf:
		r.off++
		if l, ok = r.be(2 << (c - 0xde)); !ok {
			return 0, false, truncated(r.off)
		}
	default:
		return 0, false, wrongType(field, "map")
	}
	if 2*l > uint64(len(r.b)-r.off) {
		return 0, false, tooLong("map", l, len(r.b)-r.off)
	}
	return int(l), false, nil
}

// arrayLen reads an array header; nil reads as an empty array.
func (r *mpReader) arrayLen(field string) (int, *Error) {
	c, ok := r.code()
	if !ok {
		return 0, truncated(r.off)
	}
	var l uint64
	switch {
	case c == 0xc0:
		r.off++
		return 0, nil
	case c >= 0x90 && c <= 0x9f:
		r.off++
		l = uint64(c & 0x0f)
	case c == 0xdc || c == 0xdd:
		r.off++
		if l, ok = r.be(2 << (c - 0xdc)); !ok {
			return 0, truncated(r.off)
		}
	default:
		return 0, wrongType(field, "array")
	}
	if l > uint64(len(r.b)-r.off) {
		return 0, tooLong("array", l, len(r.b)-r.off)
	}
	return int(l), nil
}

// strBytes reads a str (or nil, as an empty string) without copying it.
func (r *mpReader) strBytes(field string) ([]byte, *Error) {
	c, ok := r.code()
	if !ok {
		return nil, truncated(r.off)
	}
	var l uint64
	switch {
	case c == 0xc0:
		r.off++
		return nil, nil
	case c >= 0xa0 && c <= 0xbf:
		r.off++
		l = uint64(c & 0x1f)
	case c >= 0xd9 && c <= 0xdb:
		r.off++
		if l, ok = r.be(1 << (c - 0xd9)); !ok {
			return nil, truncated(r.off)
		}
	default:
		return nil, wrongType(field, "string")
	}
	s, ok := r.take(l)
	if !ok {
		return nil, tooLong("str", l, len(r.b)-r.off)
	}
	return s, nil
}

// keyBytes reads a map key, which must be a str.
func (r *mpReader) keyBytes(what string) ([]byte, *Error) {
	if c, ok := r.code(); ok && c == 0xc0 {
		return nil, badFrame(what + ": map key is nil, want string")
	}
	k, err := r.strBytes(what + " key")
	return k, err
}

// str reads a string value into a new Go string.
func (r *mpReader) str(field string) (string, *Error) {
	b, err := r.strBytes(field)
	if err != nil || len(b) == 0 {
		return "", err
	}
	return string(b), nil
}

// integer reads any MessagePack integer (or nil, as 0). neg reports a
// negative value, in which case the value is its two's-complement int64.
func (r *mpReader) integer(field string) (v uint64, neg bool, err *Error) {
	c, ok := r.code()
	if !ok {
		return 0, false, truncated(r.off)
	}
	r.off++
	switch {
	case c <= 0x7f:
		return uint64(c), false, nil
	case c >= 0xe0:
		return uint64(int64(int8(c))), true, nil
	case c == 0xc0:
		return 0, false, nil
	case c >= 0xcc && c <= 0xcf: // uint8..uint64
		if v, ok = r.be(1 << (c - 0xcc)); !ok {
			return 0, false, truncated(r.off)
		}
		return v, false, nil
	case c >= 0xd0 && c <= 0xd3: // int8..int64
		w := 1 << (c - 0xd0)
		if v, ok = r.be(w); !ok {
			return 0, false, truncated(r.off)
		}
		// Sign-extend from w bytes.
		shift := uint(64 - 8*w)
		s := int64(v<<shift) >> shift
		return uint64(s), s < 0, nil
	}
	r.off--
	return 0, false, wrongType(field, "integer")
}

// uint reads a non-negative integer no larger than max.
func (r *mpReader) uint(field string, max uint64) (uint64, *Error) {
	v, neg, err := r.integer(field)
	if err != nil {
		return 0, err
	}
	if neg || v > max {
		return 0, badFrame(field + ": want integer in 0.." + strconv.FormatUint(max, 10))
	}
	return v, nil
}

func (r *mpReader) uint64(field string) (uint64, *Error) { return r.uint(field, math.MaxUint64) }

func (r *mpReader) uint32(field string) (uint32, *Error) {
	v, err := r.uint(field, math.MaxUint32)
	return uint32(v), err
}

// int64 reads a signed integer.
func (r *mpReader) int64(field string) (int64, *Error) {
	v, neg, err := r.integer(field)
	if err != nil {
		return 0, err
	}
	if !neg && v > math.MaxInt64 {
		return 0, badFrame(field + ": integer overflows int64")
	}
	return int64(v), nil
}

// float64 reads a float32, float64 or integer (or nil, as 0).
func (r *mpReader) float64(field string) (float64, *Error) {
	c, ok := r.code()
	if !ok {
		return 0, truncated(r.off)
	}
	switch c {
	case 0xca:
		r.off++
		v, ok := r.be(4)
		if !ok {
			return 0, truncated(r.off)
		}
		return float64(math.Float32frombits(uint32(v))), nil
	case 0xcb:
		r.off++
		v, ok := r.be(8)
		if !ok {
			return 0, truncated(r.off)
		}
		return math.Float64frombits(v), nil
	}
	v, neg, err := r.integer(field)
	if err != nil {
		return 0, wrongType(field, "number")
	}
	if neg {
		return float64(int64(v)), nil
	}
	return float64(v), nil
}

// bool reads true, false or nil (as false).
func (r *mpReader) bool(field string) (bool, *Error) {
	c, ok := r.code()
	if !ok {
		return false, truncated(r.off)
	}
	switch c {
	case 0xc2, 0xc0:
		r.off++
		return false, nil
	case 0xc3:
		r.off++
		return true, nil
	}
	return false, wrongType(field, "boolean")
}

// skip skips one object of a validated frame.
func (r *mpReader) skip() *Error {
	off, err := walkMsgpack(r.b, r.off, 0)
	if err != nil {
		return err
	}
	r.off = off
	return nil
}

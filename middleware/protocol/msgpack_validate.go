package protocol

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"
)

// validateMsgpack walks every MessagePack object in frame without allocating
// (except for the error it returns) and rejects anything a bounded decoder
// must not see:
//
//   - a str, bin, ext, array or map header whose length cannot fit in the bytes
//     that remain (an array of n elements needs at least n bytes, a map of n
//     pairs at least 2n), so no later decoder is tricked into allocating more
//     than the frame's size;
//   - nesting deeper than [MaxDepth];
//   - the never-used byte 0xc1, and the bin and ext families, which this
//     protocol does not use;
//   - a str that is not valid UTF-8 ([CodeInvalidUTF8]);
//   - bytes after the first object.
//
// The work done is linear in len(frame): every element consumes at least one
// byte.
func validateMsgpack(frame []byte) *Error {
	if len(frame) == 0 {
		return badFrame("empty frame")
	}
	off, err := walkMsgpack(frame, 0, 0)
	if err != nil {
		return err
	}
	if off != len(frame) {
		return badFrame("trailing bytes after the envelope at offset " + strconv.Itoa(off))
	}
	return nil
}

// walkMsgpack validates the object at b[off:] found at nesting depth depth
// (0 for the top level) and returns the offset just past it.
func walkMsgpack(b []byte, off, depth int) (int, *Error) {
	if off >= len(b) {
		return off, truncated(off)
	}
	c := b[off]
	off++
	var n uint64 // length of a str/bin/ext body, or element count of a container
	switch {
	case c <= 0x7f || c >= 0xe0: // positive and negative fixint
		return off, nil
	case c <= 0x8f: // fixmap
		return walkContainer(b, off, depth, uint64(c&0x0f), true)
	case c <= 0x9f: // fixarray
		return walkContainer(b, off, depth, uint64(c&0x0f), false)
	case c <= 0xbf: // fixstr
		return walkStr(b, off, uint64(c&0x1f))
	}
	switch c {
	case 0xc0, 0xc2, 0xc3: // nil, false, true
		return off, nil
	case 0xc1:
		return off, badFrame("invalid MessagePack byte 0xc1 at offset " + strconv.Itoa(off-1))
	case 0xcc, 0xd0: // uint8, int8
		return skipFixed(b, off, 1)
	case 0xcd, 0xd1: // uint16, int16
		return skipFixed(b, off, 2)
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		return skipFixed(b, off, 4)
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		return skipFixed(b, off, 8)
	case 0xd9: // str8
		if n, off = readLen(b, off, 1); off < 0 {
			return len(b), truncated(len(b))
		}
		return walkStr(b, off, n)
	case 0xda: // str16
		if n, off = readLen(b, off, 2); off < 0 {
			return len(b), truncated(len(b))
		}
		return walkStr(b, off, n)
	case 0xdb: // str32
		if n, off = readLen(b, off, 4); off < 0 {
			return len(b), truncated(len(b))
		}
		return walkStr(b, off, n)
	case 0xdc: // array16
		if n, off = readLen(b, off, 2); off < 0 {
			return len(b), truncated(len(b))
		}
		return walkContainer(b, off, depth, n, false)
	case 0xdd: // array32
		if n, off = readLen(b, off, 4); off < 0 {
			return len(b), truncated(len(b))
		}
		return walkContainer(b, off, depth, n, false)
	case 0xde: // map16
		if n, off = readLen(b, off, 2); off < 0 {
			return len(b), truncated(len(b))
		}
		return walkContainer(b, off, depth, n, true)
	case 0xdf: // map32
		if n, off = readLen(b, off, 4); off < 0 {
			return len(b), truncated(len(b))
		}
		return walkContainer(b, off, depth, n, true)
	case 0xc4, 0xc5, 0xc6: // bin8/16/32
		w := 1 << (c - 0xc4)
		if n, off = readLen(b, off, w); off < 0 {
			return len(b), truncated(len(b))
		}
		if n > uint64(len(b)-off) {
			return off, tooLong("bin", n, len(b)-off)
		}
		return off, badFrame("MessagePack bin values are not used by this protocol (offset " + strconv.Itoa(off-1-w) + ")")
	case 0xc7, 0xc8, 0xc9: // ext8/16/32
		w := 1 << (c - 0xc7)
		if n, off = readLen(b, off, w); off < 0 {
			return len(b), truncated(len(b))
		}
		if n+1 > uint64(len(b)-off) {
			return off, tooLong("ext", n+1, len(b)-off)
		}
		return off, badFrame("MessagePack ext values are not used by this protocol")
	default: // 0xd4..0xd8 fixext 1/2/4/8/16
		return off, badFrame("MessagePack ext values are not used by this protocol")
	}
}

// walkStr checks a str body of n bytes at b[off:].
func walkStr(b []byte, off int, n uint64) (int, *Error) {
	if n > uint64(len(b)-off) {
		return off, tooLong("str", n, len(b)-off)
	}
	end := off + int(n)
	if !utf8.Valid(b[off:end]) {
		return end, newError(CodeInvalidUTF8, "string at offset "+strconv.Itoa(off)+" is not valid UTF-8")
	}
	return end, nil
}

// walkContainer checks n elements (or n key/value pairs when isMap) at
// b[off:], one nesting level below depth.
func walkContainer(b []byte, off, depth int, n uint64, isMap bool) (int, *Error) {
	if depth+1 > MaxDepth {
		return off, badFrame("nesting deeper than " + strconv.Itoa(MaxDepth))
	}
	elems := n
	if isMap {
		elems = 2 * n // n < 2^32, no overflow
	}
	if elems > uint64(len(b)-off) {
		kind := "array"
		if isMap {
			kind = "map"
		}
		return off, tooLong(kind, n, len(b)-off)
	}
	var err *Error
	for i := uint64(0); i < elems; i++ {
		if off, err = walkMsgpack(b, off, depth+1); err != nil {
			return off, err
		}
	}
	return off, nil
}

// readLen reads a big-endian length of w bytes (1, 2 or 4) at b[off:]. It
// returns off < 0 when the frame ends first.
func readLen(b []byte, off, w int) (uint64, int) {
	if len(b)-off < w {
		return 0, -1
	}
	switch w {
	case 1:
		return uint64(b[off]), off + 1
	case 2:
		return uint64(binary.BigEndian.Uint16(b[off:])), off + 2
	default:
		return uint64(binary.BigEndian.Uint32(b[off:])), off + 4
	}
}

func skipFixed(b []byte, off, n int) (int, *Error) {
	if len(b)-off < n {
		return len(b), truncated(len(b))
	}
	return off + n, nil
}

func truncated(off int) *Error {
	return badFrame("truncated MessagePack at offset " + strconv.Itoa(off))
}

func tooLong(kind string, claimed uint64, left int) *Error {
	return badFrame("MessagePack " + kind + " header claims " + strconv.FormatUint(claimed, 10) +
		" elements or bytes but only " + strconv.Itoa(left) + " bytes remain")
}

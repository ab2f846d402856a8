package bpe

import "unicode/utf8"

// byteToRune is GPT-2's bytes_to_unicode table (Radford et al. 2019,
// openai/gpt-2 src/encoder.py): the 188 printable bytes '!'..'~',
// '¡'..'¬' and '®'..'ÿ' map to the rune of the same value, and the other
// 68 bytes (controls, space, DEL, NBSP, soft hyphen…) map, in increasing
// byte order, to U+0100, U+0101, …. A token's GGUF string is its bytes
// mapped through this table, so every token string is printable and has
// no spaces (the space byte 0x20 becomes 'Ġ', U+0120).
var byteToRune [256]rune

// runeToByte inverts byteToRune.
var runeToByte map[rune]byte

func init() {
	runeToByte = make(map[rune]byte, 256)
	n := rune(0)
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = 256 + n
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// encodeTokenString maps raw token bytes to their GGUF string through
// GPT-2's byte-to-unicode table.
func encodeTokenString(b []byte) string {
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = utf8.AppendRune(out, byteToRune[c])
	}
	return string(out)
}

// decodeTokenString inverts encodeTokenString. ok is false when s holds a
// rune outside GPT-2's byte alphabet (or invalid UTF-8); bad is that rune.
func decodeTokenString(s string) (b []byte, bad rune, ok bool) {
	b = make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		c, found := runeToByte[r]
		if !found || (r == utf8.RuneError && n == 1) {
			return nil, r, false
		}
		b = append(b, c)
		i += n
	}
	return b, 0, true
}

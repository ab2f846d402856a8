package bpe

import (
	"unicode"
	"unicode/utf8"
)

// GPT2Pattern is the pre-tokenizer regular expression of GPT-2 (Radford et
// al. 2019, openai/gpt-2 src/encoder.py), which llama.cpp runs for
// tokenizer.ggml.pre = "gpt-2". Go's regexp has no lookahead, so PreTokenize
// implements it by hand; the constant documents what it matches.
const GPT2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// Rune classes of the pattern: \p{L}, \p{N}, \s (Unicode White_Space, as
// the Python regex module and llama.cpp define it) and everything else.
const (
	classOther uint8 = iota
	classLetter
	classNumber
	classSpace
)

var asciiClass [128]uint8

func init() {
	for c := 0; c < 128; c++ {
		asciiClass[c] = slowClass(rune(c))
	}
}

func slowClass(r rune) uint8 {
	switch {
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.Is(unicode.White_Space, r):
		return classSpace
	}
	return classOther
}

// runeAt decodes the rune at s[i] and its class. An invalid UTF-8 byte is
// one rune of width 1 classed as U+FFFD (not a letter, number or space),
// which is what llama.cpp substitutes for it; its byte is kept as it is.
func runeAt(s string, i int) (class uint8, width int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return asciiClass[c], 1
	}
	r, n := utf8.DecodeRuneInString(s[i:])
	return slowClass(r), n
}

// preTokenEnd returns the end (exclusive, in bytes) of the pre-token that
// starts at byte i < len(s), matching GPT2Pattern's leftmost-first
// alternation with greedy quantifiers.
func preTokenEnd(s string, i int) int {
	// 's|'t|'re|'ve|'m|'ll|'d (case-sensitive, as in GPT-2 and llama.cpp)
	if s[i] == '\'' && i+1 < len(s) {
		switch s[i+1] {
		case 's', 't', 'm', 'd':
			return i + 2
		case 'r', 'v':
			if i+2 < len(s) && s[i+2] == 'e' {
				return i + 3
			}
		case 'l':
			if i+2 < len(s) && s[i+2] == 'l' {
				return i + 3
			}
		}
	}
	k, w := runeAt(s, i)
	start := i
	if s[i] == ' ' && i+1 < len(s) {
		// " ?X+" with the optional space taken, when the next rune is X.
		if k2, w2 := runeAt(s, i+1); k2 != classSpace {
			k, w, start = k2, w2, i+1
		}
	}
	if k != classSpace {
		// \p{L}+, \p{N}+ or [^\s\p{L}\p{N}]+ from start.
		j := start + w
		for j < len(s) {
			k2, w2 := runeAt(s, j)
			if k2 != k {
				break
			}
			j += w2
		}
		return j
	}
	// \s+(?!\S) | \s+ : the maximal whitespace run; when a non-space
	// follows it and it is longer than one rune, the lookahead backs off
	// one rune (so that " word" keeps its space); a single whitespace rune
	// before a non-space is matched by the last alternative, \s+.
	j, last := i+w, i
	for j < len(s) {
		k2, w2 := runeAt(s, j)
		if k2 != classSpace {
			if last > i {
				return last
			}
			return j
		}
		last = j
		j += w2
	}
	return j
}

// PreTokenize splits s into GPT-2 pre-tokens exactly as GPT2Pattern's
// findall does (the pre-tokens concatenate back to s; invalid UTF-8 bytes
// are kept and classed as U+FFFD, a "[^\s\p{L}\p{N}]" rune). Letter, number
// and space classes are Unicode's (\p{L}, \p{N}, White_Space) in Go's
// unicode tables. BPE merges never cross a pre-token boundary.
func PreTokenize(s string) []string {
	var out []string
	for i := 0; i < len(s); {
		j := preTokenEnd(s, i)
		out = append(out, s[i:j])
		i = j
	}
	return out
}

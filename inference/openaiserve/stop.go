package openaiserve

import (
	"strings"
	"unicode/utf8"
)

// stopper releases streamed text in order while enforcing stop sequences:
// it holds back the longest tail that could be the start of a stop
// sequence (at most len(longest stop)-1 bytes) and any incomplete UTF-8
// sequence at the end, releases the rest, and on the first complete stop
// sequence releases the text before it and is done. Not safe for
// concurrent use.
type stopper struct {
	stops   []string
	pending string // held-back text, not yet released
	done    bool   // a stop sequence was found; nothing more is released
}

func newStopper(stops []string) *stopper { return &stopper{stops: stops} }

// active reports whether there are stop sequences to enforce.
func (s *stopper) active() bool { return len(s.stops) > 0 }

// feed takes the next piece of text and returns what may be released now.
func (s *stopper) feed(t string) string {
	if s.done {
		return ""
	}
	buf := s.pending + t
	if cut, found := cutAtStop(buf, s.stops); found {
		s.done = true
		s.pending = ""
		return cut
	}
	keep := incompleteTail(buf)
	for _, st := range s.stops {
		for k := min(len(st)-1, len(buf)); k > keep; k-- {
			if strings.HasSuffix(buf, st[:k]) {
				keep = k
				break
			}
		}
	}
	s.pending = buf[len(buf)-keep:]
	return buf[:len(buf)-keep]
}

// flush releases the held-back text at the end of the reply.
func (s *stopper) flush() string {
	p := s.pending
	s.pending = ""
	return p
}

// reset forgets held-back text (the model started its reply over).
func (s *stopper) reset() {
	s.pending = ""
	s.done = false
}

// incompleteTail returns the length of a trailing UTF-8 sequence of b that
// is a valid start of a multi-byte rune but not yet complete (0..3 bytes).
func incompleteTail(b string) int {
	for i := 1; i <= utf8.UTFMax-1 && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < utf8.RuneSelf {
			return 0 // ASCII: everything before it is complete or invalid
		}
		if utf8.RuneStart(c) {
			if utf8.FullRuneInString(b[len(b)-i:]) {
				return 0
			}
			return i
		}
	}
	return 0
}

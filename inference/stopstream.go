package inference

import (
	"strings"
	"unicode/utf8"
)

// StopStream releases streamed text in order while enforcing stop
// sequences (Request.Stop): it holds back the longest tail that could be
// the start of a stop sequence (at most len(longest stop)-1 bytes) and any
// incomplete UTF-8 sequence at the end, releases the rest, and on the
// first complete stop sequence releases the text before it and is done.
// Every backend that streams text it cuts itself (the embedded engine,
// the OpenAI-compatible server) uses it, so a stop sequence split across
// tokens or network chunks never leaks its first bytes. Feeding a piece
// scans only the held-back tail and the piece, once per stop sequence
// (plus at most len(stop)² to find a held-back prefix), never the text
// already released: a reply streams in time linear in its length. The zero value enforces no stop sequences. Not safe for
// concurrent use.
type StopStream struct {
	stops   []string
	pending string // held-back text, not yet released
	stopped bool   // a stop sequence was found; nothing more is released
}

// NewStopStream returns a StopStream for stops; empty strings are ignored.
func NewStopStream(stops []string) *StopStream {
	s := &StopStream{}
	for _, st := range stops {
		if st != "" {
			s.stops = append(s.stops, st)
		}
	}
	return s
}

// Active reports whether there are stop sequences to enforce.
func (s *StopStream) Active() bool { return len(s.stops) > 0 }

// Stopped reports whether a stop sequence has been found.
func (s *StopStream) Stopped() bool { return s.stopped }

// Feed takes the next piece of text and returns what may be released now
// ("" when nothing new is safe yet, and always after a stop).
func (s *StopStream) Feed(piece string) string {
	if s.stopped {
		return ""
	}
	buf := s.pending + piece
	// A stop sequence cannot start inside released text: any suffix that
	// could begin one was held back.
	if cut, found := CutAtStop(buf, s.stops); found {
		s.stopped = true
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

// Flush releases the held-back text at the end of the reply.
func (s *StopStream) Flush() string {
	p := s.pending
	s.pending = ""
	return p
}

// Reset forgets held-back text and any stop found (the model started its
// reply over).
func (s *StopStream) Reset() {
	s.pending = ""
	s.stopped = false
}

// CutAtStop returns text up to the earliest occurrence of any of stops,
// and whether one occurred.
func CutAtStop(text string, stops []string) (string, bool) {
	cut := -1
	for _, st := range stops {
		if st == "" {
			continue
		}
		if i := strings.Index(text, st); i >= 0 && (cut < 0 || i < cut) {
			cut = i
		}
	}
	if cut < 0 {
		return text, false
	}
	return text[:cut], true
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

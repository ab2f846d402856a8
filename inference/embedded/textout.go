package embedded

import (
	"strings"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/embedded/bpe"
)

// textOut turns generated token bytes into text that is safe to stream:
// it never emits half a UTF-8 character (a byte-level BPE token may end
// inside one) nor text that could still become the start of a stop
// sequence, and it cuts the reply at the first stop sequence. The hold-back
// is inference.StopStream's (one rule for every backend); textOut adds
// the reply's leading-space trim and drops bytes that are not UTF-8.
// Each token costs time proportional to its bytes and the held-back tail,
// not to the reply so far.
type textOut struct {
	stream  *inference.StopStream
	started bool            // a non-space byte has been seen
	out     strings.Builder // everything released, valid UTF-8
	scratch []byte          // token bytes, reused
}

// newTextOut returns a textOut that cuts at stops (nil: none).
func newTextOut(stops []string) *textOut {
	return &textOut{stream: inference.NewStopStream(stops)}
}

// stopped reports whether a stop sequence was found.
func (o *textOut) stopped() bool { return o.stream.Stopped() }

// add appends a token's bytes and returns the text that may be streamed
// now ("" when nothing new is safe yet).
func (o *textOut) add(b []byte) string {
	if o.stopped() {
		return ""
	}
	piece := string(b)
	if !o.started { // a reply starts at its first non-space byte
		piece = strings.TrimLeft(piece, " \t\r\n")
		if piece == "" {
			return ""
		}
		o.started = true
	}
	return o.release(o.stream.Feed(piece))
}

// addToken is add for token id's bytes.
func (o *textOut) addToken(tok *bpe.Tokenizer, id int) string {
	o.scratch = tok.AppendTokenBytes(o.scratch[:0], id)
	return o.add(o.scratch)
}

// finish returns whatever is left at the end of generation.
func (o *textOut) finish() string {
	return o.release(o.stream.Flush())
}

// release records and returns s without the bytes that are not valid
// UTF-8 (a byte-level model can emit a stray continuation byte, or stop
// inside a character): callers get text, and JSON encoders would
// otherwise turn them into U+FFFD.
func (o *textOut) release(s string) string {
	s = strings.ToValidUTF8(s, "")
	o.out.WriteString(s)
	return s
}

// text is the whole reply released so far (cut at a stop sequence).
func (o *textOut) text() string { return o.out.String() }

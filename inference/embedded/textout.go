package embedded

import (
	"strings"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/inference/embedded/bpe"
)

// textOut turns generated token bytes into text that is safe to stream:
// it never emits half a UTF-8 character (a byte-level BPE token may end
// inside one) nor text that could still become the start of a stop
// sequence, and it cuts the reply at the first stop sequence.
type textOut struct {
	stops   []string
	buf     []byte // every byte generated so far
	emitted int    // bytes of buf already streamed
	stopped bool   // a stop sequence was found; buf is cut before it
}

// add appends a token's bytes and returns the text that may be streamed
// now ("" when nothing new is safe yet).
func (o *textOut) add(b []byte) string {
	if o.stopped {
		return ""
	}
	o.buf = append(o.buf, b...)
	text := string(o.buf)
	if o.emitted == 0 { // a reply starts at its first non-space byte
		trimmed := strings.TrimLeft(text, " \t\r\n")
		o.buf = o.buf[len(text)-len(trimmed):]
		text = trimmed
	}
	// A stop sequence cannot start inside emitted text: any suffix that
	// could begin one was held back below.
	cut := -1
	for _, s := range o.stops {
		if i := strings.Index(text[o.emitted:], s); s != "" && i >= 0 && (cut < 0 || o.emitted+i < cut) {
			cut = o.emitted + i
		}
	}
	if cut >= 0 {
		o.buf, o.stopped = o.buf[:cut], true
		return o.flush(len(o.buf))
	}
	safe := len(o.buf)
	// Hold back a suffix that is a proper prefix of some stop sequence.
	for _, s := range o.stops {
		for n := min(len(s)-1, len(o.buf)); n > 0; n-- {
			if strings.HasSuffix(text, s[:n]) {
				safe = min(safe, len(o.buf)-n)
				break
			}
		}
	}
	// Hold back an incomplete UTF-8 sequence at the end.
	for back := 1; back <= 3 && back <= safe; back++ {
		c := o.buf[safe-back]
		if c < 0x80 {
			break
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(o.buf[safe-back : safe]) {
				safe -= back
			}
			break
		}
	}
	return o.flush(safe)
}

// addToken is add for token id's bytes, appended straight into the
// buffer (no copy per token).
func (o *textOut) addToken(tok *bpe.Tokenizer, id int) string {
	if o.stopped {
		return ""
	}
	n := len(o.buf)
	o.buf = tok.AppendTokenBytes(o.buf, id)
	added := o.buf[n:]
	o.buf = o.buf[:n]
	return o.add(added)
}

// finish returns whatever is left at the end of generation.
func (o *textOut) finish() string { return o.flush(len(o.buf)) }

// flush streams buf[emitted:upto]. Bytes that are not valid UTF-8 (a
// byte-level model can emit a stray continuation byte, or stop inside a
// character) are dropped, here and in text alike: callers get text, and
// JSON encoders would otherwise turn them into U+FFFD.
func (o *textOut) flush(upto int) string {
	if upto <= o.emitted {
		return ""
	}
	s := strings.ToValidUTF8(string(o.buf[o.emitted:upto]), "")
	o.emitted = upto
	return s
}

// text is the whole reply so far (cut at a stop sequence), without the
// invalid bytes flush drops.
func (o *textOut) text() string { return strings.ToValidUTF8(string(o.buf), "") }

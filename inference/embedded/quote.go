package embedded

import (
	"strings"

	"github.com/hearth-ai/hearth/inference"
)

// DefaultQuoteMinBytes is Options.QuoteMinBytes's default: a quote locks
// once its first 8 bytes match, about two tokens or a long word
// ("Crookwheel"), so a reply that has begun a lore sentence is held to it
// from its first slip on, while a lead ("Aye.", "Well now, here's the
// thing.") rarely matches a sentence's start by chance.
const DefaultQuoteMinBytes = 8

// quoteLock makes a reply that has begun to quote a lore sentence of its
// prompt quote it exactly to its end: once the reply's tail, starting at a
// word, is the first minBytes bytes or more of such a sentence, the only
// tokens allowed are those that continue one of the sentences it matches.
// A small model copying a fact slips where a token recurs ("1 penny each,
// or 1 penny each"), goes on with another line that shares a word, or
// changes a number; the lock leaves it the choice of whether to quote and
// which sentence, and takes away the slips (docs/models.md, "The quote lock").
// Sentences are the request's Facts cut as small prompts cut them
// (inference.SplitSentences), kept only where the prompt shows them
// verbatim: the lock never leads the model into lore it was not shown. It
// is the constrained decoding of issue 3 applied to the lore the prompt
// shows, in the spirit of pointer-generator copying (See et al. 2017), but
// as a hard mask at decode time.
//
// A quote may begin at the reply's start or after white space, a quotation
// mark or an opening bracket. When one candidate sentence is out in full
// the lock ends, even if a longer one still matches, so the model may stop
// there; the reply after that point may lock onto a new sentence at once,
// but never onto one that starts inside the finished quote.
type quoteLock struct {
	minBytes  int
	sentences []string   // lore sentences shown in the prompt
	reply     []byte     // the reply's bytes so far
	cands     []quotePos // while locked: the sentences the quote still matches
	from      int        // bytes of reply a new quote may not start in (the last quote's end)
}

// quotePos is a sentence being quoted and how many of its bytes are out.
type quotePos struct{ sentence, at int }

// newQuoteLock returns the lock for a reply to prompt grounded in facts,
// or nil when minBytes < 1 or no sentence of facts longer than minBytes
// appears in prompt.
func newQuoteLock(facts []inference.Fact, prompt string, minBytes int) *quoteLock {
	if minBytes < 1 {
		return nil
	}
	q := &quoteLock{minBytes: minBytes}
	seen := map[string]bool{}
	for _, f := range facts {
		for _, s := range inference.SplitSentences(f.Text) {
			if len(s) > minBytes && !seen[s] && strings.Contains(prompt, s) {
				seen[s] = true
				q.sentences = append(q.sentences, s)
			}
		}
	}
	if len(q.sentences) == 0 {
		return nil
	}
	return q
}

// quoteVocab is a vocabulary as the lock reads it: each token's bytes
// (nil for a control token), and the tokens by their first byte, so that a
// mask looks only at the tokens that can continue a quote.
type quoteVocab struct {
	toks    [][]byte
	byFirst [256][]int32
}

// newQuoteVocab indexes toks (each token's bytes, nil for control
// tokens); eos is never allowed inside a quote, even where a file gives it
// bytes.
func newQuoteVocab(toks [][]byte, eos int) *quoteVocab {
	v := &quoteVocab{toks: toks}
	for id, b := range toks {
		if len(b) > 0 && id != eos {
			v.byFirst[b[0]] = append(v.byFirst[b[0]], int32(id))
		}
	}
	return v
}

// mask sets allowed (one entry per token of v) to the tokens that keep the
// quote exact, and reports whether the lock is engaged (some token
// allowed); when it reports false, ignore allowed. A token may run past
// the sentence's end: the lock ends there.
func (q *quoteLock) mask(v *quoteVocab, allowed []bool) bool {
	if len(q.cands) == 0 {
		return false
	}
	clear(allowed)
	engaged := false
	for _, c := range q.cands {
		rest := q.sentences[c.sentence][c.at:]
		for _, id := range v.byFirst[rest[0]] {
			if !allowed[id] && continuesQuote(rest, v.toks[id]) {
				allowed[id], engaged = true, true
			}
		}
	}
	// A vocabulary without some byte of the sentence cannot quote it: the
	// lock yields rather than leave no token.
	return engaged
}

// continuesQuote reports whether token bytes b continue rest, the unquoted
// end of a sentence: b is a prefix of rest, or rest a prefix of b.
func continuesQuote(rest string, b []byte) bool {
	if len(b) <= len(rest) {
		return rest[:len(b)] == string(b)
	}
	return string(b[:len(rest)]) == rest
}

// accept records a generated token's bytes: it advances a quote (ending
// the lock at the sentence's end), or looks for one that begins at a word
// of the reply and now has minBytes bytes.
func (q *quoteLock) accept(b []byte) {
	q.reply = append(q.reply, b...)
	if len(q.cands) > 0 {
		keep := q.cands[:0]
		for _, c := range q.cands {
			rest := q.sentences[c.sentence][c.at:]
			if !continuesQuote(rest, b) {
				continue
			}
			if len(b) >= len(rest) { // the sentence is out: the lock ends
				q.cands = q.cands[:0]
				q.from = len(q.reply) - (len(b) - len(rest))
				q.acquire()
				return
			}
			keep = append(keep, quotePos{c.sentence, c.at + len(b)})
		}
		q.cands = keep
		if len(keep) > 0 {
			return
		}
	}
	q.acquire()
}

// acquire locks onto the sentences that the longest tail of the reply
// (from q.from on, starting at a word, at least minBytes long) begins.
func (q *quoteLock) acquire() {
	for p := q.from; len(q.reply)-p >= q.minBytes; p++ {
		if !quoteStart(q.reply, p) {
			continue
		}
		tail := q.reply[p:]
		for i, s := range q.sentences {
			if len(s) > len(tail) && s[:len(tail)] == string(tail) {
				q.cands = append(q.cands, quotePos{i, len(tail)})
			}
		}
		if len(q.cands) > 0 {
			return
		}
	}
}

// quoteStart reports whether a quote may begin at reply[p]: a byte that is
// not white space, at the reply's start or after white space, a quotation
// mark (straight or curly) or an opening bracket.
func quoteStart(reply []byte, p int) bool {
	if strings.IndexByte(" \t\n", reply[p]) >= 0 {
		return false
	}
	if p == 0 || strings.IndexByte(" \t\n\"'([", reply[p-1]) >= 0 {
		return true
	}
	before := string(reply[max(0, p-3):p])
	return before == "\u201c" || before == "\u2018" // “ ‘
}

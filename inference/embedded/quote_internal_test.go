package embedded

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/inference"
)

// The lock quotes only what the prompt shows: a fact's sentence the
// prompt leaves out is never a candidate.
func TestQuoteLockUsesOnlySentencesThePromptShows(t *testing.T) {
	facts := []inference.Fact{{Text: "Smoked eel: 1 penny each, or 10 for 8 pennies. The cellar hides fen-salt."}}
	prompt := "Lore:\n- [Prices] Smoked eel: 1 penny each, or 10 for 8 pennies.\n\nA stranger says: eel?\nHobb:\n"
	q := newQuoteLock(facts, prompt, 8)
	if q == nil || !reflect.DeepEqual(q.sentences, []string{"Smoked eel: 1 penny each, or 10 for 8 pennies."}) {
		t.Fatalf("sentences %+v: want only the one the prompt shows", q)
	}
	if newQuoteLock(facts, prompt, -1) != nil || newQuoteLock(facts, "no lore here", 8) != nil || newQuoteLock(nil, prompt, 8) != nil {
		t.Fatal("a lock with nothing to quote, or turned off")
	}
}

// Once a reply has begun a shown sentence, the mask allows only tokens
// that continue it (or one of the sentences it still matches), and the
// lock ends at the sentence's end.
func TestQuoteLockHoldsAReplyToTheSentence(t *testing.T) {
	toks := [][]byte{nil, []byte(" Aye."), []byte(" Smoked"), []byte(" eel"), []byte(":"), []byte(" 1"), []byte(" penny"),
		[]byte(" each"), []byte(","), []byte(" or"), []byte(" 10"), []byte(" for"), []byte(" 8"), []byte(" pennies"),
		[]byte("."), []byte(".\n"), []byte(" Sm"), []byte(" Smoke"), []byte("0")}
	id := map[string]int{}
	for i, b := range toks {
		id[string(b)] = i
	}
	v := newQuoteVocab(toks, -1)
	q := newQuoteLock([]inference.Fact{{Text: "Smoked eel: 1 penny each, or 10 for 8 pennies."}, {Text: "Smoked fish is dear."}},
		"- Smoked eel: 1 penny each, or 10 for 8 pennies.\n- Smoked fish is dear.\n", 8)
	allowed := make([]bool, len(toks))
	allowedOnly := func(want ...string) {
		t.Helper()
		if !q.mask(v, allowed) {
			t.Fatal("the lock is not engaged")
		}
		var got []string
		for i, ok := range allowed {
			if ok {
				got = append(got, string(toks[i]))
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("allowed %q, want %q", got, want)
		}
	}
	for _, tok := range []string{" Aye.", " Smoked"} {
		q.accept(toks[id[tok]])
		if q.mask(v, allowed) {
			t.Fatalf("locked after %q: the tail is shorter than 8 bytes or starts no sentence", q.reply)
		}
	}
	q.accept([]byte(" eel")) // "Smoked eel" is 10 bytes of the first sentence only
	allowedOnly(":")
	for _, tok := range []string{":", " 1", " penny", " each", ",", " or"} {
		q.accept(toks[id[tok]])
	}
	// " 1" may still begin " 10", but it cannot go on as " penny": the
	// slip the lock exists for.
	allowedOnly(" 1", " 10")
	q.accept(toks[id[" 1"]])
	allowedOnly("0")
	for _, tok := range []string{"0", " for", " 8", " pennies"} {
		q.accept(toks[id[tok]])
	}
	allowedOnly(".", ".\n") // a token may run past the end
	q.accept(toks[id[".\n"]])
	if q.mask(v, allowed) {
		t.Fatal("still locked after the sentence ended")
	}
}

// BenchmarkQuoteLockStep is the lock's cost per generated token while it
// is engaged (a mask every step, over the tokens that begin with the next
// byte), for a 2,048-token vocabulary of single bytes and lore words and
// three lore lines that share their first words. One op is one token:
// mask, then accept.
//
//	go test ./inference/embedded -run XXX -bench QuoteLockStep
func BenchmarkQuoteLockStep(b *testing.B) {
	lines := []string{
		"Smoked eel from Reedhithe: 1 penny each, or 10 for 8 pennies.",
		"Smoked eel from Reedhithe is sold at the Kettle Market on market days.",
		"Smoked fish keeps through the winter if it is hung in the rafters.",
	}
	toks := make([][]byte, 0, 2048)
	for c := range 256 {
		toks = append(toks, []byte{byte(c)})
	}
	seen := map[string]bool{}
	for len(toks) < 2048 {
		for _, l := range lines {
			for _, w := range strings.Fields(l) {
				for _, t := range []string{" " + w, w, " " + w + fmt.Sprint(len(toks))} {
					if !seen[t] && len(toks) < 2048 {
						seen[t] = true
						toks = append(toks, []byte(t))
					}
				}
			}
		}
	}
	var facts []inference.Fact
	for _, l := range lines {
		facts = append(facts, inference.Fact{Text: l})
	}
	prompt := strings.Join(lines, "\n")
	v := newQuoteVocab(toks, -1)
	allowed := make([]bool, len(toks))
	words := strings.SplitAfter(lines[0], " ")
	b.ReportAllocs()
	var q *quoteLock
	for i := range b.N {
		k := 2 + i%(len(words)-2)
		if k == 2 {
			q = newQuoteLock(facts, prompt, 8)
			q.accept([]byte("Aye. " + words[0] + words[1])) // "Smoked eel " locks on two lines
		}
		if !q.mask(v, allowed) {
			b.Fatalf("not locked at %q", q.reply)
		}
		q.accept([]byte(words[k]))
	}
}

// A quote may open after a quotation mark; a reply that finishes one
// sentence and runs on into another is locked onto the second at once,
// but never onto a sentence that starts inside the finished quote; EOS is
// never allowed inside a quote.
func TestQuoteLockStartsAndRestarts(t *testing.T) {
	toks := [][]byte{[]byte("<eos>"), []byte(" \u201cSmoked eel"), []byte(" sold"), []byte(" here."), []byte(" Kettle Market"),
		[]byte(" opens"), []byte(" Ask at the"), []byte(" closes"), []byte(" at"), []byte(" dawn.")}
	v := newQuoteVocab(toks, 0)
	allowed := make([]bool, len(toks))
	facts := []inference.Fact{{Text: "Smoked eel sold here. Ask at the Kettle Market. Kettle Market opens at dawn."}}
	q := newQuoteLock(facts, "Lore: Smoked eel sold here. Ask at the Kettle Market. Kettle Market opens at dawn.", 8)
	q.accept(toks[1]) // opens with a curly quotation mark
	if !q.mask(v, allowed) || !allowed[2] || allowed[0] {
		t.Fatalf("after %q: allowed %v; want \" sold\" and never EOS", q.reply, allowed)
	}
	q = newQuoteLock(facts, "Lore: Smoked eel sold here. Ask at the Kettle Market. Kettle Market opens at dawn.", 8)
	q.accept(toks[6])
	q.accept(toks[4])
	q.accept([]byte(". Kettle Market")) // runs past the end into the next sentence
	if !q.mask(v, allowed) || !allowed[5] || allowed[7] {
		t.Fatalf("after %q: allowed %v; want only \" opens\" (locked onto the next sentence)", q.reply, allowed)
	}
	// A line without a final stop, whose end begins another line.
	q = newQuoteLock([]inference.Fact{{Text: "Ask at the Kettle Market\nKettle Market opens at dawn."}},
		"- Ask at the Kettle Market\n- Kettle Market opens at dawn.", 8)
	q.accept(toks[6])
	q.accept(toks[4])
	if q.mask(v, allowed) {
		t.Fatalf("after %q: locked onto a sentence that starts inside the finished quote", q.reply)
	}
}

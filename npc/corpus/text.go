package corpus

import (
	"hash/fnv"
	"strings"
	"unicode"

	"github.com/hearth-ai/hearth/inference"
)

// Sentences splits lore text into sentences, in order, by the rule the
// small prompts use (inference.SplitSentences), so a sentence found here
// appears verbatim in a small prompt's Lore section.
func Sentences(text string) []string { return inference.SplitSentences(text) }

// Normalize is the form in which replies and facts are compared
// (Evaluate) and sentences are keyed: lower case, every run of characters
// that are not letters or digits replaced by one space, trimmed. So
// "The Tipped Kettle's sign — a kettle!" and "the tipped kettle s sign a
// kettle" compare equal: case, whitespace and punctuation (including
// apostrophes, dashes and curly quotes) do not matter.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		space = true
	}
	return b.String()
}

// stopwords are function words and question words that say nothing about
// what a line is about (a short English list in the spirit of the SMART
// list, Salton 1971, cut to what player lines use).
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but if then so of to in on at by for with from into onto
		over under about as is are was were be been being am do does did done have has had having it its
		this that these those there here what who whom whose which where when why how i me my mine you your
		yours we us our he him his she her hers they them their theirs not no yes all any some each every
		can could will would shall should may might must tell know heard hear say said says anything
		something thing things true really please just also too very more most much many one ones about
		like any word words story anyone ever else than up out off again once only own same such both few
		what's who's where's there's it's i'd i'm you're that's let let's give me speak talk`) {
		m[w] = true
	}
	return m
}()

// terms returns the content terms of s: lower-cased words of letters and
// digits (apostrophes split words), without stopwords, with a trailing
// plural "s" removed from words longer than three letters.
func terms(s string) []string {
	var out []string
	for _, w := range strings.Fields(Normalize(s)) {
		if stopwords[w] || len(w) < 2 {
			continue
		}
		out = append(out, stemTerm(w))
	}
	return out
}

func stemTerm(w string) string {
	if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
		return w[:len(w)-1]
	}
	return w
}

func termSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, t := range terms(s) {
		m[t] = true
	}
	return m
}

// overlap is how many distinct terms of q occur in set.
func overlap(q []string, set map[string]bool) int {
	n := 0
	seen := map[string]bool{}
	for _, t := range q {
		if set[t] && !seen[t] {
			n++
		}
		seen[t] = true
	}
	return n
}

// words counts whitespace-separated words.
func words(s string) int { return len(strings.Fields(s)) }

// hash64 is FNV-1a over the parts, separated by a zero byte: the stable
// hash behind the held-out split and the per-item random streams.
func hash64(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

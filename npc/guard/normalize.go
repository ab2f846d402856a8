package guard

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Text is a line prepared for matching, in three views. Build it with
// Normalize; every check that reads patterns reads one of these views, so
// the same folding defeats the same tricks everywhere.
type Text struct {
	// Raw is the text as given.
	Raw string
	// Folded is Raw after NFKC (fullwidth and mathematical letters,
	// ligatures), lower case, diacritics removed, common Cyrillic and Greek
	// look-alikes mapped to Latin and invisible format characters
	// (zero-width spaces and joiners, soft hyphens, bidi controls, tag
	// characters) removed. Punctuation is kept: role tags such as
	// "<|system|>" and "[INST]" are matched here.
	Folded string
	// Words is Folded as words of letters and digits separated by single
	// spaces: leetspeak inside a word with letters is undone ("1gn0r3" →
	// "ignore", "$y$tem" → "system"), apostrophes are dropped ("don't" →
	// "dont"), every other character separates words, a misspelt key word
	// is corrected ("ignroe", "previus": see keyWords), "ur" reads "your",
	// and a run of three or more single letters is joined ("i g n o r e"
	// and "i.g.n.o.r.e" → "ignore").
	Words string
	// Squashed is the letters of Words alone, without spaces, for long
	// key phrases split at odd places ("ign ore prev ious").
	Squashed string

	toks []string // strings.Fields(Words), computed once
}

// tokens returns the words of t.Words.
func (t *Text) tokens() []string {
	if t.toks == nil {
		t.toks = strings.Fields(t.Words)
	}
	return t.toks
}

// Normalize builds the matching views of s. It never fails: invalid UTF-8
// bytes become U+FFFD. Cost: linear in len(s), a few allocations.
func Normalize(s string) Text {
	t := Text{Raw: s}
	t.Folded = fold(s)
	t.Words = words(t.Folded)
	var b strings.Builder
	b.Grow(len(t.Words))
	for _, r := range t.Words {
		if r != ' ' {
			b.WriteRune(r)
		}
	}
	t.Squashed = b.String()
	t.toks = strings.Fields(t.Words)
	return t
}

// confusables maps Cyrillic and Greek letters that look like Latin ones
// (the usual homoglyph substitutions) to the Latin letter. Lower case
// only: fold lower-cases first.
var confusables = map[rune]rune{
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c',
	'т': 't', 'у': 'y', 'х': 'x', 'і': 'i', 'ї': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w',
	'ɡ': 'g', 'ɩ': 'i', 'ı': 'i', 'ȷ': 'j',
	'α': 'a', 'β': 'b', 'ε': 'e', 'η': 'n', 'ι': 'i', 'κ': 'k', 'ν': 'v', 'ο': 'o', 'ρ': 'p', 'τ': 't',
	'υ': 'u', 'χ': 'x', 'ω': 'w', 'ς': 's',
}

// invisible reports the format characters Normalize removes: they render
// as nothing (or reorder text) and are used to split key words.
func invisible(r rune) bool {
	switch {
	case r == '\u00ad', r == '\u034f', r == '\u061c', r == '\u115f', r == '\u1160', r == '\u17b4', r == '\u17b5',
		r == '\u180e', r == '\u3164', r == '\ufeff', r == '\uffa0':
		return true
	case r >= '\u200b' && r <= '\u200f', r >= '\u202a' && r <= '\u202e', r >= '\u2060' && r <= '\u206f':
		return true
	case r >= '\ufe00' && r <= '\ufe0f', r >= 0xe0000 && r <= 0xe0fff: // variation selectors, tags
		return true
	}
	return false
}

func fold(s string) string {
	if isASCII(s) { // the common case: no normalisation to do
		return strings.ToLower(s)
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = norm.NFKC.String(s)
	s = strings.ToLower(s)
	// Decompose to drop combining marks (é → e, zalgo stacks), then map
	// look-alikes.
	d := norm.NFD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) || invisible(r) {
			continue
		}
		if l, ok := confusables[r]; ok {
			r = l
		}
		b.WriteRune(r)
	}
	return norm.NFC.String(b.String())
}

// leet maps the digits and symbols of leetspeak to letters; it applies
// only inside a word that has at least one letter, so "5 gold" stays.
var leet = map[rune]rune{
	'0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '9': 'g',
	'@': 'a', '$': 's', '!': 'i', '|': 'i', '+': 't', '€': 'e', '£': 'l',
}

// words builds the Words view of a folded string.
func words(f string) string {
	// Split into raw tokens at whitespace, keeping leet symbols inside them.
	raw := strings.Fields(f)
	out := make([]string, 0, len(raw))
	for _, tok := range raw {
		out = append(out, splitToken(tok)...)
	}
	for i, w := range out {
		out[i] = canonical(w)
	}
	// Join runs of >= 3 single letters: "i g n o r e", "i.g.n.o.r.e".
	var b strings.Builder
	b.Grow(len(f))
	for i := 0; i < len(out); {
		j := i
		for j < len(out) && utf8.RuneCountInString(out[j]) == 1 && isLetter(out[j]) {
			j++
		}
		if j-i >= 3 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			for _, w := range out[i:j] {
				b.WriteString(w)
			}
			i = j
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(out[i])
		i++
	}
	return b.String()
}

func isLetter(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.IsLetter(r)
}

// splitToken turns one whitespace-free token into words: leetspeak undone
// when the token has a letter, apostrophes dropped, other punctuation a
// separator.
func splitToken(tok string) []string {
	hasLetter := false
	for _, r := range tok {
		if unicode.IsLetter(r) {
			hasLetter = true
			break
		}
	}
	var out []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for i, r := range tok {
		if hasLetter {
			if l, ok := leet[r]; ok {
				// A symbol at the edge of a token is punctuation ("hi!",
				// "$5"), not a letter, unless a letter follows it at the
				// start or letters surround it.
				next := i + utf8.RuneLen(r)
				inner := i > 0 && next < len(tok)
				lead := i == 0 && next < len(tok) && unicode.IsLetter(rune(tok[next])) // "$ystem", "@dmin"
				if unicode.IsDigit(r) || inner || lead {
					r = l
				}
			}
		}
		switch {
		case r == '\'' || r == '’':
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// keyWords are the words of the injection and jailbreak patterns that a
// misspelling is corrected to: a word of five letters or more, with the
// same first letter, one edit away (a substitution, insertion, deletion
// or transposition of neighbours), or two edits for key words of twelve
// letters or more. A word that starts with a key word ("ignores") is an
// inflection and stays.
var keyWords = []string{
	"ignore", "disregard", "previous", "instructions", "instruction", "restrictions", "guidelines",
	"developer", "jailbreak", "jailbroken", "unrestricted", "unfiltered", "uncensored", "override",
	"programming", "directives", "pretend", "hypothetically", "censorship", "filters",
}

var keySet = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range keyWords {
		m[k] = true
	}
	return m
}()

// canonical corrects a misspelt key word and expands chat abbreviations.
func canonical(w string) string {
	switch w {
	case "ur":
		return "your"
	case "pls", "plz":
		return "please"
	}
	if len(w) < 5 || keySet[w] {
		return w
	}
	for _, k := range keyWords {
		if k[0] != w[0] {
			continue
		}
		if strings.HasPrefix(w, k) { // an inflection: "ignores", "pretended"
			return w
		}
		limit := 1
		if len(k) >= 12 {
			limit = 2
		}
		if d := len(k) - len(w); d > limit || -d > limit {
			continue
		}
		if osa(w, k, limit) <= limit {
			return k
		}
	}
	return w
}

// osa is the optimal-string-alignment edit distance of a and b (bytes),
// returning limit+1 as soon as it exceeds limit.
func osa(a, b string, limit int) int {
	var buf [3][24]int
	if len(b)+1 > len(buf[0]) {
		return limit + 1
	}
	prev2, prev, cur := buf[0][:len(b)+1], buf[1][:len(b)+1], buf[2][:len(b)+1]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

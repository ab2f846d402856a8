package quest

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// The lore-consistency check: every proper noun in a quest's text must be
// a name or alias the World knows.
//
// Text is split into words at white space. A word is capitalised when its
// first letter, after any opening quote or bracket, is upper case. From
// every capitalised word the checker looks for the longest run of at most
// maxNameWords words, starting at that word or up to maxLookback words
// before it (names like "+1 Longsword" or "bag of Holding" start with a
// word that is not capitalised), whose text World.Lookup resolves,
// ignoring closing punctuation and a possessive 's or ' at the end. A run
// that resolves is a known name and is skipped whole. A capitalised word
// that starts no known name is fine when it is the pronoun I (I'm, I'll,
// I've, I'd), or when it opens a sentence (the text's first word, or a
// word after one ending in . ! or ?, or after a line break) and is a plain
// English word from commonWords. Anything else is an unknown proper noun,
// reported as the maximal run of capitalised words from it (so "Lord
// Vexmoor" is one unknown name, not two).

const (
	// maxNameWords bounds the words of a name the checker tries. SRD 5.2's
	// longest item and creature names ("Potion of Giant Strength (Cloud)",
	// "Ring of Free Action") have at most six words.
	maxNameWords = 8
	// maxLookback is how many words before a capitalised word a name may
	// start ("+1 Longsword": one).
	maxLookback = 3
)

// UnknownProperNouns returns the proper nouns in text that w does not
// know, in order of appearance, each once. Names are matched by
// World.Lookup (case-insensitive, a leading "the" ignored), with the rules
// at the top of validate_nouns.go; the plain words a sentence may open with
// are listed in commonWords (see docs/quests.md). An empty result means the
// text is lore-consistent.
func UnknownProperNouns(w *World, text string) []string {
	var out []string
	scanProperNouns(w, text, func(noun string) {
		for _, o := range out {
			if o == noun {
				return
			}
		}
		out = append(out, noun)
	})
	return out
}

// IsCommonWord reports whether word (any case) is on the list of plain
// English words a sentence may open with without being a proper noun.
func IsCommonWord(word string) bool {
	_, ok := commonWords[strings.ToLower(word)]
	return ok
}

// token is one white-space separated word of a text, with its core: the
// word without opening quotes or brackets and without closing
// punctuation.
type token struct {
	start, end         int // byte offsets of the word
	coreStart, coreEnd int // byte offsets of its core
	softEnd            int // end without sentence punctuation only (keeps a closing bracket)
	capital            bool
	endsSentence       bool // the word ends with . ! or ?
	lineBefore         bool // a line break precedes it
}

func tokenize(text string, buf []token) []token {
	toks := buf[:0]
	i := 0
	line := false
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if unicode.IsSpace(r) {
			if r == '\n' {
				line = true
			}
			i += size
			continue
		}
		start := i
		for i < len(text) {
			r, size := utf8.DecodeRuneInString(text[i:])
			if unicode.IsSpace(r) {
				break
			}
			i += size
		}
		t := token{start: start, end: i, lineBefore: line}
		line = false
		cs := start
		for cs < i {
			r, size := utf8.DecodeRuneInString(text[cs:])
			if !strings.ContainsRune(`"'“‘([{«`, r) {
				break
			}
			cs += size
		}
		ce := i
		for ce > cs {
			r, size := utf8.DecodeLastRuneInString(text[cs:ce])
			if !strings.ContainsRune(`.,;:!?"'”’)]}»…`, r) {
				break
			}
			if r == '.' || r == '!' || r == '?' || r == '…' {
				t.endsSentence = true
			}
			ce -= size
		}
		se := i
		for se > cs {
			r, size := utf8.DecodeLastRuneInString(text[cs:se])
			if !strings.ContainsRune(`.,;:!?"”…`, r) {
				break
			}
			se -= size
		}
		t.coreStart, t.coreEnd, t.softEnd = cs, ce, se
		if cs < ce {
			r, _ := utf8.DecodeRuneInString(text[cs:ce])
			t.capital = unicode.IsUpper(r)
		}
		toks = append(toks, t)
	}
	return toks
}

// scanProperNouns calls unknown for every unknown proper noun of text.
func scanProperNouns(w *World, text string, unknown func(string)) {
	var arr [64]token
	toks := tokenize(text, arr[:])
	var key [128]byte
	lo := 0 // first token not yet consumed by a match
	for i := 0; i < len(toks); {
		t := toks[i]
		if !t.capital {
			i++
			continue
		}
		if end := matchName(w, text, toks, i, i, key[:0]); end > 0 {
			i, lo = end, end
			continue
		}
		sentenceStart := i == 0 || toks[i-1].endsSentence || t.lineBefore
		word := text[t.coreStart:t.coreEnd]
		if sentenceStart && IsCommonWord(word) || isPronounI(word) {
			i++
			continue
		}
		matched := false
		for j := i - 1; j >= max(lo, i-maxLookback); j-- {
			if toks[j].endsSentence {
				break
			}
			if end := matchName(w, text, toks, j, i, key[:0]); end > 0 {
				i, lo, matched = end, end, true
				break
			}
		}
		if matched {
			continue
		}
		// Unknown: report the run of capitalised words from i.
		k := i
		for k+1 < len(toks) && toks[k+1].capital && !toks[k].endsSentence {
			k++
		}
		unknown(text[toks[i].coreStart:toks[k].coreEnd])
		i = k + 1
		lo = i
	}
}

// matchName returns one past the last token of the longest known name
// that starts at token j and covers token i (j <= i), or 0 when none does.
func matchName(w *World, text string, toks []token, j, i int, key []byte) int {
	last := min(len(toks), j+maxNameWords) - 1
	for k := last; k >= i; k-- {
		// A name does not run across a sentence end.
		cross := false
		for m := j; m < k; m++ {
			if toks[m].endsSentence {
				cross = true
				break
			}
		}
		if cross {
			continue
		}
		s := toks[j].coreStart
		if lookupSpan(w, text[s:toks[k].coreEnd], key) ||
			toks[k].softEnd != toks[k].coreEnd && lookupSpan(w, text[s:toks[k].softEnd], key) {
			return k + 1
		}
		// Possessive: "Maud's", "Tinbacks'".
		span := text[s:toks[k].coreEnd]
		if p, ok := strings.CutSuffix(span, "'s"); ok && lookupSpan(w, p, key) {
			return k + 1
		}
		if p, ok := strings.CutSuffix(span, "’s"); ok && lookupSpan(w, p, key) {
			return k + 1
		}
	}
	return 0
}

// lookupSpan reports whether s names something in w. It normalises s the
// way World.Lookup does (lower case, runs of space collapsed, a leading
// "the " dropped) into key's storage, without allocating.
func lookupSpan(w *World, s string, key []byte) bool {
	key = key[:0]
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return lookupSpanUnicode(w, s, key)
		}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f':
			space = len(key) > 0
			continue
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if space {
			key = append(key, ' ')
			space = false
		}
		key = append(key, c)
	}
	return lookupKey(w, key)
}

// lookupSpanUnicode is lookupSpan for text with non-ASCII letters.
func lookupSpanUnicode(w *World, s string, key []byte) bool {
	key = key[:0]
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			space = len(key) > 0
			continue
		}
		if space {
			key = append(key, ' ')
			space = false
		}
		key = utf8.AppendRune(key, unicode.ToLower(r))
	}
	return lookupKey(w, key)
}

// lookupKey looks a normalised key up, dropping a leading "the ".
func lookupKey(w *World, key []byte) bool {
	if len(key) >= 4 && string(key[:4]) == "the " {
		key = key[4:]
	}
	_, ok := w.names[string(key)]
	return ok
}

func isPronounI(word string) bool {
	switch word {
	case "I", "I'm", "I'll", "I've", "I'd", "I’m", "I’ll", "I’ve", "I’d":
		return true
	}
	return false
}

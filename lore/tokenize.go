package lore

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTokenBytes drops longer "words" (URLs, hashes, base64) from the index.
const maxTokenBytes = 64

// appendTokens appends the index terms of s to dst and returns it. The same
// function analyses chunks and queries, so both sides agree:
//
//   - words are maximal runs of Unicode letters and digits, lowercased;
//   - an apostrophe (' ’ ʼ) followed by a lone "s" ends the word (the
//     possessive "aboleth's" is "aboleth"); any other apostrophe between
//     letters is dropped ("can't" is "cant");
//   - one-letter words are dropped (digits are kept: "level 5"), as are words
//     longer than maxTokenBytes and English stopwords;
//   - the rest go through stemPlural.
func appendTokens(dst []string, s string) []string {
	var arr [maxTokenBytes + 8]byte
	buf := arr[:0]
	runes := 0
	emit := func() {
		if len(buf) > 0 && len(buf) <= maxTokenBytes && (runes > 1 || (buf[0] >= '0' && buf[0] <= '9')) {
			if w := string(buf); !isStopword(w) {
				dst = append(dst, stemPlural(w))
			}
		}
		buf = buf[:0]
		runes = 0
	}
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		if isWordRune(r) {
			if len(buf) <= maxTokenBytes {
				buf = utf8.AppendRune(buf, unicode.ToLower(r))
			}
			runes++
			i += size
			continue
		}
		if isApostrophe(r) && len(buf) > 0 {
			j := i + size
			r2, s2 := utf8.DecodeRuneInString(s[j:])
			if j < len(s) && isWordRune(r2) {
				if r2 == 's' || r2 == 'S' {
					r3, _ := utf8.DecodeRuneInString(s[j+s2:])
					if j+s2 >= len(s) || !isWordRune(r3) {
						emit() // possessive: drop the 's
						i = j + s2
						continue
					}
				}
				i = j // inner apostrophe: join the parts
				continue
			}
		}
		emit()
		i += size
	}
	emit()
	return dst
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func isApostrophe(r rune) bool { return r == '\'' || r == '’' || r == 'ʼ' }

// stemPlural is a light English plural stemmer in the spirit of Harman's
// S-stemmer (Harman, "How effective is suffixing?", JASIS 42(1), 1991),
// extended so that "-sses", "-xes", "-ches" and "-shes" plurals meet their
// singulars: "classes"→"class", "boxes"→"box", "wolves" stays (irregular
// plurals are not handled). It never touches "-ss", "-us" or "-is" words
// ("class", "status", "basis").
func stemPlural(w string) string {
	n := len(w)
	switch {
	case n < 4 || w[n-1] != 's':
		return w
	case n > 4 && strings.HasSuffix(w, "ies") && !strings.HasSuffix(w, "eies") && !strings.HasSuffix(w, "aies"):
		return w[:n-3] + "y"
	case n > 4 && (strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "xes") ||
		strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "zzes")):
		return w[:n-2]
	case strings.HasSuffix(w, "ss") || strings.HasSuffix(w, "us") || strings.HasSuffix(w, "is"):
		return w
	}
	return w[:n-1]
}

// isStopword reports whether w (lowercase, apostrophes removed) is an English
// function word that carries no retrieval signal. The list is the common
// core of the SMART and Snowball lists, plus contractions as the tokenizer
// writes them ("dont").
func isStopword(w string) bool {
	switch w {
	case "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are",
		"arent", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both",
		"but", "by", "can", "cannot", "cant", "could", "couldnt", "did", "didnt", "do", "does",
		"doesnt", "doing", "dont", "down", "during", "each", "few", "for", "from", "further", "had",
		"hadnt", "has", "hasnt", "have", "havent", "having", "he", "her", "here",
		"hers", "herself", "hes", "him", "himself", "his", "how", "if", "im", "in",
		"into", "is", "isnt", "it", "its", "itself", "ive", "just", "me", "might", "more", "most",
		"must", "my", "myself", "no", "nor", "not", "of", "off", "on", "once", "only", "or", "other",
		"ought", "our", "ours", "ourselves", "out", "over", "own", "same", "shall", "she", "shes", "should", "shouldnt", "so", "some", "such", "than", "that", "thats", "the", "their",
		"theirs", "them", "themselves", "then", "there", "theres", "these", "they", "theyd",
		"theyll", "theyre", "theyve", "this", "those", "through", "to", "too", "under", "until",
		"up", "upon", "very", "was", "wasnt", "we", "were", "werent", "weve", "what",
		"whats", "when", "where", "which", "while", "who", "whom", "whos", "why", "will", "with",
		"wont", "would", "wouldnt", "yet", "you", "youd", "youll", "your", "youre", "yours",
		"yourself", "yourselves", "youve", "tell", "please":
		return true
	}
	return false
}

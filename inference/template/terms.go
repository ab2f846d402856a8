package template

import (
	"unicode"
	"unicode/utf8"
)

// maxTermLen bounds a term in bytes; longer words are cut (they still match
// themselves, since both sides are cut the same way).
const maxTermLen = 32

// nextTerm finds the next term of s at or after byte i: a run of letters and
// digits, lowercased, with a possessive "'s" (or "’s") dropped. It writes
// the term into buf (cap maxTermLen) and returns it with the index after it;
// term is empty at the end of s.
func nextTerm(s string, i int, buf *[maxTermLen]byte) (term []byte, next int) {
	n := len(s)
	for i < n {
		c := s[i]
		if c < utf8.RuneSelf {
			if isAlnum(c) {
				break
			}
			i++
			continue
		}
		r, sz := utf8.DecodeRuneInString(s[i:])
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			break
		}
		i += sz
	}
	b := buf[:0]
	for i < n {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if isAlnum(c) {
				if len(b) < maxTermLen {
					b = append(b, c)
				}
				i++
				continue
			}
			if c == '\'' && possessive(s, i+1) {
				i += 2
			}
			break
		}
		r, sz := utf8.DecodeRuneInString(s[i:])
		if r == '’' {
			if possessive(s, i+sz) {
				i += sz + 1
			}
			break
		}
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			break
		}
		r = unicode.ToLower(r)
		if len(b)+utf8.RuneLen(r) <= maxTermLen {
			b = utf8.AppendRune(b, r)
		}
		i += sz
	}
	return b, i
}

// possessive reports whether s[i:] starts with an "s" that ends a word.
func possessive(s string, i int) bool {
	if i >= len(s) || (s[i] != 's' && s[i] != 'S') {
		return false
	}
	return i+1 == len(s) || s[i+1] < utf8.RuneSelf && !isAlnum(s[i+1])
}

func isAlnum(c byte) bool {
	return (c|0x20)-'a' < 26 || c-'0' < 10
}

// stem applies light plural stemming to a lowercase term in place: "ies" →
// "y" (abilities → ability), "es" after s, x, z, ch or sh (boxes → box), and
// a final "s" except after s, u or i (points → point; class, nervous and
// basis stay). It is deliberately weaker than Porter's stemmer: it only
// needs to make a question's words meet the same words in the lore, and
// both sides are stemmed the same way.
func stem(b []byte) []byte {
	n := len(b)
	if n <= 3 || b[n-1] != 's' {
		return b
	}
	for _, c := range b {
		if c < 'a' || c > 'z' {
			return b // numbers, dice, non-ASCII: leave alone
		}
	}
	switch {
	case n > 4 && b[n-3] == 'i' && b[n-2] == 'e':
		b[n-3] = 'y'
		return b[:n-2]
	case n > 4 && b[n-2] == 'e' && (b[n-3] == 's' || b[n-3] == 'x' || b[n-3] == 'z' ||
		b[n-3] == 'h' && (b[n-4] == 'c' || b[n-4] == 's')):
		return b[:n-2]
	case b[n-2] == 's' || b[n-2] == 'u' || b[n-2] == 'i':
		return b
	}
	return b[:n-1]
}

// stopwordList holds function words and question words that carry no
// topic. They are checked before stemming. "mine" is not one: in game
// worlds it is usually a place.
const stopwordList = `a an the is are was were be been being am do does did doing done
have has had having what whats which who whom whose where when why how many much
i me my myself you your yours yourself we us our ours he him his she her hers it its
they them their theirs this that these those there here of in on at to for from by with
about into onto over under upon and or but nor not no yes if then so than too very can
could would should will shall may might must tell know knows say said says any some all
more most other such only own same just also please thank thanks ok okay well like get
got really now anything something thing things one up out as s t d m ll re ve don doesn
didn isn aren wasn weren won wouldn couldn shouldn cant im ive youre whats hows wheres
think heard hear let lets give me kind sort bit lot lots go going way even still ever
again anyone someone else around ya yeah hey hello hi greetings greeting hail howdy hiya
dear sir madam friend`

// greetList words may make up a greeting; one strongGreetList word must
// appear in it.
const greetList = `hello hi hey hiya greetings greeting hail howdy yo ho salutations
good day morning evening afternoon well met there friend sir madam to you again
and a fine how are do`

const strongGreetList = `hello hi hey hiya greetings greeting hail howdy yo salutations
morning evening afternoon day met`

// farewellList words may make up a farewell; one strongFarewellList word
// must appear in it.
const farewellList = `bye goodbye farewell later see you ya soon take care good night
cheers then well friend sir madam safe travels travel until next time must go got gotta
leave leaving now i be off for im and so`

const strongFarewellList = `bye goodbye farewell night later`

// setOf returns the set of the terms of words, lowercased, not stemmed.
func setOf(words string) map[string]struct{} {
	m := map[string]struct{}{}
	var buf [maxTermLen]byte
	for i := 0; ; {
		t, next := nextTerm(words, i, &buf)
		if len(t) == 0 {
			return m
		}
		m[string(t)] = struct{}{}
		i = next
	}
}

package template

import (
	"math/bits"
	"strings"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/inference"
)

// Limits on the work one answer may do, so the floor stays in microseconds
// whatever the caller passes.
const (
	maxQTerms    = 32       // content terms kept from the player's line
	maxFacts     = 16       // facts scanned
	maxFactBytes = 16 << 10 // bytes scanned per fact
	maxStatLine  = 200      // a line up to this long with an early colon is one unit
	maxShortLine = 80       // a line up to this long is one unit
	maxFactWords = 36       // words of fact text in an answer
	topK         = 4        // candidate units kept
)

// question is the analysed player line.
type question struct {
	n        int                          // content terms
	lens     [maxQTerms]uint8             // term k is store[k*maxTermLen:][:lens[k]]
	store    [maxQTerms * maxTermLen]byte // (offsets, not slices, so q stays on the stack)
	first    [4]uint64                    // bit set of the terms' first bytes
	greeting bool                         // the line is only a greeting (or has no content at all)
	aboutMe  bool                         // the player asks whether the NPC remembers them
	farewell bool                         // the line is only a farewell
}

func (q *question) term(k int) []byte {
	return q.store[k*maxTermLen : k*maxTermLen+int(q.lens[k])]
}

// mayHave is a cheap filter: false means t is not one of q's terms.
func (q *question) mayHave(t []byte) bool { return q.mayStart(t[0]) }

func (q *question) mayStart(c byte) bool {
	return q.first[c>>6]&(1<<(c&63)) != 0
}

// analyse splits text into content terms (stopwords dropped, stemmed,
// deduplicated) and recognises greetings and farewells.
func (m *Model) analyse(text string, q *question) {
	var buf [maxTermLen]byte
	allGreet, anyGreet := true, false
	allBye, anyBye := true, false
	words := 0
	remember, me := false, false
	for i := 0; ; {
		t, next := nextTerm(text, i, &buf)
		if len(t) == 0 {
			break
		}
		i = next
		words++
		switch string(t) {
		case "remember", "recall", "recognise", "recognize", "forget", "forgotten", "forgot":
			remember = true
		case "me", "i", "us":
			me = true
		}
		if _, ok := m.greet[string(t)]; !ok {
			allGreet = false
		} else if _, ok := m.strongGreet[string(t)]; ok {
			anyGreet = true
		}
		if _, ok := m.farewell[string(t)]; !ok {
			allBye = false
		} else if _, ok := m.strongFarewell[string(t)]; ok {
			anyBye = true
		}
		if _, stop := m.stop[string(t)]; stop || len(t) < 2 && !isDigit(t[0]) {
			continue
		}
		t = stem(t)
		if q.n == maxQTerms || q.has(t) >= 0 {
			continue
		}
		copy(q.store[q.n*maxTermLen:], t)
		q.lens[q.n] = uint8(len(t))
		q.first[t[0]>>6] |= 1 << (t[0] & 63)
		q.n++
	}
	q.aboutMe = remember && me
	q.farewell = words > 0 && allBye && anyBye
	q.greeting = !q.farewell && (words > 0 && allGreet && anyGreet || q.n == 0)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// has returns the index of term t in q, or -1.
func (q *question) has(t []byte) int {
	for k := 0; k < q.n; k++ {
		if int(q.lens[k]) == len(t) && string(q.term(k)) == string(t) {
			return k
		}
	}
	return -1
}

// mask returns the set of q's terms that occur in s, as bits, and the
// number of terms in s. It splits terms exactly like nextTerm, but scans
// ASCII words in place and only copies, lowercases and stems a word whose
// first letter some question term starts with.
func (q *question) mask(s string) (m uint64, terms int) {
	var buf [maxTermLen]byte
	for i, n := 0, len(s); i < n; {
		c := s[i]
		if c < utf8.RuneSelf && !isAlnum(c) {
			i++
			continue
		}
		j := i
		for j < n && s[j] < utf8.RuneSelf && isAlnum(s[j]) {
			j++
		}
		if j == i || j < n && s[j] >= utf8.RuneSelf {
			// Non-ASCII inside or at the end of the word: the general path.
			t, next := nextTerm(s, i, &buf)
			if len(t) == 0 {
				break
			}
			terms++
			i = next
			if q.mayHave(t) {
				if k := q.has(stem(t)); k >= 0 {
					m |= 1 << k
				}
			}
			continue
		}
		terms++
		if q.mayStart(lower(c)) {
			t := buf[:0]
			for _, c := range []byte(s[i:min(j, i+maxTermLen)]) {
				t = append(t, lower(c))
			}
			if k := q.has(stem(t)); k >= 0 {
				m |= 1 << k
			}
		}
		i = j
		if i+1 < n && s[i] == '\'' && possessive(s, i+1) {
			i += 2
		}
	}
	return m, terms
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// namesSubject reports whether every content term of subject (a heading)
// is one of q's terms.
func (m *Model) namesSubject(q *question, subject string) bool {
	var buf [maxTermLen]byte
	n := 0
	for i := 0; ; {
		t, next := nextTerm(subject, i, &buf)
		if len(t) == 0 {
			return n > 0
		}
		i = next
		if _, stop := m.stop[string(t)]; stop {
			continue
		}
		if !q.mayHave(t) || q.has(stem(t)) < 0 {
			return false
		}
		n++
	}
}

// candidate is one sentence or line of a fact, scored against a question.
type candidate struct {
	unit     string
	fact     int
	ord      int // position among all units, for document order
	unitMask uint64
	headMask uint64
	score    float64
}

// findAnswer scores every unit (sentence, or line of a stat block) of the
// facts against q and returns the best one or two, best first; n is 0 when
// no unit is relevant.
//
// Scoring is a small hand-tuned lexical overlap, in the spirit of BM25's
// term matching without its corpus statistics (one request's facts are too
// few for useful document frequencies). A unit scores:
//
//   - 2 per question term it contains that its fact's heading path does not,
//   - 1 per question term in the heading path (whether or not the unit
//     repeats it, so a long sentence that names the subject again does not
//     beat the stat line that answers),
//   - 1 if it is a stat-block line whose key ("Armor Class" in "Armor Class:
//     17") consists only of question terms: it answers exactly what was asked,
//   - up to 1 for density, the share of its own terms that are question
//     terms (short, to-the-point units win ties),
//   - up to 0.5 for its fact's retrieval score, relative to the best fact.
//
// A unit is relevant when its fact's subject (the last heading, stopwords
// aside) is named in full by the question, or when the question terms it and
// its heading cover are at least half of the question's content terms: a
// single shared common word ("new", "old") is not enough. Ties go
// to the earlier unit, so a question that only matches a heading gets the
// fact's first line. A second unit is added when it contains question terms
// the first one and its heading did not cover.
func (m *Model) findAnswer(q *question, facts []inference.Fact) (out [2]candidate, n int) {
	if q.n == 0 {
		return out, 0
	}
	need := (q.n + 1) / 2
	if len(facts) > maxFacts {
		facts = facts[:maxFacts]
	}
	maxScore := 0.0
	for i := range facts {
		maxScore = max(maxScore, facts[i].Score)
	}
	var top [topK]candidate
	nTop := 0
	ord := 0
	for fi := range facts {
		f := &facts[fi]
		var head uint64
		for _, h := range f.Heading {
			hm, _ := q.mask(h)
			head |= hm
		}
		subject := len(f.Heading) > 0 && m.namesSubject(q, f.Heading[len(f.Heading)-1])
		bonus := 0.0
		if maxScore > 0 && f.Score > 0 {
			bonus = 0.5 * f.Score / maxScore
		}
		text := f.Text
		if len(text) > maxFactBytes {
			text = text[:maxFactBytes]
		}
		for i := 0; ; {
			unit, key, next := nextUnit(text, i)
			if next >= len(text) && unit == "" {
				break
			}
			i = next
			if unit == "" {
				continue
			}
			ord++
			um, terms := q.mask(unit)
			if !subject && bits.OnesCount64(um|head) < need {
				continue
			}
			score := float64(2*bits.OnesCount64(um&^head)+bits.OnesCount64(head)) + bonus
			if terms > 0 {
				score += float64(bits.OnesCount64(um)) / float64(terms)
			}
			if key > 0 {
				if km, kt := q.mask(unit[:key]); kt > 0 && bits.OnesCount64(km) == kt {
					score++
				}
			}
			c := candidate{unit: unit, fact: fi, ord: ord, unitMask: um, headMask: head, score: score}
			// Insert into top, keeping it sorted by score (stable).
			if nTop < topK {
				nTop++
			} else if c.score <= top[topK-1].score {
				continue
			}
			j := nTop - 1
			for j > 0 && top[j-1].score < c.score {
				top[j] = top[j-1]
				j--
			}
			top[j] = c
		}
	}
	if nTop == 0 {
		return out, 0
	}
	out[0], n = top[0], 1
	covered := top[0].unitMask | top[0].headMask
	for _, c := range top[1:nTop] {
		if c.unitMask&^covered != 0 {
			out[1], n = c, 2
			if c.fact == out[0].fact && c.ord < out[0].ord {
				out[0], out[1] = out[1], out[0] // keep document order within a fact
			}
			break
		}
	}
	return out, n
}

// nextUnit returns the next unit of text at or after i, trimmed, and the
// index after it. Units are: a short line or a stat-block line ("Armor
// Class: 17") whole; otherwise each sentence of a line. Markdown heading
// lines are skipped and list markers and table pipes stripped. unit may be
// empty for a skipped line; next == len(text) at the end. key is the length
// of a stat line's key (the text before its colon), else 0.
func nextUnit(text string, i int) (unit string, key, next int) {
	for i < len(text) && isSpace(text[i]) {
		i++
	}
	if i >= len(text) {
		return "", 0, len(text)
	}
	end := strings.IndexByte(text[i:], '\n')
	if end < 0 {
		end = len(text)
	} else {
		end += i
	}
	if lineStart(text, i) {
		if text[i] == '#' {
			return "", 0, end
		}
		for i < end && isMarker(text[i]) {
			i++
		}
		e := end
		for e > i && (isMarker(text[e-1]) || text[e-1] == '\r') {
			e--
		}
		line := text[i:e]
		if line == "" {
			return "", 0, end
		}
		c := strings.IndexByte(line, ':')
		if c > 0 && c <= 40 && len(line) <= maxStatLine {
			return line, c, end
		}
		if len(line) <= maxShortLine {
			return line, 0, end
		}
	}
	// A sentence: up to [.!?] followed by a space and a capital, digit or
	// quote, or the end of the line.
	for k := i; k < end; k++ {
		c := text[k]
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		j := k + 1
		for j < end && (text[j] == '"' || text[j] == '\'' || text[j] == ')') {
			j++
		}
		if j == end {
			return strings.TrimSpace(text[i:j]), 0, j
		}
		if text[j] != ' ' {
			continue
		}
		j2 := j
		for j2 < end && text[j2] == ' ' {
			j2++
		}
		if j2 < end && (text[j2] >= 'A' && text[j2] <= 'Z' || isDigit(text[j2]) || text[j2] == '"' || text[j2] >= utf8.RuneSelf) {
			return strings.TrimSpace(text[i:j]), 0, j
		}
	}
	return strings.TrimSpace(text[i:end]), 0, end
}

// lineStart reports whether only blanks precede text[i] on its line.
func lineStart(text string, i int) bool {
	for j := i - 1; j >= 0; j-- {
		switch text[j] {
		case '\n':
			return true
		case ' ', '\t', '\r':
		default:
			return false
		}
	}
	return true
}

// isMarker reports Markdown list, quote and table decoration (and blanks)
// stripped from the ends of a line.
func isMarker(c byte) bool {
	return c == '-' || c == '*' || c == '+' || c == '>' || c == '|' || c == ' ' || c == '\t'
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

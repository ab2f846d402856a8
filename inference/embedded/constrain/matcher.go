package constrain

import (
	"fmt"
)

// Number digit limits (see the package comment): 16 integer digits and 20
// fraction digits always parse as a finite float64 and bound the length of
// every number the model can write.
const (
	maxNumberIntDigits  = 16
	maxNumberFracDigits = 20
)

// Digit limits of numbers with bounds: magnitudes are tracked exactly as
// integers in units of 10^-6, which stay below 10^18 < 2^63.
const (
	boundedIntDigits  = 12
	boundedFracDigits = 6
)

// fkind is the kind of an automaton frame.
type fkind uint8

const (
	fDone    fkind = iota // document complete: only EOS may follow
	fValue                // expecting the first byte of a value of node
	fObject               // inside an object
	fArray                // inside an array
	fString               // inside a free string
	fEnum                 // inside an enum string
	fInt                  // inside an integer
	fNumber               // inside a number
	fLiteral              // inside true/false/null
)

// Object phases.
const (
	oOpen  uint8 = iota // after '{'
	oValue              // after the value of property n
	oComma              // after ','
	oKey                // inside a key; m is the key trie node
	oColon              // after the key's closing quote; m is the property
)

// Array phases.
const (
	aOpen  uint8 = iota // after '['
	aValue              // after item n
	aComma              // after ','
)

// Number phases.
const (
	nStart uint8 = iota
	nSign        // after '-'
	nZero        // integer part "0"
	nInt         // integer part [1-9][0-9]*
	nDot         // after '.'
	nFrac        // fraction digits
)

var literals = [3]string{"true", "false", "null"}

// frame is the state of the innermost open value. Fields are reused per kind
// as commented; it stays 40 bytes so states copy cheaply during Mask.
type frame struct {
	node *node
	val  uint64 // fInt: magnitude so far; bounded fNumber: digits so far as an integer (integer part, or integer and fraction digits)
	n    int32  // fString: code points; fArray: items; fObject: last property index (-1: none); fEnum: trie node; fLiteral: bytes matched; fInt/fNumber: digits in the current part
	m    int32  // fObject: key trie node (oKey) or chosen property (oColon)
	kind fkind
	// phase: fObject/fArray/fNumber phase; fLiteral: index into literals.
	phase uint8
	// esc: fString escape state: 0 none, 1 after '\', 2 first hex digit,
	// 3 second hex after 'd' (0-7 only, no surrogates), 4-6 hex digits 2-4.
	esc          uint8
	utfLeft      uint8 // fString: UTF-8 continuation bytes still expected
	utfLo, utfHi byte  // fString: allowed range of the next continuation byte
	neg          bool  // fInt, bounded fNumber: a '-' was read
}

// link is one frozen frame of the parent stack. Links are immutable once
// created, so states sharing them can be copied freely.
type link struct {
	f    frame
	next *link
}

// state is the whole automaton state: the innermost frame plus its parents.
type state struct {
	top  frame
	rest *link
}

func (s *state) push(f frame) {
	s.rest = &link{f: s.top, next: s.rest}
	s.top = f
}

func (s *state) pop() {
	s.top = s.rest.f
	s.rest = s.rest.next
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

func isHex(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F'
}

// intFeasible reports whether an integer whose magnitude prefix is p (p > 0,
// or the complete literal "0" when zero is set) can be completed to a value
// of nd within range: some j >= 0 with [p·10^j, (p+1)·10^j − 1] meeting the
// allowed magnitudes of that sign.
func intFeasible(nd *node, neg bool, p uint64, zero bool) bool {
	var lo, hi uint64
	if neg {
		if !nd.hasNeg {
			return false
		}
		lo, hi = nd.negLo, nd.negHi
	} else {
		if !nd.hasPos {
			return false
		}
		lo, hi = nd.posLo, nd.posHi
	}
	if zero {
		return lo == 0
	}
	// a <= hi <= 2^63 and w <= a, so a+w-1 < 2^64 never overflows.
	for a, w := p, uint64(1); a <= hi; a, w = a*10, w*10 {
		if a+w-1 >= lo {
			return true
		}
		if a > hi/10 {
			break
		}
	}
	return false
}

// intComplete reports whether the integer read so far is a finished value
// in range.
func intComplete(f *frame) bool {
	if f.n == 0 {
		return false
	}
	nd := f.node
	if f.neg {
		return nd.hasNeg && f.val >= nd.negLo && f.val <= nd.negHi
	}
	return nd.hasPos && f.val >= nd.posLo && f.val <= nd.posHi
}

// numberComplete reports whether the number read so far is a finished
// value (and, for bounded numbers, within range).
func numberComplete(f *frame) bool {
	if f.phase != nZero && f.phase != nInt && f.phase != nFrac {
		return false
	}
	if !f.node.bounded {
		return true
	}
	return numInRange(f.node, f.neg, numScaled(f), 1, 0)
}

// numScaled returns a complete bounded number's magnitude in units of
// 10^-boundedFracDigits.
func numScaled(f *frame) uint64 {
	if f.phase == nFrac {
		return f.val * pow10(boundedFracDigits-int(f.n))
	}
	return f.val * pow10(boundedFracDigits)
}

// numInRange reports whether some j in 0..maxJ has the interval
// [a·10^j, a·10^j + w·10^j − 1] meeting the allowed magnitudes of the sign
// (the same argument as intFeasible, in units of 10^-boundedFracDigits).
func numInRange(nd *node, neg bool, a, w uint64, maxJ int) bool {
	var lo, hi uint64
	if neg {
		if !nd.hasNeg {
			return false
		}
		lo, hi = nd.negLo, nd.negHi
	} else {
		if !nd.hasPos {
			return false
		}
		lo, hi = nd.posLo, nd.posHi
	}
	for j := 0; j <= maxJ && a <= hi; j++ {
		if a+w-1 >= lo {
			return true
		}
		if a > hi/10 {
			break
		}
		a, w = a*10, w*10
	}
	return false
}

// stepBoundedNumber advances a bounded number by b. end reports that the
// number is complete and b belongs to the parent; otherwise ok says
// whether b is allowed. A digit or '.' is allowed only if some completion
// of the new prefix lies in range.
func (s *state) stepBoundedNumber(b byte) (ok, end bool) {
	f := &s.top
	nd := f.node
	e := pow10(boundedFracDigits)
	switch {
	case b == '-' && f.phase == nStart:
		if !nd.hasNeg {
			return false, false
		}
		f.neg, f.phase = true, nSign
		return true, false
	case isDigit(b):
		d := uint64(b - '0')
		switch f.phase {
		case nStart, nSign:
			if d == 0 {
				if !numInRange(nd, f.neg, 0, e, 0) {
					return false, false
				}
				f.phase, f.n, f.val = nZero, 1, 0
				return true, false
			}
			if !numInRange(nd, f.neg, d*e, e, boundedIntDigits-1) {
				return false, false
			}
			f.phase, f.n, f.val = nInt, 1, d
			return true, false
		case nInt:
			if f.n >= boundedIntDigits {
				return false, false
			}
			v := f.val*10 + d
			if !numInRange(nd, f.neg, v*e, e, boundedIntDigits-1-int(f.n)) {
				return false, false
			}
			f.n, f.val = f.n+1, v
			return true, false
		case nDot, nFrac:
			if f.n >= boundedFracDigits {
				return false, false
			}
			v := f.val*10 + d
			w := pow10(boundedFracDigits - int(f.n) - 1)
			if !numInRange(nd, f.neg, v*w, w, 0) {
				return false, false
			}
			f.phase, f.n, f.val = nFrac, f.n+1, v
			return true, false
		}
		return false, false // nZero: no leading zeros
	case b == '.' && (f.phase == nZero || f.phase == nInt):
		if !numInRange(nd, f.neg, f.val*e, e, 0) {
			return false, false
		}
		f.phase, f.n = nDot, 0
		return true, false
	}
	return false, numberComplete(f)
}

// step advances the state by one byte and reports whether the byte is
// allowed. On false the state is left in an unspecified condition; callers
// step a copy.
func (s *state) step(b byte) bool {
	for {
		f := &s.top
		switch f.kind {
		case fDone:
			return false

		case fValue:
			nd := f.node
			switch nd.kind {
			case kObject:
				if b != '{' {
					return false
				}
				*f = frame{kind: fObject, node: nd, n: -1, phase: oOpen}
				return true
			case kArray:
				if b != '[' {
					return false
				}
				*f = frame{kind: fArray, node: nd, phase: aOpen}
				return true
			case kString:
				if b != '"' {
					return false
				}
				if nd.enumTrie != nil {
					*f = frame{kind: fEnum, node: nd}
				} else {
					*f = frame{kind: fString, node: nd}
				}
				return true
			case kInteger:
				if b != '-' && !isDigit(b) {
					return false
				}
				*f = frame{kind: fInt, node: nd}
				continue
			case kNumber:
				if b != '-' && !isDigit(b) {
					return false
				}
				*f = frame{kind: fNumber, node: nd, phase: nStart}
				continue
			case kBoolean:
				switch b {
				case 't':
					*f = frame{kind: fLiteral, node: nd, phase: 0, n: 1}
				case 'f':
					*f = frame{kind: fLiteral, node: nd, phase: 1, n: 1}
				default:
					return false
				}
				return true
			case kNull:
				if b != 'n' {
					return false
				}
				*f = frame{kind: fLiteral, node: nd, phase: 2, n: 1}
				return true
			}
			return false

		case fString:
			if f.utfLeft > 0 {
				if b < f.utfLo || b > f.utfHi {
					return false
				}
				f.utfLeft--
				f.utfLo, f.utfHi = 0x80, 0xBF
				return true
			}
			switch f.esc {
			case 0:
				nd := f.node
				switch {
				case b == '"':
					if f.n >= nd.minLen {
						s.pop()
						return true
					}
					return false
				case b < 0x20 || f.n >= nd.maxLen:
					return false
				case b == '\\':
					f.esc = 1
				case b < 0x80:
				case b >= 0xC2 && b <= 0xDF:
					f.utfLeft, f.utfLo, f.utfHi = 1, 0x80, 0xBF
				case b == 0xE0:
					f.utfLeft, f.utfLo, f.utfHi = 2, 0xA0, 0xBF
				case b == 0xED:
					f.utfLeft, f.utfLo, f.utfHi = 2, 0x80, 0x9F
				case b >= 0xE1 && b <= 0xEF:
					f.utfLeft, f.utfLo, f.utfHi = 2, 0x80, 0xBF
				case b == 0xF0:
					f.utfLeft, f.utfLo, f.utfHi = 3, 0x90, 0xBF
				case b >= 0xF1 && b <= 0xF3:
					f.utfLeft, f.utfLo, f.utfHi = 3, 0x80, 0xBF
				case b == 0xF4:
					f.utfLeft, f.utfLo, f.utfHi = 3, 0x80, 0x8F
				default:
					return false
				}
				f.n++
				return true
			case 1:
				switch b {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					f.esc = 0
					return true
				case 'u':
					f.esc = 2
					return true
				}
				return false
			case 2:
				if !isHex(b) {
					return false
				}
				if b == 'd' || b == 'D' {
					f.esc = 3
				} else {
					f.esc = 4
				}
				return true
			case 3:
				if b < '0' || b > '7' {
					return false
				}
				f.esc = 5
				return true
			default: // 4, 5, 6
				if !isHex(b) {
					return false
				}
				if f.esc == 6 {
					f.esc = 0
				} else {
					f.esc++
				}
				return true
			}

		case fEnum:
			t := f.node.enumTrie
			c := t.child(f.n, b)
			if c < 0 {
				return false
			}
			if t.nodes[c].leaf >= 0 {
				s.pop()
				return true
			}
			f.n = c
			return true

		case fInt:
			if isDigit(b) {
				d := uint64(b - '0')
				if f.n > 0 && f.val == 0 { // no leading zeros
					return false
				}
				if f.n == 0 && d == 0 {
					if f.neg || !intFeasible(f.node, false, 0, true) { // no "-0"
						return false
					}
					f.n = 1
					return true
				}
				if f.val > (1<<63)/10 {
					return false
				}
				nv := f.val*10 + d
				if !intFeasible(f.node, f.neg, nv, false) {
					return false
				}
				f.val = nv
				f.n++
				return true
			}
			if b == '-' && f.n == 0 && !f.neg {
				if !f.node.hasNeg {
					return false
				}
				f.neg = true
				return true
			}
			if !intComplete(f) {
				return false
			}
			s.pop() // the integer ends here; the parent reads b
			continue

		case fNumber:
			if f.node.bounded {
				ok, end := s.stepBoundedNumber(b)
				if !end {
					return ok
				}
				s.pop()
				continue
			}
			if isDigit(b) {
				switch f.phase {
				case nStart, nSign:
					if b == '0' {
						f.phase = nZero
					} else {
						f.phase = nInt
					}
					f.n = 1
					return true
				case nInt:
					if f.n < maxNumberIntDigits {
						f.n++
						return true
					}
					return false
				case nDot:
					f.phase, f.n = nFrac, 1
					return true
				case nFrac:
					if f.n < maxNumberFracDigits {
						f.n++
						return true
					}
					return false
				}
				return false // nZero: no leading zeros
			}
			switch {
			case b == '-' && f.phase == nStart:
				f.phase = nSign
				return true
			case b == '.' && (f.phase == nZero || f.phase == nInt):
				f.phase = nDot
				return true
			}
			if !numberComplete(f) {
				return false
			}
			s.pop()
			continue

		case fLiteral:
			lit := literals[f.phase]
			if lit[f.n] != b {
				return false
			}
			f.n++
			if int(f.n) == len(lit) {
				s.pop()
			}
			return true

		case fObject:
			nd := f.node
			switch f.phase {
			case oOpen, oValue:
				switch b {
				case '}':
					if nd.reqAfter[f.n+1] {
						return false
					}
					s.pop()
					return true
				case '"':
					if f.phase != oOpen || f.n+1 > nd.lastAllowed[f.n+1] {
						return false
					}
					f.phase, f.m = oKey, 0
					return true
				case ',':
					if f.phase != oValue || f.n+1 > nd.lastAllowed[f.n+1] {
						return false
					}
					f.phase = oComma
					return true
				}
				return false
			case oComma:
				if b != '"' {
					return false
				}
				f.phase, f.m = oKey, 0
				return true
			case oKey:
				t := nd.keys
				c := t.child(f.m, b)
				if c < 0 || !t.anyIn(c, f.n+1, nd.lastAllowed[f.n+1]) {
					return false
				}
				if leaf := t.nodes[c].leaf; leaf >= 0 {
					f.phase, f.m = oColon, leaf
				} else {
					f.m = c
				}
				return true
			case oColon:
				if b != ':' {
					return false
				}
				f.phase, f.n = oValue, f.m
				s.push(frame{kind: fValue, node: nd.props[f.m].node})
				return true
			}
			return false

		case fArray:
			nd := f.node
			switch f.phase {
			case aOpen:
				if b == ']' {
					if nd.minItems > 0 {
						return false
					}
					s.pop()
					return true
				}
				if nd.maxItems == 0 {
					return false
				}
				f.phase, f.n = aValue, 1
				s.push(frame{kind: fValue, node: nd.items})
				continue
			case aValue:
				switch b {
				case ',':
					if f.n >= nd.maxItems {
						return false
					}
					f.phase = aComma
					return true
				case ']':
					if f.n < nd.minItems {
						return false
					}
					s.pop()
					return true
				}
				return false
			case aComma:
				f.phase = aValue
				f.n++
				s.push(frame{kind: fValue, node: nd.items})
				continue
			}
			return false
		}
		return false
	}
}

// canEnd reports whether the document is complete, i.e. EOS may come next.
// Open numbers are complete when their digits so far form a valid value.
func (s state) canEnd() bool {
	for {
		switch s.top.kind {
		case fDone:
			return true
		case fInt:
			if !intComplete(&s.top) {
				return false
			}
		case fNumber:
			if !numberComplete(&s.top) {
				return false
			}
		default:
			return false
		}
		s.pop()
	}
}

// Matcher tracks one generation against a Schema over a Vocab. It is not
// safe for concurrent use; Clone gives an independent copy.
type Matcher struct {
	v        *Vocab
	st       state
	finished bool // EOS has been accepted
}

// NewMatcher starts a matcher at the beginning of a document. A nil v is
// treated as an empty vocabulary (every Accept fails, Mask allows nothing).
func (s *Schema) NewMatcher(v *Vocab) *Matcher {
	if v == nil {
		v = NewVocab(nil, -1)
	}
	return &Matcher{v: v, st: state{top: frame{kind: fValue, node: s.root}, rest: s.done}}
}

// Clone returns an independent copy of m in O(1): the parent stack is
// immutable and shared.
func (m *Matcher) Clone() *Matcher {
	c := *m
	return &c
}

// Done reports whether a complete valid document has been produced: either
// EOS has been accepted or EOS would be allowed now.
func (m *Matcher) Done() bool {
	return m.finished || m.st.canEnd()
}

// Mask writes into allowed[id] whether token id may come next, for every id
// of the vocabulary (ids at or beyond len(allowed) are skipped, entries
// beyond the vocabulary size are set false). Control tokens (nil bytes) are
// never allowed; EOS is allowed only when the document is complete, and
// after EOS has been accepted only EOS is allowed. Cost: one automaton step
// per trie node whose prefix is still allowed (see the package comment).
func (m *Matcher) Mask(allowed []bool) {
	clear(allowed)
	eos := m.v.eos
	if m.finished || m.st.canEnd() {
		if eos >= 0 && eos < len(allowed) {
			allowed[eos] = true
		}
		if m.finished {
			return
		}
	}
	m.v.walk(0, m.st, allowed)
}

// walk marks every token below trie node n whose bytes the state accepts.
func (v *Vocab) walk(n int32, st state, allowed []bool) {
	for e := v.edgeStart[n]; e < v.edgeStart[n+1]; e++ {
		s2 := st
		if !s2.step(v.edgeByte[e]) {
			continue
		}
		c := v.edgeChild[e]
		if v.plainBelow[c] && s2.top.kind == fString && s2.top.esc == 0 && s2.top.utfLeft == 0 {
			// Inside a free string and only plain one-byte characters
			// below: a token is allowed iff its remaining bytes fit in the
			// room left by maxLength, so no stepping is needed.
			room := int64(s2.top.node.maxLen) - int64(s2.top.n)
			lo, hi := v.spanLo[c], v.spanHi[c]
			if int64(v.maxTail[c]) <= room {
				for _, id := range v.sorted[lo:hi] {
					if int(id) < len(allowed) {
						allowed[id] = true
					}
				}
			} else {
				room += int64(v.depth[c])
				for i := lo; i < hi; i++ {
					if id := v.sorted[i]; int64(v.sortedLen[i]) <= room && int(id) < len(allowed) {
						allowed[id] = true
					}
				}
			}
			continue
		}
		for _, id := range v.tokIDs[v.tokStart[c]:v.tokStart[c+1]] {
			if int(id) < len(allowed) {
				allowed[id] = true
			}
		}
		if v.edgeStart[c] < v.edgeStart[c+1] {
			v.walk(c, s2, allowed)
		}
	}
}

// Accept advances the matcher by token id. It returns an error, leaving the
// matcher unchanged, when id is outside the vocabulary, is a control token,
// is EOS while the document is incomplete, follows an accepted EOS, or has
// bytes the schema does not allow here (the error gives the offending byte
// offset within the token).
func (m *Matcher) Accept(id int) error {
	if id < 0 || id >= len(m.v.tokens) {
		return fmt.Errorf("constrain: token id %d outside the vocabulary of %d tokens", id, len(m.v.tokens))
	}
	if m.finished {
		return fmt.Errorf("constrain: token %d after end of sequence", id)
	}
	if id == m.v.eos {
		if !m.st.canEnd() {
			return fmt.Errorf("constrain: end of sequence (token %d) before the document is complete", id)
		}
		m.finished = true
		return nil
	}
	tok := m.v.tokens[id]
	if len(tok) == 0 {
		return fmt.Errorf("constrain: token %d is a control token and cannot be emitted", id)
	}
	s := m.st
	for i, b := range tok {
		if !s.step(b) {
			return fmt.Errorf("constrain: token %d %q not allowed: byte %d (%q) violates the schema at this point", id, tok, i, b)
		}
	}
	m.st = s
	return nil
}

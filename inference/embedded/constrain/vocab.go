package constrain

import (
	"bytes"
	"slices"
)

// Vocab is a tokenizer vocabulary prepared for masking: every emittable
// token's bytes in a byte trie (built once, shared read-only by all
// matchers; safe for concurrent use).
type Vocab struct {
	tokens [][]byte // per id; nil or empty: never emitted
	eos    int      // EOS id, or -1

	// Trie in flat arrays. Node 0 is the root (the empty prefix). The edges
	// of node n are edgeByte/edgeChild[edgeStart[n]:edgeStart[n+1]], sorted
	// by byte; the ids of the tokens whose bytes end at n are
	// tokIDs[tokStart[n]:tokStart[n+1]].
	edgeStart []int32
	edgeByte  []byte
	edgeChild []int32
	tokStart  []int32
	tokIDs    []int32

	// Fast path for free strings. Token ids sorted by bytes (sorted) list
	// every subtree contiguously: node n's subtree is
	// sorted[spanLo[n]:spanHi[n]]. plainBelow[n] says every byte below n is
	// a plain string character (0x20-0x7E except '"' and '\', one code
	// point each); maxTail[n] is the most bytes any token extends below n.
	sorted     []int32
	sortedLen  []int32 // byte length of sorted[i]
	depth      []int32 // prefix length of each node
	spanLo     []int32
	spanHi     []int32
	plainBelow []bool
	maxTail    []int32
}

// plainByte reports whether b is one code point inside a JSON string that
// needs no escape and no further bytes.
func plainByte(b byte) bool { return b >= 0x20 && b < 0x7F && b != '"' && b != '\\' }

// NewVocab prepares a vocabulary. tokens[id] is token id's raw bytes (as
// the tokenizer decodes it, e.g. " the", "\",\"" or a single byte of a
// multi-byte UTF-8 character); nil or empty marks a control token that can
// never be emitted. eos is the end-of-sequence id (its bytes are ignored); an
// eos outside [0, len(tokens)) means the vocabulary has no EOS token and
// Mask never allows one. The tokens are copied. Cost: O(total bytes · log)
// to sort plus one trie node per distinct prefix.
func NewVocab(tokens [][]byte, eos int) *Vocab {
	if eos < 0 || eos >= len(tokens) {
		eos = -1
	}
	v := &Vocab{tokens: make([][]byte, len(tokens)), eos: eos}
	var ids []int32
	for id, t := range tokens {
		if len(t) == 0 || id == eos {
			continue
		}
		v.tokens[id] = bytes.Clone(t)
		ids = append(ids, int32(id))
	}
	slices.SortStableFunc(ids, func(a, b int32) int { return bytes.Compare(v.tokens[a], v.tokens[b]) })

	// Breadth-first over ranges of the sorted ids that share a prefix, so
	// every node's edges are contiguous.
	type span struct{ lo, hi, depth int }
	queue := []span{{0, len(ids), 0}}
	for qi := 0; qi < len(queue); qi++ {
		sp := queue[qi]
		v.edgeStart = append(v.edgeStart, int32(len(v.edgeByte)))
		v.tokStart = append(v.tokStart, int32(len(v.tokIDs)))
		v.spanLo = append(v.spanLo, int32(sp.lo))
		v.depth = append(v.depth, int32(sp.depth))
		v.spanHi = append(v.spanHi, int32(sp.hi))
		i := sp.lo
		for i < sp.hi && len(v.tokens[ids[i]]) == sp.depth {
			v.tokIDs = append(v.tokIDs, ids[i])
			i++
		}
		for i < sp.hi {
			b := v.tokens[ids[i]][sp.depth]
			j := i + 1
			for j < sp.hi && v.tokens[ids[j]][sp.depth] == b {
				j++
			}
			v.edgeByte = append(v.edgeByte, b)
			v.edgeChild = append(v.edgeChild, int32(len(queue)))
			queue = append(queue, span{i, j, sp.depth + 1})
			i = j
		}
	}
	v.edgeStart = append(v.edgeStart, int32(len(v.edgeByte)))
	v.tokStart = append(v.tokStart, int32(len(v.tokIDs)))
	v.sorted = ids
	v.sortedLen = make([]int32, len(ids))
	for i, id := range ids {
		v.sortedLen[i] = int32(len(v.tokens[id]))
	}
	// Children have higher indices than their parent (breadth-first), so
	// one reverse pass sees every child before its parent.
	nn := len(queue)
	v.plainBelow = make([]bool, nn)
	v.maxTail = make([]int32, nn)
	for n := nn - 1; n >= 0; n-- {
		plain, tail := true, int32(0)
		for e := v.edgeStart[n]; e < v.edgeStart[n+1]; e++ {
			c := v.edgeChild[e]
			plain = plain && plainByte(v.edgeByte[e]) && v.plainBelow[c]
			tail = max(tail, 1+v.maxTail[c])
		}
		v.plainBelow[n], v.maxTail[n] = plain, tail
	}
	return v
}

// Size returns the number of token ids (the length Mask's slice needs).
func (v *Vocab) Size() int { return len(v.tokens) }

// EOS returns the end-of-sequence id, or -1 when there is none.
func (v *Vocab) EOS() int { return v.eos }

package bpe

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// MaxVocab is the largest vocabulary Train accepts (tokens).
const MaxVocab = 1 << 20

// ErrTrain is wrapped by every error Train returns.
var ErrTrain = errors.New("bpe: invalid training request")

// Train learns a byte-level BPE vocabulary of vocabSize tokens from texts:
// 256 byte tokens (id = byte value), then one token per learned merge in
// the order learned, then specials (type control, in the order given).
//
// Algorithm (Sennrich et al. 2016; GPT-2's byte-level variant): texts are
// split by PreTokenize and identical pre-tokens counted; then the most
// frequent adjacent pair of symbols (summed over pre-token occurrences) is
// merged, in every pre-token, left to right, and repeated. Ties in
// frequency go to the pair whose left token's bytes sort first, then the
// right's (bytewise), so the result depends only on the multiset of
// pre-tokens: same input, same tokenizer. Pair counts are kept
// incrementally — each merge touches only the pre-tokens containing the
// pair — with a lazily updated max-heap of pairs. A merge whose result's
// bytes already are a token reuses that token (the rule is still kept), so
// the vocabulary has no duplicates. Training stops early, with a smaller
// vocabulary, when no pair is left (the corpus is too small).
//
// Errors (wrapping ErrTrain): vocabSize below 256+len(specials) or above
// MaxVocab; a special that is empty, invalid UTF-8, repeated, or equal to
// a learned token's GGUF string (such as "a" or "Ġthe"). The
// specials named BOSName, EOSName and PADName become BOS, EOS and PAD.
func Train(texts []string, vocabSize int, specials []string) (*Tokenizer, error) {
	if vocabSize < 256+len(specials) || vocabSize > MaxVocab {
		return nil, fmt.Errorf("%w: vocab size %d must be in [256+%d specials, %d]", ErrTrain, vocabSize, len(specials), MaxVocab)
	}
	seen := map[string]bool{}
	for _, s := range specials {
		switch {
		case s == "" || !utf8.ValidString(s):
			return nil, fmt.Errorf("%w: special token %q must be non-empty valid UTF-8", ErrTrain, s)
		case seen[s]:
			return nil, fmt.Errorf("%w: special token %q given twice", ErrTrain, s)
		}
		seen[s] = true
	}

	tr := newTrainer(countWords(texts))
	tr.run(vocabSize - len(specials))

	for _, s := range specials {
		for id, b := range tr.tok {
			if encodeTokenString(b) == s {
				return nil, fmt.Errorf("%w: special token %q is also the GGUF string of byte-level token %d; llama.cpp could not tell them apart", ErrTrain, s, id)
			}
		}
	}
	n := len(tr.tok) + len(specials)
	bs := make([][]byte, 0, n)
	names := make([]string, 0, n)
	types := make([]int32, 0, n)
	special := make([]bool, 0, n)
	for _, b := range tr.tok {
		bs = append(bs, b)
		names = append(names, encodeTokenString(b))
		types = append(types, llama.TokenNormal)
		special = append(special, false)
	}
	for _, s := range specials {
		bs = append(bs, nil)
		names = append(names, s)
		types = append(types, llama.TokenControl)
		special = append(special, true)
	}
	t := build(bs, names, types, special, tr.merges)
	t.bos, t.eos, t.pad = t.SpecialID(BOSName), t.SpecialID(EOSName), t.SpecialID(PADName)
	return t, nil
}

// countWords counts each distinct pre-token of texts. Keys alias texts.
func countWords(texts []string) map[string]int64 {
	counts := make(map[string]int64)
	for _, s := range texts {
		for i := 0; i < len(s); {
			j := preTokenEnd(s, i)
			counts[s[i:j]]++
			i = j
		}
	}
	return counts
}

// heapEntry is a pair with the count it had when pushed.
type heapEntry struct {
	count int64
	key   uint64
}

type trainer struct {
	tok     [][]byte         // bytes per token id
	byBytes map[string]int32 // token id per bytes
	merges  []merge

	words  [][]int32 // symbols per distinct pre-token
	counts []int64   // occurrences per distinct pre-token
	stamp  []int32   // last merge step that visited the word

	pairs map[uint64]int64   // current count per adjacent pair
	where map[uint64][]int32 // words that may contain the pair (superset)
	heap  []heapEntry
}

func newTrainer(counts map[string]int64) *trainer {
	tr := &trainer{
		byBytes: make(map[string]int32),
		pairs:   make(map[uint64]int64),
		where:   make(map[uint64][]int32),
	}
	for b := 0; b < 256; b++ {
		tr.tok = append(tr.tok, []byte{byte(b)})
		tr.byBytes[string([]byte{byte(b)})] = int32(b)
	}
	keys := make([]string, 0, len(counts))
	for w := range counts {
		keys = append(keys, w)
	}
	slices.Sort(keys)
	tr.words = make([][]int32, len(keys))
	tr.counts = make([]int64, len(keys))
	tr.stamp = make([]int32, len(keys))
	for wi, w := range keys {
		syms := make([]int32, len(w))
		for k := 0; k < len(w); k++ {
			syms[k] = int32(w[k])
		}
		tr.words[wi], tr.counts[wi] = syms, counts[w]
		for k := 0; k+1 < len(syms); k++ {
			tr.add(pairKey(syms[k], syms[k+1]), counts[w], int32(wi))
		}
	}
	tr.heap = make([]heapEntry, 0, len(tr.pairs))
	for k, c := range tr.pairs {
		tr.heap = append(tr.heap, heapEntry{c, k})
	}
	for i := len(tr.heap)/2 - 1; i >= 0; i-- {
		tr.down(i)
	}
	return tr
}

// add counts delta more occurrences of pair k; a positive delta records
// that word wi holds it.
func (tr *trainer) add(k uint64, delta int64, wi int32) {
	tr.pairs[k] += delta
	if delta > 0 {
		if l := tr.where[k]; len(l) == 0 || l[len(l)-1] != wi {
			tr.where[k] = append(l, wi)
		}
	}
}

// run merges until the vocabulary has target tokens or no pair is left.
func (tr *trainer) run(target int) {
	grown := make(map[uint64]struct{})
	for step := int32(1); len(tr.tok) < target && len(tr.heap) > 0; {
		e := tr.pop()
		cur := tr.pairs[e.key]
		if cur != e.count {
			// Stale. A count that fell is re-queued at its value; one that
			// rose was pushed again when it rose.
			if cur > 0 && cur < e.count {
				tr.push(heapEntry{cur, e.key})
			}
			continue
		}
		a, b := int32(e.key>>32), int32(uint32(e.key))
		zb := append(append(make([]byte, 0, len(tr.tok[a])+len(tr.tok[b])), tr.tok[a]...), tr.tok[b]...)
		z, ok := tr.byBytes[string(zb)]
		if !ok {
			z = int32(len(tr.tok))
			tr.tok = append(tr.tok, zb)
			tr.byBytes[string(zb)] = z
		}
		tr.merges = append(tr.merges, merge{a, b, z})

		clear(grown)
		for _, wi := range tr.where[e.key] {
			if tr.stamp[wi] == step {
				continue
			}
			tr.stamp[wi] = step
			tr.words[wi] = tr.mergeIn(tr.words[wi], a, b, z, tr.counts[wi], wi, grown)
		}
		delete(tr.pairs, e.key)
		delete(tr.where, e.key)
		for k := range grown {
			if c := tr.pairs[k]; c > 0 {
				tr.push(heapEntry{c, k})
			}
		}
		step++
	}
}

// mergeIn replaces every non-overlapping (a, b) in syms, left to right,
// by z, updating the pair counts of the neighbours by n (the word's
// occurrences) and recording pairs that gained in grown.
func (tr *trainer) mergeIn(syms []int32, a, b, z int32, n int64, wi int32, grown map[uint64]struct{}) []int32 {
	w := 0
	for r := 0; r < len(syms); {
		if r+1 < len(syms) && syms[r] == a && syms[r+1] == b {
			if w > 0 {
				p := syms[w-1]
				tr.add(pairKey(p, a), -n, wi)
				k := pairKey(p, z)
				tr.add(k, n, wi)
				grown[k] = struct{}{}
			}
			if r+2 < len(syms) {
				q := syms[r+2]
				tr.add(pairKey(b, q), -n, wi)
				k := pairKey(z, q)
				tr.add(k, n, wi)
				grown[k] = struct{}{}
			}
			syms[w] = z
			w++
			r += 2
		} else {
			syms[w] = syms[r]
			w++
			r++
		}
	}
	return syms[:w]
}

// before orders the heap: higher count first, then the pair whose left
// token's bytes sort first, then the right token's.
func (tr *trainer) before(x, y heapEntry) bool {
	if x.count != y.count {
		return x.count > y.count
	}
	xa, xb := int32(x.key>>32), int32(uint32(x.key))
	ya, yb := int32(y.key>>32), int32(uint32(y.key))
	if c := bytes.Compare(tr.tok[xa], tr.tok[ya]); c != 0 {
		return c < 0
	}
	return bytes.Compare(tr.tok[xb], tr.tok[yb]) < 0
}

func (tr *trainer) push(e heapEntry) {
	tr.heap = append(tr.heap, e)
	for c := len(tr.heap) - 1; c > 0; {
		p := (c - 1) / 2
		if !tr.before(tr.heap[c], tr.heap[p]) {
			break
		}
		tr.heap[c], tr.heap[p] = tr.heap[p], tr.heap[c]
		c = p
	}
}

func (tr *trainer) pop() heapEntry {
	top := tr.heap[0]
	last := len(tr.heap) - 1
	tr.heap[0] = tr.heap[last]
	tr.heap = tr.heap[:last]
	if last > 0 {
		tr.down(0)
	}
	return top
}

func (tr *trainer) down(c int) {
	h := tr.heap
	for {
		l, r, m := 2*c+1, 2*c+2, c
		if l < len(h) && tr.before(h[l], h[m]) {
			m = l
		}
		if r < len(h) && tr.before(h[r], h[m]) {
			m = r
		}
		if m == c {
			return
		}
		h[c], h[m] = h[m], h[c]
		c = m
	}
}

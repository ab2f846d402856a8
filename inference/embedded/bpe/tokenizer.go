// Package bpe is Hearth's tokenizer: a byte-level byte-pair encoding in
// GPT-2's scheme (Radford et al. 2019, "Language Models are Unsupervised
// Multitask Learners"; Sennrich et al. 2016 for BPE), which Hearth trains
// itself (Train) and which llama.cpp runs unchanged from GGUF metadata
// (tokenizer.ggml.model = "gpt2", tokenizer.ggml.pre = "gpt-2").
//
// Text is split into pre-tokens by GPT-2's regular expression
// (PreTokenize), each pre-token's bytes start as the 256 single-byte
// tokens, and the learned merges are applied lowest rank first (leftmost
// first among equal ranks, as llama.cpp's llm_tokenizer_bpe does) until
// none applies. Because every byte has a token, any byte string encodes and
// Decode(Encode(s)) == s exactly.
//
// Special (control) tokens such as "<|bos|>" are never produced from text:
// Encode of the literal string "<|eos|>" yields ordinary tokens, so a
// player cannot inject control tokens; only explicit ids (BOS, EOS, PAD,
// SpecialID) place them.
//
// A Tokenizer is immutable after construction and safe for concurrent use.
package bpe

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// Names of the special tokens whose ids BOS, EOS and PAD return.
const (
	BOSName = "<|bos|>"
	EOSName = "<|eos|>"
	PADName = "<|pad|>"
)

// TokenUserDefined is llama.cpp's LLAMA_TOKEN_TYPE_USER_DEFINED (4). FromMeta
// treats such tokens, like llama.TokenControl ones, as specials that Encode
// never produces; unlike control tokens they decode to their literal text.
const TokenUserDefined int32 = 4

// ErrMissingByte is wrapped by EncodeChecked's error when the input holds a
// byte that has no token (only possible for a vocabulary loaded by FromMeta
// that lacks some of the 256 byte tokens).
var ErrMissingByte = errors.New("bpe: byte has no token in this vocabulary")

// ErrMeta is wrapped by every error FromMeta returns.
var ErrMeta = errors.New("bpe: invalid tokenizer metadata")

// merge is one rule: the adjacent pair (left, right) becomes result.
type merge struct{ left, right, result int32 }

// rule is what ranks maps a pair key to.
type rule struct{ rank, result int32 }

// Tokenizer is a byte-level BPE vocabulary with its merge rules. Make one
// with Train or FromMeta; the zero value is not usable.
type Tokenizer struct {
	bytes   [][]byte // raw bytes per id; nil for control tokens
	names   []string // GGUF token strings per id
	types   []int32  // llama.cpp token types per id
	special []bool   // control or user-defined: never produced by Encode
	merges  []merge  // in rank order
	ranks   map[uint64]rule
	byteID  [256]int32 // token of each byte; -1 when the vocabulary lacks it
	missing bool       // some byteID is -1
	specIDs map[string]int
	bos     int
	eos     int
	pad     int
	cache   *wordCache
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// VocabSize is the number of tokens: byte tokens, merged tokens and
// specials (the model's llama.Config.VocabSize).
func (t *Tokenizer) VocabSize() int { return len(t.names) }

// NumMerges is the number of merge rules.
func (t *Tokenizer) NumMerges() int { return len(t.merges) }

// BOS is the id of the "<|bos|>" special token (for a vocabulary loaded by
// FromMeta, the metadata's BOS id); -1 if there is none.
func (t *Tokenizer) BOS() int { return t.bos }

// EOS is the id of the "<|eos|>" special token (for a vocabulary loaded by
// FromMeta, the metadata's EOS id); -1 if there is none.
func (t *Tokenizer) EOS() int { return t.eos }

// PAD is the id of the "<|pad|>" special token (for a vocabulary loaded by
// FromMeta, the metadata's PAD id); -1 if there is none.
func (t *Tokenizer) PAD() int { return t.pad }

// SpecialID is the id of the special token with this name, -1 if none.
func (t *Tokenizer) SpecialID(name string) int {
	if id, ok := t.specIDs[name]; ok {
		return id
	}
	return -1
}

// IsSpecial reports whether id is a control or user-defined token, one
// that Encode never produces. False for out-of-range ids.
func (t *Tokenizer) IsSpecial(id int) bool {
	return id >= 0 && id < len(t.special) && t.special[id]
}

// TokenString is the token's GGUF string (bytes through GPT-2's
// byte-to-unicode table, or a special's name); "" for an out-of-range id.
func (t *Tokenizer) TokenString(id int) string {
	if id < 0 || id >= len(t.names) {
		return ""
	}
	return t.names[id]
}

// TokenBytes returns a copy of the raw bytes token id stands for (possibly
// a partial UTF-8 sequence, so streaming and constrained decoding must
// work on bytes). It is nil for control tokens and out-of-range ids.
func (t *Tokenizer) TokenBytes(id int) []byte {
	if id < 0 || id >= len(t.bytes) || t.bytes[id] == nil {
		return nil
	}
	return append([]byte(nil), t.bytes[id]...)
}

// AppendTokenBytes appends token id's raw bytes to dst without allocating
// (nothing for control tokens and out-of-range ids).
func (t *Tokenizer) AppendTokenBytes(dst []byte, id int) []byte {
	if id < 0 || id >= len(t.bytes) {
		return dst
	}
	return append(dst, t.bytes[id]...)
}

// Decode concatenates the tokens' bytes. Control tokens and out-of-range
// ids contribute nothing. The result may be invalid UTF-8 when ids end in
// the middle of a character. Decode(Encode(s)) == s for every s when the
// vocabulary has all 256 byte tokens (always, for Train).
func (t *Tokenizer) Decode(ids []int) string {
	n := 0
	for _, id := range ids {
		if id >= 0 && id < len(t.bytes) {
			n += len(t.bytes[id])
		}
	}
	var b strings.Builder
	b.Grow(n)
	for _, id := range ids {
		if id >= 0 && id < len(t.bytes) {
			b.Write(t.bytes[id])
		}
	}
	return b.String()
}

// Encode tokenizes s (any bytes, valid UTF-8 or not) into token ids. It
// never produces special tokens. For a vocabulary lacking some byte tokens
// (FromMeta), bytes without a token are dropped; use EncodeChecked to get
// an error instead.
func (t *Tokenizer) Encode(s string) []int {
	return t.AppendEncode(make([]int, 0, len(s)/3+1), s)
}

// AppendEncode appends Encode(s) to dst and returns the extended slice.
func (t *Tokenizer) AppendEncode(dst []int, s string) []int {
	dst, _ = t.appendEncode(dst, s, false)
	return dst
}

// EncodeChecked is Encode that fails, wrapping ErrMissingByte and naming
// the byte and its offset, when s holds a byte the vocabulary has no token
// for. It never fails for a Tokenizer made by Train.
func (t *Tokenizer) EncodeChecked(s string) ([]int, error) {
	return t.appendEncode(make([]int, 0, len(s)/3+1), s, true)
}

// MissingBytes lists the byte values that have no token (empty for a
// Tokenizer made by Train).
func (t *Tokenizer) MissingBytes() []byte {
	var out []byte
	for b, id := range t.byteID {
		if id < 0 {
			out = append(out, byte(b))
		}
	}
	return out
}

// EncodePrompt is the one prompt layout shared by training and inference:
//
//	[BOS] + Encode(prompt[:prefixBytes]) + Encode(prompt[prefixBytes:])
//
// BOS is left out when the vocabulary has none. prefixBytes is clamped to
// [0, len(prompt)] and moved back to the start of a UTF-8 character. The
// stable prefix (system text, persona, world facts) is tokenized on its own
// so that its tokens — and hence the KV cache computed for them — are the
// same for every request, whatever text follows; a merge can never straddle
// the boundary.
func (t *Tokenizer) EncodePrompt(prompt string, prefixBytes int) []int {
	ids, _ := t.SplitPrompt(prompt, prefixBytes)
	return ids
}

// SplitPrompt is EncodePrompt that also returns prefixLen, how many of the
// tokens (BOS included) are the stable prefix's: the part a KV prefix cache
// may share between requests.
func (t *Tokenizer) SplitPrompt(prompt string, prefixBytes int) (ids []int, prefixLen int) {
	p := min(max(prefixBytes, 0), len(prompt))
	for k := 0; k < utf8.UTFMax-1 && p > 0 && p < len(prompt) && !utf8.RuneStart(prompt[p]); k++ {
		p--
	}
	ids = make([]int, 0, len(prompt)/3+2)
	if t.bos >= 0 {
		ids = append(ids, t.bos)
	}
	ids = t.AppendEncode(ids, prompt[:p])
	prefixLen = len(ids)
	return t.AppendEncode(ids, prompt[p:]), prefixLen
}

// EncodeResponse is Encode(resp) followed by EOS (left out when the
// vocabulary has none): the target a model is trained to generate.
func (t *Tokenizer) EncodeResponse(resp string) []int {
	out := t.AppendEncode(make([]int, 0, len(resp)/3+2), resp)
	if t.eos >= 0 {
		out = append(out, t.eos)
	}
	return out
}

// build assembles a Tokenizer. bytes/names/types/special are per id;
// merges are in rank order. The byte tokens are looked up by their bytes
// among non-special tokens (the lowest id wins).
func build(bytes [][]byte, names []string, types []int32, special []bool, merges []merge) *Tokenizer {
	t := &Tokenizer{
		bytes: bytes, names: names, types: types, special: special, merges: merges,
		ranks:   make(map[uint64]rule, len(merges)),
		specIDs: map[string]int{},
		bos:     -1, eos: -1, pad: -1,
		cache: newWordCache(),
	}
	for i := range t.byteID {
		t.byteID[i] = -1
	}
	for id := len(bytes) - 1; id >= 0; id-- {
		if special[id] {
			t.specIDs[names[id]] = id
		} else if len(bytes[id]) == 1 {
			t.byteID[bytes[id][0]] = int32(id)
		}
	}
	for _, id := range t.byteID {
		if id < 0 {
			t.missing = true
		}
	}
	for i, m := range merges {
		k := pairKey(m.left, m.right)
		if _, dup := t.ranks[k]; !dup {
			t.ranks[k] = rule{int32(i), m.result}
		}
	}
	return t
}

func (t *Tokenizer) appendEncode(dst []int, s string, strict bool) ([]int, error) {
	var buf [64]int32
	for i := 0; i < len(s); {
		j := preTokenEnd(s, i)
		w := s[i:j]
		if strict && t.missing {
			for k := 0; k < len(w); k++ {
				if t.byteID[w[k]] < 0 {
					return dst, fmt.Errorf("%w: byte 0x%02x at offset %d", ErrMissingByte, w[k], i+k)
				}
			}
		}
		if ids, ok := t.cache.get(w); ok {
			for _, id := range ids {
				dst = append(dst, int(id))
			}
		} else {
			syms := t.mergeWord(buf[:0], w)
			for _, id := range syms {
				if id >= 0 {
					dst = append(dst, int(id))
				}
			}
			t.cache.put(w, syms)
		}
		i = j
	}
	return dst, nil
}

// linearLimit is the pre-token length (bytes) up to which mergeWord scans
// all pairs for the lowest rank (O(n²), fastest for short words); longer
// pre-tokens use a heap (O(n log n)).
const linearLimit = 48

// mergeWord applies the merges to one pre-token and returns its symbols
// (-1 for a byte without a token), appended to buf.
func (t *Tokenizer) mergeWord(buf []int32, w string) []int32 {
	syms := buf
	for k := 0; k < len(w); k++ {
		syms = append(syms, t.byteID[w[k]])
	}
	if len(syms) > linearLimit {
		return t.mergeHeap(syms)
	}
	return t.mergeLinear(syms)
}

// mergeLinear merges by scanning every adjacent pair for the lowest rank
// (leftmost among equals) until no pair has a rule.
func (t *Tokenizer) mergeLinear(syms []int32) []int32 {
	for len(syms) > 1 {
		best, at := rule{rank: -1}, -1
		for k := 0; k+1 < len(syms); k++ {
			if r, ok := t.ranks[pairKey(syms[k], syms[k+1])]; ok && (at < 0 || r.rank < best.rank) {
				best, at = r, k
			}
		}
		if at < 0 {
			break
		}
		syms[at] = best.result
		syms = append(syms[:at+1], syms[at+2:]...)
	}
	return syms
}

// cand is a candidate merge of the symbol at left with its right
// neighbour, valid while both symbols still hold ids a and b.
type cand struct {
	rank, left int32
	a, b       int32
	result     int32
}

func candLess(x, y cand) bool {
	return x.rank < y.rank || (x.rank == y.rank && x.left < y.left)
}

// mergeHeap is mergeWord for long pre-tokens: the symbols form a linked
// list and candidate pairs sit in a min-heap by (rank, position), the
// order llama.cpp's llm_tokenizer_bpe uses; stale candidates are skipped.
func (t *Tokenizer) mergeHeap(syms []int32) []int32 {
	n := len(syms)
	next := make([]int32, n)
	prev := make([]int32, n)
	for i := range syms {
		next[i], prev[i] = int32(i+1), int32(i-1)
	}
	next[n-1] = -1
	var h []cand
	push := func(l int32) {
		if l < 0 || next[l] < 0 {
			return
		}
		r := next[l]
		if ru, ok := t.ranks[pairKey(syms[l], syms[r])]; ok {
			h = append(h, cand{ru.rank, l, syms[l], syms[r], ru.result})
			for c := len(h) - 1; c > 0; {
				p := (c - 1) / 2
				if !candLess(h[c], h[p]) {
					break
				}
				h[c], h[p] = h[p], h[c]
				c = p
			}
		}
	}
	pop := func() cand {
		top := h[0]
		last := len(h) - 1
		h[0] = h[last]
		h = h[:last]
		for c := 0; ; {
			l, r, m := 2*c+1, 2*c+2, c
			if l < len(h) && candLess(h[l], h[m]) {
				m = l
			}
			if r < len(h) && candLess(h[r], h[m]) {
				m = r
			}
			if m == c {
				break
			}
			h[c], h[m] = h[m], h[c]
			c = m
		}
		return top
	}
	for i := 0; i+1 < n; i++ {
		push(int32(i))
	}
	dead := make([]bool, n)
	for len(h) > 0 {
		c := pop()
		r := next[c.left]
		if dead[c.left] || r < 0 || syms[c.left] != c.a || syms[r] != c.b {
			continue
		}
		syms[c.left] = c.result
		dead[r] = true
		next[c.left] = next[r]
		if next[r] >= 0 {
			prev[next[r]] = c.left
		}
		push(prev[c.left])
		push(c.left)
	}
	out := syms[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, syms[i])
	}
	return out
}

// wordCache memoizes (a nil *wordCache caches nothing) the merged symbols of short pre-tokens. It holds at
// most cacheEntries words of at most cacheWordBytes bytes and is emptied
// when full (simple, bounded, and hot words return at once).
type wordCache struct {
	mu sync.RWMutex
	m  map[string][]int32
}

const (
	cacheEntries   = 1 << 15
	cacheWordBytes = 64
)

func newWordCache() *wordCache { return &wordCache{m: make(map[string][]int32)} }

func (c *wordCache) get(w string) ([]int32, bool) {
	if c == nil || len(w) > cacheWordBytes {
		return nil, false
	}
	c.mu.RLock()
	ids, ok := c.m[w]
	c.mu.RUnlock()
	return ids, ok
}

func (c *wordCache) put(w string, syms []int32) {
	if c == nil || len(w) > cacheWordBytes {
		return
	}
	ids := make([]int32, 0, len(syms))
	for _, id := range syms {
		if id >= 0 {
			ids = append(ids, id)
		}
	}
	c.mu.Lock()
	if len(c.m) >= cacheEntries {
		clear(c.m)
	}
	c.m[strings.Clone(w)] = ids
	c.mu.Unlock()
}

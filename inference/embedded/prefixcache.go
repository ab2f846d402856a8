package embedded

import (
	"container/list"
	"hash/maphash"
	"slices"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// prefixCache keeps the KV cache of recently seen prompt prefixes (an
// NPC's persona and rules, the same for every request to it), so a
// request whose prompt starts with one copies it instead of recomputing
// it: vLLM's automatic prefix caching and SGLang's RadixAttention
// (Zheng et al. 2023) do the same at block granularity; here the unit is
// the whole stable prefix the prompt declares (Request.PrefixBytes).
//
// Entries are bounded by bytes and evicted least recently used. It is
// owned by the engine's scheduler goroutine: no locking.
type prefixCache struct {
	seed     maphash.Seed
	maxBytes int
	bytes    int
	lru      *list.List // of *prefixEntry, most recent first
	byKey    map[uint64]*list.Element
	hits     uint64
	misses   uint64
}

type prefixEntry struct {
	key    uint64
	tokens []int
	kv     *llama.Cache
	logits []float64 // logits after the prefix's last token
}

func newPrefixCache(maxBytes int) *prefixCache {
	return &prefixCache{seed: maphash.MakeSeed(), maxBytes: maxBytes, lru: list.New(), byKey: map[uint64]*list.Element{}}
}

func (p *prefixCache) hash(tokens []int) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seed)
	var b [8]byte
	for _, t := range tokens {
		for i := range b {
			b[i] = byte(uint64(t) >> (8 * i))
		}
		h.Write(b[:])
	}
	return h.Sum64()
}

// get returns the entry for exactly these prefix tokens, or nil.
func (p *prefixCache) get(tokens []int) *prefixEntry {
	el, ok := p.byKey[p.hash(tokens)]
	if !ok || !slices.Equal(el.Value.(*prefixEntry).tokens, tokens) {
		p.misses++
		return nil
	}
	p.hits++
	p.lru.MoveToFront(el)
	return el.Value.(*prefixEntry)
}

// put stores an entry, evicting the least recently used ones past the
// byte bound. It returns the caches evicted, for reuse.
func (p *prefixCache) put(tokens []int, kv *llama.Cache, logits []float64) (evicted []*llama.Cache) {
	key := p.hash(tokens)
	if el, ok := p.byKey[key]; ok { // a hash collision or a racing fill: replace
		evicted = append(evicted, p.remove(el))
	}
	e := &prefixEntry{key: key, tokens: slices.Clone(tokens), kv: kv, logits: slices.Clone(logits)}
	p.byKey[key] = p.lru.PushFront(e)
	p.bytes += e.size()
	for p.bytes > p.maxBytes && p.lru.Len() > 1 {
		evicted = append(evicted, p.remove(p.lru.Back()))
	}
	return evicted
}

func (p *prefixCache) remove(el *list.Element) *llama.Cache {
	e := p.lru.Remove(el).(*prefixEntry)
	delete(p.byKey, e.key)
	p.bytes -= e.size()
	return e.kv
}

func (e *prefixEntry) size() int { return e.kv.Bytes() + 8*len(e.logits) + 8*len(e.tokens) }

package inference

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/maypok86/otter/v2"
)

// CacheOptions configure a ResponseCache.
type CacheOptions struct {
	// MaxBytes bounds the cache by the bytes of cached text plus a fixed
	// per-entry overhead (cacheEntryOverhead). Default 64 MiB.
	MaxBytes uint64
	// TTL is how long an entry lives after it is written (wall clock).
	// Default 10 minutes: long enough that an NPC's common lines are
	// served from memory all session, short enough that a hot-reloaded
	// prompt or re-ingested lore (both part of the key anyway) leaves no
	// garbage for long.
	TTL time.Duration
}

// cacheEntryOverhead approximates what an entry costs besides its text
// (key, Result fields, the cache's own node), in bytes.
const cacheEntryOverhead = 160

// CacheStats counts a ResponseCache's lookups since it was made.
type CacheStats struct {
	Hits    uint64
	Misses  uint64
	Entries int    // entries now (an estimate while evictions run)
	Bytes   uint64 // weighed size now, bytes
}

// HitRate is Hits / (Hits + Misses), 0 before any lookup.
func (s CacheStats) HitRate() float64 {
	if s.Hits+s.Misses == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.Hits+s.Misses)
}

// ResponseCache is the exact response cache, the first tier of DESIGN §4:
// a finished reply stored under Request.CacheKey and served to the next
// request with the same key in microseconds. It is a thin policy layer over
// otter (W-TinyLFU admission and eviction, bounded by bytes, with a TTL).
// Safe for concurrent use; Close it to stop its expiry goroutine.
//
// Entries remember the quality of the backend that wrote them; the Router
// serves one only to a request that could not afford a better backend
// (see Router.Generate).
//
// What makes two requests "the same" is the caller's decision, stated in
// CacheKey; the Router derives the generation seed from the key (with or
// without a cache), so an entry holds exactly the text its backend would
// generate for any request with that key. A hit can differ from a miss in
// one way: a request that can only afford the floor may be served an
// entry a better backend wrote for a request with more time.
type ResponseCache struct {
	c      *otter.Cache[string, Cached]
	hits   atomic.Uint64
	misses atomic.Uint64
}

// NewResponseCache returns an empty cache; zero options take the defaults.
func NewResponseCache(opts CacheOptions) (*ResponseCache, error) {
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 64 << 20
	}
	if opts.TTL <= 0 {
		opts.TTL = 10 * time.Minute
	}
	c, err := otter.New(&otter.Options[string, Cached]{
		MaximumWeight: opts.MaxBytes,
		Weigher: func(k string, v Cached) uint32 {
			return uint32(min(len(k)+len(v.Text)+len(v.Backend)+cacheEntryOverhead, 1<<31))
		},
		ExpiryCalculator: otter.ExpiryWriting[string, Cached](opts.TTL),
	})
	if err != nil {
		return nil, fmt.Errorf("inference: response cache: %w", err)
	}
	return &ResponseCache{c: c}, nil
}

// Cached is a cached reply and the Info.Quality of the backend that
// produced it.
type Cached struct {
	Result
	Quality int
}

// Get returns the reply cached under key if there is one of at least
// minQuality; a lower-quality entry counts as a miss (the caller can now
// afford better, and will replace it).
func (rc *ResponseCache) Get(key string, minQuality int) (Cached, bool) {
	c, ok := rc.c.GetIfPresent(key)
	if ok && c.Quality >= minQuality {
		rc.hits.Add(1)
		return c, true
	}
	rc.misses.Add(1)
	return Cached{}, false
}

// Put stores res, produced by a backend of the given quality, under key,
// replacing what was there.
func (rc *ResponseCache) Put(key string, res Result, quality int) {
	rc.c.Set(key, Cached{Result: res, Quality: quality})
}

// Stats returns the lookup counters and the current size.
func (rc *ResponseCache) Stats() CacheStats {
	return CacheStats{Hits: rc.hits.Load(), Misses: rc.misses.Load(),
		Entries: rc.c.EstimatedSize(), Bytes: rc.c.WeightedSize()}
}

// Close stops the cache's expiry goroutine. The cache stays readable.
func (rc *ResponseCache) Close() { rc.c.StopAllGoroutines() }

// ExactKey is the exact-cache key of a request whose answer does not
// depend on who asks: a hex FNV-1a 128 hash over the prompt template's
// content hash, the NPC, the intent, the player's line normalised (case,
// spacing and trailing punctuation do not matter), the name the NPC knows
// the player by, whether they have met, and every retrieved fact (source,
// path, heading and text, so re-ingested lore misses), the NPC's feelings
// (Request.Relationship, when set: scores at one decimal, words and mood,
// so a threatened NPC never serves the reply it gave a friend), and the
// tenant when it is not the default one, so tenants never share cached
// replies (issue 9). Memories are not in the key: the caller makes a request
// cacheable only when it carries none.
func ExactKey(req *Request) string {
	h := fnv.New128a()
	var lenBuf [8]byte
	field := func(s string) { // length-prefixed, so fields cannot run together
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(s)))
		h.Write(lenBuf[:])
		h.Write([]byte(s))
	}
	if req.Tenant != "" {
		field("\x00tenant") // no prompt name starts with NUL: the keys cannot collide
		field(req.Tenant)
	}
	field(req.PromptName)
	field(req.PromptHash)
	field(req.Persona.ID)
	field(string(req.Intent))
	field(NormalizeLine(req.UserText))
	field(req.PlayerName)
	if req.Returning {
		field("returning")
	} else {
		field("first")
	}
	if r := req.Relationship; r != nil {
		// The feelings the prompt shows change the reply, so they are part
		// of the key; NUL-led like the tenant's, it cannot collide with a
		// fact's source.
		field("\x00rel")
		field(strconv.FormatFloat(r.Affinity, 'f', 1, 64))
		field(strconv.FormatFloat(r.Trust, 'f', 1, 64))
		field(r.Feeling)
		field(r.Mood)
	}
	for _, f := range req.Facts {
		field(f.Source)
		field(f.DocPath)
		field(strings.Join(f.Heading, "\x1f"))
		field(f.Text)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// NormalizeLine folds a player's line for exact matching: lower case,
// runs of spaces collapsed, leading and trailing spaces and punctuation
// dropped ("Hello there!" and "hello there" are one line).
func NormalizeLine(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// keySeed derives a generation seed from a cache key, so every request
// with the key generates the same text (see ResponseCache).
func keySeed(key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	return h.Sum64()
}

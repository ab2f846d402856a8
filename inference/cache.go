package inference

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/maypok86/otter/v2"

	"github.com/hearth-ai/hearth/internal/store"
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
	// Store, when set, persists the cache in Badger (internal/store,
	// keys respcache/…): NewResponseCache loads the entries whose TTL has
	// not passed, and every later write is copied to the store behind the
	// request path (see ResponseCache). The cache does not own the store:
	// Close the cache first.
	Store *store.Store
	// Logger receives the persistence's warnings (corrupt records, failed
	// writes). Nil: slog.Default().
	Logger *slog.Logger

	now func() time.Time // the wall clock; tests move it
}

// Persistence bounds (write-behind): at most persistQueue writes and
// deletes wait for the writer goroutine, which stores them in batches of
// at most persistBatch per Badger transaction. A write that finds the
// queue full is dropped and counted (CacheStats.PersistDropped): the
// entry stays in memory, only a restart loses it.
const (
	persistQueue = 4096
	persistBatch = 256
)

// cacheEntryOverhead approximates what an entry costs besides its text
// (key, Result fields, the cache's own node), in bytes.
const cacheEntryOverhead = 160

// CacheStats counts a ResponseCache's lookups since it was made.
type CacheStats struct {
	Hits    uint64
	Misses  uint64
	Entries int    // entries now (an estimate while evictions run)
	Bytes   uint64 // weighed size now, bytes
	// Loaded is how many entries NewResponseCache loaded from the store;
	// PersistDropped how many writes to the store the full queue dropped,
	// PersistErrors how many batches failed to write. All 0 without a
	// store.
	Loaded, PersistDropped, PersistErrors uint64
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
//
// With CacheOptions.Store the cache is persistent, write-behind: Put and
// the evictions for size queue a write or delete (bounded, see
// persistQueue) that one goroutine stores in batches, so the request path
// never waits on the disk. The disk mirrors memory: an entry evicted for
// size is deleted there too, each record carries a Badger TTL equal to
// the entry's remaining life, and NewResponseCache loads at most MaxBytes
// (deleting the rest), so the disk holds about MaxBytes of records. A
// crash loses the writes still queued (at most persistQueue) and the
// store's unsynced second (store.Options.SyncInterval).
type ResponseCache struct {
	c      *otter.Cache[string, Cached]
	ttl    time.Duration
	now    func() time.Time
	hits   atomic.Uint64
	misses atomic.Uint64

	// Persistence (nil ops without a store).
	st                         *store.Store
	log                        *slog.Logger
	mu                         sync.RWMutex // guards closed against sends on ops
	closed                     bool
	ops                        chan persistOp
	done                       chan struct{}
	loaded, dropped, persistEr atomic.Uint64
}

// persistOp is a queued change of key: written or evicted. The writer
// stores what memory holds for the key when it gets to it (the entry, or
// its absence), so a write and an eviction of one key can come in either
// order: an admission that W-TinyLFU refuses evicts the new entry within
// its own Set, before Put queues the write.
type persistOp struct{ key string }

// NewResponseCache returns a cache; zero options take the defaults. With
// opts.Store it first loads the stored entries that have not expired
// (corrupt records are logged, deleted and skipped); the error is then
// also the store's, when it cannot be read.
func NewResponseCache(opts CacheOptions) (*ResponseCache, error) {
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 64 << 20
	}
	if opts.TTL <= 0 {
		opts.TTL = 10 * time.Minute
	}
	if opts.now == nil {
		opts.now = time.Now
	}
	rc := &ResponseCache{ttl: opts.TTL, now: opts.now, st: opts.Store, log: opts.Logger}
	if rc.log == nil {
		rc.log = slog.Default()
	}
	o := &otter.Options[string, Cached]{
		MaximumWeight: opts.MaxBytes,
		Weigher:       cacheWeight,
		// Maintenance (draining the write buffer, eviction) runs on the
		// writing goroutine. otter's default starts a goroutine per drain,
		// nearly one per Set: on a 2-core host that wakes the other core's
		// thread for every cached reply and was the largest part of the
		// Router's p99 overhead with a cache (BenchmarkRouterOverhead,
		// docs/benchmarks.md). The drain is amortised and bounded by
		// otter; its cost stays on the request that caused it.
		Executor: func(fn func()) { fn() },
		// An entry lives until its expires instant: TTL after it was
		// written, here or (loaded from the store) before a restart.
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, Cached]) time.Duration {
			return time.Duration(e.Value.expires - rc.now().UnixNano())
		}),
	}
	if rc.st != nil {
		rc.ops = make(chan persistOp, persistQueue)
		rc.done = make(chan struct{})
		// Atomic: runs in the eviction itself, on no goroutine of
		// otter's; it only queues (a non-blocking send).
		o.OnAtomicDeletion = func(e otter.DeletionEvent[string, Cached]) {
			if e.Cause == otter.CauseOverflow {
				rc.persist(persistOp{e.Key})
			}
		}
	}
	c, err := otter.New(o)
	if err != nil {
		return nil, fmt.Errorf("inference: response cache: %w", err)
	}
	rc.c = c
	if rc.st != nil {
		if err := rc.load(opts.MaxBytes); err != nil {
			c.StopAllGoroutines()
			return nil, err
		}
		go rc.writer()
	}
	return rc, nil
}

// cacheWeight is an entry's weight in the size bound, bytes.
func cacheWeight(k string, v Cached) uint32 {
	return uint32(min(len(k)+len(v.Text)+len(v.Backend)+cacheEntryOverhead, 1<<31))
}

// load fills the cache from the store with the entries that have not
// expired, up to maxBytes of them (in key order, which is hash order:
// arbitrary); records past the bound and corrupt ones are deleted from the
// store.
func (rc *ResponseCache) load(maxBytes uint64) error {
	now := rc.now().UnixNano()
	var total uint64
	var drop []string
	err := rc.st.RespCacheEntries(func(key string, r store.RespCacheRecord) bool {
		if r.Expires <= now {
			return true // Badger's TTL has a second's resolution; ours is exact
		}
		v := Cached{Result: Result{Text: r.Text, Tier: Tier(r.Tier), Backend: r.Backend, Tokens: r.Tokens,
			PromptTokens: r.PromptTokens}, Quality: r.Quality, expires: r.Expires}
		if total += uint64(cacheWeight(key, v)); total > maxBytes {
			drop = append(drop, key)
			return true
		}
		rc.c.Set(key, v)
		rc.loaded.Add(1)
		return true
	}, func(key string, err error) {
		rc.log.Warn("inference: response cache: skipping a corrupt stored entry", "key", key, "err", err)
		drop = append(drop, key)
	})
	if err != nil {
		return fmt.Errorf("inference: response cache: load: %w", err)
	}
	for len(drop) > 0 {
		n := min(len(drop), persistBatch)
		if err := rc.st.DeleteRespCache(drop[:n]); err != nil {
			rc.log.Warn("inference: response cache: deleting stored entries", "err", err)
			break
		}
		drop = drop[n:]
	}
	return nil
}

// persist queues op for the writer, or drops it when the queue is full or
// the cache closed.
func (rc *ResponseCache) persist(op persistOp) {
	rc.mu.RLock()
	defer rc.mu.RUnlock()
	if rc.closed {
		return
	}
	select {
	case rc.ops <- op:
	default:
		rc.dropped.Add(1)
	}
}

// writer stores the queued operations in batches until Close closes the
// queue, then stores what is left and signals done.
func (rc *ResponseCache) writer() {
	defer close(rc.done)
	var puts []store.RespCacheEntry
	var dels []string
	batch := map[string]bool{} // keys changed
	flush := func() {
		for k := range batch {
			if e, ok := rc.c.GetEntryQuietly(k); ok {
				v := e.Value
				puts = append(puts, store.RespCacheEntry{Key: k, Record: store.RespCacheRecord{Text: v.Text,
					Tier: string(v.Tier), Backend: v.Backend, Tokens: v.Tokens, PromptTokens: v.PromptTokens,
					Quality: v.Quality, Expires: v.expires}})
			} else {
				dels = append(dels, k)
			}
		}
		clear(batch)
		if len(puts) > 0 {
			if err := rc.st.PutRespCache(puts); err != nil {
				rc.persistEr.Add(1)
				rc.log.Warn("inference: response cache: storing entries", "entries", len(puts), "err", err)
			}
		}
		if len(dels) > 0 {
			if err := rc.st.DeleteRespCache(dels); err != nil {
				rc.persistEr.Add(1)
				rc.log.Warn("inference: response cache: deleting stored entries", "entries", len(dels), "err", err)
			}
		}
		puts, dels = puts[:0], dels[:0]
	}
	add := func(op persistOp) { batch[op.key] = true }
	for op := range rc.ops {
		add(op)
	drain:
		for len(batch) < persistBatch {
			select {
			case op, ok := <-rc.ops:
				if !ok {
					break drain
				}
				add(op)
			default:
				break drain
			}
		}
		flush()
	}
}

// Cached is a cached reply and the Info.Quality of the backend that
// produced it.
type Cached struct {
	Result
	Quality int

	expires int64 // Unix ns after which it is not served
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
	rc.c.Set(key, Cached{Result: res, Quality: quality, expires: rc.now().Add(rc.ttl).UnixNano()})
	if rc.ops != nil {
		rc.persist(persistOp{key})
	}
}

// Stats returns the lookup counters and the current size.
func (rc *ResponseCache) Stats() CacheStats {
	return CacheStats{Hits: rc.hits.Load(), Misses: rc.misses.Load(),
		Entries: rc.c.EstimatedSize(), Bytes: rc.c.WeightedSize(),
		Loaded: rc.loaded.Load(), PersistDropped: rc.dropped.Load(), PersistErrors: rc.persistEr.Load()}
}

// Close stops the cache's expiry goroutine and, with a store, writes what
// is queued and stops the writer (later Puts stay in memory only). The
// cache stays readable. Close it before the store; calling it again does
// nothing more.
func (rc *ResponseCache) Close() {
	if rc.ops != nil {
		rc.c.CleanUp() // pending evictions, so that the store gets their deletes
	}
	rc.c.StopAllGoroutines()
	if rc.ops == nil {
		return
	}
	rc.mu.Lock()
	already := rc.closed
	rc.closed = true
	if !already {
		close(rc.ops)
	}
	rc.mu.Unlock()
	<-rc.done
}

// ExactKey is the exact-cache key of a request whose answer does not
// depend on who asks: a hex FNV-1a 128 hash over the prompt templates'
// content hashes (the full prompt's and the small one's), the NPC, the intent, the player's line normalised (case,
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
	if req.SmallPromptHash != "" {
		field("\x00small") // NUL-led like the tenant's: cannot collide with a persona id
		field(req.SmallPromptHash)
	}
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

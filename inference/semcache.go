package inference

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/maypok86/otter/v2"
	"github.com/prometheus/client_golang/prometheus"
	"gonum.org/v1/gonum/blas/blas32"
)

// LineEmbedder embeds short texts (a player's line) as dense vectors whose
// cosine similarity measures how alike their meanings are: one vector per
// text, in order, all of one length. lore.Embedder satisfies it (inference
// does not import lore; the caller injects one, see middleware's stack).
type LineEmbedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// DefaultSemanticThreshold is the cosine similarity at or above which the
// semantic cache treats two lines as the same question. It was chosen with
// `hearth semcache-eval` on the labeled set in
// inference/testdata/semcache/labeled.jsonl, with the world's LSA embedder
// (lore.Library.Embedder on sim/world): the lowest threshold whose
// false-hit rate on the near-misses of the tuning half is at most 1 %
// (docs/architecture.md, "Semantic cache", has the table).
const DefaultSemanticThreshold = 0.875

// SemanticOptions configure a SemanticCache.
type SemanticOptions struct {
	// Embedder embeds the player's lines. Required.
	Embedder LineEmbedder
	// Threshold is the least cosine similarity of a hit, in (0, 1].
	// 0 means DefaultSemanticThreshold.
	Threshold float64
	// TTL is how long an entry lives after it is written. Default 10
	// minutes, as the exact cache.
	TTL time.Duration
	// MaxPerScope bounds the lines remembered per scope (one NPC, intent,
	// player name…); the oldest goes first. Default 64.
	MaxPerScope int
	// MaxBytes bounds the whole cache by the bytes of its vectors and
	// texts (approximate). Default 16 MiB.
	MaxBytes uint64
	// EmbedTimeout bounds the embedding of a line on the request path;
	// a slower embedder is a miss, not a wait. Default 5 ms.
	EmbedTimeout time.Duration
}

// SemanticStats counts a SemanticCache's lookups since it was made.
type SemanticStats struct {
	Hits, Misses uint64
	// Errors counts lookups whose line could not be embedded (error or
	// EmbedTimeout): they count as misses too.
	Errors uint64
	Scopes int    // scopes held now (an estimate while evictions run)
	Bytes  uint64 // weighed size now, bytes
}

// SemanticCache is the semantic response cache, the second look of the
// cache tier (DESIGN §4): after an exact-cache miss it serves the reply
// given to an earlier line that means the same — "Who's the innkeeper
// here?" after "Who runs the inn?" — when the two lines' embeddings have a
// cosine similarity of at least Threshold.
//
// Only shareable requests use it (Request.CacheKey set: the NPC's sharing
// policy, npc/share.go, decided the answer depends on nothing personal),
// and only within one scope (SemanticScope): the tenant, the prompt
// template, the NPC, the intent, the name the NPC knows the player by,
// whether they have met, and the NPC's feelings. Retrieved facts are not
// in the scope (a paraphrase retrieves slightly different ones); re-ingested
// lore is thus served stale for at most TTL. Like the exact cache it is
// quality-aware: an entry serves only a request that cannot afford a
// better backend than the one that wrote it.
//
// Within a scope, lines are compared only with lines of the same shape
// (LineShape: question word, negation, tense, numbers), which embedders
// blur: the built-in LSA drops "not", "when" and "where" altogether.
//
// Each scope holds up to MaxPerScope line vectors; a lookup embeds the line
// once and scans its scope (BenchmarkSemanticLookup). Safe for concurrent
// use; Close it to stop its expiry goroutine.
type SemanticCache struct {
	emb       LineEmbedder
	threshold float32
	ttl       time.Duration
	maxScope  int
	timeout   time.Duration
	c         *otter.Cache[string, *semScope]

	hits, misses, errs atomic.Uint64
}

// semScope is one scope's entries, immutable once stored (a write stores
// a new one), oldest first.
type semScope struct {
	entries []semEntry
}

type semEntry struct {
	vec     []float32 // unit length
	line    string    // the normalised line, for equality and debugging
	val     Cached
	expires int64 // Unix ns
}

// NewSemanticCache returns an empty semantic cache. It fails without an
// embedder or with a threshold outside (0, 1].
func NewSemanticCache(opts SemanticOptions) (*SemanticCache, error) {
	if opts.Embedder == nil {
		return nil, errors.New("inference: semantic cache: an Embedder is required")
	}
	if opts.Threshold == 0 {
		opts.Threshold = DefaultSemanticThreshold
	}
	if opts.Threshold < 0 || opts.Threshold > 1 || math.IsNaN(opts.Threshold) {
		return nil, fmt.Errorf("inference: semantic cache: threshold %v: want a cosine similarity in (0, 1]", opts.Threshold)
	}
	if opts.TTL <= 0 {
		opts.TTL = 10 * time.Minute
	}
	if opts.MaxPerScope <= 0 {
		opts.MaxPerScope = 64
	}
	if opts.MaxBytes == 0 {
		opts.MaxBytes = 16 << 20
	}
	if opts.EmbedTimeout <= 0 {
		opts.EmbedTimeout = 5 * time.Millisecond
	}
	c, err := otter.New(&otter.Options[string, *semScope]{
		MaximumWeight: opts.MaxBytes,
		Weigher: func(k string, s *semScope) uint32 {
			w := len(k) + 48
			for i := range s.entries {
				e := &s.entries[i]
				w += 4*len(e.vec) + len(e.line) + len(e.val.Text) + len(e.val.Backend) + cacheEntryOverhead
			}
			return uint32(min(w, 1<<31))
		},
		// A scope lives as long as its newest entry; older entries are
		// skipped by their own expiry.
		ExpiryCalculator: otter.ExpiryWriting[string, *semScope](opts.TTL),
	})
	if err != nil {
		return nil, fmt.Errorf("inference: semantic cache: %w", err)
	}
	return &SemanticCache{emb: opts.Embedder, threshold: float32(opts.Threshold), ttl: opts.TTL,
		maxScope: opts.MaxPerScope, timeout: opts.EmbedTimeout, c: c}, nil
}

// Threshold returns the cache's similarity threshold.
func (sc *SemanticCache) Threshold() float64 { return float64(sc.threshold) }

// SemanticKey is what a lookup learned about a request — its scope and
// its line's embedding — for Put to store the reply under without
// embedding the line again. The zero value (the line could not be
// embedded) makes Put do nothing.
type SemanticKey struct {
	scope string
	line  string
	vec   []float32
}

// SemanticScope is the scope of req in the semantic cache: a hex FNV-1a
// 128 hash of what, besides the line, the answer depends on for a
// shareable request (see SemanticCache): the tenant, prompt name and
// hash, NPC, intent, player name, met-before flag and feelings.
func SemanticScope(req *Request) string {
	h := fnv.New128a()
	var lenBuf [8]byte
	field := func(s string) {
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(s)))
		h.Write(lenBuf[:])
		h.Write([]byte(s))
	}
	field(req.Tenant)
	field(req.PromptName)
	field(req.PromptHash)
	field(req.SmallPromptHash)
	field(req.Persona.ID)
	field(string(req.Intent))
	field(req.PlayerName)
	field(strconv.FormatBool(req.Returning))
	if r := req.Relationship; r != nil {
		field(strconv.FormatFloat(r.Affinity, 'f', 1, 64))
		field(strconv.FormatFloat(r.Trust, 'f', 1, 64))
		field(r.Feeling)
		field(r.Mood)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Get embeds req's line (within EmbedTimeout of ctx) and returns the
// reply cached for the most similar line of its scope, if that line's
// similarity is at least the threshold and its entry's quality at least
// minQuality. The key is for Put; it is the zero key when the line could
// not be embedded (an error, counted in SemanticStats.Errors, and a miss).
// A request without a CacheKey is never looked up.
func (sc *SemanticCache) Get(ctx context.Context, req *Request, minQuality int) (Cached, SemanticKey, bool) {
	if req.CacheKey == "" {
		return Cached{}, SemanticKey{}, false
	}
	line := NormalizeLine(req.UserText)
	ectx, cancel := context.WithTimeout(ctx, sc.timeout)
	vecs, err := sc.emb.Embed(ectx, []string{line})
	cancel()
	if err != nil || len(vecs) != 1 || !unit(vecs[0]) {
		sc.errs.Add(1)
		sc.misses.Add(1)
		return Cached{}, SemanticKey{}, false
	}
	k := SemanticKey{scope: SemanticScope(req) + "/" + LineShape(line), line: line, vec: vecs[0]}
	c, _, ok := sc.lookup(k, minQuality)
	if ok {
		sc.hits.Add(1)
	} else {
		sc.misses.Add(1)
	}
	return c, k, ok
}

// lookup returns the best live entry of k's scope with at least the
// threshold's similarity and minQuality, and that similarity.
func (sc *SemanticCache) lookup(k SemanticKey, minQuality int) (Cached, float32, bool) {
	s, ok := sc.c.GetIfPresent(k.scope)
	if !ok {
		return Cached{}, 0, false
	}
	now := time.Now().UnixNano()
	best, bestSim := -1, sc.threshold
	for i := range s.entries {
		e := &s.entries[i]
		if e.expires <= now || e.val.Quality < minQuality || len(e.vec) != len(k.vec) {
			continue
		}
		if sim := dot32(e.vec, k.vec); sim >= bestSim {
			best, bestSim = i, sim
		}
	}
	if best < 0 {
		return Cached{}, 0, false
	}
	return s.entries[best].val, bestSim, true
}

// Put stores res, produced by a backend of the given quality, for k's line
// in k's scope: it replaces an entry for the same line, and the scope's
// oldest entry when the scope is full.
func (sc *SemanticCache) Put(k SemanticKey, res Result, quality int) {
	if k.vec == nil {
		return
	}
	now := time.Now()
	e := semEntry{vec: k.vec, line: k.line, val: Cached{Result: res, Quality: quality}, expires: now.Add(sc.ttl).UnixNano()}
	sc.c.Compute(k.scope, func(old *semScope, found bool) (*semScope, otter.ComputeOp) {
		n := &semScope{entries: make([]semEntry, 0, min(sc.maxScope, len(entryList(old, found))+1))}
		for _, o := range entryList(old, found) {
			if o.line == k.line || o.expires <= now.UnixNano() {
				continue
			}
			n.entries = append(n.entries, o)
		}
		if len(n.entries) >= sc.maxScope {
			n.entries = n.entries[len(n.entries)-sc.maxScope+1:]
		}
		n.entries = append(n.entries, e)
		return n, otter.WriteOp
	})
}

func entryList(s *semScope, found bool) []semEntry {
	if !found || s == nil {
		return nil
	}
	return s.entries
}

// Stats returns the lookup counters and the current size.
func (sc *SemanticCache) Stats() SemanticStats {
	return SemanticStats{Hits: sc.hits.Load(), Misses: sc.misses.Load(), Errors: sc.errs.Load(),
		Scopes: sc.c.EstimatedSize(), Bytes: sc.c.WeightedSize()}
}

// Close stops the cache's expiry goroutine. The cache stays usable.
func (sc *SemanticCache) Close() { sc.c.StopAllGoroutines() }

// unit scales v to unit length in place and reports whether it could (a
// zero or non-finite vector — a line of unknown words — cannot be
// compared).
func unit(v []float32) bool {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return false
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return true
}

// dot32 is the inner product of two vectors of one length, with gonum's
// SIMD kernel (blas32.Dot; lore measured it at about 70 ns for 384
// dimensions against 330 ns for a plain Go loop).
func dot32(a, b []float32) float32 {
	n := len(a)
	return blas32.Dot(blas32.Vector{N: n, Inc: 1, Data: a}, blas32.Vector{N: n, Inc: 1, Data: b[:n]})
}

// Similarity embeds two lines with e (normalised as the cache does) and
// returns their cosine similarity: what the cache compares with its
// threshold when the lines have one LineShape. For evaluations (`hearth
// semcache-eval`).
func Similarity(ctx context.Context, e LineEmbedder, a, b string) (float64, error) {
	v, err := e.Embed(ctx, []string{NormalizeLine(a), NormalizeLine(b)})
	if err != nil {
		return 0, err
	}
	if len(v) != 2 || len(v[0]) != len(v[1]) {
		return 0, errors.New("inference: embedder returned vectors of the wrong number or length")
	}
	if !unit(v[0]) || !unit(v[1]) {
		return 0, nil
	}
	return float64(dot32(v[0], v[1])), nil
}

// LineShape is the shape of a player's line that two lines must share to
// be compared at all: its first question word ("who", "what" — "tell me
// about" counts as "what" —, "where", "when", "why", "how", "how much/
// many", or none), whether it is negated ("not", "n't", "never", "no"),
// its tense markers (past: "was", "did", "yesterday", "last"…; future:
// "will", "tomorrow", "next", "after"…) and its numbers (digits and number
// words, in order). On the labeled set it removes the near-misses that
// differ in these alone (negations, when/where, before/after, one/ten),
// which no embedder we measured separates (`hearth semcache-eval`).
func LineShape(line string) string {
	s := strings.ToLower(line)
	s = strings.ReplaceAll(s, "n't", " not")
	s = strings.ReplaceAll(s, "n’t", " not")
	w := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	wh, neg, past, fut := "", false, false, false
	var nums []string
	for i, x := range w {
		switch x {
		case "who", "whom", "whose":
			wh = firstWord(wh, "who")
		case "what", "which", "tell":
			wh = firstWord(wh, "what")
		case "where":
			wh = firstWord(wh, "where")
		case "when":
			wh = firstWord(wh, "when")
		case "why":
			wh = firstWord(wh, "why")
		case "how":
			if i+1 < len(w) && (w[i+1] == "much" || w[i+1] == "many") {
				wh = firstWord(wh, "how-much")
			} else {
				wh = firstWord(wh, "how")
			}
		case "not", "never", "no", "nothing", "nobody", "none":
			neg = true
		case "was", "were", "did", "yesterday", "ago", "last", "before", "used":
			past = true
		case "will", "tomorrow", "next", "after", "going", "soon":
			fut = true
		default:
			if numberWords[x] || strings.IndexFunc(x, unicode.IsDigit) >= 0 {
				nums = append(nums, x)
			}
		}
	}
	var b strings.Builder
	b.WriteString(wh)
	if neg {
		b.WriteString("|not")
	}
	if past {
		b.WriteString("|past")
	}
	if fut {
		b.WriteString("|future")
	}
	for _, n := range nums {
		b.WriteString("|")
		b.WriteString(n)
	}
	return b.String()
}

// firstWord keeps the first question word of a line.
func firstWord(have, w string) string {
	if have != "" {
		return have
	}
	return w
}

// numberWords are the number words LineShape keeps.
var numberWords = map[string]bool{
	"one": true, "two": true, "three": true, "four": true, "five": true, "six": true, "seven": true,
	"eight": true, "nine": true, "ten": true, "eleven": true, "twelve": true, "twenty": true, "thirty": true,
	"forty": true, "fifty": true, "hundred": true, "thousand": true, "dozen": true, "half": true,
	"single": true, "pair": true, "couple": true, "both": true, "once": true, "twice": true,
	"first": true, "second": true, "third": true,
}

// cacheGet is the Router's cache lookup: the exact cache, then, on a miss,
// the semantic cache (when the Router has one), whose key it leaves in sk
// for cachePut. A semantic hit's Backend is prefixed "semantic:" (the
// Router then adds "cache:").
func (r *Router) cacheGet(ctx context.Context, req *Request, minQuality int, sk *SemanticKey) (Cached, bool) {
	if c, ok := r.cache.Get(req.CacheKey, minQuality); ok || r.sem == nil {
		return c, ok
	}
	c, k, ok := r.sem.Get(ctx, req, minQuality)
	*sk = k
	if ok {
		c.Backend = "semantic:" + c.Backend
	}
	return c, ok
}

// cachePut stores a reply in the exact cache and, with sk from cacheGet,
// the semantic cache.
func (r *Router) cachePut(req *Request, sk SemanticKey, res Result, quality int) {
	r.cache.Put(req.CacheKey, res, quality)
	if r.sem != nil {
		r.sem.Put(sk, res, quality)
	}
}

// Semantic returns the Router's semantic cache (RouterOptions.Semantic),
// nil when it has none.
func (r *Router) Semantic() *SemanticCache { return r.sem }

// cacheDescs are the Collector's metrics of the semantic cache and of the
// response cache's persistence.
type cacheDescs struct {
	semHits, semMisses, semErrors, semScopes, semBytes *prometheus.Desc
	loaded, dropped, persistErrors                     *prometheus.Desc
}

func newCacheDescs() cacheDescs {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return cacheDescs{
		semHits:       d("hearth_semcache_hits_total", "Semantic cache lookups that served the reply to a similar line (after an exact-cache miss)."),
		semMisses:     d("hearth_semcache_misses_total", "Semantic cache lookups that found no line similar enough (errors included)."),
		semErrors:     d("hearth_semcache_errors_total", "Semantic cache lookups whose line could not be embedded in time."),
		semScopes:     d("hearth_semcache_scopes", "Scopes (NPC, intent, player name…) held by the semantic cache."),
		semBytes:      d("hearth_semcache_bytes", "Weighed size of the semantic cache, bytes."),
		loaded:        d("hearth_cache_loaded_total", "Response cache entries loaded from the store at start."),
		dropped:       d("hearth_cache_persist_dropped_total", "Response cache writes to the store dropped because the queue was full."),
		persistErrors: d("hearth_cache_persist_errors_total", "Response cache batches that failed to write to the store."),
	}
}

func (d cacheDescs) describe(ch chan<- *prometheus.Desc) {
	for _, x := range []*prometheus.Desc{d.semHits, d.semMisses, d.semErrors, d.semScopes, d.semBytes, d.loaded, d.dropped, d.persistErrors} {
		ch <- x
	}
}

func (d cacheDescs) collect(r *Router, cache *ResponseCache, ch chan<- prometheus.Metric) {
	if sem := r.Semantic(); sem != nil {
		st := sem.Stats()
		ch <- prometheus.MustNewConstMetric(d.semHits, prometheus.CounterValue, float64(st.Hits))
		ch <- prometheus.MustNewConstMetric(d.semMisses, prometheus.CounterValue, float64(st.Misses))
		ch <- prometheus.MustNewConstMetric(d.semErrors, prometheus.CounterValue, float64(st.Errors))
		ch <- prometheus.MustNewConstMetric(d.semScopes, prometheus.GaugeValue, float64(st.Scopes))
		ch <- prometheus.MustNewConstMetric(d.semBytes, prometheus.GaugeValue, float64(st.Bytes))
	}
	if cache != nil && cache.st != nil {
		st := cache.Stats()
		ch <- prometheus.MustNewConstMetric(d.loaded, prometheus.CounterValue, float64(st.Loaded))
		ch <- prometheus.MustNewConstMetric(d.dropped, prometheus.CounterValue, float64(st.PersistDropped))
		ch <- prometheus.MustNewConstMetric(d.persistErrors, prometheus.CounterValue, float64(st.PersistErrors))
	}
}

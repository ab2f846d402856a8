package npc

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"gonum.org/v1/gonum/blas/blas32"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/internal/store"
)

// Memory kinds (store.MemoryRecord.Kind).
const (
	KindDialogue    = "dialogue"
	KindObservation = "observation"
	KindReflection  = "reflection"
	KindSummary     = "summary" // compaction: older memories folded into one
	KindGossip      = "gossip"  // heard from another NPC (Meet): "Heard from Hobb: …"
)

// memory is one memory of the stream with what recall needs: its terms
// (for share.go's relevance test) and its embedding.
type memory struct {
	key   string // store key, for compaction
	rec   store.MemoryRecord
	terms []string // distinct lowercased words of rec.Text
	// The embedding: with the default HashEmbedder, feats (hashed stems,
	// each of weight norm = 1/√len(feats)); with another embedder, vec
	// (unit length).
	feats []uint32
	norm  float32
	vec   []float32
}

// embedding is a text's embedding in either form (see memory).
type embedding struct {
	feats []uint32
	vec   []float32
}

// memoryCache is an NPC's memory stream (Park et al. 2023): every memory
// it has, per player plus its world knowledge (player ""), loaded from the
// store on first use and written through on every change. Compaction keeps
// it at most MemoryOptions.Cap long (plus a quarter between compactions),
// so RAM per NPC is bounded. Safe for concurrent use.
type memoryCache struct {
	npcID string
	st    *store.Store
	opts  MemoryOptions // defaults filled in

	loadMu sync.Mutex // held while loading
	mu     sync.RWMutex
	loaded bool
	// buckets holds each player's memories ("" for world knowledge) in
	// write order. A bucket's slice is appended to or replaced, never
	// modified below its length, so a reader may keep a snapshot after
	// unlocking.
	buckets map[string][]memory
	count   int
	meta    store.StreamMetaRecord
	// since is the importance written since the last reflection (meta's
	// watermark); recomputed from the memories on load.
	since float64
	// df counts, per hashed stem, the memories that have it (HashEmbedder
	// only): recall's inverse document frequencies.
	df map[uint32]int32
	// hashed says the embedder is the HashEmbedder (sparse embeddings).
	hashed bool

	maintMu sync.Mutex // one reflection or compaction at a time

	// gossipMu is held while the NPC is told gossip (Meet): the check that
	// it does not know an event yet and the write of what it heard must
	// not interleave with another meeting's, or one event would be stored
	// twice.
	gossipMu sync.Mutex
}

func newMemoryCache(npcID string, st *store.Store, opts MemoryOptions) *memoryCache {
	c := &memoryCache{npcID: npcID, st: st, opts: opts.withDefaults(), buckets: map[string][]memory{}, df: map[uint32]int32{}}
	_, c.hashed = c.opts.Embedder.(*HashEmbedder)
	return c
}

// load reads the NPC's stream from the store once.
func (c *memoryCache) load() error {
	c.mu.RLock()
	ok := c.loaded
	c.mu.RUnlock()
	if ok {
		return nil
	}
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	c.mu.RLock()
	ok = c.loaded
	c.mu.RUnlock()
	if ok {
		return nil
	}
	recs, err := c.st.StreamMemories(c.npcID)
	if err != nil {
		return err
	}
	meta, err := c.st.StreamMeta(c.npcID)
	if err != nil {
		return err
	}
	texts := make([]string, len(recs))
	for i, r := range recs {
		texts[i] = r.Rec.Text
	}
	vecs, err := c.embed(texts)
	if err != nil {
		return err
	}
	buckets := map[string][]memory{}
	df := map[uint32]int32{}
	since := 0.0
	for i, r := range recs {
		m := c.newMemory(r.Key, r.Rec, vecs[i])
		for _, f := range m.feats {
			df[f]++
		}
		buckets[r.Rec.PlayerID] = append(buckets[r.Rec.PlayerID], m)
		if countsForReflection(r.Rec) && r.Rec.WallTime > meta.Watermark {
			since += r.Rec.Importance
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// An append waits in load for this one to finish, so none is lost
	// between the scan and here.
	c.buckets, c.df, c.count, c.meta, c.since, c.loaded = buckets, df, len(recs), meta, since, true
	return nil
}

// countsForReflection says whether a memory adds to the importance that
// triggers reflection: reflections and summaries do not (Park et al. count
// perceived events).
func countsForReflection(r store.MemoryRecord) bool {
	return r.Kind != KindReflection && r.Kind != KindSummary
}

func (c *memoryCache) embed(texts []string) ([]embedding, error) {
	out := make([]embedding, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	if c.hashed {
		for i, t := range texts {
			out[i].feats = features(t)
		}
		return out, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	vecs, err := c.opts.Embedder.Embed(ctx, texts)
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(texts) {
		return nil, errors.New("npc: memory embedder returned the wrong number of vectors")
	}
	for _, v := range vecs {
		if len(v) != c.opts.Embedder.Dim() {
			return nil, errors.New("npc: memory embedder returned a vector of the wrong dimension")
		}
		normalizeVec(v)
	}
	for i, v := range vecs {
		out[i].vec = v
	}
	return out, nil
}

func (c *memoryCache) newMemory(key string, r store.MemoryRecord, e embedding) memory {
	set := termSet(r.Text)
	terms := make([]string, 0, len(set))
	for t := range set {
		terms = append(terms, t)
	}
	sort.Strings(terms)
	m := memory{key: key, rec: r, terms: terms, feats: e.feats, vec: e.vec}
	if len(e.feats) > 0 {
		m.norm = float32(1 / math.Sqrt(float64(len(e.feats))))
	}
	return m
}

// recent returns a snapshot of the player's most recent memories (at most
// recallWindow, oldest first), loading the stream on first use. The
// dialogue path uses it to tell a returning player and their name.
func (c *memoryCache) recent(playerID string) ([]memory, error) {
	if err := c.load(); err != nil {
		return nil, err
	}
	c.mu.RLock()
	b := c.buckets[playerID]
	c.mu.RUnlock()
	if len(b) > recallWindow {
		b = b[len(b)-recallWindow:]
	}
	return b, nil
}

// append writes recs about playerID ("" for world knowledge) to the store
// and, once they are written, to the stream. Records without an importance
// are rated by MemoryOptions.Rater. When the stream has grown a quarter
// past MemoryOptions.Cap it compacts before returning (callers write after
// the reply is delivered, so no turn waits for it).
func (c *memoryCache) append(playerID string, recs ...store.MemoryRecord) error {
	wall := time.Now().UnixNano()
	for i := range recs {
		if recs[i].WallTime == 0 {
			recs[i].WallTime = wall // set here, so RAM and the store agree
		}
		if recs[i].Importance <= 0 {
			recs[i].Importance = c.opts.Rater.Rate(recs[i].Kind, recs[i].Text)
		}
		recs[i].Importance = math.Max(1, math.Min(10, recs[i].Importance))
	}
	loadErr := c.load()
	keys, err := c.st.AppendStream(c.npcID, playerID, recs...)
	if err != nil {
		return err
	}
	if loadErr != nil {
		return nil // written; the next load reads it
	}
	texts := make([]string, len(recs))
	for i := range recs {
		texts[i] = recs[i].Text
	}
	vecs, err := c.embed(texts)
	if err != nil {
		return err
	}
	c.mu.Lock()
	for i, r := range recs {
		r.NPCID, r.PlayerID = c.npcID, playerID
		m := c.newMemory(keys[i], r, vecs[i])
		for _, f := range m.feats {
			c.df[f]++
		}
		c.buckets[playerID] = append(c.buckets[playerID], m)
		if countsForReflection(r) {
			c.since += r.Importance
		}
	}
	c.count += len(recs)
	over := c.count > c.opts.Cap+c.opts.Cap/4
	c.mu.Unlock()
	if over && c.maintMu.TryLock() { // else Maintain is compacting already
		c.maintMu.Unlock()
		_, err := c.compact()
		return err
	}
	return nil
}

// scratch is recall's per-call working memory, pooled: recall over 10,000
// memories must not allocate 10,000-element slices per turn.
type scratch struct {
	rec, imp, rel []float64
	// qkey and qw are the query's hashed stems and weights, by the low 16
	// bits of the stem (HashDim buckets); only the query's entries are
	// set, and they are cleared after use.
	qkey [HashDim]uint32
	qw   [HashDim]float32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// recall ranks the player's memories and the NPC's world knowledge by the
// Generative Agents score (Park et al. 2023, §4.1): a weighted sum
// (MemoryOptions.Weights) of recency (exponential decay per game hour
// since the memory), importance (1..10) and relevance (cosine of the
// memory's and the query's embeddings; with the HashEmbedder, query stems
// weighted by inverse document frequency), each min-max normalised over
// the candidates. It returns up to k, oldest first.
func (c *memoryCache) recall(playerID, query string, now time.Time, k int) []inference.Memory {
	if err := c.load(); err != nil || k <= 0 {
		return nil
	}
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	var qf []uint32
	var q []float32
	if c.hashed {
		qf = features(query)
	} else if query != "" {
		if e, err := c.embed([]string{query}); err == nil {
			q = e[0].vec
		}
	}
	c.mu.RLock()
	own, world := c.buckets[playerID], c.buckets[""]
	if len(qf) > 0 {
		// Query weights: idf = ln(1 + N/df) (stems no memory has are
		// dropped), normalised to unit length.
		var sum float64
		kept := qf[:0]
		for _, f := range qf {
			if df := c.df[f]; df > 0 {
				w := math.Log(1 + float64(c.count)/float64(df))
				s.qkey[f&(HashDim-1)], s.qw[f&(HashDim-1)] = f, float32(w)
				sum += w * w
				kept = append(kept, f)
			}
		}
		qf = kept
		for _, f := range qf {
			s.qw[f&(HashDim-1)] /= float32(math.Sqrt(sum))
		}
	}
	c.mu.RUnlock()
	defer func() {
		for _, f := range qf {
			s.qkey[f&(HashDim-1)], s.qw[f&(HashDim-1)] = 0, 0
		}
	}()
	if playerID == "" {
		own = nil
	}
	n := len(own) + len(world)
	if n == 0 {
		return nil
	}
	s.rec, s.imp, s.rel = grow(s.rec, n), grow(s.imp, n), grow(s.rel, n)
	lnDecay := math.Log(c.opts.DecayPerHour)
	nowNs := now.UnixNano()
	var qv blas32.Vector
	if q != nil {
		qv = blas32.Vector{N: len(q), Inc: 1, Data: q}
	}
	at := func(i int) *memory {
		if i < len(own) {
			return &own[i]
		}
		return &world[i-len(own)]
	}
	// One pass scores and tracks each score's range; a second normalises
	// (min-max), weighs and keeps the top k.
	lo, hi := [3]float64{math.Inf(1), math.Inf(1), math.Inf(1)}, [3]float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	for i := 0; i < n; i++ {
		m := at(i)
		hours := math.Max(0, float64(nowNs-m.rec.GameTime)/float64(time.Hour))
		rec := expNeg(lnDecay * hours)
		imp := m.rec.Importance
		rel := 0.0
		switch {
		case len(qf) > 0:
			var dot float32
			for _, f := range m.feats {
				if s.qkey[f&(HashDim-1)] == f {
					dot += s.qw[f&(HashDim-1)]
				}
			}
			rel = float64(dot * m.norm)
		case q != nil && len(m.vec) == len(q):
			rel = math.Max(0, float64(blas32.Dot(qv, blas32.Vector{N: len(q), Inc: 1, Data: m.vec})))
		}
		s.rec[i], s.imp[i], s.rel[i] = rec, imp, rel
		if rec < lo[0] {
			lo[0] = rec
		}
		if rec > hi[0] {
			hi[0] = rec
		}
		if imp < lo[1] {
			lo[1] = imp
		}
		if imp > hi[1] {
			hi[1] = imp
		}
		if rel < lo[2] {
			lo[2] = rel
		}
		if rel > hi[2] {
			hi[2] = rel
		}
	}
	w := c.opts.Weights
	// score = Σ weight·(x-lo)/(hi-lo), or weight when the range is empty
	// (every candidate scores the same): a·x + b per score.
	var a, b [3]float64
	for j, wt := range [3]float64{w.Recency, w.Importance, w.Relevance} {
		if hi[j] > lo[j] {
			a[j], b[j] = wt/(hi[j]-lo[j]), -wt*lo[j]/(hi[j]-lo[j])
		} else {
			b[j] = wt
		}
	}
	base := b[0] + b[1] + b[2]
	// Top k by score; ties go to the later candidate (the newer memory
	// within a bucket, world knowledge over the player's).
	type hit struct {
		i     int
		score float64
	}
	top := make([]hit, 0, k+1)
	for i := 0; i < n; i++ {
		sc := base + a[0]*s.rec[i] + a[1]*s.imp[i] + a[2]*s.rel[i]
		if len(top) == k && sc < top[k-1].score {
			continue
		}
		top = append(top, hit{})
		j := len(top) - 1
		for j > 0 && top[j-1].score <= sc {
			top[j] = top[j-1]
			j--
		}
		top[j] = hit{i, sc}
		if len(top) > k {
			top = top[:k]
		}
	}
	out := make([]inference.Memory, len(top))
	for j, h := range top {
		m := at(h.i)
		out[j] = inference.Memory{Text: m.rec.Text, Kind: m.rec.Kind, Importance: m.rec.Importance,
			GameTime: time.Unix(0, m.rec.GameTime)}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].GameTime.Before(out[j].GameTime) })
	return out
}

func grow(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}

// expNeg is e^x for x <= 0, to a relative error under 2e-5 (2^x split
// into 2^⌊x⌋, built in the exponent bits, times a degree-6 Taylor
// polynomial of 2^f on [0, 1)): four times as fast as math.Exp, which was
// a quarter of recall's time over 10,000 memories. Recall only compares
// recency scores, so the error does not matter.
func expNeg(x float64) float64 {
	if x < -700 {
		return 0
	}
	if x > 0 {
		return math.Exp(x)
	}
	y := x * math.Log2E
	i := math.Floor(y)
	f := y - i
	p := 1 + f*(0.6931471805599453+f*(0.2402265069591007+f*(0.05550410866482158+
		f*(0.009618129107628477+f*(0.0013333558146428443+f*0.00015403530393381606)))))
	return math.Float64frombits(uint64(int64(i)+1023)<<52) * p
}

// termSet returns the distinct lowercased words of s longer than two
// letters: the relevance vocabulary of recall.
func termSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len(w) > 2 {
			out[w] = true
		}
	}
	return out
}

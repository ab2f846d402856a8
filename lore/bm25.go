package lore

import (
	"cmp"
	"math"
	"slices"
	"sort"
	"strings"
)

// BM25 parameters. The ranking function is Okapi BM25 (Robertson, Walker,
// Jones, Hancock-Beaulieu and Gatford, "Okapi at TREC-3", 1994; Spärck
// Jones, Walker and Robertson, "A probabilistic model of information
// retrieval", IP&M 36, 2000) with the usual k1 = 1.2 and b = 0.75
// (Robertson and Zaragoza, "The Probabilistic Relevance Framework: BM25 and
// Beyond", FnTIR 3(4), 2009), in its two-field BM25F form (Robertson,
// Zaragoza and Taylor, "Simple BM25 extension to multiple weighted fields",
// CIKM 2004) with the non-negative idf of Lucene:
//
//	tf'(t,d)    = headingWeight·tf_heading(t,d) + tf_text(t,d) / (1 − b + b·|text_d|/avg|text|)
//	score(q, d) = Σ_t∈q idf(t) · tf'(t,d)·(k1+1) / (tf'(t,d) + k1)
//	idf(t)      = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
//
// Heading-path words count headingWeight times and are not length
// normalised (b = 0 for the heading field): a chunk under "## Aboleth" is
// about the aboleth even when its text never names it, however long the
// text is.
const (
	bm25K1        = 1.2
	bm25B         = 0.75
	headingWeight = 3
	// ancestorHeadingWeight is the weight of the words of the enclosing
	// headings (all but the last of the path): "Aboleth" weighs 3 in the
	// stat block under "## Aboleth" and 2 in its "### Actions" below, so a
	// question naming a creature prefers its main section.
	ancestorHeadingWeight = 2
)

// termFreq is one term of an analysed chunk with its frequency in the
// heading path and in the text.
type termFreq struct {
	term          string
	heading, text float32
}

// indexedChunk is a chunk with its analysis, kept so that the index can be
// rebuilt after an ingest without tokenising every chunk again.
type indexedChunk struct {
	chunk   Chunk
	terms   []termFreq // sorted by term
	textLen float32    // number of terms in the text
}

func analyze(c Chunk) *indexedChunk {
	counts := map[string]*termFreq{}
	get := func(t string) *termFreq {
		tf := counts[t]
		if tf == nil {
			tf = &termFreq{term: t}
			counts[t] = tf
		}
		return tf
	}
	var toks []string
	for i, h := range c.Heading {
		w := float32(ancestorHeadingWeight) / headingWeight
		if i == len(c.Heading)-1 {
			w = 1
		}
		toks = appendTokens(toks[:0], h)
		for _, t := range toks {
			get(t).heading += w
		}
	}
	toks = appendTokens(toks[:0], c.Text)
	for _, t := range toks {
		get(t).text++
	}
	ic := &indexedChunk{chunk: c, terms: make([]termFreq, 0, len(counts)), textLen: float32(len(toks))}
	for _, tf := range counts {
		ic.terms = append(ic.terms, *tf)
	}
	slices.SortFunc(ic.terms, func(a, b termFreq) int { return strings.Compare(a.term, b.term) })
	return ic
}

type posting struct {
	chunk uint32  // index into index.chunks
	tf    float32 // tf'(t,d): field-weighted, length-normalised frequency
}

type termEntry struct {
	idf      float64
	maxScore float64   // the term's best contribution to a chunk's score (its MaxScore bound)
	postings []posting // by chunk index
}

// index is an immutable BM25 index over a snapshot of the library's chunks;
// ingestion builds a new one and swaps it in.
type index struct {
	chunks     []*indexedChunk
	terms      map[string]*termEntry
	maxSecrecy int // the largest Secrecy of the chunks (see passFilter)
}

func buildIndex(chunks []*indexedChunk) *index {
	ix := &index{chunks: chunks, terms: map[string]*termEntry{}}
	var total float64
	for _, c := range chunks {
		total += float64(c.textLen)
		ix.maxSecrecy = max(ix.maxSecrecy, c.chunk.Secrecy)
	}
	avg := 1.0
	if len(chunks) > 0 && total > 0 {
		avg = total / float64(len(chunks))
	}
	for i, c := range chunks {
		norm := 1 - bm25B + bm25B*float64(c.textLen)/avg
		for _, tf := range c.terms {
			e := ix.terms[tf.term]
			if e == nil {
				e = &termEntry{}
				ix.terms[tf.term] = e
			}
			w := headingWeight*float64(tf.heading) + float64(tf.text)/norm
			e.postings = append(e.postings, posting{uint32(i), float32(w)})
		}
	}
	n := float64(len(chunks))
	for _, e := range ix.terms {
		df := float64(len(e.postings))
		e.idf = math.Log(1 + (n-df+0.5)/(df+0.5))
		e.postings = slices.Clip(e.postings)
		var maxTF float32
		for _, p := range e.postings {
			maxTF = max(maxTF, p.tf)
		}
		e.maxScore = bm25Term(e.idf, maxTF) // bm25Term grows with tf
	}
	return ix
}

// search scores the chunks that contain a query term and pass f, and
// returns the k best, best first (ties by index order, which is document
// order).
func (ix *index) search(query string, k int, f Filter) []Hit {
	top := ix.top(query, k, f)
	if len(top) == 0 {
		return nil
	}
	hits := make([]Hit, len(top))
	for i, s := range top {
		hits[i] = Hit{Chunk: cloneChunk(ix.chunks[s.chunk].chunk), Score: s.score}
	}
	return hits
}

// top is search without the copies: the k best chunks (indexes into
// ix.chunks) with their BM25 scores, best first, ties by index order.
//
// It is MaxScore (Turtle and Flood, "Query evaluation: strategies and
// optimizations", IP&M 31(6), 1995), document at a time as in Lucene and
// PISA: each query term has an upper bound (its best contribution to any
// chunk, termEntry.maxScore); once the heap holds k chunks, the terms of
// lowest bounds whose bounds together cannot beat the k-th score are
// "non-essential": chunks are drawn only from the other terms' posting
// lists, and a candidate's non-essential terms are looked up (a galloping
// search of their posting lists) only while its score could still enter
// the heap. The result is exactly exhaustive scoring's (scores are summed
// in the same term order; topExhaustive in the tests checks it): a chunk
// is skipped only when its score cannot beat the heap's worst, and chunks
// come in index order, so a later tie never enters.
func (ix *index) top(query string, k int, f Filter) []scored {
	if k <= 0 || len(ix.chunks) == 0 {
		return nil
	}
	var qarr [32]string
	qterms := appendTokens(qarr[:0], query)
	if len(qterms) == 0 {
		return nil
	}
	slices.Sort(qterms)
	qterms = slices.Compact(qterms)
	pass := ix.passFilter(f)

	// One cursor per query term in the index, ordered by upper bound.
	var carr [32]termCursor
	cs := carr[:0]
	for i, t := range qterms {
		if e := ix.terms[t]; e != nil {
			cs = append(cs, termCursor{e: e, term: i})
		}
	}
	if len(cs) == 0 {
		return nil
	}
	slices.SortStableFunc(cs, func(a, b termCursor) int {
		return cmp.Compare(a.e.maxScore, b.e.maxScore)
	})
	// below[i] bounds the sum of the contributions of cs[:i], with a
	// margin for float rounding (the bound only prunes).
	var barr [33]float64
	below := barr[:0]
	if len(cs) >= len(barr) {
		below = make([]float64, len(cs)+1)
	} else {
		below = barr[:len(cs)+1]
	}
	for i, c := range cs {
		below[i+1] = below[i] + c.e.maxScore*(1+1e-9)
	}
	var carr2 [32]float64
	contrib := carr2[:0] // per query term (qterms order): the candidate's contributions
	if len(qterms) > len(carr2) {
		contrib = make([]float64, len(qterms))
	} else {
		contrib = carr2[:len(qterms)]
	}
	var harr [16]scored
	h := harr[:0]
	theta := math.Inf(-1) // the heap's worst score once it holds k
	essential := 0        // cs[essential:] are the essential terms
	const done = math.MaxUint32
	for {
		for essential < len(cs) && below[essential+1] <= theta {
			essential++
		}
		if essential == len(cs) {
			break
		}
		// The next candidate: the smallest chunk in an essential list.
		d := uint32(done)
		for i := essential; i < len(cs); i++ {
			d = min(d, cs[i].doc())
		}
		if d == done {
			break
		}
		allowed := pass == nil || pass(d)
		clear(contrib)
		var upper float64
		for i := essential; i < len(cs); i++ {
			c := &cs[i]
			if c.doc() != d {
				continue
			}
			if allowed {
				x := bm25Term(c.e.idf, c.e.postings[c.pos].tf)
				contrib[c.term] = x
				upper += x
			}
			c.pos++
		}
		if !allowed {
			continue
		}
		upper += below[essential]
		pruned := false
		for i := essential - 1; i >= 0; i-- {
			if upper <= theta {
				pruned = true
				break
			}
			c := &cs[i]
			upper -= c.e.maxScore * (1 + 1e-9)
			if c.seek(d) == d {
				x := bm25Term(c.e.idf, c.e.postings[c.pos].tf)
				contrib[c.term] = x
				upper += x
			}
		}
		if pruned || upper <= theta {
			continue
		}
		var score float64
		for _, x := range contrib {
			score += x
		}
		s := scored{d, score}
		if len(h) < k {
			h = append(h, s)
			siftUp(h, len(h)-1)
		} else if s.better(h[0]) {
			h[0] = s
			siftDown(h, 0)
		}
		if len(h) == k {
			theta = h[0].score
		}
	}
	sortScored(h)
	if len(h) == 0 {
		return nil
	}
	return slices.Clone(h) // h may live in harr, on this frame
}

// bm25Term is one term's BM25 contribution: idf(t)·tf'·(k1+1)/(tf'+k1).
func bm25Term(idf float64, tf float32) float64 {
	x := float64(tf)
	return idf * x * (bm25K1 + 1) / (x + bm25K1)
}

// termCursor walks one query term's posting list in chunk order.
type termCursor struct {
	e    *termEntry
	term int // index of the term in the sorted query terms
	pos  int // current posting
}

// doc is the cursor's current chunk, or MaxUint32 past the end.
func (c *termCursor) doc() uint32 {
	if c.pos >= len(c.e.postings) {
		return math.MaxUint32
	}
	return c.e.postings[c.pos].chunk
}

// seek moves the cursor to the first posting of a chunk ≥ d (a galloping
// search: Bentley and Yao, "An almost optimal algorithm for unbounded
// searching", IPL 5(3), 1976) and returns that chunk, or MaxUint32.
func (c *termCursor) seek(d uint32) uint32 {
	ps := c.e.postings
	lo := c.pos
	if lo >= len(ps) || ps[lo].chunk >= d {
		return c.doc()
	}
	// ps[lo] < d: gallop to a hi with ps[hi] ≥ d (or the end).
	step := 1
	hi := lo + 1
	for hi < len(ps) && ps[hi].chunk < d {
		lo = hi
		hi += step
		step *= 2
	}
	hi = min(hi, len(ps))
	// The first ≥ d lies in (lo, hi].
	c.pos = lo + 1 + sort.Search(hi-lo-1, func(j int) bool { return ps[lo+1+j].chunk >= d })
	return c.doc()
}

type scored struct {
	chunk uint32
	score float64
}

func (a scored) better(b scored) bool {
	return a.score > b.score || (a.score == b.score && a.chunk < b.chunk)
}

// siftUp and siftDown keep h a min-heap under better (the worst on top).
func siftUp(h []scored, i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[p].better(h[i]) {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func siftDown(h []scored, i int) {
	for {
		l, worst := 2*i+1, i
		if l < len(h) && h[worst].better(h[l]) {
			worst = l
		}
		if r := l + 1; r < len(h) && h[worst].better(h[r]) {
			worst = r
		}
		if worst == i {
			return
		}
		h[i], h[worst] = h[worst], h[i]
		i = worst
	}
}

// Allows reports whether f lets an NPC know c: the rules Filter documents,
// applied inside every search. Exported so that checks outside a search
// (guardrails, the training corpus) use the same rules.
func (f *Filter) Allows(c *Chunk) bool {
	if c.Secrecy > f.MaxSecrecy {
		return false
	}
	if len(f.Sources) > 0 && !slices.Contains(f.Sources, c.Source) {
		return false
	}
	if len(f.Regions) > 0 && c.Region != "" && !containsFold(f.Regions, c.Region) {
		return false
	}
	if len(f.Tags) > 0 && len(c.Tags) > 0 {
		for _, t := range c.Tags {
			if containsFold(f.Tags, t) {
				return true
			}
		}
		return false
	}
	return true
}

// passFilter returns the predicate of the chunks (by index) that f
// allows, or nil when f allows every chunk of ix (no sources, regions or
// tags listed, and no chunk more secret than f.MaxSecrecy): a nil
// predicate lets BM25's scoring and the vector graph walk skip a per-row
// check (in the walk, one that reads each visited row's chunk from
// memory).
func (ix *index) passFilter(f Filter) func(uint32) bool {
	if len(f.Sources) == 0 && len(f.Regions) == 0 && len(f.Tags) == 0 && f.MaxSecrecy >= ix.maxSecrecy {
		return nil
	}
	return func(i uint32) bool { return f.Allows(&ix.chunks[i].chunk) }
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

func cloneChunk(c Chunk) Chunk {
	c.Heading = slices.Clone(c.Heading)
	c.Tags = slices.Clone(c.Tags)
	c.Entities = slices.Clone(c.Entities)
	return c
}

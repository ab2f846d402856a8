package lore

import (
	"context"
	"math"
	mathrand "math/rand"
	"strconv"
	"testing"
	"time"

	coderhnsw "github.com/coder/hnsw"
	chromem "github.com/philippgille/chromem-go"
)

// chromemBench holds the same vectors in chromem-go and in a vectorIndex
// (one row per chunk: each chunk's whole-text embedding), built once.
var chromemBench struct {
	n     int
	col   *chromem.Collection
	vi    *vectorIndex
	qv    [][]float32
	exact [][]scored
	docs  []chromem.Document
}

func chromemSetup(b *testing.B) {
	n := benchChunks()
	if chromemBench.n == n {
		return
	}
	l, chunks := cachedBenchLibrary(b, n)
	src := l.vec.index
	dim := src.dim
	vecs := make([]float32, 0, len(chunks)*dim)
	has := make([]bool, len(chunks))
	first := make([]uint32, len(chunks)+1)
	docs := make([]chromem.Document, 0, len(chunks))
	for c := range chunks {
		first[c] = uint32(c)
		v := src.chunkVec(uint32(c))
		if v == nil {
			v = make([]float32, dim)
		} else {
			has[c] = true
			docs = append(docs, chromem.Document{ID: strconv.Itoa(c), Embedding: v})
		}
		vecs = append(vecs, v...)
	}
	first[len(chunks)] = uint32(len(chunks))
	start := time.Now()
	vi := indexRows(dim, vecs, has, first)
	hashes := make([]string, len(chunks))
	for c := range chunks {
		hashes[c] = l.vec.hash[src.first[c]]
	}
	l.attachGraph(vi, "bench-whole", graphFingerprint("whole:"+l.vec.emb.Model(), dim, hashes, has, graphSeed), hashes, nil, nil)
	if vi.g == nil {
		vi.g = buildHNSW(vi, graphSeed) // whatever the size: this compares graphs
	}
	b.Logf("hearth index of %d whole-chunk vectors built in %v (graph: %v)", len(docs), time.Since(start), vi.g != nil)
	db := chromem.NewDB()
	col, err := db.CreateCollection("bench", nil, func(context.Context, string) ([]float32, error) {
		panic("chromem bench: no embedding function")
	})
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if err := col.AddDocuments(context.Background(), docs, 2); err != nil {
		b.Fatal(err)
	}
	b.Logf("chromem-go collection of %d vectors built in %v", col.Count(), time.Since(start))
	qv := benchQueryVecs(l, chunks)
	exact := make([][]scored, len(qv))
	for i, q := range qv {
		exact[i] = vi.search(q, 10, nil, true)
	}
	chromemBench.n, chromemBench.col, chromemBench.vi, chromemBench.qv, chromemBench.exact = n, col, vi, qv, exact
	chromemBench.docs = docs
}

// BenchmarkCoderHNSW100k is the same comparison with github.com/coder/hnsw
// v0.6.1 (M = 16, Ml = 1/ln 16 like Hearth's graph, EfSearch = 192 like
// Hearth's hnswEfSearch, cosine distance, seeded), which Hearth's own
// graph replaces: it reports build time, p50/p99 and recall@10 against
// exact search.
func BenchmarkCoderHNSW100k(b *testing.B) {
	chromemSetup(b)
	cb := &chromemBench
	g := coderhnsw.NewGraph[uint32]()
	g.M, g.Ml, g.EfSearch, g.Distance = hnswM, coderMl, hnswEfSearch, coderhnsw.CosineDistance
	g.Rng = mathrand.New(mathrand.NewSource(1))
	start := time.Now()
	for _, d := range cb.docs {
		c, _ := strconv.Atoi(d.ID)
		g.Add(coderhnsw.MakeNode(uint32(c), d.Embedding))
	}
	b.Logf("coder/hnsw graph of %d vectors built in %v", g.Len(), time.Since(start))
	var rsum float64
	var lat []time.Duration
	b.ResetTimer()
	i := 0
	for b.Loop() {
		q := i % len(cb.qv)
		start := time.Now()
		res := g.Search(cb.qv[q], 10)
		lat = append(lat, time.Since(start))
		got := make([]scored, len(res))
		for j, r := range res {
			got[j] = scored{r.Key, float64(dot(cb.qv[q], r.Value))}
		}
		rsum += recallAt(got, cb.exact[q])
		i++
	}
	b.StopTimer()
	b.ReportMetric(rsum/float64(i), "recall@10")
	reportLatencies(b, lat, len(cb.qv))
}

// BenchmarkChromem100k and BenchmarkHearthVsChromem100k compare, on the
// same unit vectors (the whole-chunk LSA embeddings of benchChunks()
// chunks) and queries, chromem-go v0.7.0's query (exhaustive, concurrent)
// with Hearth's vector index (HNSW, and exact): latency p50/p99 and
// recall@10 against Hearth's exact search.
func BenchmarkChromem100k(b *testing.B) {
	chromemSetup(b)
	cb := &chromemBench
	ctx := context.Background()
	var rsum float64
	var lat []time.Duration
	b.ResetTimer()
	i := 0
	for b.Loop() {
		q := i % len(cb.qv)
		start := time.Now()
		res, err := cb.col.QueryEmbedding(ctx, cb.qv[q], 10, nil, nil)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		got := make([]scored, len(res))
		for j, r := range res {
			c, _ := strconv.Atoi(r.ID)
			got[j] = scored{uint32(c), float64(r.Similarity)}
		}
		rsum += recallAt(got, cb.exact[q])
		i++
	}
	b.StopTimer()
	b.ReportMetric(rsum/float64(i), "recall@10")
	reportLatencies(b, lat, len(cb.qv))
}

func BenchmarkHearthVsChromem100k(b *testing.B) {
	for _, exact := range []bool{false, true} {
		name := "hnsw"
		if exact {
			name = "exact"
		}
		b.Run(name, func(b *testing.B) {
			chromemSetup(b)
			cb := &chromemBench
			var rsum float64
			var lat []time.Duration
			b.ResetTimer()
			i := 0
			for b.Loop() {
				q := i % len(cb.qv)
				start := time.Now()
				got := cb.vi.search(cb.qv[q], 10, nil, exact)
				lat = append(lat, time.Since(start))
				rsum += recallAt(got, cb.exact[q])
				i++
			}
			b.StopTimer()
			b.ReportMetric(rsum/float64(i), "recall@10")
			reportLatencies(b, lat, len(cb.qv))
		})
	}
}

var coderMl = 1 / math.Log(hnswM)

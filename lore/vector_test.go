package lore

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"testing/fstest"
)

// randomIndex returns n clustered random unit vectors of dim dims, one row
// per chunk, with an HNSW graph whatever n.
func randomIndex(n, dim int, seed uint64) *vectorIndex {
	rng := rand.New(rand.NewPCG(seed, 1))
	centers := make([][]float32, 20)
	for i := range centers {
		centers[i] = make([]float32, dim)
		for k := range centers[i] {
			centers[i][k] = float32(rng.NormFloat64())
		}
	}
	vecs := make([]float32, n*dim)
	has := make([]bool, n)
	first := make([]uint32, n+1)
	for i := range n {
		c := centers[rng.IntN(len(centers))]
		v := vecs[i*dim : (i+1)*dim]
		for k := range v {
			v[k] = c[k] + 0.7*float32(rng.NormFloat64())
		}
		normalize(v)
		has[i] = true
		first[i] = uint32(i)
	}
	first[n] = uint32(n)
	vi := newVectorIndex(dim, vecs, has, first, seed)
	if vi.g == nil {
		vi.g = buildHNSW(vi, seed)
	}
	return vi
}

func TestHNSWRecallAndFilter(t *testing.T) {
	const n, dim = 4000, 32
	vi := randomIndex(n, dim, 3)
	rng := rand.New(rand.NewPCG(9, 9))
	var recall, frecall float64
	const queries = 100
	even := func(i uint32) bool { return i%2 == 0 }
	rare := func(i uint32) bool { return i%200 == 0 } // 20 rows pass: exact fallback
	for range queries {
		q := slices.Clone(vi.row(uint32(rng.IntN(n))))
		q[0] += 0.3
		normalize(q)
		recall += recallIDs(vi.search(q, 10, nil, false), vi.search(q, 10, nil, true))
		got := vi.search(q, 10, even, false)
		if len(got) != 10 {
			t.Fatalf("filtered search returned %d rows", len(got))
		}
		for _, s := range got {
			if !even(s.chunk) {
				t.Fatalf("filtered search returned row %d", s.chunk)
			}
		}
		frecall += recallIDs(got, vi.search(q, 10, even, true))
		if got, want := vi.search(q, 10, rare, false), vi.search(q, 10, rare, true); !slices.Equal(got, want) {
			t.Fatalf("selective filter: %v, want the exact %v", got, want)
		}
	}
	recall /= queries
	frecall /= queries
	t.Logf("recall@10 %.3f, filtered (half the rows) %.3f", recall, frecall)
	if recall < 0.95 || frecall < 0.95 {
		t.Errorf("recall@10 %.3f, filtered %.3f; want ≥ 0.95", recall, frecall)
	}
}

func TestHNSWDeterministic(t *testing.T) {
	a, b := randomIndex(1500, 16, 5), randomIndex(1500, 16, 5)
	if !slices.Equal(a.g.links0, b.g.links0) || a.g.entry != b.g.entry {
		t.Error("same seed, different graphs")
	}
}

func TestFuseRRF(t *testing.T) {
	a := []scored{{1, 9}, {2, 8}, {3, 7}}
	b := []scored{{3, 0.9}, {4, 0.8}, {1, 0.7}}
	got := fuseRRF(a, b)
	var ids []uint32
	for _, s := range got {
		ids = append(ids, s.chunk)
	}
	// 1: 1/61+1/63, 3: 1/63+1/61 (tie, lower id first), 2: 1/62, 4: 1/62.
	if want := []uint32{1, 3, 2, 4}; !slices.Equal(ids, want) {
		t.Errorf("fused %v, want %v", ids, want)
	}
	if d := got[0].score - (1.0/61 + 1.0/63); d > 1e-12 || d < -1e-12 {
		t.Errorf("score %v", got[0].score)
	}
}

func TestMMRDiversifies(t *testing.T) {
	// Rows 0 and 1 are the same vector; 2 is orthogonal.
	vecs := []float32{1, 0, 1, 0, 0, 1}
	vi := newVectorIndex(2, vecs, []bool{true, true, true}, []uint32{0, 1, 2, 3}, 1)
	cands := []scored{{0, 1}, {1, 0.99}, {2, 0.9}}
	got := mmr(vi, cands, 2, 0.5)
	if len(got) != 2 || got[0].chunk != 0 || got[1].chunk != 2 {
		t.Errorf("mmr picked %v, want rows 0 then 2", got)
	}
	if got := mmr(vi, cands, 2, 0.999); got[1].chunk != 1 {
		t.Errorf("λ≈1 should keep relevance order, got %v", got)
	}
}

var filterDocs = fstest.MapFS{
	"open.md":   {Data: []byte("# Market\n\nThe market sells smoked eels, salt and copper kettles every seventh day.\n")},
	"secret.md": {Data: []byte("---\nsecrecy: 2\n---\n# Smugglers\n\nThe smugglers sell salt and copper kettles from the mill cellar at night.\n")},
	"fens.md":   {Data: []byte("---\nregion: fens\n---\n# Eel traps\n\nEel traps of willow are set at dusk; eels and salt are sold at the market.\n")},
	"hills.md":  {Data: []byte("---\nregion: hills\n---\n# Mine\n\nThe copper mine sells ore to the forge for kettles.\n")},
}

func TestVectorSearchFilterInside(t *testing.T) {
	ctx := context.Background()
	l, err := OpenWith(ctx, openStore(t, ""), nil, Options{LSA: true, LSAConfig: LSAConfig{Dim: 4, LexDim: 8}})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, l, "w", filterDocs)
	for _, mode := range []SearchMode{SearchVector, SearchHybrid} {
		hits := l.SearchWith("salt and copper kettles", 10, Filter{Regions: []string{"fens"}}, SearchOptions{Mode: mode})
		var docs []string
		for _, h := range hits {
			docs = append(docs, h.Chunk.DocPath)
		}
		slices.Sort(docs)
		if want := []string{"fens.md", "open.md"}; !slices.Equal(docs, want) {
			t.Errorf("%v: docs %v, want %v (secret and other-region chunks never returned, the rest all returned)", mode, docs, want)
		}
		hits = l.SearchWith("salt and copper kettles", 10, Filter{MaxSecrecy: 2}, SearchOptions{Mode: mode})
		if len(hits) != 4 {
			t.Errorf("%v: %d hits with secrecy 2, want 4", mode, len(hits))
		}
	}
}

// TestLSAPersistedAndRetrained checks the fast start (the model and the
// embeddings come from the store: nothing is trained or embedded) and the
// retraining policy (LSARetrainShare).
func TestLSAPersistedAndRetrained(t *testing.T) {
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	opts := Options{LSA: true, LSAConfig: LSAConfig{Dim: 16, LexDim: 8}}
	l, err := OpenWith(ctx, st, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, l, "village", os.DirFS("../sim/world/lore"))
	model := l.Embedder().Model()
	if unique := len(slices.Compact(slices.Sorted(slices.Values(l.vec.hash)))); l.vec.embedded != unique {
		t.Errorf("first ingest embedded %d of %d distinct texts", l.vec.embedded, unique)
	}
	rec, err := st.EmbedModel(lsaSlot)
	if err != nil {
		t.Fatal(err)
	}

	l2, err := OpenWith(ctx, st, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if l2.Embedder().Model() != model || l2.vec.embedded != 0 {
		t.Errorf("restart: model %s (was %s), embedded %d; want the stored model and no embedding", l2.Embedder().Model(), model, l2.vec.embedded)
	}
	if rec2, _ := st.EmbedModel(lsaSlot); !rec2.TrainedAt.Equal(rec.TrainedAt) {
		t.Error("restart retrained the model")
	}
	q := "floating lights over the fens at night"
	a := l.SearchWith(q, 5, Filter{}, SearchOptions{Mode: SearchVector})
	b := l2.SearchWith(q, 5, Filter{}, SearchOptions{Mode: SearchVector})
	if !slices.Equal(hitIDs(a), hitIDs(b)) {
		t.Errorf("restart changed results: %v vs %v", hitIDs(a), hitIDs(b))
	}

	// A small change: embedded with the same model.
	small := fstest.MapFS{"extra.md": {Data: []byte("# Extra\n\nA note about the ferry and the eels.\n")}}
	ingest(t, l2, "extra", small)
	if l2.Embedder().Model() != model || l2.vec.embedded == 0 || l2.vec.embedded > 2 {
		t.Errorf("small change: model %s, embedded %d", l2.Embedder().Model(), l2.vec.embedded)
	}
	// A big change (a new source larger than the share): retrained, all
	// re-embedded, the old cache dropped.
	big := fstest.MapFS{}
	for i := range 40 {
		big[string(rune('a'+i%26))+string(rune('a'+i/26))+".md"] = &fstest.MapFile{Data: []byte("# Note\n\nThe bell rang " + string(rune('a'+i%26)) + " times over the pool.\n")}
	}
	ingest(t, l2, "big", big)
	unique := len(slices.Compact(slices.Sorted(slices.Values(l2.vec.hash))))
	if l2.Embedder().Model() == model || l2.vec.embedded != unique {
		t.Errorf("big change: model %s (was %s), embedded %d of %d distinct texts", l2.Embedder().Model(), model, l2.vec.embedded, unique)
	}
	n := 0
	st.Embeddings(model, func(string, []float32) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d embeddings of the replaced model left in the store", n)
	}

	// Another configuration: the stored model is not used; a new one is
	// trained and the old one's cache dropped.
	model = l2.Embedder().Model()
	l3, err := OpenWith(ctx, st, nil, Options{LSA: true, LSAConfig: LSAConfig{Dim: 12, LexDim: 8}})
	if err != nil {
		t.Fatal(err)
	}
	if l3.Embedder().Model() == model || l3.vec.index.dim != 20 {
		t.Errorf("new configuration: model %s (was %s), dim %d", l3.Embedder().Model(), model, l3.vec.index.dim)
	}
	n = 0
	st.Embeddings(model, func(string, []float32) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d embeddings of the replaced model left in the store", n)
	}
}

func TestHNSWMarshalRoundTrip(t *testing.T) {
	vi := randomIndex(2000, 16, 11)
	g, err := unmarshalHNSW(vi, vi.g.marshal())
	if err != nil {
		t.Fatal(err)
	}
	if g.entry != vi.g.entry || g.maxLevel != vi.g.maxLevel || !slices.Equal(g.links0, vi.g.links0) || !slices.Equal(g.n0, vi.g.n0) {
		t.Fatal("graph did not round-trip")
	}
	for i := range g.upper {
		if len(g.upper[i]) != len(vi.g.upper[i]) {
			t.Fatalf("node %d: %d upper layers, want %d", i, len(g.upper[i]), len(vi.g.upper[i]))
		}
		for l := range g.upper[i] {
			if !slices.Equal(g.upper[i][l], vi.g.upper[i][l]) {
				t.Fatalf("node %d layer %d differs", i, l+1)
			}
		}
	}
	data := vi.g.marshal()
	for _, bad := range [][]byte{nil, data[:len(data)-1], append(slices.Clone(data), 0)} {
		if _, err := unmarshalHNSW(vi, bad); err == nil {
			t.Errorf("malformed graph of %d bytes accepted", len(bad))
		}
	}
}

// TestGraphPersisted checks that a library whose index has a graph stores
// it, and that a restart loads it instead of building it.
func TestGraphPersisted(t *testing.T) {
	defer func(old int) { exactThreshold = old }(exactThreshold)
	exactThreshold = 50
	ctx := context.Background()
	st := openStore(t, t.TempDir())
	opts := Options{LSA: true, LSAConfig: LSAConfig{Dim: 16, LexDim: 8}}
	l, err := OpenWith(ctx, st, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, l, "village", os.DirFS("../sim/world/lore"))
	if l.vec.index.g == nil || !l.vec.index.g.built {
		t.Fatal("no graph built")
	}
	l2, err := OpenWith(ctx, st, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	g := l2.vec.index.g
	if g == nil || g.built || !slices.Equal(g.links0, l.vec.index.g.links0) {
		t.Fatalf("restart: graph %v, built %v; want the stored graph", g != nil, g != nil && g.built)
	}
	q := "what keeps the marsh lights away"
	if a, b := l.SearchWith(q, 5, Filter{}, SearchOptions{Mode: SearchVector}), l2.SearchWith(q, 5, Filter{}, SearchOptions{Mode: SearchVector}); !slices.Equal(hitIDs(a), hitIDs(b)) {
		t.Errorf("restart changed results: %v vs %v", hitIDs(a), hitIDs(b))
	}
}

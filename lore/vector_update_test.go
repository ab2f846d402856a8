package lore

import (
	"context"
	"io/fs"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"testing/fstest"
)

// checkGraph checks that g is a well-formed graph over vi: links in range,
// to rows with a vector and the link's level, no self-links, and every row
// with a vector reachable on layer 0 from the entry point.
func checkGraph(t *testing.T, g *hnsw) {
	t.Helper()
	vi := g.vi
	n := vi.len()
	for i := range n {
		for l := 0; l <= len(g.upper[i]); l++ {
			for _, x := range g.links(uint32(i), l) {
				if int(x) >= n || x == uint32(i) || !vi.has[x] || len(g.upper[x]) < l {
					t.Fatalf("row %d level %d: bad link %d", i, l, x)
				}
			}
		}
	}
	seen := make([]bool, n)
	stack := []uint32{g.entry}
	seen[g.entry] = true
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, x := range g.links(c, 0) {
			if !seen[x] {
				seen[x] = true
				stack = append(stack, x)
			}
		}
	}
	for i := range n {
		if vi.has[i] && !seen[i] {
			t.Errorf("row %d unreachable from the entry point", i)
		}
	}
	if len(g.upper[g.entry]) != g.maxLevel {
		t.Errorf("entry %d has %d upper levels, max level %d", g.entry, len(g.upper[g.entry]), g.maxLevel)
	}
}

// TestHNSWUpdate removes 4% of an indexed set of rows (the entry point
// among them), adds 4% new ones and shuffles the order, then checks that
// updateHNSW makes a well-formed graph whose recall@10 against exact
// search is within 0.02 of a graph built from scratch over the same rows,
// that it is deterministic, and that too large a change is refused.
func TestHNSWUpdate(t *testing.T) {
	const n, dim = 3000, 32
	all := randomIndex(n+120, dim, 7) // rows n.. are the additions
	prevRows := make([]int, 0, n)
	for i := range n {
		prevRows = append(prevRows, i)
	}
	sub := func(rows []int) (*vectorIndex, []string) {
		vecs := make([]float32, 0, len(rows)*dim)
		has := make([]bool, len(rows))
		first := make([]uint32, len(rows)+1)
		hashes := make([]string, len(rows))
		for j, r := range rows {
			vecs = append(vecs, all.row(uint32(r))...)
			has[j] = true
			first[j+1] = uint32(j + 1)
			hashes[j] = strconv.Itoa(r)
		}
		return indexRows(dim, vecs, has, first), hashes
	}
	prev, prevHashes := sub(prevRows)
	prev.g = buildHNSW(prev, 1)
	removed := map[int]bool{int(prev.g.entry): true}
	rng := rand.New(rand.NewPCG(4, 4))
	for len(removed) < 120 {
		removed[rng.IntN(n)] = true
	}
	var rows []int
	for i := range n + 120 {
		if !removed[i] {
			rows = append(rows, i)
		}
	}
	rng.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	vi, hashes := sub(rows)
	g := updateHNSW(vi, hashes, prev, prevHashes, 1)
	if g == nil || !g.updated {
		t.Fatal("no update")
	}
	vi.g = g
	checkGraph(t, g)
	if g2 := updateHNSW(vi, hashes, prev, prevHashes, 1); !slices.Equal(g2.links0, g.links0) || g2.entry != g.entry {
		t.Error("same update, different graphs")
	}
	fresh, _ := sub(rows)
	fresh.g = buildHNSW(fresh, 1)
	var ru, rf float64
	const queries = 200
	for range queries {
		q := slices.Clone(all.row(uint32(rng.IntN(n + 120))))
		q[1] += 0.3
		normalize(q)
		want := vi.search(q, 10, nil, true)
		ru += recallIDs(vi.search(q, 10, nil, false), want)
		rf += recallIDs(fresh.search(q, 10, nil, false), want)
	}
	ru, rf = ru/queries, rf/queries
	t.Logf("recall@10: updated graph %.3f, built graph %.3f", ru, rf)
	if ru < rf-0.02 {
		t.Errorf("updated graph recall@10 %.3f, built %.3f", ru, rf)
	}
	// 15% of the rows new: rebuild.
	big := slices.Clone(rows[:n-450])
	for i := range 450 {
		big = append(big, n+120+i)
	}
	all2 := randomIndex(n+120+450, dim, 7)
	all = all2
	vi2, hashes2 := sub(big)
	if updateHNSW(vi2, hashes2, prev, prevHashes, 1) != nil {
		t.Error("a 15% change updated the graph")
	}
}

// TestGraphUpdatedOnIngest checks that editing one document of a library
// with a graph updates the graph instead of building one, that the new
// text is found by vector search, and that a restart loads the updated
// graph from the store.
func TestGraphUpdatedOnIngest(t *testing.T) {
	defer func(old int) { exactThreshold = old }(exactThreshold)
	exactThreshold = 50
	ctx := context.Background()
	files := fstest.MapFS{}
	if err := fs.WalkDir(os.DirFS("../sim/world/lore"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(os.DirFS("../sim/world/lore"), p)
		files[p] = &fstest.MapFile{Data: b}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	st := openStore(t, t.TempDir())
	opts := Options{LSA: true, LSAConfig: LSAConfig{Dim: 16, LexDim: 8}}
	l, err := OpenWith(ctx, st, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, l, "village", files)
	if g := l.vec.index.g; g == nil || !g.built {
		t.Fatal("no graph built")
	}
	model := l.vec.emb.Model()
	delete(files, "fen-glims.md")
	files["smithy.md"] = &fstest.MapFile{Data: []byte("# The Smithy\n\nThe smith of Kettle Green forges horseshoes and mends the miller's kettle by the ford.\n")}
	ingest(t, l, "village", files)
	if l.vec.emb.Model() != model {
		t.Fatal("the LSA model was retrained; the edit is too large for this test")
	}
	g := l.vec.index.g
	if g == nil || g.built || !g.updated {
		t.Fatalf("graph after a small edit: %v built %v updated %v; want an update", g != nil, g != nil && g.built, g != nil && g.updated)
	}
	checkGraph(t, g)
	q := "The Smithy: the smith of Kettle Green forges horseshoes and mends the miller's kettle by the ford"
	hs := l.SearchWith(q, 3, Filter{}, SearchOptions{Mode: SearchVector})
	exact := l.SearchWith(q, 3, Filter{}, SearchOptions{Mode: SearchVector, Exact: true})
	if !slices.Contains(hitIDs(hs), "village:smithy.md#0") || !slices.Equal(hitIDs(hs), hitIDs(exact)) {
		t.Errorf("vector search for the new document: %v, exact %v", hitIDs(hs), hitIDs(exact))
	}
	for _, h := range l.SearchWith("marsh lights", 10, Filter{}, SearchOptions{Mode: SearchVector}) {
		if h.Chunk.DocPath == "fen-glims.md" {
			t.Errorf("removed document found: %s", h.Chunk.ID)
		}
	}
	l2, err := OpenWith(ctx, st, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	if g2 := l2.vec.index.g; g2 == nil || g2.built || g2.updated || !slices.Equal(g2.links0, g.links0) {
		t.Error("restart did not load the updated graph")
	}
}

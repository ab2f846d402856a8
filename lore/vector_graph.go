package lore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/hearth-ai/hearth/internal/store"
)

// The HNSW graph is persisted so that opening a large library does not
// rebuild it (minutes at 100k chunks): buildVectors stores the graph it
// builds with a fingerprint of what it indexes (embedder, dimension, graph
// parameters, seed, and every row's text hash), and loads the stored graph
// instead of building one when the fingerprint matches.

// graphSlot is the store name of the library's graph.
const graphSlot = "lore"

// graphSeed seeds the HNSW level draws of the library's index.
const graphSeed = 1

const graphMagic = "HNSW1\n"

func graphFingerprint(model string, dim int, hashes []string, has []bool, seed uint64) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s|%d|%d|%d|%d|%d|", model, dim, hnswM, hnswEfConstruction, seed, len(hashes))
	for i, x := range hashes {
		h.Write([]byte(x))
		if has[i] {
			h.Write([]byte{1})
		} else {
			h.Write([]byte{0})
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// marshal encodes the graph: magic, row count, entry, max level, then per
// row its layer-0 link count and links, then per row its upper-layer count
// and, per upper layer, the link count and links (all little-endian uint32).
func (g *hnsw) marshal() []byte {
	n := g.vi.len()
	b := make([]byte, 0, len(graphMagic)+12+n*(8+4*2*hnswM))
	b = append(b, graphMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = binary.LittleEndian.AppendUint32(b, g.entry)
	b = binary.LittleEndian.AppendUint32(b, uint32(int32(g.maxLevel)))
	for i := range n {
		ls := g.links(uint32(i), 0)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(ls)))
		for _, x := range ls {
			b = binary.LittleEndian.AppendUint32(b, x)
		}
	}
	for i := range n {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(g.upper[i])))
		for _, ls := range g.upper[i] {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(ls)))
			for _, x := range ls {
				b = binary.LittleEndian.AppendUint32(b, x)
			}
		}
	}
	return b
}

var errBadGraph = errors.New("lore: stored HNSW graph is malformed")

// unmarshalHNSW decodes a graph written by marshal for vi.
func unmarshalHNSW(vi *vectorIndex, b []byte) (*hnsw, error) {
	if len(b) < len(graphMagic) || string(b[:len(graphMagic)]) != graphMagic {
		return nil, errBadGraph
	}
	b = b[len(graphMagic):]
	next := func() (uint32, bool) {
		if len(b) < 4 {
			return 0, false
		}
		x := binary.LittleEndian.Uint32(b)
		b = b[4:]
		return x, true
	}
	n := vi.len()
	rows, ok1 := next()
	entry, ok2 := next()
	ml, ok3 := next()
	if !ok1 || !ok2 || !ok3 || int(rows) != n || int(entry) >= n {
		return nil, errBadGraph
	}
	m0 := 2 * hnswM
	g := &hnsw{vi: vi, entry: entry, maxLevel: int(int32(ml)), links0: make([]uint32, n*m0), n0: make([]uint8, n), upper: make([][][]uint32, n)}
	g.visited.New = func() any { return &visitSet{mark: make([]uint8, n)} }
	readLinks := func(max int) ([]uint32, error) {
		c, ok := next()
		if !ok || int(c) > max {
			return nil, errBadGraph
		}
		ls := make([]uint32, c)
		for j := range ls {
			x, ok := next()
			if !ok || int(x) >= n {
				return nil, errBadGraph
			}
			ls[j] = x
		}
		return ls, nil
	}
	for i := range n {
		ls, err := readLinks(m0)
		if err != nil {
			return nil, err
		}
		copy(g.links0[i*m0:], ls)
		g.n0[i] = uint8(len(ls))
	}
	for i := range n {
		levels, ok := next()
		if !ok || int(levels) > g.maxLevel {
			return nil, errBadGraph
		}
		if levels > 0 {
			g.upper[i] = make([][]uint32, levels)
		}
		for l := range g.upper[i] {
			ls, err := readLinks(hnswM)
			if err != nil {
				return nil, err
			}
			g.upper[i][l] = ls
		}
	}
	if len(b) != 0 || g.maxLevel < 0 || len(g.upper[entry]) != g.maxLevel {
		return nil, errBadGraph
	}
	g.q8 = graphRows8(vi)
	return g, nil
}

// attachGraph gives vi its HNSW graph when it needs one: the graph stored
// in slot if its fingerprint is fp, else prev's graph updated to vi's rows
// (updateHNSW; prev is the index vi replaces, nil if none or of another
// embedder, and hashes and prevHashes are their rows' text hashes) when
// few rows changed, else a new one; a graph not loaded is then stored.
func (l *Library) attachGraph(vi *vectorIndex, slot, fp string, hashes []string, prev *vectorIndex, prevHashes []string) {
	if !vi.needsGraph() {
		return
	}
	if sfp, data, err := l.st.EmbedGraph(slot); err == nil && sfp == fp {
		if g, err := unmarshalHNSW(vi, data); err == nil {
			vi.g = g
			return
		}
		l.log.Warn("lore: stored HNSW graph unusable; rebuilding")
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		l.log.Warn("lore: stored HNSW graph unreadable; rebuilding", "err", err)
	}
	start := time.Now()
	if g := updateHNSW(vi, hashes, prev, prevHashes, graphSeed); g != nil {
		vi.g = g
		l.log.Debug("lore: HNSW graph updated", "rows", vi.len(), "duration", time.Since(start))
	} else {
		vi.g = buildHNSW(vi, graphSeed)
		l.log.Debug("lore: HNSW graph built", "rows", vi.len(), "duration", time.Since(start))
	}
	if err := l.st.PutEmbedGraph(slot, fp, vi.g.marshal()); err != nil {
		l.log.Warn("lore: HNSW graph not persisted; the next start rebuilds it", "err", err)
	}
}

// hnswUpdateShare is the largest share of an index's rows that an ingest
// may add and remove for the library to update the previous HNSW graph
// rather than build a new one: an update inserts only the new rows (as the
// graph's own construction does) and repairs the links of the rows that
// linked to removed ones, so editing a few documents of a 100k-chunk
// library costs a fraction of a second (0.28 s for 10 chunks, most of it
// re-quantizing the rows for the int8 walk) instead of the minutes of a
// build. Past this
// share, a build: links repaired around many removals degrade the graph.
const hnswUpdateShare = 0.1

// updateHNSW returns a graph over vi made from prev's: rows of vi whose
// text hash (hashes, per row) matches a row of prev (prevHashes) keep that
// row's links, mapped to vi's rows, each previous row matched at most once,
// in row order; links to removed rows are dropped, and the rows that lost
// links re-select theirs (Malkov and Yashunin's heuristic) among their
// remaining links and the removed rows' surviving links; the new rows are
// then inserted in row order, with level draws seeded by seed and the row
// count. It returns nil when prev has no graph or a different dimension,
// or more than hnswUpdateShare of the rows changed. Equal hashes hold
// equal vectors (one embedder model), so the kept links stay valid.
func updateHNSW(vi *vectorIndex, hashes []string, prev *vectorIndex, prevHashes []string, seed uint64) *hnsw {
	if prev == nil || prev.g == nil || prev.dim != vi.dim || len(prevHashes) != prev.len() || len(hashes) != vi.len() {
		return nil
	}
	pg := prev.g
	n, pn := vi.len(), prev.len()
	byHash := map[string][]uint32{}
	for o := range pn {
		if prev.has[o] {
			byHash[prevHashes[o]] = append(byHash[prevHashes[o]], uint32(o))
		}
	}
	oldOf := make([]int32, n)  // vi row → prev row, or -1
	newOf := make([]int32, pn) // prev row → vi row, or -1
	for i := range newOf {
		newOf[i] = -1
	}
	var added []uint32
	for r := range n {
		oldOf[r] = -1
		if !vi.has[r] {
			continue
		}
		if os := byHash[hashes[r]]; len(os) > 0 {
			oldOf[r], newOf[os[0]] = int32(os[0]), int32(r)
			byHash[hashes[r]] = os[1:]
		} else {
			added = append(added, uint32(r))
		}
	}
	removed := 0
	for o := range pn {
		if prev.has[o] && newOf[o] < 0 {
			removed++
		}
	}
	if float64(len(added)+removed) > hnswUpdateShare*float64(n) {
		return nil
	}
	m0 := 2 * hnswM
	g := &hnsw{vi: vi, links0: make([]uint32, n*m0), n0: make([]uint8, n), upper: make([][][]uint32, n), maxLevel: -1, updated: true}
	g.visited.New = func() any { return &visitSet{mark: make([]uint8, n)} }
	type damage struct {
		row   uint32
		level int
	}
	var damaged []damage
	mapLinks := func(ls []uint32) ([]uint32, bool) {
		out := make([]uint32, 0, len(ls))
		for _, o := range ls {
			if r := newOf[o]; r >= 0 {
				out = append(out, uint32(r))
			}
		}
		return out, len(out) < len(ls)
	}
	for r := range n {
		o := oldOf[r]
		if o < 0 {
			continue
		}
		ls, lost := mapLinks(pg.links(uint32(o), 0))
		g.setLinks(uint32(r), 0, ls)
		if lost {
			damaged = append(damaged, damage{uint32(r), 0})
		}
		if levels := len(pg.upper[o]); levels > 0 {
			g.upper[r] = make([][]uint32, levels)
			for l := 1; l <= levels; l++ {
				ls, lost := mapLinks(pg.links(uint32(o), l))
				g.upper[r][l-1] = append(make([]uint32, 0, hnswM), ls...)
				if lost {
					damaged = append(damaged, damage{uint32(r), l})
				}
			}
		}
	}
	// The entry point: prev's, else the kept row of the highest level.
	if e := newOf[pg.entry]; e >= 0 {
		g.entry, g.maxLevel = uint32(e), pg.maxLevel
	} else {
		for r := range n {
			if oldOf[r] >= 0 && len(g.upper[r]) > g.maxLevel {
				g.entry, g.maxLevel = uint32(r), len(g.upper[r])
			}
		}
	}
	// Repair: a row that lost links re-selects among its remaining links
	// and the surviving links of the removed rows it linked to.
	for _, d := range damaged {
		o := oldOf[d.row]
		seen := map[uint32]bool{d.row: true}
		var pool []scored
		add := func(r uint32) {
			if !seen[r] {
				seen[r] = true
				pool = append(pool, scored{r, float64(dot(vi.row(d.row), vi.row(r)))})
			}
		}
		for _, r := range g.links(d.row, d.level) {
			add(r)
		}
		for _, x := range pg.links(uint32(o), d.level) {
			if newOf[x] >= 0 || len(pg.upper[x]) < d.level {
				continue
			}
			for _, y := range pg.links(x, d.level) {
				// A removed row's link may lead to a row without this
				// level in the new graph only if it was removed too.
				if r := newOf[y]; r >= 0 && len(g.upper[r]) >= d.level {
					add(uint32(r))
				}
			}
		}
		sortScored(pool)
		maxLinks := hnswM
		if d.level == 0 {
			maxLinks = m0
		}
		sel := g.selectNeighbors(pool, maxLinks)
		ids := make([]uint32, len(sel))
		for j, s := range sel {
			ids[j] = s.chunk
		}
		g.setLinks(d.row, d.level, ids)
	}
	levels := levelDraws(seed ^ uint64(n)<<32 ^ uint64(pn))
	vs := g.visited.Get().(*visitSet)
	defer g.visited.Put(vs)
	for _, r := range added {
		g.insert(r, levels(), vs)
	}
	g.q8 = graphRows8(vi)
	return g
}

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
	g.visited.New = func() any { return &visitSet{mark: make([]uint32, n)} }
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
	return g, nil
}

// attachGraph gives vi its HNSW graph when it needs one: the graph stored
// in slot if its fingerprint is fp, else a new one, which is then stored.
func (l *Library) attachGraph(vi *vectorIndex, slot, fp string) {
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
	vi.g = buildHNSW(vi, graphSeed)
	l.log.Debug("lore: HNSW graph built", "rows", vi.len(), "duration", time.Since(start))
	if err := l.st.PutEmbedGraph(slot, fp, vi.g.marshal()); err != nil {
		l.log.Warn("lore: HNSW graph not persisted; the next start rebuilds it", "err", err)
	}
}

// Package testworld opens the demo world (sim/world) for tests of the
// packages above the store: a real Badger store, the world's lore ingested
// into a lore.Library, and its NPC definitions. One helper instead of a
// copy per test file.
package testworld

import (
	"context"
	"testing"

	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/npc"
	"github.com/hearth-ai/hearth/sim/world"
)

// World is the demo world opened for a test.
type World struct {
	Store *store.Store
	Lore  *lore.Library // BM25 only (lore.Open): no embedder to train
	NPCs  []npc.Definition
}

// Open opens a store in dir ("" for in memory), closed when the test
// ends, ingests the demo world's lore and loads its NPC definitions. It
// fails the test on any error.
func Open(t testing.TB, dir string) *World {
	t.Helper()
	st, err := store.Open(store.DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lib, err := lore.Open(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lib.IngestFS(context.Background(), world.Source, world.FS(), "lore"); err != nil {
		t.Fatal(err)
	}
	defs, err := npc.LoadDefinitions(world.FS(), "npcs")
	if err != nil {
		t.Fatal(err)
	}
	return &World{Store: st, Lore: lib, NPCs: defs}
}

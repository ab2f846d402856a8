package lore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing/fstest"

	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
)

func Example() {
	st, err := store.Open(store.DefaultOptions("")) // in memory; pass a folder to persist
	if err != nil {
		panic(err)
	}
	defer st.Close()
	lib, err := lore.Open(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		panic(err)
	}
	files := fstest.MapFS{
		"npcs/brenna.md": {Data: []byte(`---
id: brenna-smith
type: npc
name: Brenna Ashdown
aliases: [Brenna]
region: millbrook
---
# Brenna Ashdown

Brenna is the **village smith**. She forges horseshoes for the whole valley.

## Secrets

She owes the Iron Oath three hundred crowns.
`)},
	}
	rep, err := lib.IngestFS(context.Background(), "village", files, ".")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d document, %d chunks, %d entity\n", rep.Documents, rep.Chunks, rep.Entities)

	for _, h := range lib.Search("Who forges horseshoes?", 3, lore.Filter{Regions: []string{"millbrook"}}) {
		fmt.Println(h.Chunk.ID, h.Chunk.Heading, h.Chunk.Text)
	}
	for _, e := range lib.Entities().Lookup("brenna's") {
		fmt.Println(e.ID, e.Type, e.Name)
	}
	// Output:
	// 1 document, 2 chunks, 1 entity
	// village:npcs/brenna.md#0 [Brenna Ashdown] Brenna is the village smith. She forges horseshoes for the whole valley.
	// brenna-smith npc Brenna Ashdown
}

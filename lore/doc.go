// Package lore is Hearth's knowledge of a game world: it ingests lore
// documents, keeps the registry of the entities they declare, and answers
// keyword searches under per-NPC knowledge filters.
//
// A Library is opened on a store, fed one folder per source, and searched:
//
//	st, _ := store.Open(store.DefaultOptions("data"))
//	lib, _ := lore.Open(st, logger)
//	rep, err := lib.IngestDir(ctx, "village", "content/lore") // incremental: unchanged files are skipped
//	hits := lib.Search("who forges horseshoes?", 5, lore.Filter{Regions: []string{"millbrook"}})
//	smith := lib.Entities().Lookup("Brenna's") // registry, case- and possessive-tolerant
//
// Documents are Markdown (*.md, *.markdown) or plain text (*.txt), with an
// optional YAML front matter block that names the document's entity,
// further entities, and the region, tags and secrecy of its content:
//
//	---
//	id: brenna-smith
//	type: npc
//	name: Brenna Ashdown
//	aliases: [Brenna]
//	region: millbrook
//	tags: [smiths-guild]
//	secrecy: 1
//	entities:
//	  - {id: millbrook-forge, type: place, name: The Forge}
//	---
//
// Markdown is chunked along its headings (# to ####); each chunk keeps its
// heading path, and sections over about 350 words are split at paragraph
// boundaries, keeping tables and lists whole where they fit. Chunks are
// ranked with BM25F (heading words weigh more); the knowledge Filter is
// applied while scoring, so forbidden chunks never take a result slot.
//
// Everything is persisted through internal/store (keys lore/doc/,
// lore/chunk/, lore/entity/); Open rebuilds the in-memory index from it.
package lore

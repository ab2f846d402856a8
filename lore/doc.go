// Package lore is Hearth's knowledge of a game world: it ingests lore
// documents, keeps the registry of the entities they declare, and answers
// keyword, vector and hybrid searches under per-NPC knowledge filters.
//
// A Library is opened on a store, fed one folder per source, and searched:
//
//	st, _ := store.Open(store.DefaultOptions("data"))
//	lib, _ := lore.OpenWith(ctx, st, logger, lore.Options{LSA: true})
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
// JSON and YAML entity files (*.entities.yaml, *.entities.yml,
// *.entities.json) declare entities, with relations (located_in,
// member_of, owns), and may carry description text. SRD-style headings
// (a creature's stat block, a spell's or a magic item's italic line)
// become creature, spell and item entities.
//
// Markdown is chunked along its headings (# to ####); each chunk keeps its
// heading path, sections over 512 tokens are split at paragraphs with up
// to 64 tokens of overlap, and tables and stat blocks stay whole where
// they fit. Search is hybrid when the library has an embedder (OpenWith:
// the built-in LSA, trained on the library's own chunks, or an
// OpenAI-compatible one): BM25F (heading words weigh more) and a vector
// index (exact below 20,000 vectors, an HNSW graph above) fused by
// reciprocal rank fusion (k = 60), optionally diversified by MMR. The
// knowledge Filter is applied inside both searches, so forbidden chunks
// never take a result slot. Bad files (binary, invalid UTF-8, NUL bytes,
// over-long lines, duplicate entity ids) are reported with their path and
// line and skipped or ingested with a warning, as FileError documents.
//
// Everything is persisted through internal/store (documents, chunks,
// entities, the embedder's model, embeddings and the vector graph); Open
// and OpenWith rebuild the in-memory indexes from it without re-embedding.
package lore

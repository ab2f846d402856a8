package lore

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/hearth-ai/hearth/internal/store"
)

// Chunks returns every chunk of the library, as stored, ordered by source,
// document path and position in the document: what corpus generators and
// evaluations walk (they need chunks no search would return, such as the
// ones outside an NPC's knowledge). It reads the store; it fails with the
// store's error.
func (l *Library) Chunks() ([]Chunk, error) {
	type seqChunk struct {
		c   Chunk
		seq int
	}
	var all []seqChunk
	err := l.st.AllChunks(func(r store.ChunkRecord) error {
		all = append(all, seqChunk{Chunk{ID: r.ID, Source: r.Source, DocPath: r.DocPath, Heading: r.Heading,
			Text: r.Text, Region: r.Region, Tags: r.Tags, Secrecy: r.Secrecy, Entities: r.Entities}, r.Seq})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lore: read chunks: %w", err)
	}
	slices.SortFunc(all, func(a, b seqChunk) int {
		return cmp.Or(cmp.Compare(a.c.Source, b.c.Source), cmp.Compare(a.c.DocPath, b.c.DocPath), cmp.Compare(a.seq, b.seq))
	})
	out := make([]Chunk, len(all))
	for i, s := range all {
		out[i] = s.c
	}
	return out, nil
}

package npc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/hearth-ai/hearth/internal/store"
)

// SnapshotVersion is the version of the snapshot format that ExportMemory
// writes. Version 2 added the NPC's relationships and mood; ImportMemory
// reads versions 1 (memories only: the NPC's relationships are then
// cleared) and 2.
const SnapshotVersion = 2

// snapshotMagic opens every snapshot, so that another msgpack document is
// told from a snapshot.
const snapshotMagic = "hearth-npc-memory"

// maxSnapshotBytes bounds a decompressed snapshot (256 MiB), so a corrupt
// or hostile input cannot exhaust memory.
const maxSnapshotBytes = 256 << 20

// ErrCorruptSnapshot is matched (errors.Is) by ImportMemory's error when the
// input is not a readable snapshot: not zstd, not msgpack, the wrong magic,
// or invalid records.
var ErrCorruptSnapshot = errors.New("npc: corrupt memory snapshot")

// ErrSnapshotVersion is matched by ImportMemory's error for a snapshot of a
// version this build cannot read.
var ErrSnapshotVersion = errors.New("npc: unsupported memory snapshot version")

// snapshot is an NPC's exported memory state: a msgpack document,
// zstd-compressed.
type snapshot struct {
	Magic      string                 `msgpack:"magic"`
	Version    int                    `msgpack:"version"`
	NPCID      string                 `msgpack:"npc"`
	ExportedAt int64                  `msgpack:"exported_at"` // wall clock, Unix ns
	Meta       store.StreamMetaRecord `msgpack:"meta"`
	Memories   []store.MemoryRecord   `msgpack:"memories"` // in store key order
	// Relationships (by other id) and Mood: version 2.
	Relationships map[string]store.RelationshipRecord `msgpack:"relationships,omitempty"`
	Mood          *store.MoodRecord                   `msgpack:"mood,omitempty"`
}

// ExportMemory writes the NPC's memory stream (every player's memories,
// its world knowledge, reflections, summaries and the reflection
// bookkeeping) to w as a zstd-compressed msgpack snapshot.
func (a *Agent) ExportMemory(w io.Writer) error {
	st := a.deps.Store
	recs, err := st.StreamMemories(a.def.ID)
	if err != nil {
		return fmt.Errorf("npc %q: export memory: %w", a.def.ID, err)
	}
	meta, err := st.StreamMeta(a.def.ID)
	if err != nil {
		return fmt.Errorf("npc %q: export memory: %w", a.def.ID, err)
	}
	rels, err := st.Relationships(a.def.ID)
	if err != nil {
		return fmt.Errorf("npc %q: export memory: %w", a.def.ID, err)
	}
	s := snapshot{Magic: snapshotMagic, Version: SnapshotVersion, NPCID: a.def.ID,
		ExportedAt: time.Now().UnixNano(), Meta: meta, Memories: make([]store.MemoryRecord, len(recs)), Relationships: rels}
	switch mood, err := st.Mood(a.def.ID); {
	case err == nil:
		s.Mood = &mood
	case !errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("npc %q: export memory: %w", a.def.ID, err)
	}
	for i, r := range recs {
		s.Memories[i] = r.Rec
	}
	b, err := msgpack.Marshal(&s)
	if err != nil {
		return fmt.Errorf("npc %q: export memory: %w", a.def.ID, err)
	}
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return err
	}
	if _, err := zw.Write(b); err != nil {
		zw.Close()
		return fmt.Errorf("npc %q: export memory: %w", a.def.ID, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("npc %q: export memory: %w", a.def.ID, err)
	}
	return nil
}

// ImportMemory replaces the NPC's memory stream with the snapshot read
// from r (written by ExportMemory for the same NPC id). It checks the
// whole snapshot before it changes anything; the error matches
// ErrCorruptSnapshot or ErrSnapshotVersion, or names the NPC ids when the
// snapshot is another NPC's. The replacement is written in batches: if it
// fails part-way, importing again completes it.
func (a *Agent) ImportMemory(r io.Reader) error {
	s, err := readSnapshot(r)
	if err != nil {
		return fmt.Errorf("npc %q: import memory: %w", a.def.ID, err)
	}
	if s.NPCID != a.def.ID {
		return fmt.Errorf("npc %q: import memory: the snapshot is of npc %q; memories are never shared between NPCs", a.def.ID, s.NPCID)
	}
	c := a.memory
	c.maintMu.Lock()
	defer c.maintMu.Unlock()
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	if _, err := c.st.ResetStream(a.def.ID, s.Memories, s.Meta); err != nil {
		return fmt.Errorf("npc %q: import memory: %w", a.def.ID, err)
	}
	c.mu.Lock()
	c.loaded, c.buckets, c.count, c.since = false, map[string][]memory{}, 0, 0
	c.mu.Unlock()
	f := a.feel
	f.writeMu.Lock()
	defer f.writeMu.Unlock()
	if err := f.st.ResetRelationships(a.def.ID, s.Relationships, s.Mood); err != nil {
		return fmt.Errorf("npc %q: import memory: relationships: %w", a.def.ID, err)
	}
	f.mu.Lock()
	f.pairs, f.moodLoaded = map[string]store.RelationshipRecord{}, false
	f.mu.Unlock()
	return nil
}

func readSnapshot(r io.Reader) (*snapshot, error) {
	zr, err := zstd.NewReader(r, zstd.WithDecoderMaxMemory(maxSnapshotBytes), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptSnapshot, err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(zr, maxSnapshotBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: not zstd, or truncated: %v", ErrCorruptSnapshot, err)
	}
	if n > maxSnapshotBytes {
		return nil, fmt.Errorf("%w: over %d bytes decompressed", ErrCorruptSnapshot, maxSnapshotBytes)
	}
	var s snapshot
	if err := msgpack.Unmarshal(buf.Bytes(), &s); err != nil {
		return nil, fmt.Errorf("%w: msgpack: %v", ErrCorruptSnapshot, err)
	}
	if s.Magic != snapshotMagic {
		return nil, fmt.Errorf("%w: not a Hearth NPC memory snapshot (magic %q)", ErrCorruptSnapshot, s.Magic)
	}
	if s.Version < 1 || s.Version > SnapshotVersion {
		return nil, fmt.Errorf("%w: version %d; this build reads version %d", ErrSnapshotVersion, s.Version, SnapshotVersion)
	}
	for i, m := range s.Memories {
		switch {
		case m.NPCID != s.NPCID:
			return nil, fmt.Errorf("%w: memory %d belongs to npc %q, not %q", ErrCorruptSnapshot, i, m.NPCID, s.NPCID)
		case m.Text == "":
			return nil, fmt.Errorf("%w: memory %d has no text", ErrCorruptSnapshot, i)
		case m.Importance < 1 || m.Importance > 10:
			return nil, fmt.Errorf("%w: memory %d has importance %v, want 1..10", ErrCorruptSnapshot, i, m.Importance)
		}
	}
	return &s, nil
}

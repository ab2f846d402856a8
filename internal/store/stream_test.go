package store

import (
	"strings"
	"testing"
)

// TestStreamKeysAreIsolatedPerNPC: world knowledge ("" player) and player
// memories of one NPC come back together; an NPC whose id is a prefix of
// another's sees none of the other's; compaction cannot delete another
// NPC's keys.
func TestStreamKeysAreIsolatedPerNPC(t *testing.T) {
	s, err := Open(DefaultOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AppendStream("smith", "", MemoryRecord{Kind: "observation", Text: "wolves", Importance: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendStream("smith", "p/1", MemoryRecord{Kind: "dialogue", Text: "hello", Importance: 3}); err != nil {
		t.Fatal(err)
	}
	other, err := s.AppendStream("smith-2", "p/1", MemoryRecord{Kind: "dialogue", Text: "other", Importance: 3})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.StreamMemories("smith")
	if err != nil || len(got) != 2 {
		t.Fatalf("StreamMemories = %+v, %v", got, err)
	}
	for _, m := range got {
		if m.Rec.NPCID != "smith" || strings.Contains(m.Rec.Text, "other") {
			t.Fatalf("smith has %+v", m)
		}
	}
	if mems, _ := s.RecentMemories("smith", "p/1", 0); len(mems) != 1 {
		t.Fatalf("RecentMemories = %+v", mems)
	}
	if _, err := s.ReplaceStream("smith", other, nil); err == nil {
		t.Fatal("ReplaceStream deleted another NPC's memory")
	}
	if n, b, err := s.StreamFootprint("smith"); err != nil || n != 2 || b <= 0 {
		t.Fatalf("footprint = %d, %d, %v", n, b, err)
	}
	keys, err := s.ResetStream("smith", []MemoryRecord{{PlayerID: "p2", Text: "imported", Importance: 4}}, StreamMetaRecord{Watermark: 7})
	if err != nil || len(keys) != 1 {
		t.Fatalf("ResetStream = %v, %v", keys, err)
	}
	got, _ = s.StreamMemories("smith")
	if len(got) != 1 || got[0].Rec.Text != "imported" {
		t.Fatalf("after reset: %+v", got)
	}
	if m, err := s.StreamMeta("smith"); err != nil || m.Watermark != 7 {
		t.Fatalf("meta = %+v, %v", m, err)
	}
	if n, _, _ := s.StreamFootprint("smith-2"); n != 1 {
		t.Fatalf("smith-2 has %d memories after smith's reset", n)
	}
}

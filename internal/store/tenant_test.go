package store

import "testing"

// TestTenantViewsAreIsolated writes the same NPC and player ids in two
// tenants and the default one, on one database, and checks that each view
// reads only its own memories, stream bookkeeping and quest logs, and that
// they survive a reopen under the same tenant.
func TestTenantViewsAreIsolated(t *testing.T) {
	dir := t.TempDir()
	root, err := Open(DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	views := map[string]*Store{"": root, "acme": root.Tenant("acme"), "globex": root.Tenant("globex"), "a/b": root.Tenant("a/b")}
	for name, s := range views {
		if s.TenantName() != name {
			t.Fatalf("TenantName() = %q, want %q", s.TenantName(), name)
		}
		if err := s.AppendMemories("smith", "p1", MemoryRecord{Text: "said by " + name, Kind: "dialogue"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendStream("smith", "", MemoryRecord{Text: "world of " + name, Kind: "observation"}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutStreamMeta("smith", StreamMetaRecord{Watermark: int64(len(name))}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutQuestLog("p1", QuestLogRecord{QuestID: "q-" + name, State: "active"}); err != nil {
			t.Fatal(err)
		}
	}
	// A view's Close must not close the shared database.
	if err := views["acme"].Close(); err != nil {
		t.Fatal(err)
	}
	check := func(root *Store) {
		t.Helper()
		for name := range views {
			s := root.Tenant(name)
			recs, err := s.RecentMemories("smith", "p1", 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 1 || recs[0].Text != "said by "+name {
				t.Errorf("tenant %q: recent memories %+v, want only its own line", name, recs)
			}
			stream, err := s.StreamMemories("smith")
			if err != nil {
				t.Fatal(err)
			}
			if len(stream) != 2 {
				t.Errorf("tenant %q: stream has %d memories, want its own 2", name, len(stream))
			}
			for _, m := range stream {
				if m.Rec.Text != "said by "+name && m.Rec.Text != "world of "+name {
					t.Errorf("tenant %q: stream holds %q", name, m.Rec.Text)
				}
			}
			meta, err := s.StreamMeta("smith")
			if err != nil {
				t.Fatal(err)
			}
			if meta.Watermark != int64(len(name)) {
				t.Errorf("tenant %q: stream meta %+v", name, meta)
			}
			log, err := s.QuestLog("p1")
			if err != nil {
				t.Fatal(err)
			}
			if len(log) != 1 || log[0].QuestID != "q-"+name {
				t.Errorf("tenant %q: quest log %+v, want only q-%s", name, log, name)
			}
			players, err := s.QuestPlayers()
			if err != nil {
				t.Fatal(err)
			}
			if len(players) != 1 || players[0] != "p1" {
				t.Errorf("tenant %q: quest players %v, want [p1]", name, players)
			}
		}
		// A tenant nobody wrote sees nothing.
		empty := root.Tenant("initech")
		if recs, err := empty.StreamMemories("smith"); err != nil || len(recs) != 0 {
			t.Errorf("fresh tenant: %d memories, err %v", len(recs), err)
		}
	}
	check(root)
	if err := root.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := root.Tenant("acme").StreamMemories("smith"); err == nil {
		t.Error("a view of a closed store still reads")
	}
	root, err = Open(DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	check(root)
}

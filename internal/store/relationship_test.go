package store

import (
	"errors"
	"testing"
)

// TestRelationshipsPersistPerTenant writes the same pair in two tenants
// and the default one, reopens the database, and checks that each view
// reads its own relationship and mood, that a stranger is ErrNotFound,
// and that Relationships lists an NPC's pairs (players and NPCs alike).
func TestRelationshipsPersistPerTenant(t *testing.T) {
	dir := t.TempDir()
	root, err := Open(DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	tenants := map[string]float64{"": 0.5, "acme": -0.25, "a/b": 0.75}
	for name, a := range tenants {
		s := root.Tenant(name)
		if err := s.PutRelationship("smith", "p1", RelationshipRecord{Affinity: a, Trust: -a, Count: 1, GameTime: 7, Last: "gift"},
			&MoodRecord{Valence: a / 2, GameTime: 7}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutRelationship("smith", "miller/x", RelationshipRecord{Affinity: 0.1}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := root.Close(); err != nil {
		t.Fatal(err)
	}
	root, err = Open(DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for name, a := range tenants {
		s := root.Tenant(name)
		r, err := s.Relationship("smith", "p1")
		if err != nil {
			t.Fatal(err)
		}
		if r.Affinity != a || r.Trust != -a || r.Count != 1 || r.GameTime != 7 || r.Last != "gift" {
			t.Errorf("tenant %q: relationship %+v, want affinity %v", name, r, a)
		}
		m, err := s.Mood("smith")
		if err != nil || m.Valence != a/2 {
			t.Errorf("tenant %q: mood %+v, %v; want valence %v", name, m, err, a/2)
		}
		all, err := s.Relationships("smith")
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 2 || all["miller/x"].Affinity != 0.1 || all["p1"].Affinity != a {
			t.Errorf("tenant %q: relationships %+v", name, all)
		}
		if _, err := s.Relationship("smith", "p2"); !errors.Is(err, ErrNotFound) {
			t.Errorf("tenant %q: stranger: err = %v, want ErrNotFound", name, err)
		}
		if _, err := s.Mood("miller"); !errors.Is(err, ErrNotFound) {
			t.Errorf("tenant %q: mood never written: err = %v, want ErrNotFound", name, err)
		}
	}
	if _, err := root.Tenant("other").Relationship("smith", "p1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unused tenant sees a relationship: err = %v", err)
	}
	if err := root.PutRelationship("", "p1", RelationshipRecord{}, nil); err == nil {
		t.Error("PutRelationship without an npc id succeeded")
	}
}

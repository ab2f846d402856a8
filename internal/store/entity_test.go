package store

import (
	"maps"
	"slices"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

// TestEntityRecordRelations: relations round-trip through the store, and a
// record written before EntityRecord had Relations decodes with none.
func TestEntityRecordRelations(t *testing.T) {
	// The record as it was encoded before the field existed.
	type oldEntityRecord struct {
		ID      string   `msgpack:"id"`
		Type    string   `msgpack:"type"`
		Name    string   `msgpack:"name"`
		Aliases []string `msgpack:"aliases"`
		Tags    []string `msgpack:"tags"`
		Region  string   `msgpack:"region"`
		Source  string   `msgpack:"source"`
		DocPath string   `msgpack:"doc"`
	}
	b, err := msgpack.Marshal(oldEntityRecord{ID: "old", Name: "Old", Aliases: []string{"O"}, Source: "s", DocPath: "d.md"})
	if err != nil {
		t.Fatal(err)
	}
	var e EntityRecord
	if err := msgpack.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if e.ID != "old" || e.Name != "Old" || !slices.Equal(e.Aliases, []string{"O"}) || e.Relations != nil {
		t.Errorf("old record decoded as %+v", e)
	}

	s := openTestStore(t, "")
	rels := map[string][]string{"located_in": {"forge"}, "owns": {"anvil", "hammer"}}
	doc := DocRecord{Source: "s", Path: "a.md", Hash: "h", EntityIDs: []string{"brenna", "plain"}}
	ents := []EntityRecord{
		{ID: "brenna", Name: "Brenna", Source: "s", DocPath: "a.md", Relations: rels},
		{ID: "plain", Name: "Plain", Source: "s", DocPath: "a.md"},
	}
	if err := s.PutDocument(doc, nil, ents); err != nil {
		t.Fatal(err)
	}
	got := map[string]EntityRecord{}
	if err := s.AllEntities(func(e EntityRecord) error { got[e.ID] = e; return nil }); err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(got["brenna"].Relations, rels, slices.Equal) {
		t.Errorf("relations = %v, want %v", got["brenna"].Relations, rels)
	}
	if got["plain"].Relations != nil {
		t.Errorf("entity without relations came back with %v", got["plain"].Relations)
	}
}

package lore

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/internal/shareddata"
)

// srdDir is the shared SRD corpus, or a skip.
func srdDir(tb testing.TB) string {
	return shareddata.SRDDir(tb)
}

func TestSRD(t *testing.T) {
	dir := srdDir(t)
	l, _ := openLibrary(t, openStore(t, t.TempDir()))
	ctx := context.Background()
	start := time.Now()
	rep, err := l.IngestDir(ctx, "srd", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SRD ingest: %d documents, %d chunks, %d entities, %d errors in %v (wall %v); %+v",
		rep.Documents, rep.Chunks, rep.Entities, len(rep.Errors), rep.Duration, time.Since(start), l.Stats())
	if len(rep.Errors) != 0 {
		t.Errorf("errors: %v", rep.Errors)
	}
	if rep.Chunks < 1000 {
		t.Errorf("only %d chunks", rep.Chunks)
	}
	var nested bool
	for _, h := range l.Search("barbarian rage", 5, Filter{}) {
		nested = nested || strings.HasPrefix(h.Chunk.DocPath, "03_Classes/")
	}
	if !nested {
		t.Error("nothing from the nested 03_Classes folder")
	}

	hits := l.Search("What is the aboleth's armor class?", 5, Filter{})
	if len(hits) == 0 {
		t.Fatal("no hits")
	}
	top := hits[0].Chunk
	t.Logf("top hit %s %q score %.2f: %.120q", top.ID, top.Heading, hits[0].Score, top.Text)
	if !slices.Contains(top.Heading, "Aboleth") || !strings.Contains(top.Text, "Armor Class: 17") {
		t.Errorf("top hit %s %q does not hold the aboleth's armor class:\n%s", top.ID, top.Heading, top.Text)
	}
	for _, tt := range []struct{ q, heading string }{
		{"bag of holding", "Bag of Holding"},
		{"fireball spell range", "Fireball"},
		{"grappled condition", "Grappled [Condition]"},
	} {
		hs := l.Search(tt.q, 3, Filter{})
		found := false
		for _, h := range hs {
			found = found || slices.Contains(h.Chunk.Heading, tt.heading)
		}
		if !found {
			t.Errorf("%q: no %q in the top 3: %v", tt.q, tt.heading, hitIDs(hs))
		}
	}

	start = time.Now()
	rep, err = l.IngestDir(ctx, "srd", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SRD re-ingest: %d skipped, %d updated in %v", rep.Skipped, rep.Updated, time.Since(start))
	if rep.Updated != 0 || rep.Skipped != rep.Documents {
		t.Errorf("unchanged SRD re-ingested: %+v", rep)
	}
}

// BenchmarkSearchSRD measures one BM25 search over the whole SRD (about
// 2,700 chunks), cycling through typical NPC-dialogue questions.
func BenchmarkSearchSRD(b *testing.B) {
	dir := srdDir(b)
	l, _ := openLibrary(b, openStore(b, ""))
	if _, err := l.IngestDir(context.Background(), "srd", dir); err != nil {
		b.Fatal(err)
	}
	queries := []string{
		"What is the aboleth's armor class?",
		"How much damage does a fireball do?",
		"Where can I buy a bag of holding?",
		"Tell me about goblins and their bosses",
		"What happens when a creature is grappled?",
		"dragon breath weapon cold",
		"How does a wizard prepare spells?",
		"potion of healing",
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if len(l.Search(queries[i%len(queries)], 5, Filter{})) == 0 {
			b.Fatal("no hits")
		}
		i++
	}
}

package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func openTestStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func chunkIDs(t *testing.T, s *Store) []string {
	t.Helper()
	var ids []string
	if err := s.AllChunks(func(c ChunkRecord) error { ids = append(ids, c.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	return ids
}

func entityIDs(t *testing.T, s *Store) []string {
	t.Helper()
	var ids []string
	if err := s.AllEntities(func(e EntityRecord) error { ids = append(ids, e.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	return ids
}

func testDoc(source, path string, nChunks int, entities ...string) (DocRecord, []ChunkRecord, []EntityRecord) {
	d := DocRecord{Source: source, Path: path, Hash: fmt.Sprint(nChunks, entities)}
	var cs []ChunkRecord
	for i := range nChunks {
		id := fmt.Sprintf("%s:%s#%d", source, path, i)
		cs = append(cs, ChunkRecord{ID: id, Source: source, DocPath: path, Seq: i, Text: "text " + id})
		d.ChunkIDs = append(d.ChunkIDs, id)
	}
	var es []EntityRecord
	for _, e := range entities {
		es = append(es, EntityRecord{ID: e, Name: e, Source: source, DocPath: path})
		d.EntityIDs = append(d.EntityIDs, e)
	}
	return d, cs, es
}

func TestPutDocumentReplacesAndDeletes(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	put := func(d DocRecord, cs []ChunkRecord, es []EntityRecord) {
		t.Helper()
		if err := s.PutDocument(d, cs, es); err != nil {
			t.Fatal(err)
		}
	}
	put(testDoc("village", "a.md", 3, "brenna", "mill"))
	put(testDoc("village", "b.md", 1, "forge"))
	if got, want := chunkIDs(t, s), []string{"village:a.md#0", "village:a.md#1", "village:a.md#2", "village:b.md#0"}; !slices.Equal(got, want) {
		t.Fatalf("chunks = %v, want %v", got, want)
	}

	// New version of a.md: fewer chunks, "mill" gone, "brenna" kept.
	put(testDoc("village", "a.md", 1, "brenna"))
	if got, want := chunkIDs(t, s), []string{"village:a.md#0", "village:b.md#0"}; !slices.Equal(got, want) {
		t.Fatalf("after update chunks = %v, want %v", got, want)
	}
	if got, want := entityIDs(t, s), []string{"brenna", "forge"}; !slices.Equal(got, want) {
		t.Fatalf("after update entities = %v, want %v", got, want)
	}

	// b.md takes over "brenna"; when a.md then drops it, b.md's copy stays.
	put(testDoc("village", "b.md", 1, "forge", "brenna"))
	put(testDoc("village", "a.md", 1))
	if got, want := entityIDs(t, s), []string{"brenna", "forge"}; !slices.Equal(got, want) {
		t.Fatalf("after takeover entities = %v, want %v", got, want)
	}

	docs, err := s.Documents("village")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].Path != "a.md" || docs[1].Path != "b.md" {
		t.Fatalf("Documents = %+v", docs)
	}

	if err := s.DeleteDocument("village", "b.md"); err != nil {
		t.Fatal(err)
	}
	if got, want := entityIDs(t, s), []string(nil); !slices.Equal(got, want) {
		t.Fatalf("after delete entities = %v, want none", got)
	}
	if got, want := chunkIDs(t, s), []string{"village:a.md#0"}; !slices.Equal(got, want) {
		t.Fatalf("after delete chunks = %v, want %v", got, want)
	}
	if _, err := s.Document("village", "b.md"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Document(deleted) err = %v, want ErrNotFound", err)
	}
	if err := s.DeleteDocument("village", "never.md"); err != nil {
		t.Fatalf("deleting an absent document: %v", err)
	}
}

func TestDocumentsSourcePrefixDoesNotOverlap(t *testing.T) {
	s := openTestStore(t, "")
	for _, src := range []string{"srd", "srd2"} {
		d, cs, es := testDoc(src, "x.md", 1)
		if err := s.PutDocument(d, cs, es); err != nil {
			t.Fatal(err)
		}
	}
	docs, err := s.Documents("srd")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Source != "srd" {
		t.Fatalf("Documents(srd) = %+v", docs)
	}
	if _, err := s.Documents("a/b"); err == nil {
		t.Fatal(`Documents("a/b") succeeded, want an error for a source with "/"`)
	}
}

// TestPutDocumentLargerThanOneTxn writes a document well past Badger's
// transaction size limit (about 2.4 MB with the store's 16 MB memtables).
func TestPutDocumentLargerThanOneTxn(t *testing.T) {
	s := openTestStore(t, t.TempDir())
	d, cs, es := testDoc("big", "all.md", 12000)
	pad := strings.Repeat("lorem ipsum ", 40)
	for i := range cs {
		cs[i].Text += pad
	}
	if err := s.PutDocument(d, cs, es); err != nil {
		t.Fatal(err)
	}
	if n := len(chunkIDs(t, s)); n != 12000 {
		t.Fatalf("stored %d chunks, want 12000", n)
	}
	if err := s.DeleteDocument("big", "all.md"); err != nil {
		t.Fatal(err)
	}
	if n := len(chunkIDs(t, s)); n != 0 {
		t.Fatalf("%d chunks left after delete", n)
	}
}

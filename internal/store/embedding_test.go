package store

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestEmbeddingCache(t *testing.T) {
	dir := t.TempDir()
	s := openTestStore(t, dir)
	v1 := []float32{0.5, -1.25, float32(math.Pi)}
	if err := s.PutEmbeddings("m/a", []string{"h1", "h2"}, [][]float32{v1, {1, 2, 3}}); err != nil {
		t.Fatal(err)
	}
	// A model whose escaped name is a prefix of the other's must not see its entries.
	if err := s.PutEmbeddings("m", []string{"h1"}, [][]float32{{9}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Embedding("m/a", "h1")
	if err != nil || !slices.Equal(got, v1) {
		t.Fatalf("Embedding = %v, %v", got, err)
	}
	if _, err := s.Embedding("m/a", "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing: %v", err)
	}
	var hashes []string
	if err := s.Embeddings("m", func(h string, v []float32) error { hashes = append(hashes, h); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hashes, []string{"h1"}) {
		t.Errorf("model m sees %v", hashes)
	}
	if n, err := s.DeleteEmbeddings("m/a"); err != nil || n != 2 {
		t.Errorf("DeleteEmbeddings = %d, %v", n, err)
	}
	if _, err := s.Embedding("m", "h1"); err != nil {
		t.Errorf("other model's entry deleted: %v", err)
	}
	if err := s.PutEmbeddings("m", []string{"a/b"}, [][]float32{{1}}); err == nil {
		t.Error("hash with a slash accepted")
	}
	if err := s.PutEmbeddings("", []string{"x"}, [][]float32{{1}}); err == nil {
		t.Error("empty model accepted")
	}
}

func TestEmbedModelParts(t *testing.T) {
	s := openTestStore(t, "") // in-memory: Badger's 1 MiB value limit applies
	terms := make([]string, 40000)
	for i := range terms {
		terms[i] = strings.Repeat("t", i%7+1) + string(rune('a'+i%26))
	}
	proj := make([]float32, len(terms)*16) // 2.5 MB
	for i := range proj {
		proj[i] = float32(i)
	}
	w := make([]float32, len(terms))
	m := EmbedModelRecord{Name: "lsa", Model: "x", Dim: 16, Terms: terms, Weights: Float32Bytes(w),
		Projection: Float32Bytes(proj), Corpus: []uint64{3, 1}, Params: map[string]string{"k": "v"}}
	if err := s.PutEmbedModel(m); err != nil {
		t.Fatal(err)
	}
	got, err := s.EmbedModel("lsa")
	if err != nil {
		t.Fatal(err)
	}
	gp, _ := BytesFloat32(got.Projection)
	if !slices.Equal(got.Terms, terms) || !slices.Equal(gp, proj) || got.Params["k"] != "v" || len(got.Params) != 1 ||
		!slices.Equal(got.Corpus, m.Corpus) || got.Dim != 16 {
		t.Error("model did not round-trip")
	}
	if _, err := s.EmbedModel("other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing model: %v", err)
	}
}

func TestEmbedGraph(t *testing.T) {
	s := openTestStore(t, "")
	data := make([]byte, 3<<20+5) // several parts
	for i := range data {
		data[i] = byte(i * 7)
	}
	if err := s.PutEmbedGraph("lore", "fp1", data); err != nil {
		t.Fatal(err)
	}
	fp, got, err := s.EmbedGraph("lore")
	if err != nil || fp != "fp1" || !slices.Equal(got, data) {
		t.Fatalf("EmbedGraph = %q, %d bytes, %v", fp, len(got), err)
	}
	if err := s.PutEmbedGraph("lore", "fp2", data[:10]); err != nil {
		t.Fatal(err)
	}
	if fp, got, err := s.EmbedGraph("lore"); err != nil || fp != "fp2" || len(got) != 10 {
		t.Errorf("replaced graph: %q, %d bytes, %v", fp, len(got), err)
	}
	parts := 0
	s.scan(embedGraphPartPrefix, false, func([]byte, func(any) error) (bool, error) { parts++; return true, nil })
	if parts != 1 {
		t.Errorf("%d graph parts stored, want 1 (stale parts left)", parts)
	}
	if _, _, err := s.EmbedGraph("none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing graph: %v", err)
	}
}

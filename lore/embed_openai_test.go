package lore

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// villageLSA trains an LSA model on the demo world's lore.
func villageLSA(t testing.TB, cfg LSAConfig) *LSA {
	t.Helper()
	l, _ := openLibrary(t, openStore(t, ""))
	ingest(t, l, "village", os.DirFS("../sim/world/lore"))
	var texts []string
	for _, c := range l.idx.chunks {
		texts = append(texts, embedText(&c.chunk))
	}
	m, err := TrainLSA(context.Background(), texts, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// embedServer is an OpenAI-compatible /v1/embeddings server on loopback
// backed by an LSA model; dim overrides the length of the returned vectors
// (0: the model's), delay delays each response.
type embedServer struct {
	*httptest.Server
	m        *LSA
	requests atomic.Int64
	texts    atomic.Int64
	dim      atomic.Int64
	delay    time.Duration
}

func newEmbedServer(t testing.TB, m *LSA) *embedServer {
	s := &embedServer{m: m}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.requests.Add(1)
		s.texts.Add(int64(len(req.Input)))
		if s.delay > 0 {
			select {
			case <-time.After(s.delay):
			case <-r.Context().Done():
				return
			}
		}
		vecs, _ := s.m.Embed(r.Context(), req.Input)
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		}
		resp := struct {
			Object string `json:"object"`
			Data   []item `json:"data"`
			Model  string `json:"model"`
			Usage  struct {
				PromptTokens int `json:"prompt_tokens"`
				TotalTokens  int `json:"total_tokens"`
			} `json:"usage"`
		}{Object: "list", Model: req.Model}
		for i, v := range vecs {
			n := len(v)
			if d := int(s.dim.Load()); d > 0 {
				n = d
			}
			f := make([]float64, n)
			for k := range min(n, len(v)) {
				f[k] = float64(v[k])
			}
			// Reversed order: the client must place vectors by index.
			resp.Data = append([]item{{Object: "embedding", Index: i, Embedding: f}}, resp.Data...)
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *embedServer) embedder(t testing.TB, dim int) *OpenAIEmbedder {
	e, err := NewOpenAIEmbedder(OpenAIEmbedderConfig{BaseURL: s.URL + "/v1", Model: "lsa-test", Dim: dim, MaxBatch: 50})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestOpenAIEmbedderMatchesServerModel(t *testing.T) {
	m := villageLSA(t, LSAConfig{Dim: 32, LexDim: 16})
	s := newEmbedServer(t, m)
	e := s.embedder(t, m.Dim())
	texts := []string{"the Ford Kettle was stolen", "sallow wolves", "", "fen-glims and salt"}
	got, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.Embed(context.Background(), texts)
	for i := range texts {
		for k := range want[i] {
			if math.Abs(float64(got[i][k]-want[i][k])) > 1e-6 {
				t.Fatalf("text %d dim %d: %v, want %v", i, k, got[i][k], want[i][k])
			}
		}
	}
	if !strings.HasPrefix(e.Model(), "openai:lsa-test@http://127.0.0.1") {
		t.Errorf("model name %q", e.Model())
	}
}

func TestOpenAIEmbedderErrors(t *testing.T) {
	m := villageLSA(t, LSAConfig{Dim: 32, LexDim: 16})
	s := newEmbedServer(t, m)
	e := s.embedder(t, m.Dim())

	s.dim.Store(int64(m.Dim() + 1))
	_, err := e.Embed(context.Background(), []string{"kettle"})
	if err == nil || !strings.Contains(err.Error(), "dimensions") {
		t.Errorf("wrong dimension: err = %v", err)
	}
	s.dim.Store(0)

	s.delay = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = e.Embed(ctx, []string{"kettle"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("deadline: err = %v", err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("deadline not honoured: %v", d)
	}
	if n := s.requests.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (retries must be off)", n)
	}
}

// TestLibraryOpenAIEmbedder ingests the demo lore with an OpenAI-compatible
// embedder, searches, restarts without any request (embeddings come from
// the store), and switches to an embedder of another dimension.
func TestLibraryOpenAIEmbedder(t *testing.T) {
	m := villageLSA(t, LSAConfig{Dim: 48, LexDim: 16})
	s := newEmbedServer(t, m)
	dir := t.TempDir()
	st := openStore(t, dir)
	ctx := context.Background()
	l, err := OpenWith(ctx, st, nil, Options{Embedder: s.embedder(t, m.Dim())})
	if err != nil {
		t.Fatal(err)
	}
	ingest(t, l, "village", os.DirFS("../sim/world/lore"))
	rows := l.vec.index.len()
	if got := s.texts.Load(); got != int64(rows) {
		t.Errorf("embedded %d texts for %d rows", got, rows)
	}
	check := func(l *Library) {
		t.Helper()
		hits := l.SearchWith("floating lights that lure travellers into the bog", 3, Filter{}, SearchOptions{Mode: SearchVector})
		if !slices.ContainsFunc(hits, func(h Hit) bool { return h.Chunk.DocPath == "fen-glims.md" }) {
			t.Errorf("vector search: %v", hitIDs(hits))
		}
		if len(l.Search("Hoarfrost", 3, Filter{})) == 0 {
			t.Error("hybrid search: no hits")
		}
	}
	check(l)

	// Restart: nothing is embedded again but the queries.
	before := s.texts.Load()
	l2, err := OpenWith(ctx, st, nil, Options{Embedder: s.embedder(t, m.Dim())})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.texts.Load() - before; got != 0 {
		t.Errorf("restart embedded %d texts", got)
	}
	check(l2)

	// Another model of another dimension: everything is embedded again, in
	// its own dimension.
	m2 := villageLSA(t, LSAConfig{Dim: 24, LexDim: 8})
	s2 := newEmbedServer(t, m2)
	l3, err := OpenWith(ctx, st, nil, Options{Embedder: s2.embedder(t, m2.Dim())})
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.texts.Load(); got != int64(rows) {
		t.Errorf("switch: embedded %d texts for %d rows", got, rows)
	}
	if l3.vec.index.dim != m2.Dim() {
		t.Errorf("index dim %d, want %d", l3.vec.index.dim, m2.Dim())
	}
	check(l3)

	// A server whose model changed dimension under the same name: a clear
	// error at ingest (logged), and vector search degrades to BM25.
	s2.dim.Store(int64(m2.Dim() + 3))
	_, err = s2.embedder(t, m2.Dim()).Embed(ctx, []string{"x"})
	if err == nil || !strings.Contains(err.Error(), "never mixes dimensions") {
		t.Errorf("err = %v", err)
	}
}

package inference_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
	hlore "github.com/hearth-ai/hearth/lore"
)

func newSemantic(t testing.TB, e inference.LineEmbedder, threshold float64) *inference.SemanticCache {
	t.Helper()
	sc, err := inference.NewSemanticCache(inference.SemanticOptions{Embedder: e, Threshold: threshold})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sc.Close)
	return sc
}

// asked is a shareable question to Hesper Lowe.
func asked(line string) *inference.Request {
	req := &inference.Request{Intent: inference.IntentDialogue, Persona: inference.Persona{ID: "hesper-lowe", Name: "Hesper Lowe"},
		UserText: line, PromptName: "npc.dialogue@1", PromptHash: "abc"}
	req.CacheKey = inference.ExactKey(req)
	return req
}

// TestSemanticCacheServesParaphrase: behind the Router, a paraphrase of
// a line answered before is served from the semantic cache (world LSA
// embedder), with the first answer and no backend call; a near-miss of
// another shape, another NPC or a request without a key is not.
func TestSemanticCacheServesParaphrase(t *testing.T) {
	sc := newSemantic(t, worldEmbedder(t, hlore.LSAConfig{}), 0)
	c := newCache(t, inference.CacheOptions{})
	m := model("local", 2, time.Millisecond, "It", "hangs", "drowned", "in", "the", "Bell", "Pool.")
	r, err := inference.NewRouter(template.New(), []inference.Model{m}, inference.RouterOptions{Cache: c, Semantic: sc})
	if err != nil {
		t.Fatal(err)
	}
	first := run(t, r, asked("What is the Drowned Bell?"))
	second := run(t, r, asked("Tell me about the Drowned Bell."))
	if second.Tier != inference.TierCache || second.Backend != "cache:semantic:local" || second.Text != first.Text || m.calls.Load() != 1 {
		t.Fatalf("paraphrase: %+v (backend calls %d), want the cached %q", second, m.calls.Load(), first.Text)
	}
	if s := sc.Stats(); s.Hits != 1 || s.Misses != 1 || s.Scopes != 1 {
		t.Fatalf("stats %+v", s)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(inference.NewCollector(r, c))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			got[mf.GetName()] += mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
		}
	}
	if got["hearth_semcache_hits_total"] != 1 || got["hearth_semcache_misses_total"] != 1 || got["hearth_semcache_scopes"] != 1 {
		t.Fatalf("scrape: hits %v, misses %v, scopes %v", got["hearth_semcache_hits_total"], got["hearth_semcache_misses_total"], got["hearth_semcache_scopes"])
	}
	// "Where is" is another question, whatever the embedder says.
	if res := run(t, r, asked("Where is the Drowned Bell?")); res.Tier == inference.TierCache {
		t.Fatalf("a where-question was served the what-answer: %+v", res)
	}
	// Another NPC, another scope.
	other := asked("Tell me about the Drowned Bell.")
	other.Persona.ID = "orla-fenn"
	other.CacheKey = inference.ExactKey(other)
	if res := run(t, r, other); res.Tier == inference.TierCache {
		t.Fatalf("another NPC was served Hesper's answer: %+v", res)
	}
	// No key: personal, never cached.
	personal := asked("Tell me more about the Drowned Bell.")
	personal.CacheKey = ""
	if res := run(t, r, personal); res.Tier == inference.TierCache {
		t.Fatalf("a request without a cache key was served: %+v", res)
	}
}

// TestSemanticCacheQualityAndErrors: an entry serves only a request that
// cannot afford better; a line that cannot be embedded is a miss counted
// as an error; bad thresholds are refused.
func TestSemanticCacheQualityAndErrors(t *testing.T) {
	e := worldEmbedder(t, hlore.LSAConfig{})
	sc := newSemantic(t, e, 0.8)
	ctx := context.Background()
	_, k, ok := sc.Get(ctx, asked("What is the Bellman?"), 0)
	if ok {
		t.Fatal("hit in an empty cache")
	}
	sc.Put(k, inference.Result{Text: "A thing under the water.", Backend: "template"}, 1)
	if _, _, ok := sc.Get(ctx, asked("Tell me what the Bellman really is."), 3); ok {
		t.Fatal("a quality-1 entry served a request that can afford quality 3")
	}
	if c, _, ok := sc.Get(ctx, asked("Tell me what the Bellman really is."), 1); !ok || c.Text != "A thing under the water." {
		t.Fatalf("paraphrase at quality 1: %+v %v", c, ok)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, k, ok := sc.Get(done, asked("What is the Bellman?"), 0); ok || sc.Stats().Errors != 1 {
		t.Fatalf("embedding under a cancelled context: hit %v, key %+v, stats %+v", ok, k, sc.Stats())
	} else {
		sc.Put(k, inference.Result{Text: "never stored"}, 0) // the zero key stores nothing
	}
	for _, th := range []float64{-0.1, 1.5} {
		if _, err := inference.NewSemanticCache(inference.SemanticOptions{Embedder: e, Threshold: th}); err == nil {
			t.Errorf("threshold %v accepted", th)
		}
	}
	if _, err := inference.NewSemanticCache(inference.SemanticOptions{}); err == nil {
		t.Error("no embedder accepted")
	}
}

// TestSemanticCacheConcurrent: lookups and writes from many goroutines
// (run with -race) count every lookup and share one scope.
func TestSemanticCacheConcurrent(t *testing.T) {
	sc, err := inference.NewSemanticCache(inference.SemanticOptions{Embedder: worldEmbedder(t, hlore.LSAConfig{}), MaxPerScope: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	lines := []string{"Who keeps the inn?", "Who keeps the mill?", "Who keeps the forge?", "Who keeps the shrine?",
		"Who keeps the ford?", "Who keeps the mine?", "Who keeps the market?", "Who keeps the wardhouse?", "Who keeps the keep?"}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				req := asked(lines[(g+i)%len(lines)])
				if _, k, ok := sc.Get(context.Background(), req, 0); !ok {
					sc.Put(k, inference.Result{Text: req.UserText}, 1)
				}
			}
		})
	}
	wg.Wait()
	if s := sc.Stats(); s.Scopes != 1 || s.Hits+s.Misses != 320 || s.Errors != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestLineShape: the guard separates what embedders blur.
func TestLineShape(t *testing.T) {
	for _, c := range []struct {
		a, b string
		same bool
	}{
		{"What is the Drowned Bell?", "Tell me about the Drowned Bell.", true},
		{"Is the copper stamped?", "Is the copper not stamped?", false},
		{"Can I carry a sword?", "Can't I carry a sword?", false},
		{"When does the moot meet?", "Where does the moot meet?", false},
		{"Did it rain yesterday?", "Will it rain tomorrow?", false},
		{"How much for two ales?", "How much for ten ales?", false},
		{"How much for two ales?", "What do two ales cost?", false},
		{"how old are you", "How old are you?", true},
	} {
		if got := inference.LineShape(c.a) == inference.LineShape(c.b); got != c.same {
			t.Errorf("%q (%s) / %q (%s): same %v, want %v", c.a, inference.LineShape(c.a), c.b, inference.LineShape(c.b), got, c.same)
		}
	}
}

// BenchmarkSemanticLookup is a semantic-cache lookup on the request path:
// embedding the player's line with the world's LSA embedder and scanning a
// full scope of 64 lines.
func BenchmarkSemanticLookup(b *testing.B) {
	e := worldEmbedder(b, hlore.LSAConfig{})
	sc := newSemantic(b, e, 0)
	ctx := context.Background()
	places := []string{"shrine", "inn", "mill", "forge", "mine", "ford", "market", "wardhouse"}
	for i := range 64 { // 64 distinct who-questions: the scope and shape of req
		line := fmt.Sprintf("Who keeps the %s of %s %c?", places[i%8], places[i/8], 'a'+rune(i))
		_, k, _ := sc.Get(ctx, asked(line), 0)
		sc.Put(k, inference.Result{Text: "answer"}, 1)
	}
	req := asked("Who keeps the shrine of the Quiet Lady?")
	if sc.Get(ctx, req, 0); sc.Stats().Scopes != 1 || sc.Stats().Errors != 0 {
		b.Fatalf("want one scope: %+v", sc.Stats())
	}
	b.ReportAllocs()
	for b.Loop() {
		sc.Get(ctx, req, 0)
	}
}

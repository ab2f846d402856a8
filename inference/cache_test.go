package inference_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
	"github.com/hearth-ai/hearth/internal/store"
)

func newCache(t *testing.T, opts inference.CacheOptions) *inference.ResponseCache {
	t.Helper()
	c, err := inference.NewResponseCache(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func cachedRouter(t *testing.T, c *inference.ResponseCache, backends ...inference.Model) *inference.Router {
	t.Helper()
	r, err := inference.NewRouter(template.New(), backends, inference.RouterOptions{Cache: c})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func lore(text string) *inference.Request {
	req := &inference.Request{
		Intent:   inference.IntentDialogue,
		Persona:  inference.Persona{ID: "brenna", Name: "Brenna", Traits: []string{"gruff"}},
		UserText: "Who runs the inn?",
		Facts:    []inference.Fact{{Source: "village", DocPath: "inn.md", Heading: []string{"The Tipped Kettle"}, Text: text}},
	}
	req.CacheKey = inference.ExactKey(req)
	return req
}

func run(t *testing.T, r *inference.Router, req *inference.Request) inference.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	rec := &recorder{}
	res, err := r.Generate(ctx, req, rec.sink)
	rec.close()
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := rec.text(); got != res.Text {
		t.Fatalf("streamed %q, result %q", got, res.Text)
	}
	return res
}

// TestCacheServesSecondRequest: the second request with the same key is
// answered by the cache tier without calling the backend, with the text
// the backend produced.
func TestCacheServesSecondRequest(t *testing.T) {
	c := newCache(t, inference.CacheOptions{})
	m := model("local", 1, time.Millisecond, "Mara", "keeps", "the", "inn.")
	r := cachedRouter(t, c, m)
	first := run(t, r, lore("Mara Kettle keeps the inn."))
	if first.Tier != inference.TierLocal {
		t.Fatalf("first answer from %s, want local", first.Tier)
	}
	second := run(t, r, lore("Mara Kettle keeps the inn."))
	if second.Tier != inference.TierCache || second.Backend != "cache:local" || second.Text != first.Text {
		t.Fatalf("second answer %+v, want the cached %q", second, first.Text)
	}
	if n := m.calls.Load(); n != 1 {
		t.Fatalf("backend called %d times, want 1", n)
	}
	if s := c.Stats(); s.Hits != 1 || s.Misses != 1 || s.Entries != 1 || s.HitRate() != 0.5 {
		t.Fatalf("stats %+v", s)
	}
	// Other lore is another key: a miss.
	if res := run(t, r, lore("Old Tam keeps the inn now.")); res.Tier == inference.TierCache {
		t.Fatal("a request with different facts was served from the cache")
	}
	// No key, no cache.
	req := lore("Mara Kettle keeps the inn.")
	req.CacheKey = ""
	if res := run(t, r, req); res.Tier == inference.TierCache {
		t.Fatal("a request without a cache key was served from the cache")
	}
}

// TestCacheDoesNotChangeAnswers: on the deterministic template tier, a
// cacheable request says the same with and without the cache, whatever
// its own seed, because the Router seeds it from the key.
func TestCacheDoesNotChangeAnswers(t *testing.T) {
	plain := cachedRouter(t, nil)
	cached := cachedRouter(t, newCache(t, inference.CacheOptions{}))
	greet := func(seed uint64) *inference.Request {
		req := &inference.Request{Intent: inference.IntentGreeting, Persona: inference.Persona{ID: "brenna", Name: "Brenna"},
			UserText: "Hello!", PlayerName: "Aria", Seed: seed}
		req.CacheKey = inference.ExactKey(req)
		return req
	}
	want := run(t, plain, greet(1)).Text
	for seed := uint64(1); seed < 20; seed++ {
		if got := run(t, plain, greet(seed)).Text; got != want {
			t.Fatalf("seed %d: uncached %q, want %q (the key fixes the seed)", seed, got, want)
		}
		if got := run(t, cached, greet(seed)).Text; got != want {
			t.Fatalf("seed %d: cached %q, want %q", seed, got, want)
		}
	}
}

// TestFloorForLackOfTimeIsNotCached: when a better backend ran out of
// time, the floor's answer is not kept; the next request tries again.
func TestFloorForLackOfTimeIsNotCached(t *testing.T) {
	c := newCache(t, inference.CacheOptions{})
	slow := model("slow", 1, time.Millisecond, "late")
	slow.delay = time.Second
	r := cachedRouter(t, c, slow)
	if res := run(t, r, lore("Mara Kettle keeps the inn.")); !res.Floor {
		t.Fatalf("want the floor, got %+v", res)
	}
	if s := c.Stats(); s.Entries != 0 {
		t.Fatalf("the floor answer was cached: %+v", s)
	}
}

// TestFloorOnlyRouterCaches: with no backend the template is the best
// answer, and it is cached.
func TestFloorOnlyRouterCaches(t *testing.T) {
	c := newCache(t, inference.CacheOptions{})
	r := cachedRouter(t, c)
	first := run(t, r, lore("Mara Kettle keeps the inn."))
	second := run(t, r, lore("Mara Kettle keeps the inn."))
	if second.Tier != inference.TierCache || second.Backend != "cache:template" || second.Text != first.Text {
		t.Fatalf("second %+v, first %+v", second, first)
	}
}

// TestCacheTTL: entries expire after the TTL.
func TestCacheTTL(t *testing.T) {
	c := newCache(t, inference.CacheOptions{TTL: 20 * time.Millisecond})
	c.Put("k", inference.Result{Text: "hello"}, 0)
	if _, ok := c.Get("k", 0); !ok {
		t.Fatal("fresh entry missing")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := c.Get("k", 0); !ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("entry still present 5 s after a 20 ms TTL")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCacheSizeBound: the cache stays within MaxBytes.
func TestCacheSizeBound(t *testing.T) {
	c := newCache(t, inference.CacheOptions{MaxBytes: 64 << 10})
	text := string(make([]byte, 1000))
	for i := 0; i < 1000; i++ {
		c.Put(string(rune('a'+i%26))+time.Duration(i).String(), inference.Result{Text: text}, 0)
	}
	// Eviction is asynchronous in part; a read drains the pending work.
	c.Get("x", 0)
	if s := c.Stats(); s.Bytes > 64<<10 {
		t.Fatalf("cache holds %d bytes; bound 64 KiB", s.Bytes)
	}
}

func TestExactKey(t *testing.T) {
	a := lore("Mara Kettle keeps the inn.")
	b := lore("Mara Kettle keeps the inn.")
	b.UserText = "  who RUNS the inn "
	if inference.ExactKey(a) != inference.ExactKey(b) {
		t.Fatal("case, spacing and punctuation changed the key")
	}
	for name, change := range map[string]func(r *inference.Request){
		"npc":       func(r *inference.Request) { r.Persona.ID = "tam" },
		"intent":    func(r *inference.Request) { r.Intent = inference.IntentBark },
		"line":      func(r *inference.Request) { r.UserText = "Who runs the mill?" },
		"name":      func(r *inference.Request) { r.PlayerName = "Aria" },
		"returning": func(r *inference.Request) { r.Returning = true },
		"fact":      func(r *inference.Request) { r.Facts[0].Text = "Tam keeps the inn." },
		"heading":   func(r *inference.Request) { r.Facts[0].Heading = []string{"Inns"} },
		"prompt":    func(r *inference.Request) { r.PromptHash = "abc" },
		"small":     func(r *inference.Request) { r.SmallPromptHash = "abc" },
	} {
		c := lore("Mara Kettle keeps the inn.")
		change(c)
		if inference.ExactKey(c) == inference.ExactKey(a) {
			t.Errorf("changing the %s kept the key", name)
		}
	}
}

// TestCacheIsQualityAware: the floor's answer to a 50 ms request (the
// large model could not fit) is cached at the floor's quality; a request
// with time for the large model does not take it, asks the model, and its
// better answer then serves the 50 ms requests too.
func TestCacheIsQualityAware(t *testing.T) {
	c := newCache(t, inference.CacheOptions{})
	large := model("large", 10, 600*time.Millisecond, "Mara", "Kettle", "keeps", "the", "inn.")
	large.info.Tier = inference.TierRemote
	large.delay = 5 * time.Millisecond
	r := cachedRouter(t, c, large)
	within := func(budget time.Duration) inference.Result {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), budget)
		defer cancel()
		res, err := r.Generate(ctx, lore("Mara Kettle keeps the inn."), nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := within(50 * time.Millisecond); res.Tier != inference.TierTemplate || large.calls.Load() != 0 {
		t.Fatalf("50 ms: %+v, %d model calls; want the floor without trying the model", res, large.calls.Load())
	}
	if res := within(50 * time.Millisecond); res.Tier != inference.TierCache || res.Backend != "cache:template" {
		t.Fatalf("50 ms again: %+v; want the cached floor answer", res)
	}
	if res := within(5 * time.Second); res.Tier != inference.TierRemote || res.Text != "Mara Kettle keeps the inn." {
		t.Fatalf("5 s: %+v; want the large model, not the cached floor answer", res)
	}
	if res := within(50 * time.Millisecond); res.Backend != "cache:large" || res.Text != "Mara Kettle keeps the inn." {
		t.Fatalf("50 ms after: %+v; want the large model's cached answer", res)
	}
}

// openStore opens a real Badger store in dir.
func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	s, err := store.Open(store.DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCachePersists: with a store, an entry written before a restart is
// served after it through the Router (warm start); one whose TTL passed
// meanwhile is not; a corrupt record is logged, deleted and skipped.
func TestCachePersists(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	c, err := inference.NewResponseCache(inference.CacheOptions{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	m := model("local", 2, time.Millisecond, "Mara", "keeps", "the", "inn.")
	first := run(t, cachedRouter(t, c, m), lore("Mara Kettle keeps the inn."))
	c.Put("other", inference.Result{Text: "Two pennies.", Backend: "local", Tier: inference.TierLocal}, 2)
	c.Close()
	if err := st.PutRawRespCache("bad", []byte{0xc1, 0x00, 0xff}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = openStore(t, dir)
	defer st.Close()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	c, err = inference.NewResponseCache(inference.CacheOptions{Store: st, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Stats(); s.Loaded != 2 || s.Entries != 2 {
		t.Fatalf("after restart: %+v, want 2 entries loaded", s)
	}
	if !strings.Contains(logs.String(), "corrupt") || !strings.Contains(logs.String(), "key=bad") {
		t.Fatalf("the corrupt record was not logged: %q", logs.String())
	}
	m2 := model("local", 2, time.Millisecond, "something", "else.")
	second := run(t, cachedRouter(t, c, m2), lore("Mara Kettle keeps the inn."))
	if second.Tier != inference.TierCache || second.Text != first.Text || second.Backend != "cache:local" || m2.calls.Load() != 0 {
		t.Fatalf("after restart: %+v, want the cached %q", second, first.Text)
	}
	if got, ok := c.Get("other", 2); !ok || got.Text != "Two pennies." || got.Quality != 2 || got.Tier != inference.TierLocal {
		t.Fatalf("other after restart: %+v %v", got, ok)
	}
	c.Close()
	n := 0
	if err := st.RespCacheEntries(func(string, store.RespCacheRecord) bool { n++; return true },
		func(k string, err error) { t.Errorf("corrupt record %s still stored: %v", k, err) }); err != nil || n != 2 {
		t.Fatalf("stored entries %d (%v), want 2", n, err)
	}

	// Eleven minutes later (default TTL 10), nothing is served.
	later := func() time.Time { return time.Now().Add(11 * time.Minute) }
	c, err = inference.NewResponseCache(inference.CacheOptionsAt(inference.CacheOptions{Store: st}, later))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if s := c.Stats(); s.Loaded != 0 {
		t.Fatalf("expired entries loaded: %+v", s)
	}
	if _, ok := c.Get("other", 0); ok {
		t.Fatal("an expired entry was served after a restart")
	}
}

// TestCachePersistBound: the store holds no more than the cache's bound:
// entries evicted for size are deleted there too, and a load stops at
// MaxBytes.
func TestCachePersistBound(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	defer st.Close()
	text := strings.Repeat("x", 840) // about 1 KiB with the key and overhead
	c, err := inference.NewResponseCache(inference.CacheOptions{Store: st, MaxBytes: 32 << 10})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		c.Put(fmt.Sprintf("key-%03d", i), inference.Result{Text: text}, 0)
	}
	c.Close()
	stored := func() int {
		n := 0
		if err := st.RespCacheEntries(func(string, store.RespCacheRecord) bool { n++; return true }, nil); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := stored(); n > 40 {
		t.Fatalf("%d entries stored, want at most the ~32 that fit the bound", n)
	}
	// A smaller bound at the next start trims the store.
	c, err = inference.NewResponseCache(inference.CacheOptions{Store: st, MaxBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if s, n := c.Stats(), stored(); s.Loaded > 8 || n > 8 {
		t.Fatalf("loaded %d, stored %d: want at most 8 under an 8 KiB bound", s.Loaded, n)
	}
}

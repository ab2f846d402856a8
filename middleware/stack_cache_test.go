package middleware_test

import (
	"context"
	"testing"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/sim/world"
)

// TestStackPersistsCache: with PersistCache, what the response cache held
// when the stack closed is served after it reopens on the same data
// directory; SemanticCache wires the semantic cache on the lore
// embedder, and refuses a stack without lore vectors.
func TestStackPersistsCache(t *testing.T) {
	dir := t.TempDir()
	cfg := middleware.StackConfig{DataDir: dir, World: world.FS(), PersistCache: true, SemanticCache: true}
	st, err := middleware.OpenStack(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st.Semantic == nil || st.Router.Semantic() != st.Semantic || st.Semantic.Threshold() != inference.DefaultSemanticThreshold {
		t.Fatalf("semantic cache not wired: %v", st.Semantic)
	}
	st.Cache.Put("who-runs-the-inn", inference.Result{Text: "Hobb Fairweather, pet.", Backend: "template"}, 0)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = middleware.OpenStack(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c, ok := st.Cache.Get("who-runs-the-inn", 0); !ok || c.Text != "Hobb Fairweather, pet." || st.Cache.Stats().Loaded != 1 {
		t.Fatalf("after reopening: %+v %v, stats %+v", c, ok, st.Cache.Stats())
	}

	bad := cfg
	bad.DataDir, bad.NoLoreVectors = "", true
	if st, err := middleware.OpenStack(context.Background(), bad); err == nil {
		st.Close()
		t.Fatal("a semantic cache without lore vectors was accepted")
	}
}

package inference_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/internal/store"
	hlore "github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/sim/world"
)

// worldEmbedder trains the lore library's LSA embedder on the demo
// world's lore, as middleware's stack does, with cfg.
func worldEmbedder(t testing.TB, cfg hlore.LSAConfig) hlore.Embedder {
	t.Helper()
	st, err := store.Open(store.DefaultOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	lib, err := hlore.OpenWith(context.Background(), st, slog.New(slog.NewTextHandler(io.Discard, nil)), hlore.Options{LSA: true, LSAConfig: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lib.IngestFS(context.Background(), "village", world.FS(), "lore"); err != nil {
		t.Fatal(err)
	}
	e := lib.Embedder()
	if e == nil {
		t.Fatal("the library trained no embedder")
	}
	return e
}

// TestSemanticLabeledSet: the shipped set parses, has at least 200 pairs,
// both labels and every near-miss kind.
func TestSemanticLabeledSet(t *testing.T) {
	pairs := inference.SemanticLabeledSet()
	kinds := map[string]int{}
	for _, p := range pairs {
		kinds[p.Kind]++
	}
	if len(pairs) < 200 || kinds["paraphrase"] < 100 || len(pairs)-kinds["paraphrase"] < 100 {
		t.Fatalf("%d pairs, by kind %v: want 200+, 100+ of each label", len(pairs), kinds)
	}
	for _, k := range []string{"entity", "negation", "quantity", "attribute", "time"} {
		if kinds[k] == 0 {
			t.Errorf("no %s near-misses", k)
		}
	}
}

// TestSemanticEval prints, for the world's LSA embedder (the one the
// stack wires), the paraphrase hit rate and near-miss false-hit rate per
// threshold, without and with the LineShape guard, and checks that
// DefaultSemanticThreshold is the threshold the guarded evaluation
// chooses (false hits <= 1 % on the tune part). Run with -v for the
// tables; `hearth semcache-eval` prints the same.
func TestSemanticEval(t *testing.T) {
	pairs := inference.SemanticLabeledSet()
	e := worldEmbedder(t, hlore.LSAConfig{})
	for _, shapes := range []bool{false, true} {
		ev, err := inference.EvalSemantic(context.Background(), e, pairs, shapes, 0.01)
		if err != nil {
			t.Fatal(err)
		}
		if testing.Verbose() {
			os.Stdout.WriteString("\nembedder " + e.Model() + map[bool]string{false: ", embeddings alone", true: ", with the line-shape guard"}[shapes] + "\n")
			ev.Write(os.Stdout)
		}
		if shapes {
			if !ev.Found || ev.Chosen.Threshold != inference.DefaultSemanticThreshold {
				t.Fatalf("the evaluation chooses %.3f (found %v); DefaultSemanticThreshold is %.3f: update it and the docs",
					ev.Chosen.Threshold, ev.Found, inference.DefaultSemanticThreshold)
			}
		}
	}
}

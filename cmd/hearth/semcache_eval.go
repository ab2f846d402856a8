package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/sim/world"
)

// cmdSemcacheEval is `hearth semcache-eval`: it trains the lore library's
// LSA embedder on the demo world's lore (as serve does) and prints, per
// threshold, the semantic cache's hit rate on the labeled paraphrases and
// false-hit rate on the near-misses (inference/testdata/semcache), with
// and without the line-shape guard the cache applies, then the threshold
// chosen on two thirds of the pairs and its rates on the held-out third.
func cmdSemcacheEval(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth semcache-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	set := fs.String("set", "", "labeled pairs (JSON lines: npc, a, b, same, kind); default: the set built into hearth")
	maxFalse := fs.Float64("max-false", 0.01, "the near-miss false-hit rate the chosen threshold may have, in [0, 1]")
	dim := fs.Int("lsa-dim", 0, "LSA latent dimensions (0: the default)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hearth semcache-eval [-set FILE] [-max-false RATE] [-lsa-dim N]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *maxFalse < 0 || *maxFalse > 1 {
		return fmt.Errorf("-max-false %g: want a rate in [0, 1]", *maxFalse)
	}
	pairs := inference.SemanticLabeledSet()
	if *set != "" {
		f, err := os.Open(*set)
		if err != nil {
			return err
		}
		pairs, err = inference.ReadSemanticPairs(f)
		f.Close()
		if err != nil {
			return err
		}
	}
	st, err := store.Open(store.DefaultOptions(""))
	if err != nil {
		return err
	}
	defer st.Close()
	lib, err := lore.OpenWith(ctx, st, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		lore.Options{LSA: true, LSAConfig: lore.LSAConfig{Dim: *dim}})
	if err != nil {
		return err
	}
	if _, err := lib.IngestFS(ctx, "village", world.FS(), "lore"); err != nil {
		return err
	}
	e := lib.Embedder()
	if e == nil {
		return fmt.Errorf("the lore library trained no embedder")
	}
	same := 0
	for _, p := range pairs {
		if p.Same {
			same++
		}
	}
	fmt.Fprintf(stdout, "%d pairs (%d paraphrases, %d near-misses); embedder %s\n", len(pairs), same, len(pairs)-same, e.Model())
	for _, shapes := range []bool{false, true} {
		ev, err := inference.EvalSemantic(ctx, e, pairs, shapes, *maxFalse)
		if err != nil {
			return err
		}
		if shapes {
			fmt.Fprintln(stdout, "\nwith the line-shape guard (as the cache compares lines):")
		} else {
			fmt.Fprintln(stdout, "\nembeddings alone:")
		}
		ev.Write(stdout)
	}
	fmt.Fprintf(stdout, "\nDefaultSemanticThreshold is %.3f\n", inference.DefaultSemanticThreshold)
	return nil
}

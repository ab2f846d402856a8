package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/sim/world"
)

// cmdLoreEval ingests the SRD and the demo world's lore into in-memory
// libraries with the built-in LSA embedder and prints recall@5, recall@10,
// MRR and nDCG@10 of BM25, vector and hybrid search on the labeled query
// sets (lore/testdata/eval).
func cmdLoreEval(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth lore-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	srdDir := fs.String("srd", "../shared/data/srd-5.2/src", "SRD 5.2 src folder (the srd set is skipped when it is missing)")
	evalDir := fs.String("sets", "lore/testdata/eval", "folder of the query sets srd.yaml and village.yaml")
	depth := fs.Int("depth", 0, "results of each ranking fused in hybrid search (0: the default)")
	mmr := fs.Float64("mmr", 0, "MMR λ in (0,1) to diversify results; 0 off")
	dim := fs.Int("lsa-dim", 0, "LSA latent dimensions (0: the default)")
	exact := fs.Bool("exact", false, "exact (brute-force) vector search")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hearth lore-eval [-srd DIR] [-sets DIR] [-depth N] [-mmr λ] [-lsa-dim N] [-exact]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	modes := []lore.SearchMode{lore.SearchBM25, lore.SearchVector, lore.SearchHybrid}
	opts := lore.SearchOptions{Depth: *depth, MMRLambda: *mmr, Exact: *exact}
	type job struct {
		set, source string
		ingest      func(*lore.Library) (lore.IngestReport, error)
	}
	jobs := []job{
		{"village.yaml", "village", func(l *lore.Library) (lore.IngestReport, error) {
			return l.IngestFS(ctx, "village", world.FS(), "lore")
		}},
	}
	if st, err := os.Stat(*srdDir); err == nil && st.IsDir() {
		jobs = append([]job{{"srd.yaml", "srd", func(l *lore.Library) (lore.IngestReport, error) {
			return l.IngestDir(ctx, "srd", *srdDir)
		}}}, jobs...)
	} else {
		fmt.Fprintf(stderr, "hearth lore-eval: srd set skipped: no SRD 5.2 at %s (set -srd)\n", *srdDir)
	}
	for _, j := range jobs {
		set, err := lore.LoadEvalSet(filepath.Join(*evalDir, j.set))
		if err != nil {
			return fmt.Errorf("%w (run from the repository root, or set -sets)", err)
		}
		st, err := store.Open(store.DefaultOptions(""))
		if err != nil {
			return err
		}
		l, err := lore.OpenWith(ctx, st, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), lore.Options{LSA: true, LSAConfig: lore.LSAConfig{Dim: *dim}})
		if err != nil {
			st.Close()
			return err
		}
		start := time.Now()
		rep, err := j.ingest(l)
		if err != nil {
			st.Close()
			return err
		}
		model := "none"
		if e := l.Embedder(); e != nil {
			model = e.Model()
		}
		fmt.Fprintf(stdout, "%s: %d documents, %d chunks ingested with embeddings in %v (%s)\n",
			j.source, rep.Documents, rep.Chunks, time.Since(start).Round(time.Millisecond), model)
		res, err := lore.Evaluate(l, set, modes, opts)
		st.Close()
		if err != nil {
			return err
		}
		if err := lore.WriteEvalTable(stdout, set, res); err != nil {
			return err
		}
		for _, r := range res {
			if len(r.Misses) > 0 {
				fmt.Fprintf(stdout, "%s %s: no target in the top 10 for: %s\n", set.Name, r.Mode, strings.Join(r.Misses, " | "))
			}
		}
		fmt.Fprintln(stdout)
	}
	return nil
}

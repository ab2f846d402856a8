package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/hearth-ai/hearth/inference/embedded"
	"github.com/hearth-ai/hearth/inference/embedded/shipped"
	"github.com/hearth-ai/hearth/inference/openaiserve"
	"github.com/hearth-ai/hearth/npc/corpus"
)

// registerModel adds -model, the embedded neural tier, with def as its
// default ("shipped" or "off"). serve and chat default to "shipped" since
// the shipped model passed its quality eval (docs/models.md: 87.9 % of
// held-out lore questions with the engine's quote lock); bench and
// consistency default to "off", measuring the runtime and the template
// floor on their own.
func (f *stackFlags) registerModel(fs *flag.FlagSet, def string) {
	fs.StringVar(&f.model, "model", def, `embedded neural tier: "shipped" (the model built into hearth, docs/models.md), "off", or a GGUF file`)
}

// openModel starts the embedded engine for a -model value. Each tune
// function adjusts the options first (model-eval turns the quote lock off).
func openModel(spec string, logger *slog.Logger, tune ...func(*embedded.Options)) (*embedded.Engine, error) {
	// The CLI hosts Hearth standalone (no game loop shares the process),
	// so a forward pass may use every core.
	opts := embedded.Options{Logger: logger, Threads: runtime.GOMAXPROCS(0)}
	for _, f := range tune {
		f(&opts)
	}
	if spec == "shipped" {
		eng, err := shipped.Open(opts)
		if err != nil {
			return nil, fmt.Errorf("-model shipped: %w", err)
		}
		return eng, nil
	}
	eng, err := embedded.Open(spec, opts)
	if err != nil {
		return nil, fmt.Errorf("-model %s: %w", spec, err)
	}
	return eng, nil
}

// serveOpenAI serves the embedded model alone on the OpenAI-compatible
// API (/v1/models, /v1/chat/completions, /v1/embeddings) until ctx ends:
// `hearth serve -openai`. Engine teams and tests use it as a real local
// model server.
func serveOpenAI(ctx context.Context, spec string, ln net.Listener, stdout, stderr io.Writer, logger *slog.Logger, auth func(*http.Request) error) error {
	if spec == "off" {
		return errors.New("-openai needs a model: -model shipped or a GGUF file")
	}
	eng, err := openModel(spec, logger)
	if err != nil {
		return err
	}
	defer eng.Close()
	oa, err := openaiserve.New(eng, openaiserve.Options{ModelID: "hearth-embedded", Embedder: eng, Logger: logger, Authenticate: auth})
	if err != nil {
		return err
	}
	// No WriteTimeout: the handler sets per-request write deadlines, and
	// streams last as long as the reply.
	hs := &http.Server{Handler: oa.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	fmt.Fprintf(stdout, "hearth: serving model %s (%s) on http://%s/v1 (OpenAI-compatible)\n", oa.ModelID(), eng.Describe(), ln.Addr())
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = hs.Shutdown(shut)
	fmt.Fprintln(stdout, "hearth: stopped")
	return err
}

// cmdModelEval runs the labeled quality evaluation of issue 3 on a model:
// held-out lore questions with the right chunk in the prompt (does the
// reply contain the asked fact?) and quest offers under a JSON schema (does
// every reply validate?).
func cmdModelEval(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth model-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "shipped", `model: "shipped" or a GGUF file`)
	evalPath := fs.String("eval", "npc/corpus/testdata/eval.jsonl", "labeled eval set (JSONL, written by hearth corpus -eval-out)")
	seed := fs.Uint64("seed", 1, "seed of every request")
	failures := fs.Int("failures", 10, "failed items to list")
	quoteLock := fs.Bool("quote-lock", true, "hold a reply that begins a lore line of its prompt to that line (the engine's quote lock, on when Hearth serves); false measures the model alone")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	items, err := corpus.ReadJSONLFile(*evalPath)
	if err != nil {
		return fmt.Errorf("-eval: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	eng, err := openModel(*model, logger, func(o *embedded.Options) {
		if !*quoteLock {
			o.QuoteMinBytes = -1
		}
	})
	if err != nil {
		return err
	}
	defer eng.Close()
	fmt.Fprintf(stdout, "model: %s (%s), quote lock %v\neval: %s, %d items\n", *model, eng.Describe(), *quoteLock, *evalPath, len(items))
	start := time.Now()
	rep, err := corpus.Evaluate(ctx, eng, items, corpus.EvalOptions{Seed: *seed, MaxFailures: *failures})
	if err != nil {
		return err
	}
	if err := rep.Write(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "took %v (%.1f ms per item)\n", time.Since(start).Round(time.Millisecond),
		float64(time.Since(start).Milliseconds())/float64(max(len(items), 1)))
	return nil
}

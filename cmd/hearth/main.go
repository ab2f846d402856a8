// Command hearth is Hearth's one CLI.
//
//	hearth serve    serve the demo world (or another) over WebSocket
//	hearth chat     talk to an NPC from the terminal
//	hearth ingest   ingest a lore folder into a data directory and report
//	hearth bench    measure reply latency with many WebSocket clients
//	hearth quests   generate quests for the demo and SRD worlds and report quality
//	hearth sim      run simulated players on the demo world and hash the event log
//	hearth soak     run the sim for minutes against a server with a faulty remote model; check heap and goroutines stay flat
//	hearth version  print the version
//
// Run "hearth <command> -h" for a command's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/sim/world"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "serve NPCs over WebSocket (/v1/ws), /healthz and /metrics", cmdServe},
		{"chat", "talk to an NPC from the terminal, embedded or via -server", cmdChat},
		{"ingest", "ingest a lore folder into a data directory and report", cmdIngest},
		{"bench", "measure reply latency with concurrent WebSocket clients", cmdBench},
		{"quests", "generate quests on the demo and SRD worlds and report validity, diversity, latency", cmdQuests},
		{"sim", "run simulated players on the demo world, in-process or via -server; print the log hash", cmdSim},
		{"soak", "run the sim against a hearth serve child whose remote model is faulty; report goroutines and heap over time", cmdSoak},
		{"model-eval", "print the embedded model's quality on the labeled eval set (facts copied from the lore, quest offers that validate)", cmdModelEval},
		{"lore-eval", "print recall@5/10, MRR and nDCG@10 of BM25, vector and hybrid lore search on the labeled query sets", cmdLoreEval},
		{"semcache-eval", "print the semantic cache's paraphrase hit rate and near-miss false-hit rate per threshold on the labeled pairs", cmdSemcacheEval},
		{"consistency-eval", "print NPCs' pass rate on the consistency suite (out-of-scope questions, secrets, persona attacks) on the configured model tiers", cmdConsistencyEval},
		{"guard-eval", "print the guardrails' detection and false-positive rates on the labeled input and output sets", cmdGuardEval},
		{"corpus", "generate the embedded model's training corpus and labeled eval set from a world's lore and NPCs", cmdCorpus},
		{"distill", "replace a corpus file's responses with an OpenAI-compatible model's", cmdDistill},
		{"train", "train the embedded model from a JSONL corpus and export GGUF", cmdTrain},
		{"model-average", "write the element-wise mean of GGUF models of one shape (checkpoint averaging of a run's snapshots)", cmdModelAverage},
		{"llmsim", "serve a simulated remote large model (OpenAI-compatible, log-normal time to first token) for trying -remote and -refine", cmdLlmsim},
		{"version", "print the version", func(_ context.Context, _ []string, _ io.Reader, out, _ io.Writer) error {
			fmt.Fprintln(out, "hearth", version)
			return nil
		}},
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-version" || args[0] == "--version") {
		args[0] = "version"
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(ctx, args[1:], stdin, stdout, stderr)
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			if err != nil {
				fmt.Fprintf(stderr, "hearth %s: %v\n", c.name, err)
				return 1
			}
			return 0
		}
	}
	fmt.Fprintf(stderr, "hearth: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Hearth: NPC AI middleware. Usage: hearth <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
}

// loreFlags collects repeated -lore NAME=DIR flags.
type loreFlags []middleware.LoreSource

func (l *loreFlags) String() string {
	parts := make([]string, len(*l))
	for i, s := range *l {
		parts[i] = s.Name + "=" + s.Dir
	}
	return strings.Join(parts, ",")
}

func (l *loreFlags) Set(v string) error {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || name == "" || dir == "" {
		return fmt.Errorf("want NAME=DIR, e.g. srd=../shared/data/srd-5.2/src")
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("lore folder %q: not a readable directory", dir)
	}
	*l = append(*l, middleware.LoreSource{Name: name, Dir: dir})
	return nil
}

// stackFlags are the flags every command that opens a Stack shares.
type stackFlags struct {
	data     string
	worldDir string
	lore     loreFlags
	tickHz   float64
	budget   time.Duration
	workers  int
	seed     uint64
	logLevel string
	level    slog.Level // logLevel, parsed by parse
	gcPct    int
	noCache  bool
	bm25Only bool

	// persistCache, semanticCache and semanticThreshold: see
	// middleware.StackConfig.
	persistCache, semanticCache bool
	semanticThreshold           float64

	// modelImportance and modelActions: see middleware.StackConfig.
	modelImportance, modelActions bool
	// model is the embedded neural tier: "shipped" (the model built into
	// the binary), "off", or a GGUF file path. See registerModel.
	model string
	// backends are model backends above the floor, set by commands that
	// configure them (bench -mode baseline); not a flag.
	backends []inference.Model
	// remote is the OpenAI-compatible backend of serve -remote; see
	// registerRemote.
	remote remoteFlag
	// cfg is serve's -config deployment file; see registerConfig.
	cfg configFlags
	// prompts is serve's -prompts; see registerPrompts.
	prompts promptFlags
}

// remoteFlag is serve's -remote, -remote-model and -remote-key-env: one
// OpenAI-compatible model server (llama.cpp, vLLM, a hosted provider)
// above the embedded tier.
type remoteFlag struct {
	url, model, keyEnv string
	key                string // read from keyEnv by check
}

// registerRemote adds -remote, -remote-model and -remote-key-env (serve,
// chat, consistency-eval): bench has its own -remote-url for the baseline.
func (f *stackFlags) registerRemote(fs *flag.FlagSet) {
	fs.StringVar(&f.remote.url, "remote", "", "OpenAI-compatible API root of a model server above the embedded tier,\n"+
		"e.g. http://127.0.0.1:8080/v1 (llama.cpp, vLLM) or https://api.openai.com/v1 (default: none)")
	fs.StringVar(&f.remote.model, "remote-model", "gpt-4o-mini", "with -remote: the model name the server expects")
	fs.StringVar(&f.remote.keyEnv, "remote-key-env", "", "with -remote: name of the environment variable holding the API key, e.g. OPENAI_API_KEY;\n"+
		"never pass the key itself (\"\" = no key, for local servers)")
}

// check validates the remote flags and reads the key, so that a bad URL
// or a missing key fails before any lore is ingested.
func (r *remoteFlag) check() error {
	if r.url == "" {
		if r.keyEnv != "" {
			return fmt.Errorf("-remote-key-env %s: set -remote too", r.keyEnv)
		}
		return nil
	}
	u, err := url.Parse(r.url)
	switch {
	case err != nil:
		return fmt.Errorf("-remote %q: want an http:// or https:// API root, e.g. http://127.0.0.1:8080/v1 (%w)", r.url, err)
	case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
		return fmt.Errorf("-remote %q: want an http:// or https:// API root with a host, e.g. http://127.0.0.1:8080/v1", r.url)
	case u.User != nil:
		// Keys on the command line end up in shell history and ps.
		return fmt.Errorf("-remote %q: remove the credentials from the URL and pass the key with -remote-key-env", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("-remote %q: want an API root without query or fragment", r.url)
	case r.model == "":
		return errors.New("-remote-model: must not be empty with -remote")
	}
	if r.keyEnv != "" {
		if r.key = os.Getenv(r.keyEnv); r.key == "" {
			return fmt.Errorf("-remote-key-env %s: the environment variable is unset or empty", r.keyEnv)
		}
	}
	return nil
}

// Seeds of the Router's estimates for a large model it has not observed
// yet: a hosted model's typical time to first token and decode rate (the
// Router replaces them with what it measures within a few calls).
const (
	remoteExpectedTTFT = 600 * time.Millisecond
	remoteExpectedTPS  = 60
	// remoteQuality ranks the large model above the embedded tier's
	// default of 3.
	remoteQuality = 10
)

// modelServerClient is the HTTP client of a model server backend (-remote,
// the config file's backends): it keeps up to conns idle connections, one
// per request in flight being what a server under load holds open, and
// they expire like http.DefaultTransport's, so a burst does not hold its
// connections (two goroutines each) for ever. They close with the process.
func modelServerClient(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: conns, MaxIdleConns: conns,
		IdleConnTimeout: 90 * time.Second}}
}

// newRemoteBackend returns -remote's OpenAI-compatible backend: tier
// remote, quality remoteQuality, seeded with a hosted model's typical
// latency. It fails as openai.New does (an empty model).
func newRemoteBackend(r remoteFlag) (*openai.Backend, error) {
	// 256 idle connections: a server answering hundreds of players holds
	// that many calls open against a slow model.
	return openai.New(openai.Config{BaseURL: r.url, APIKey: r.key, Model: r.model, HTTPClient: modelServerClient(256),
		Tier: inference.TierRemote, Quality: remoteQuality, ExpectedTTFT: remoteExpectedTTFT, ExpectedTokensPerSecond: remoteExpectedTPS})
}

func (f *stackFlags) register(fs *flag.FlagSet, defaultData string) {
	fs.StringVar(&f.data, "data", defaultData, `data directory for the store ("" = in memory)`)
	fs.StringVar(&f.worldDir, "world", "", "world folder with lore/ and npcs/ (default: the embedded demo village)")
	fs.Var(&f.lore, "lore", "extra lore folder as NAME=DIR (repeatable), e.g. srd=../shared/data/srd-5.2/src")
	fs.Float64Var(&f.tickHz, "tick-hz", 20, "tick rate in Hz; replies are delivered at tick boundaries")
	fs.DurationVar(&f.budget, "budget", 50*time.Millisecond, "default latency budget per request")
	fs.IntVar(&f.workers, "workers", 0, "worker goroutines for model work (0 = GOMAXPROCS: no game loop shares this process;\n"+
		"64 when a model server on the network is configured: workers then wait on sockets)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for reproducible replies")
	fs.StringVar(&f.logLevel, "log", "info", "log level: debug, info, warn, error")
	fs.BoolVar(&f.noCache, "no-cache", false, "turn the exact response cache off (every request is generated)")
	fs.BoolVar(&f.persistCache, "persist-cache", false, "keep a copy of the response cache in the -data store: a restarted server starts warm")
	fs.BoolVar(&f.semanticCache, "semantic-cache", false, "add the semantic cache: a paraphrase of a line an NPC answered gets the same answer (lore embedder; see hearth semcache-eval)")
	fs.Float64Var(&f.semanticThreshold, "semantic-threshold", inference.DefaultSemanticThreshold, "the semantic cache's cosine threshold in [0, 1] (0 = inference.DefaultSemanticThreshold)")
	fs.BoolVar(&f.modelImportance, "model-importance", false, "rate each memory's importance with the best model in 2 s (Park et al.'s prompt), not the keyword heuristic: one model call per memory")
	fs.BoolVar(&f.modelActions, "model-actions", false, "ask the models for NPC actions as structured output ({say, actions} JSON); rules propose them otherwise")
	fs.BoolVar(&f.bm25Only, "bm25-only", false, "lore search by BM25 alone: no embedded LSA embedder, no vector half of hybrid search")
	fs.IntVar(&f.gcPct, "gc-percent", 400, "garbage collector target percentage (GOGC; the GOGC environment variable wins when set).\n"+
		"Fewer collections keep tail latency inside the budget on small machines (docs/benchmarks.md)")
}

// parse parses args into fs and checks the shared flags before any work
// starts, so a typo fails in milliseconds, not after lore ingestion.
func (f *stackFlags) parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags go before it; see -h)", fs.Arg(0))
	}
	if err := f.applyConfig(fs, os.Getenv); err != nil {
		return err
	}
	switch {
	case f.tickHz <= 0 || f.tickHz > 1000:
		return fmt.Errorf("-tick-hz %g: want a rate in Hz, 0 < rate <= 1000", f.tickHz)
	case f.budget <= 0:
		return fmt.Errorf("-budget %v: must be positive", f.budget)
	case f.workers < 0:
		return fmt.Errorf("-workers %d: must be 0 (all cores) or positive", f.workers)
	}
	if err := f.level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("-log %q: want debug, info, warn or error", f.logLevel)
	}
	if f.gcPct <= 0 {
		return fmt.Errorf("-gc-percent %d: must be positive", f.gcPct)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(f.gcPct)
	}
	if f.worldDir != "" {
		if st, err := os.Stat(filepath.Join(f.worldDir, "npcs")); err != nil || !st.IsDir() {
			return fmt.Errorf("-world %q: want a folder with lore/ and npcs/ inside", f.worldDir)
		}
	}
	return f.remote.check()
}

// quiet raises the default log level to warn, for commands that keep the
// terminal for their own output; an explicit -log wins.
func (f *stackFlags) quiet() {
	if f.logLevel == "info" {
		f.level = slog.LevelWarn
	}
}

func (f *stackFlags) open(ctx context.Context, stderr io.Writer) (*middleware.Stack, *slog.Logger, error) {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: f.level}))
	var w fs.FS = world.FS()
	src := world.Source
	if f.worldDir != "" {
		w = os.DirFS(f.worldDir)
		src = "world"
	}
	if f.data != "" {
		if err := os.MkdirAll(f.data, 0o755); err != nil {
			return nil, nil, fmt.Errorf("-data: %w", err)
		}
	}
	backends := f.backends
	if f.model != "" && f.model != "off" {
		eng, err := openModel(f.model, logger)
		if err != nil {
			return nil, nil, err
		}
		logger.Info("embedded model", "model", f.model, "shape", eng.Describe())
		// The Stack owns its backends and closes the engine with them.
		backends = append([]inference.Model{eng}, backends...)
	}
	if f.remote.url != "" {
		rb, err := newRemoteBackend(f.remote)
		if err != nil {
			return nil, nil, fmt.Errorf("-remote: %w", err)
		}
		logger.Info("remote model", "url", f.remote.url, "model", f.remote.model, "backend", rb.Info().Name)
		backends = append(slices.Clip(backends), rb) // never into f.backends' array
	}
	if c := f.cfg.file; c != nil {
		bs, err := configBackends(c, 256) // 256: as -remote's
		if err != nil {
			return nil, nil, err
		}
		for _, b := range bs {
			logger.Info("configured model", "backend", b.Info().Name, "tier", b.Info().Tier, "quality", b.Info().Quality)
		}
		backends = append(slices.Clip(backends), bs...)
	}
	// The runtime's own default keeps a core for the game loop it is
	// embedded in; the CLI hosts it standalone, so every core may work,
	// and with a backend on the network workers mostly wait on sockets
	// (middleware.NetworkWorkers).
	workers := f.workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
		for _, b := range backends {
			if t := b.Info().Tier; t == inference.TierLocal || t == inference.TierRemote {
				workers = middleware.NetworkWorkers
			}
		}
	}
	st, err := middleware.OpenStack(ctx, middleware.StackConfig{
		DataDir: f.data, World: w, WorldSource: src, ExtraLore: f.lore, Logger: logger,
		PersistCache: f.persistCache, SemanticCache: f.semanticCache, SemanticThreshold: f.semanticThreshold,
		Runtime:         middleware.Options{TickRate: f.tickHz, Budget: f.budget, Workers: workers, Seed: f.seed},
		NoCache:         f.noCache,
		Cache:           f.cfg.cache,
		Router:          f.cfg.routerOptions(),
		NoLoreVectors:   f.bm25Only,
		ModelImportance: f.modelImportance,
		ModelActions:    f.modelActions,
		Backends:        backends,
		Prompts:         f.prompts.set,
	})
	return st, logger, err
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/bench"
	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/middleware/server"
	"github.com/prometheus/client_golang/prometheus"
)

func cmdBench(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf stackFlags
	sf.register(fs, "") // in-process server: in-memory store unless -data is given
	sf.registerModel(fs, "off")
	var cfg bench.Config
	mode := fs.String("mode", "closed", "closed: each client talks again as soon as its reply arrives;\n"+
		"open: requests arrive as a Poisson process at -rate whatever the server's speed (docs/benchmarks.md);\n"+
		"baseline: the open-loop load at -rate twice, straight to the large model and through the stack, side by side")
	fs.StringVar(&cfg.URL, "server", "", "server to measure, e.g. ws://127.0.0.1:7777/v1/ws (default: start one in this process on loopback)")
	fs.IntVar(&cfg.Clients, "clients", 200, "concurrent WebSocket clients, each talking continuously (open mode: connections/players the arrivals are spread on)")
	fs.DurationVar(&cfg.Duration, "duration", 30e9, "how long clients talk (open mode: how long requests arrive, per rate)")
	var of openFlags
	of.register(fs)
	var rf remoteFlags
	rf.register(fs)
	fs.StringVar(&cfg.Subprotocol, "subprotocol", "", "hearth.v1.msgpack (default) or hearth.v1.json")
	fs.Uint64Var(&cfg.Seed, "bench-seed", 7, "seed for each client's choice of NPCs and lines")
	jsonOut := fs.String("json", "", "also write the report as JSON to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (server and clients) to this file")
	if err := sf.parse(fs, args); err != nil {
		return err
	}
	if cfg.Clients <= 0 || cfg.Duration <= 0 {
		return fmt.Errorf("-clients %d, -duration %v: both must be positive", cfg.Clients, cfg.Duration)
	}
	switch *mode {
	case "closed":
	case "open":
		if err := of.check(cfg.URL); err != nil {
			return err
		}
	case "baseline":
		if cfg.URL != "" {
			return errors.New("-mode baseline runs both sides in this process: it cannot be combined with -server")
		}
		if err := of.check(""); err != nil {
			return err
		}
	default:
		return fmt.Errorf("-mode %q: want closed, open or baseline", *mode)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *mode == "baseline" {
		return benchBaseline(ctx, &sf, &of, &rf, cfg, args, stdout, stderr)
	}
	if *mode == "open" {
		return benchOpen(ctx, &sf, &of, cfg, args, *jsonOut, stdout, stderr)
	}
	if cfg.URL == "" {
		url, stop, err := loopbackServer(ctx, &sf, stdout, stderr)
		if err != nil {
			return err
		}
		defer stop()
		cfg.URL = url
	}
	fmt.Fprintf(stdout, "%d clients talking for %v…\n", cfg.Clients, cfg.Duration)
	rep, err := bench.Run(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, rep.Markdown())
	if *jsonOut != "" {
		if err := os.WriteFile(*jsonOut, []byte(rep.JSON()+"\n"), 0o644); err != nil {
			return err
		}
	}
	if rep.Late > 0 || rep.OverBudget > 0 {
		return fmt.Errorf("%d replies late, %d over budget", rep.Late, rep.OverBudget)
	}
	return nil
}

// loopbackServer opens the stack the shared flags describe and serves it
// on a free loopback port; stop shuts it down.
func loopbackServer(ctx context.Context, sf *stackFlags, stdout, stderr io.Writer) (url string, stop func(), err error) {
	sf.quiet() // keep the terminal for the command's own output
	st, logger, err := sf.open(ctx, stderr)
	if err != nil {
		return "", nil, err
	}
	srv, err := server.New(st.Runtime, server.Options{Logger: logger, Quests: st.QuestLog,
		Collectors: []prometheus.Collector{inference.NewCollector(st.Router, st.Cache)}})
	if err != nil {
		st.Close()
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		return "", nil, err
	}
	h := srv.Start(ln)
	fmt.Fprintf(stdout, "in-process server on %s (tick %g Hz, budget %v, workers %d, GOMAXPROCS %d)\n",
		h.URL(), st.Runtime.Options().TickRate, st.Runtime.Options().Budget, st.Runtime.Options().Workers, runtime.GOMAXPROCS(0))
	return h.URL(), func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Close(sctx)
		st.Close()
	}, nil
}

// openFlags are the flags of the open-loop mode.
type openFlags struct {
	scenarios string
	rate      float64
	sweep     string
	transport string
	out       string
	mix       string
	drain     time.Duration

	rates     []float64
	scenList  []string
	mixWeight map[bench.Kind]int
}

func (o *openFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&o.scenarios, "scenario", "mixed", "open mode: dialogue, quest, bark or mixed, or a comma list of them")
	fs.Float64Var(&o.rate, "rate", 1000, "open mode: offered load, requests per second (Poisson arrivals)")
	fs.StringVar(&o.sweep, "sweep", "", "open mode: comma list of rates to run in turn, e.g. 500,1000,2000,4000 (replaces -rate)")
	fs.StringVar(&o.transport, "transport", "websocket", "open mode: websocket (to -server, or a loopback server in this process) or inproc (the embedded runtime, no network)")
	fs.StringVar(&o.out, "out", "", "open mode: write report.json, report.md and PNG plots into this folder")
	fs.StringVar(&o.mix, "mix", "dialogue=6,bark=3,quest=1", "open mode: weights of the mixed scenario")
	fs.DurationVar(&o.drain, "drain", 10*time.Second, "open mode: how long to wait for outstanding answers after each run")
}

func (o *openFlags) check(serverURL string) error {
	if o.sweep != "" {
		for _, f := range strings.Split(o.sweep, ",") {
			r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil || r <= 0 {
				return fmt.Errorf("-sweep %q: want positive rates separated by commas", o.sweep)
			}
			o.rates = append(o.rates, r)
		}
	} else {
		if o.rate <= 0 {
			return fmt.Errorf("-rate %g: must be positive", o.rate)
		}
		o.rates = []float64{o.rate}
	}
	for _, sc := range strings.Split(o.scenarios, ",") {
		sc = strings.TrimSpace(sc)
		known := false
		for _, k := range bench.Scenarios {
			known = known || k == sc
		}
		if !known {
			return fmt.Errorf("-scenario %q: want a comma list of %s", o.scenarios, strings.Join(bench.Scenarios, ", "))
		}
		o.scenList = append(o.scenList, sc)
	}
	o.mixWeight = map[bench.Kind]int{}
	for _, f := range strings.Split(o.mix, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		n, err := strconv.Atoi(v)
		switch bench.Kind(k) {
		case bench.KindDialogue, bench.KindBark, bench.KindQuest:
		default:
			ok = false
		}
		if !ok || err != nil || n < 0 {
			return fmt.Errorf("-mix %q: want KIND=WEIGHT,... with kinds dialogue, bark, quest", o.mix)
		}
		o.mixWeight[bench.Kind(k)] = n
	}
	switch o.transport {
	case "websocket":
	case "inproc":
		if serverURL != "" {
			return errors.New("-transport inproc runs the runtime in this process: it cannot be combined with -server")
		}
	default:
		return fmt.Errorf("-transport %q: want websocket or inproc", o.transport)
	}
	if o.drain <= 0 {
		return fmt.Errorf("-drain %v: must be positive", o.drain)
	}
	return nil
}

// benchOpen runs the open-loop benchmark: every scenario at every rate.
func benchOpen(ctx context.Context, sf *stackFlags, of *openFlags, cfg bench.Config, args []string, jsonOut string, stdout, stderr io.Writer) error {
	var (
		tr     bench.Transport
		where  string
		budget time.Duration
	)
	switch {
	case of.transport == "inproc":
		sf.quiet() // keep the terminal for the command's own output
		st, _, err := sf.open(ctx, stderr)
		if err != nil {
			return err
		}
		defer st.Close()
		o := st.Runtime.Options()
		budget = o.Budget
		where = fmt.Sprintf("embedded runtime in the load generator's process (tick %g Hz, budget %v, workers %d)", o.TickRate, o.Budget, o.Workers)
		in := bench.NewInProcess(st.Runtime, cfg.Clients)
		defer in.Close()
		tr = in
	default:
		where = "server at " + cfg.URL
		if cfg.URL == "" {
			url, stop, err := loopbackServer(ctx, sf, stdout, stderr)
			if err != nil {
				return err
			}
			defer stop()
			cfg.URL = url
			budget = sf.budget
			sub := cfg.Subprotocol
			if sub == "" {
				sub = "hearth.v1.msgpack"
			}
			where = fmt.Sprintf("in-process server on loopback (tick %g Hz, budget %v), %s", sf.tickHz, sf.budget, sub)
		}
		ws, err := bench.DialWebSocket(ctx, cfg.URL, cfg.Clients, cfg.Subprotocol)
		if err != nil {
			return err
		}
		defer ws.Close()
		tr = ws
	}
	suite := &bench.Suite{
		Command: "hearth bench " + strings.Join(args, " "),
		Machine: fmt.Sprintf("%s/%s, %d CPUs, GOMAXPROCS %d, %s; %d connections; %s", runtime.GOOS, runtime.GOARCH,
			runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), tr.Players(), where),
	}
	for _, sc := range of.scenList {
		for _, rate := range of.rates {
			fmt.Fprintf(stdout, "%s: %g requests/s for %v over %s…\n", sc, rate, cfg.Duration, tr.Name())
			rep, err := bench.RunOpen(ctx, tr, bench.OpenConfig{Scenario: sc, Rate: rate, Duration: cfg.Duration,
				Seed: cfg.Seed, Mix: of.mixWeight, Drain: of.drain, Budget: budget})
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "  %.0f/s achieved, %d errors, on time %.3f %%, ready p99 %.2f ms, max %.2f ms\n",
				rep.AchievedRate, rep.Errors, 100*rep.OnTimeShare, rep.Ready.P99, rep.Ready.Max)
			suite.Runs = append(suite.Runs, &rep)
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, suite.Markdown())
	if jsonOut != "" {
		if err := os.WriteFile(jsonOut, []byte(suite.JSON()+"\n"), 0o644); err != nil {
			return err
		}
	}
	if of.out != "" {
		paths, err := suite.WriteDir(of.out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", strings.Join(paths, ", "))
	}
	return nil
}

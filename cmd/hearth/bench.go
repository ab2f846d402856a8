package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/hearth-ai/hearth/bench"
	"github.com/hearth-ai/hearth/middleware/server"
)

func cmdBench(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf stackFlags
	sf.register(fs, "") // in-process server: in-memory store unless -data is given
	var cfg bench.Config
	fs.StringVar(&cfg.URL, "server", "", "server to measure, e.g. ws://127.0.0.1:7777/v1/ws (default: start one in this process on loopback)")
	fs.IntVar(&cfg.Clients, "clients", 200, "concurrent WebSocket clients, each talking continuously")
	fs.DurationVar(&cfg.Duration, "duration", 30e9, "how long clients talk")
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
	if cfg.URL == "" {
		if sf.logLevel == "info" {
			sf.logLevel = "warn"
		}
		st, logger, err := sf.open(ctx, stderr)
		if err != nil {
			return err
		}
		defer st.Close()
		srv, err := server.New(st.Runtime, server.Options{Logger: logger, Quests: st.QuestLog})
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		serveCtx, stopServe := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- serve(serveCtx, st, srv, ln, io.Discard) }()
		defer func() { stopServe(); <-done }()
		cfg.URL = "ws://" + ln.Addr().String() + "/v1/ws"
		fmt.Fprintf(stdout, "in-process server on %s (tick %g Hz, budget %v, workers %d, GOMAXPROCS %d)\n",
			cfg.URL, st.Runtime.Options().TickRate, st.Runtime.Options().Budget, st.Runtime.Options().Workers, runtime.GOMAXPROCS(0))
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

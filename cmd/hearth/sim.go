package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/sim"
)

// cmdSim runs the headless simulation (package sim): simulated players on
// the demo world, in-process or against a running server, and prints a
// summary with the event log's hash.
func cmdSim(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("hearth sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	players := fs.Int("players", 10, "simulated players")
	npcs := fs.Int("npcs", 0, "NPCs in-process: the demo world's, plus generated villagers up to this number")
	ticks := fs.Int("ticks", 200, "sim ticks to run (one game minute each)")
	seed := fs.Uint64("seed", 1, "seed of the players and the runtime: the same seed gives the same event log")
	url := fs.String("server", "", "run against a hearth server, e.g. ws://127.0.0.1:7777/v1/ws (default: in-process)")
	concurrent := fs.Bool("concurrent", false, "with -server: send each tick's requests from all players at once (faster; reply texts are then not reproducible)")
	budget := fs.Duration("budget", 10*time.Second, "budget of each request: a long one keeps the log reproducible (no answer depends on timing)")
	logPath := fs.String("log", "", "write the event log to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *budget <= 0 || *budget > time.Hour {
		return fmt.Errorf("-budget %v: want 0 < budget <= 1h", *budget)
	}
	if *players <= 0 || *ticks <= 0 {
		return fmt.Errorf("-players %d, -ticks %d: both must be positive", *players, *ticks)
	}
	cfg := sim.Config{Players: *players, Ticks: *ticks, Seed: *seed}
	if *logPath != "" {
		f, err := os.Create(*logPath)
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 1<<16)
		defer func() {
			err = errors.Join(err, w.Flush(), f.Close())
		}()
		cfg.Log = w
	}
	var res sim.Result
	mode := "in-process"
	if *url == "" {
		res, err = runSimInProcess(ctx, *npcs, *budget, cfg)
	} else {
		mode = "websocket " + *url
		if *npcs != 0 {
			fmt.Fprintln(stderr, "hearth sim: -npcs is ignored with -server (the server's NPCs are used)")
		}
		res, err = runSimWS(ctx, *url, *concurrent, uint32(budget.Milliseconds()), cfg)
	}
	if err != nil {
		return err
	}
	printSimSummary(stdout, mode, res)
	return nil
}

func runSimInProcess(ctx context.Context, npcs int, budget time.Duration, cfg sim.Config) (_ sim.Result, err error) {
	tr, err := sim.NewInProcess(ctx, sim.InProcessConfig{NPCs: npcs, Seed: cfg.Seed, Budget: budget})
	if err != nil {
		return sim.Result{}, err
	}
	defer func() { err = errors.Join(err, tr.Close()) }()
	return sim.Run(ctx, tr, tr.World(), cfg)
}

func runSimWS(ctx context.Context, url string, concurrent bool, budgetMS uint32, cfg sim.Config) (_ sim.Result, err error) {
	w, err := sim.DemoWorld()
	if err != nil {
		return sim.Result{}, err
	}
	tr, err := sim.NewWebSocket(ctx, sim.WebSocketConfig{URL: url, Players: cfg.Players, Concurrent: concurrent,
		BudgetMS: budgetMS})
	if err != nil {
		return sim.Result{}, err
	}
	defer func() { err = errors.Join(err, tr.Close()) }()
	return sim.Run(ctx, tr, w, cfg)
}

func printSimSummary(out io.Writer, mode string, r sim.Result) {
	fmt.Fprintf(out, "hearth sim: %s, %d players, %d NPCs, %d ticks\n", mode, r.Players, r.NPCs, r.Ticks)
	fmt.Fprintf(out, "  actions:  %s\n", countList(r.Actions))
	fmt.Fprintf(out, "  replies:  %s (errors %d)\n", countList(r.Replies), r.Errors)
	fmt.Fprintf(out, "  quests:   offered %d, accepted %d, completed %d\n", r.QuestsOffered, r.QuestsAccepted, r.QuestsCompleted)
	fmt.Fprintf(out, "  on time:  %.2f %% of %d answers\n", 100*r.OnTimeShare(), r.Answered)
	fmt.Fprintf(out, "  log:      %d lines, sha256 %s\n", r.Lines, r.Hash)
	fmt.Fprintf(out, "  speed:    %.1f ticks/s (%v), heap %.1f MiB (%.1f MiB live after GC)\n", r.TicksPerSecond(),
		r.Elapsed.Round(1e6), float64(r.HeapAlloc)/(1<<20), float64(r.LiveHeap)/(1<<20))
}

// countList formats counts as "a 3, b 5" in key order.
func countList(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

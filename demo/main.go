// Command demo is a playable top-down game of Hearth's demo village,
// Kettleford, drawn entirely in code with Ebitengine. Walk up to an NPC,
// press E and type; the reply streams into the dialogue box from the
// embedded Hearth runtime (or a server, with -server). Q asks for a quest,
// L shows the quest log, and walking to places advances objectives.
//
//	go run ./demo
//	go run ./demo -server ws://127.0.0.1:7777/v1/ws
//	xvfb-run -a go run ./demo -load 20 -duration 20s   # Update p50/p99/max under load
//
// See docs/demo.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/hajimehoshi/ebiten/v2"

	v "github.com/hearth-ai/hearth/demo/village"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/sim/world"
)

// tps is the game's tick rate; the runtime is told the same, so replies
// are due at the game's own tick boundaries.
const tps = 60

// loreFlags collects repeated -lore NAME=DIR flags.
type loreFlags []middleware.LoreSource

func (l *loreFlags) String() string {
	var parts []string
	for _, s := range *l {
		parts = append(parts, s.Name+"="+s.Dir)
	}
	return strings.Join(parts, ",")
}

func (l *loreFlags) Set(v string) error {
	name, dir, ok := strings.Cut(v, "=")
	if !ok || name == "" || dir == "" {
		return fmt.Errorf("want NAME=DIR, got %q", v)
	}
	*l = append(*l, middleware.LoreSource{Name: name, Dir: dir})
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", "", "talk to a running server, e.g. ws://127.0.0.1:7777/v1/ws (default: the embedded runtime)")
	data := fs.String("data", "", `embedded: data directory for NPC memories and quest logs ("" = in memory)`)
	var lore loreFlags
	fs.Var(&lore, "lore", "embedded: extra lore folder as NAME=DIR (repeatable)")
	player := fs.String("player", "player-1", "your player id")
	name := fs.String("name", "Traveller", "your name, as NPCs should call you")
	level := fs.Int("level", 3, "your level (quests are suited to it)")
	seed := fs.Uint64("seed", 1, "embedded: seed for reproducible replies")
	load := fs.Int("load", 0, "keep N conversations with random NPCs in flight in the background and report Update p50/p99/max on exit")
	duration := fs.Duration("duration", 0, "quit after this long (0: when the window closes or the script ends)")
	script := fs.String("script", "", "scripted input: a file, or the steps themselves (see -help-script)")
	helpScript := fs.Bool("help-script", false, "describe the -script language")
	shots := fs.String("screenshots", "", "folder for the script's screenshots (default: the current folder)")
	logLevel := fs.String("log", "warn", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *helpScript {
		fmt.Fprintln(stdout, v.ScriptHelp)
		return nil
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *load < 0 || *level < 1 || *duration < 0 {
		return errors.New("-load and -duration must not be negative, -level at least 1")
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log %q: want debug, info, warn or error", *logLevel)
	}
	var runner *v.Runner
	if *script != "" {
		steps, err := v.LoadScript(*script)
		if err != nil {
			return err
		}
		runner = v.NewRunner(steps) // an empty script ends the game at once
	}
	if *shots != "" {
		if err := os.MkdirAll(*shots, 0o755); err != nil {
			return fmt.Errorf("-screenshots: %w", err)
		}
	}
	m, w, err := v.LoadMap(world.FS())
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	be, err := v.OpenBackend(ctx, v.BackendConfig{Server: *server, Player: *player, Name: *name, DataDir: *data,
		Lore: lore, TickRate: tps, Seed: *seed, Logger: logger})
	if err != nil {
		return err
	}
	defer be.Close()

	g := &Game{script: runner, shotDir: *shots, meter: v.Meter{Warmup: warmupTicks},
		st: v.NewState(m, w, be, v.Config{Player: *player, Level: *level, Out: stdout})}
	if *duration > 0 {
		g.stopAt = time.Now().Add(*duration)
	}
	if *load > 0 {
		ids := make([]string, len(m.NPCs))
		for i, n := range m.NPCs {
			ids[i] = n.ID
		}
		be.StartLoad(*load, ids, *seed)
	}
	go func() {
		// Ctrl-C in the terminal closes the window like its close button.
		<-ctx.Done()
		g.interrupt()
	}()

	ebiten.SetWindowSize(screenW, screenH)
	ebiten.SetWindowTitle("Hearth — Kettleford")
	ebiten.SetTPS(tps)
	// Keep running (and measuring) when the window loses focus.
	ebiten.SetRunnableOnUnfocused(true)
	runErr := ebiten.RunGame(g)

	s := g.meter.Stats()
	done, failed := be.LoadStats()
	fmt.Fprintf(stdout, "updates\t%d ticks\tp50 %s\tp99 %s\tmax %s\tTPS %.1f\tload %d in flight, %d replies, %d errors\n",
		s.Ticks, fmtDur(s.P50), fmtDur(s.P99), fmtDur(s.Max), s.TPS, *load, done, failed)
	if runErr != nil && !errors.Is(runErr, ebiten.Termination) {
		return fmt.Errorf("%w (%v)", errNoDisplay, runErr)
	}
	return g.err
}

// errNoDisplay explains the usual reason ebiten cannot start.
var errNoDisplay = errors.New("the window could not start: run under X11 (or xvfb-run -a) with the packages listed in docs/demo.md")

func fmtDur(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
}

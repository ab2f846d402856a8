package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"time"
	"unicode"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/hearth-ai/hearth/quest"
	"github.com/hearth-ai/hearth/sim/world"
)

// questReport is what "hearth quests" measures on one world.
type questReport struct {
	World    string `json:"world"`
	Requests int    `json:"requests"`
	Quests   int    `json:"quests"` // requests that got a quest
	Errors   int    `json:"errors"` // requests that got an error
	// Valid: quests with no Validate problem; Consistent: quests with no
	// unknown proper noun in title, description or dialogue.
	Valid          int     `json:"valid"`
	ValidPct       float64 `json:"valid_pct"`
	Consistent     int     `json:"consistent"`
	ConsistentPct  float64 `json:"consistent_pct"`
	Fallbacks      int     `json:"fallbacks"`
	Repaired       int     `json:"repaired"`
	Structures     int     `json:"structures"`          // distinct motivation × action sequences
	StructuresPoss int     `json:"structures_possible"` // in the grammar
	Distinct2      float64 `json:"distinct_2"`          // Li et al. 2016, over descriptions and dialogues
	Bigrams        int     `json:"bigrams"`
	// Latency of Generate in microseconds, from an HDR histogram.
	P50us float64 `json:"p50_us"`
	P99us float64 `json:"p99_us"`
	MaxUs float64 `json:"max_us"`
	// Problems lists the first few invalid quests' problems, for a report
	// that is not 100 %.
	Problems []string `json:"problems,omitempty"`
}

// questsOutput is the JSON file "hearth quests -json" writes.
type questsOutput struct {
	Command    string        `json:"command"`
	GOMAXPROCS int           `json:"gomaxprocs"`
	NumCPU     int           `json:"num_cpu"`
	GOOS       string        `json:"goos"`
	GOARCH     string        `json:"goarch"`
	GoVersion  string        `json:"go_version"`
	Worlds     []questReport `json:"worlds"`
}

func cmdQuests(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("hearth quests", flag.ContinueOnError)
	flags.SetOutput(stderr)
	which := flags.String("world", "both", "world to measure: demo, srd or both")
	srdDir := flags.String("srd", "../shared/data/srd-5.2/src", "SRD 5.2 src folder the srd world is built from")
	n := flags.Int("n", 1000, "quests to generate per world")
	seed := flags.Uint64("seed", 1, "seed of the first request; request i uses seed+i")
	jsonOut := flags.String("json", "", "also write the report as JSON to this file")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: hearth quests [-world demo|srd|both] [-srd DIR] [-n 1000] [-seed 1] [-json FILE]")
		fmt.Fprintln(stderr, "Generates n quests per world with varied requests and reports validity, lore consistency, diversity and latency.")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags go before it; see -h)", flags.Arg(0))
	}
	if *n < 1 {
		return fmt.Errorf("-n %d: want at least 1 quest per world", *n)
	}
	var worlds []*quest.World
	switch *which {
	case "demo", "srd", "both":
	default:
		return fmt.Errorf("-world %q: want demo, srd or both", *which)
	}
	if *which != "srd" {
		data, err := fs.ReadFile(world.FS(), "quest.yaml")
		if err != nil {
			return err
		}
		w, err := quest.LoadWorld("kettleford", data)
		if err != nil {
			return fmt.Errorf("demo world: %w", err)
		}
		worlds = append(worlds, w)
	}
	if *which != "demo" {
		if st, err := os.Stat(*srdDir); err != nil || !st.IsDir() {
			if *which == "srd" {
				return fmt.Errorf("-srd %q: not a readable directory (the SRD 5.2 src folder, usually ../shared/data/srd-5.2/src)", *srdDir)
			}
			fmt.Fprintf(stderr, "hearth quests: srd world skipped: no SRD 5.2 at %s (set -srd)\n", *srdDir)
		} else {
			w, err := quest.SRDWorld(*srdDir)
			if err != nil {
				return fmt.Errorf("srd world: %w", err)
			}
			worlds = append(worlds, w)
		}
	}
	out := questsOutput{
		Command:    "hearth quests " + strings.Join(args, " "),
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(),
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, GoVersion: runtime.Version(),
	}
	for _, w := range worlds {
		rep, err := measureQuests(ctx, w, *n, *seed)
		if err != nil {
			return err
		}
		out.Worlds = append(out.Worlds, rep)
	}
	printQuestsTable(stdout, out, *n, *seed)
	if *jsonOut != "" {
		data, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(data, '\n'), 0o644); err != nil {
			return fmt.Errorf("-json: %w", err)
		}
	}
	for _, r := range out.Worlds {
		if r.Valid != r.Quests || r.Consistent != r.Quests {
			return fmt.Errorf("world %s: %d of %d quests valid, %d consistent; first problems: %s",
				r.World, r.Valid, r.Quests, r.Consistent, strings.Join(r.Problems, "; "))
		}
	}
	return nil
}

// questRequests spreads n requests over w: levels drawn across the world's
// range and locations across its places (from a PCG seeded by seed), the
// nine motivations and "any" in turn, seeds seed..seed+n-1.
func questRequests(w *quest.World, n int, seed uint64) []quest.Request {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	places := w.Places()
	kinds := append([]quest.Motivation{""}, quest.Motivations...)
	out := make([]quest.Request, n)
	for i := range out {
		out[i] = quest.Request{
			PlayerID:   fmt.Sprintf("player-%d", i%50),
			Level:      w.MinLevel + rng.IntN(w.MaxLevel-w.MinLevel+1),
			Location:   places[rng.IntN(len(places))],
			Motivation: kinds[i%len(kinds)],
			Seed:       seed + uint64(i),
		}
	}
	return out
}

// measureQuests generates n quests on w, one request at a time with the
// cache off (so each is planned), and measures them.
func measureQuests(ctx context.Context, w *quest.World, n int, seed uint64) (questReport, error) {
	g, err := quest.NewGenerator(w, quest.GeneratorOptions{CacheSize: -1})
	if err != nil {
		return questReport{}, err
	}
	rep := questReport{World: w.Name, Requests: n, StructuresPoss: len(quest.Grammar())}
	hist := hdrhistogram.New(1, 10_000_000_000, 3) // ns, 1 ns .. 10 s
	structures := map[string]bool{}
	bigrams := map[[2]string]bool{}
	for _, req := range questRequests(w, n, seed) {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		start := time.Now()
		q, info, err := g.GenerateInfo(ctx, req)
		_ = hist.RecordValue(max(time.Since(start).Nanoseconds(), 1))
		if err != nil {
			if !errors.Is(err, quest.ErrNoSuitableQuest) {
				return rep, fmt.Errorf("world %s: request %+v: %w", w.Name, req, err)
			}
			rep.Errors++
			continue
		}
		rep.Quests++
		if info.Fallback {
			rep.Fallbacks++
		}
		if info.Repairs > 0 {
			rep.Repaired++
		}
		if ps := quest.Validate(w, q, req.Level); len(ps) == 0 {
			rep.Valid++
		} else if len(rep.Problems) < 5 {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s: %v", q.ID, ps))
		}
		consistent := true
		for _, text := range []string{q.Title, q.Description, q.Dialogue} {
			if u := quest.UnknownProperNouns(w, text); len(u) > 0 {
				consistent = false
				if len(rep.Problems) < 5 {
					rep.Problems = append(rep.Problems, fmt.Sprintf("%s: unknown %q", q.ID, u))
				}
			}
		}
		if consistent {
			rep.Consistent++
		}
		acts := make([]string, len(q.Objectives))
		for i, o := range q.Objectives {
			acts[i] = string(o.Action)
		}
		structures[string(q.Motivation)+":"+strings.Join(acts, ",")] = true
		for _, text := range []string{q.Description, q.Dialogue} {
			words := textWords(text)
			for i := 1; i < len(words); i++ {
				bigrams[[2]string{words[i-1], words[i]}] = true
				rep.Bigrams++
			}
		}
	}
	rep.Structures = len(structures)
	if rep.Quests > 0 {
		rep.ValidPct = 100 * float64(rep.Valid) / float64(rep.Quests)
		rep.ConsistentPct = 100 * float64(rep.Consistent) / float64(rep.Quests)
	}
	if rep.Bigrams > 0 {
		rep.Distinct2 = float64(len(bigrams)) / float64(rep.Bigrams)
	}
	rep.P50us = float64(hist.ValueAtQuantile(50)) / 1e3
	rep.P99us = float64(hist.ValueAtQuantile(99)) / 1e3
	rep.MaxUs = float64(hist.Max()) / 1e3
	return rep, nil
}

// textWords splits text into lower-case words (letters, digits and inner
// apostrophes or hyphens), the tokens distinct-n counts.
func textWords(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '-'
	})
}

func printQuestsTable(w io.Writer, out questsOutput, n int, seed uint64) {
	fmt.Fprintf(w, "%d quests per world, request seeds %d..%d, cache off, %s/%s, GOMAXPROCS=%d (%d CPUs), %s\n\n",
		n, seed, seed+uint64(n)-1, out.GOOS, out.GOARCH, out.GOMAXPROCS, out.NumCPU, out.GoVersion)
	header := "| metric |"
	sep := "| --- |"
	for _, r := range out.Worlds {
		header += " " + r.World + " |"
		sep += " --- |"
	}
	fmt.Fprintln(w, header)
	fmt.Fprintln(w, sep)
	row := func(name string, cell func(r questReport) string) {
		line := "| " + name + " |"
		for _, r := range out.Worlds {
			line += " " + cell(r) + " |"
		}
		fmt.Fprintln(w, line)
	}
	pct := func(a, b int) string {
		if b == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f %%", 100*float64(a)/float64(b))
	}
	row("quests (errors)", func(r questReport) string { return fmt.Sprintf("%d (%d)", r.Quests, r.Errors) })
	row("validity", func(r questReport) string { return pct(r.Valid, r.Quests) })
	row("lore consistency", func(r questReport) string { return pct(r.Consistent, r.Quests) })
	row("structures (motivation × actions)", func(r questReport) string {
		return fmt.Sprintf("%d of %d (%s)", r.Structures, r.StructuresPoss, pct(r.Structures, r.StructuresPoss))
	})
	row("text diversity distinct-2", func(r questReport) string { return fmt.Sprintf("%.3f (%d bigrams)", r.Distinct2, r.Bigrams) })
	row("latency p50 / p99 / max", func(r questReport) string {
		return fmt.Sprintf("%s / %s / %s", fmtMicros(r.P50us), fmtMicros(r.P99us), fmtMicros(r.MaxUs))
	})
	row("fallback quests", func(r questReport) string { return fmt.Sprintf("%d (%s)", r.Fallbacks, pct(r.Fallbacks, r.Quests)) })
	row("repaired quests", func(r questReport) string { return fmt.Sprintf("%d", r.Repaired) })
}

func fmtMicros(us float64) string {
	if us >= 1000 {
		return fmt.Sprintf("%.2f ms", us/1000)
	}
	return fmt.Sprintf("%.0f µs", us)
}

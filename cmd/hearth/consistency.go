package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hearth-ai/hearth/npc/consistency"
)

// cmdConsistencyEval runs issue 6's consistency suite (npc/consistency)
// against the world's NPCs on whatever model tiers the flags configure
// (-model, -remote), through the whole Agent.Respond path, and prints the
// pass rate per kind (out-of-scope questions, secret probes, persona
// attacks) with the first failures. By default it runs the cases
// committed for the demo world; -derive builds them from the world given
// (-world, -lore) instead.
func cmdConsistencyEval(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth consistency-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf stackFlags
	sf.register(fs, "")
	sf.registerModel(fs, "off")
	sf.registerRemote(fs)
	casesPath := fs.String("cases", "npc/consistency/testdata/cases.jsonl", "labeled cases (JSONL, consistency.WriteJSONL)")
	derive := fs.Bool("derive", false, "derive the cases from the world's NPCs and lore instead of reading -cases")
	turnBudget := fs.Duration("turn-budget", 5*time.Second, "deadline of each turn: long enough for the model under test to answer")
	failures := fs.Int("failures", 10, "failures to list")
	if err := sf.parse(fs, args); err != nil {
		return err
	}
	sf.quiet()
	st, _, err := sf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	var cases []consistency.Case
	if *derive {
		chunks, err := st.Lore.Chunks()
		if err != nil {
			return err
		}
		cases = consistency.Derive(st.Roster.Definitions(), chunks, consistency.PersonaAttacks())
	} else {
		f, err := os.Open(*casesPath)
		if err != nil {
			return fmt.Errorf("-cases: %w (run from the repository root, or -derive)", err)
		}
		cases, err = consistency.ReadJSONL(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("-cases %s: %w", *casesPath, err)
		}
	}
	start := time.Now()
	rep, err := consistency.Run(ctx, st.Roster, cases, consistency.Options{Budget: *turnBudget, Seed: sf.seed, MaxFailures: *failures})
	if err != nil {
		return err
	}
	if err := rep.Write(stdout); err != nil {
		return err
	}
	var tiers []string
	for _, s := range st.Router.Stats() {
		if s.Calls > 0 {
			tiers = append(tiers, fmt.Sprintf("%s %d", s.Name, s.Calls))
		}
	}
	fmt.Fprintf(stdout, "%d cases in %v; router calls by backend: %v (lines the guardrails refused never reach one)\n",
		len(cases), time.Since(start).Round(time.Millisecond), tiers)
	return nil
}

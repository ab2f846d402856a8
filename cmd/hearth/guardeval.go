package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/hearth-ai/hearth/npc/guard"
)

// cmdGuardEval prints the guardrails' detection rate (recall) per
// category and false-positive rate on the labeled sets of package guard
// (npc/guard/testdata: player lines for the input checks, NPC replies for
// the output filters), with the default limits and, for outputs, each
// line's rating and NPC context: first the tuned sets, then the held-out
// ones. The sets are compiled into the binary.
func cmdGuardEval(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth guard-eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	misses := fs.Bool("misses", false, "list the lines counted against each score")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hearth guard-eval [-misses]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	type job struct {
		eval func(string) (guard.Report, error)
		set  string
	}
	jobs := []job{{guard.EvalInputsSet, guard.SetMain}, {guard.EvalOutputsSet, guard.SetMain},
		{guard.EvalInputsSet, guard.SetHeldOut}, {guard.EvalOutputsSet, guard.SetHeldOut}}
	for i, j := range jobs {
		if i == 2 {
			fmt.Fprintln(stdout, "held out (never tuned against: the estimate for new phrasings):")
		}
		r, err := j.eval(j.set)
		if err != nil {
			return err
		}
		fmt.Fprint(stdout, r)
		if *misses {
			for _, s := range r.Scores {
				for _, m := range s.Misses {
					fmt.Fprintf(stdout, "    %s %s\n", s.Label, m)
				}
			}
		}
	}
	fmt.Fprintln(stdout, "detection: share of each attack category blocked with its reason; false positives: share of benign/ok lines blocked.")
	fmt.Fprintln(stdout, "inputs.tsv and outputs.tsv were written alongside the patterns (coverage); the held-out sets were not (generalisation).")
	return nil
}

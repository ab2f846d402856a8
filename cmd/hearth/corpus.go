package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/npc/corpus"
)

// cmdCorpus generates the embedded model's training corpus (and, with
// -eval-out, the labeled evaluation set) from a world's lore and NPCs; see
// package npc/corpus.
func cmdCorpus(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("hearth corpus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// Only the stack flags that change what the NPCs know: the world, extra
	// lore and the lore search (the rest keep their defaults).
	sf := stackFlags{tickHz: 20, budget: 50 * time.Millisecond, logLevel: "warn", gcPct: 400}
	fs.StringVar(&sf.worldDir, "world", "", "world folder with lore/ and npcs/ (default: the embedded demo village)")
	fs.Var(&sf.lore, "lore", "extra lore folder as NAME=DIR (repeatable)")
	fs.BoolVar(&sf.bm25Only, "bm25-only", false, "lore search by BM25 alone (must match how the model will be served)")
	fs.Uint64Var(&sf.seed, "seed", 1, "seed: the same world, flags and seed give the same bytes")
	out := fs.String("out", "corpus.jsonl", `training corpus JSONL ("-" = stdout, "" = none)`)
	evalOut := fs.String("eval-out", "", "also write the labeled evaluation set here, e.g. npc/corpus/testdata/eval.jsonl")
	counterfactual := fs.Float64("counterfactual", 0, "share of lore answers that also get a counterfactual copy (a few words of the fact replaced in lore, question and answer), which only copying from the prompt can answer (0..1)")
	splice := fs.Float64("splice", 0, "share of lore answers that also get a spliced copy (the fact's head joined to another sentence's tail, in lore and answer), which only copying from the prompt can answer (0..1)")
	drills := fs.String("drills", "", "also write every lore answer again without the persona prefix, as short copy drills, to this JSONL file (with -perturbed-only: only the perturbed copies)")
	shuffle := fs.Float64("shuffle", 0, "share of lore answers that also get a copy with the fact's words in a random order (in lore and answer), which only copying word by word can answer (0..1)")
	perturbedOnly := fs.Bool("perturbed-only", false, "write only the counterfactual and spliced copies of lore answers, not the answers as asked")
	cfWords := fs.Int("counterfactual-words", 0, "most content words of a fact one counterfactual copy replaces (0: the default, 3)")
	copyOut := fs.String("copy-drills", "", "also write synthetic copy drills (lines of random world words the answer copies; the first stages of the model's copy curriculum, docs/models.md) to this JSONL file")
	copyLayout := fs.String("copy-layout", "bare", `copy drills' layout: "bare" ("copy: <words>\nagain:") or "npc" (the small dialogue prompt, three lore lines, the first copied)`)
	copyItems := fs.Int("copy-items", 20000, "copy drills to write")
	copyConfusable := fs.Float64("copy-confusable", 0, "share of npc-layout copy drills whose copied line repeats a span of itself and whose other lines start as it does (0..1)")
	perSentence := fs.Int("per-sentence", 0, "questions per lore sentence per NPC that may know it (0: the default, 8)")
	outOfScope := fs.Int("out-of-scope", 0, "questions per NPC about lore outside its scope (0: the default, 150)")
	greetings := fs.Int("greetings", 0, "greetings per NPC (0: the default, 120)")
	farewells := fs.Int("farewells", 0, "farewells per NPC (0: the default, 60)")
	barks := fs.Int("barks", 0, "barks per NPC (0: the default, 60)")
	quests := fs.Int("quests", 0, "quest offers per quest-giving NPC (0: the default, 200)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hearth corpus [-world DIR] [-out corpus.jsonl] [-eval-out FILE] [-seed N] [-per-sentence N] [...]")
		fs.PrintDefaults()
	}
	if err := sf.parse(fs, args); err != nil {
		return err
	}
	if *out == "" && *evalOut == "" && *copyOut == "" {
		return errors.New("nothing to write: set -out, -eval-out and/or -copy-drills")
	}
	sf.data = "" // in memory: a corpus never touches a data directory
	st, _, err := sf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	w, err := corpusWorld(st)
	if err != nil {
		return err
	}
	report := stdout
	if *out == "-" {
		report = stderr
	}
	// NPC-layout copy drills borrow personas and leads from the corpus's
	// lore answers, so they generate it even when it is not written.
	npcDrills := *copyOut != "" && corpus.CopyLayout(*copyLayout) == corpus.CopyNPC
	var loreQA []corpus.Item
	if *out != "" || npcDrills {
		opts := corpus.Options{Seed: sf.seed, PerSentence: *perSentence, OutOfScope: *outOfScope,
			Greetings: *greetings, Farewells: *farewells, Barks: *barks, QuestOffers: *quests,
			Counterfactual: *counterfactual, CounterfactualWords: *cfWords, Splice: *splice,
			Shuffle: *shuffle, PerturbedOnly: *perturbedOnly}
		start := time.Now()
		var drilled []corpus.Item
		opts.Emitted = func(it corpus.Item) {
			if it.Kind != corpus.KindLoreQA {
				return
			}
			if *drills != "" {
				drilled = append(drilled, it.Drill())
			}
			if npcDrills {
				loreQA = append(loreQA, it)
			}
		}
		stats, err := writeCorpus(ctx, *out, stdout, w, opts)
		if err != nil {
			return err
		}
		if *out != "" {
			fmt.Fprintf(report, "corpus: %s in %.1fs (seed %d)\n", *out, time.Since(start).Seconds(), sf.seed)
		}
		if *drills != "" {
			if err := writeFileAtomic(*drills, func(bw io.Writer) error { return corpus.WriteJSONL(bw, drilled) }); err != nil {
				return err
			}
			fmt.Fprintf(report, "drills: %s: %d lore answers without the persona prefix\n", *drills, len(drilled))
		}
		if *out != "" {
			if err := stats.Write(report); err != nil {
				return err
			}
		}
	}
	if *copyOut != "" {
		items, err := corpus.CopyDrills(w, loreQA, corpus.CopyOptions{Seed: sf.seed, Items: *copyItems,
			Layout: corpus.CopyLayout(*copyLayout), Confusable: *copyConfusable})
		if err != nil {
			return err
		}
		if err := writeFileAtomic(*copyOut, func(bw io.Writer) error { return corpus.WriteJSONL(bw, items) }); err != nil {
			return err
		}
		fmt.Fprintf(report, "copy drills: %s: %d in the %s layout\n", *copyOut, len(items), *copyLayout)
	}
	if *evalOut != "" {
		items, err := corpus.GenerateEval(ctx, w, sf.seed)
		if err != nil {
			return err
		}
		if err := writeFileAtomic(*evalOut, func(bw io.Writer) error { return corpus.WriteJSONL(bw, items) }); err != nil {
			return err
		}
		n := map[corpus.Kind]int{}
		for _, it := range items {
			n[it.Kind]++
		}
		fmt.Fprintf(report, "eval: %s: %d lore_qa, %d quest_offer items\n", *evalOut, n[corpus.KindLoreQA], n[corpus.KindQuestOffer])
	}
	return nil
}

// corpusWorld is the corpus.World of an open stack.
func corpusWorld(st *middleware.Stack) (corpus.World, error) {
	chunks, err := st.Lore.Chunks()
	if err != nil {
		return corpus.World{}, err
	}
	return corpus.World{Lore: st.Lore, Chunks: chunks, NPCs: st.Roster.Definitions(), Quests: st.QuestWorld}, nil
}

// writeCorpus generates the corpus into path ("-": stdout; "": nowhere,
// for what opts.Emitted collects) and returns its statistics.
func writeCorpus(ctx context.Context, path string, stdout io.Writer, w corpus.World, opts corpus.Options) (corpus.Stats, error) {
	var stats corpus.Stats
	write := func(bw io.Writer) error {
		enc := corpus.NewEncoder(bw)
		var err error
		stats, err = corpus.Generate(ctx, w, opts, enc.Encode)
		return err
	}
	switch path {
	case "": // generated for what Options.Emitted collects, not written
		return corpus.Generate(ctx, w, opts, func(corpus.Item) error { return nil })
	case "-":
		bw := bufio.NewWriterSize(stdout, 1<<16)
		if err := write(bw); err != nil {
			return stats, err
		}
		return stats, bw.Flush()
	}
	return stats, writeFileAtomic(path, write)
}

// writeFileAtomic writes path through a temporary file in its folder,
// renamed over path only when write and the flush succeed, so a failed
// run never leaves half a file.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

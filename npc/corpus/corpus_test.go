package corpus_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/npc/corpus"
	"github.com/hearth-ai/hearth/sim/world"
	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite testdata/eval.jsonl and schemas/quest_offer.json from the generator")

var (
	demoOnce  sync.Once
	demoWorld corpus.World
	demoStack *middleware.Stack
	demoErr   error
)

// demo opens the embedded demo world the way the CLI does (middleware.
// OpenStack: the same lore ingestion, LSA hybrid search and roster), once
// per test binary.
func demo(t testing.TB) corpus.World {
	t.Helper()
	demoOnce.Do(func() {
		st, err := middleware.OpenStack(context.Background(), middleware.StackConfig{World: world.FS(),
			WorldSource: world.Source, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			demoErr = err
			return
		}
		demoStack = st
		chunks, err := st.Lore.Chunks()
		if err != nil {
			demoErr = err
			return
		}
		demoWorld = corpus.World{Lore: st.Lore, Chunks: chunks, NPCs: st.Roster.Definitions(), Quests: st.QuestWorld}
	})
	if demoErr != nil {
		t.Fatal(demoErr)
	}
	return demoWorld
}

// testRun adapts a function to goleak.TestingM.
type testRun func() int

func (f testRun) Run() int { return f() }

func TestMain(m *testing.M) {
	flag.Parse()
	// The shared demo stack is closed before goleak looks, so whatever is
	// still running then was leaked.
	goleak.VerifyTestMain(testRun(func() int {
		code := m.Run()
		if demoStack != nil {
			demoStack.Close()
		}
		return code
	}))
}

// small are options that keep a whole-corpus test fast.
var small = corpus.Options{Seed: 7, PerSentence: 1, OutOfScope: 10, Unknown: 5, Greetings: 9, Farewells: 6,
	Barks: 8, QuestOffers: 3}

func generate(t *testing.T, w corpus.World, o corpus.Options) ([]corpus.Item, corpus.Stats, []byte) {
	t.Helper()
	var buf bytes.Buffer
	enc := corpus.NewEncoder(&buf)
	var items []corpus.Item
	st, err := corpus.Generate(context.Background(), w, o, func(it corpus.Item) error {
		items = append(items, it)
		return enc.Encode(it)
	})
	if err != nil {
		t.Fatal(err)
	}
	return items, st, buf.Bytes()
}

func TestGenerateIsDeterministicAndWellFormed(t *testing.T) {
	w := demo(t)
	items, st, b1 := generate(t, w, small)
	_, _, b2 := generate(t, w, small)
	if !bytes.Equal(b1, b2) {
		t.Fatal("two corpora with the same seed differ")
	}
	_, _, b3 := generate(t, w, corpus.Options{Seed: 8, PerSentence: 1, OutOfScope: 10, Unknown: 5, Greetings: 9,
		Farewells: 6, Barks: 8, QuestOffers: 3})
	if bytes.Equal(b1, b3) {
		t.Error("a different seed gave the same corpus")
	}
	var out bytes.Buffer
	st.Write(&out)
	t.Logf("corpus stats:\n%s", out.String())
	if st.Items != len(items) || int64(len(b1)) != st.Bytes {
		t.Errorf("stats count %d items, %d bytes; emitted %d items, %d bytes", st.Items, st.Bytes, len(items), len(b1))
	}
	for _, k := range corpus.Kinds {
		if st.ByKind[k] == 0 {
			t.Errorf("no %s items", k)
		}
	}
	if st.MaxTokens > corpus.ContextTokens {
		t.Errorf("largest item ~%d tokens > %d", st.MaxTokens, corpus.ContextTokens)
	}
	// Round trip through ReadJSONL.
	back, err := corpus.ReadJSONL(bytes.NewReader(b1))
	if err != nil || len(back) != len(items) {
		t.Fatalf("ReadJSONL: %d items, %v", len(back), err)
	}
	schema := questSchema(t)
	// No training response copies a sentence the evaluation asks about.
	var heldOut []string
	for _, e := range loadEval(t) {
		if e.Kind == corpus.KindLoreQA {
			heldOut = append(heldOut, " "+corpus.Normalize(e.Fact)+" ")
		}
	}
	for i, it := range items {
		resp := " " + corpus.Normalize(it.Response) + " "
		for _, h := range heldOut {
			if strings.Contains(resp, h) {
				t.Fatalf("item %d (%s): response copies held-out sentence %q", i, it.Kind, h)
			}
		}
		if it.PrefixBytes <= 0 || it.PrefixBytes >= len(it.Prompt) || it.Prompt[it.PrefixBytes:it.PrefixBytes+2] != "\n\n" {
			t.Fatalf("item %d: prefix_bytes %d does not end the stable prefix", i, it.PrefixBytes)
		}
		if strings.TrimSpace(it.Response) == "" {
			t.Fatalf("item %d (%s): empty response", i, it.Kind)
		}
		if strings.Contains(it.Prompt, "Secrets") {
			t.Fatalf("item %d: prompt shows secrets", i)
		}
		switch it.Kind {
		case corpus.KindLoreQA:
			if !strings.Contains(it.Prompt, it.Fact) || !strings.Contains(it.Response, it.Fact) {
				t.Fatalf("item %d: fact %q not both in prompt and response", i, it.Fact)
			}
			if corpus.HeldOut(it.Fact) {
				t.Fatalf("item %d: training copies held-out sentence %q", i, it.Fact)
			}
		case corpus.KindDontKnow:
			if it.Fact != "" && corpus.HeldOut(it.Fact) {
				t.Fatalf("item %d: training asks held-out sentence %q", i, it.Fact)
			}
		case corpus.KindBark:
			if n := len(strings.Fields(it.Response)); n > corpus.MaxBarkWords {
				t.Fatalf("item %d: bark of %d words", i, n)
			}
		case corpus.KindQuestOffer:
			canon, err := constrainCanonical(schema, it.Response)
			if err != nil {
				t.Fatalf("item %d: quest offer %s: %v", i, it.Response, err)
			}
			if canon != it.Response {
				t.Fatalf("item %d: quest offer not canonical:\n%s\n%s", i, it.Response, canon)
			}
		}
	}
}

func TestGenerateRejectsBadInput(t *testing.T) {
	w := demo(t)
	ctx := context.Background()
	emit := func(corpus.Item) error { return nil }
	if _, err := corpus.Generate(ctx, w, corpus.Options{PerSentence: -1}, emit); err == nil {
		t.Error("negative PerSentence accepted")
	}
	if _, err := corpus.Generate(ctx, w, corpus.Options{PerSentence: 99}, emit); err == nil {
		t.Error("PerSentence above the template count accepted")
	}
	if _, err := corpus.Generate(ctx, corpus.World{Lore: w.Lore}, corpus.Options{}, emit); err == nil {
		t.Error("a world without NPCs accepted")
	}
	stop := errors.New("stop")
	if _, err := corpus.Generate(ctx, w, small, func(corpus.Item) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("emit's error: got %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := corpus.Generate(cctx, w, small, emit); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v", err)
	}
}

// BenchmarkGenerate measures corpus generation (Agent.Prepare with hybrid
// lore search per item dominates) in items per second.
func BenchmarkGenerate(b *testing.B) {
	w := demo(b)
	items := 0
	for b.Loop() {
		st, err := corpus.Generate(context.Background(), w, small, func(corpus.Item) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		items += st.Items
	}
	b.ReportMetric(float64(items)/b.Elapsed().Seconds(), "items/s")
}

func TestCommittedSchemaMatchesGenerator(t *testing.T) {
	w := demo(t)
	var ids []string
	for _, d := range w.NPCs {
		ids = append(ids, d.ID)
	}
	got, err := corpus.QuestOfferSchema(w.Quests, ids)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("schemas/quest_offer.json", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, corpus.DemoQuestOfferSchema) {
		t.Fatal("schemas/quest_offer.json is stale: run go test ./npc/corpus -run Committed -update")
	}
}

func TestCommittedEvalMatchesGenerator(t *testing.T) {
	w := demo(t)
	items, err := corpus.GenerateEval(context.Background(), w, 1)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := corpus.WriteJSONL(&buf, items); err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("testdata/eval.jsonl", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile("testdata/eval.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, buf.Bytes()) {
		t.Fatal("testdata/eval.jsonl is stale: run hearth corpus -eval-out npc/corpus/testdata/eval.jsonl, or go test ./npc/corpus -run Committed -update")
	}
	n := map[corpus.Kind]int{}
	for _, it := range items {
		n[it.Kind]++
		if it.Kind == corpus.KindLoreQA && (!corpus.HeldOut(it.Fact) || !strings.Contains(it.Prompt, it.Fact)) {
			t.Fatalf("eval fact %q: not held out or not in its prompt", it.Fact)
		}
	}
	t.Logf("eval: %v", n)
	if n[corpus.KindLoreQA] < 150 || n[corpus.KindQuestOffer] < 25 {
		t.Errorf("eval holds %d lore_qa and %d quest_offer items; want >= 150 and >= 25", n[corpus.KindLoreQA], n[corpus.KindQuestOffer])
	}
}

// TestPerturbedCopies: counterfactual and spliced copies of lore answers
// put a fact no world sentence holds in both the prompt's lore and the
// answer, never after the stable prefix's end, never from a held-out
// sentence; and the same options give the same bytes.
func TestPerturbedCopies(t *testing.T) {
	w := demo(t)
	o := small
	o.Counterfactual, o.CounterfactualWords, o.Splice, o.Shuffle = 1, 8, 1, 1
	items, st, b1 := generate(t, w, o)
	if _, _, b2 := generate(t, w, o); !bytes.Equal(b1, b2) {
		t.Fatal("two perturbed corpora with the same seed differ")
	}
	if st.Counterfactual == 0 || st.Spliced == 0 || st.Shuffled == 0 {
		t.Fatalf("%d counterfactual, %d spliced and %d shuffled copies; want some of each", st.Counterfactual, st.Spliced, st.Shuffled)
	}
	plain, _, _ := generate(t, w, small)
	real := map[string]bool{}
	for _, it := range plain {
		real[it.Fact] = true
	}
	var heldOut []string
	for _, e := range loadEval(t) {
		if e.Kind == corpus.KindLoreQA {
			heldOut = append(heldOut, " "+corpus.Normalize(e.Fact)+" ")
		}
	}
	novel := 0
	for i, it := range items {
		if it.Kind != corpus.KindLoreQA {
			continue
		}
		if !strings.Contains(it.Prompt[it.PrefixBytes:], it.Fact) || !strings.Contains(it.Response, it.Fact) {
			t.Fatalf("item %d: fact %q not both in the prompt's lore and the response", i, it.Fact)
		}
		if !real[it.Fact] {
			novel++
		}
		if d := it.Drill(); d.PrefixBytes != 0 || d.Response != it.Response || !strings.HasSuffix(it.Prompt, d.Prompt) ||
			strings.Contains(d.Prompt, it.Prompt[:it.PrefixBytes]) || !strings.Contains(d.Prompt, it.Fact) {
			t.Fatalf("item %d: drill %+v does not keep the prompt's lore and reply without its prefix", i, d)
		}
		resp := " " + corpus.Normalize(it.Response) + " "
		for _, h := range heldOut {
			if strings.Contains(resp, h) {
				t.Fatalf("item %d: response copies held-out sentence %q", i, h)
			}
		}
	}
	if novel < st.Spliced+st.Shuffled {
		t.Fatalf("%d lore answers hold a fact no world sentence holds; want at least the %d spliced and %d shuffled", novel, st.Spliced, st.Shuffled)
	}
	// PerturbedOnly keeps the copies and leaves out the answers as asked.
	o.PerturbedOnly = true
	only, st2, _ := generate(t, w, o)
	for i, it := range only {
		if it.Kind == corpus.KindLoreQA && real[it.Fact] {
			t.Fatalf("perturbed only: item %d answers with the world's own sentence %q", i, it.Fact)
		}
	}
	if st2.Counterfactual != st.Counterfactual || st2.Spliced != st.Spliced || st2.Shuffled != st.Shuffled || st2.ByKind[corpus.KindGreeting] != st.ByKind[corpus.KindGreeting] {
		t.Fatalf("perturbed only: %d/%d copies and %d greetings; want %d/%d and %d", st2.Counterfactual, st2.Spliced,
			st2.ByKind[corpus.KindGreeting], st.Counterfactual, st.Spliced, st.ByKind[corpus.KindGreeting])
	}
	bad := o
	bad.Splice = 1.5
	if _, err := corpus.Generate(context.Background(), w, bad, func(corpus.Item) error { return nil }); err == nil {
		t.Fatal("Splice 1.5 accepted")
	}
}

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference/openai/llmsim"
	"github.com/hearth-ai/hearth/npc/corpus"
)

// TestCorpusCommand runs "hearth corpus" small and checks that its
// -eval-out reproduces the committed evaluation set.
func TestCorpusCommand(t *testing.T) {
	dir := t.TempDir()
	out, evalOut := filepath.Join(dir, "corpus.jsonl"), filepath.Join(dir, "eval.jsonl")
	var stdout, stderr bytes.Buffer
	err := cmdCorpus(context.Background(), []string{"-out", out, "-eval-out", evalOut, "-per-sentence", "1",
		"-out-of-scope", "3", "-greetings", "3", "-farewells", "3", "-barks", "3", "-quests", "1"}, nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("hearth corpus: %v\n%s", err, stderr.String())
	}
	t.Log("\n" + stdout.String())
	for _, want := range []string{"lore_qa", "quest_offer", "prompt bytes: p50", "tokens (bytes/4)"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	items, err := corpus.ReadJSONLFile(out)
	if err != nil || len(items) < 1000 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	got, err := os.ReadFile(evalOut)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := os.ReadFile("../../npc/corpus/testdata/eval.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, committed) {
		t.Error("hearth corpus -eval-out differs from npc/corpus/testdata/eval.jsonl")
	}
	if err := cmdCorpus(context.Background(), []string{"-out", ""}, nil, &stdout, &stderr); err == nil {
		t.Error("nothing to write was accepted")
	}
	// Copy drills alone: NPC-layout drills borrow their personas from the
	// corpus, generated but not written.
	drills := filepath.Join(dir, "copy.jsonl")
	stdout.Reset()
	if err := cmdCorpus(context.Background(), []string{"-out", "", "-copy-drills", drills, "-copy-layout", "npc", "-copy-items", "50",
		"-per-sentence", "1", "-out-of-scope", "3", "-greetings", "3", "-farewells", "3", "-barks", "3", "-quests", "1"}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("hearth corpus -copy-drills: %v\n%s", err, stderr.String())
	}
	copies, err := corpus.ReadJSONLFile(drills)
	if err != nil || len(copies) != 50 || copies[0].Kind != corpus.KindCopy || !strings.HasPrefix(copies[0].Prompt, "You are ") ||
		!strings.Contains(stdout.String(), "50 in the npc layout") || strings.Contains(stdout.String(), "lore_qa") {
		t.Fatalf("%d drills (%v), first %+v; report:\n%s", len(copies), err, copies[0], stdout.String())
	}
	if err := cmdCorpus(context.Background(), []string{"-out", "", "-copy-drills", drills, "-copy-layout", "tree"}, nil, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "tree") {
		t.Errorf("an unknown copy layout: %v", err)
	}
}

// distillInput writes n lore_qa and q quest_offer items of the committed
// evaluation set, and one broken line, to a file.
func distillInput(t *testing.T, n, q int) string {
	t.Helper()
	items, err := corpus.ReadJSONLFile("../../npc/corpus/testdata/eval.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var pick []corpus.Item
	for _, it := range items {
		if it.Kind == corpus.KindLoreQA && n > 0 {
			pick, n = append(pick, it), n-1
		}
		if it.Kind == corpus.KindQuestOffer && q > 0 {
			pick, q = append(pick, it), q-1
		}
	}
	var buf bytes.Buffer
	corpus.WriteJSONL(&buf, pick)
	buf.WriteString("{\"prompt\": 3}\n")
	path := filepath.Join(t.TempDir(), "in.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDistillAgainstLLMSim sends a corpus through the real openai backend
// to the loopback llmsim server: replies replace responses, kinds and
// facts are kept, and the lines that fail (a broken input line, quest
// offers that are not schema-valid JSON) are reported and counted without
// stopping the run.
func TestDistillAgainstLLMSim(t *testing.T) {
	sim, err := llmsim.Start(llmsim.Profile{TTFTMedian: time.Millisecond, TokensPerSecond: 1e5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	in := distillInput(t, 12, 2)
	out := filepath.Join(t.TempDir(), "out.jsonl")
	var stdout, stderr bytes.Buffer
	err = cmdDistill(context.Background(), []string{"-in", in, "-out", out, "-base-url", sim.BaseURL(),
		"-model", "llmsim", "-concurrency", "3", "-max-tokens", "20"}, nil, &stdout, &stderr)
	if err != nil {
		t.Fatalf("hearth distill: %v\n%s", err, stderr.String())
	}
	t.Log(stdout.String(), stderr.String())
	if !strings.Contains(stdout.String(), "12 of 15 lines written") || !strings.Contains(stdout.String(), "3 failed") {
		t.Errorf("summary: %s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "quest offer reply rejected") || !strings.Contains(stderr.String(), "in.jsonl:15") {
		t.Errorf("per-line errors not reported:\n%s", stderr.String())
	}
	if got := sim.Requests(); got != 14 {
		t.Errorf("server saw %d requests, want 14 (the broken line is never sent)", got)
	}
	if sim.MaxInFlight() > 3 {
		t.Errorf("%d requests in flight, -concurrency 3", sim.MaxInFlight())
	}
	items, err := corpus.ReadJSONLFile(out)
	if err != nil || len(items) != 12 {
		t.Fatalf("%d items, %v", len(items), err)
	}
	for _, it := range items {
		if it.Kind != corpus.KindLoreQA || it.Fact == "" || it.Source != "distill:llmsim" || it.Response == "" ||
			len(strings.Fields(it.Response)) > 20 {
			t.Fatalf("distilled item: %+v", it)
		}
	}
}

func TestDistillFailsWhenEveryLineFails(t *testing.T) {
	sim, err := llmsim.Start(llmsim.Profile{TTFTMedian: time.Millisecond, TokensPerSecond: 1e5})
	if err != nil {
		t.Fatal(err)
	}
	url := sim.BaseURL()
	sim.Close() // nothing listens there now
	in := distillInput(t, 2, 0)
	var stdout, stderr bytes.Buffer
	err = cmdDistill(context.Background(), []string{"-in", in, "-out", filepath.Join(t.TempDir(), "o.jsonl"),
		"-base-url", url, "-model", "llmsim", "-timeout", "5s"}, nil, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "every line failed") {
		t.Fatalf("err = %v\n%s", err, stderr.String())
	}
	for _, args := range [][]string{{"-in", in}, {"-in", in, "-out", "x", "-model", "m"},
		{"-in", in, "-out", "x", "-model", "m", "-base-url", url, "-concurrency", "0"}} {
		if err := cmdDistill(context.Background(), args, nil, &stdout, &stderr); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

package corpus_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
	"github.com/hearth-ai/hearth/npc/corpus"
)

// fixedModel answers every request with f(req).
type fixedModel struct {
	name string
	f    func(req *inference.Request) (string, error)
}

func (m fixedModel) Info() inference.Info {
	return inference.Info{Name: m.name, Tier: inference.TierEmbedded}
}

func (m fixedModel) Generate(_ context.Context, req *inference.Request, _ inference.Sink) (inference.Result, error) {
	text, err := m.f(req)
	return inference.Result{Text: text, Backend: m.name}, err
}

// echoFirstLore answers with the first Lore line of the prompt: right only
// when the asked sentence happens to come first.
var echoFirstLore = fixedModel{"echo-first-lore", func(req *inference.Request) (string, error) {
	if l := corpus.PromptLore(req.SmallPrompt); len(l) > 0 {
		return "Aye. " + l[0], nil
	}
	return "I don't know.", nil
}}

func loadEval(t *testing.T) []corpus.EvalItem {
	t.Helper()
	items, err := corpus.ReadJSONLFile("testdata/eval.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func TestEvaluateTellsGoodFromBad(t *testing.T) {
	items := loadEval(t)
	ctx := context.Background()
	// The oracle replies with the reference response: everything passes.
	oracle := map[string]string{}
	for _, it := range items {
		oracle[it.Prompt] = it.Response
	}
	rep, err := corpus.Evaluate(ctx, fixedModel{"oracle", func(r *inference.Request) (string, error) {
		return oracle[r.SmallPrompt], nil
	}}, items, corpus.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed != rep.Items || len(rep.Failures) != 0 {
		var b strings.Builder
		rep.Write(&b)
		t.Fatalf("reference replies fail:\n%s", b.String())
	}
	// A model that never knows anything passes nothing.
	rep, err = corpus.Evaluate(ctx, fixedModel{"mute", func(*inference.Request) (string, error) {
		return "I don't know.", nil
	}}, items, corpus.EvalOptions{MaxFailures: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed != 0 || len(rep.Failures) != 3 {
		t.Fatalf("mute model: %d passed, %d failures listed", rep.Passed, len(rep.Failures))
	}
	// Echoing the first lore line is right sometimes, never for quests.
	echo, err := corpus.Evaluate(ctx, echoFirstLore, items, corpus.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	floor, err := corpus.Evaluate(ctx, template.New(), items, corpus.EvalOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	echo.Write(&b)
	floor.Write(&b)
	t.Logf("echo-first-lore and template floor:\n%s", b.String())
	e, f := echo.ByKind[corpus.KindLoreQA], floor.ByKind[corpus.KindLoreQA]
	if e.PassRate() <= 0.1 || e.PassRate() >= 1 {
		t.Errorf("echo-first-lore lore_qa pass rate %.2f: want it strictly between the mute and the oracle", e.PassRate())
	}
	if f.PassRate() <= 0.1 {
		t.Errorf("template floor lore_qa pass rate %.2f: it copies lore sentences and should pass some", f.PassRate())
	}
	if echo.ByKind[corpus.KindQuestOffer].Passed != 0 || floor.ByKind[corpus.KindQuestOffer].Passed != 0 {
		t.Error("prose passed as a quest offer")
	}
}

func TestEvaluateErrors(t *testing.T) {
	ctx := context.Background()
	items := loadEval(t)[:3]
	failing := fixedModel{"down", func(*inference.Request) (string, error) { return "", errors.New("backend down") }}
	rep, err := corpus.Evaluate(ctx, failing, items, corpus.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ByKind[corpus.KindLoreQA].Errors != 3 || rep.Passed != 0 {
		t.Fatalf("failing backend: %+v", rep.ByKind[corpus.KindLoreQA])
	}
	if _, err := corpus.Evaluate(ctx, echoFirstLore, []corpus.EvalItem{{Prompt: "x", Kind: corpus.KindGreeting}}, corpus.EvalOptions{}); err == nil {
		t.Error("a greeting item was accepted for scoring")
	}
	if _, err := corpus.Evaluate(ctx, echoFirstLore, []corpus.EvalItem{{Prompt: "x", Kind: corpus.KindLoreQA}}, corpus.EvalOptions{}); err == nil {
		t.Error("a lore_qa item without a fact was accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := corpus.Evaluate(cctx, echoFirstLore, items, corpus.EvalOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestRequestForParsesThePrompt(t *testing.T) {
	items := loadEval(t)
	req := corpus.RequestFor(items[0])
	if req.Persona.Name == "" || req.UserText == "" || len(req.Facts) == 0 || req.SmallPrompt != items[0].Prompt {
		t.Fatalf("RequestFor: %+v", req)
	}
	if !strings.Contains(items[0].Prompt, req.UserText) {
		t.Fatalf("user text %q not in the prompt", req.UserText)
	}
}

func TestNormalizeAndHeldOut(t *testing.T) {
	if got := corpus.Normalize("  The Tipped Kettle's sign — a KETTLE!  "); got != "the tipped kettle s sign a kettle" {
		t.Fatalf("Normalize: %q", got)
	}
	if corpus.HeldOut("A sentence.") != corpus.HeldOut("a  SENTENCE") {
		t.Fatal("HeldOut depends on case or punctuation")
	}
	got := corpus.Sentences("- First one. Second one!\n| a | b |\n|---|---|\nThird")
	want := []string{"First one.", "Second one!", "a | b |", "Third"}
	if strings.Join(got, "/") != strings.Join(want, "/") {
		t.Fatalf("Sentences: %q", got)
	}
}

package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

func smallConfig() llama.Config {
	return llama.Config{VocabSize: 23, Dim: 16, Layers: 2, Heads: 4, KVHeads: 2, FFNDim: 24,
		ContextLen: 32, RopeTheta: 10000, NormEps: 1e-5}
}

// patterned returns examples with learnable structure: a random prompt,
// then a response that counts on from the prompt's last token (a bigram
// rule that generalises to held-out prompts).
func patterned(n int, seed uint64, vocab int) []Example {
	rng := rand.New(rand.NewPCG(seed, 9))
	var ex []Example
	for range n {
		pl := 2 + rng.IntN(6)
		toks := []int{0}
		for range pl {
			toks = append(toks, 2+rng.IntN(vocab-3))
		}
		for range 4 {
			toks = append(toks, 2+(toks[len(toks)-1]-2+1)%(vocab-2))
		}
		toks = append(toks, 1)
		ex = append(ex, Example{Tokens: toks, PromptLen: pl + 1})
	}
	return ex
}

func testOptions() Options {
	o := DefaultOptions()
	o.Steps, o.WarmupSteps, o.BatchTokens, o.Shards, o.LR = 12, 3, 160, 4, 1e-2
	o.ValFraction = 0.1
	return o
}

func newTest(t *testing.T, ex []Example, opt Options, rt Runtime) *Trainer {
	t.Helper()
	w, err := llama.NewRandom(smallConfig(), 11)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(w, nil, ex, opt, rt)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func equalBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestDeterministicAcrossProcs: GOMAXPROCS 1 with one worker and GOMAXPROCS
// 2 with three workers give bit-identical weights.
func TestDeterministicAcrossProcs(t *testing.T) {
	ex := patterned(60, 1, smallConfig().VocabSize)
	opt := testOptions()
	opt.Steps = 5
	run := func(procs int) []float64 {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		tr := newTest(t, ex, opt, Runtime{Workers: procs + procs/2}) // 1 or 3 workers
		if _, err := tr.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		return tr.params
	}
	a, b := run(1), run(2)
	if !equalBits(a, b) {
		t.Fatal("weights differ between GOMAXPROCS 1 and 2")
	}
	c := run(2)
	if !equalBits(b, c) {
		t.Fatal("weights differ between two identical runs")
	}
}

// TestLossDecreases trains a few dozen steps on a learnable task.
func TestLossDecreases(t *testing.T) {
	ex := patterned(80, 2, smallConfig().VocabSize)
	opt := testOptions()
	opt.Steps, opt.WarmupSteps, opt.LR = 120, 10, 2e-2
	tr := newTest(t, ex, opt, Runtime{})
	before := tr.ValLoss()
	var first float64
	var calls int
	tr.rt.Progress = func(p Progress) {
		if calls == 0 {
			first = p.Loss
		}
		calls++
	}
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if calls != opt.Steps || res.Steps != opt.Steps {
		t.Fatalf("%d progress calls, %d steps; want %d", calls, res.Steps, opt.Steps)
	}
	t.Logf("train loss %.3f → %.3f, val loss %.3f → %.3f, %.0f tokens/s", first, res.TrainLoss, before, res.ValLoss, res.TokensPerS)
	if !(res.TrainLoss < first-0.5) || !(res.ValLoss < before-0.5) {
		t.Fatalf("loss did not decrease: train %.3f → %.3f, val %.3f → %.3f", first, res.TrainLoss, before, res.ValLoss)
	}
}

// TestResumeBitIdentical: a run checkpointed at step 5, loaded and resumed
// to step 12 ends with the same bits as an uninterrupted 12-step run.
func TestResumeBitIdentical(t *testing.T) {
	ex := patterned(50, 3, smallConfig().VocabSize)
	opt := testOptions()
	full := newTest(t, ex, opt, Runtime{})
	if _, err := full.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "run.ckpt")
	part := newTest(t, ex, opt, Runtime{CheckpointEvery: 5, CheckpointPath: path})
	for range 5 {
		if _, err := part.TrainStep(); err != nil {
			t.Fatal(err)
		}
	}
	if err := part.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	cp, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if cp.Step != 5 {
		t.Fatalf("checkpoint at step %d, want 5", cp.Step)
	}
	if _, err := Resume(cp, ex[1:], Runtime{}); !errors.Is(err, ErrCorpusMismatch) {
		t.Fatalf("resume on another corpus: %v, want ErrCorpusMismatch", err)
	}
	res, err := Resume(cp, ex, Runtime{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !equalBits(full.params, res.params) || !equalBits(full.mom, res.mom) || !equalBits(full.vel, res.vel) {
		t.Fatal("resumed run differs from the uninterrupted one")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("checkpoint dir holds %d files, want 1 (no temp files left)", len(entries))
	}
}

// TestCheckpointErrors: a non-checkpoint, a truncated or flipped file and a
// wrong version give clear errors.
func TestCheckpointErrors(t *testing.T) {
	ex := patterned(20, 4, smallConfig().VocabSize)
	tr := newTest(t, ex, testOptions(), Runtime{})
	dir := t.TempDir()
	path := filepath.Join(dir, "a.ckpt")
	if err := tr.SaveCheckpoint(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	write := func(b []byte) string {
		p := filepath.Join(dir, "bad.ckpt")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := LoadCheckpoint(write([]byte("not a checkpoint"))); !errors.Is(err, ErrCheckpoint) {
		t.Fatalf("garbage: %v", err)
	}
	if _, err := LoadCheckpoint(write(raw[:len(raw)/2])); !errors.Is(err, ErrCheckpoint) {
		t.Fatalf("truncated: %v", err)
	}
	flipped := append([]byte(nil), raw...)
	flipped[len(flipped)/2] ^= 0x40
	if _, err := LoadCheckpoint(write(flipped)); !errors.Is(err, ErrCheckpoint) {
		t.Fatalf("flipped byte: %v", err)
	}
	// Another version: re-encode with version 99.
	cp, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeVersion(filepath.Join(dir, "v99.ckpt"), cp, 99); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(filepath.Join(dir, "v99.ckpt")); !errors.Is(err, ErrCheckpointVersion) || !strings.Contains(err.Error(), "99") {
		t.Fatalf("version 99: %v", err)
	}
}

// TestCancelCheckpoints: cancelling Run writes a checkpoint of the step
// reached.
func TestCancelCheckpoints(t *testing.T) {
	ex := patterned(20, 5, smallConfig().VocabSize)
	path := filepath.Join(t.TempDir(), "c.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	tr := newTest(t, ex, testOptions(), Runtime{CheckpointPath: path, Progress: func(p Progress) {
		if p.Step == 3 {
			cancel()
		}
	}})
	res, err := tr.Run(ctx)
	if !errors.Is(err, context.Canceled) || res.Steps != 3 {
		t.Fatalf("Run: %v at step %d; want canceled at 3", err, res.Steps)
	}
	cp, err := LoadCheckpoint(path)
	if err != nil || cp.Step != 3 {
		t.Fatalf("checkpoint: %v, step %v", err, cp)
	}
}

func TestLRSchedule(t *testing.T) {
	o := DefaultOptions()
	o.Steps, o.WarmupSteps, o.LR = 110, 10, 1
	cases := map[int]float64{1: 0.1, 5: 0.5, 10: 1, 60: 0.55, 110: 0.1}
	for s, want := range cases {
		if got := o.LRAt(s); math.Abs(got-want) > 1e-12 {
			t.Errorf("LRAt(%d) = %g, want %g", s, got, want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func(*Options){
		func(o *Options) { o.Steps = 0 }, func(o *Options) { o.LR = math.NaN() },
		func(o *Options) { o.Shards = 0 }, func(o *Options) { o.ValFraction = 1 },
		func(o *Options) { o.Beta2 = 1 }, func(o *Options) { o.BatchTokens = -1 },
	} {
		o := DefaultOptions()
		f(&o)
		if err := o.Validate(); !errors.Is(err, ErrOptions) {
			t.Errorf("%+v: %v, want ErrOptions", o, err)
		}
	}
	w, _ := llama.NewRandom(smallConfig(), 1)
	if _, err := New(w, nil, []Example{{Tokens: []int{0, 99}, PromptLen: 1}}, DefaultOptions(), Runtime{}); err == nil {
		t.Fatal("want an error for a token outside the vocabulary")
	}
	tr, err := New(w, nil, patterned(10, 1, smallConfig().VocabSize), DefaultOptions(), Runtime{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Evaluate([]Example{{Tokens: []int{0}, PromptLen: 1}}); err == nil {
		t.Fatal("Evaluate: want an error for an example without a target")
	}
	if l, err := tr.Evaluate(patterned(3, 2, smallConfig().VocabSize)); err != nil || !(l > 0) {
		t.Fatalf("Evaluate: %g, %v", l, err)
	}
	if _, err := New(w, nil, nil, DefaultOptions(), Runtime{}); err == nil {
		t.Fatal("want an error for no examples")
	}
}

func TestReadCorpusAndSplit(t *testing.T) {
	in := `{"prompt": "Hi", "prefix_bytes": 1, "response": "Hello", "kind": "x", "extra": 5}

not json
{"prompt": "a", "response": ""}
{"prompt": "ab", "prefix_bytes": 9, "response": "r"}
{"prompt": "q", "response": "r"}`
	recs, bad, err := ReadCorpus(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Response != "Hello" || recs[0].PrefixBytes != 1 || recs[1].Prompt != "q" {
		t.Fatalf("records %+v", recs)
	}
	if len(bad) != 3 || bad[0].Line != 3 || bad[1].Line != 4 || bad[2].Line != 5 {
		t.Fatalf("skipped %v", bad)
	}
	if _, _, err := ReadCorpus(strings.NewReader("\n\n")); !errors.Is(err, ErrEmptyCorpus) {
		t.Fatalf("empty corpus: %v", err)
	}
	ex := patterned(100, 6, 20)
	tr1, va1 := Split(ex, 0.05, 3)
	tr2, va2 := Split(ex, 0.05, 3)
	if len(va1) != 5 || len(tr1) != 95 || corpusHash(va1) != corpusHash(va2) || corpusHash(tr1) != corpusHash(tr2) {
		t.Fatalf("split %d/%d not deterministic", len(tr1), len(va1))
	}
	if _, va := Split(ex[:3], 0.01, 3); len(va) != 1 {
		t.Fatalf("a tiny positive fraction holds out %d, want 1", len(va))
	}
	if tr, va := Split(ex, 0, 3); len(tr) != 100 || va != nil {
		t.Fatal("fraction 0 must hold nothing out")
	}
}

type fakeTok struct{}

func (fakeTok) EncodePrompt(p string, _ int) []int {
	out := []int{0}
	for range p {
		out = append(out, 2)
	}
	return out
}
func (fakeTok) EncodeResponse(r string) []int {
	var out []int
	for range r {
		out = append(out, 3)
	}
	return append(out, 1)
}

func TestTokenizeDropsLong(t *testing.T) {
	recs := []Record{{Prompt: "abc", Response: "de"}, {Prompt: strings.Repeat("x", 40), Response: "y"}}
	ex, dropped := Tokenize(fakeTok{}, recs, 10)
	if dropped != 1 || len(ex) != 1 {
		t.Fatalf("%d examples, %d dropped", len(ex), dropped)
	}
	if e := ex[0]; e.PromptLen != 4 || len(e.Tokens) != 7 || e.targets() != 3 {
		t.Fatalf("example %+v", e)
	}
}

// TestMatchesInferenceForward: the training forward pass and package
// llama's inference forward give the same logits on the same weights.
func TestMatchesInferenceForward(t *testing.T) {
	for _, tied := range []bool{false, true} {
		cfg := smallConfig()
		cfg.TiedEmbeddings = tied
		w, err := llama.NewRandom(cfg, 21)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(2, 2))
		for _, l := range w.Layers {
			for i := range l.Wq {
				l.Wq[i] *= 20 // sharper attention than the init's near-uniform one
				l.Wk[i%len(l.Wk)] += rng.NormFloat64() * 0.1
			}
		}
		tokens := make([]int, 20)
		for i := range tokens {
			tokens[i] = rng.IntN(cfg.VocabSize)
		}
		want, err := Logits(w, tokens)
		if err != nil {
			t.Fatal(err)
		}
		m, err := llama.New(w, llama.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float64, cfg.VocabSize)
		worst := 0.0
		for i := range tokens {
			if err := m.Prefill(m.NewCache(), tokens[:i+1], got); err != nil {
				t.Fatal(err)
			}
			for j, g := range got {
				worst = max(worst, math.Abs(g-want[i*cfg.VocabSize+j]))
			}
		}
		t.Logf("tied=%v: worst |Δlogit| %.2g", tied, worst)
		if worst > 1e-9 {
			t.Fatalf("tied=%v: logits differ from the inference forward by %g", tied, worst)
		}
	}
}

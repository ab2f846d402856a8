package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

func tinyConfig(tied bool) llama.Config {
	return llama.Config{VocabSize: 11, Dim: 8, Layers: 2, Heads: 4, KVHeads: 2, FFNDim: 12,
		ContextLen: 16, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: tied}
}

func randomExamples(rng *rand.Rand, n, vocab, maxLen int) []Example {
	var ex []Example
	for range n {
		l := 3 + rng.IntN(maxLen-2)
		toks := make([]int, l)
		for i := range toks {
			toks[i] = rng.IntN(vocab)
		}
		ex = append(ex, Example{Tokens: toks, PromptLen: 1 + rng.IntN(l-1)})
	}
	return ex
}

// lossAndGrad returns the mean loss over targets and its gradient (flat).
func lossAndGrad(cfg llama.Config, flat []float64, ex []Example, withGrad bool) (float64, []float64) {
	m := newModel(cfg)
	ws := &workspace{m: m}
	ws.setBatch(ex)
	w := view(cfg, flat)
	n := 0
	for _, e := range ex {
		n += e.targets()
	}
	loss := ws.forward(w) / float64(n)
	if !withGrad {
		return loss, nil
	}
	g := make([]float64, len(flat))
	ws.backward(w, view(cfg, g), 1/float64(n))
	return loss, g
}

// TestGradientCheck compares analytic gradients with central finite
// differences for entries of every tensor, tied and untied.
func TestGradientCheck(t *testing.T) {
	for _, tied := range []bool{false, true} {
		cfg := tinyConfig(tied)
		w, err := llama.NewRandom(cfg, 7)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		flat := flatten(w)
		// Larger weights than the 0.02 init make every path matter.
		for i := range flat {
			flat[i] += rng.NormFloat64() * 0.3
		}
		ex := randomExamples(rng, 3, cfg.VocabSize, 9)
		_, g := lossAndGrad(cfg, flat, ex, true)
		spans, _ := layout(cfg)
		const h = 1e-5
		for _, s := range spans {
			worst := 0.0
			for trial := range 6 {
				i := s.off + (trial*7919)%s.n
				if trial == 0 {
					i = s.off + rng.IntN(s.n)
				}
				old := flat[i]
				flat[i] = old + h
				lp, _ := lossAndGrad(cfg, flat, ex, false)
				flat[i] = old - h
				lm, _ := lossAndGrad(cfg, flat, ex, false)
				flat[i] = old
				num := (lp - lm) / (2 * h)
				rel := math.Abs(num-g[i]) / math.Max(1e-6, math.Abs(num)+math.Abs(g[i]))
				worst = max(worst, rel)
				if rel > 1e-5 {
					t.Errorf("tied=%v %s[%d]: analytic %.10g, numeric %.10g (rel %.2g)", tied, s.name, i-s.off, g[i], num, rel)
				}
			}
			t.Logf("tied=%v %-24s worst relative error %.2g", tied, s.name, worst)
		}
	}
}

// TestLogitsCausal checks that a position's logits do not depend on later
// tokens, and that a batch of sequences gives the same loss as each alone.
func TestLogitsCausal(t *testing.T) {
	cfg := tinyConfig(false)
	w, _ := llama.NewRandom(cfg, 3)
	a, err := Logits(w, []int{1, 2, 3, 4, 5})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Logits(w, []int{1, 2, 3, 9, 9, 9})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 * cfg.VocabSize {
		if a[i] != b[i] {
			t.Fatalf("logit %d depends on a later token: %g vs %g", i, a[i], b[i])
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	ex := randomExamples(rng, 4, cfg.VocabSize, 10)
	flat := flatten(w)
	m := newModel(cfg)
	ws := &workspace{m: m}
	ws.setBatch(ex)
	all := ws.forward(view(cfg, flat))
	var sum float64
	for _, e := range ex {
		ws.setBatch([]Example{e})
		sum += ws.forward(view(cfg, flat))
	}
	if math.Abs(all-sum) > 1e-9*math.Abs(sum) {
		t.Fatalf("batched loss %g, separate %g", all, sum)
	}
	if _, err := Logits(w, []int{99}); err == nil {
		t.Fatal("want an error for an out-of-range token")
	}
	if _, err := Logits(w, nil); err == nil {
		t.Fatal("want an error for no tokens")
	}
}

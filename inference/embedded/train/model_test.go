package train

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"

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

// TestGemmMatchesGonum: gemm through llama.GemmNT (operands transposed
// and k padded as needed) equals gonum's Dgemm for every transpose pair,
// alpha 1 and not, beta 0 and 1, and k a multiple of 4 or not.
func TestGemmMatchesGonum(t *testing.T) {
	if !useGemmNT {
		t.Skip("llama.GemmNT's assembly kernel does not run here (no AVX2/FMA, or purego): gemm is gonum's")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	fill := func(n int) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = rng.Float64()*2 - 1
		}
		return s
	}
	for _, tA := range []blas.Transpose{noT, tr} {
		for _, tB := range []blas.Transpose{noT, tr} {
			for _, k := range []int{32, 37, 3} {
				for _, alpha := range []float64{1, 0.125} {
					for _, beta := range []float64{0, 1} {
						const m, n = 19, 70
						a, b := fill(100*100), fill(100*100) // room for any of the strides below
						lda, ldb := k+5, n+3
						if tA == tr {
							lda = m + 5
						}
						if tB == tr {
							ldb = k + 3
						}
						ldc := n + 1
						c0 := fill(m * ldc)
						c1 := append([]float64(nil), c0...)
						gemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc)
						gemmGonum(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c1, ldc)
						for i := range c0 {
							if math.Abs(c0[i]-c1[i]) > 1e-12*float64(k) {
								t.Fatalf("tA %c tB %c k %d alpha %g beta %g: C[%d] = %g, gonum %g", tA, tB, k, alpha, beta, i, c0[i], c1[i])
							}
						}
					}
				}
			}
		}
	}
}

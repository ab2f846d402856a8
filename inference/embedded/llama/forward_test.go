package llama

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference/embedded/gguf"
	"go.uber.org/goleak"
)

// testWeights returns NewRandom weights made "sharper" (larger matrices,
// non-unit norm gains) so that attention is far from uniform and RoPE,
// masking and GQA mistakes show in the logits.
func testWeights(t testing.TB, cfg Config, seed uint64) *Weights {
	t.Helper()
	return testWeightsQK(t, cfg, seed, 15)
}

// testWeightsQK is testWeights with Wq and Wk scaled by qk (attention
// sharpness: ~qk² on the logits of the softmax).
func testWeightsQK(t testing.TB, cfg Config, seed uint64, qk float64) *Weights {
	t.Helper()
	w, err := NewRandom(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	scale := func(x []float64, f float64) {
		for i := range x {
			x[i] *= f
		}
	}
	gains := func(x []float64) {
		for i := range x {
			x[i] = 0.5 + rng.Float64()
		}
	}
	scale(w.TokenEmbed, 20)
	for i := range w.Layers {
		l := &w.Layers[i]
		for _, m := range [][]float64{l.Wq, l.Wk} {
			scale(m, qk)
		}
		for _, m := range [][]float64{l.Wv, l.Wo, l.WGate, l.WUp, l.WDown} {
			scale(m, 8)
		}
		gains(l.AttnNorm)
		gains(l.FFNNorm)
	}
	gains(w.OutputNorm)
	if w.Output != nil {
		scale(w.Output, 10)
	}
	return w
}

// refForward is the plain, cache-free forward pass written from the
// package comment: it returns the logits at every position and the final
// normalised hidden states.
func refForward(w *Weights, tokens []int) (logits, final [][]float64) {
	c := w.Config
	d, hd := c.Dim, c.HeadDim()
	kv := c.KVHeads * hd
	matvec := func(m []float64, x []float64, out int) []float64 {
		y := make([]float64, out)
		for o := 0; o < out; o++ {
			var s float64
			for i, v := range x {
				s += m[o*len(x)+i] * v
			}
			y[o] = s
		}
		return y
	}
	norm := func(x, g []float64) []float64 {
		var ss float64
		for _, v := range x {
			ss += v * v
		}
		r := math.Sqrt(ss/float64(len(x)) + c.NormEps)
		y := make([]float64, len(x))
		for i := range x {
			y[i] = x[i] / r * g[i]
		}
		return y
	}
	rope := func(x []float64, pos int) {
		for h := 0; h < len(x); h += hd {
			for i := 0; i < hd/2; i++ {
				th := float64(pos) * math.Pow(c.RopeTheta, -2*float64(i)/float64(hd))
				a, b := x[h+2*i], x[h+2*i+1]
				x[h+2*i] = a*math.Cos(th) - b*math.Sin(th)
				x[h+2*i+1] = a*math.Sin(th) + b*math.Cos(th)
			}
		}
	}
	T := len(tokens)
	hs := make([][]float64, T)
	for p, tok := range tokens {
		hs[p] = append([]float64(nil), w.TokenEmbed[tok*d:(tok+1)*d]...)
	}
	for _, l := range w.Layers {
		qs := make([][]float64, T)
		ks := make([][]float64, T)
		vs := make([][]float64, T)
		for p := range T {
			a := norm(hs[p], l.AttnNorm)
			qs[p], ks[p], vs[p] = matvec(l.Wq, a, d), matvec(l.Wk, a, kv), matvec(l.Wv, a, kv)
			rope(qs[p], p)
			rope(ks[p], p)
		}
		for p := range T {
			att := make([]float64, d)
			for h := 0; h < c.Heads; h++ {
				g := h / (c.Heads / c.KVHeads)
				sc := make([]float64, p+1)
				mx := math.Inf(-1)
				for j := 0; j <= p; j++ {
					var s float64
					for i := 0; i < hd; i++ {
						s += qs[p][h*hd+i] * ks[j][g*hd+i]
					}
					sc[j] = s / math.Sqrt(float64(hd))
					mx = math.Max(mx, sc[j])
				}
				var sum float64
				for j := range sc {
					sc[j] = math.Exp(sc[j] - mx)
					sum += sc[j]
				}
				for j := range sc {
					for i := 0; i < hd; i++ {
						att[h*hd+i] += sc[j] / sum * vs[j][g*hd+i]
					}
				}
			}
			o := matvec(l.Wo, att, d)
			for i := range hs[p] {
				hs[p][i] += o[i]
			}
			f := norm(hs[p], l.FFNNorm)
			gate, up := matvec(l.WGate, f, c.FFNDim), matvec(l.WUp, f, c.FFNDim)
			for i := range gate {
				gate[i] = gate[i] / (1 + math.Exp(-gate[i])) * up[i]
			}
			dn := matvec(l.WDown, gate, d)
			for i := range hs[p] {
				hs[p][i] += dn[i]
			}
		}
	}
	for p := range T {
		f := norm(hs[p], w.OutputNorm)
		final = append(final, f)
		logits = append(logits, matvec(w.OutputMatrix(), f, c.VocabSize))
	}
	return logits, final
}

// maxDiff is max|a-b| / max(1, max|b|).
func maxDiff(a, b []float64) float64 {
	var d, s float64
	for i := range a {
		d = math.Max(d, math.Abs(a[i]-b[i]))
		s = math.Max(s, math.Abs(b[i]))
	}
	return d / math.Max(1, s)
}

func randTokens(n, vocab int, seed uint64) []int {
	rng := rand.New(rand.NewPCG(seed, 99))
	t := make([]int, n)
	for i := range t {
		t[i] = rng.IntN(vocab)
	}
	return t
}

var testConfigs = map[string]Config{
	"gqa-untied": {VocabSize: 53, Dim: 32, Layers: 2, Heads: 4, KVHeads: 2, FFNDim: 48, ContextLen: 40, RopeTheta: 10000, NormEps: 1e-5},
	"mha-tied":   {VocabSize: 41, Dim: 24, Layers: 3, Heads: 3, KVHeads: 3, FFNDim: 40, ContextLen: 40, RopeTheta: 500, NormEps: 1e-6, TiedEmbeddings: true},
	"mqa-tied":   {VocabSize: 37, Dim: 16, Layers: 1, Heads: 4, KVHeads: 1, FFNDim: 20, ContextLen: 40, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true},
	// Head dims that are multiples of 16 take the assembly attention
	// kernels (pairs of query heads, and an odd one out).
	"gqa-hd32":  {VocabSize: 50, Dim: 64, Layers: 2, Heads: 2, KVHeads: 1, FFNDim: 96, ContextLen: 40, RopeTheta: 10000, NormEps: 1e-5},
	"gqa3-hd16": {VocabSize: 45, Dim: 96, Layers: 1, Heads: 6, KVHeads: 2, FFNDim: 64, ContextLen: 40, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true},
}

func newTestModel(t testing.TB, cfg Config, opts Options) (*Model, *Weights) {
	t.Helper()
	w := testWeights(t, cfg, 1)
	m, err := New(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, w
}

func TestForwardMatchesReference(t *testing.T) {
	for name, cfg := range testConfigs {
		for _, threads := range []int{1, 3} {
			m, w := newTestModel(t, cfg, Options{Threads: threads})
			tokens := randTokens(30, cfg.VocabSize, 2)
			want, _ := refForward(w, tokens)

			c := m.NewCache()
			got := make([]float64, cfg.VocabSize)
			if err := m.Prefill(c, tokens, got); err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(got, want[len(tokens)-1]); d > 1e-9 {
				t.Errorf("%s/threads=%d: prefill logits differ from reference by %g", name, threads, d)
			}
			if c.Len() != len(tokens) {
				t.Errorf("%s: cache len %d, want %d", name, c.Len(), len(tokens))
			}

			c = m.NewCache()
			if err := m.Prefill(c, tokens[:1], got); err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(got, want[0]); d > 1e-9 {
				t.Errorf("%s: first-token logits differ by %g", name, d)
			}
			for p := 1; p < len(tokens); p++ {
				if err := m.DecodeBatch([]*Cache{c}, tokens[p:p+1], [][]float64{got}); err != nil {
					t.Fatal(err)
				}
				if d := maxDiff(got, want[p]); d > 1e-9 {
					t.Errorf("%s/threads=%d: decode at position %d differs from reference by %g", name, threads, p, d)
				}
			}
		}
	}
}

// The reference must itself be sensitive to position (RoPE) and order, or
// the comparison above proves little.
func TestReferenceIsPositionSensitive(t *testing.T) {
	cfg := testConfigs["gqa-untied"]
	w := testWeights(t, cfg, 1)
	a, _ := refForward(w, []int{1, 2, 3, 4})
	b, _ := refForward(w, []int{2, 1, 3, 4})
	if d := maxDiff(a[3], b[3]); d < 1e-3 {
		t.Fatalf("swapping two earlier tokens changed the last logits by only %g", d)
	}
}

func TestPrefillChunksAndDecodeAgree(t *testing.T) {
	cfg := testConfigs["gqa-untied"]
	m, _ := newTestModel(t, cfg, Options{})
	tokens := randTokens(25, cfg.VocabSize, 3)
	v := cfg.VocabSize
	one := make([]float64, v)
	c1 := m.NewCache()
	if err := m.Prefill(c1, tokens, one); err != nil {
		t.Fatal(err)
	}
	two := make([]float64, v)
	c2 := m.NewCache()
	if err := m.Prefill(c2, tokens[:11], two); err != nil {
		t.Fatal(err)
	}
	if err := m.Prefill(c2, tokens[11:], two); err != nil {
		t.Fatal(err)
	}
	step := make([]float64, v)
	c3 := m.NewCache()
	if err := m.Prefill(c3, tokens[:5], step); err != nil {
		t.Fatal(err)
	}
	for _, tok := range tokens[5:] {
		if err := m.DecodeBatch([]*Cache{c3}, []int{tok}, [][]float64{step}); err != nil {
			t.Fatal(err)
		}
	}
	if d := maxDiff(two, one); d > 1e-12 {
		t.Errorf("two-chunk prefill differs from one-shot by %g", d)
	}
	if d := maxDiff(step, one); d > 1e-12 {
		t.Errorf("prefill+decode differs from one-shot by %g", d)
	}
	// The caches themselves agree too.
	for l := 0; l < cfg.Layers; l++ {
		if d := maxDiff(c2.k[l][:c2.n*c2.kvDim], c1.k[l][:c1.n*c1.kvDim]); d > 1e-12 {
			t.Errorf("layer %d keys differ by %g", l, d)
		}
	}
}

func TestDecodeBatchMatchesAlone(t *testing.T) {
	for _, q8 := range []bool{false, true} {
		cfg := testConfigs["gqa-untied"]
		m, _ := newTestModel(t, cfg, Options{Quantize8: q8})
		v := cfg.VocabSize
		lens := []int{3, 9, 1, 17}
		prompts := make([][]int, len(lens))
		batch := make([]*Cache, len(lens))
		alone := make([]*Cache, len(lens))
		scratch := make([]float64, v)
		for i, n := range lens {
			prompts[i] = randTokens(n+6, v, uint64(10+i))
			batch[i], alone[i] = m.NewCache(), m.NewCache()
			for _, c := range []*Cache{batch[i], alone[i]} {
				if err := m.Prefill(c, prompts[i][:n], scratch); err != nil {
					t.Fatal(err)
				}
			}
		}
		dst := make([][]float64, len(lens))
		for i := range dst {
			dst[i] = make([]float64, v)
		}
		toks := make([]int, len(lens))
		for step := 0; step < 6; step++ {
			for i, n := range lens {
				toks[i] = prompts[i][n+step]
			}
			if err := m.DecodeBatch(batch, toks, dst); err != nil {
				t.Fatal(err)
			}
			for i := range lens {
				if err := m.DecodeBatch(alone[i:i+1], toks[i:i+1], [][]float64{scratch}); err != nil {
					t.Fatal(err)
				}
				// Rows of one GEMM vs a lone row: the same dot products, so
				// equal up to summation order inside the BLAS kernel.
				if d := maxDiff(dst[i], scratch); d > 1e-12 {
					t.Errorf("q8=%v step %d seq %d: batched logits differ from alone by %g", q8, step, i, d)
				}
			}
		}
	}
}

func TestCacheReuse(t *testing.T) {
	cfg := testConfigs["mha-tied"]
	m, w := newTestModel(t, cfg, Options{})
	v := cfg.VocabSize
	prefix := randTokens(12, v, 4)
	tailA := randTokens(7, v, 5)
	tailB := randTokens(9, v, 6)
	got := make([]float64, v)

	base := m.NewCache()
	if err := m.Prefill(base, prefix, got); err != nil {
		t.Fatal(err)
	}
	// CopyFrom: a fresh cache continuing from the shared prefix.
	c := m.NewCache()
	c.CopyFrom(base)
	if c.Len() != len(prefix) {
		t.Fatalf("copy has %d positions, want %d", c.Len(), len(prefix))
	}
	if err := m.Prefill(c, tailA, got); err != nil {
		t.Fatal(err)
	}
	want, _ := refForward(w, append(append([]int(nil), prefix...), tailA...))
	if d := maxDiff(got, want[len(want)-1]); d > 1e-9 {
		t.Errorf("prefix copy + tail differs from reference by %g", d)
	}
	if base.Len() != len(prefix) {
		t.Errorf("source cache changed length to %d", base.Len())
	}
	// Truncate back to the prefix and take another tail; storage reused.
	bytes := c.Bytes()
	c.Truncate(len(prefix))
	if err := m.Prefill(c, tailB, got); err != nil {
		t.Fatal(err)
	}
	want, _ = refForward(w, append(append([]int(nil), prefix...), tailB...))
	if d := maxDiff(got, want[len(want)-1]); d > 1e-9 {
		t.Errorf("truncate + other tail differs from reference by %g", d)
	}
	if c.Bytes() < bytes {
		t.Errorf("Bytes shrank from %d to %d", bytes, c.Bytes())
	}
	// CopyFrom into a cache that already holds more positions.
	c.CopyFrom(base)
	if err := m.Prefill(c, tailA, got); err != nil {
		t.Fatal(err)
	}
	want, _ = refForward(w, append(append([]int(nil), prefix...), tailA...))
	if d := maxDiff(got, want[len(want)-1]); d > 1e-9 {
		t.Errorf("CopyFrom over a longer cache differs by %g", d)
	}
	c.Truncate(-1)
	if c.Len() != 0 {
		t.Errorf("Truncate(-1) left %d positions", c.Len())
	}
	c.Truncate(100)
	if c.Len() != 0 {
		t.Errorf("Truncate past Len grew the cache to %d", c.Len())
	}
	if got, want := base.Bytes(), 2*cfg.Layers*16*cfg.KVHeads*cfg.HeadDim()*8; got != want {
		t.Errorf("Bytes = %d, want %d (16 positions allocated)", got, want)
	}
}

func TestEmbedMatchesReference(t *testing.T) {
	cfg := testConfigs["gqa-untied"]
	m, w := newTestModel(t, cfg, Options{})
	tokens := randTokens(13, cfg.VocabSize, 8)
	_, final := refForward(w, tokens)
	want := make([]float64, cfg.Dim)
	for _, f := range final {
		for i, x := range f {
			want[i] += x / float64(len(final))
		}
	}
	got, err := m.Embed(tokens)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(got, want); d > 1e-9 {
		t.Errorf("embedding differs from reference by %g", d)
	}
}

// Q8_0 tolerance: each weight and activation is rounded to within half a
// quantisation step, d/2 = max|block|/254, i.e. ≲0.4% of a block's largest
// value, with independent signs; through a few layers that stays around 1%
// of the logit scale. The bound 5% of max|logit| catches any layout or
// scale error (which gives O(100%) differences), and the top token must
// agree. The weights are those of the other tests with attention less
// sharp (Wq, Wk ×5 instead of ×15): with the sharp ones a near-tie
// between two keys can flip under any perturbation and one config moves
// by ~12% in pure Go and assembly alike.
func TestQ8CloseToFloat(t *testing.T) {
	for name, cfg := range testConfigs {
		w := testWeightsQK(t, cfg, 1, 5)
		mf, err := New(w, Options{})
		if err != nil {
			t.Fatal(err)
		}
		mq, err := New(w, Options{Quantize8: true, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		tokens := randTokens(20, cfg.VocabSize, 9)
		a, b := make([]float64, cfg.VocabSize), make([]float64, cfg.VocabSize)
		if err := mf.Prefill(mf.NewCache(), tokens, a); err != nil {
			t.Fatal(err)
		}
		if err := mq.Prefill(mq.NewCache(), tokens, b); err != nil {
			t.Fatal(err)
		}
		d := maxDiff(b, a)
		t.Logf("%s: q8 vs float64 max logit difference %.3g of max|logit|", name, d)
		if d > 0.05 {
			t.Errorf("%s: q8 logits differ from float64 by %g", name, d)
		}
		if argmax(a) != argmax(b) {
			t.Errorf("%s: q8 top token %d, float64 %d", name, argmax(b), argmax(a))
		}
	}
}

func argmax(x []float64) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

func TestQ8Quantization(t *testing.T) {
	// Known float16 encodings (IEEE 754 binary16).
	for _, tc := range []struct {
		f float32
		h uint16
	}{{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65520, 0x7c00}, {0.1, 0x2e66}, {1.0 / (1 << 24), 0x0001}, {1.0 / (1 << 25), 0}, {3.0 / (1 << 25), 0x0002}, {6.103515625e-05, 0x0400}, {0, 0}} {
		if got := f32ToF16(tc.f); got != tc.h {
			t.Errorf("f32ToF16(%g) = %#04x, want %#04x", tc.f, got, tc.h)
		}
		if back := f16ToF32(tc.h); tc.h != 0x7c00 && back != tc.f && tc.f != 1.0/(1<<25) && tc.f != 65520 && tc.f != 0.1 && tc.f != 3.0/(1<<25) {
			t.Errorf("f16ToF32(%#04x) = %g, want %g", tc.h, back, tc.f)
		}
	}
	if f16ToF32(0x2e66) != 0.0999755859375 {
		t.Errorf("f16ToF32(0x2e66) = %g", f16ToF32(0x2e66))
	}
	// A row of 40 values: two blocks, the second zero-padded; every value
	// within half a step (plus the float16 scale rounding) of the original.
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float64, 40)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	q := newQ8Matrix(x, 1, 40)
	if q.nb != 2 || len(q.qs) != 64 {
		t.Fatalf("nb=%d len(qs)=%d", q.nb, len(q.qs))
	}
	for i, v := range x {
		d := float64(q.d[i/32])
		if got := d * float64(q.qs[i]); math.Abs(got-v) > d/2+math.Abs(v)*1e-3 {
			t.Errorf("x[%d]=%g dequantises to %g (scale %g)", i, v, got, d)
		}
	}
	for i := 40; i < 64; i++ {
		if q.qs[i] != 0 {
			t.Errorf("padding q[%d] = %d", i, q.qs[i])
		}
	}
	// Round half away from zero, as C's roundf; the largest magnitude maps
	// to ±127 and the scale is max|x|/127.
	hx := make([]float64, 32)
	copy(hx, []float64{127, 63.5, -63.5, 0.5, -0.5, 1.49, -126.5})
	hq := newQ8Matrix(hx, 1, 32)
	for i, want := range []int8{127, 64, -64, 1, -1, 1, -127} {
		if hq.qs[i] != want {
			t.Errorf("q(%g) = %d, want %d", hx[i], hq.qs[i], want)
		}
	}
	if hq.d[0] != 1 {
		t.Errorf("scale %g, want 1", hq.d[0])
	}
	zero := newQ8Matrix(make([]float64, 32), 1, 32)
	if zero.d[0] != 0 || zero.qs[5] != 0 {
		t.Errorf("all-zero block: d=%g", zero.d[0])
	}
}

func TestErrors(t *testing.T) {
	cfg := testConfigs["gqa-untied"]
	m, _ := newTestModel(t, cfg, Options{})
	v := cfg.VocabSize
	dst := make([]float64, v)
	c := m.NewCache()
	check := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: error %v, want %v", what, err, want)
		}
	}
	check("bad token", m.Prefill(c, []int{1, v}, dst), ErrInput)
	check("negative token", m.Prefill(c, []int{-1}, dst), ErrInput)
	check("empty prompt", m.Prefill(c, nil, dst), ErrInput)
	check("short dst", m.Prefill(c, []int{1}, dst[:v-1]), ErrInput)
	check("nil cache", m.Prefill(nil, []int{1}, dst), ErrInput)
	check("too long", m.Prefill(c, make([]int, cfg.ContextLen+1), dst), ErrContextFull)
	if c.Len() != 0 {
		t.Fatalf("failed calls changed the cache to %d positions", c.Len())
	}
	if err := m.Prefill(c, make([]int, cfg.ContextLen), dst); err != nil {
		t.Fatal(err)
	}
	check("full decode", m.DecodeBatch([]*Cache{c}, []int{1}, [][]float64{dst}), ErrContextFull)
	check("full prefill", m.Prefill(c, []int{1}, dst), ErrContextFull)

	c2 := m.NewCache()
	check("length mismatch", m.DecodeBatch([]*Cache{c2}, []int{1, 2}, [][]float64{dst}), ErrInput)
	check("empty batch", m.DecodeBatch(nil, nil, nil), ErrInput)
	check("repeated cache", m.DecodeBatch([]*Cache{c2, c2}, []int{1, 2}, [][]float64{dst, dst}), ErrInput)
	check("bad decode token", m.DecodeBatch([]*Cache{c2}, []int{v}, [][]float64{dst}), ErrInput)
	check("short decode dst", m.DecodeBatch([]*Cache{c2}, []int{1}, [][]float64{dst[:1]}), ErrInput)
	check("nil decode cache", m.DecodeBatch([]*Cache{nil}, []int{1}, [][]float64{dst}), ErrInput)

	other, _ := newTestModel(t, testConfigs["mha-tied"], Options{})
	check("foreign cache", m.Prefill(other.NewCache(), []int{1}, dst), ErrInput)

	_, err := m.Embed(nil)
	check("empty embed", err, ErrInput)
	_, err = m.Embed(make([]int, cfg.ContextLen+1))
	check("long embed", err, ErrContextFull)
	_, err = m.Embed([]int{v + 3})
	check("bad embed token", err, ErrInput)

	_, err = New(nil, Options{})
	check("nil weights", err, ErrConfig)
	w, _ := NewRandom(cfg, 1)
	w.Layers[1].WUp = w.Layers[1].WUp[1:]
	_, err = New(w, Options{})
	check("short tensor", err, ErrConfig)
}

func TestConcurrentUse(t *testing.T) {
	defer goleak.VerifyNone(t)
	cfg := testConfigs["gqa-untied"]
	m, _ := newTestModel(t, cfg, Options{Threads: 2})
	tokens := randTokens(20, cfg.VocabSize, 11)
	want := make([]float64, cfg.VocabSize)
	if err := m.Prefill(m.NewCache(), tokens, want); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]float64, 4)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]float64, cfg.VocabSize)
			for range 5 {
				c := m.NewCache()
				if err := m.Prefill(c, tokens, got); err != nil {
					errs[g] = math.Inf(1)
					return
				}
				errs[g] = math.Max(errs[g], maxDiff(got, want))
			}
		}()
	}
	wg.Wait()
	for g, d := range errs {
		if d != 0 {
			t.Errorf("goroutine %d: logits differ by %g", g, d)
		}
	}
}

func TestDecodeAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	cfg := testConfigs["gqa-untied"]
	m, _ := newTestModel(t, cfg, Options{Threads: 1})
	c := m.NewCache()
	dst := [][]float64{make([]float64, cfg.VocabSize)}
	if err := m.Prefill(c, randTokens(30, cfg.VocabSize, 1), dst[0]); err != nil {
		t.Fatal(err)
	}
	caches, toks := []*Cache{c}, []int{3}
	allocs := testing.AllocsPerRun(5, func() {
		c.Truncate(30)
		if err := m.DecodeBatch(caches, toks, dst); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("single-thread decode allocates %g times per token", allocs)
	}
}

func TestGemmNT(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	tm := startTeam(3)
	defer tm.close()
	for _, sh := range [][3]int{{1, 1, 1}, {1, 4, 4}, {2, 4, 8}, {3, 7, 5}, {5, 9, 12}, {4, 8, 33}, {7, 13, 128}, {1, 2048, 128}, {50, 33, 36}} {
		m, n, k := sh[0], sh[1], sh[2]
		lda, ldb, ldc := k+3, k+1, n+2
		a := make([]float64, (m-1)*lda+k)
		b := make([]float64, (n-1)*ldb+k)
		for i := range a {
			a[i] = rng.NormFloat64()
		}
		for i := range b {
			b[i] = rng.NormFloat64()
		}
		for _, acc := range []bool{false, true} {
			for kernel, f := range map[string]func(int, int, int, []float64, int, []float64, int, []float64, int, bool){
				"dispatch": gemmNT, "go": gemmNTGo,
				"par3": func(m, n, k int, a []float64, lda int, b []float64, ldb int, c []float64, ldc int, acc bool) {
					gemmNTPar(tm, m, n, k, a, lda, b, ldb, c, ldc, acc)
				},
			} {
				c := make([]float64, (m-1)*ldc+n)
				for i := range c {
					c[i] = float64(i % 7)
				}
				f(m, n, k, a, lda, b, ldb, c, ldc, acc)
				for i := 0; i < m; i++ {
					for j := 0; j < n; j++ {
						var want float64
						for l := 0; l < k; l++ {
							want += a[i*lda+l] * b[j*ldb+l]
						}
						if acc {
							want += float64((i*ldc + j) % 7)
						}
						if got := c[i*ldc+j]; math.Abs(got-want) > 1e-12*(1+math.Abs(want))*float64(k) {
							t.Fatalf("%s %v acc=%v: C[%d][%d] = %g, want %g", kernel, sh, acc, i, j, got, want)
						}
					}
				}
				// Padding between rows is untouched.
				for i := 0; i < m-1; i++ {
					for j := n; j < ldc; j++ {
						if c[i*ldc+j] != float64((i*ldc+j)%7) {
							t.Fatalf("%s %v: padding C[%d][%d] written", kernel, sh, i, j)
						}
					}
				}
			}
		}
	}
	t.Logf("AVX2+FMA kernels: %v", hasAVX2FMA)
}

func TestProbsTimesV(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, sh := range [][2]int{{0, 16}, {1, 16}, {2, 32}, {3, 20}, {7, 48}, {200, 32}, {5, 6}} {
		n, w := sh[0], sh[1]
		ldv := w + 5
		p := make([]float64, n)
		v := make([]float64, max(0, (n-1)*ldv+w))
		for i := range p {
			p[i] = rng.Float64()
		}
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		out := make([]float64, w)
		for i := range out {
			out[i] = 99
		}
		probsTimesV(p, v, ldv, out)
		for c := range out {
			var want float64
			for j := range p {
				want += p[j] * v[j*ldv+c]
			}
			if math.Abs(out[c]-want) > 1e-12*(1+math.Abs(want)) {
				t.Fatalf("n=%d w=%d: out[%d] = %g, want %g", n, w, c, out[c], want)
			}
		}
	}
}

func TestExpSubSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 3, 4, 7, 64, 203} {
		x := make([]float64, n)
		for i := range x {
			switch i % 5 {
			case 0:
				x[i] = rng.NormFloat64() * 3
			case 1:
				x[i] = -rng.Float64() * 700
			case 2:
				x[i] = rng.Float64() * 700
			case 3:
				x[i] = -1e-3 * rng.Float64()
			default:
				x[i] = 0
			}
		}
		const sub = 0.75
		want := make([]float64, n)
		var wantSum float64
		for i, v := range x {
			want[i] = math.Exp(v - sub)
			wantSum += want[i]
		}
		got := append([]float64(nil), x...)
		sum := expSubSum(got, sub)
		for i := range got {
			if math.Abs(got[i]-want[i]) > 4e-16*want[i] {
				t.Fatalf("n=%d: exp(%g) = %.17g, math.Exp %.17g", n, x[i]-sub, got[i], want[i])
			}
		}
		if math.Abs(sum-wantSum) > 1e-14*wantSum {
			t.Errorf("n=%d: sum %g, want %g", n, sum, wantSum)
		}
	}
	// Below the clamp the result is tiny, never zero or garbage.
	x := []float64{-800, -1000, -5000, math.Inf(-1)}
	expSubSum(x, 0)
	for i, v := range x {
		if v < 0 || v > 1e-300 {
			t.Errorf("exp of a very negative value %d = %g", i, v)
		}
	}
}

// The Q8 product (AVX2 kernel where available) equals the Q8_0 formula
// Σ_b d_w·d_x·Σ q_w·q_x computed plainly, up to its float32 accumulation.
func TestQ8MatrixMul(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, sh := range [][3]int{{1, 5, 32}, {3, 17, 40}, {2, 64, 128}, {4, 9, 384}} {
		rows, out, in := sh[0], sh[1], sh[2]
		w := make([]float64, out*in)
		x := make([]float64, rows*in)
		for i := range w {
			w[i] = rng.NormFloat64()
		}
		for i := range x {
			x[i] = rng.NormFloat64()
		}
		q := newQ8Matrix(w, out, in)
		nb := q.nb
		qx := make([]int8, rows*nb*q8Block)
		dx := make([]float32, rows*nb)
		for _, acc := range []bool{false, true} {
			y := make([]float64, rows*out)
			for i := range y {
				y[i] = 1
			}
			tm := startTeam(2)
			q.mul(y, x, rows, acc, qx, dx, tm)
			tm.close()
			for r := 0; r < rows; r++ {
				for o := 0; o < out; o++ {
					var want float64
					for b := 0; b < nb; b++ {
						var s int
						for i := 0; i < q8Block; i++ {
							s += int(q.qs[(o*nb+b)*q8Block+i]) * int(qx[(r*nb+b)*q8Block+i])
						}
						want += float64(q.d[o*nb+b]*dx[r*nb+b]) * float64(s)
					}
					if acc {
						want++
					}
					if got := y[r*out+o]; math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
						t.Fatalf("%v acc=%v: y[%d][%d] = %g, want %g", sh, acc, r, o, got, want)
					}
				}
			}
		}
	}
}

func TestProbsTimesV2(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, sh := range [][2]int{{1, 16}, {5, 32}, {200, 32}, {3, 8}} {
		n, w := sh[0], sh[1]
		ldv := 2*w + 3
		p0, p1 := make([]float64, n), make([]float64, n)
		v := make([]float64, (n-1)*ldv+w)
		for i := range p0 {
			p0[i], p1[i] = rng.Float64(), rng.Float64()
		}
		for i := range v {
			v[i] = rng.NormFloat64()
		}
		o0, o1 := make([]float64, w), make([]float64, w)
		probsTimesV2(p0, p1, v, ldv, o0, o1)
		for c := 0; c < w; c++ {
			var w0, w1 float64
			for j := 0; j < n; j++ {
				w0 += p0[j] * v[j*ldv+c]
				w1 += p1[j] * v[j*ldv+c]
			}
			if math.Abs(o0[c]-w0) > 1e-12*(1+math.Abs(w0)) || math.Abs(o1[c]-w1) > 1e-12*(1+math.Abs(w1)) {
				t.Fatalf("n=%d w=%d c=%d: got %g %g, want %g %g", n, w, c, o0[c], o1[c], w0, w1)
			}
		}
	}
}

// On the d128 benchmark model (NewRandom weights, as a fresh trainer
// starts from) Q8 moves the logits by about 1% of their largest magnitude
// (measured 0.0088 of 0.84); the bound is 3%.
func TestQ8OnBenchConfig(t *testing.T) {
	cfg := benchConfigs[0].cfg
	w, err := NewRandom(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	mf, _ := New(w, Options{})
	mq, _ := New(w, Options{Quantize8: true})
	tokens := randTokens(64, cfg.VocabSize, 3)
	a, b := make([]float64, cfg.VocabSize), make([]float64, cfg.VocabSize)
	if err := mf.Prefill(mf.NewCache(), tokens, a); err != nil {
		t.Fatal(err)
	}
	if err := mq.Prefill(mq.NewCache(), tokens, b); err != nil {
		t.Fatal(err)
	}
	var maxAbs, maxDiffAbs float64
	for i := range a {
		maxAbs = math.Max(maxAbs, math.Abs(a[i]))
		maxDiffAbs = math.Max(maxDiffAbs, math.Abs(a[i]-b[i]))
	}
	t.Logf("d128 NewRandom: max|logit| %.4g, max q8 difference %.3g (%.2g of max)", maxAbs, maxDiffAbs, maxDiffAbs/maxAbs)
	if maxDiffAbs > 0.03*maxAbs {
		t.Errorf("q8 logits differ by %g of max|logit| %g", maxDiffAbs, maxAbs)
	}
}

// Every chunk of every region runs exactly once, on a member index in
// range, whether helpers are spinning or parked (idle gaps longer than
// their spin budget), and close leaves no goroutine behind.
func TestTeam(t *testing.T) {
	defer goleak.VerifyNone(t)
	for _, n := range []int{1, 2, 3} {
		tm := startTeam(n)
		for region := 0; region < 200; region++ {
			chunks := region % 37
			counts := make([]atomic.Int32, chunks)
			var badMember atomic.Bool
			tm.run(chunks, func(w, c int) {
				if w < 0 || w >= n {
					badMember.Store(true)
				}
				counts[c].Add(1)
			})
			for c := range counts {
				if got := counts[c].Load(); got != 1 {
					t.Fatalf("n=%d region %d: chunk %d ran %d times", n, region, c, got)
				}
			}
			if badMember.Load() {
				t.Fatalf("n=%d: member index out of range", n)
			}
			if region%50 == 49 {
				time.Sleep(5 * time.Millisecond) // let helpers park
			}
		}
		sum := make([]int, 1000)
		tm.parallelFor(len(sum), 7, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				sum[i]++
			}
		})
		for i, v := range sum {
			if v != 1 {
				t.Fatalf("n=%d: parallelFor visited %d %d times", n, i, v)
			}
		}
		tm.close()
	}
}

// f32ToF16 is gguf.Float16Bits for a float32 (widening to float64 is
// exact, so it rounds once, to nearest even, as ggml's GGML_FP32_TO_FP16).
func f32ToF16(f float32) uint16 { return gguf.Float16Bits(float64(f)) }

// f16ToF32 is gguf.Float16ToFloat64 narrowed to float32 (exact).
func f16ToF32(h uint16) float32 { return float32(gguf.Float16ToFloat64(h)) }

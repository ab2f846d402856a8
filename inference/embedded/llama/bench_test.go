package llama

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"testing"
	"time"
)

// Benchmark configurations from issue 3 (the embedded tier's two sizes).
var benchConfigs = []struct {
	name string
	cfg  Config
}{
	{"d128", Config{VocabSize: 2048, Dim: 128, Layers: 4, Heads: 4, KVHeads: 2, FFNDim: 384, ContextLen: 512, RopeTheta: 10000, NormEps: 1e-5}},
	{"d192", Config{VocabSize: 2048, Dim: 192, Layers: 4, Heads: 6, KVHeads: 2, FFNDim: 512, ContextLen: 512, RopeTheta: 10000, NormEps: 1e-5}},
}

var benchModes = []struct {
	name string
	opts Options
}{{"f64", Options{}}, {"q8", Options{Quantize8: true}}}

// flopsPerToken counts 2 FLOPs per multiply-add: every weight matrix once
// (the output projection only when logits are wanted) plus attention's
// q·k and p·v over ctx cached positions.
func flopsPerToken(c Config, ctx int, logits bool) float64 {
	kv := c.KVHeads * c.HeadDim()
	mats := c.Layers * (2*c.Dim*c.Dim + 2*kv*c.Dim + 3*c.FFNDim*c.Dim)
	if logits {
		mats += c.VocabSize * c.Dim
	}
	att := c.Layers * 2 * c.Dim * ctx
	return 2 * float64(mats+att)
}

func benchModel(b *testing.B, cfg Config, opts Options) *Model {
	b.Helper()
	w, err := NewRandom(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	m, err := New(w, opts)
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkPrefill: 50 new tokens after a 150-token cached prefix (the
// cache is truncated back to the prefix each iteration).
func BenchmarkPrefill(b *testing.B) {
	for _, bc := range benchConfigs {
		for _, mode := range benchModes {
			b.Run(bc.name+"/"+mode.name, func(b *testing.B) {
				m := benchModel(b, bc.cfg, mode.opts)
				c := m.NewCache()
				dst := make([]float64, bc.cfg.VocabSize)
				if err := m.Prefill(c, randTokens(150, bc.cfg.VocabSize, 1), dst); err != nil {
					b.Fatal(err)
				}
				tail := randTokens(50, bc.cfg.VocabSize, 2)
				var flops float64
				for i := range 50 {
					flops += flopsPerToken(bc.cfg, 150+i+1, false)
				}
				flops += 2 * float64(bc.cfg.VocabSize*bc.cfg.Dim)
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					c.Truncate(150)
					if err := m.Prefill(c, tail, dst); err != nil {
						b.Fatal(err)
					}
				}
				sec := b.Elapsed().Seconds() / float64(b.N)
				b.ReportMetric(sec*1e3, "ms/prefill")
				b.ReportMetric(50/sec, "tokens/s")
				b.ReportMetric(flops/sec/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkDecode: one DecodeBatch step of B sequences each holding 200
// tokens (truncated back each iteration).
func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchConfigs {
		for _, mode := range benchModes {
			for _, batch := range []int{1, 2, 4} {
				b.Run(fmt.Sprintf("%s/%s/B=%d", bc.name, mode.name, batch), func(b *testing.B) {
					m := benchModel(b, bc.cfg, mode.opts)
					v := bc.cfg.VocabSize
					caches := make([]*Cache, batch)
					dst := make([][]float64, batch)
					toks := make([]int, batch)
					for i := range caches {
						caches[i] = m.NewCache()
						dst[i] = make([]float64, v)
						if err := m.Prefill(caches[i], randTokens(200, v, uint64(i)), dst[i]); err != nil {
							b.Fatal(err)
						}
						toks[i] = i + 1
					}
					b.ReportAllocs()
					b.ResetTimer()
					for b.Loop() {
						for _, c := range caches {
							c.Truncate(200)
						}
						if err := m.DecodeBatch(caches, toks, dst); err != nil {
							b.Fatal(err)
						}
					}
					sec := b.Elapsed().Seconds() / float64(b.N)
					b.ReportMetric(float64(batch)/sec, "tokens/s")
					b.ReportMetric(float64(batch)*flopsPerToken(bc.cfg, 201, true)/sec/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkReply is issue 3's latency target: two requests in flight, each
// a 200-token prompt whose first 150 tokens are a cached prefix (CopyFrom),
// prefilled one after the other, then a 24-token greedy reply for both
// (the first token from the prefill logits, 23 batched B=2 decode steps).
// It reports the p50 and p99 of the whole thing's wall time.
func BenchmarkReply(b *testing.B) {
	for _, bc := range benchConfigs {
		for _, mode := range benchModes {
			b.Run(bc.name+"/"+mode.name, func(b *testing.B) {
				runReplies(b, benchModel(b, bc.cfg, mode.opts), bc.cfg)
			})
		}
	}
}

// runReplies times BenchmarkReply's workload on m: per iteration, two
// requests whose 150-token prefix is copied from a cached one, 50-token
// prefills, then 23 greedy B=2 decode steps; it reports p50/p99 ms.
func runReplies(b *testing.B, m *Model, cfg Config) {
	v := cfg.VocabSize
	prefix := m.NewCache()
	dst := [][]float64{make([]float64, v), make([]float64, v)}
	if err := m.Prefill(prefix, randTokens(150, v, 1), dst[0]); err != nil {
		b.Fatal(err)
	}
	tails := [][]int{randTokens(50, v, 2), randTokens(50, v, 3)}
	caches := []*Cache{m.NewCache(), m.NewCache()}
	toks := make([]int, 2)
	var times []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		for i, c := range caches {
			c.CopyFrom(prefix)
			if err := m.Prefill(c, tails[i], dst[i]); err != nil {
				b.Fatal(err)
			}
			toks[i] = argmax(dst[i])
		}
		for range 23 {
			if err := m.DecodeBatch(caches, toks, dst); err != nil {
				b.Fatal(err)
			}
			for i := range toks {
				toks[i] = argmax(dst[i])
			}
		}
		times = append(times, time.Since(start))
	}
	slices.Sort(times)
	q := func(p float64) float64 {
		return float64(times[min(len(times)-1, int(p*float64(len(times))))]) / 1e6
	}
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

// BenchmarkParMin sweeps parMinFlops, the size above which a weight
// product is split over Threads goroutines, on BenchmarkReply's d128
// workload (mean ms per reply).
func BenchmarkParMin(b *testing.B) {
	cfg := benchConfigs[0].cfg
	saved := parMinFlops
	defer func() { parMinFlops = saved }()
	for _, mode := range benchModes {
		m := benchModel(b, cfg, mode.opts)
		for _, pm := range []int{1 << 14, 1 << 16, 1 << 18, 1 << 20} {
			b.Run(fmt.Sprintf("%s/min=2^%d", mode.name, bits.Len(uint(pm))-1), func(b *testing.B) {
				parMinFlops = pm
				runReplies(b, m, cfg)
			})
		}
		b.Run(mode.name+"/never", func(b *testing.B) {
			parMinFlops = math.MaxInt
			runReplies(b, m, cfg)
		})
		opts := mode.opts
		opts.Threads = 1
		m1 := benchModel(b, cfg, opts)
		b.Run(mode.name+"/threads=1", func(b *testing.B) { runReplies(b, m1, cfg) })
	}
}

// BenchmarkGemmKernels compares the float64 weight-product kernels (the
// assembly gemmNT, the plain-Go gemmNTGo, gonum's Dgemm) on d128's
// 50-token prefill after 150 cached tokens plus 10 decode steps with B=2,
// at 1 and 2 threads (gonum always splits over GOMAXPROCS itself).
func BenchmarkGemmKernels(b *testing.B) {
	cfg := benchConfigs[0].cfg
	for _, kernel := range []struct {
		name string
		k    int
	}{{"asm", kernelAuto}, {"go", kernelGo}, {"gonum", kernelGonum}} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/threads=%d", kernel.name, threads), func(b *testing.B) {
				benchKernel = kernel.k
				defer func() { benchKernel = kernelAuto }()
				m := benchModel(b, cfg, Options{Threads: threads})
				v := cfg.VocabSize
				caches := []*Cache{m.NewCache(), m.NewCache()}
				dst := [][]float64{make([]float64, v), make([]float64, v)}
				for i, c := range caches {
					if err := m.Prefill(c, randTokens(150, v, uint64(i)), dst[i]); err != nil {
						b.Fatal(err)
					}
				}
				tail := randTokens(50, v, 5)
				toks := []int{1, 2}
				for b.Loop() {
					caches[0].Truncate(150)
					caches[1].Truncate(150)
					if err := m.Prefill(caches[0], tail, dst[0]); err != nil {
						b.Fatal(err)
					}
					for range 10 {
						if err := m.DecodeBatch(caches, toks, dst); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}

// BenchmarkGEMMPeak is the machine's measured GEMM rate, the yardstick the
// model's achieved FLOP/s is a ratio of (issue 3): a 256×256×256 float64
// product (C = A·Bᵀ, the layout every weight product uses) with the
// assembly kernel, on 1 and 2 threads.
//
//	go test ./inference/embedded/llama -run XXX -bench GEMMPeak
func BenchmarkGEMMPeak(b *testing.B) {
	const n = 256
	a, bm, c := make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
	for i := range a {
		a[i], bm[i] = float64(i%7)-3, float64(i%5)-2
	}
	for _, threads := range []int{1, 2} {
		b.Run(fmt.Sprintf("threads=%d", threads), func(b *testing.B) {
			t := startTeam(threads)
			if t != nil {
				defer t.close()
			}
			for b.Loop() {
				if t == nil {
					gemmNT(n, n, n, a, n, bm, n, c, n, false)
				} else {
					gemmNTPar(t, n, n, n, a, n, bm, n, c, n, false)
				}
			}
			b.ReportMetric(2*n*n*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

package train

import (
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// benchConfig is the reference small model: Dim 128, 4 layers, 4 heads
// (2 kv), FFN 384, vocabulary 2048, context 256, untied.
func benchConfig() llama.Config {
	return llama.Config{VocabSize: 2048, Dim: 128, Layers: 4, Heads: 4, KVHeads: 2, FFNDim: 384,
		ContextLen: 256, RopeTheta: 10000, NormEps: 1e-5}
}

// matmulFLOPs is the training FLOPs per step counted the usual way
// (Kaplan et al. 2020, 6·N per token for the N matmul weights, forward +
// backward, plus 12·layers·d per (query, key) pair of the causal triangle
// for attention scores and values), with the output
// projection counted only for target rows, since only those are computed.
func matmulFLOPs(cfg llama.Config, batch []Example) float64 {
	hd := cfg.HeadDim()
	perLayer := float64(cfg.Heads*hd*cfg.Dim*2 + cfg.KVHeads*hd*cfg.Dim*2 + 3*cfg.FFNDim*cfg.Dim)
	var f float64
	for _, e := range batch {
		n := float64(e.positions())
		f += 6*n*perLayer*float64(cfg.Layers) + 6*float64(e.targets())*float64(cfg.VocabSize*cfg.Dim)
		f += 12 * float64(cfg.Layers) * n * (n + 1) / 2 * float64(cfg.Dim)
	}
	return f
}

// benchTrainStep measures one optimizer step on a 4096-token batch of 16
// sequences of 256 tokens (ContextLen positions each), the loss on the
// positions from prompt on, and reports tokens/s (positions per second)
// and achieved GFLOP/s by matmulFLOPs. GEMM_GONUM=1 runs the products on
// gonum's Dgemm instead of llama.GemmNT (see useGemmNT), GONUM_PARALLEL=1
// lets gonum parallelise each product itself (see gonumParallel), for
// comparison.
func benchTrainStep(b *testing.B, prompt int) {
	gonumParallel = os.Getenv("GONUM_PARALLEL") == "1"
	fast := useGemmNT
	useGemmNT = fast && os.Getenv("GEMM_GONUM") != "1"
	defer func() { gonumParallel, useGemmNT = false, fast }()
	cfg := benchConfig()
	rng := rand.New(rand.NewPCG(1, 1))
	ex := make([]Example, 16)
	for i := range ex {
		toks := make([]int, cfg.ContextLen+1)
		for j := range toks {
			toks[j] = rng.IntN(cfg.VocabSize)
		}
		ex[i] = Example{Tokens: toks, PromptLen: prompt}
	}
	w, err := llama.NewRandom(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	opt := DefaultOptions()
	opt.BatchTokens, opt.ValFraction, opt.Steps = 16*(cfg.ContextLen+1), 0, 1<<30
	tr, err := New(w, nil, ex, opt, Runtime{})
	if err != nil {
		b.Fatal(err)
	}
	flops := matmulFLOPs(cfg, ex)
	positions := 16 * cfg.ContextLen
	for b.Loop() {
		if _, err := tr.TrainStep(); err != nil {
			b.Fatal(err)
		}
	}
	s := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(positions)/s, "tokens/s")
	b.ReportMetric(flops/s/1e9, "GFLOP/s")
	b.ReportMetric(0, "ns/op")
	b.Logf("params %d, %.1f GFLOP/step, %.3fs/step, %d workers", cfg.Params(), flops/1e9, s, len(tr.workers))
}

// BenchmarkTrainStepAllTargets: the loss on every position.
//
//	go test ./inference/embedded/train/ -run '^$' -bench TrainStep -benchtime 3x -cpu 1,2
func BenchmarkTrainStepAllTargets(b *testing.B) { benchTrainStep(b, 1) }

// BenchmarkTrainStepResponseQuarter: the loss on the last 64 of 256
// positions, as for a prompt/response corpus (the output projection runs
// for those rows only).
func BenchmarkTrainStepResponseQuarter(b *testing.B) { benchTrainStep(b, 193) }

func gemmOperands() (a, bb, c []float64) {
	const n = 256
	a, bb, c = make([]float64, n*n), make([]float64, n*n), make([]float64, n*n)
	for i := range a {
		a[i], bb[i] = float64(i%7)*0.1, float64(i%5)*0.1
	}
	return
}

const gemmFLOPs = 2 * 256 * 256 * 256

// BenchmarkGEMM256Gonum is the GEMM ceiling as the brief measured it: one
// 256×256×256 gonum Dgemm (C = A·B, parallel over GOMAXPROCS), GFLOP/s.
//
//	go test ./inference/embedded/train/ -run '^$' -bench GEMM256 -cpu 1,2
func BenchmarkGEMM256Gonum(b *testing.B) {
	a, bb, c := gemmOperands()
	for b.Loop() {
		impl.Dgemm(noT, noT, 256, 256, 256, 1, a, 256, bb, 256, 0, c, 256)
	}
	b.ReportMetric(gemmFLOPs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGEMM256Tiled is the same product by gemm, on one goroutine: one
// core's ceiling.
func BenchmarkGEMM256Tiled(b *testing.B) {
	a, bb, c := gemmOperands()
	for b.Loop() {
		gemm(noT, noT, 256, 256, 256, 1, a, 256, bb, 256, 0, c, 256)
	}
	b.ReportMetric(gemmFLOPs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkGEMM256TiledParallel runs GOMAXPROCS independent tiled products
// (8 each per op) at once: the machine's aggregate ceiling for the
// trainer's shard workers.
func BenchmarkGEMM256TiledParallel(b *testing.B) {
	p := runtime.GOMAXPROCS(0)
	ops := make([][3][]float64, p)
	for i := range ops {
		ops[i][0], ops[i][1], ops[i][2] = gemmOperands()
	}
	for b.Loop() {
		var wg sync.WaitGroup
		for i := range p {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o := ops[i]
				for range 8 {
					gemm(noT, noT, 256, 256, 256, 1, o[0], 256, o[1], 256, 0, o[2], 256)
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(8*float64(p)*gemmFLOPs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

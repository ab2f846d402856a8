package embedded_test

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/embedded"
	"github.com/hearth-ai/hearth/inference/embedded/bpe"
	"github.com/hearth-ai/hearth/inference/embedded/llama"
	"github.com/hearth-ai/hearth/sim/world"
)

// shippedConfig is the shipped model's shape (docs/models.md); speed does
// not depend on the weights' values, so the benchmarks use random weights
// of this shape with a 2048-token tokenizer trained on the demo lore.
var shippedConfig = llama.Config{VocabSize: 2048, Dim: 128, Layers: 4, Heads: 4, KVHeads: 2, FFNDim: 384,
	ContextLen: 512, RopeTheta: 10000, NormEps: 1e-5}

func benchEngine(b *testing.B, opts embedded.Options) (*embedded.Engine, *bpe.Tokenizer) {
	b.Helper()
	var texts []string
	_ = fs.WalkDir(world.FS(), "lore", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := fs.ReadFile(world.FS(), p)
			texts = append(texts, string(data))
		}
		return nil
	})
	tk, err := bpe.Train(texts, shippedConfig.VocabSize, []string{"<|bos|>", "<|eos|>", "<|pad|>"})
	if err != nil {
		b.Fatal(err)
	}
	cfg := shippedConfig
	cfg.VocabSize = tk.VocabSize()
	w, err := llama.NewRandom(cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	e, err := embedded.New(w, tk, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close() })
	return e, tk
}

// promptOf returns text of exactly n tokens (after BOS for the prefix)
// cut from the demo lore, so benchmarks run the shape issue 3 sets.
func promptOf(b *testing.B, tk *bpe.Tokenizer, words []string, n int) string {
	var sb strings.Builder
	for _, w := range words {
		next := sb.String() + " " + w
		if len(tk.Encode(next)) > n {
			break
		}
		sb.WriteString(" " + w)
	}
	if got := len(tk.Encode(sb.String())); got < n-2 {
		b.Fatalf("prompt of %d tokens, want %d", got, n)
	}
	return sb.String()
}

func loreWords() []string {
	data, _ := fs.ReadFile(world.FS(), "lore/kettleford.md")
	return strings.Fields(string(data))
}

// BenchmarkNPCReply is issue 3's speed target: a 24-token reply to a
// 200-token prompt whose first 150 tokens are a cached prefix, with two
// requests in flight. It reports the latency quantiles of single replies
// (p50-ms, p99-ms) and the tokens generated per second.
//
// Sub-benchmarks: threads per forward pass (1: the default inside a game
// process, which keeps a core; 2: a standalone server), float64 or Q8_0
// weights, and requests in flight.
//
//	go test ./inference/embedded -run XXX -bench NPCReply -benchtime 200x
func BenchmarkNPCReply(b *testing.B) {
	for _, c := range []struct {
		threads, inflight int
		q8                bool
	}{{1, 1, false}, {1, 2, false}, {1, 2, true}, {2, 1, false}, {2, 2, false}, {2, 2, true}, {2, 4, false}} {
		name := fmt.Sprintf("threads=%d/f64/inflight=%d", c.threads, c.inflight)
		if c.q8 {
			name = fmt.Sprintf("threads=%d/q8/inflight=%d", c.threads, c.inflight)
		}
		inflight := c.inflight
		b.Run(name, func(b *testing.B) {
			e, tk := benchEngine(b, embedded.Options{Stop: []string{}, Threads: c.threads, Quantize8: c.q8})
			words := loreWords()
			prefix := promptOf(b, tk, words, 149) // + BOS = 150 tokens
			rest := promptOf(b, tk, words[len(words)/2:], 50)
			req := func(seed uint64) *inference.Request {
				return &inference.Request{SmallPrompt: prefix + rest, SmallPrefixBytes: len(prefix), MaxTokens: 24,
					Seed: seed, Temperature: 0.7}
			}
			// Warm the prefix cache and the scratch buffers.
			if _, err := e.Generate(context.Background(), req(0), nil); err != nil {
				b.Fatal(err)
			}
			var (
				mu     sync.Mutex
				lat    []time.Duration
				tokens int
				wg     sync.WaitGroup
				next   = make(chan uint64)
			)
			b.ResetTimer()
			start := time.Now()
			for range inflight {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for seed := range next {
						t0 := time.Now()
						res, err := e.Generate(context.Background(), req(seed), nil)
						d := time.Since(t0)
						if err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						lat = append(lat, d)
						tokens += res.Tokens
						if res.PromptTokens != 200 && res.PromptTokens != 199 && res.PromptTokens != 201 {
							b.Errorf("prompt of %d tokens", res.PromptTokens)
						}
						mu.Unlock()
					}
				}()
			}
			for i := range b.N {
				next <- uint64(i + 1)
			}
			close(next)
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			q := func(p float64) float64 { return float64(lat[min(int(p*float64(len(lat))), len(lat)-1)]) / 1e6 }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(float64(tokens)/float64(len(lat)), "tokens/reply")
			b.ReportMetric(float64(tokens)/elapsed.Seconds(), "tokens/s")
			hits, misses := e.PrefixCacheStats()
			if misses != 1 || hits == 0 {
				b.Errorf("prefix cache: %d hits, %d misses; want every request after the first to hit", hits, misses)
			}
		})
	}
}

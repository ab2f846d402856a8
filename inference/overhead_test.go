package inference_test

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

// instantModel answers at once on the caller's goroutine: what is left of a
// Router call around it is the Router's own overhead.
type instantModel struct{ info inference.Info }

func (m instantModel) Info() inference.Info { return m.info }

func (m instantModel) Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	if sink != nil {
		sink(inference.Delta{Text: "Well met."})
	}
	return inference.Result{Text: "Well met.", Tokens: 2}, nil
}

// BenchmarkRouterOverhead is issue 4's decision-overhead proof, after a
// warm-up to steady state: a request with a cache key that misses the
// response cache, two backends to choose
// from (a remote one that does not fit the 50 ms budget and is skipped, an
// instant one that answers), a streaming sink, the bookkeeping (estimates,
// breaker, cache fill). It reports the p50 and p99 of one call through the
// Router and, measured the same way in the same run, of calling the
// instant backend directly; overhead-p99-µs is their difference.
func BenchmarkRouterOverhead(b *testing.B) {
	b.Run("cache-miss", func(b *testing.B) { benchRouterOverhead(b, true, false) })
	b.Run("cache-miss-inline", func(b *testing.B) { benchRouterOverhead(b, true, true) })
	b.Run("no-cache", func(b *testing.B) { benchRouterOverhead(b, false, false) })
	b.Run("no-cache-inline", func(b *testing.B) { benchRouterOverhead(b, false, true) })
}

// benchRouterOverhead: withCache puts the response cache in front (every
// lookup misses); inline marks the instant backend Info.Inline, as the
// embedded model is, so the Router calls it on the caller's goroutine.
func benchRouterOverhead(b *testing.B, withCache, inline bool) {
	remote := instantModel{inference.Info{Name: "remote", Tier: inference.TierRemote, Quality: 100,
		ExpectedTTFT: 400 * time.Millisecond, ExpectedTokensPerSecond: 50}}
	fast := instantModel{inference.Info{Name: "fast", Tier: inference.TierEmbedded, Quality: 50,
		ExpectedTTFT: time.Microsecond, ExpectedTokensPerSecond: 1e6, Inline: inline}}
	// A cache the warm-up fills, so that every measured fill also evicts:
	// the steady state of a server, and more work per Set than a cache
	// that still grows (4 MiB: about 14,000 of these answers).
	cache, err := inference.NewResponseCache(inference.CacheOptions{MaxBytes: 4 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer cache.Close()
	opts := inference.RouterOptions{NoHedging: true}
	if withCache {
		opts.Cache = cache
	}
	r, err := inference.NewRouter(template.New(), []inference.Model{remote, fast}, opts)
	if err != nil {
		b.Fatal(err)
	}
	const keys = 1 << 17
	reqs := make([]inference.Request, keys)
	for i := range reqs {
		reqs[i] = *dialogue
		reqs[i].CacheKey = "miss-" + strconv.Itoa(i) // every call takes the next key: a miss
	}
	sink := func(inference.Delta) {}
	measure := func(n int, call func(i int)) []float64 {
		out := make([]float64, 0, n)
		for i := range n {
			t0 := time.Now()
			call(i)
			out = append(out, float64(time.Since(t0).Nanoseconds())/1e3)
		}
		slices.Sort(out)
		return out
	}
	next := 0 // the next request's key
	call := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		if _, err := r.Generate(ctx, &reqs[next%keys], sink); err != nil {
			b.Fatal(err)
		}
		next++
		cancel()
	}
	// Warm up to the steady state a server is in (a full cache, a heap
	// the collector has sized, estimates learned), so that the percentiles
	// are not those of the first fills: 20,000 calls, untimed (b.Loop
	// resets the timer).
	for range 20000 {
		call()
	}
	routed := make([]float64, 0, 1<<16)
	b.ReportAllocs()
	for b.Loop() {
		t0 := time.Now()
		call()
		routed = append(routed, float64(time.Since(t0).Nanoseconds())/1e3)
	}
	b.StopTimer()
	slices.Sort(routed)
	// The same number of direct calls, timed the same way, in the same run.
	direct := measure(len(routed), func(i int) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		if _, err := fast.Generate(ctx, &reqs[i%keys], sink); err != nil {
			b.Fatal(err)
		}
		cancel()
	})
	q := func(s []float64, p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	b.ReportMetric(q(routed, 0.5), "router-p50-µs")
	b.ReportMetric(q(routed, 0.99), "router-p99-µs")
	b.ReportMetric(q(direct, 0.5), "direct-p50-µs")
	b.ReportMetric(q(direct, 0.99), "direct-p99-µs")
	b.ReportMetric(q(routed, 0.99)-q(direct, 0.99), "overhead-p99-µs")
	if st := r.Stats(); st[0].Calls != 0 || st[1].Calls == 0 {
		b.Fatalf("remote called %d times, fast %d; want the remote skipped", st[0].Calls, st[1].Calls)
	}
}

// TestInlineBackend: a backend marked Info.Inline is called on the
// caller's goroutine, so the Router neither hedges it nor needs its own
// goroutine; its answer, streaming and deadline behave as for any other.
func TestInlineBackend(t *testing.T) {
	slow := model("slow-inline", 100, time.Millisecond, "Slow", "but", "sure.")
	slow.info.Inline = true
	slow.delay = 20 * time.Millisecond // far past its 1 ms expected first token: a hedge would be due
	next := model("next", 50, time.Millisecond, "Quick.")
	r := newRouter(t, slow, next)
	var rec recorder
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	res, err := r.Generate(ctx, dialogue, rec.sink)
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := rec.text(); res.Backend != "slow-inline" || text != "Slow but sure." {
		t.Fatalf("answered by %q, streamed %q", res.Backend, text)
	}
	if st := r.Stats(); st[0].Hedged != 0 || next.calls.Load() != 0 || st[0].InFlight != 0 {
		t.Fatalf("inline backend hedged %d times, next called %d times, in flight %d; want none", st[0].Hedged, next.calls.Load(), st[0].InFlight)
	}
	// A deadline still ends it (it honours ctx) and the floor answers.
	slow.delay = time.Second
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if res, err := r.Generate(ctx2, dialogue, nil); err != nil || res.Backend == "slow-inline" {
		t.Fatalf("past its deadline: %+v, %v", res, err)
	}
}

package inference_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

// stallOnce streams one word and then stalls on its first call (as a model
// server whose stream hangs mid-way does), and answers at once after.
type stallOnce struct{ calls atomic.Int64 }

func (s *stallOnce) Info() inference.Info {
	return inference.Info{Name: "flaky", Tier: inference.TierRemote, Quality: 5, ExpectedTTFT: time.Millisecond, ExpectedTokensPerSecond: 1e4}
}

func (s *stallOnce) Generate(ctx context.Context, _ *inference.Request, sink inference.Sink) (inference.Result, error) {
	if s.calls.Add(1) == 1 {
		sink(inference.Delta{Text: "Well "})
		<-ctx.Done()
		return inference.Result{}, ctx.Err()
	}
	sink(inference.Delta{Text: "Well met."})
	return inference.Result{Text: "Well met.", Tokens: 3}, nil
}

// TestSkippedBackendIsTriedAgain: one stalled stream poisons a backend's
// per-token estimate (a censored observation of seconds per token), so the
// Router predicts it too slow for every later budget. Without relaxation
// it is never tried again, however healthy it is; with it (RelaxInterval),
// its estimates drift back to the seeds while it is skipped and it answers
// again within a few requests.
func TestSkippedBackendIsTriedAgain(t *testing.T) {
	run := func(relax time.Duration, requests int) (answered int, st inference.BackendStats) {
		m := &stallOnce{}
		r, err := inference.NewRouter(template.New(), []inference.Model{m}, inference.RouterOptions{RelaxInterval: relax})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < requests; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			res, err := r.Generate(ctx, dialogue, func(inference.Delta) {})
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if res.Backend == "flaky" {
				answered++
			}
			time.Sleep(2 * time.Millisecond) // let RelaxInterval pass between requests
		}
		return answered, stats(r, "flaky")
	}
	if n, st := run(time.Hour, 30); n != 0 || st.Timeouts != 1 || st.Skips != 29 || st.Relaxed != 0 {
		t.Fatalf("without relaxation: answered %d, stats %+v; want 0 answers after the stall, 29 skips", n, st)
	}
	n, st := run(time.Millisecond, 30)
	if n == 0 || st.Timeouts != 1 || st.Relaxed == 0 {
		t.Fatalf("with relaxation: answered %d, stats %+v; want the backend back", n, st)
	}
	t.Logf("with relaxation: %d of 29 requests after the stall answered by the backend, after %d relax steps, %d skips", n, st.Relaxed, st.Skips)
}

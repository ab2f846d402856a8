package inference_test

import (
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

func hedgeRouter(t *testing.T, opts inference.RouterOptions, backends ...inference.Model) *inference.Router {
	t.Helper()
	r, err := inference.NewRouter(template.New(), backends, opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestHedgeStandsInForAStalledBackend: the large model claims a 5 ms first
// token but stalls until the deadline. Without hedging the request runs
// out of time on it and only the floor is left; with hedging the next tier
// was started when the first token was late, and its answer is the reply,
// on time.
func TestHedgeStandsInForAStalledBackend(t *testing.T) {
	newPair := func() (*testModel, *testModel) {
		big := model("big", 5, 5*time.Millisecond, "never")
		big.delay = 10 * time.Second
		small := model("small", 2, time.Millisecond, "Well", "met.")
		return big, small
	}
	big, small := newPair()
	res, _ := generate(t, hedgeRouter(t, inference.RouterOptions{NoHedging: true}, big, small), 150*time.Millisecond)
	if !res.Floor || res.FallbackFrom != "big" {
		t.Fatalf("without hedging: %+v; want the floor after big ran out of time", res)
	}
	big, small = newPair()
	r := hedgeRouter(t, inference.RouterOptions{}, big, small)
	res, rec := generate(t, r, 150*time.Millisecond)
	if res.Backend != "small" || !res.Hedged || res.FallbackFrom != "big" || res.Floor {
		t.Fatalf("with hedging: %+v; want small's answer as a hedge for big", res)
	}
	if text, resets := rec.text(); text != "Well met." || resets != 0 {
		t.Fatalf("streamed %q with %d resets", text, resets)
	}
	if b, s := stats(r, "big"), stats(r, "small"); b.Hedged != 1 || b.Timeouts != 1 || s.HedgeWins != 1 || s.Calls != 1 {
		t.Fatalf("stats big %+v, small %+v", b, s)
	}
}

// TestHedgeKeepsTheBetterAnswer: the large model is slower to start than it
// claimed but answers well within the budget: the hedge was started, yet
// the reply is the large model's (the hedge is insurance, not a race).
func TestHedgeKeepsTheBetterAnswer(t *testing.T) {
	big := model("big", 5, time.Millisecond, "The", "ford", "is", "high.")
	big.delay = 40 * time.Millisecond
	small := model("small", 2, time.Millisecond, "Hm.")
	r := hedgeRouter(t, inference.RouterOptions{}, big, small)
	res, rec := generate(t, r, 2*time.Second)
	if res.Backend != "big" || res.Hedged {
		t.Fatalf("%+v; want big's answer", res)
	}
	if text, _ := rec.text(); text != "The ford is high." {
		t.Fatalf("streamed %q: the hedge's buffered text must not reach the caller", text)
	}
	if b, s := stats(r, "big"), stats(r, "small"); b.Hedged != 1 || s.Calls != 1 || s.HedgeWins != 0 {
		t.Fatalf("stats big %+v, small %+v", b, s)
	}
}

// TestHedgeShareIsCapped: with every first token late, hedges are limited
// to the burst plus MaxHedgeShare of the requests.
func TestHedgeShareIsCapped(t *testing.T) {
	big := model("big", 5, time.Millisecond, "slow", "start")
	big.delay = 3 * time.Millisecond
	small := model("small", 2, time.Millisecond, "Hm.")
	r := hedgeRouter(t, inference.RouterOptions{MaxHedgeShare: 0.1}, big, small)
	const n = 60
	for range n {
		generate(t, r, 2*time.Second)
	}
	hedged := stats(r, "big").Hedged
	if max := uint64(inference.DefaultHedgeBurst + 0.1*n); hedged == 0 || hedged > max {
		t.Fatalf("%d of %d requests hedged; want some, at most %d", hedged, n, max)
	}
	t.Logf("%d of %d requests hedged (burst %d, share 0.1)", hedged, n, inference.DefaultHedgeBurst)
}

func TestHedgeOptionsAreChecked(t *testing.T) {
	for _, share := range []float64{-0.1, 1.5} {
		if _, err := inference.NewRouter(template.New(), nil, inference.RouterOptions{MaxHedgeShare: share}); err == nil {
			t.Errorf("MaxHedgeShare %v accepted", share)
		}
	}
}

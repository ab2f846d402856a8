package inference_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

// paidModel answers at once and charges a fixed price per reply.
type paidModel struct {
	info inference.Info
	cost float64
}

func (m paidModel) Info() inference.Info { return m.info }

func (m paidModel) Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	return inference.Result{Text: "A paid answer.", Tokens: 3, CostUSD: m.cost}, nil
}

// TestDailySpendCapStopsBilledBackends (issue 4, global spend caps): once
// the day's spend reaches the cap, the billed backend is not called again
// and requests degrade to the free local backend, then the floor; the
// free one is never capped.
func TestDailySpendCapStopsBilledBackends(t *testing.T) {
	paid := paidModel{info: inference.Info{Name: "paid", Tier: inference.TierRemote, Quality: 100,
		ExpectedTTFT: time.Millisecond, ExpectedTokensPerSecond: 1e5, Prices: inference.Prices{OutputPerMTok: 1}}, cost: 0.01}
	free := model("free", 50, time.Millisecond, "A", "free", "answer.")
	r, err := inference.NewRouter(template.New(), []inference.Model{paid, free}, inference.RouterOptions{DailySpendCapUSD: 0.025})
	if err != nil {
		t.Fatal(err)
	}
	var backends []string
	for range 6 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		res, err := r.Generate(ctx, dialogue, nil)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		backends = append(backends, res.Backend)
	}
	want := []string{"paid", "paid", "paid", "free", "free", "free"}
	for i := range want {
		if backends[i] != want[i] {
			t.Fatalf("backends %v; want %v (0.01 USD a reply, cap 0.025: the third reply crosses it)", backends, want)
		}
	}
	st := r.Stats()
	if st[0].Name != "paid" || st[0].SpendCapped != 3 || st[1].SpendCapped != 0 {
		t.Fatalf("SpendCapped paid %d free %d; want 3 and 0", st[0].SpendCapped, st[1].SpendCapped)
	}
	if got := r.SpentTodayUSD(); got < 0.0299 || got > 0.0301 {
		t.Fatalf("SpentTodayUSD = %v; want 0.03", got)
	}
	if _, err := inference.NewRouter(template.New(), nil, inference.RouterOptions{DailySpendCapUSD: -1}); err == nil {
		t.Fatal("a negative cap was accepted")
	}
}

// TestRequestCostCap (issue 4: the best backend that fits the budget and
// the cost cap): a request whose predicted cost on the priced backend is
// above the Router's cap is answered by the free one; a request that
// raises its own cap gets the priced one.
func TestRequestCostCap(t *testing.T) {
	prices := inference.Prices{InputPerMTok: 10, OutputPerMTok: 30}
	paid := paidModel{info: inference.Info{Name: "paid", Tier: inference.TierRemote, Quality: 100,
		ExpectedTTFT: time.Millisecond, ExpectedTokensPerSecond: 1e5, Prices: prices}, cost: 0.01}
	free := model("free", 50, time.Millisecond, "A", "free", "answer.")
	r, err := inference.NewRouter(template.New(), []inference.Model{paid, free}, inference.RouterOptions{MaxRequestCostUSD: 0.005})
	if err != nil {
		t.Fatal(err)
	}
	req := *dialogue
	req.Prompt = string(make([]byte, 4000)) // about 1,000 tokens
	req.MaxTokens = 80
	if got := inference.PredictCost(prices, &req); got < 0.0123 || got > 0.0125 {
		t.Fatalf("PredictCost = %v; want 1000×10/1e6 + 80×30/1e6 = 0.0124", got)
	}
	ask := func(req inference.Request) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		res, err := r.Generate(ctx, &req, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Backend
	}
	if b := ask(req); b != "free" {
		t.Fatalf("a 0.0124 USD request under a 0.005 cap went to %q", b)
	}
	req.MaxCostUSD = 0.02
	if b := ask(req); b != "paid" {
		t.Fatalf("a request allowing 0.02 USD went to %q", b)
	}
	if st := r.Stats(); st[0].CostSkips != 1 {
		t.Fatalf("CostSkips = %d; want 1", st[0].CostSkips)
	}
	if _, err := inference.NewRouter(template.New(), nil, inference.RouterOptions{MaxRequestCostUSD: -1}); err == nil {
		t.Fatal("a negative cap was accepted")
	}
}

package bench_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/bench"
	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/inference/openai/llmsim"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/sim/world"
)

// TestBaselineComparison runs the mixed load without the stack (every
// request through the OpenAI SDK to llmsim on loopback) and with it (the
// same model as the remote tier), and checks what the comparison table
// is made of: the baseline pays for every reply, the stack answers from the
// floor and the cache for nothing, and more of its replies are on time.
func TestBaselineComparison(t *testing.T) {
	sim, err := llmsim.Start(llmsim.Profile{TTFTMedian: 300 * time.Millisecond, TokensPerSecond: 2000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer hc.CloseIdleConnections()
	remote, err := openai.New(openai.Config{BaseURL: sim.BaseURL(), Model: "llmsim", HTTPClient: hc, Quality: 10,
		ExpectedTTFT: 300 * time.Millisecond, ExpectedTokensPerSecond: 2000,
		Prices: inference.Prices{InputPerMTok: 2.5, OutputPerMTok: 10}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := bench.OpenConfig{Scenario: bench.ScenarioMixed, Rate: 100, Duration: time.Second, Seed: 3, Budget: 50 * time.Millisecond}

	base, err := middleware.OpenStack(context.Background(), middleware.StackConfig{World: world.FS(), NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	direct := bench.NewDirect(remote, base.Roster, base.QuestWorld.Name, base.QuestWorld.Places(), cfg.Budget, 20)
	without, err := bench.RunOpen(context.Background(), direct, cfg)
	base.Close()
	if err != nil {
		t.Fatal(err)
	}

	st, err := middleware.OpenStack(context.Background(), middleware.StackConfig{World: world.FS(),
		Backends: []inference.Model{remote}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	in := bench.NewInProcess(st.Runtime, 20)
	defer in.Close()
	with, err := bench.RunOpen(context.Background(), in, cfg)
	if err != nil {
		t.Fatal(err)
	}

	if without.Errors != 0 || without.Replies == 0 || without.Tiers["remote"] != without.Replies ||
		without.CostUSD <= 0 || without.Tiers["cache"] != 0 {
		t.Fatalf("without the stack:\n%s", toJSON(without))
	}
	// Timing is compared, not asserted: a 300 ms model against a 50 ms
	// budget is late almost always, the stack almost never.
	if with.Errors != 0 || with.Replies != without.Replies || with.OnTime <= without.OnTime ||
		with.CostUSD != 0 || with.Tiers["cache"] == 0 {
		t.Fatalf("with the stack:\n%s", toJSON(with))
	}
	c := &bench.Comparison{Command: "test", Machine: "test", Model: "llmsim", Without: &without, With: &with}
	md := c.Markdown()
	for _, row := range []string{"| cost per quest (USD) | 0.00", "| cache hit rate | 0.0 % |", "| concurrent requests held (max in flight) |"} {
		if !strings.Contains(md, row) {
			t.Errorf("comparison lacks %q:\n%s", row, md)
		}
	}
}

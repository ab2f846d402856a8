package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/inference/openai/llmsim"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/middleware/server"
	"github.com/hearth-ai/hearth/sim/world"
)

// TestRefinementOverWebSocket (issue 4, "answer now, refine later"): a
// talk with refine set gets its on-time dialogue.done from the floor (the
// remote model on loopback needs about 200 ms, the budget is 50 ms), marked
// refining, and then a dialogue.refine with the remote's words, tokens and
// cost; a talk without refine gets no dialogue.refine.
func TestRefinementOverWebSocket(t *testing.T) {
	remote := pricedSim(t, llmsim.Profile{TTFTMedian: 200 * time.Millisecond, TTFTSigma: 0.1, TokensPerSecond: 2000, ReplyTokens: 12, Seed: 3},
		openai.Config{Name: "remote", Model: "large", Quality: 100, ExpectedTTFT: 200 * time.Millisecond, ExpectedTokensPerSecond: 2000,
			Prices: inference.Prices{InputPerMTok: 2.5, OutputPerMTok: 10}})
	ts := launchStack(t, middleware.StackConfig{DataDir: t.TempDir(), World: world.FS(), Backends: []inference.Model{remote},
		Runtime: middleware.Options{Budget: 50 * time.Millisecond}}, server.Options{}, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	r, refined, err := c.TalkRefine(ctx, "hobb-fairweather", "Who keeps the bridge toll?", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OnTime || !r.Refining || r.Tier == string(inference.TierRemote) {
		t.Fatalf("done: tier %s on time %v refining %v; want an on-time answer below the remote, refining", r.Tier, r.OnTime, r.Refining)
	}
	var m protocol.DialogueRefine
	select {
	case got, ok := <-refined:
		if !ok {
			t.Fatal("the refinement channel closed without a dialogue.refine")
		}
		m = got
	case <-ctx.Done():
		t.Fatal("no dialogue.refine")
	}
	if m.Reason != "" || m.Text == "" || m.Backend != "remote" || m.Ticket != r.Ticket {
		t.Fatalf("refine = %+v; want the remote's words for ticket %d", m, r.Ticket)
	}
	if m.Tokens == 0 || m.CostUSD <= 0 || m.LatencyMS < 150 {
		t.Fatalf("refine tokens %d cost %v latency %.0f ms; want the remote's usage, cost and latency", m.Tokens, m.CostUSD, m.LatencyMS)
	}
	if _, ok := <-refined; ok {
		t.Fatal("a second dialogue.refine")
	}

	// A plain talk: no refinement is promised and none comes.
	r2, err := c.Talk(ctx, "hobb-fairweather", "Is the ford safe tonight?", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Refining {
		t.Fatal("refining without refine")
	}
}

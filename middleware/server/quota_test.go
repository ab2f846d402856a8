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

// pricedSim is a real OpenAI-compatible model on loopback (llmsim with
// profile, closed with the test) behind Hearth's OpenAI backend configured
// by cfg (its BaseURL is set here): replies with usage and, with prices,
// a cost.
func pricedSim(t *testing.T, profile llmsim.Profile, cfg openai.Config) inference.Model {
	t.Helper()
	sim, err := llmsim.Start(profile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	cfg.BaseURL = sim.BaseURL()
	b, err := openai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDailyQuotaOverWebSocket: a server whose model is a real
// OpenAI-compatible server on loopback (llmsim, through the official SDK)
// caps each player's tokens per day. A player talks until refused with
// quota_exceeded; the refusal comes once the tokens its replies reported
// reach the cap, never before, and another player is unaffected.
func TestDailyQuotaOverWebSocket(t *testing.T) {
	backend := pricedSim(t, llmsim.Profile{TTFTMedian: 2 * time.Millisecond, TokensPerSecond: 5000, ReplyTokens: 20, Seed: 1},
		openai.Config{Model: "llmsim", Quality: 10, ExpectedTTFT: 5 * time.Millisecond, ExpectedTokensPerSecond: 5000,
			Prices: inference.Prices{InputPerMTok: 1, OutputPerMTok: 2}})
	const capTokens = 2500 // about four replies: each prompt is about 600 tokens
	ts := launchStack(t, middleware.StackConfig{DataDir: t.TempDir(), World: world.FS(), NoCache: true,
		Backends: []inference.Model{backend}, Runtime: middleware.Options{Budget: 5 * time.Second}},
		server.Options{MaxBudget: 5 * time.Second, Limits: server.Limits{Daily: server.DailyQuota{Tokens: capTokens}}}, false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "spender"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	npcID := c.Welcome().NPCs[0].ID
	used := 0
	for i := 0; ; i++ {
		r, err := c.Talk(ctx, npcID, "Tell me about the old mill.", 5000, nil)
		if err != nil {
			wantCode(t, err, protocol.CodeQuotaExceeded, "tokens for today", "resets at")
			if used < capTokens {
				t.Fatalf("refused after %d tokens, under the cap of %d", used, capTokens)
			}
			t.Logf("refused after %d talks, %d tokens: %v", i, used, err)
			break
		}
		if r.Tier != string(inference.TierRemote) {
			t.Fatalf("reply %d came from %q; the test needs the model to answer (it reports tokens)", i, r.Tier)
		}
		if used >= capTokens {
			t.Fatalf("a talk was admitted after %d tokens, at or over the cap of %d", used, capTokens)
		}
		used += int(r.PromptTokens) + int(r.Tokens)
		if i == 100 {
			t.Fatalf("no refusal after 100 talks (%d tokens)", used)
		}
	}
	// Another player is under its own cap.
	other, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "thrifty"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Talk(ctx, npcID, "Tell me about the old mill.", 5000, nil); err != nil {
		t.Fatalf("another player: %v", err)
	}
}

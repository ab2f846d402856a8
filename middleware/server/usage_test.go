package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/inference/openai/llmsim"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/server"
	"github.com/hearth-ai/hearth/sim/world"
)

// TestCostTotalsPerPlayerNPCAndFeature (issue 4: totals per NPC, per
// player and per feature): two players of one tenant talk to a model on
// loopback (llmsim through the official SDK, priced); the admin usage list
// ranks them by what their replies cost, an admin of another tenant sees
// neither, and /metrics has the per-NPC, per-feature totals and the day's
// top spenders by name.
func TestCostTotalsPerPlayerNPCAndFeature(t *testing.T) {
	backend := pricedSim(t, llmsim.Profile{TTFTMedian: 2 * time.Millisecond, TokensPerSecond: 5000, ReplyTokens: 20, Seed: 1},
		openai.Config{Model: "llmsim", Quality: 10, ExpectedTTFT: 5 * time.Millisecond, ExpectedTokensPerSecond: 5000,
			Prices: inference.Prices{InputPerMTok: 1, OutputPerMTok: 2}})
	keyGame, recGame := mint(t, "game", server.RoleClient, "acme")
	keyAdmin, recAdmin := mint(t, "ops", server.RoleAdmin, "acme")
	keyRival, recRival := mint(t, "rival-ops", server.RoleAdmin, "rival")
	keys, err := server.NewKeyRing([]server.APIKeyRecord{recGame, recAdmin, recRival})
	if err != nil {
		t.Fatal(err)
	}
	ts := launchStack(t, middleware.StackConfig{DataDir: t.TempDir(), World: world.FS(), NoCache: true,
		Backends: []inference.Model{backend}, Runtime: middleware.Options{Budget: 5 * time.Second}},
		server.Options{MaxBudget: 5 * time.Second, Keys: keys}, false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	talk := func(player string, n int) {
		t.Helper()
		c, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: player, Header: bearer(keyGame)})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for range n {
			if r, err := c.Talk(ctx, "hobb-fairweather", "Tell me about the old mill.", 5000, nil); err != nil || r.Tier != string(inference.TierRemote) {
				t.Fatalf("talk: %v (tier %q)", err, r.Tier)
			}
		}
	}
	talk("big", 3)
	talk("small", 1)

	get := func(cred string) server.UsageList {
		t.Helper()
		resp := httpDo(t, http.MethodGet, ts.httpURL+server.AdminUsagePath, cred)
		defer resp.Body.Close()
		var l server.UsageList
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("HTTP %d, %v", resp.StatusCode, err)
		}
		return l
	}
	l := get(keyAdmin)
	if l.Players != 2 || len(l.Top) != 2 || l.Top[0].PlayerID != "big" || l.Top[1].PlayerID != "small" {
		t.Fatalf("usage %+v; want big then small", l)
	}
	if !(l.Top[0].CostUSD > l.Top[1].CostUSD && l.Top[1].CostUSD > 0 && l.Top[1].Tokens > 0) || l.Top[0].Tenant != "acme" {
		t.Fatalf("usage %+v; want big's cost above small's, both charged, tenant acme", l.Top)
	}
	if r := get(keyRival); r.Players != 0 {
		t.Fatalf("tenant rival sees %+v", r)
	}
	resp := httpDo(t, http.MethodGet, ts.httpURL+server.AdminUsagePath+"?tenant=acme", keyRival)
	checkJSONError(t, resp, http.StatusForbidden, "forbidden", "cannot read tenant acme")

	resp = httpDo(t, http.MethodGet, ts.httpURL+"/metrics", "")
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`hearth_cost_usd_total{feature="dialogue",npc="hobb-fairweather"}`,
		`hearth_model_tokens_total{feature="dialogue",kind="output",npc="hobb-fairweather"}`,
		`hearth_player_cost_usd_today{player="big",tenant="acme"}`,
		`hearth_player_cost_usd_today{player="small",tenant="acme"}`,
		`hearth_players_with_usage_today 2`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

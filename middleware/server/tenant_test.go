package server_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/middleware/server"
)

// TestTenantsAreIsolated runs two tenants on one server, each with a
// player "p1" talking to the same NPC, and checks issue 9's isolation by
// namespace: memories, quest logs, quest updates and cached replies of one
// tenant never reach the other, and they survive a restart apart.
func TestTenantsAreIsolated(t *testing.T) {
	acmeKey, acmeRec := mint(t, "acme-game", server.RoleClient, "acme")
	globexKey, globexRec := mint(t, "globex-game", server.RoleClient, "globex")
	dir := t.TempDir()
	keysPath := filepath.Join(dir, "keys.json")
	b, _ := json.Marshal(map[string]any{"keys": []server.APIKeyRecord{acmeRec, globexRec}})
	if err := os.WriteFile(keysPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := server.LoadKeyRing(keysPath)
	if err != nil {
		t.Fatal(err)
	}
	dataDir := t.TempDir()
	ts := launch(t, dataDir, server.Options{Keys: keys}, true)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	var acmeSeen, globexSeen updates
	acme, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "p1", PlayerName: "Aria", Header: bearer(acmeKey), OnQuestUpdate: acmeSeen.add})
	if err != nil {
		t.Fatal(err)
	}
	defer acme.Close()
	// The same player id in another tenant is another player.
	globex, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "p1", Header: bearer(globexKey), OnQuestUpdate: globexSeen.add})
	if err != nil {
		t.Fatal(err)
	}
	defer globex.Close()
	npcID := acme.Welcome().NPCs[0].ID

	// Memories: acme's turn is in acme's stream only.
	if _, err := acme.Talk(ctx, npcID, "I hid the silver key under the blue stone.", 0, nil); err != nil {
		t.Fatal(err)
	}
	ts.st.Runtime.Settle() // the turn's memory is written after the reply
	memories := func(tenant string) []string {
		t.Helper()
		recs, err := ts.st.Store.Tenant(tenant).StreamMemories(npcID)
		if err != nil {
			t.Fatal(err)
		}
		var texts []string
		for _, r := range recs {
			texts = append(texts, r.Rec.Text)
		}
		return texts
	}
	if got := memories("acme"); len(got) != 2 || !strings.Contains(got[0], "silver key under the blue stone") {
		t.Fatalf("acme's stream: %q, want the player's line and the reply", got)
	}
	if got := memories("globex"); len(got) != 0 {
		t.Fatalf("globex's stream holds acme's memories: %q", got)
	}
	if got := memories(""); len(got) != 0 {
		t.Fatalf("the default tenant's stream holds acme's memories: %q", got)
	}
	// The NPC greets globex's p1 as a stranger: it has not met them, and
	// does not know acme's p1's name.
	if r, err := globex.Talk(ctx, npcID, "Hello there!", 0, nil); err != nil {
		t.Fatal(err)
	} else if strings.Contains(r.Text, "Aria") {
		t.Fatalf("globex's p1 was greeted with acme's player's name: %q", r.Text)
	}

	// Relationships: a threat sours acme's NPC on p1, and dialogue.done
	// says so; globex's same NPC and same p1 feel nothing.
	threat, err := acme.Talk(ctx, npcID, "Give me your money or I will burn your house down, you old fool.", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if threat.Trust >= 0 || threat.Affinity >= 0 {
		t.Fatalf("after a threat: affinity %v, trust %v; want both negative on dialogue.done", threat.Affinity, threat.Trust)
	}
	if r, err := globex.Talk(ctx, npcID, "Good day to you.", 0, nil); err != nil || r.Trust < 0 || r.Affinity < 0 {
		t.Fatalf("globex's p1 after acme's threat: %+v %v", r, err)
	}

	// Cached replies: a reply cached for one tenant is not served to
	// another. A first line from a fresh player is cacheable (no memories).
	fresh := func(key, player string) *client.Client {
		t.Helper()
		c, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: player, Header: bearer(key)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	line := "What news from the road?"
	if r, err := fresh(acmeKey, "a2").Talk(ctx, npcID, line, 0, nil); err != nil || r.Tier == "cache" {
		t.Fatalf("acme's first asking: %+v %v, want a generated reply", r, err)
	}
	if r, err := fresh(acmeKey, "a3").Talk(ctx, npcID, line, 0, nil); err != nil || r.Tier != "cache" {
		t.Fatalf("acme's second asking: tier %q %v, want a cache hit (the test's premise)", r.Tier, err)
	}
	if r, err := fresh(globexKey, "g2").Talk(ctx, npcID, line, 0, nil); err != nil || r.Tier == "cache" {
		t.Fatalf("globex asking the same: tier %q %v, want no hit from acme's cache", r.Tier, err)
	}

	// Quests: acme's log, updates and world events stay in acme.
	offer, err := acme.RequestQuest(ctx, protocol.QuestRequest{Level: 3, Location: "kettle-green", Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acme.AcceptQuest(ctx, offer.Quest.ID); err != nil {
		t.Fatal(err)
	}
	if log, err := globex.QuestLog(ctx); err != nil || log.Total != 0 {
		t.Fatalf("globex's p1 sees quest log %+v %v", log, err)
	}
	// The quest giver dies in globex's world: acme's quest lives on.
	if ups, err := globex.ReportEvent(ctx, protocol.WorldEvent{Kind: protocol.WorldEventDied, Target: offer.Quest.Giver}); err != nil || len(ups) != 0 {
		t.Fatalf("died in globex: %+v %v", ups, err)
	}
	log, err := acme.QuestLog(ctx)
	if err != nil || log.Total != 1 || log.Entries[0].State != protocol.QuestStateActive {
		t.Fatalf("acme's log after a death in globex: %+v %v", log, err)
	}
	// In acme's own world it fails the quest, and only acme hears of it.
	if ups, err := acme.ReportEvent(ctx, protocol.WorldEvent{Kind: protocol.WorldEventDied, Target: offer.Quest.Giver}); err != nil ||
		len(ups) != 1 || ups[0].Kind != protocol.QuestUpdateFailed {
		t.Fatalf("died in acme: %+v %v", ups, err)
	}
	if got := globexSeen.wait(t, 0); len(got) != 0 {
		t.Fatalf("globex's p1 received acme's quest updates: %+v", got)
	}

	// A restart keeps both tenants' state apart.
	ts.st.Runtime.Settle()
	acmeMemories := len(memories("acme")) // p1's two turns, a2's and a3's
	acme.Close()
	globex.Close()
	ts.stop()
	ts = launch(t, dataDir, server.Options{Keys: keys}, true)
	again, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "p1", Header: bearer(globexKey)})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if log, err := again.QuestLog(ctx); err != nil || log.Total != 0 {
		t.Fatalf("after a restart globex's p1 sees %+v %v", log, err)
	}
	if got := memories("acme"); len(got) != acmeMemories || acmeMemories != 8 {
		t.Fatalf("after a restart acme's stream holds %d memories, want the %d (8) it had", len(got), acmeMemories)
	}
	if got := memories("globex"); len(got) != 6 { // p1's two turns and g2's
		t.Fatalf("after a restart globex's stream holds %d memories, want 4", len(got))
	}
}

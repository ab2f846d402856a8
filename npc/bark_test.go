package npc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/npc"
)

// TestBarkIsSharedAndNotRemembered checks a bark end to end in the npc
// package: the bark intent and prompt, lore but no memories, a cache key
// that two players share and that differs by trigger, the same line for
// every player (also from the floor), and nothing written to memory.
func TestBarkIsSharedAndNotRemembered(t *testing.T) {
	a, ctx := firstAgent(t)
	prepare := func(turn npc.Turn) *inference.Request {
		t.Helper()
		req, ref, err := a.Prepare(ctx, turn)
		if err != nil {
			t.Fatal(err)
		}
		if ref.Name != npc.BarkPrompt || req.PromptName != ref.String() {
			t.Fatalf("bark rendered %q (%q), want %s", ref.Name, req.PromptName, npc.BarkPrompt)
		}
		return req
	}

	// A player with a history: the bark must not recall it.
	talk := npc.Turn{PlayerID: "p1", PlayerName: "Aria", Text: "My sister keeps bees by the river."}
	reply, err := a.Respond(ctx, talk, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Remember(talk, reply); err != nil {
		t.Fatal(err)
	}

	near1 := prepare(npc.Turn{PlayerID: "p1", PlayerName: "Aria", Trigger: npc.TriggerProximity, Seed: 1})
	near2 := prepare(npc.Turn{PlayerID: "p2", PlayerName: "Bram", Trigger: npc.TriggerProximity, Seed: 2})
	sched := prepare(npc.Turn{Trigger: npc.TriggerSchedule, Seed: 3})
	switch {
	case near1.Intent != inference.IntentBark:
		t.Fatalf("intent %s, want bark", near1.Intent)
	case len(near1.Memories) != 0 || near1.Returning || near1.PlayerName != "":
		t.Fatalf("a bark recalled the player: %d memories, returning %v, name %q", len(near1.Memories), near1.Returning, near1.PlayerName)
	case strings.Contains(near1.Prompt, "Aria") || strings.Contains(near1.Prompt, "bees"):
		t.Fatalf("the bark prompt mentions the player or their history:\n%s", near1.Prompt)
	case len(near1.Facts) == 0:
		t.Fatal("a bark carries no lore from the NPC's scope")
	case near1.CacheKey == "" || near1.CacheKey != near2.CacheKey:
		t.Fatalf("proximity barks for two players: keys %q / %q, want one shared key", near1.CacheKey, near2.CacheKey)
	case sched.CacheKey == "" || sched.CacheKey == near1.CacheKey:
		t.Fatalf("schedule and proximity barks share the key %q", sched.CacheKey)
	}
	if !strings.HasPrefix(near1.Prompt, "You are "+a.Definition().Name) {
		t.Fatalf("the bark prompt does not open with the persona (stable part first):\n%s", near1.Prompt)
	}

	// Every player hears the same line, from a backend or from the floor.
	bark := func(player string, seed uint64) npc.Reply {
		t.Helper()
		turn := npc.Turn{PlayerID: player, Trigger: npc.TriggerProximity, Seed: seed}
		r, err := a.Respond(ctx, turn, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Remember(turn, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1, r3 := bark("p1", 11), bark("p3", 12)
	t.Logf("prompt:\n%s\nline: %q", near1.Prompt, r1.Text)
	if r1.Text == "" || r1.Text != r3.Text {
		t.Fatalf("two players near the NPC heard %q and %q; want one non-empty line", r1.Text, r3.Text)
	}
	f1 := a.Floor(npc.Turn{PlayerID: "p1", PlayerName: "Aria", Trigger: npc.TriggerProximity, Seed: 5})
	f2 := a.Floor(npc.Turn{Trigger: npc.TriggerProximity, Seed: 6})
	if f1.Text == "" || f1.Text != f2.Text || f1.Tier != inference.TierTemplate {
		t.Fatalf("floor barks %q (%s) / %q; want one template line", f1.Text, f1.Tier, f2.Text)
	}

	// p3 only ever heard a bark: the NPC has not met them.
	req := prepare2(t, ctx, a, npc.Turn{PlayerID: "p3", Text: "Hello!"})
	if req.Returning || len(req.Memories) != 0 {
		t.Fatalf("after a bark the NPC remembers p3: returning %v, %d memories", req.Returning, len(req.Memories))
	}
	// p1's history is still there, and no bark in it.
	req = prepare2(t, ctx, a, npc.Turn{PlayerID: "p1", Text: "Hello!"})
	if !req.Returning || len(req.Memories) == 0 {
		t.Fatal("p1's own conversation was lost")
	}
	for _, m := range req.Memories {
		if strings.Contains(m.Text, r1.Text) {
			t.Fatalf("a bark was remembered: %q", m.Text)
		}
	}

	if _, _, err := a.Prepare(ctx, npc.Turn{PlayerID: "p1", Trigger: "Came Near"}); err == nil {
		t.Fatal("Prepare accepted the bark trigger \"Came Near\"")
	}
}

// firstAgent returns the first NPC of a fresh fixture (on its own store)
// and a context that bounds its turns.
func firstAgent(t *testing.T) (*npc.Agent, context.Context) {
	t.Helper()
	f := newFixture(t, t.TempDir())
	a, err := f.roster.Get(f.roster.Definitions()[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return a, ctx
}

func prepare2(t *testing.T, ctx context.Context, a *npc.Agent, turn npc.Turn) *inference.Request {
	t.Helper()
	req, _, err := a.Prepare(ctx, turn)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestCheckTrigger(t *testing.T) {
	for _, ok := range []string{npc.TriggerProximity, npc.TriggerSchedule, "dawn", "market_open-2", strings.Repeat("x", npc.MaxTriggerBytes)} {
		if err := npc.CheckTrigger(ok); err != nil {
			t.Errorf("CheckTrigger(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "Proximity", "came near", "näh", "x\n", strings.Repeat("x", npc.MaxTriggerBytes+1)} {
		if err := npc.CheckTrigger(bad); err == nil {
			t.Errorf("CheckTrigger(%q) accepted it", bad)
		}
	}
}

package middleware_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/sim/world"
)

// slowSage is a large model that takes 150 ms to answer: never within a
// 50 ms budget.
type slowSage struct{}

func (slowSage) Info() inference.Info {
	return inference.Info{Name: "sage", Tier: inference.TierRemote, Quality: 10,
		ExpectedTTFT: 150 * time.Millisecond, ExpectedTokensPerSecond: 1000}
}

func (slowSage) Generate(ctx context.Context, req *inference.Request, _ inference.Sink) (inference.Result, error) {
	select {
	case <-time.After(150 * time.Millisecond):
	case <-ctx.Done():
		return inference.Result{}, ctx.Err()
	}
	text := "Well met, stranger; the sage greets you."
	if req.Intent == inference.IntentBark {
		text = "Mind the ford, the sage says."
	}
	return inference.Result{Text: text, Tier: inference.TierRemote, Backend: "sage", Tokens: 8}, nil
}

// TestPregenerateMakesTheFirstLineInstant (issue 6): a new player's
// "Hello!" under a 50 ms budget gets the floor when nothing is cached (the
// large model needs 150 ms); after Pregenerate, the same first line gets
// the large model's greeting from the cache, on time.
func TestPregenerateMakesTheFirstLineInstant(t *testing.T) {
	st, err := middleware.OpenStack(context.Background(), middleware.StackConfig{
		DataDir: t.TempDir(), World: world.FS(), Backends: []inference.Model{slowSage{}},
		Runtime: middleware.Options{Budget: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rt := st.Runtime
	defs := st.Roster.Definitions()
	first := func(npcID, player string) middleware.Event {
		t.Helper()
		// Submit just after a tick, as from a game's update: a request
		// whose budget ends within the safety margin after a tick
		// boundary is the floor's at once (its work deadline has passed),
		// and after a long pre-generation without ticks the phase is
		// otherwise whatever it happens to be.
		rt.Tick()
		tk, err := rt.Submit(middleware.Talk{NPCID: npcID, PlayerID: player, Text: "Hello!"})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range collect(t, rt, map[middleware.Ticket]bool{tk: true}) {
			if ev.Kind == middleware.EventReply {
				return ev
			}
		}
		t.Fatal("no reply")
		return middleware.Event{}
	}
	if ev := first(defs[0].ID, "early"); ev.Tier == inference.TierRemote || ev.Tier == inference.TierCache {
		t.Fatalf("before pre-generation: tier %s (%q); the large model cannot answer in 50 ms", ev.Tier, ev.Text)
	}
	// That turn's memory write (which moves the NPC's mood, part of the
	// cache key) ends after its reply; with many workers pre-generation
	// could otherwise render the NPC's greetings before it and key them
	// on the older mood.
	rt.Settle()
	rep, err := rt.Pregenerate(context.Background(), "", middleware.PregenOptions{Lines: []string{"Hello!", "What news?"}, Budget: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	want := len(defs) * (2 + 2) // two lines and two bark triggers per NPC
	if rep.Asked != want || rep.Cached != want || rep.Floor != 0 || rep.Unshareable != 0 {
		t.Fatalf("Pregenerate = %+v, want %d asked and cached by the model", rep, want)
	}
	for _, d := range defs {
		ev := first(d.ID, "newcomer")
		if ev.Tier != inference.TierCache || ev.Text != "Well met, stranger; the sage greets you." || !ev.OnTime {
			t.Fatalf("%s after pre-generation: tier %s (reason %s, latency %v), %q, on time %v; want the sage's greeting from the cache", d.ID, ev.Tier, ev.Reason, ev.Latency, ev.Text, ev.OnTime)
		}
	}
	// A second round finds everything cached at the model's quality.
	rep, err = rt.Pregenerate(context.Background(), "", middleware.PregenOptions{Lines: []string{"Hello!", "What news?"}, Budget: 2 * time.Second})
	if err != nil || rep.Fresh != want {
		t.Fatalf("second round = %+v, %v; want all %d fresh", rep, err, want)
	}
	// Another tenant's cache is its own.
	if ev := first(defs[0].ID, "other-tenant-player"); ev.Tier != inference.TierCache {
		t.Fatalf("default tenant again: %s", ev.Tier)
	}
	tk, err := rt.Submit(middleware.Talk{NPCID: defs[0].ID, Tenant: "acme", PlayerID: "p", Text: "Hello!"})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range collect(t, rt, map[middleware.Ticket]bool{tk: true}) {
		if ev.Kind == middleware.EventReply && ev.Tier == inference.TierCache {
			t.Fatal("tenant acme got the default tenant's pre-generated line")
		}
	}
}

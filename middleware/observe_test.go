package middleware_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/npc"
)

// TestObserveReachesMemory: Observe returns at once, the background writer
// stores the observation (Settle waits for it), recall finds it — per
// player and as world knowledge — and Maintain reflects once enough has
// been observed.
func TestObserveReachesMemory(t *testing.T) {
	st := openStack(t, middleware.Options{})
	rt := st.Runtime
	id := firstNPC(t, st).ID
	gt := time.Date(1900, 5, 1, 8, 0, 0, 0, time.UTC)
	if err := rt.Observe(id, middleware.Observation{Text: "The player hid the key under the blue stone.",
		PlayerID: "p1", PlayerName: "Aria", GameTime: gt}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Observe(id, middleware.Observation{Text: "Wolves were seen by the mill.", GameTime: gt, Importance: 7}); err != nil {
		t.Fatal(err)
	}
	rt.Settle()
	a, err := st.Roster.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	has := func(ms []inference.Memory, text string) bool {
		return slices.ContainsFunc(ms, func(m inference.Memory) bool { return m.Text == text })
	}
	if got := a.Recall("p1", "where did I hide the key", gt.Add(time.Hour), 1); !has(got, "The player hid the key under the blue stone.") {
		t.Fatalf("recall for p1 = %+v", got)
	}
	other := a.Recall("p2", "key wolves", gt.Add(time.Hour), 5)
	if has(other, "The player hid the key under the blue stone.") || !has(other, "Wolves were seen by the mill.") {
		t.Fatalf("recall for p2 = %+v: want the wolves (world knowledge), not p1's key", other)
	}
	// Enough observed makes the NPC reflect when the host says it is idle.
	for i := 0; i < 30; i++ {
		if err := rt.Observe(id, middleware.Observation{Text: "Aria asked the way to the mill again?", PlayerID: "p1",
			PlayerName: "Aria", GameTime: gt.Add(time.Duration(i) * time.Minute), Importance: 5}); err != nil {
			t.Fatal(err)
		}
	}
	rt.Settle()
	rep, err := rt.Maintain(context.Background(), gt.Add(time.Hour))
	if err != nil || rep.Reflections == 0 {
		t.Fatalf("Maintain = %+v, %v; want a reflection", rep, err)
	}
}

func TestObserveValidates(t *testing.T) {
	st := openStack(t, middleware.Options{})
	rt := st.Runtime
	id := firstNPC(t, st).ID
	if err := rt.Observe("nobody", middleware.Observation{Text: "x"}); !errors.Is(err, npc.ErrUnknownNPC) {
		t.Fatalf("unknown npc: %v", err)
	}
	for name, o := range map[string]middleware.Observation{
		"empty":      {},
		"too long":   {Text: string(make([]byte, middleware.MaxTextBytes+1))},
		"not utf-8":  {Text: "a \xff"},
		"importance": {Text: "x", Importance: 11},
	} {
		if err := rt.Observe(id, o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rt.Observe(id, middleware.Observation{Text: "late"}); !errors.Is(err, middleware.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// TestObserveTenant: an observation made in one tenant's world is world
// knowledge there only, and Maintain reflects in every tenant used.
func TestObserveTenant(t *testing.T) {
	st := openStack(t, middleware.Options{})
	rt := st.Runtime
	id := firstNPC(t, st).ID
	gt := time.Date(1900, 5, 1, 8, 0, 0, 0, time.UTC)
	const wolves = "Wolves were seen by the mill."
	for i := 0; i < 30; i++ {
		if err := rt.ObserveTenant("acme", id, middleware.Observation{Text: wolves, GameTime: gt.Add(time.Duration(i) * time.Minute), Importance: 7}); err != nil {
			t.Fatal(err)
		}
	}
	if err := rt.ObserveTenant("acme", "nobody", middleware.Observation{Text: wolves}); !errors.Is(err, npc.ErrUnknownNPC) {
		t.Fatalf("unknown NPC in a tenant: %v", err)
	}
	rt.Settle()
	recall := func(tenant string) []inference.Memory {
		a, err := st.Roster.Tenant(tenant).Get(id)
		if err != nil {
			t.Fatal(err)
		}
		return a.Recall("p1", "wolves mill", gt.Add(time.Hour), 3)
	}
	if got := recall("acme"); len(got) == 0 || got[0].Text != wolves {
		t.Fatalf("acme's recall = %+v, want the wolves", got)
	}
	for _, other := range []string{"", "globex"} {
		if got := recall(other); len(got) != 0 {
			t.Fatalf("tenant %q recalls %+v, observed in acme", other, got)
		}
	}
	rep, err := rt.Maintain(context.Background(), gt.Add(time.Hour))
	if err != nil || rep.Reflections == 0 {
		t.Fatalf("Maintain = %+v, %v; want a reflection in acme", rep, err)
	}
}

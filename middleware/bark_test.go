package middleware_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/npc"
)

// replies returns the EventReply and EventError events of log by ticket,
// failing on a ticket answered twice.
func replies(t *testing.T, log []middleware.Event) map[middleware.Ticket]middleware.Event {
	t.Helper()
	out := map[middleware.Ticket]middleware.Event{}
	for _, ev := range log {
		if ev.Kind == middleware.EventDelta {
			continue
		}
		if _, dup := out[ev.Ticket]; dup {
			t.Fatalf("ticket %d answered twice", ev.Ticket)
		}
		out[ev.Ticket] = ev
	}
	return out
}

func TestBarkIsDeliveredOnceSharedAndNotRemembered(t *testing.T) {
	st := openStack(t, middleware.Options{Seed: 5, Budget: 5 * time.Second})
	id := firstNPC(t, st).ID
	bark := func(b middleware.Bark) middleware.Event {
		t.Helper()
		tk, err := st.Runtime.SubmitBark(b)
		if err != nil {
			t.Fatal(err)
		}
		ev, ok := replies(t, collect(t, st.Runtime, map[middleware.Ticket]bool{tk: true}))[tk]
		if !ok || ev.Kind != middleware.EventReply {
			t.Fatalf("bark %+v: got %+v, want one reply", b, ev)
		}
		st.Runtime.Settle()
		return ev
	}

	first := bark(middleware.Bark{NPCID: id, PlayerID: "p1", Trigger: npc.TriggerProximity, Tag: 7})
	switch {
	case first.Text == "" || first.Tag != 7 || first.NPCID != id || first.PlayerID != "p1":
		t.Fatalf("bark reply %+v", first)
	case !first.OnTime || first.Budget != 5*time.Second:
		t.Fatalf("bark reply late or without its budget: %+v", first)
	case !strings.HasPrefix(first.Prompt, npc.BarkPrompt+"@"):
		t.Fatalf("bark rendered %q, want %s", first.Prompt, npc.BarkPrompt)
	}
	// Another player comes near: the same line, from the response cache.
	second := bark(middleware.Bark{NPCID: id, PlayerID: "p2", Trigger: npc.TriggerProximity})
	if second.Text != first.Text || second.Tier != inference.TierCache {
		t.Fatalf("second proximity bark %q from %s; want %q from the cache", second.Text, second.Tier, first.Text)
	}
	// A scheduled bark has no player and its own key.
	sched := bark(middleware.Bark{NPCID: id, Trigger: npc.TriggerSchedule})
	if sched.Text == "" || sched.PlayerID != "" || sched.Tier == inference.TierCache {
		t.Fatalf("scheduled bark %+v: want a fresh line for no player", sched)
	}

	// The NPC has not met p1: barks are not remembered.
	agent, err := st.Roster.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	req, _, err := agent.Prepare(context.Background(), npc.Turn{PlayerID: "p1", Text: "Hello!"})
	if err != nil {
		t.Fatal(err)
	}
	if req.Returning || len(req.Memories) != 0 {
		t.Fatalf("after a bark the NPC remembers p1: returning %v, %d memories", req.Returning, len(req.Memories))
	}
}

func TestBarkValidatesAndOverloadsItsQueue(t *testing.T) {
	var q [3]int
	q[middleware.PriorityAmbient] = 2
	st := stackWithSlowBackend(t, middleware.Options{Workers: 1, QueueSize: q})
	id := firstNPC(t, st).ID

	for _, c := range []struct {
		name string
		bark middleware.Bark
		is   error
	}{
		{"unknown npc", middleware.Bark{NPCID: "nobody", Trigger: npc.TriggerSchedule}, npc.ErrUnknownNPC},
		{"no trigger", middleware.Bark{NPCID: id}, nil},
		{"bad trigger", middleware.Bark{NPCID: id, Trigger: "Came near"}, nil},
		{"bad priority", middleware.Bark{NPCID: id, Trigger: npc.TriggerSchedule, Priority: 9}, nil},
		{"negative budget", middleware.Bark{NPCID: id, Trigger: npc.TriggerSchedule, Budget: -time.Second}, nil},
		{"invalid utf-8 player", middleware.Bark{NPCID: id, PlayerID: "p\xff", Trigger: npc.TriggerSchedule}, nil},
	} {
		if _, err := st.Runtime.SubmitBark(c.bark); err == nil || (c.is != nil && !errors.Is(err, c.is)) {
			t.Errorf("%s: err = %v, want an error (matching %v)", c.name, err, c.is)
		}
	}

	// Barks queue at ambient priority by default: that queue overflows.
	overload, accepted := fillQueue(t, func() (middleware.Ticket, error) {
		return st.Runtime.SubmitBark(middleware.Bark{NPCID: id, Trigger: npc.TriggerSchedule, Budget: 2 * time.Second})
	})
	if overload == nil || !errors.Is(overload, middleware.ErrOverloaded) || overload.Priority != middleware.PriorityAmbient || overload.Capacity != 2 {
		t.Fatalf("want an *OverloadError for the ambient queue of 2, got %v", overload)
	}
	// Everything accepted is still answered, once (by the floor, at its deadline).
	got := replies(t, collect(t, st.Runtime, accepted))
	for tk := range accepted {
		if ev := got[tk]; ev.Kind != middleware.EventReply || ev.Text == "" {
			t.Fatalf("accepted bark %d: %+v", tk, ev)
		}
	}
}

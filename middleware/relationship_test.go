package middleware_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/npc"
)

// TestDeedsAndTalkMoveRelationships: Deed returns at once, the writer
// applies it (Settle waits), Relationship and Mood show it in its tenant
// only, the deed is remembered, and a reply's Event carries the pair's
// state after a threatening line.
func TestDeedsAndTalkMoveRelationships(t *testing.T) {
	st := openStack(t, middleware.Options{})
	rt := st.Runtime
	const id = "marta-vell"
	gt := time.Date(1900, 5, 1, 8, 0, 0, 0, time.UTC)
	if err := rt.Deed("", id, middleware.Deed{Kind: npc.DeedGift, Actor: "p1", ActorName: "Aria", GameTime: gt,
		Text: "Aria gave me a copper ingot."}); err != nil {
		t.Fatal(err)
	}
	if err := rt.Deed("acme", id, middleware.Deed{Kind: npc.DeedAttack, Actor: "p1", GameTime: gt}); err != nil {
		t.Fatal(err)
	}
	// NPC–NPC: Hobb robs Marta.
	if err := rt.Deed("", id, middleware.Deed{Kind: npc.DeedTheft, Actor: "hobb-fairweather", Magnitude: 2, GameTime: gt}); err != nil {
		t.Fatal(err)
	}
	rt.Settle()
	r, err := rt.Relationship("", id, "p1")
	if err != nil || r.Affinity <= 0 || r.Last != "gift" {
		t.Fatalf("default tenant: %+v, %v; want the gift", r, err)
	}
	acme, err := rt.Relationship("acme", id, "p1")
	if err != nil || acme.Affinity >= 0 || acme.Trust >= 0 || acme.Last != "attack" {
		t.Fatalf("acme: %+v, %v; want the attack", acme, err)
	}
	hobb, _ := rt.Relationship("", id, "hobb-fairweather")
	if hobb.Trust > -0.5 || hobb.Interactions != 1 {
		t.Fatalf("after a double theft: %+v", hobb)
	}
	if back, _ := rt.Relationship("", "hobb-fairweather", id); back.Interactions != 0 {
		t.Fatalf("the thief's own feelings moved: %+v", back)
	}
	if m, err := rt.Mood("acme", id, gt); err != nil || m.Valence >= 0 {
		t.Fatalf("acme mood after an attack: %+v, %v", m, err)
	}
	a, _ := st.Roster.Get(id)
	if mems := a.Recall("p1", "copper ingot", gt, 1); len(mems) != 1 || mems[0].Text != "Aria gave me a copper ingot." {
		t.Fatalf("the gift is not remembered: %+v", mems)
	}

	tk, err := rt.Submit(middleware.Talk{NPCID: id, Tenant: "acme", PlayerID: "p1", PlayerName: "Aria",
		Text: "Hand it over or I'll burn your forge down.", Budget: 5 * time.Second, GameTime: gt})
	if err != nil {
		t.Fatal(err)
	}
	var reply middleware.Event
	for _, ev := range collect(t, rt, map[middleware.Ticket]bool{tk: true}) {
		if ev.Ticket == tk && ev.Kind == middleware.EventReply {
			reply = ev
		}
	}
	rt.Settle()
	after, _ := rt.Relationship("acme", id, "p1")
	if !reply.HasRelationship || reply.Trust >= acme.Trust || reply.Affinity >= acme.Affinity {
		t.Fatalf("reply event: has %v affinity %v trust %v; before the threat %+v", reply.HasRelationship,
			reply.Affinity, reply.Trust, acme)
	}
	if after.Trust != reply.Trust || after.Affinity != reply.Affinity || after.Last != "threat" {
		t.Fatalf("stored %+v, the event said affinity %v trust %v", after, reply.Affinity, reply.Trust)
	}
}

func TestDeedValidates(t *testing.T) {
	st := openStack(t, middleware.Options{})
	rt := st.Runtime
	const id = "marta-vell"
	if err := rt.Deed("", "nobody", middleware.Deed{Kind: npc.DeedGift, Actor: "p1"}); !errors.Is(err, npc.ErrUnknownNPC) {
		t.Fatalf("unknown npc: %v", err)
	}
	if _, err := rt.Relationship("", "nobody", "p1"); !errors.Is(err, npc.ErrUnknownNPC) {
		t.Fatalf("relationship of an unknown npc: %v", err)
	}
	if _, err := rt.Relationship("", id, ""); err == nil {
		t.Fatal("relationship without another id succeeded")
	}
	for name, d := range map[string]middleware.Deed{
		"kind":      {Kind: "hug", Actor: "p1"},
		"actor":     {Kind: npc.DeedGift},
		"self":      {Kind: npc.DeedGift, Actor: id},
		"magnitude": {Kind: npc.DeedGift, Actor: "p1", Magnitude: 9},
		"utf-8":     {Kind: npc.DeedGift, Actor: "p1", Text: "a \xff"},
		"too long":  {Kind: npc.DeedGift, Actor: "p1", Text: strings.Repeat("a", middleware.MaxTextBytes+1)},
	} {
		if err := rt.Deed("", id, d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rt.Deed("", id, middleware.Deed{Kind: npc.DeedGift, Actor: "p1"}); !errors.Is(err, middleware.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

package middleware_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/npc"
	"github.com/hearth-ai/hearth/sim/world"
)

// jsonActor is a model that answers every request with one fixed text,
// streamed a few bytes at a time.
type jsonActor struct {
	mu    sync.Mutex
	reply string
}

func (m *jsonActor) Info() inference.Info {
	return inference.Info{Name: "actor", Tier: inference.TierLocal, Quality: 10,
		ExpectedTTFT: time.Millisecond, ExpectedTokensPerSecond: 10000}
}

func (m *jsonActor) Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	m.mu.Lock()
	text := m.reply
	m.mu.Unlock()
	if len(req.ResponseSchema) == 0 {
		text = "I was not asked for actions."
	}
	for i := 0; i < len(text); i += 5 {
		if sink != nil {
			sink(inference.Delta{Text: text[i:min(i+5, len(text))]})
		}
	}
	return inference.Result{Text: text, Tier: inference.TierLocal, Backend: "actor", Tokens: 1}, ctx.Err()
}

// innWorld is what the host reports around the innkeeper.
var innWorld = middleware.WorldState{
	Items:     []npc.Stock{{Item: "ale", Count: 3, Price: 2}},
	Locations: []string{"tipped-kettle"},
	Present:   []string{"wendel-crisp"},
	Quests:    []string{"kettle-q1"},
}

// talk submits a line to the innkeeper and returns its reply event and
// the text its deltas streamed.
func talk(t *testing.T, rt *middleware.Runtime, text string) (middleware.Event, string) {
	t.Helper()
	tk, err := rt.Submit(middleware.Talk{NPCID: "hobb-fairweather", PlayerID: "p1", PlayerName: "Aria",
		Text: text, Budget: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var reply middleware.Event
	var streamed strings.Builder
	for _, ev := range collect(t, rt, map[middleware.Ticket]bool{tk: true}) {
		switch {
		case ev.Ticket != tk:
		case ev.Kind == middleware.EventDelta:
			if ev.Reset {
				streamed.Reset()
			}
			streamed.WriteString(ev.Text)
		case ev.Kind == middleware.EventReply:
			reply = ev
		}
	}
	return reply, streamed.String()
}

// TestActionsReachTheEvent: through the runtime, with a model asked for
// actions (npc.Deps.ModelActions), a valid action reaches Event.Actions,
// one the NPC may not take is dropped with its reason, and the player
// sees and the NPC remembers only what the model said.
func TestActionsReachTheEvent(t *testing.T) {
	st := openStack(t, middleware.Options{Workers: 1})
	m := &jsonActor{reply: `{"say":"Two pennies, pet.","actions":[{"kind":"trade","item":"ale","price":2},` +
		`{"kind":"attack","target":"p1"},{"kind":"give_item","item":"ale","count":9}]}`}
	router, err := inference.NewRouter(template.New(), []inference.Model{m}, inference.RouterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defs, err := npc.LoadDefinitions(world.FS(), "npcs")
	if err != nil {
		t.Fatal(err)
	}
	roster, err := npc.NewRoster(defs, npc.Deps{Lore: st.Lore, Store: st.Store, Router: router, ModelActions: true})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := middleware.New(roster, middleware.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	st.Runtime.Close()
	st.Runtime = rt // closed by the stack's cleanup

	if err := rt.ReportWorld("", "hobb-fairweather", innWorld); err != nil {
		t.Fatal(err)
	}
	ev, streamed := talk(t, rt, "How much for an ale?")
	if ev.Backend != "actor" || ev.Text != "Two pennies, pet." || streamed != ev.Text {
		t.Fatalf("%s said %q, streamed %q", ev.Backend, ev.Text, streamed)
	}
	if len(ev.Actions) != 1 || ev.Actions[0] != (middleware.Action{Kind: npc.ActionTrade, Item: "ale", Price: 2}) {
		t.Fatalf("actions %+v", ev.Actions)
	}
	if len(ev.DroppedActions) != 2 || !strings.Contains(ev.DroppedActions[0].Reason, "attack is not allowed") ||
		!strings.Contains(ev.DroppedActions[1].Reason, `item "ale": holds 2, needs 9`) { // the trade took one
		t.Fatalf("dropped %+v", ev.DroppedActions)
	}
	rt.Settle()
	hobb, _ := roster.Get("hobb-fairweather")
	mems := hobb.Recall("p1", "pennies", time.Now(), 4)
	found := false
	for _, mem := range mems {
		found = found || mem.Text == "I answered: Two pennies, pet."
	}
	if !found {
		t.Fatalf("the NPC does not remember what it said: %+v", mems)
	}

	// The latest report wins: with the ale gone, the trade is dropped.
	if err := rt.ReportWorld("", "hobb-fairweather", middleware.WorldState{}); err != nil {
		t.Fatal(err)
	}
	ev, _ = talk(t, rt, "How much for an ale?")
	if len(ev.Actions) != 0 || len(ev.DroppedActions) != 3 || !strings.Contains(ev.DroppedActions[0].Reason, `item "ale": holds 0, needs 1`) {
		t.Fatalf("after the ale ran out: %+v, dropped %+v", ev.Actions, ev.DroppedActions)
	}
}

// TestFloorActionsThroughTheRuntime: with the template floor alone (the
// default stack), the rules act: a buyer gets a trade, a farewell ends
// the conversation.
func TestFloorActionsThroughTheRuntime(t *testing.T) {
	st := openStack(t, middleware.Options{Workers: 1})
	rt := st.Runtime
	ev, _ := talk(t, rt, "How much for an ale?")
	if len(ev.Actions) != 0 {
		t.Fatalf("a trade before any world report: %+v", ev.Actions)
	}
	if err := rt.ReportWorld("", "hobb-fairweather", innWorld); err != nil {
		t.Fatal(err)
	}
	ev, _ = talk(t, rt, "How much for an ale?")
	if ev.Tier != inference.TierTemplate || len(ev.Actions) != 1 || ev.Actions[0].Kind != npc.ActionTrade || ev.Actions[0].Price != 2 {
		t.Fatalf("%s: actions %+v", ev.Tier, ev.Actions)
	}
	ev, _ = talk(t, rt, "Goodbye")
	if len(ev.Actions) != 1 || ev.Actions[0].Kind != npc.ActionEndConversation {
		t.Fatalf("farewell: %+v", ev.Actions)
	}
}

func TestReportWorldValidates(t *testing.T) {
	st := openStack(t, middleware.Options{Workers: 1})
	rt := st.Runtime
	if err := rt.ReportWorld("", "ghost", innWorld); !errors.Is(err, npc.ErrUnknownNPC) {
		t.Fatalf("unknown npc: %v", err)
	}
	for _, bad := range []middleware.WorldState{
		{Items: []npc.Stock{{Item: "ale", Count: -1}}},
		{Items: []npc.Stock{{Item: "ale", Price: -1}}},
		{Items: []npc.Stock{{Item: ""}}},
		{Present: []string{strings.Repeat("x", npc.MaxActionArgBytes+1)}},
		{Quests: []string{"\xff"}},
		{Locations: make([]string, middleware.MaxWorldEntries+1)},
	} {
		if err := rt.ReportWorld("", "hobb-fairweather", bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	// The runtime keeps its own copy: the host may reuse its slices.
	w := middleware.WorldState{Items: []npc.Stock{{Item: "ale", Count: 1}}}
	if err := rt.ReportWorld("acme", "hobb-fairweather", w); err != nil {
		t.Fatal(err)
	}
	w.Items[0].Count = 0
	a, _ := st.Roster.Tenant("acme").Get("hobb-fairweather")
	if got, ok := a.World(); !ok || got.Items[0].Count != 1 {
		t.Fatalf("the report was not copied: %+v", got)
	}
	if _, ok := func() (npc.WorldState, bool) { a, _ := st.Roster.Get("hobb-fairweather"); return a.World() }(); ok {
		t.Fatal("a tenant's report reached the default tenant")
	}
}

package server

import (
	"testing"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/npc"
)

func TestWireActions(t *testing.T) {
	if got := wireActions(nil); got != nil {
		t.Fatalf("no actions: %v, want nil (omitted)", got)
	}
	got := wireActions([]middleware.Action{{Kind: npc.ActionTrade, Item: "ale", Price: 2},
		{Kind: npc.ActionGiveItem, Item: "key", Count: 1}, {Kind: npc.ActionAttack, Target: "p1"}})
	want := []protocol.Action{{Kind: "trade", Item: "ale", Price: 2}, {Kind: "give_item", Item: "key", Count: 1},
		{Kind: "attack", Target: "p1"}}
	if len(got) != len(want) {
		t.Fatalf("%+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if n := len(wireActions(make([]middleware.Action, 9))); n != protocol.MaxActions {
		t.Fatalf("9 actions became %d on the wire, want at most %d", n, protocol.MaxActions)
	}
}

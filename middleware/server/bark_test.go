package server_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/middleware/server"
)

// TestBarkOverWebSocket barks through a real server on loopback with the
// Go client, in both encodings: the line comes as a dialogue.done, a second
// player near the same NPC hears the same line from the cache, and bad
// barks get their documented errors.
func TestBarkOverWebSocket(t *testing.T) {
	wsURL, _ := startServer(t, server.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func(player, sub string) *client.Client {
		t.Helper()
		c, err := client.Dial(ctx, wsURL, client.Options{PlayerID: player, PlayerName: "Aria", Subprotocol: sub})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	first, second := dial("p1", protocol.SubprotocolMsgpack), dial("p2", protocol.SubprotocolJSON)
	npcID := first.Welcome().NPCs[0].ID

	r1, err := first.Bark(ctx, npcID, protocol.TriggerProximity, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Text == "" || r1.NPCID != npcID || r1.BudgetMS == 0 || !r1.OnTime || !strings.HasPrefix(r1.Prompt, "npc.bark@") {
		t.Fatalf("bark reply %+v", r1)
	}
	if strings.Contains(r1.Text, "Aria") {
		t.Fatalf("a bark named the player: %q", r1.Text)
	}
	r2, err := second.Bark(ctx, npcID, protocol.TriggerProximity, 200)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Text != r1.Text || r2.Tier != protocol.TierCache || r2.BudgetMS != 200 {
		t.Fatalf("second player's bark %q from %s (budget %d); want %q from the cache", r2.Text, r2.Tier, r2.BudgetMS, r1.Text)
	}
	if _, err := first.Bark(ctx, npcID, protocol.TriggerSchedule, 0); err != nil {
		t.Fatal(err)
	}

	var pe *protocol.Error
	if _, err := first.Bark(ctx, "ghost", protocol.TriggerProximity, 0); !errors.As(err, &pe) || pe.Code != protocol.CodeUnknownNPC {
		t.Fatalf("bark at an unknown NPC: %v, want unknown_npc", err)
	}
	if _, err := first.Bark(ctx, npcID, "Came near", 0); protocol.CodeOf(err) != protocol.CodeBadRequest {
		t.Fatalf("bark with a bad trigger: %v, want bad_request", err)
	}

	// The server checks what a client does not.
	for _, sub := range protocol.Subprotocols() {
		r := dialRaw(t, wsURL, sub)
		r.send(1, protocol.Bark{NPCID: npcID, Trigger: protocol.TriggerProximity})
		r.wantError(1, protocol.CodeNotHello)
		r.send(2, protocol.Hello{PlayerID: "raw"})
		if h, m := r.next(); h.ID != 2 || m.Type() != protocol.TypeWelcome {
			t.Fatalf("hello got %s %+v", h.Type, m)
		}
		r.send(3, protocol.Bark{NPCID: npcID, Trigger: "Came near"})
		r.wantError(3, protocol.CodeBadRequest)
		r.send(4, protocol.Bark{NPCID: npcID})
		r.wantError(4, protocol.CodeBadRequest)
		r.send(5, protocol.Bark{NPCID: "ghost", Trigger: protocol.TriggerSchedule})
		r.wantError(5, protocol.CodeUnknownNPC)
		r.send(6, protocol.Bark{NPCID: npcID, Trigger: protocol.TriggerSchedule})
		if h, m := r.next(); h.ID != 6 || m.(protocol.DialogueDone).Text == "" {
			t.Fatalf("bark got %s %+v, want a dialogue.done", h.Type, m)
		}
	}
}

package protocol

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestDialogueDoneActionBounds: a done with too many actions, or an
// action string past MaxActionArgBytes or not UTF-8, fails Validate, and
// both decoders reject it; msgpack before allocating the array.
func TestDialogueDoneActionBounds(t *testing.T) {
	ok := DialogueDone{Actions: make([]Action, MaxActions)}
	for i := range ok.Actions {
		ok.Actions[i] = Action{Kind: ActionEndConversation, Item: strings.Repeat("i", MaxActionArgBytes)}
	}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		m     DialogueDone
		code  string
		field string
	}{
		{DialogueDone{Actions: make([]Action, MaxActions+1)}, CodeBadRequest, "dialogue.done.actions"},
		{DialogueDone{Actions: []Action{{}}}, CodeBadRequest, "dialogue.done.actions[0].kind"},
		{DialogueDone{Actions: []Action{{Kind: "trade"}, {Kind: "trade", Item: strings.Repeat("i", MaxActionArgBytes+1)}}},
			CodeBadRequest, "dialogue.done.actions[1].item"},
		{DialogueDone{Actions: []Action{{Kind: "follow", Target: "\xff"}}}, CodeInvalidUTF8, "dialogue.done.actions[0].target"},
	}
	for _, tt := range bad {
		if err := tt.m.Validate(); CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%+v: %v, want %s naming %s", tt.m.Actions, err, tt.code, tt.field)
		}
	}

	payloads := []struct {
		name    string
		payload map[string]any
		code    string
		field   string
	}{
		{"too many", map[string]any{"actions": make([]map[string]any, MaxActions+1)}, CodeBadRequest, "dialogue.done.actions"},
		{"long quest", map[string]any{"actions": []any{map[string]any{"kind": "offer_quest",
			"quest": strings.Repeat("q", MaxActionArgBytes+1)}}}, CodeBadRequest, "dialogue.done.actions[0].quest"},
		{"no kind", map[string]any{"actions": []any{map[string]any{"item": "ale"}}}, CodeBadRequest, "dialogue.done.actions[0].kind"},
		{"count negative", map[string]any{"actions": []any{map[string]any{"kind": "give_item", "count": -1}}}, CodeBadFrame, "count"},
		{"price string", map[string]any{"actions": []any{map[string]any{"kind": "trade", "price": "2"}}}, CodeBadFrame, "price"},
		{"not array", map[string]any{"actions": "trade"}, CodeBadFrame, "actions"},
	}
	for _, tt := range payloads {
		for _, c := range codecs() {
			t.Run(c.Subprotocol()+"/"+tt.name, func(t *testing.T) {
				var frame []byte
				envelope := map[string]any{"v": 1, "type": TypeDialogueDone, "id": 8, "tick": 0, "payload": tt.payload}
				if _, ok := c.(JSONCodec); ok {
					frame, _ = json.Marshal(envelope)
				} else {
					frame = env(t, envelope)
				}
				f, err := c.Decode(frame)
				if err != nil {
					t.Fatalf("envelope: %v", err)
				}
				_, err = f.Message()
				if CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.field) {
					t.Errorf("error = %v, want code %s naming %s", err, tt.code, tt.field)
				}
			})
		}
	}

	// A msgpack array header claiming 65535 actions is refused before the
	// slice is made: the frame holds far fewer bytes, and the count check
	// comes first anyway.
	frame := env(t, map[string]any{"v": 1, "type": TypeDialogueDone, "id": 8, "tick": 0,
		"payload": map[string]any{"actions": make([]int, MaxActions+1)}})
	f, err := MsgpackCodec{}.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	var m DialogueDone
	if allocs := testing.AllocsPerRun(50, func() { _ = f.Decode(&m) }); allocs > 4 {
		t.Errorf("%v allocations rejecting %d actions; the array must not be allocated", allocs, MaxActions+1)
	}
}

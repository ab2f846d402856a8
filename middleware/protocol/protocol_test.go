package protocol

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"
)

func codecs() []Codec { return []Codec{MsgpackCodec{}, JSONCodec{}} }

type sample struct {
	name string
	h    Header
	m    Message
}

func manyNPCs(n int) []NPCInfo {
	npcs := make([]NPCInfo, n)
	for i := range npcs {
		npcs[i] = NPCInfo{ID: "npc" + strings.Repeat("x", i), Name: "Näme", Role: "role"}
	}
	return npcs
}

func samples() []sample {
	s := []sample{
		{"hello", Header{ID: 1}, Hello{PlayerID: "p1"}},
		{"hello full", Header{ID: 2}, Hello{PlayerID: "p1", PlayerName: "Aria", Client: "godot/4.2"}},
		{"talk", Header{ID: 3}, Talk{NPCID: "smith", Text: "Any work for me?"}},
		{"talk budget", Header{ID: 300}, Talk{NPCID: "smith", Text: strings.Repeat("é", 1000), BudgetMS: 250}},
		{"talk escapes", Header{ID: math.MaxUint32 + 1}, Talk{NPCID: "s", Text: "quote\" back\\ nl\n tab\t ctl\x01 \u2028 <&> 🐉"}},
		{"bark", Header{ID: 30}, Bark{NPCID: "smith", Trigger: TriggerProximity}},
		{"bark budget", Header{ID: 31}, Bark{NPCID: "smith", Trigger: "dawn_market-2", BudgetMS: 120}},
		{"ping", Header{ID: 4}, Ping{TMS: 1700000000123}},
		{"ping negative", Header{ID: 5}, Ping{TMS: -40000}},
		{"ping min", Header{ID: 6}, Ping{TMS: math.MinInt64}},
		{"pong", Header{ID: 4, Tick: 77}, Pong{TMS: 1700000000123}},
		{"welcome", Header{ID: 1, Tick: 12}, Welcome{Session: "s-1", Server: "hearth/0.1", TickHz: 20, BudgetMS: 50,
			NPCs: []NPCInfo{{ID: "smith", Name: "Brom", Role: "blacksmith"}}}},
		{"welcome empty", Header{ID: 1}, Welcome{Session: "s", Server: "hearth/0.1", TickHz: 60, BudgetMS: 50, NPCs: []NPCInfo{}}},
		{"welcome many", Header{ID: 1}, Welcome{Session: "s", Server: "hearth/0.1", TickHz: 20, BudgetMS: 50, NPCs: manyNPCs(40)}},
		{"delta", Header{ID: 3, Tick: 100}, DialogueDelta{Ticket: 42, NPCID: "smith", Seq: 0, Text: "Aye, "}},
		{"delta reset", Header{ID: 3, Tick: 101}, DialogueDelta{Ticket: math.MaxUint64, NPCID: "smith", Seq: 70000, Text: "", Reset: true}},
		{"done", Header{ID: 3, Tick: 102}, DialogueDone{Ticket: 42, NPCID: "smith", Text: "Aye, the forge needs coal.",
			Tier: TierEmbedded, Backend: "embedded:tiny", LatencyMS: 31.25, BudgetMS: 50, OnTime: true, Prompt: "npc.dialogue@3"}},
		{"done floor", Header{ID: 3, Tick: 102}, DialogueDone{Ticket: 43, NPCID: "smith", Text: "Hm.",
			Tier: TierTemplate, Backend: "template", LatencyMS: 0.000001234, BudgetMS: 50, Floor: true}},
		{"done big latency", Header{ID: 3}, DialogueDone{Ticket: 1, LatencyMS: 1e22}},
		{"done remote with usage", Header{ID: 3, Tick: 104}, DialogueDone{Ticket: 45, NPCID: "smith", Text: "The mill burned in the spring.",
			Tier: TierRemote, Backend: "openai:gpt-x", LatencyMS: 40.5, BudgetMS: 2000, OnTime: true, Prompt: "npc.dialogue@3",
			PromptTokens: 812, Tokens: math.MaxUint32, CostUSD: 0.0012345}},
		{"done with feelings", Header{ID: 3, Tick: 105}, DialogueDone{Ticket: 46, NPCID: "smith", Text: "Out of my forge.",
			Tier: TierTemplate, Backend: "template", LatencyMS: 0.5, BudgetMS: 50, OnTime: true, Affinity: -0.4125, Trust: -0.6}},
		{"done trust only", Header{ID: 3, Tick: 106}, DialogueDone{Ticket: 47, NPCID: "smith", Text: "Aye.", Trust: 1}},
		{"done with decision", Header{ID: 3, Tick: 109}, DialogueDone{Ticket: 50, NPCID: "smith", Text: "Coal, then.",
			Tier: TierLocal, Backend: "openai:local", LatencyMS: 38.5, BudgetMS: 50, OnTime: true, Reason: "fallback", PredictedMS: 21.75}},
		{"done floor decision", Header{ID: 3, Tick: 110}, DialogueDone{Ticket: 51, NPCID: "smith", Text: "Hm.",
			Tier: TierTemplate, Backend: "template", LatencyMS: 0.5, BudgetMS: 50, OnTime: true, Floor: true, Reason: "floor_no_fit"}},
		{"done with actions", Header{ID: 3, Tick: 107}, DialogueDone{Ticket: 48, NPCID: "hobb", Text: "Two pennies, pet.",
			Tier: TierTemplate, Backend: "template", LatencyMS: 0.5, BudgetMS: 50, OnTime: true, Actions: []Action{
				{Kind: ActionTrade, Item: "ale", Price: 2}, {Kind: ActionGiveItem, Item: "iron-key", Count: math.MaxUint32},
				{Kind: ActionMoveTo, Location: "crookwheel-mill"}, {Kind: ActionEndConversation}}}},
		{"done attack", Header{ID: 3, Tick: 108}, DialogueDone{Ticket: 49, NPCID: "odile", Text: "Draw, then.",
			Actions: []Action{{Kind: ActionAttack, Target: "p1"}, {Kind: ActionFollow, Target: "p2"}, {Kind: ActionOfferQuest, Quest: "kettle-q1"}}}},
		{"done guarded", Header{ID: 3, Tick: 103}, DialogueDone{Ticket: 44, NPCID: "smith", Text: "Hm, strange talk.",
			Tier: TierEmbedded, Backend: "embedded:tiny", LatencyMS: 12.5, BudgetMS: 50, OnTime: true, Guard: "persona_break"}},
		{"error", Header{ID: 9}, ErrorPayload{Code: CodeUnknownNPC, Message: `npc "ghost": unknown`}},
	}
	return append(s, questSamples()...)
}

func TestRoundTrip(t *testing.T) {
	for _, c := range codecs() {
		for _, s := range samples() {
			t.Run(c.Subprotocol()+"/"+s.name, func(t *testing.T) {
				frame, err := c.Encode(s.h, s.m)
				if err != nil {
					t.Fatal(err)
				}
				f, err := c.Decode(frame)
				if err != nil {
					t.Fatalf("decode %q: %v", frame, err)
				}
				want := s.h
				want.Version, want.Type = Version, s.m.Type()
				if f.Header != want {
					t.Errorf("header = %+v, want %+v", f.Header, want)
				}
				got, err := f.Message()
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, s.m) {
					t.Errorf("payload = %#v\nwant %#v", got, s.m)
				}
				// AppendEncode onto a non-empty buffer gives the same bytes.
				prefix := []byte("xyz")
				b, err := c.AppendEncode(prefix, s.h, s.m)
				if err != nil || !bytes.Equal(b[3:], frame) || string(b[:3]) != "xyz" {
					t.Errorf("AppendEncode differs from Encode: %v", err)
				}
				// A pointer payload encodes the same.
				pv := reflect.New(reflect.TypeOf(s.m))
				pv.Elem().Set(reflect.ValueOf(s.m))
				if b, err := c.Encode(s.h, pv.Interface()); err != nil || !bytes.Equal(b, frame) {
					t.Errorf("pointer payload encodes differently: %v", err)
				}
			})
		}
	}
}

// TestMatchesReferenceEncoders checks the hand-written encoders against
// encoding/json and vmihailenco/msgpack on the same structs and tags.
func TestMatchesReferenceEncoders(t *testing.T) {
	for _, s := range samples() {
		if strings.ContainsAny(s.name, "<&") || s.name == "talk escapes" || s.name == "done big latency" {
			continue // encoding/json escapes HTML characters; we do not
		}
		wp := s.m.(wirePayload)
		want, err := json.Marshal(s.m)
		if err != nil {
			t.Fatal(err)
		}
		if got := wp.appendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("%s: JSON\n got %s\nwant %s", s.name, got, want)
		}
		var buf bytes.Buffer
		enc := msgpack.NewEncoder(&buf)
		enc.UseCompactInts(true)
		if err := enc.Encode(s.m); err != nil {
			t.Fatal(err)
		}
		if got := wp.appendMsgpack(nil); !bytes.Equal(got, buf.Bytes()) {
			t.Errorf("%s: msgpack\n got %x\nwant %x", s.name, got, buf.Bytes())
		}
	}
}

// TestDecodeForeignEncoding decodes envelopes written by vmihailenco/msgpack
// in another key order, with other integer widths and extra keys.
func TestDecodeForeignEncoding(t *testing.T) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true) // id, payload, tick, type, v
	env := map[string]any{
		"payload": map[string]any{"text": "hi", "npc_id": "smith", "budget_ms": int64(80), "future": []any{1, "x", nil}},
		"type":    "talk",
		"v":       int8(1),
		"id":      uint64(7),
		"tick":    int32(0),
		"extra":   map[string]any{"a": 1.5},
	}
	if err := enc.Encode(env); err != nil {
		t.Fatal(err)
	}
	f, err := MsgpackCodec{}.Decode(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var talk Talk
	if err := f.Decode(&talk); err != nil {
		t.Fatal(err)
	}
	if f.ID != 7 || f.Type != TypeTalk || talk != (Talk{NPCID: "smith", Text: "hi", BudgetMS: 80}) {
		t.Errorf("got %+v %+v", f.Header, talk)
	}
	// And our frames decode with a third-party decoder.
	frame, _ := MsgpackCodec{}.Encode(Header{ID: 3}, Talk{NPCID: "smith", Text: "hi"})
	var m map[string]any
	if err := msgpack.Unmarshal(frame, &m); err != nil {
		t.Fatal(err)
	}
	if m["type"] != "talk" || m["payload"].(map[string]any)["text"] != "hi" {
		t.Errorf("third-party decode: %v", m)
	}
}

func TestEncodeHeaderRules(t *testing.T) {
	for _, c := range codecs() {
		if _, err := c.Encode(Header{Type: TypePing}, Talk{NPCID: "a", Text: "b"}); CodeOf(err) != CodeInternal {
			t.Errorf("%s: mismatched type: %v", c.Subprotocol(), err)
		}
		if _, err := c.Encode(Header{}, nil); err == nil {
			t.Errorf("%s: no type: want error", c.Subprotocol())
		}
		if _, err := c.Encode(Header{Type: "x"}, []int{1}); err == nil {
			t.Errorf("%s: non-map payload: want error", c.Subprotocol())
		}
		// *Error encodes as an error payload.
		b, err := c.Encode(Header{ID: 5}, &Error{Code: CodeOverloaded, Message: "queue full"})
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.Message()
		if err != nil || f.Type != TypeError || m != (ErrorPayload{Code: CodeOverloaded, Message: "queue full"}) {
			t.Errorf("%s: error payload: %v %+v", c.Subprotocol(), err, m)
		}
		// Foreign payload types go through the reference encoders.
		type custom struct {
			A int    `json:"a" msgpack:"a"`
			B string `json:"b" msgpack:"b"`
		}
		b, err = c.Encode(Header{Type: "x.custom", ID: 1}, custom{A: 3, B: "z"})
		if err != nil {
			t.Fatal(err)
		}
		if f, err = c.Decode(b); err != nil {
			t.Fatal(err)
		}
		var got custom
		if err := f.Decode(&got); err != nil || got != (custom{3, "z"}) {
			t.Errorf("%s: custom payload %+v %v", c.Subprotocol(), got, err)
		}
		if _, err := f.Message(); CodeOf(err) != CodeUnknownType {
			t.Errorf("%s: Message of unknown type: %v", c.Subprotocol(), err)
		}
		// nil payload is an empty map.
		b, _ = c.Encode(Header{Type: TypePing, ID: 2}, nil)
		if f, err = c.Decode(b); err != nil || f.Type != TypePing {
			t.Fatalf("%s: nil payload: %v", c.Subprotocol(), err)
		}
	}
	if got := (JSONCodec{}).MessageType(); got != websocket.TextMessage {
		t.Errorf("JSON message type %d", got)
	}
	if got := (MsgpackCodec{}).MessageType(); got != websocket.BinaryMessage {
		t.Errorf("msgpack message type %d", got)
	}
	for _, sp := range Subprotocols() {
		if c, ok := CodecFor(sp); !ok || c.Subprotocol() != sp {
			t.Errorf("CodecFor(%q)", sp)
		}
	}
	if _, ok := CodecFor("hearth.v2.msgpack"); ok {
		t.Error("CodecFor accepted an unknown subprotocol")
	}
}

func TestInvalidUTF8IsReplacedOnEncode(t *testing.T) {
	for _, c := range codecs() {
		b, err := c.Encode(Header{ID: 1}, DialogueDelta{NPCID: "a\xffb", Text: "\xe2\x82"})
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.Decode(b)
		if err != nil {
			t.Fatalf("%s: %v", c.Subprotocol(), err)
		}
		var d DialogueDelta
		if err := f.Decode(&d); err != nil || d.NPCID != "a\uFFFDb" || d.Text != "\uFFFD" {
			t.Errorf("%s: %+v %v", c.Subprotocol(), d, err)
		}
	}
}

// mp builds a msgpack frame from hex, ignoring spaces.
func mp(t testing.TB, s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// env encodes an envelope with vmihailenco (for frames our encoder would not
// write).
func env(t testing.TB, m map[string]any) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	enc.UseCompactInts(true)
	if err := enc.Encode(m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func deep(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, 0x91) // array of 1
	}
	return append(b, 0x00)
}

func TestDecodeMsgpackMalformed(t *testing.T) {
	good, _ := MsgpackCodec{}.Encode(Header{ID: 9}, Talk{NPCID: "smith", Text: "hi"})
	tests := []struct {
		name   string
		frame  []byte
		code   string
		wantID uint64
	}{
		{"empty", nil, CodeBadFrame, 0},
		{"truncated", good[:len(good)-1], CodeBadFrame, 0},
		{"truncated header", []byte{0xda, 0x00}, CodeBadFrame, 0},
		{"not a map", mp(t, "93 01 02 03"), CodeBadFrame, 0},
		{"nil", mp(t, "c0"), CodeBadFrame, 0},
		{"trailing garbage", append(append([]byte{}, good...), 0x00), CodeBadFrame, 0},
		{"two envelopes", append(append([]byte{}, good...), good...), CodeBadFrame, 0},
		{"missing type", env(t, map[string]any{"v": 1, "id": 4, "payload": map[string]any{}}), CodeBadFrame, 4},
		{"empty type", env(t, map[string]any{"v": 1, "id": 4, "type": ""}), CodeBadFrame, 4},
		{"missing v", env(t, map[string]any{"type": "talk", "id": 4}), CodeBadFrame, 4},
		{"unknown version", env(t, map[string]any{"v": 2, "type": "talk", "id": 4}), CodeUnsupportedVersion, 4},
		{"huge version", env(t, map[string]any{"v": uint64(1) << 40, "type": "talk", "id": 4}), CodeUnsupportedVersion, 4},
		{"type not string", env(t, map[string]any{"v": 1, "type": 5, "id": 4}), CodeBadFrame, 4},
		{"id not integer", env(t, map[string]any{"v": 1, "type": "talk", "id": "x"}), CodeBadFrame, 0},
		{"negative id", env(t, map[string]any{"v": 1, "type": "talk", "id": -1}), CodeBadFrame, 0},
		{"float id", env(t, map[string]any{"v": 1, "type": "talk", "id": 1.0}), CodeBadFrame, 0},
		{"payload not map", env(t, map[string]any{"v": 1, "type": "talk", "id": 4, "payload": []int{1}}), CodeBadFrame, 4},
		{"int key", mp(t, "82 01 02 a1 76 01"), CodeBadFrame, 0},
		{"deep nesting", append(mp(t, "81 a1 78"), deep(MaxDepth)...), CodeBadFrame, 0},
		{"invalid byte c1", mp(t, "81 a1 76 c1"), CodeBadFrame, 0},
		{"bin", mp(t, "81 a1 76 c4 01 00"), CodeBadFrame, 0},
		{"ext", mp(t, "81 a1 76 d4 01 00"), CodeBadFrame, 0},
		{"ext8 huge", mp(t, "81 a1 76 c7 ff 01"), CodeBadFrame, 0},
		{"str32 4GiB", mp(t, "db ff ff ff ff 00"), CodeBadFrame, 0},
		{"array32 2^32-1", mp(t, "dd ff ff ff ff 00"), CodeBadFrame, 0},
		{"map32 2^32-1", mp(t, "df ff ff ff ff 00"), CodeBadFrame, 0},
		{"map needs 2n bytes", mp(t, "de 00 03 a1 76 01 a1"), CodeBadFrame, 0},
		{"bin32 huge", mp(t, "81 a1 76 c6 ff ff ff ff"), CodeBadFrame, 0},
		{"str16 huge in payload", mp(t, "82 a1 76 01 a7 70 61 79 6c 6f 61 64 81 a4 74 65 78 74 da ff ff"), CodeBadFrame, 0},
		{"invalid utf8 value", env(t, map[string]any{"v": 1, "type": "talk", "id": 4,
			"payload": map[string]any{"npc_id": "a", "text": "bad \xff"}}), CodeInvalidUTF8, 0},
		{"invalid utf8 key", mp(t, "81 a2 c3 28 01"), CodeInvalidUTF8, 0},
		{"too large", append(bytes.Repeat([]byte{0x90}, MaxFrameBytes), 0), CodeFrameTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := MsgpackCodec{}.Decode(tt.frame)
			if CodeOf(err) != tt.code {
				t.Fatalf("Decode(%x) error = %v, want code %s", tt.frame, err, tt.code)
			}
			if f.ID != tt.wantID {
				t.Errorf("frame id = %d, want %d", f.ID, tt.wantID)
			}
		})
	}
}

func TestDecodeJSONMalformed(t *testing.T) {
	tests := []struct {
		name   string
		frame  string
		code   string
		wantID uint64
	}{
		{"empty", "", CodeBadFrame, 0},
		{"truncated", `{"v":1,"type":"talk","id":3,"payload":{"npc_id":"a"`, CodeBadFrame, 0},
		{"not an object", `[1,2,3]`, CodeBadFrame, 0},
		{"string", `"hello"`, CodeBadFrame, 0},
		{"trailing garbage", `{"v":1,"type":"ping","id":3,"payload":{}} x`, CodeBadFrame, 0},
		{"missing type", `{"v":1,"id":3,"payload":{}}`, CodeBadFrame, 3},
		{"null type", `{"v":1,"type":null,"id":3}`, CodeBadFrame, 3},
		{"missing v", `{"type":"ping","id":3}`, CodeBadFrame, 3},
		{"unknown version", `{"v":2,"type":"ping","id":3,"tick":0,"payload":{}}`, CodeUnsupportedVersion, 3},
		{"v string", `{"v":"1","type":"ping","id":3}`, CodeBadFrame, 3},
		{"id negative", `{"v":1,"type":"ping","id":-3}`, CodeBadFrame, 0},
		{"id float", `{"v":1,"type":"ping","id":3.5}`, CodeBadFrame, 0},
		{"payload array", `{"v":1,"type":"ping","id":3,"payload":[]}`, CodeBadFrame, 3},
		{"payload string", `{"v":1,"type":"ping","id":3,"payload":"x"}`, CodeBadFrame, 3},
		{"deep nesting", `{"v":1,"type":"ping","id":3,"payload":{"x":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}}`, CodeBadFrame, 0},
		{"invalid utf8", "{\"v\":1,\"type\":\"talk\",\"id\":3,\"payload\":{\"npc_id\":\"a\",\"text\":\"\xff\"}}", CodeInvalidUTF8, 0},
		{"too large", `{"v":1,"type":"talk","payload":{"text":"` + strings.Repeat("a", MaxFrameBytes) + `"}}`, CodeFrameTooLarge, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := JSONCodec{}.Decode([]byte(tt.frame))
			if CodeOf(err) != tt.code {
				t.Fatalf("Decode(%q) error = %v, want code %s", tt.frame, err, tt.code)
			}
			if f.ID != tt.wantID {
				t.Errorf("frame id = %d, want %d", f.ID, tt.wantID)
			}
		})
	}
	// Nesting exactly at the limit is fine; brackets inside strings do not count.
	ok := `{"v":1,"type":"ping","id":3,"payload":{"x":` + strings.Repeat("[", MaxDepth-2) + strings.Repeat("]", MaxDepth-2) +
		`,"s":"` + strings.Repeat(`[{\"`, 40) + `"}}`
	if _, err := (JSONCodec{}).Decode([]byte(ok)); err != nil {
		t.Errorf("depth %d: %v", MaxDepth, err)
	}
}

// TestPayloadErrors covers errors found when decoding a payload: wrong field
// types (bad_frame) and failed validation (bad_request).
func TestPayloadErrors(t *testing.T) {
	type tc struct {
		name    string
		typ     string
		payload map[string]any
		code    string
		field   string
	}
	tests := []tc{
		{"talk text not string", TypeTalk, map[string]any{"npc_id": "a", "text": 5}, CodeBadFrame, "talk.text"},
		{"talk budget negative", TypeTalk, map[string]any{"npc_id": "a", "text": "x", "budget_ms": -1}, CodeBadFrame, "budget_ms"},
		{"talk budget overflow", TypeTalk, map[string]any{"npc_id": "a", "text": "x", "budget_ms": int64(1) << 33}, CodeBadFrame, "budget_ms"},
		{"talk budget float", TypeTalk, map[string]any{"npc_id": "a", "text": "x", "budget_ms": 1.5}, CodeBadFrame, "budget_ms"},
		{"talk missing npc", TypeTalk, map[string]any{"text": "x"}, CodeBadRequest, "talk.npc_id"},
		{"talk empty text", TypeTalk, map[string]any{"npc_id": "a", "text": ""}, CodeBadRequest, "talk.text"},
		{"talk long text", TypeTalk, map[string]any{"npc_id": "a", "text": strings.Repeat("x", MaxTalkTextBytes+1)}, CodeBadRequest, "talk.text"},
		{"talk long npc", TypeTalk, map[string]any{"npc_id": strings.Repeat("n", MaxIDBytes+1), "text": "x"}, CodeBadRequest, "talk.npc_id"},
		{"bark missing npc", TypeBark, map[string]any{"trigger": "schedule"}, CodeBadRequest, "bark.npc_id"},
		{"bark missing trigger", TypeBark, map[string]any{"npc_id": "a"}, CodeBadRequest, "bark.trigger"},
		{"bark long trigger", TypeBark, map[string]any{"npc_id": "a", "trigger": strings.Repeat("t", MaxTriggerBytes+1)}, CodeBadRequest, "bark.trigger"},
		{"bark trigger with space", TypeBark, map[string]any{"npc_id": "a", "trigger": "came near"}, CodeBadRequest, "bark.trigger"},
		{"bark trigger upper case", TypeBark, map[string]any{"npc_id": "a", "trigger": "Proximity"}, CodeBadRequest, "bark.trigger"},
		{"bark trigger not string", TypeBark, map[string]any{"npc_id": "a", "trigger": 7}, CodeBadFrame, "bark.trigger"},
		{"bark budget negative", TypeBark, map[string]any{"npc_id": "a", "trigger": "schedule", "budget_ms": -1}, CodeBadFrame, "budget_ms"},
		{"hello missing player", TypeHello, map[string]any{"player_name": "A"}, CodeBadRequest, "hello.player_id"},
		{"hello long name", TypeHello, map[string]any{"player_id": "p", "player_name": strings.Repeat("x", MaxNameBytes+1)}, CodeBadRequest, "hello.player_name"},
		{"hello long client", TypeHello, map[string]any{"player_id": "p", "client": strings.Repeat("x", MaxNameBytes+1)}, CodeBadRequest, "hello.client"},
		{"hello id array", TypeHello, map[string]any{"player_id": []int{1}}, CodeBadFrame, "hello.player_id"},
		{"ping t_ms string", TypePing, map[string]any{"t_ms": "now"}, CodeBadFrame, "t_ms"},
		{"done on_time int", TypeDialogueDone, map[string]any{"on_time": 1}, CodeBadFrame, "on_time"},
		{"welcome npcs map", TypeWelcome, map[string]any{"npcs": map[string]any{}}, CodeBadFrame, "npcs"},
		{"welcome npc not map", TypeWelcome, map[string]any{"npcs": []any{1}}, CodeBadFrame, "npcs"},
	}
	for _, tt := range tests {
		for _, c := range codecs() {
			t.Run(c.Subprotocol()+"/"+tt.name, func(t *testing.T) {
				var frame []byte
				if _, ok := c.(JSONCodec); ok {
					frame, _ = json.Marshal(map[string]any{"v": 1, "type": tt.typ, "id": 8, "tick": 0, "payload": tt.payload})
				} else {
					frame = env(t, map[string]any{"v": 1, "type": tt.typ, "id": 8, "tick": 0, "payload": tt.payload})
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
}

func TestMsgpackLenientScalars(t *testing.T) {
	// nil for any field reads as zero; integer floats read as floats;
	// signed encodings of non-negative values read as unsigned.
	frame := env(t, map[string]any{"v": int64(1), "type": "dialogue.done", "id": int16(3), "tick": nil,
		"payload": map[string]any{"ticket": int32(7), "text": nil, "latency_ms": 12, "on_time": nil, "budget_ms": float32(0)}})
	f, err := MsgpackCodec{}.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	var d DialogueDone
	err = f.Decode(&d)
	if CodeOf(err) != CodeBadFrame { // budget_ms as a float is not accepted
		t.Errorf("float budget: %v", err)
	}
	frame = env(t, map[string]any{"v": int64(1), "type": "dialogue.done", "id": int16(3), "tick": nil,
		"payload": map[string]any{"ticket": int32(7), "text": nil, "latency_ms": 12, "on_time": nil, "floor": true}})
	f, err = MsgpackCodec{}.Decode(frame)
	if err != nil {
		t.Fatal(err)
	}
	d = DialogueDone{}
	if err := f.Decode(&d); err != nil || d.Ticket != 7 || d.LatencyMS != 12 || !d.Floor || f.ID != 3 {
		t.Errorf("%+v %v", d, err)
	}
}

func TestErrorType(t *testing.T) {
	var err error = &Error{Code: CodeOverloaded, Message: "queue full"}
	wrapped := errors.Join(errors.New("talk"), err)
	if !errors.Is(wrapped, &Error{Code: CodeOverloaded}) {
		t.Error("errors.Is by code")
	}
	if errors.Is(wrapped, &Error{Code: CodeInternal}) {
		t.Error("errors.Is matched another code")
	}
	var pe *Error
	if !errors.As(wrapped, &pe) || pe.Message != "queue full" {
		t.Error("errors.As")
	}
	if CodeOf(wrapped) != CodeOverloaded || CodeOf(errors.New("x")) != "" {
		t.Error("CodeOf")
	}
	if got := err.Error(); got != "hearth protocol: overloaded: queue full" {
		t.Errorf("Error() = %q", got)
	}
	if p := pe.Payload(); p.Err().Code != CodeOverloaded {
		t.Error("Payload/Err")
	}
	if e := UnknownType(strings.Repeat("x", 1000)); len(e.Message) > 100 {
		t.Errorf("UnknownType message not cut: %d bytes", len(e.Message))
	}
}

func TestValidate(t *testing.T) {
	ok := []Validator{
		Hello{PlayerID: strings.Repeat("p", MaxIDBytes), PlayerName: strings.Repeat("n", MaxNameBytes)},
		Talk{NPCID: "n", Text: strings.Repeat("t", MaxTalkTextBytes)},
		Bark{NPCID: "n", Trigger: strings.Repeat("t", MaxTriggerBytes)},
		Bark{NPCID: "n", Trigger: TriggerSchedule},
		Ping{},
	}
	for _, v := range ok {
		if err := v.Validate(); err != nil {
			t.Errorf("%+v: %v", v, err)
		}
	}
	if err := (Talk{NPCID: "n", Text: "\xff"}).Validate(); CodeOf(err) != CodeInvalidUTF8 {
		t.Errorf("invalid UTF-8 text: %v", err)
	}
	if err := (Bark{NPCID: "n", Trigger: "\xff"}).Validate(); CodeOf(err) != CodeInvalidUTF8 {
		t.Errorf("invalid UTF-8 trigger: %v", err)
	}
	if err := (Hello{}).Validate(); CodeOf(err) != CodeBadRequest || !strings.Contains(err.Error(), "hello.player_id") {
		t.Errorf("empty hello: %v", err)
	}
}

func BenchmarkAppendEncodeDelta(b *testing.B) {
	d := &DialogueDelta{Ticket: 123456, NPCID: "smith", Seq: 17, Text: " the forge"}
	h := Header{ID: 99, Tick: 123456}
	for _, c := range codecs() {
		b.Run(c.Subprotocol(), func(b *testing.B) {
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = c.AppendEncode(buf[:0], h, d)
			}
		})
	}
}

func BenchmarkDecodeTalk(b *testing.B) {
	for _, c := range codecs() {
		frame, _ := c.Encode(Header{ID: 7}, Talk{NPCID: "smith", Text: "Any work for me today?", BudgetMS: 50})
		b.Run(c.Subprotocol(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				f, err := c.Decode(frame)
				if err != nil {
					b.Fatal(err)
				}
				var t Talk
				if err := f.Decode(&t); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestNilPointerPayload(t *testing.T) {
	for _, c := range codecs() {
		b, err := c.Encode(Header{Type: TypePing, ID: 1}, (*Ping)(nil))
		if err != nil {
			t.Fatal(err)
		}
		f, err := c.Decode(b)
		if err != nil || len(f.RawPayload()) == 0 {
			t.Fatalf("%s: %v %q", c.Subprotocol(), err, f.RawPayload())
		}
	}
}

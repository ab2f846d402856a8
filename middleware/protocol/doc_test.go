package protocol

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var updateDoc = flag.Bool("update-doc", false, "rewrite the example blocks of docs/protocol.md from the encoders")

const docPath = "../../docs/protocol.md"

// docExamples are the messages shown in docs/protocol.md. Each appears there
// after a line "<!-- example: NAME -->" as a ```hex block (the MessagePack
// frame) followed by a ```json block (the JSON frame).
func docExamples() []struct {
	name string
	h    Header
	m    Message
} {
	return []struct {
		name string
		h    Header
		m    Message
	}{
		{"hello", Header{ID: 1}, Hello{PlayerID: "p1", PlayerName: "Aria"}},
		{"welcome", Header{ID: 1, Tick: 1200}, Welcome{Session: "s-7f3a", Server: "hearth/0.1", TickHz: 20, BudgetMS: 50,
			NPCs: []NPCInfo{{ID: "smith", Name: "Brom", Role: "blacksmith"}}}},
		{"talk", Header{ID: 2}, Talk{NPCID: "smith", Text: "Any work?", BudgetMS: 80}},
		{"bark", Header{ID: 12}, Bark{NPCID: "smith", Trigger: TriggerProximity}},
		{"bark-done", Header{ID: 12, Tick: 1209}, DialogueDone{Ticket: 19, NPCID: "smith", Text: "Mind the ford, it's running high today.",
			Tier: TierCache, Backend: "cache:template", LatencyMS: 0.25, BudgetMS: 50, OnTime: true}},
		{"delta", Header{ID: 2, Tick: 1201}, DialogueDelta{Ticket: 17, NPCID: "smith", Seq: 0, Text: "Aye, "}},
		{"delta-reset", Header{ID: 2, Tick: 1202}, DialogueDelta{Ticket: 17, NPCID: "smith", Seq: 2, Text: "Hm. ", Reset: true}},
		{"done", Header{ID: 2, Tick: 1202}, DialogueDone{Ticket: 17, NPCID: "smith", Text: "Hm. The forge needs coal.",
			Tier: TierEmbedded, Backend: "embedded:tiny", LatencyMS: 41.5, BudgetMS: 80, OnTime: true, Prompt: "npc.dialogue@3"}},
		{"done-actions", Header{ID: 2, Tick: 1203}, DialogueDone{Ticket: 18, NPCID: "hobb", Text: "Ale's two pennies, pet.",
			Tier: TierTemplate, Backend: "template", LatencyMS: 0.5, BudgetMS: 80, OnTime: true,
			Actions: []Action{{Kind: ActionTrade, Item: "ale", Price: 2}}}},
		{"talk-refine", Header{ID: 13}, Talk{NPCID: "smith", Text: "What lies past the ford?", Refine: true}},
		{"done-refining", Header{ID: 13, Tick: 1210}, DialogueDone{Ticket: 20, NPCID: "smith", Text: "The ford? Ask at the inn.",
			Tier: TierTemplate, Backend: "template", LatencyMS: 0.5, BudgetMS: 50, OnTime: true, Floor: true, Refining: true}},
		{"refine", Header{ID: 13, Tick: 1216}, DialogueRefine{Ticket: 20, NPCID: "smith",
			Text: "Past the ford lies the Sallow Fens; keep to the causeway.", Tier: TierRemote, Backend: "openai:large",
			LatencyMS: 312.5, Prompt: "npc.dialogue@2", PromptTokens: 410, Tokens: 14, CostUSD: 0.001165}},
		{"refine-none", Header{ID: 13, Tick: 1310}, DialogueRefine{Ticket: 20, NPCID: "smith", LatencyMS: 5000,
			Reason: "inference: no better backend answered the refinement: openai:large failed or ran out of time"}},
		{"error", Header{ID: 3, Tick: 1203}, ErrorPayload{Code: CodeUnknownNPC, Message: `npc "ghost": unknown`}},
		{"ping", Header{ID: 4}, Ping{TMS: 1700000000000}},
		{"pong", Header{ID: 4, Tick: 1203}, Pong{TMS: 1700000000000}},
		{"quest-request", Header{ID: 5}, QuestRequest{Level: 3, Location: "kettle-green", Motivation: "wealth", Seed: 1}},
		{"quest-offer", Header{ID: 5, Tick: 1204}, QuestOffer{Ticket: 18, Quest: docQuest(), LatencyMS: 0.5, BudgetMS: 50, OnTime: true}},
		{"quest-error", Header{ID: 6, Tick: 1204}, ErrorPayload{Code: CodeBadRequest,
			Message: `quest: location "kettle-gren": unknown location; places of kettleford like it: kettle-green, kettle-market`}},
		{"quest-accept", Header{ID: 7}, QuestAccept{QuestID: "kettleford-q102305d335071f24"}},
		{"quest-accepted", Header{ID: 7, Tick: 1205}, QuestUpdate{QuestID: "kettleford-q102305d335071f24", Kind: QuestUpdateAccepted, Count: 3}},
		{"world-event", Header{ID: 8}, WorldEvent{Kind: WorldEventCollect, Target: "kettleford-copperware", Location: "kettle-market", Count: 3}},
		{"quest-update", Header{ID: 8, Tick: 1206}, QuestUpdate{QuestID: "kettleford-q102305d335071f24", Kind: QuestUpdateObjective,
			Objective: 0, Progress: 3, Count: 3}},
		{"world-ack", Header{ID: 8, Tick: 1206}, WorldAck{Updates: 1}},
		{"quest-completed", Header{ID: 9, Tick: 1207}, QuestUpdate{QuestID: "kettleford-q102305d335071f24", Kind: QuestUpdateCompleted,
			Objective: 1, Reward: &QuestReward{XP: 150, Gold: 61, Items: []string{"ford-brown"}}}},
		{"quest-abandon", Header{ID: 10}, QuestAbandon{QuestID: "kettleford-q102305d335071f24"}},
		{"quest-log-request", Header{ID: 11}, QuestLog{}},
		{"quest-log", Header{ID: 11, Tick: 1208}, QuestLog{Total: 1, Entries: []QuestLogEntry{
			{Quest: docQuest(), State: QuestStateActive, Objective: 1, Progress: []uint32{3, 0}}}}},
	}
}

// docQuest is the quest of the documentation's examples.
func docQuest() QuestInfo {
	return QuestInfo{
		ID: "kettleford-q102305d335071f24", World: "kettleford", Title: "Profit at the Kettle Market",
		Giver: "wendel-crisp", Motivation: "wealth",
		Objectives: []QuestObjective{
			{Action: "gather", Targets: []string{"kettleford-copperware"}, Count: 3, Location: "kettle-market"},
			{Action: "deliver", Targets: []string{"kettleford-copperware", "wendel-crisp"}, Count: 3, Location: "crookwheel-mill"},
		},
		Prerequisites: []string{},
		Reward:        QuestReward{XP: 150, Gold: 61, Items: []string{"ford-brown"}},
		Level:         QuestLevel{Min: 2, Max: 5},
		Description:   "Find three bundles of Kettleford Copperware at the Kettle Market, then bring them to Wendel Crisp at Crookwheel Mill.",
		Dialogue:      "Good, you came. I owe money, and goods pay debts.",
		Seed:          1, Tier: TierTemplate,
	}
}

var (
	exampleRe   = regexp.MustCompile("(?s)<!-- example: ([a-z-]+) -->\\s*```hex\n(.*?)```\\s*```json\n(.*?)\n```")
	annotatedRe = regexp.MustCompile("(?s)<!-- annotated: ([a-z-]+) -->\\s*```text\n(.*?)```")
)

// formatHex writes b as lowercase hex, 16 bytes a line.
func formatHex(b []byte) string {
	var sb strings.Builder
	for i, c := range b {
		switch {
		case i == 0:
		case i%16 == 0:
			sb.WriteByte('\n')
		default:
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02x", c)
	}
	sb.WriteByte('\n')
	return sb.String()
}

func parseHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// TestProtocolDoc checks that every example in docs/protocol.md is exactly
// what the encoders write, and decodes back to the message. Run with
// -update-doc to rewrite the examples after an intended change.
func TestProtocolDoc(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{}
	for _, ex := range docExamples() {
		mb, err := MsgpackCodec{}.Encode(ex.h, ex.m)
		if err != nil {
			t.Fatal(err)
		}
		jb, err := JSONCodec{}.Encode(ex.h, ex.m)
		if err != nil {
			t.Fatal(err)
		}
		want[ex.name] = [2]string{formatHex(mb), string(jb)}
		// The documented frames decode to the documented messages.
		for _, c := range codecs() {
			b := mb
			if c.Subprotocol() == SubprotocolJSON {
				b = jb
			}
			f, err := c.Decode(b)
			if err != nil {
				t.Fatalf("%s: %v", ex.name, err)
			}
			m, err := f.Message()
			if err != nil || !reflect.DeepEqual(m, ex.m) {
				t.Fatalf("%s: decoded %+v, %v", ex.name, m, err)
			}
		}
	}

	if *updateDoc {
		out := exampleRe.ReplaceAllFunc(doc, func(block []byte) []byte {
			name := string(exampleRe.FindSubmatch(block)[1])
			w, ok := want[name]
			if !ok {
				return block
			}
			return []byte("<!-- example: " + name + " -->\n```hex\n" + w[0] + "```\n\n```json\n" + w[1] + "\n```")
		})
		if !bytes.Equal(out, doc) {
			if err := os.WriteFile(docPath, out, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Log("rewrote", docPath)
		}
		doc = out
	}

	seen := map[string]bool{}
	for _, m := range exampleRe.FindAllSubmatch(doc, -1) {
		name := string(m[1])
		w, ok := want[name]
		if !ok {
			t.Errorf("docs/protocol.md has example %q that doc_test.go does not know", name)
			continue
		}
		seen[name] = true
		if got := parseHex(t, string(m[2])); !bytes.Equal(got, parseHex(t, w[0])) {
			t.Errorf("example %q: documented MessagePack frame\n%s\ndiffers from the encoder's\n%s(run go test ./middleware/protocol -run TestProtocolDoc -update-doc)", name, m[2], w[0])
		}
		if got := strings.TrimSpace(string(m[3])); got != w[1] {
			t.Errorf("example %q: documented JSON frame\n%s\ndiffers from the encoder's\n%s", name, got, w[1])
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("docs/protocol.md lacks example %q", name)
		}
	}

	// Annotated dumps: the hex before each "#" must concatenate to the
	// example's frame.
	annotated := annotatedRe.FindAllSubmatch(doc, -1)
	if len(annotated) == 0 {
		t.Error("docs/protocol.md has no annotated example")
	}
	for _, m := range annotated {
		name := string(m[1])
		var sb strings.Builder
		for _, line := range strings.Split(string(m[2]), "\n") {
			if i := strings.IndexByte(line, '#'); i >= 0 {
				line = line[:i]
			}
			sb.WriteString(line)
		}
		if got := parseHex(t, sb.String()); !bytes.Equal(got, parseHex(t, want[name][0])) {
			t.Errorf("annotated example %q:\n%x\ndiffers from the encoder's\n%s", name, got, want[name][0])
		}
	}
}

package protocol

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/quest"
)

func sampleQuest() QuestInfo {
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
		Description:   "Wendel Crisp smells a bargain. Find three bundles of copperware.",
		Dialogue:      "Good, you came. I owe money, and goods pay debts.",
		Seed:          1, Tier: TierTemplate,
	}
}

func questSamples() []sample {
	q := sampleQuest()
	chained := sampleQuest()
	chained.ID, chained.Prerequisites, chained.TimeLimitS, chained.Seed = "kettleford-q2", []string{q.ID}, 3600, 1<<40
	chained.Objectives = []QuestObjective{{Action: "goto", Targets: []string{}, Count: 1, Location: "kettle-green"}}
	chained.Reward.Items = []string{}
	return []sample{
		{"quest.request", Header{ID: 10}, QuestRequest{Level: 3, Location: "kettle-green"}},
		{"quest.request full", Header{ID: 11}, QuestRequest{Level: 3, Location: "kettle-green", Motivation: "wealth",
			Giver: "wendel-crisp", Seed: 1 << 40, After: q.ID, BudgetMS: 80}},
		{"quest.offer", Header{ID: 10, Tick: 40}, QuestOffer{Ticket: 5, Quest: q, LatencyMS: 0.25, BudgetMS: 50, OnTime: true}},
		{"quest.offer chained", Header{ID: 11, Tick: 41}, QuestOffer{Ticket: 6, Quest: chained, LatencyMS: 60, BudgetMS: 50, Floor: true}},
		{"quest.accept", Header{ID: 12}, QuestAccept{QuestID: q.ID}},
		{"quest.abandon", Header{ID: 13}, QuestAbandon{QuestID: q.ID}},
		{"world.event kill", Header{ID: 14}, WorldEvent{Kind: WorldEventKill, Target: "marsh-wolf", Location: "nettle-hollow", Count: 2}},
		{"world.event deliver", Header{ID: 15}, WorldEvent{Kind: WorldEventDeliver, Target: "wendel-crisp", Item: "kettleford-copperware", Count: 3}},
		{"world.event arrive", Header{ID: 16}, WorldEvent{Kind: WorldEventArrive, Location: "kettle-green"}},
		{"world.ack", Header{ID: 16, Tick: 50}, WorldAck{Updates: 2}},
		{"world.state", Header{ID: 18}, WorldState{NPCID: "hobb-fairweather",
			Items:     []WorldItem{{Item: "ale", Name: "mug of ale", Count: 40, Price: 2}, {Item: "key", Count: 1}},
			Locations: []string{"kettle-green", "tipped-kettle"}, Present: []string{"aria"}, Quests: []string{q.ID}}},
		{"world.state empty", Header{ID: 19}, WorldState{NPCID: "hobb-fairweather"}},
		{"quest.update progress", Header{ID: 14, Tick: 50}, QuestUpdate{QuestID: q.ID, Kind: QuestUpdateProgress, Objective: 0, Progress: 2, Count: 3}},
		{"quest.update completed", Header{Tick: 51}, QuestUpdate{QuestID: q.ID, Kind: QuestUpdateCompleted, Objective: 1,
			Reward: &QuestReward{XP: 150, Gold: 61, Items: []string{"ford-brown"}}}},
		{"quest.update failed", Header{Tick: 52}, QuestUpdate{QuestID: q.ID, Kind: QuestUpdateFailed, Reason: "Wendel Crisp died"}},
		{"quest.log request", Header{ID: 17}, QuestLog{}},
		{"quest.log", Header{ID: 17, Tick: 53}, QuestLog{Total: 3, Entries: []QuestLogEntry{
			{Quest: q, State: QuestStateActive, Objective: 1, Progress: []uint32{3, 1}},
			{Quest: chained, State: QuestStateAbandoned, Progress: []uint32{0}, Reason: "abandoned by the player"},
		}}},
	}
}

// TestQuestVocabulary checks the protocol's quest words against the quest
// package's.
func TestQuestVocabulary(t *testing.T) {
	var motivations []string
	for _, m := range quest.Motivations {
		motivations = append(motivations, string(m))
	}
	if got, want := strings.Join(questMotivations[:], ","), strings.Join(motivations, ","); got != want {
		t.Errorf("motivations %s, quest package has %s", got, want)
	}
	kinds := []quest.EventKind{quest.EventKill, quest.EventCollect, quest.EventArrive, quest.EventTalk,
		quest.EventDeliver, quest.EventUse, quest.EventDied}
	for i, k := range kinds {
		if worldEventKinds[i] != string(k) {
			t.Errorf("world event kind %d: %q, quest package has %q", i, worldEventKinds[i], k)
		}
	}
	for p, q := range map[string]quest.UpdateKind{QuestUpdateProgress: quest.UpdateProgress,
		QuestUpdateObjective: quest.UpdateObjective, QuestUpdateCompleted: quest.UpdateCompleted,
		QuestUpdateFailed: quest.UpdateFailed, QuestUpdateAbandoned: quest.UpdateAbandoned} {
		if p != string(q) {
			t.Errorf("update kind %q, quest package has %q", p, q)
		}
	}
	for p, q := range map[string]quest.State{QuestStateActive: quest.Active, QuestStateCompleted: quest.Completed,
		QuestStateFailed: quest.Failed, QuestStateAbandoned: quest.Abandoned} {
		if p != string(q) {
			t.Errorf("state %q, quest package has %q", p, q)
		}
	}
	if MaxQuestObjectives < quest.MaxObjectives || MaxQuestRewardItems < quest.MaxRewardItems {
		t.Error("protocol bounds are below the quest package's")
	}
}

func TestQuestValidate(t *testing.T) {
	ok := []Validator{
		QuestRequest{Level: 1, Location: strings.Repeat("l", MaxIDBytes)},
		QuestRequest{Level: 3, Location: "kettle-green", Motivation: "equipment", Giver: strings.Repeat("g", MaxIDBytes),
			After: strings.Repeat("q", MaxQuestIDBytes)},
		QuestAccept{QuestID: strings.Repeat("q", MaxQuestIDBytes)},
		QuestAbandon{QuestID: "q"},
		WorldEvent{Kind: WorldEventKill, Target: "wolf"},
		WorldEvent{Kind: WorldEventCollect, Target: "herb", Count: 5},
		WorldEvent{Kind: WorldEventArrive, Location: "mill"},
		WorldEvent{Kind: WorldEventArrive, Location: "mill", Target: "escorted-npc"},
		WorldEvent{Kind: WorldEventTalk, Target: "smith"},
		WorldEvent{Kind: WorldEventDeliver, Target: "smith", Item: "coal"},
		WorldEvent{Kind: WorldEventUse, Target: "key", Location: "gate"},
		WorldEvent{Kind: WorldEventDied, Target: "smith"},
		QuestLog{},
		WorldState{NPCID: "smith", Items: make([]WorldItem, 0)},
		WorldState{NPCID: "smith", Locations: make([]string, MaxWorldEntries)[:0]},
	}
	for _, v := range ok {
		if err := v.Validate(); err != nil {
			t.Errorf("%+v: %v", v, err)
		}
	}
	q := sampleQuest()
	tooManyObjectives := q
	tooManyObjectives.Objectives = make([]QuestObjective, MaxQuestObjectives+1)
	tooManyTargets := q
	tooManyTargets.Objectives = []QuestObjective{q.Objectives[0], {Targets: make([]string, MaxQuestTargets+1)}}
	tooManyItems := q
	tooManyItems.Reward.Items = make([]string, MaxQuestRewardItems+1)
	tooManyPrereqs := q
	tooManyPrereqs.Prerequisites = make([]string, MaxQuestPrerequisites+1)
	bad := []struct {
		v     Validator
		code  string
		field string
	}{
		{QuestRequest{Location: "kettle-green"}, CodeBadRequest, "quest.request.level"},
		{WorldState{}, CodeBadRequest, "world.state.npc_id"},
		{WorldState{NPCID: "smith", Items: []WorldItem{{Count: 1}}}, CodeBadRequest, "world.state.items[0].item"},
		{WorldState{NPCID: "smith", Present: make([]string, MaxWorldEntries+1)}, CodeBadRequest, "world.state.present"},
		{WorldState{NPCID: "smith", Quests: []string{""}}, CodeBadRequest, "world.state.quests[]"},
		{QuestRequest{Level: 3}, CodeBadRequest, "quest.request.location"},
		{QuestRequest{Level: 3, Location: strings.Repeat("l", MaxIDBytes+1)}, CodeBadRequest, "quest.request.location"},
		{QuestRequest{Level: 3, Location: "x", Motivation: "greed"}, CodeBadRequest, "quest.request.motivation"},
		{QuestRequest{Level: 3, Location: "x", Motivation: "Wealth"}, CodeBadRequest, "quest.request.motivation"},
		{QuestRequest{Level: 3, Location: "x", Giver: strings.Repeat("g", MaxIDBytes+1)}, CodeBadRequest, "quest.request.giver"},
		{QuestRequest{Level: 3, Location: "x", After: strings.Repeat("q", MaxQuestIDBytes+1)}, CodeBadRequest, "quest.request.after"},
		{QuestRequest{Level: 3, Location: "\xff"}, CodeInvalidUTF8, "quest.request.location"},
		{QuestAccept{}, CodeBadRequest, "quest.accept.quest_id"},
		{QuestAccept{QuestID: strings.Repeat("q", MaxQuestIDBytes+1)}, CodeBadRequest, "quest.accept.quest_id"},
		{QuestAbandon{}, CodeBadRequest, "quest.abandon.quest_id"},
		{WorldEvent{}, CodeBadRequest, "world.event.kind"},
		{WorldEvent{Kind: "dance", Target: "x"}, CodeBadRequest, "world.event.kind"},
		{WorldEvent{Kind: WorldEventKill}, CodeBadRequest, "world.event.target"},
		{WorldEvent{Kind: WorldEventDied}, CodeBadRequest, "world.event.target"},
		{WorldEvent{Kind: WorldEventArrive}, CodeBadRequest, "world.event.location"},
		{WorldEvent{Kind: WorldEventDeliver, Target: "smith"}, CodeBadRequest, "world.event.item"},
		{WorldEvent{Kind: WorldEventKill, Target: strings.Repeat("t", MaxIDBytes+1)}, CodeBadRequest, "world.event.target"},
		{QuestOffer{Quest: tooManyObjectives}, CodeBadRequest, "quest.offer.quest.objectives"},
		{QuestOffer{Quest: tooManyTargets}, CodeBadRequest, "quest.offer.quest.objectives[1].targets"},
		{QuestOffer{Quest: tooManyItems}, CodeBadRequest, "quest.offer.quest.reward.items"},
		{QuestOffer{Quest: tooManyPrereqs}, CodeBadRequest, "quest.offer.quest.prerequisites"},
		{QuestUpdate{Reward: &tooManyItems.Reward}, CodeBadRequest, "quest.update.reward.items"},
		{QuestLog{Entries: make([]QuestLogEntry, MaxQuestLogEntries+1)}, CodeBadRequest, "quest.log.entries"},
		{QuestLog{Entries: []QuestLogEntry{{Quest: q, Progress: make([]uint32, 4)}}}, CodeBadRequest, "quest.log.entries[0].progress"},
		{QuestLog{Entries: []QuestLogEntry{{Quest: q}, {Quest: tooManyTargets}}}, CodeBadRequest, "quest.log.entries[1].quest.objectives[1].targets"},
	}
	for _, tt := range bad {
		err := tt.v.Validate()
		if CodeOf(err) != tt.code || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("%T %+v: error %v, want %s naming %s", tt.v, tt.v, err, tt.code, tt.field)
		}
	}
	if err := (QuestRequest{Level: 3, Location: "x", Motivation: "greed"}).Validate(); !strings.Contains(err.Error(), "knowledge, comfort") {
		t.Errorf("the motivation error does not list the valid ones: %v", err)
	}
}

// TestQuestPayloadErrors sends malformed and oversized quest payloads
// through both codecs.
func TestQuestPayloadErrors(t *testing.T) {
	objective := map[string]any{"action": "kill", "targets": []string{"wolf"}, "count": 1, "location": "x"}
	questWith := func(k string, v any) map[string]any {
		return map[string]any{"id": "q", "objectives": []any{objective}, k: v}
	}
	tests := []struct {
		name    string
		typ     string
		payload map[string]any
		code    string
		field   string
	}{
		{"request level 0", TypeQuestRequest, map[string]any{"level": 0, "location": "kettle-green"}, CodeBadRequest, "quest.request.level"},
		{"request level missing", TypeQuestRequest, map[string]any{"location": "kettle-green"}, CodeBadRequest, "quest.request.level"},
		{"request level negative", TypeQuestRequest, map[string]any{"level": -1, "location": "kettle-green"}, CodeBadFrame, "level"},
		{"request level string", TypeQuestRequest, map[string]any{"level": "3", "location": "kettle-green"}, CodeBadFrame, "level"},
		{"request level too big", TypeQuestRequest, map[string]any{"level": int64(1) << 32, "location": "kettle-green"}, CodeBadFrame, "level"},
		{"request bad motivation", TypeQuestRequest, map[string]any{"level": 3, "location": "x", "motivation": "greed"}, CodeBadRequest, "quest.request.motivation"},
		{"request no location", TypeQuestRequest, map[string]any{"level": 3}, CodeBadRequest, "quest.request.location"},
		{"request seed negative", TypeQuestRequest, map[string]any{"level": 3, "location": "x", "seed": -5}, CodeBadFrame, "seed"},
		{"accept no id", TypeQuestAccept, map[string]any{}, CodeBadRequest, "quest.accept.quest_id"},
		{"accept id number", TypeQuestAccept, map[string]any{"quest_id": 7}, CodeBadFrame, "quest_id"},
		{"abandon long id", TypeQuestAbandon, map[string]any{"quest_id": strings.Repeat("q", MaxQuestIDBytes+1)}, CodeBadRequest, "quest.abandon.quest_id"},
		{"event unknown kind", TypeWorldEvent, map[string]any{"kind": "dance", "target": "x"}, CodeBadRequest, "world.event.kind"},
		{"event kill without target", TypeWorldEvent, map[string]any{"kind": "kill"}, CodeBadRequest, "world.event.target"},
		{"event count negative", TypeWorldEvent, map[string]any{"kind": "kill", "target": "wolf", "count": -2}, CodeBadFrame, "count"},
		{"offer too many objectives", TypeQuestOffer, map[string]any{"quest": map[string]any{
			"objectives": []any{objective, objective, objective, objective}}}, CodeBadRequest, "quest.offer.quest.objectives"},
		{"offer too many targets", TypeQuestOffer, map[string]any{"quest": map[string]any{"objectives": []any{
			map[string]any{"action": "kill", "targets": make([]string, MaxQuestTargets+1)}}}}, CodeBadRequest, "targets"},
		{"offer objectives not array", TypeQuestOffer, map[string]any{"quest": questWith("objectives", "x")}, CodeBadFrame, "objectives"},
		{"offer quest not map", TypeQuestOffer, map[string]any{"quest": []int{1}}, CodeBadFrame, "quest"},
		{"offer count negative", TypeQuestOffer, map[string]any{"quest": questWith("objectives", []any{
			map[string]any{"count": -1}})}, CodeBadFrame, "count"},
		{"offer reward items number", TypeQuestOffer, map[string]any{"quest": questWith("reward", map[string]any{"items": 3})}, CodeBadFrame, "items"},
		{"update reward too many items", TypeQuestUpdate, map[string]any{"quest_id": "q", "kind": "completed",
			"reward": map[string]any{"items": make([]string, MaxQuestRewardItems+1)}}, CodeBadRequest, "quest.update.reward.items"},
		{"log too many entries", TypeQuestLog, map[string]any{"entries": make([]map[string]any, MaxQuestLogEntries+1)}, CodeBadRequest, "quest.log.entries"},
		{"log progress not numbers", TypeQuestLog, map[string]any{"entries": []any{map[string]any{"progress": []string{"a"}}}}, CodeBadFrame, "progress"},
		{"log too much progress", TypeQuestLog, map[string]any{"entries": []any{map[string]any{"progress": []int{1, 2, 3, 4}}}}, CodeBadRequest, "progress"},
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

// TestQuestLogCapBeforeAllocating checks that a quest.log claiming more
// entries than MaxQuestLogEntries is refused before the entries (about 300
// bytes each, for one byte each on the wire) are allocated.
func TestQuestLogCapBeforeAllocating(t *testing.T) {
	const n = 2000
	frames := map[Codec][]byte{
		MsgpackCodec{}: env(t, map[string]any{"v": 1, "type": TypeQuestLog, "id": 1, "payload": map[string]any{"entries": make([]map[string]any, n)}}),
		JSONCodec{}:    []byte(`{"v":1,"type":"quest.log","id":1,"payload":{"entries":[{}` + strings.Repeat(",{}", n-1) + `]}}`),
	}
	for c, frame := range frames {
		var err error
		got := allocBytes(10, func() {
			f, derr := c.Decode(frame)
			if derr != nil {
				t.Fatal(derr)
			}
			_, err = f.Message()
		})
		if CodeOf(err) != CodeBadRequest {
			t.Fatalf("%s: %v, want bad_request", c.Subprotocol(), err)
		}
		if limit := 16*float64(len(frame)) + 4096; got > limit {
			t.Errorf("%s: %.0f bytes allocated for a %d-byte frame, limit %.0f", c.Subprotocol(), got, len(frame), limit)
		}
	}
}

// TestQuestLogUnknownKeysAndNulls: a JSON quest.log with unknown keys and
// nulls decodes like the msgpack one.
func TestQuestLogUnknownKeysAndNulls(t *testing.T) {
	f, err := JSONCodec{}.Decode([]byte(`{"v":1,"type":"quest.log","id":2,"payload":{"future":[1],"total":4,"entries":[{"state":"active","progress":[1],"x":{}},null]}}`))
	if err != nil {
		t.Fatal(err)
	}
	m, err := f.Message()
	if err != nil {
		t.Fatal(err)
	}
	l := m.(QuestLog)
	if l.Total != 4 || len(l.Entries) != 2 || l.Entries[0].State != "active" || l.Entries[0].Progress[0] != 1 {
		t.Errorf("%+v", l)
	}
}

func TestJSONArrayLen(t *testing.T) {
	for in, want := range map[string]int{
		`[]`: 0, `[ ]`: 0, `[{}]`: 1, `[1,2]`: 2, `[[],[1,2],{"a":[3,4]}]`: 3, `["a,b","]",","]`: 3, `[ "\"," , null ]`: 2, `[[]]`: 1,
	} {
		if n, ok := jsonArrayLen([]byte(in)); !ok || n != want {
			t.Errorf("jsonArrayLen(%s) = %d, %v; want %d", in, n, ok, want)
		}
	}
	if _, ok := jsonArrayLen([]byte(`{}`)); ok {
		t.Error("an object counted as an array")
	}
}

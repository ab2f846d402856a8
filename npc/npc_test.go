package npc_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/internal/testworld"
	"github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/npc"
)

func TestParseDefinitionErrorsNameFileAndLine(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"syntax", "id: a\nname: [unclosed\nrole: x\n", "bad.yaml:2"},
		{"unknown field", "id: a\nname: A\nrole: r\nknowledge: {sources: [v]}\ntraitz: [x]\n", "bad.yaml:5"},
		{"bad id", "id: Bad Id\nname: A\nrole: r\nknowledge: {sources: [v]}\n", "id \"Bad Id\""},
		{"no sources", "id: a\nname: A\nrole: r\n", "knowledge.sources"},
		{"secrecy", "id: a\nname: A\nrole: r\nknowledge: {sources: [v], max_secrecy: 5}\n", "max_secrecy"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := npc.ParseDefinition("bad.yaml", []byte(c.yaml))
			var de *npc.DefinitionError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want a *DefinitionError containing %q", err, c.want)
			}
		})
	}
}

func TestLoadDefinitionsRejectsDuplicates(t *testing.T) {
	def := "id: a\nname: A\nrole: r\nknowledge: {sources: [v]}\n"
	_, err := npc.LoadDefinitions(fstest.MapFS{"n/1.yaml": {Data: []byte(def)}, "n/2.yaml": {Data: []byte(def)}}, "n")
	if err == nil || !strings.Contains(err.Error(), "defined twice") {
		t.Fatalf("err = %v, want a duplicate id error", err)
	}
}

func TestClassifyIntent(t *testing.T) {
	for text, want := range map[string]inference.Intent{
		"Hello!":                   inference.IntentGreeting,
		"good morning to you":      inference.IntentGreeting,
		"Well met, smith.":         inference.IntentGreeting,
		"Farewell.":                inference.IntentFarewell,
		"see you later":            inference.IntentFarewell,
		"What is the aboleth's AC": inference.IntentDialogue,
		"hello, can you tell me who runs the inn here?": inference.IntentDialogue,
	} {
		if got := npc.ClassifyIntent(text); got != want {
			t.Errorf("ClassifyIntent(%q) = %s, want %s", text, got, want)
		}
	}
}

type fixture struct {
	st     *store.Store
	lib    *lore.Library
	roster *npc.Roster
}

func newFixture(t testing.TB, dir string) *fixture {
	t.Helper()
	w := testworld.Open(t, dir)
	return &fixture{w.Store, w.Lore, demoRoster(t, w, nil, nil)}
}

// demoRoster builds the demo world's roster over w with a router on
// models (above the template floor); adjust, when set, edits the Deps and
// the definitions first.
func demoRoster(t testing.TB, w *testworld.World, models []inference.Model, adjust func(*npc.Deps, []npc.Definition)) *npc.Roster {
	t.Helper()
	router, err := inference.NewRouter(template.New(), models, inference.RouterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deps := npc.Deps{Lore: w.Lore, Store: w.Store, Router: router}
	defs := slices.Clone(w.NPCs)
	if adjust != nil {
		adjust(&deps, defs)
	}
	roster, err := npc.NewRoster(defs, deps)
	if err != nil {
		t.Fatal(err)
	}
	return roster
}

func TestUnknownNPCNamesTheKnownOnes(t *testing.T) {
	f := newFixture(t, "")
	_, err := f.roster.Get("nobody")
	var ue *npc.UnknownNPCError
	if !errors.As(err, &ue) || !errors.Is(err, npc.ErrUnknownNPC) || len(ue.Known) < 8 {
		t.Fatalf("err = %v, want an *UnknownNPCError listing the roster", err)
	}
}

func TestTurnIsGroundedFilteredAndRemembered(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	defs := f.roster.Definitions()
	a, err := f.roster.Get(defs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	turn := npc.Turn{PlayerID: "p1", PlayerName: "Aria", Text: "What can you tell me about Kettleford?", Seed: 1}
	req, ref, err := a.Prepare(ctx, turn)
	if err != nil {
		t.Fatal(err)
	}
	if ref.String() != "npc.dialogue@2" || ref.Hash == "" || !strings.Contains(req.Prompt, defs[0].Name) {
		t.Fatalf("prompt %s (hash %q) does not render the persona:\n%s", ref, ref.Hash, req.Prompt)
	}
	if len(req.Facts) == 0 {
		t.Fatal("no lore retrieved for a question about the village")
	}
	filter := defs[0].Knowledge.Filter()
	for _, fact := range req.Facts {
		if !contains(filter.Sources, fact.Source) {
			t.Fatalf("fact from source %q outside the NPC's scope %v", fact.Source, filter.Sources)
		}
	}
	if req.Returning {
		t.Fatal("a first meeting is marked as returning")
	}
	reply, err := a.Respond(ctx, turn, nil)
	if err != nil || reply.Text == "" || reply.Tier != inference.TierTemplate {
		t.Fatalf("Respond = %+v, %v", reply, err)
	}
	if err := a.Remember(turn, reply); err != nil {
		t.Fatal(err)
	}
	mems, err := f.st.RecentMemories(defs[0].ID, "p1", 0)
	if err != nil || len(mems) != 2 || mems[1].Speaker != "player" || mems[1].PlayerName != "Aria" {
		t.Fatalf("memories = %+v, %v; want the player's line and the reply", mems, err)
	}
	// Another NPC with the same player has no memory of it.
	other, _ := f.roster.Get(defs[1].ID)
	req2, _, err := other.Prepare(ctx, npc.Turn{PlayerID: "p1", Text: "Hello"})
	if err != nil || req2.Returning || len(req2.Memories) != 0 {
		t.Fatalf("NPC %s remembers a conversation held with %s", defs[1].ID, defs[0].ID)
	}
	// The same NPC recalls the player and their name without being told.
	req3, _, err := a.Prepare(ctx, npc.Turn{PlayerID: "p1", Text: "Hello again"})
	if err != nil || !req3.Returning || req3.PlayerName != "Aria" || len(req3.Memories) == 0 {
		t.Fatalf("returning player not recalled: returning=%v name=%q memories=%d err=%v",
			req3.Returning, req3.PlayerName, len(req3.Memories), err)
	}
}

func TestKnowledgeScopeKeepsSecrets(t *testing.T) {
	f := newFixture(t, "")
	for _, d := range f.roster.Definitions() {
		filter := d.Knowledge.Filter()
		for _, h := range f.lib.Search("secret smugglers cult poisoning cellar", 20, filter) {
			if h.Chunk.Secrecy > d.Knowledge.MaxSecrecy {
				t.Fatalf("%s (max secrecy %d) can find %s (secrecy %d)", d.ID, d.Knowledge.MaxSecrecy, h.Chunk.ID, h.Chunk.Secrecy)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

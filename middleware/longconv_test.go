package middleware_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/embedded"
	"github.com/hearth-ai/hearth/inference/embedded/shipped"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/sim/world"
)

// TestConversationLongerThanTheContext (issue 6): one player talks to one
// NPC for far more turns than the embedded model's 512-token context holds.
// Every turn is answered by the model itself (never an error, never the
// floor because the prompt outgrew the context): the prompt carries only
// the memories recall picks, and the older turns live in the memory
// stream, where a fact told on the first turn is recalled on the last.
func TestConversationLongerThanTheContext(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded model for 120 turns")
	}
	eng, err := shipped.Open(embedded.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	st, err := middleware.OpenStack(context.Background(), middleware.StackConfig{
		DataDir: t.TempDir(), World: world.FS(), NoCache: true, Backends: []inference.Model{eng},
		Runtime: middleware.Options{Budget: 5 * time.Second}})
	if err != nil {
		eng.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rt := st.Runtime
	id := firstNPC(t, st).ID
	const turns = 120
	start := time.Date(1900, 5, 1, 8, 0, 0, 0, time.UTC)
	lines := []string{
		"My name is Aria and I hid the silver key under the blue stone.",
		"The weather on the road was foul.",
		"What do you sell here?",
		"Have you heard any news from the mill?",
		"I met a tinker on the Wainway.",
	}
	spoken := 0
	maxPrompt := 0
	for i := 0; i < turns; i++ {
		line := lines[i%len(lines)]
		if i > 0 && line == lines[0] {
			line = fmt.Sprintf("Turn %d: the river is high today.", i)
		}
		tk, err := rt.Submit(middleware.Talk{NPCID: id, PlayerID: "p1", Text: line, GameTime: start.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range collect(t, rt, map[middleware.Ticket]bool{tk: true}) {
			switch ev.Kind {
			case middleware.EventError:
				t.Fatalf("turn %d: %v", i, ev.Err)
			case middleware.EventReply:
				if ev.Tier != inference.TierEmbedded {
					t.Fatalf("turn %d answered by %s (%s), want the embedded model", i, ev.Tier, ev.Backend)
				}
				spoken += ev.PromptTokens + ev.Tokens
				maxPrompt = max(maxPrompt, ev.PromptTokens)
			}
		}
		rt.Settle() // the turn's memory is written before the next
	}
	if spoken < 4*512 {
		t.Fatalf("the conversation used %d tokens in all; the test needs many contexts' worth", spoken)
	}
	a, err := st.Roster.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	got := a.Recall("p1", "where did I hide the silver key", start.Add(turns*time.Minute), 3)
	found := false
	for _, m := range got {
		found = found || strings.Contains(m.Text, "silver key under the blue stone")
	}
	if !found {
		t.Fatalf("the first turn's fact is not recalled after %d turns: %+v", turns, got)
	}
	t.Logf("%d turns, %d tokens through the model (%.1f contexts), largest prompt %d tokens", turns, spoken, float64(spoken)/512, maxPrompt)
}

package npc_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/internal/testworld"
	"github.com/hearth-ai/hearth/npc"
)

// TestPromptABReachesRequestAndReply: with a studio's npc.dialogue@3 on
// disk and a 50/50 split, each player's request carries the version and
// hash Choose assigns that player, rendered from that version, and the
// reply names it; a studio template naming a field agents do not have is
// refused on reload, naming the template and the field, and the split
// keeps serving.
func TestPromptABReachesRequestAndReply(t *testing.T) {
	v2, err := os.ReadFile("prompts/npc.dialogue@2.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	v3 := "{{/* v3 */}}Speak warmly.\n" + string(v2)
	if err := os.WriteFile(filepath.Join(dir, "npc.dialogue@3.tmpl"), []byte(v3), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := npc.OpenPrompts(inference.PromptOptions{Dir: dir, Weights: inference.PromptWeights{npc.DialoguePrompt: {2: 50, 3: 50}}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	w := testworld.Open(t, "")
	roster := demoRoster(t, w, nil, func(d *npc.Deps, _ []npc.Definition) { d.Prompts = p })
	a, err := roster.Get(roster.Definitions()[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	arms := map[int]int{}
	for i := range 40 {
		player := fmt.Sprintf("player-%d", i)
		want, err := p.Choose(npc.DialoguePrompt, player)
		if err != nil {
			t.Fatal(err)
		}
		req, ref, err := a.Prepare(ctx, npc.Turn{PlayerID: player, Text: "Who runs the inn?", Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if ref != want || req.PromptName != want.String() || req.PromptHash != want.Hash {
			t.Fatalf("%s: rendered %v (request %s %s), assigned %v", player, ref, req.PromptName, req.PromptHash, want)
		}
		if strings.HasPrefix(req.Prompt, "Speak warmly.") != (ref.Version == 3) {
			t.Fatalf("%s: %v rendered the other version:\n%s", player, ref, req.Prompt)
		}
		arms[ref.Version]++
	}
	if arms[2] == 0 || arms[3] == 0 {
		t.Fatalf("one arm got nobody: %v", arms)
	}
	// The reply says which version produced it.
	for _, player := range []string{"player-1", "player-2", "player-3"} {
		want, _ := p.Choose(npc.DialoguePrompt, player)
		r, err := a.Respond(ctx, npc.Turn{PlayerID: player, Text: "Who runs the inn?", Seed: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Prompt != want {
			t.Fatalf("%s: reply names %v, assigned %v", player, r.Prompt, want)
		}
	}

	// A typo in a new version is refused at reload with the field.
	if err := os.WriteFile(filepath.Join(dir, "npc.dialogue@4.tmpl"), []byte("You are {{.Persona.Nmae}}."), 0o644); err != nil {
		t.Fatal(err)
	}
	err = p.Reload()
	if err == nil || !strings.Contains(err.Error(), `prompt npc.dialogue@4: missing field "Nmae" (in {{.Persona.Nmae}}, line 1, type npc.Definition)`) {
		t.Fatalf("reload: %v", err)
	}
	if _, ref, err := a.Prepare(ctx, npc.Turn{PlayerID: "player-1", Text: "Hello there", Seed: 1}); err != nil || ref.Version == 4 {
		t.Fatalf("after the refused reload: %v %v", ref, err)
	}
}

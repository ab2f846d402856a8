package npc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/npc"
)

// The small prompt keeps npc.dialogue's layout and stable prefix shape,
// carries only sentences that bear on the line, and never a secret.
func TestSmallPromptIsShortGroundedAndSecretFree(t *testing.T) {
	f := newFixture(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var withSecrets int
	for _, d := range f.roster.Definitions() {
		a, err := f.roster.Get(d.ID)
		if err != nil {
			t.Fatal(err)
		}
		req, _, err := a.Prepare(ctx, npc.Turn{PlayerID: "p1", Text: "What do you know about the mill?", Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		sp := req.SmallPrompt
		if sp == "" || !strings.HasSuffix(sp, d.Name+":\n") || !strings.Contains(sp, "says: What do you know about the mill?") {
			t.Fatalf("%s: small prompt does not end with the line and the speaker:\n%s", d.ID, sp)
		}
		if req.SmallPromptHash == "" || req.SmallPromptHash == req.PromptHash {
			t.Fatalf("%s: small prompt hash %q (full %q): want the small template's own", d.ID, req.SmallPromptHash, req.PromptHash)
		}
		if req.SmallPrefixBytes <= 0 || strings.Contains(sp[:req.SmallPrefixBytes], "mill?") {
			t.Fatalf("%s: small prefix %d is not the stable persona part", d.ID, req.SmallPrefixBytes)
		}
		if len(sp) >= len(req.Prompt) && len(req.Facts) > 0 {
			t.Fatalf("%s: small prompt (%d bytes) is not smaller than the full one (%d)", d.ID, len(sp), len(req.Prompt))
		}
		if words := len(strings.Fields(sp)); words > 220 {
			t.Fatalf("%s: small prompt has %d words:\n%s", d.ID, words, sp)
		}
		if strings.Contains(sp, "Lore:") && !strings.Contains(strings.ToLower(sp[strings.Index(sp, "Lore:"):]), "mill") {
			t.Fatalf("%s: lore sentences that do not bear on the line:\n%s", d.ID, sp)
		}
		for _, s := range d.Secrets {
			withSecrets++
			if strings.Contains(sp, s) {
				t.Fatalf("%s: secret %q in the small prompt", d.ID, s)
			}
		}
		// The stable prefix is the same for another line to the same NPC.
		req2, _, err := a.Prepare(ctx, npc.Turn{PlayerID: "p2", Text: "Hello there", Seed: 2})
		if err != nil || req2.SmallPrompt[:req2.SmallPrefixBytes] != sp[:req.SmallPrefixBytes] {
			t.Fatalf("%s: small prefix differs between turns (err %v)", d.ID, err)
		}
		bark, _, err := a.Prepare(ctx, npc.Turn{PlayerID: "p1", Trigger: npc.TriggerProximity, Seed: 3})
		if err != nil || !strings.HasSuffix(bark.SmallPrompt, d.Name+" (aloud):\n") {
			t.Fatalf("%s: bark small prompt (err %v):\n%s", d.ID, err, bark.SmallPrompt)
		}
	}
	if withSecrets == 0 {
		t.Fatal("no NPC of the demo world has a secret: the test checks nothing")
	}
}

package npc_test

import (
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/npc"
)

// TestShareablePolicy checks which requests get a cache key (npc/share.go):
// first meetings and lore questions no memory bears on do, and then two
// players asking the same question get the same key; a returning player's
// greeting, a question about the past and a question their history bears
// on do not.
func TestShareablePolicy(t *testing.T) {
	a, ctx := firstAgent(t)
	prepare := func(player, name, text string) (key string, memories int) {
		t.Helper()
		req, _, err := a.Prepare(ctx, npc.Turn{PlayerID: player, PlayerName: name, Text: text})
		if err != nil {
			t.Fatal(err)
		}
		return req.CacheKey, len(req.Memories)
	}
	talk := func(player, name, text string) {
		t.Helper()
		turn := npc.Turn{PlayerID: player, PlayerName: name, Text: text}
		reply, err := a.Respond(ctx, turn, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Remember(turn, reply); err != nil {
			t.Fatal(err)
		}
	}

	if k, _ := prepare("p1", "Aria", "Hello!"); k == "" {
		t.Fatal("a first-meeting greeting is not shareable")
	}
	talk("p1", "Aria", "My sister keeps bees by the river.")
	talk("p2", "Bram", "I am looking for work at the forge.")

	if k, m := prepare("p1", "", "Hello!"); k != "" || m == 0 {
		t.Fatalf("a returning player's greeting: key %q, %d memories; want personal, with memories", k, m)
	}
	if k, _ := prepare("p1", "", "Do you remember me?"); k != "" {
		t.Fatal("a question about the past was made shareable")
	}
	if k, _ := prepare("p1", "", "Where can I buy honey from the bees?"); k != "" {
		t.Fatal("a question the player's own history bears on (bees) was made shareable")
	}
	k1, m1 := prepare("p1", "", "Who runs the inn?")
	k2, m2 := prepare("p2", "", "who runs the inn")
	if k1 == "" || k1 != k2 || m1 != 0 || m2 != 0 {
		t.Fatalf("the same lore question from two returning players: keys %q / %q, memories %d / %d; want one key and no memories", k1, k2, m1, m2)
	}
}

// TestPromptPrefix: the stable prefix a prefix cache may keep is the
// persona and rules, the same for every line, and ends before the line.
func TestPromptPrefix(t *testing.T) {
	a, ctx := firstAgent(t)
	var prefixes []string
	for _, line := range []string{"Who runs the inn?", "Hello!"} {
		req, _, err := a.Prepare(ctx, npc.Turn{PlayerID: "p1", Text: line})
		if err != nil {
			t.Fatal(err)
		}
		p := req.Prompt[:req.PrefixBytes]
		if req.PrefixBytes == 0 || !strings.Contains(p, a.Definition().Name) || strings.Contains(p, line) {
			t.Fatalf("prefix %q of prompt %q", p, req.Prompt)
		}
		prefixes = append(prefixes, p)
	}
	if prefixes[0] != prefixes[1] {
		t.Fatalf("the stable prefix changed with the line:\n%q\n%q", prefixes[0], prefixes[1])
	}
}

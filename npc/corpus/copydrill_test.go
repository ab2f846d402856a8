package corpus_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/npc/corpus"
)

func TestCopyDrills(t *testing.T) {
	w := demo(t)
	base, _, _ := generate(t, w, small)
	for _, layout := range []corpus.CopyLayout{corpus.CopyBare, corpus.CopyNPC} {
		opts := corpus.CopyOptions{Seed: 3, Items: 300, Layout: layout}
		items, err := corpus.CopyDrills(w, base, opts)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := corpus.CopyDrills(w, base, opts)
		if len(items) != 300 || !reflect.DeepEqual(items, again) {
			t.Fatalf("%s: %d items, or two runs with one seed differ", layout, len(items))
		}
		opts.Seed = 4
		if other, _ := corpus.CopyDrills(w, base, opts); reflect.DeepEqual(items, other) {
			t.Fatalf("%s: seeds 3 and 4 give the same drills", layout)
		}
		distinct := map[string]bool{}
		for i, it := range items {
			distinct[it.Response] = true
			if it.Kind != corpus.KindCopy || it.PrefixBytes <= 0 || it.PrefixBytes > len(it.Prompt) {
				t.Fatalf("%s item %d: kind %q, prefix %d of %d bytes", layout, i, it.Kind, it.PrefixBytes, len(it.Prompt))
			}
			if layout == corpus.CopyBare {
				line, ok := strings.CutPrefix(it.Prompt, "copy: ")
				if !ok || line != strings.TrimSpace(it.Response)+"\nagain:" || len(strings.Fields(it.Response)) != 10 {
					t.Fatalf("bare item %d: %q → %q does not copy ten words", i, it.Prompt, it.Response)
				}
				continue
			}
			// The NPC layout: a real persona prefix, the fact as the first
			// of three lore lines, the NPC's name last, the fact in the answer.
			lines := strings.Split(it.Prompt, "\n")
			k := strings.Index(it.Prompt, "Lore:\n- [")
			if k < it.PrefixBytes || !strings.HasPrefix(it.Prompt, "You are ") {
				t.Fatalf("npc item %d: no persona prefix before the lore: %q", i, it.Prompt)
			}
			first := strings.SplitN(it.Prompt[k+len("Lore:\n"):], "\n", 2)[0]
			_, text, _ := strings.Cut(first, "] ")
			if text != it.Fact || !strings.HasSuffix(it.Response, it.Fact) || strings.Count(it.Prompt, "\n- [") != 3 {
				t.Fatalf("npc item %d: first lore line %q, fact %q, answer %q", i, first, it.Fact, it.Response)
			}
			if n := len(strings.Fields(it.Fact)); n < 6 || n > 40 {
				t.Fatalf("npc item %d: %d words, want 6..40", i, n)
			}
			name := strings.TrimSuffix(lines[len(lines)-2], ":")
			if !strings.HasPrefix(it.Prompt, "You are "+name+",") || it.NPC == "" {
				t.Fatalf("npc item %d: ends with %q, persona %.40q, npc %q", i, name, it.Prompt, it.NPC)
			}
			if r := corpus.RequestFor(it); len(r.Facts) != 3 || r.Facts[0].Text != it.Fact || r.UserText == "" {
				t.Fatalf("npc item %d: read back as %d facts, first %+v, line %q", i, len(r.Facts), r.Facts, r.UserText)
			}
		}
		if len(distinct) < 290 {
			t.Fatalf("%s: only %d distinct answers in 300 drills", layout, len(distinct))
		}
	}
	for _, bad := range []corpus.CopyOptions{{Layout: "tree"}, {Items: -1}, {MinWords: 5, MaxWords: 3},
		{Layout: corpus.CopyNPC, Lines: -1}} {
		if _, err := corpus.CopyDrills(w, base, bad); err == nil {
			t.Fatalf("%+v: no error", bad)
		}
	}
	if _, err := corpus.CopyDrills(w, nil, corpus.CopyOptions{Layout: corpus.CopyNPC}); err == nil {
		t.Fatal("NPC-layout drills without lore answers to borrow personas from: no error")
	}
}

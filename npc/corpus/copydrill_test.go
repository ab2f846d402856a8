package corpus_test

import (
	"math"
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
		{Layout: corpus.CopyNPC, Lines: -1}, {Confusable: -0.1}, {Confusable: 1.5}, {Confusable: math.NaN()}} {
		if _, err := corpus.CopyDrills(w, base, bad); err == nil {
			t.Fatalf("%+v: no error", bad)
		}
	}
	if _, err := corpus.CopyDrills(w, nil, corpus.CopyOptions{Layout: corpus.CopyNPC}); err == nil {
		t.Fatal("NPC-layout drills without lore answers to borrow personas from: no error")
	}
}

// Confusable drills: the copied line repeats a span of its own words, and
// every distractor starts as it does and then differs, so that copying by
// the last token alone goes wrong. Confusable 0 leaves the drills as they
// were.
func TestCopyDrillsConfusable(t *testing.T) {
	w := demo(t)
	base, _, _ := generate(t, w, small)
	plain := corpus.CopyOptions{Seed: 5, Items: 200, Layout: corpus.CopyNPC}
	before, _ := corpus.CopyDrills(w, base, plain)
	plain.Confusable = 0
	if again, _ := corpus.CopyDrills(w, base, plain); !reflect.DeepEqual(before, again) {
		t.Fatal("Confusable 0 changed the drills")
	}
	opts := plain
	opts.Confusable = 1
	items, err := corpus.CopyDrills(w, base, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		fact := strings.Fields(strings.TrimSuffix(it.Fact, "."))
		recurs := false
		for a := range fact {
			for b := a + 2; b < len(fact); b++ { // at least a word between
				recurs = recurs || fact[a] == fact[b]
			}
		}
		if !recurs {
			t.Fatalf("item %d: no word of the copied line %q recurs", i, it.Fact)
		}
		r := corpus.RequestFor(it)
		if len(r.Facts) != 3 || r.Facts[0].Text != it.Fact || !strings.HasSuffix(it.Response, it.Fact) {
			t.Fatalf("item %d: facts %+v, answer %q", i, r.Facts, it.Response)
		}
		for _, d := range r.Facts[1:] {
			if d.Text == it.Fact || strings.Fields(d.Text)[0] != fact[0] {
				t.Fatalf("item %d: distractor %q does not fork from the copied line %q", i, d.Text, it.Fact)
			}
		}
	}
	half := plain
	half.Confusable = 0.5
	mixed, _ := corpus.CopyDrills(w, base, half)
	forked := 0
	for _, it := range mixed {
		r := corpus.RequestFor(it)
		if strings.Fields(r.Facts[1].Text)[0] == strings.Fields(it.Fact)[0] {
			forked++
		}
	}
	if forked < 70 || forked > 130 {
		t.Fatalf("Confusable 0.5: %d of 200 drills forked, want about half", forked)
	}
}

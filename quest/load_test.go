package quest_test

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/npc"
	"github.com/hearth-ai/hearth/quest"
	"github.com/hearth-ai/hearth/sim/world"
	"go.yaml.in/yaml/v3"
)

// loadDemoSections reads quest.yaml's ids by section, independently of
// LoadWorld, so that the test also sees the others section.
func loadDemoSections(t *testing.T) map[string][]string {
	t.Helper()
	data, err := fs.ReadFile(world.FS(), "quest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Places, Creatures, Items, NPCs []struct {
			ID string `yaml:"id"`
		}
		Others map[string][]string
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for sec, list := range map[string][]struct {
		ID string `yaml:"id"`
	}{"place": raw.Places, "creature": raw.Creatures, "item": raw.Items, "npc": raw.NPCs} {
		for _, e := range list {
			out[sec] = append(out[sec], e.ID)
		}
	}
	for id := range raw.Others {
		out["other"] = append(out["other"], id)
	}
	return out
}

func TestLoadDemoWorld(t *testing.T) {
	w := demoWorld(t)
	if w.Name != "kettleford" || w.MinLevel != 1 || w.MaxLevel != 10 {
		t.Errorf("world %q levels %d..%d, want kettleford 1..10", w.Name, w.MinLevel, w.MaxLevel)
	}
	others := len(loadDemoSections(t)["other"])
	t.Logf("kettleford: %d places, %d creatures, %d items, %d npcs, %d others",
		len(w.Places()), len(w.Creatures()), len(w.Items()), len(w.NPCs()), others)
	if len(w.NPCs()) != 10 {
		t.Errorf("%d NPCs, want 10", len(w.NPCs()))
	}
}

func TestLoadDemoWorldConnected(t *testing.T) {
	w := demoWorld(t)
	for _, p := range w.Places() {
		if d := w.Distance("kettleford", p); d < 0 {
			t.Errorf("place %q cannot be reached from the village", p)
		}
	}
	// Spot-check the geography the lore describes.
	for _, e := range [][2]string{
		{"kettle-green", "tipped-kettle"}, {"kettle-green", "redhammer-forge"}, {"kettle-green", "kettle-market"},
		{"kettle-green", "shrine-of-the-quiet-lady"}, {"kettle-green", "crookwheel-mill"}, {"kettle-stones", "wainway"},
		{"mine-road", "redvein-mine"}, {"sallow-fens", "reedhithe"}, {"harrow-causeway", "harrow-keep"},
		{"bell-pool", "old-chapel"}, {"marrows-cairn", "dunmarket"},
	} {
		if d := w.Distance(e[0], e[1]); d != 1 {
			t.Errorf("%s to %s: %d hops, want 1", e[0], e[1], d)
		}
	}
}

func TestLoadDemoWorldEntities(t *testing.T) {
	w := demoWorld(t)
	for _, c := range w.Creatures() {
		if len(c.Habitats) == 0 {
			t.Errorf("creature %q has no habitat", c.ID)
		}
		if c.Type == "" || c.Challenge < 0 || c.Challenge > 10 {
			t.Errorf("creature %q: type %q challenge %v", c.ID, c.Type, c.Challenge)
		}
	}
	defs, err := npc.LoadDefinitions(world.FS(), "npcs")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range defs {
		n, ok := w.NPC(d.ID)
		switch {
		case !ok:
			t.Errorf("npc %q of npcs/ is not in quest.yaml", d.ID)
		case n.Home != d.Home || n.Faction != d.Faction:
			t.Errorf("npc %q: home %q faction %q, but its persona says %q and %q", d.ID, n.Home, n.Faction, d.Home, d.Faction)
		case !n.Alive || len(n.Motivations) == 0:
			t.Errorf("npc %q: alive %v, motivations %v", d.ID, n.Alive, n.Motivations)
		}
	}
	for _, it := range w.Items() {
		if !slices.Contains(quest.Rarities, it.Rarity) || it.Value < 0 {
			t.Errorf("item %q: rarity %q value %d", it.ID, it.Rarity, it.Value)
		}
	}
}

// TestLoadDemoWorldMatchesLore ingests the lore for real and checks quest.yaml
// against its entity registry both ways: same ids, type families, names and
// aliases.
func TestLoadDemoWorldMatchesLore(t *testing.T) {
	st, err := store.Open(store.DefaultOptions(""))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	lib, err := lore.Open(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := lib.IngestFS(context.Background(), world.Source, world.FS(), "lore")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) > 0 {
		t.Fatalf("lore ingest: %v", rep.Errors)
	}
	w := demoWorld(t)
	reg := lib.Entities()
	family := func(loreType string) quest.Kind {
		switch loreType {
		case "place", "creature", "item", "npc":
			return quest.Kind(loreType)
		}
		return quest.KindOther
	}

	// Every id of quest.yaml is a lore entity of the same family.
	for sec, ids := range loadDemoSections(t) {
		for _, id := range ids {
			e, ok := reg.Get(id)
			if !ok {
				t.Errorf("%s %q of quest.yaml is not declared in the lore", sec, id)
				continue
			}
			if got := family(e.Type); string(got) != sec {
				t.Errorf("%q is under %s in quest.yaml but the lore declares a %s", id, sec, e.Type)
			}
		}
	}

	// Every lore entity is in quest.yaml, with the lore's name and aliases.
	all := reg.All()
	if len(all) == 0 {
		t.Fatal("the lore declares no entities")
	}
	for _, e := range all {
		kind := w.Kind(e.ID)
		if want := family(e.Type); kind != want {
			t.Errorf("lore %s %q: quest world has it as %q, want %q", e.Type, e.ID, kind, want)
			continue
		}
		var name string
		var aliases []string
		switch kind {
		case quest.KindPlace:
			p, _ := w.Place(e.ID)
			name, aliases = p.Name, p.Aliases
		case quest.KindCreature:
			c, _ := w.Creature(e.ID)
			name, aliases = c.Name, c.Aliases
		case quest.KindItem:
			it, _ := w.Item(e.ID)
			name, aliases = it.Name, it.Aliases
		case quest.KindNPC:
			n, _ := w.NPC(e.ID)
			name, aliases = n.Name, n.Aliases
		case quest.KindOther:
			name = w.DisplayName(e.ID)
			aliases = e.Aliases
			for _, a := range e.Aliases {
				if !slices.Contains(w.Lookup(a), e.ID) {
					t.Errorf("other %q: alias %q of the lore is unknown to the quest world", e.ID, a)
				}
			}
		}
		if name != e.Name {
			t.Errorf("%s %q: name %q, the lore says %q", kind, e.ID, name, e.Name)
		}
		if !slices.Equal(aliases, e.Aliases) {
			t.Errorf("%s %q: aliases %q, the lore says %q", kind, e.ID, aliases, e.Aliases)
		}
	}
	t.Logf("%d lore entities checked", len(all))
}

const loadSmallWorld = `name: tiny
min_level: 1
max_level: 5
places:
  - id: town
    name: The Town
    neighbors: [woods]
  - id: woods
    name: The Woods
    aliases: [the forest]
creatures:
  - id: wolf
    name: Wolf
    type: beast
    challenge: 1/4
    habitats: [woods]
items:
  - id: herb
    name: Herb
    value: 1
    rarity: Common
    places: [woods]
    reward: true
npcs:
  - id: reeve
    name: Reeve Anna
    home: town
    faction: council
    motivations: [protection]
others:
  council: [The Council, the moot]
`

func TestLoadWorldSmall(t *testing.T) {
	w, err := quest.LoadWorld("tiny", []byte(loadSmallWorld))
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := w.Creature("wolf"); c.Challenge != 0.25 {
		t.Errorf("challenge 1/4 loaded as %v", c.Challenge)
	}
	if it, _ := w.Item("herb"); it.Rarity != "common" {
		t.Errorf("rarity %q, want it lowercased", it.Rarity)
	}
	if n, _ := w.NPC("reeve"); !n.Alive {
		t.Error("an NPC without alive: should be alive")
	}
	if w.Distance("woods", "town") != 1 {
		t.Error("edges are not undirected")
	}
	if w.Kind("council") != quest.KindOther || !slices.Contains(w.Lookup("the moot"), "council") {
		t.Error("others not loaded")
	}
}

// loadErrOf loads text and returns its first *LoadError.
func loadErrOf(t *testing.T, text string) (*quest.LoadError, error) {
	t.Helper()
	_, err := quest.LoadWorld("tiny", []byte(text))
	if err == nil {
		t.Fatal("LoadWorld succeeded, want an error")
	}
	var le *quest.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("error %v (%T) is not a *LoadError", err, err)
	}
	return le, err
}

func TestLoadWorldErrors(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		line           int
		want           []string
	}{
		{"broken YAML", "    name: The Woods\n", "    name: [The Woods\n", 9, nil},
		{"bad indentation", "    aliases: [the forest]\n", "      aliases: [the forest]\n", 10, nil},
		{"unknown field", "    type: beast\n", "    kind: beast\n", 14, []string{"kind", "creature"}},
		{"neighbour not a place", "neighbors: [woods]", "neighbors: [woods, wolf]", 7, []string{`"wolf"`, "not a place"}},
		{"neighbour undeclared", "neighbors: [woods]", "neighbors: [woods, castle]", 7, []string{`"castle"`, "not a place", "not declared"}},
		{"habitat not a place", "habitats: [woods]", "habitats: [wood]", 16, []string{`"wood"`, "habitat"}},
		{"home not a place", "home: town", "home: council", 27, []string{`"council"`, "home"}},
		{"bad motivation", "motivations: [protection]", "motivations: [revenge]", 29, []string{`"revenge"`}},
		{"bad rarity", "rarity: Common", "rarity: mythic", 21, []string{`"mythic"`}},
		{"bad challenge", "challenge: 1/4", "challenge: 1/3", 15, []string{"1/3"}},
		{"duplicate id", "  - id: woods\n", "  - id: town\n", 8, []string{`"town"`}},
		{"wrong world", "name: tiny", "name: huge", 1, []string{"huge"}},
		{"empty levels", "max_level: 5", "max_level: 0", 2, []string{"level range"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(loadSmallWorld, tc.old) {
				t.Fatalf("test case: %q not in the small world", tc.old)
			}
			le, err := loadErrOf(t, strings.Replace(loadSmallWorld, tc.old, tc.new, 1))
			if le.Line != tc.line {
				t.Errorf("line %d, want %d: %v", le.Line, tc.line, err)
			}
			if !strings.Contains(err.Error(), "line ") {
				t.Errorf("error %q does not name a line", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
		})
	}
	if _, err := quest.LoadWorld("tiny", nil); err == nil {
		t.Error("an empty file loaded")
	}
}

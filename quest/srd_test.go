package quest_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/internal/shareddata"

	"github.com/hearth-ai/hearth/quest"
)

// srdWorldDir is the shared SRD corpus, or a skip.
func srdWorldDir(tb testing.TB) string { return shareddata.SRDDir(tb) }

func srdLoadWorld(t *testing.T) (*quest.World, string) {
	t.Helper()
	dir := srdWorldDir(t)
	start := time.Now()
	w, err := quest.SRDWorld(dir)
	if err != nil {
		t.Fatalf("SRDWorld(%s): %v", dir, err)
	}
	t.Logf("SRD world parsed in %v: %d places, %d creatures, %d items, %d npcs",
		time.Since(start), len(w.Places()), len(w.Creatures()), len(w.Items()), len(w.NPCs()))
	return w, dir
}

func TestSRDWorld(t *testing.T) {
	w, dir := srdLoadWorld(t)
	if w.Name != quest.SRDWorldName || w.MinLevel != 1 || w.MaxLevel != 20 {
		t.Errorf("world %q levels %d..%d, want %q 1..20", w.Name, w.MinLevel, w.MaxLevel, quest.SRDWorldName)
	}
	if n := len(w.Creatures()); n < 250 {
		t.Errorf("%d creatures, want at least 250", n)
	}
	for _, tc := range []struct {
		id, typ string
		cr      float64
	}{
		{"aboleth", "aberration", 10}, {"wolf", "beast", 0.25}, {"adult-black-dragon", "dragon", 14},
		{"goblin-warrior", "fey", 0.25}, {"bandit", "humanoid", 0.125}, {"swarm-of-rats", "beast", 0.25},
		{"tarrasque", "monstrosity", 30},
	} {
		c, ok := w.Creature(tc.id)
		if !ok {
			t.Errorf("no creature %q", tc.id)
			continue
		}
		if c.Type != tc.typ || c.Challenge != tc.cr {
			t.Errorf("%s: type %q challenge %v, want %q %v", tc.id, c.Type, c.Challenge, tc.typ, tc.cr)
		}
	}
	if c, _ := w.Creature("adult-black-dragon"); !slices.Equal(c.Habitats, []string{quest.SRDSwamp}) {
		t.Errorf("black dragon habitats %v, want the swamp", c.Habitats)
	}
	if c, _ := w.Creature("aboleth"); c.Name != "Aboleth" {
		t.Errorf("aboleth named %q", c.Name)
	}

	// Item values come from the file's own table; read it independently.
	data, err := os.ReadFile(filepath.Join(dir, quest.SRDMagicItemsFile))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\|\s*Uncommon\s*\|\s*([\d,]+) GP`).FindSubmatch(data)
	if m == nil {
		t.Fatal("no Uncommon row in the magic item values table")
	}
	uncommon, _ := strconv.Atoi(strings.ReplaceAll(string(m[1]), ",", ""))
	bag, ok := w.Item("bag-of-holding")
	switch {
	case !ok:
		t.Error("no Bag of Holding")
	case bag.Name != "Bag of Holding" || bag.Rarity != "uncommon" || bag.Value != uncommon || !bag.Reward:
		t.Errorf("Bag of Holding: %+v, want uncommon, %d gp, a reward", bag, uncommon)
	}
	for _, tc := range []struct {
		id, rarity string
		reward     bool
	}{
		{"potion-of-healing", "common", true}, {"potion-of-healing-greater", "uncommon", true},
		{"plus-1-weapon", "uncommon", true}, {"plus-3-armor", "legendary", true},
		{"spell-scroll-level-3", "uncommon", true}, {"ioun-stone-mastery", "legendary", true},
		{"dragon-orb", "artifact", false},
	} {
		it, ok := w.Item(tc.id)
		if !ok {
			t.Errorf("no item %q", tc.id)
			continue
		}
		if it.Rarity != tc.rarity || it.Reward != tc.reward {
			t.Errorf("%s: rarity %q reward %v, want %q %v", tc.id, it.Rarity, it.Reward, tc.rarity, tc.reward)
		}
	}
	if p, _ := w.Item("potion-of-healing-greater"); p.Value != uncommon/2 {
		t.Errorf("greater healing potion worth %d, want half of %d (a consumable)", p.Value, uncommon)
	}
	for _, it := range w.Items() {
		if !slices.Contains(quest.Rarities, it.Rarity) || strings.ContainsAny(it.Name, "*_|") {
			t.Errorf("item %q: name %q rarity %q", it.ID, it.Name, it.Rarity)
		}
	}
}

func TestSRDWorldGeography(t *testing.T) {
	w, _ := srdLoadWorld(t)
	for _, c := range w.Creatures() {
		if len(c.Habitats) == 0 {
			t.Errorf("creature %q has no habitat", c.ID)
		}
	}
	for _, p := range w.Places() {
		if w.Distance(quest.SRDTown, p) < 0 {
			t.Errorf("place %q cannot be reached from %s", p, quest.SRDTown)
		}
	}
	if n := len(w.Places()); n < 10 || n > 12 {
		t.Errorf("%d places, want 10 to 12", n)
	}
	gatherable := 0
	for _, it := range w.Items() {
		if len(it.Places) > 0 {
			gatherable++
		}
	}
	if gatherable == 0 {
		t.Error("nothing can be gathered in the SRD world")
	}
	npcs := w.NPCs()
	if len(npcs) != 8 {
		t.Errorf("%d quest givers, want 8", len(npcs))
	}
	for _, n := range npcs {
		if !n.Alive || len(n.Motivations) == 0 || w.Kind(n.Faction) != quest.KindOther {
			t.Errorf("npc %q: alive %v motivations %v faction %q (%s)", n.ID, n.Alive, n.Motivations, n.Faction, w.Kind(n.Faction))
		}
	}
}

func TestSRDWorldMissing(t *testing.T) {
	_, err := quest.SRDWorld(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), quest.SRDMonstersFile) {
		t.Errorf("SRDWorld of an empty folder: %v, want an error naming %s", err, quest.SRDMonstersFile)
	}
}

package lore

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/hearth-ai/hearth/internal/store"
)

func TestHeadingEntities(t *testing.T) {
	md := `# Bestiary

## Cave Goblin

*Small Fey (Goblinoid), Chaotic Neutral*

- **Armor Class:** 15
- **Hit Points:** 10 (3d6)

### Actions

***Scimitar.*** *Melee Attack Roll:* +4.

## Lore of Goblins

*Small folk, mostly harmless*

Goblins live in caves.

## Spells

#### **Frost Bite**

*Evocation Cantrip (Druid, Sorcerer)*

Cold.

#### Ice Storm

*Level 4 Evocation (Druid, Sorcerer, Wizard)*

Hail.

## Items

#### Bag of Tricks

*Wondrous Item, Uncommon*

A bag.

#### Armor, +1, +2, or +3

*Armor (Any Light, Medium, or Heavy), Uncommon (+1), Rare (+2), or Very Rare (+3)*

Bonus.

#### Bag of Tricks

*Wondrous Item, Rare*

Another bag.
`
	raws := chunkMarkdown(md)
	var got []string
	for _, h := range headingEntities(raws) {
		got = append(got, h.entity.ID+" "+h.entity.Name+" "+strings.Join(h.entity.Tags, ","))
	}
	want := []string{
		"creature:cave-goblin Cave Goblin fey",
		"spell:frost-bite Frost Bite evocation,cantrip",
		"spell:ice-storm Ice Storm evocation,level-4",
		"item:bag-of-tricks Bag of Tricks wondrous-item,uncommon",
		"item:armor-1-2-or-3 Armor, +1, +2, or +3 armor,uncommon",
		"item:bag-of-tricks-2 Bag of Tricks wondrous-item,rare",
	}
	if !slices.Equal(got, want) {
		t.Errorf("heading entities:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Chunks under a heading entity list it; an author's id wins over a
	// heading's.
	l, _ := openLibrary(t, openStore(t, ""))
	rep := ingest(t, l, "b", fstest.MapFS{
		"bestiary.md": {Data: []byte(md)},
		"front.md":    {Data: []byte("---\nid: creature:ogre\nname: Our Ogre\n---\n# Ogres\n\n## Ogre\n\n*Large Giant, Chaotic Evil*\n\n- Armor Class 11\n- Hit Points 68\n")},
	})
	if len(rep.Errors) != 0 {
		t.Fatal(rep.Errors)
	}
	hits := l.Search("scimitar melee attack", 1, Filter{})
	if len(hits) != 1 || !slices.Equal(hits[0].Chunk.Entities, []string{"creature:cave-goblin"}) {
		t.Errorf("actions chunk = %+v", hits)
	}
	if hits := l.Search("goblins live caves", 1, Filter{}); len(hits) != 1 || hits[0].Chunk.Entities != nil {
		t.Errorf("lore chunk = %+v", hits)
	}
	if e, _ := l.Entities().Get("creature:ogre"); e.Name != "Our Ogre" {
		t.Errorf("ogre = %+v, want the front matter's", e)
	}
	if got := ids(l.Entities().Lookup("cave goblins")); !slices.Equal(got, []string{"creature:cave-goblin"}) {
		t.Errorf("Lookup(cave goblins) = %v", got)
	}
}

// TestSRDEntities checks the entities the SRD's headings yield: every
// creature of the Monsters A–Z and Animals chapters, every spell and every
// magic item, with their types, and that each creature's stat block is one
// chunk.
func TestSRDEntities(t *testing.T) {
	dir := srdDir(t)
	st := openStore(t, "")
	l, _ := openLibrary(t, st)
	rep, err := l.IngestDir(context.Background(), "srd", dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Errors) != 0 || len(rep.Warnings) != 0 {
		t.Fatalf("errors %v warnings %v", rep.Errors, rep.Warnings)
	}
	reg := l.Entities()
	counts := map[string]int{}
	byDoc := map[string]int{}
	for _, e := range reg.All() {
		counts[e.Type]++
		byDoc[e.Type+" "+e.DocPath]++
	}
	t.Logf("SRD entities: %v (%v)", counts, byDoc)
	// 235 creatures in Monsters A–Z and 94 in Animals; 339 spells; 243
	// magic items: one per heading of those chapters.
	want := map[string]int{"creature": 329, "spell": 339, "item": 243}
	for typ, n := range want {
		if counts[typ] != n {
			t.Errorf("%d %s entities, want %d", counts[typ], typ, n)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("entity types %v, want only %v", counts, want)
	}
	for _, tt := range []struct{ id, name, doc string }{
		{"creature:aboleth", "Aboleth", "12_MonstersA-Z.md"},
		{"creature:adult-red-dragon", "Adult Red Dragon", "12_MonstersA-Z.md"},
		{"creature:goblin-boss", "Goblin Boss", "12_MonstersA-Z.md"},
		{"creature:giant-spider", "Giant Spider", "13_Animals.md"},
		{"creature:swarm-of-bats", "Swarm of Bats", "13_Animals.md"},
		{"spell:fireball", "Fireball", "07_Spells.md"},
		{"spell:acid-splash", "Acid Splash", "07_Spells.md"},
		{"spell:aid", "Aid", "07_Spells.md"},
		{"item:bag-of-holding", "Bag of Holding", "10_MagicItems.md"},
		{"item:crystal-ball-of-telepathy", "Crystal Ball of Telepathy", "10_MagicItems.md"},
		{"item:potions-of-healing", "Potions of Healing", "10_MagicItems.md"},
	} {
		e, ok := reg.Get(tt.id)
		if !ok || e.Name != tt.name || e.DocPath != tt.doc || e.Source != "srd" {
			t.Errorf("%s = %+v %v, want %q from %s", tt.id, e, ok, tt.name, tt.doc)
		}
	}
	for _, tt := range []struct{ q, want string }{
		{"aboleths", "creature:aboleth"},
		{"the Aboleth's", "creature:aboleth"},
		{"fireball", "spell:fireball"},
		{"potion of healing", "item:potions-of-healing"},
		{"a +2 shield", "item:shield-1-2-or-3"},
		{"+1 Weapon", "item:weapon-1-2-or-3"},
	} {
		if got := ids(reg.Lookup(tt.q)); !slices.Contains(got, tt.want) {
			t.Errorf("Lookup(%q) = %v, want %s", tt.q, got, tt.want)
		}
	}
	if got := reg.ByType("spell")[0].Tags; len(got) != 2 {
		t.Errorf("spell tags %v, want school and level", got)
	}

	// Stat blocks are whole: for every creature, one chunk holds its armor
	// class, hit points, ability table and challenge rating, and every chunk
	// under its heading lists it.
	chunksOf := map[string][]Chunk{}
	err = st.AllChunks(func(r store.ChunkRecord) error {
		for _, id := range r.Entities {
			chunksOf[id] = append(chunksOf[id], chunkFromRecord(r))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range reg.ByType("creature") {
		cs := chunksOf[e.ID]
		if len(cs) == 0 {
			t.Errorf("%s: no chunk lists it", e.ID)
			continue
		}
		whole := false
		for _, c := range cs {
			if c.Heading[len(c.Heading)-1] != e.Name && !slices.Contains(c.Heading, e.Name) {
				t.Errorf("%s listed by chunk %s %q", e.ID, c.ID, c.Heading)
			}
			whole = whole || (strings.Contains(c.Text, "Armor Class") && strings.Contains(c.Text, "Hit Points") &&
				strings.Contains(c.Text, "| STR |") && strings.Contains(c.Text, "| CHA |") && strings.Contains(c.Text, "CR "))
		}
		if !whole {
			t.Errorf("%s: no chunk holds the whole stat block; first: %.300q", e.ID, cs[0].Text)
		}
	}
}

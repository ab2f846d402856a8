package quest

import (
	"slices"
	"strings"
	"testing"
)

const srdTestMonsters = `# Monsters A–Z

## Goblin Tester

*Small Fey (Goblinoid), Chaotic Neutral*

- **Armor Class:** 15
- **CR** 1/4 (XP 50; PB +2)

### Actions

***Scimitar.*** A test.

## Swarm of Test Bats

*Swarm of Tiny Beasts, Unaligned*

- **CR** 1/8 (XP 25)

## Old Style Swarm

*Large swarm of Tiny beasts, Unaligned*

- **CR** 2 (XP 450)

## Shapechanger

*Medium or Small Humanoid, Neutral*

- **CR** 3 (XP 700, or 1,100 in lair)

## Behaviour of Monsters

Monsters do things; this section is prose.

## No Rating

*Medium Undead, Neutral Evil*

A type line but no challenge rating.

## Robot

*Medium Robot, Unaligned*

- **CR** 1 (XP 200)

## **Adult Test Dragon**

*Huge Dragon (Chromatic), Chaotic Evil*

- **CR** 14 (XP 11,500)
`

func TestSRDParseCreatures(t *testing.T) {
	got := srdParseCreatures([]byte(srdTestMonsters))
	want := []srdCreature{
		{Creature{ID: "goblin-tester", Name: "Goblin Tester", Type: "fey", Challenge: 0.25}, "goblinoid"},
		{Creature{ID: "swarm-of-test-bats", Name: "Swarm of Test Bats", Type: "beast", Challenge: 0.125}, ""},
		{Creature{ID: "old-style-swarm", Name: "Old Style Swarm", Type: "beast", Challenge: 2}, ""},
		{Creature{ID: "shapechanger", Name: "Shapechanger", Type: "humanoid", Challenge: 3}, ""},
		{Creature{ID: "adult-test-dragon", Name: "Adult Test Dragon", Type: "dragon", Challenge: 14}, "chromatic"},
	}
	if len(got) != len(want) {
		t.Fatalf("parsed %d creatures %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Name != w.Name || g.Type != w.Type || g.Challenge != w.Challenge || g.tag != w.tag {
			t.Errorf("creature %d: %+v, want %+v", i, g, w)
		}
	}
	if h := srdHabitats("Adult Test Dragon", "dragon", "chromatic"); len(h) != 1 || h[0] != SRDMountains {
		t.Errorf("a dragon of no known colour lives in %v, want the mountains", h)
	}
}

const srdTestItems = `# Magic Items

## Magic Item Rarity

Table: Magic Item Rarities and Values

| Rarity    | Value*     |
|-----------|------------|
| Common    | 50 GP      |
| Uncommon  | 500 GP     |
| Rare      | 5,000 GP   |
| Very Rare | 50,000 GP  |
| Legendary | 250,000 GP |
| Artifact  | Priceless  |

### Charges

#### Charges

Some items have charges. This rules heading is not an item.

## Magic Items A–Z

#### Bag of Testing

*Wondrous Item, Uncommon*

A bag.

#### Shield, +1, +2, or +3

*Armor (Shield), Uncommon (+1), Rare (+2), or Very Rare (+3)*

A shield.

#### Horn of Testing

*Wondrous Item, Rare (Silver or Brass), Very Rare (Bronze), or Legendary (Iron)*

#### Potions of Mending

*Potion, Rarity Varies*

| Potion                       | HP Regained | Rarity    |
|------------------------------|-------------|-----------|
| Potion of Mending            | 2d4 + 2     | Common    |
| Potion of Mending (greater)  | 4d4 + 4     | Uncommon  |

#### Test Scroll

*Scroll, Rarity Varies*

| Spell Level | Rarity    | Save DC |
|-------------|-----------|---------|
| Cantrip     | Common    | 13      |
| 1           | Common    | 13      |
| 2           | Uncommon  | 13      |

#### Token of Testing

*Wondrous Item, Rarity Varies*

| 1d100 | Token     | Rarity   |
|-------|-----------|----------|
| 01–50 | Anchor    | Uncommon |
| 51–00 | Swan boat | Rare     |

#### Stone of Testing

*Wondrous Item, Rarity Varies (Requires Attunement)*

**_Agility (Very Rare)._** Your Dexterity increases.

**_Awareness (Rare)._** You are aware.

#### **Orb of Testing**

*Wondrous Item, Artifact (Requires Attunement)*

#### Armor of Testing

*Armor (Any Light, Medium, or Heavy), Rare (Requires Attunement by a Cleric, Druid, or Paladin)* It glows.

#### Not an Item

Just prose under a heading.

## Afterword

#### Cloak After The List

*Wondrous Item, Rare*
`

func TestSRDParseItems(t *testing.T) {
	items, err := srdParseItems([]byte(srdTestItems))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		id, name, rarity string
		value            int
		reward           bool
	}
	want := []row{
		{"bag-of-testing", "Bag of Testing", "uncommon", 500, true},
		{"plus-1-shield", "+1 Shield", "uncommon", 500, true},
		{"plus-2-shield", "+2 Shield", "rare", 5000, true},
		{"plus-3-shield", "+3 Shield", "very rare", 50000, true},
		{"horn-of-testing-silver-or-brass", "Horn of Testing (Silver or Brass)", "rare", 5000, true},
		{"horn-of-testing-bronze", "Horn of Testing (Bronze)", "very rare", 50000, true},
		{"horn-of-testing-iron", "Horn of Testing (Iron)", "legendary", 250000, true},
		{"potion-of-mending", "Potion of Mending", "common", 25, true},
		{"potion-of-mending-greater", "Potion of Mending (greater)", "uncommon", 250, true},
		{"test-scroll-cantrip", "Test Scroll (Cantrip)", "common", 25, true},
		{"test-scroll-level-1", "Test Scroll (Level 1)", "common", 25, true},
		{"test-scroll-level-2", "Test Scroll (Level 2)", "uncommon", 250, true},
		{"token-of-testing-anchor", "Token of Testing (Anchor)", "uncommon", 500, true},
		{"token-of-testing-swan-boat", "Token of Testing (Swan boat)", "rare", 5000, true},
		{"stone-of-testing-agility", "Stone of Testing (Agility)", "very rare", 50000, true},
		{"stone-of-testing-awareness", "Stone of Testing (Awareness)", "rare", 5000, true},
		{"orb-of-testing", "Orb of Testing", "artifact", 0, false},
		{"armor-of-testing", "Armor of Testing", "rare", 5000, true},
	}
	var got []row
	for _, it := range items {
		got = append(got, row{it.ID, it.Name, it.Rarity, it.Value, it.Reward})
	}
	if !slices.Equal(got, want) {
		t.Errorf("parsed\n%v\nwant\n%v", got, want)
	}
	if items[1].Aliases == nil || items[1].Aliases[0] != "Shield +1" {
		t.Errorf("+1 Shield aliases %v, want [Shield +1]", items[1].Aliases)
	}

	noTable := strings.Replace(srdTestItems, "| Rarity    | Value*     |", "| Kind | Cost |", 1)
	if _, err := srdParseItems([]byte(noTable)); err == nil || !strings.Contains(err.Error(), "values table") {
		t.Errorf("items without a value table: %v, want an error about the table", err)
	}
	noAZ := strings.Replace(srdTestItems, "## Magic Items A–Z", "## Other Things", 1)
	if _, err := srdParseItems([]byte(noAZ)); err == nil {
		t.Error("items without an A–Z section parsed")
	}
}

func TestSRDSlug(t *testing.T) {
	for in, want := range map[string]string{
		"Adult Black Dragon": "adult-black-dragon", "+1 Armor": "plus-1-armor", "Will-o'-Wisp": "will-o-wisp",
		"Potion of Healing (greater)": "potion-of-healing-greater", "Tyrannosaurus Rex": "tyrannosaurus-rex",
		"Stone of Good Luck (Luckstone)": "stone-of-good-luck-luckstone", "  Ring of X-ray Vision ": "ring-of-x-ray-vision",
	} {
		if got := srdSlug(in); got != want {
			t.Errorf("srdSlug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSRDParseChallenge(t *testing.T) {
	for in, want := range map[string]float64{"0": 0, "1/8": 0.125, "1/4": 0.25, "1/2": 0.5, "0.5": 0.5, "10": 10, "30": 30} {
		if got, err := ParseChallenge(in); err != nil || got != want {
			t.Errorf("ParseChallenge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "1/3", "31", "-1", "2.5", "x", "1/0"} {
		if _, err := ParseChallenge(in); err == nil {
			t.Errorf("ParseChallenge(%q) succeeded", in)
		}
	}
}

// TestSRDSetting checks the hand-written setting: every place the habitat
// tables name is on the map, every type has a default, and the world of
// the setting alone (no SRD files) is valid.
func TestSRDSetting(t *testing.T) {
	places := map[string]bool{}
	for _, p := range srdPlaces() {
		places[p.ID] = true
	}
	for name, m := range map[string]map[string][]string{"srdTypeHabitats": srdTypeHabitats,
		"srdDragonColours": srdDragonColours, "srdTagHabitats": srdTagHabitats, "srdNameHabitats": srdNameHabitats} {
		for k, ps := range m {
			if len(ps) == 0 {
				t.Errorf("%s[%q] is empty", name, k)
			}
			for _, p := range ps {
				if !places[p] {
					t.Errorf("%s[%q]: %q is not a place", name, k, p)
				}
			}
		}
	}
	for typ := range srdTypes {
		if len(srdTypeHabitats[srdTypes[typ]]) == 0 {
			t.Errorf("type %q has no default habitat", typ)
		}
	}
	spec := WorldSpec{Name: SRDWorldName, MinLevel: 1, MaxLevel: 20, Places: srdPlaces(), NPCs: srdNPCs(),
		Items: srdGoods(), Others: srdOthers()}
	if _, err := NewWorld(spec); err != nil {
		t.Fatal(err)
	}
}

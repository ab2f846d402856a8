package lore

import (
	"regexp"
	"strconv"
	"strings"
)

// Entities from SRD-style headings. A reference book written like the SRD
// gives every creature, spell and magic item a heading followed by a
// one-line italic descriptor; chunking strips the italics, so the
// descriptor is the first line of the heading's first chunk:
//
//	## Aboleth                           → creature:aboleth (type "creature")
//	*Large Aberration, Lawful Evil*        tags: [aberration]
//	- **Armor Class:** 17 ...              (the section must hold "Armor Class"
//	                                        and "Hit Points": a stat block)
//
//	#### Fireball                        → spell:fireball (type "spell")
//	*Level 3 Evocation (Sorcerer, Wizard)* tags: [evocation, level-3]
//
//	#### Bag of Holding                  → item:bag-of-holding (type "item")
//	*Wondrous Item, Uncommon*              tags: [wondrous-item, uncommon]
//
// Items named "X, +1, +2, or +3" get the aliases "+1 X", "+2 X", "+3 X".
//
// Ids are "<type>:<slug of the name>", so they never collide with the
// hand-written ids of front matter (which hold no ":"); a second heading
// of the same type and name in one document gets "-2", "-3". The chunks
// under the heading (its stat block, traits, actions) list the entity in
// Chunk.Entities. Any Markdown document is scanned: the descriptor
// patterns are specific enough that ordinary prose does not match.

const (
	headingTypeCreature = "creature"
	headingTypeSpell    = "spell"
	headingTypeItem     = "item"
)

var (
	spellLineRE = regexp.MustCompile(`^(?:Level ([1-9]) (Abjuration|Conjuration|Divination|Enchantment|Evocation|Illusion|Necromancy|Transmutation)|(Abjuration|Conjuration|Divination|Enchantment|Evocation|Illusion|Necromancy|Transmutation) Cantrip) \(.+\)$`)
	itemLineRE  = regexp.MustCompile(`^(Armor|Potion|Ring|Rod|Scroll|Staff|Wand|Weapon|Wondrous Item)\b.*?, (?i:.*?\b(common|uncommon|rare|very rare|legendary|artifact|rarity varies)\b.*)$`)
	sizeWords   = `(?:Tiny|Small|Medium|Large|Huge|Gargantuan)`
	creatureRE  = regexp.MustCompile(`^` + sizeWords + `(?: or ` + sizeWords + `)? ([A-Z][A-Za-z ]*?)(?: \([^)]*\))?, [A-Z][A-Za-z -]+$`)
)

// headingEntity is an entity found under a heading, with the chunks it
// covers: raws[first:end], its section and the sections nested in it.
type headingEntity struct {
	entity     Entity
	first, end int
}

// headingEntities finds the SRD-style entities among the chunks of a
// Markdown body.
func headingEntities(raws []rawChunk) []headingEntity {
	var out []headingEntity
	ids := map[string]int{}
	for i, r := range raws {
		if len(r.heading) == 0 || r.cont {
			continue
		}
		name := r.heading[len(r.heading)-1]
		first, _, _ := strings.Cut(r.text, "\n")
		typ, tags := classifyDescriptor(strings.TrimSpace(first), r.text)
		if typ == "" || slug(name) == "" {
			continue
		}
		id := typ + ":" + slug(name)
		ids[id]++
		if n := ids[id]; n > 1 {
			id += "-" + strconv.Itoa(n)
		}
		end := i + 1
		for end < len(raws) && hasPrefix(raws[end].heading, r.heading) &&
			(raws[end].cont || len(raws[end].heading) > len(r.heading)) {
			end++
		}
		out = append(out, headingEntity{
			entity: Entity{ID: id, Type: typ, Name: name, Tags: tags, Aliases: headingAliases(name)},
			first:  i, end: end,
		})
	}
	return out
}

// bonusRE matches the SRD's names of items that come in three bonuses.
var bonusRE = regexp.MustCompile(`^(.+), \+1, \+2, or \+3$`)

// headingAliases returns the other names a heading entity is looked up by:
// "Armor, +1, +2, or +3" is also "+1 Armor", "+2 Armor" and "+3 Armor".
func headingAliases(name string) []string {
	m := bonusRE.FindStringSubmatch(name)
	if m == nil {
		return nil
	}
	return []string{"+1 " + m[1], "+2 " + m[1], "+3 " + m[1]}
}

// classifyDescriptor returns the entity type and tags a descriptor line
// announces, or "" when it announces none. text is the whole first chunk
// of the section (creatures need a stat block in it).
func classifyDescriptor(line, text string) (typ string, tags []string) {
	if len(line) > 120 {
		return "", nil
	}
	if m := spellLineRE.FindStringSubmatch(line); m != nil {
		if m[1] != "" {
			return headingTypeSpell, []string{strings.ToLower(m[2]), "level-" + m[1]}
		}
		return headingTypeSpell, []string{strings.ToLower(m[3]), "cantrip"}
	}
	if m := itemLineRE.FindStringSubmatch(line); m != nil {
		return headingTypeItem, []string{slug(m[1]), slug(m[2])}
	}
	if m := creatureRE.FindStringSubmatch(line); m != nil &&
		strings.Contains(text, "Armor Class") && strings.Contains(text, "Hit Points") {
		return headingTypeCreature, []string{slug(m[1])}
	}
	return "", nil
}

// slug lowercases s and joins its runs of letters and digits with "-":
// "Ammunition, +1, +2, or +3" is "ammunition-1-2-or-3".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if isWordRune(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		if !isApostrophe(r) {
			dash = true
		}
	}
	return b.String()
}

// hasPrefix reports whether heading path p starts with prefix.
func hasPrefix(p, prefix []string) bool {
	if len(prefix) > len(p) {
		return false
	}
	for i := range prefix {
		if p[i] != prefix[i] {
			return false
		}
	}
	return true
}

package quest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// SRD world source files, relative to the SRD 5.2 src folder.
const (
	SRDMonstersFile   = "12_MonstersA-Z.md"
	SRDAnimalsFile    = "13_Animals.md"
	SRDMagicItemsFile = "10_MagicItems.md"
)

// SRDWorldName is the Name of the World SRDWorld builds.
const SRDWorldName = "srd"

// SRDWorld builds a World of generic fantasy from the System Reference
// Document 5.2 Markdown in dir (the SRD's src folder, e.g.
// shared/data/srd-5.2/src), for player levels 1 to 20.
//
// Creatures and magic items are parsed from the SRD; the map, its
// gatherable goods, the quest givers and their factions are written for
// Hearth (srd_places.go), because the SRD has no setting.
//
//   - Creatures, from SRDMonstersFile and SRDAnimalsFile: every "## Name"
//     section whose next non-empty line is "*Size Type (Tag), Alignment*"
//     ("*Swarm of Tiny Beasts, ...*" too) and which has a "- **CR** N (XP
//     ...)" line. The id is the slug of the name ("adult-black-dragon"),
//     Type the lowercased main type, Challenge the CR (1/8 = 0.125) and
//     Habitats the places its type, type tag and name suggest (see
//     srdTypeHabitats in srd_places.go).
//     Sections that are not stat blocks are skipped.
//   - Items, from SRDMagicItemsFile's "## Magic Items A–Z": every "#### Name"
//     followed by "*Category, Rarity ...*". Rarity is lowercased without its
//     attunement note; Value is the gold piece value of the rarity in the
//     file's own "Magic Item Rarities and Values" table, halved for
//     consumables (potions, ammunition, scrolls other than Spell Scroll) as
//     its footnote says. An item whose rarity depends on its version is
//     split into one item per version: "Rare (+1), Very Rare (+2)..." gives
//     "+1 Armor", "+2 Armor"; "Rarity Varies" uses the versions the item's
//     table or paragraphs list ("Potion of Healing (greater)"). Every magic
//     item may be a Reward, except artifacts (value 0, "Priceless").
//
// The parsed data is from the SRD 5.2 by Wizards of the Coast LLC, licensed
// under CC-BY-4.0 (https://creativecommons.org/licenses/by/4.0/legalcode);
// see the attribution in the SRD's 00_Legal.md. Errors name the file: one
// missing or unreadable, no creatures or items found in it, a value table
// that cannot be read, or a slug shared by two entities.
func SRDWorld(dir string) (*World, error) {
	spec, err := srdSpec(dir)
	if err != nil {
		return nil, err
	}
	return NewWorld(spec)
}

// srdSpec parses dir into the SRD world's spec.
func srdSpec(dir string) (WorldSpec, error) {
	read := func(name string) ([]byte, error) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("quest: SRD world: %w", err)
		}
		return data, nil
	}
	spec := WorldSpec{Name: SRDWorldName, MinLevel: 1, MaxLevel: 20,
		Places: srdPlaces(), NPCs: srdNPCs(), Others: srdOthers()}
	for _, name := range []string{SRDMonstersFile, SRDAnimalsFile} {
		data, err := read(name)
		if err != nil {
			return spec, err
		}
		cs := srdParseCreatures(data)
		if len(cs) == 0 {
			return spec, fmt.Errorf("quest: SRD world: no creature stat blocks in %s", filepath.Join(dir, name))
		}
		for _, c := range cs {
			c.Habitats = srdHabitats(c.Name, c.Type, c.tag)
			spec.Creatures = append(spec.Creatures, c.Creature)
		}
	}
	data, err := read(SRDMagicItemsFile)
	if err != nil {
		return spec, err
	}
	items, err := srdParseItems(data)
	if err != nil {
		return spec, fmt.Errorf("quest: SRD world: %s: %w", filepath.Join(dir, SRDMagicItemsFile), err)
	}
	spec.Items = append(items, srdGoods()...)

	// Slugs are the ids; two SRD entries with one slug would be ambiguous.
	seen := map[string]string{}
	for _, c := range spec.Creatures {
		if prev, dup := seen[c.ID]; dup {
			return spec, fmt.Errorf("quest: SRD world: creatures %q and %q have the same id %q", prev, c.Name, c.ID)
		}
		seen[c.ID] = c.Name
	}
	for _, it := range spec.Items {
		if prev, dup := seen[it.ID]; dup {
			return spec, fmt.Errorf("quest: SRD world: item %q and %q have the same id %q", it.Name, prev, it.ID)
		}
		seen[it.ID] = it.Name
	}
	return spec, nil
}

var (
	srdSizes = `Tiny|Small|Medium|Large|Huge|Gargantuan`
	// "*Large Aberration, Lawful Evil*", "*Medium Humanoid (Goblinoid), ...*",
	// "*Medium or Small Humanoid, ...*", "*Swarm of Tiny Beasts, ...*",
	// "*Large Swarm of Tiny Beasts, ...*".
	srdSizesRE    = `(?:` + srdSizes + `)(?:,? (?:or )?(?:` + srdSizes + `))*`
	srdSwarmRE    = `[Ss]warm of (?:` + srdSizes + `) `
	srdTypeLineRE = regexp.MustCompile(`^\*(?:` + srdSizesRE + ` (?:` + srdSwarmRE + `)?|` + srdSwarmRE + `)([A-Za-z]+)(?: \(([^)]*)\))?, [^*]+\*\s*$`)
	srdCRLineRE   = regexp.MustCompile(`^\s*[-*]\s*\*\*CR:?\*\*:?\s*(\d+(?:/\d+)?)\b`)
	// srdTypes maps the SRD's creature types, singular and plural, to the
	// lowercase type.
	srdTypes = func() map[string]string {
		m := map[string]string{}
		for _, t := range []string{"aberration", "beast", "celestial", "construct", "dragon", "elemental",
			"fey", "fiend", "giant", "humanoid", "monstrosity", "ooze", "plant", "undead"} {
			m[t] = t
			m[t+"s"] = t
		}
		m["monstrosities"] = "monstrosity"
		return m
	}()
)

// srdCreature is a parsed creature with its type tag ("chromatic",
// "dinosaur", "devil"; "" when none).
type srdCreature struct {
	Creature
	tag string
}

// srdParseCreatures returns the creatures of an SRD stat-block file, in file
// order, without habitats.
func srdParseCreatures(data []byte) []srdCreature {
	var out []srdCreature
	lines := srdLines(data)
	for i := 0; i < len(lines); i++ {
		name, ok := strings.CutPrefix(lines[i], "## ")
		if !ok {
			continue
		}
		name = srdHeadingText(name)
		j := srdNextNonEmpty(lines, i+1)
		if j < 0 {
			break
		}
		m := srdTypeLineRE.FindStringSubmatch(strings.TrimSpace(lines[j]))
		if m == nil {
			continue // not a stat block
		}
		typ, ok := srdTypes[strings.ToLower(m[1])]
		if !ok {
			continue
		}
		var cr float64 = -1
		for k := j + 1; k < len(lines) && !srdIsHeading(lines[k], 2); k++ {
			if cm := srdCRLineRE.FindStringSubmatch(lines[k]); cm != nil {
				if v, err := ParseChallenge(cm[1]); err == nil {
					cr = v
				}
				break
			}
		}
		if cr < 0 {
			continue // a type line but no challenge rating: not a creature
		}
		out = append(out, srdCreature{Creature{ID: srdSlug(name), Name: name, Type: typ, Challenge: cr},
			strings.ToLower(strings.TrimSpace(m[2]))})
	}
	return out
}

var (
	srdItemLineRE = regexp.MustCompile(`^\*([^*]+)\*`)
	srdRarityRE   = regexp.MustCompile(`\b(Very Rare|Uncommon|Common|Rare|Legendary|Artifact)\b(?: \(([^)]*)\))?`)
	srdPlusRE     = regexp.MustCompile(`^(.*?), \+1, \+2, or \+3$`)
	srdVariantRE  = regexp.MustCompile(`^\*\*\*?_?([^*_(]+?) \((Common|Uncommon|Rare|Very Rare|Legendary)\)\._?\*\*\*?`)
	srdGPRE       = regexp.MustCompile(`^([\d,]+)\s*GP$`)
	srdDieRE      = regexp.MustCompile(`^\d*d\d+$`)
)

// srdParseItems returns the magic items of the SRD's magic item chapter.
func srdParseItems(data []byte) ([]Item, error) {
	lines := srdLines(data)
	values, err := srdRarityValues(lines)
	if err != nil {
		return nil, err
	}
	start := slices.IndexFunc(lines, func(l string) bool {
		return strings.HasPrefix(l, "## ") && strings.Contains(strings.ToLower(l), "magic items a")
	})
	if start < 0 {
		return nil, fmt.Errorf(`no "## Magic Items A–Z" section`)
	}
	var out []Item
	for i := start + 1; i < len(lines) && !srdIsHeading(lines[i], 2); i++ {
		heading, ok := strings.CutPrefix(lines[i], "#### ")
		if !ok {
			continue
		}
		heading = srdHeadingText(heading)
		j := srdNextNonEmpty(lines, i+1)
		if j < 0 {
			break
		}
		m := srdItemLineRE.FindStringSubmatch(strings.TrimSpace(lines[j]))
		if m == nil {
			continue
		}
		category, rarityText, ok := srdSplitCategory(m[1])
		if !ok {
			continue
		}
		end := j + 1
		for end < len(lines) && !srdIsHeading(lines[end], 4) && !srdIsHeading(lines[end], 2) {
			end++
		}
		consumable := (strings.HasPrefix(category, "Potion") || strings.HasPrefix(category, "Scroll") ||
			strings.Contains(category, "Ammunition")) && heading != "Spell Scroll"
		item := func(name, rarity string, aliases ...string) Item {
			v := values[rarity]
			if consumable {
				v /= 2
			}
			return Item{ID: srdSlug(name), Name: name, Aliases: aliases, Value: v, Rarity: rarity, Reward: rarity != "artifact"}
		}
		var vs []srdVersion
		if strings.HasPrefix(rarityText, "Rarity Varies") {
			vs = srdVersions(heading, lines[j+1:end])
		} else {
			for _, rm := range srdRarityRE.FindAllStringSubmatch(rarityText, -1) {
				tag := rm[2]
				if strings.HasPrefix(tag, "Requires") {
					tag = ""
				}
				vs = append(vs, srdVersion{tag: tag, rarity: strings.ToLower(rm[1])})
			}
			if len(vs) == 1 {
				out = append(out, item(heading, vs[0].rarity))
				continue
			}
			base := heading
			if pm := srdPlusRE.FindStringSubmatch(heading); pm != nil {
				base = pm[1]
			}
			for k := range vs {
				switch {
				case strings.HasPrefix(vs[k].tag, "+") && base != heading:
					vs[k].name = vs[k].tag + " " + base
					vs[k].alias = base + " " + vs[k].tag
				case vs[k].tag != "":
					vs[k].name = heading + " (" + vs[k].tag + ")"
				}
			}
		}
		for _, v := range vs {
			if v.name == "" {
				continue
			}
			if v.alias != "" {
				out = append(out, item(v.name, v.rarity, v.alias))
			} else {
				out = append(out, item(v.name, v.rarity))
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no magic items under Magic Items A–Z")
	}
	return out, nil
}

// srdVersion is one version of a magic item whose rarity depends on it.
type srdVersion struct{ name, alias, tag, rarity string }

// srdVersions lists the versions of a "Rarity Varies" item from its
// description: the rows of its first table with a Rarity column, or else
// its "**_Version (Rarity)._**" paragraphs.
func srdVersions(heading string, body []string) []srdVersion {
	var out []srdVersion
	stem := strings.ToLower(strings.Fields(heading)[0])
	stem = strings.TrimSuffix(stem, "s")
	for i := 0; i < len(body); i++ {
		if !strings.HasPrefix(strings.TrimSpace(body[i]), "|") {
			continue
		}
		header := srdCells(body[i])
		rc, nc := -1, -1
		for k, h := range header {
			switch {
			case strings.EqualFold(h, "rarity"):
				rc = k
			case nc < 0 && !srdDieRE.MatchString(strings.ToLower(h)):
				nc = k
			}
		}
		if rc < 0 || nc < 0 {
			for i < len(body) && strings.HasPrefix(strings.TrimSpace(body[i]), "|") {
				i++
			}
			continue
		}
		for i++; i < len(body) && strings.HasPrefix(strings.TrimSpace(body[i]), "|"); i++ {
			row := srdCells(body[i])
			if len(row) <= max(rc, nc) || strings.Trim(row[0], "-: ") == "" {
				continue // the |---| line
			}
			rm := srdRarityRE.FindStringSubmatch(row[rc])
			if rm == nil {
				continue
			}
			cell := row[nc]
			name := heading + " (" + cell + ")"
			switch first := strings.ToLower(strings.Fields(cell)[0]); {
			case strings.TrimSuffix(first, "s") == stem:
				name = cell
			case strings.Contains(strings.ToLower(header[nc]), "level") && srdIsDigits(cell):
				name = heading + " (Level " + cell + ")"
			}
			out = append(out, srdVersion{name: name, rarity: strings.ToLower(rm[1])})
		}
		return out
	}
	for _, l := range body {
		if m := srdVariantRE.FindStringSubmatch(strings.TrimSpace(l)); m != nil {
			out = append(out, srdVersion{name: heading + " (" + strings.TrimSpace(m[1]) + ")", rarity: strings.ToLower(m[2])})
		}
	}
	return out
}

// srdRarityValues reads the "Magic Item Rarities and Values" table: a table
// with Rarity and Value columns, whose values are "N GP" or "Priceless"
// (0).
func srdRarityValues(lines []string) (map[string]int, error) {
	for i := 0; i < len(lines); i++ {
		if !strings.HasPrefix(strings.TrimSpace(lines[i]), "|") {
			continue
		}
		header := srdCells(lines[i])
		rc, vc := -1, -1
		for k, h := range header {
			h = strings.ToLower(strings.Trim(h, "* "))
			switch {
			case h == "rarity":
				rc = k
			case strings.HasPrefix(h, "value"):
				vc = k
			}
		}
		if rc < 0 || vc < 0 {
			for i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|") {
				i++
			}
			continue
		}
		values := map[string]int{}
		for i++; i < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[i]), "|"); i++ {
			row := srdCells(lines[i])
			if len(row) <= max(rc, vc) {
				continue
			}
			rarity := strings.ToLower(strings.Join(strings.Fields(row[rc]), " "))
			v := strings.TrimSpace(row[vc])
			if m := srdGPRE.FindStringSubmatch(v); m != nil {
				n, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
				if err != nil {
					return nil, fmt.Errorf("magic item values: %q: %w", v, err)
				}
				values[rarity] = n
			} else if strings.EqualFold(v, "priceless") {
				values[rarity] = 0
			}
		}
		for _, r := range []string{"common", "uncommon", "rare", "very rare", "legendary"} {
			if _, ok := values[r]; !ok {
				return nil, fmt.Errorf("magic item values table has no value for %q", r)
			}
		}
		return values, nil
	}
	return nil, fmt.Errorf("no magic item values table (columns Rarity and Value)")
}

// srdSplitCategory splits "Armor (Any Light, Medium, or Heavy), Rare" at
// the first comma outside parentheses.
func srdSplitCategory(s string) (category, rarity string, ok bool) {
	depth := 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				return strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:]), true
			}
		}
	}
	return "", "", false
}

// srdSlug makes an id of a name: "Adult Black Dragon" → "adult-black-dragon",
// "+1 Armor" → "plus-1-armor", "Will-o'-Wisp" → "will-o-wisp".
func srdSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.ReplaceAll(name, "+", " plus ")) {
		if r == '\'' || r == '’' {
			continue
		}
		if unicode.IsLetter(r) && r < unicode.MaxASCII || unicode.IsDigit(r) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// srdHeadingText is a heading's text without emphasis markers: the SRD
// writes a few as "**Wand of Fireballs".
func srdHeadingText(s string) string {
	return strings.TrimSpace(strings.Trim(strings.TrimSpace(s), "*_"))
}

func srdLines(data []byte) []string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	return lines
}

func srdNextNonEmpty(lines []string, i int) int {
	for ; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "" {
			return i
		}
	}
	return -1
}

// srdIsHeading reports whether line is a Markdown heading of level at most
// level.
func srdIsHeading(line string, level int) bool {
	n := 0
	for n < len(line) && line[n] == '#' {
		n++
	}
	return n > 0 && n <= level && n < len(line) && line[n] == ' '
}

func srdCells(row string) []string {
	row = strings.TrimSpace(row)
	row = strings.TrimPrefix(row, "|")
	row = strings.TrimSuffix(row, "|")
	cells := strings.Split(row, "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

func srdIsDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

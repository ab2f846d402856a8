package quest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hearth-ai/hearth/internal/yamlerr"
	"go.yaml.in/yaml/v3"
)

// LoadWorld parses a world file, the game-mechanical layer of a lore world,
// and builds its World with NewWorld. name is the world's name; it labels
// errors, and the file's own "name" field, when set, must equal it.
//
// The demo world ships its file with the sim/world package (this package
// does not import it):
//
//	data, err := fs.ReadFile(world.FS(), "quest.yaml")
//	...
//	w, err := quest.LoadWorld("kettleford", data)
//
// The file is YAML, decoded strictly (an unknown or misspelt field is an
// error):
//
//	name: kettleford            # optional; must equal the name argument
//	min_level: 1                # player levels the world supports
//	max_level: 10
//	places:                     # the map; edges are undirected
//	  - id: kettle-green
//	    name: Kettle Green
//	    aliases: [the green]
//	    region: kettleford      # optional
//	    neighbors: [tipped-kettle, redhammer-forge]
//	creatures:
//	  - id: sallow-wolves
//	    name: Sallow Wolves
//	    aliases: [sallow wolf]
//	    type: beast             # SRD creature type, lowercase
//	    challenge: 0.5          # SRD challenge rating: 0, 1/8, 1/4, 1/2 (or 0.125, 0.25, 0.5), 1..30
//	    habitats: [gloamwood]   # place ids
//	    tame: false             # optional; true: a pet, never a kill or defend target
//	items:
//	  - id: fen-salt
//	    name: Fen-salt
//	    aliases: [fen salt]
//	    value: 1                # gold pieces, >= 0
//	    rarity: common          # common, uncommon, rare, very rare, legendary, artifact
//	    places: [reedhithe]     # where it can be gathered; [] for nowhere
//	    reward: true            # whether a quest may give it away
//	npcs:
//	  - id: orla-fenn
//	    name: Orla Fenn
//	    aliases: [Orla]
//	    home: reedhithe         # place id
//	    faction: reedhithe-salters
//	    alive: true             # optional, default true
//	    motivations: [serenity, wealth]   # from Motivations; [] for any
//	others:                     # other proper nouns: id: [name, aliases...]
//	  ford-moot: [The Ford Moot, the moot]
//
// Errors are *LoadError values (several joined with errors.Join when the
// file has several problems), each with the 1-based line of the file to
// fix: YAML syntax, unknown fields, wrong value types, a duplicate id, a
// neighbour, habitat, gathering place or home that is not a place, an
// unknown motivation or rarity, a challenge rating that is not one.
func LoadWorld(name string, data []byte) (*World, error) {
	fail := func(line int, format string, args ...any) error {
		return &LoadError{World: name, Line: line, Err: fmt.Errorf(format, args...)}
	}
	var file loadFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail(1, "the file is empty; want a world (name, min_level, max_level, places, ...)")
		}
		line, msg := yamlerr.Locate(string(data), err)
		return nil, fail(line, "%s", loadFriendly(msg))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fail(extra.Line, "a second YAML document; a world file holds one")
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil { // decoded above, so cannot fail
		return nil, fail(1, "%v", err)
	}
	at := loadLines{&root}

	if name == "" {
		name = file.Name
	}
	if name == "" {
		return nil, fail(1, "the world has no name; pass one to LoadWorld or set name: in the file")
	}
	if file.Name != "" && file.Name != name {
		return nil, fail(at.line("name"), "the file is world %q, not %q", file.Name, name)
	}
	spec := WorldSpec{Name: name, MinLevel: file.MinLevel, MaxLevel: file.MaxLevel}
	var errs []error
	if spec.MinLevel < 1 || spec.MaxLevel < spec.MinLevel {
		errs = append(errs, fail(at.line("min_level"), "level range %d..%d: want 1 <= min_level <= max_level", spec.MinLevel, spec.MaxLevel))
	}

	// Ids first, so that references may point forward.
	kinds := map[string]Kind{}
	claim := func(kind Kind, id string, line int) {
		if id == "" {
			errs = append(errs, fail(line, "%s without an id", kind))
			return
		}
		if prev, dup := kinds[id]; dup {
			errs = append(errs, fail(line, "id %q is already a %s", id, prev))
			return
		}
		kinds[id] = kind
	}
	for i, p := range file.Places {
		claim(KindPlace, p.ID, at.line("places", i))
	}
	for i, c := range file.Creatures {
		claim(KindCreature, c.ID, at.line("creatures", i))
	}
	for i, it := range file.Items {
		claim(KindItem, it.ID, at.line("items", i))
	}
	for i, n := range file.NPCs {
		claim(KindNPC, n.ID, at.line("npcs", i))
	}
	for _, id := range loadSortedKeys(file.Others) {
		claim(KindOther, id, at.keyLine(id, "others"))
	}
	places := func(what, id, field string, list []string, path ...any) {
		for j, p := range list {
			if k := kinds[p]; k != KindPlace {
				desc := "not declared"
				if k != "" {
					desc = "a " + string(k)
				}
				errs = append(errs, fail(at.line(append(path, field, j)...), "%s %q: %s %q is not a place (it is %s)", what, id, loadSingular(field), p, desc))
			}
		}
	}
	named := func(what, id, name string, line int) {
		if strings.TrimSpace(name) == "" {
			errs = append(errs, fail(line, "%s %q has no name", what, id))
		}
	}

	for i, p := range file.Places {
		named("place", p.ID, p.Name, at.line("places", i))
		places("place", p.ID, "neighbors", p.Neighbors, "places", i)
		spec.Places = append(spec.Places, Place{ID: p.ID, Name: p.Name, Aliases: p.Aliases, Region: p.Region, Neighbors: p.Neighbors})
	}
	for i, c := range file.Creatures {
		named("creature", c.ID, c.Name, at.line("creatures", i))
		if strings.TrimSpace(c.Type) == "" {
			errs = append(errs, fail(at.line("creatures", i), "creature %q has no type (beast, undead, ...)", c.ID))
		}
		if c.Challenge == nil {
			errs = append(errs, fail(at.line("creatures", i), "creature %q has no challenge rating", c.ID))
			c.Challenge = new(loadChallenge)
		}
		places("creature", c.ID, "habitats", c.Habitats, "creatures", i)
		spec.Creatures = append(spec.Creatures, Creature{ID: c.ID, Name: c.Name, Aliases: c.Aliases,
			Type: strings.ToLower(strings.TrimSpace(c.Type)), Challenge: float64(*c.Challenge), Habitats: c.Habitats, Tame: c.Tame})
	}
	for i, it := range file.Items {
		named("item", it.ID, it.Name, at.line("items", i))
		if it.Value < 0 {
			errs = append(errs, fail(at.line("items", i, "value"), "item %q: value %d is negative", it.ID, it.Value))
		}
		rarity := strings.ToLower(strings.Join(strings.Fields(it.Rarity), " "))
		if !slices.Contains(Rarities, rarity) {
			errs = append(errs, fail(at.line("items", i, "rarity"), "item %q: rarity %q, want one of %s", it.ID, it.Rarity, strings.Join(Rarities, ", ")))
		}
		places("item", it.ID, "places", it.Places, "items", i)
		spec.Items = append(spec.Items, Item{ID: it.ID, Name: it.Name, Aliases: it.Aliases, Value: it.Value,
			Rarity: rarity, Places: it.Places, Reward: it.Reward})
	}
	for i, n := range file.NPCs {
		named("npc", n.ID, n.Name, at.line("npcs", i))
		if k := kinds[n.Home]; k != KindPlace {
			errs = append(errs, fail(at.line("npcs", i, "home"), "npc %q: home %q is not a place", n.ID, n.Home))
		}
		alive := n.Alive == nil || *n.Alive
		var ms []Motivation
		for j, m := range n.Motivations {
			if !slices.Contains(Motivations, Motivation(m)) {
				errs = append(errs, fail(at.line("npcs", i, "motivations", j), "npc %q: motivation %q, want one of %v", n.ID, m, Motivations))
			}
			ms = append(ms, Motivation(m))
		}
		spec.NPCs = append(spec.NPCs, NPC{ID: n.ID, Name: n.Name, Aliases: n.Aliases, Home: n.Home,
			Faction: n.Faction, Alive: alive, Motivations: ms})
	}
	if len(file.Others) > 0 {
		spec.Others = map[string][]string{}
	}
	for _, id := range loadSortedKeys(file.Others) {
		names := file.Others[id]
		if len(names) == 0 || strings.TrimSpace(names[0]) == "" {
			errs = append(errs, fail(at.keyLine(id, "others"), "other %q: want [name, aliases...]", id))
		}
		spec.Others[id] = names
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	w, err := NewWorld(spec)
	if err != nil { // everything NewWorld checks was checked above, with lines
		return nil, &LoadError{World: name, Err: err}
	}
	return w, nil
}

// Rarities are the item rarities a world file may use, from SRD 5.2's
// magic item rarities, lowercase.
var Rarities = []string{"common", "uncommon", "rare", "very rare", "legendary", "artifact"}

// LoadError is a problem in a world file, at a 1-based Line of it (0 when
// no line applies).
type LoadError struct {
	World string // the world's name, as passed to LoadWorld
	Line  int
	Err   error
}

// Error formats the error as "quest: world NAME: line N: problem".
func (e *LoadError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("quest: world %s: line %d: %v", e.World, e.Line, e.Err)
	}
	return fmt.Sprintf("quest: world %s: %v", e.World, e.Err)
}

// Unwrap returns the underlying problem.
func (e *LoadError) Unwrap() error { return e.Err }

// loadFile is the YAML schema LoadWorld documents.
type loadFile struct {
	Name      string              `yaml:"name"`
	MinLevel  int                 `yaml:"min_level"`
	MaxLevel  int                 `yaml:"max_level"`
	Places    []loadPlace         `yaml:"places"`
	Creatures []loadCreature      `yaml:"creatures"`
	Items     []loadItem          `yaml:"items"`
	NPCs      []loadNPC           `yaml:"npcs"`
	Others    map[string][]string `yaml:"others"`
}

type loadPlace struct {
	ID        string   `yaml:"id"`
	Name      string   `yaml:"name"`
	Aliases   []string `yaml:"aliases"`
	Region    string   `yaml:"region"`
	Neighbors []string `yaml:"neighbors"`
}

type loadCreature struct {
	ID        string         `yaml:"id"`
	Name      string         `yaml:"name"`
	Aliases   []string       `yaml:"aliases"`
	Type      string         `yaml:"type"`
	Challenge *loadChallenge `yaml:"challenge"`
	Habitats  []string       `yaml:"habitats"`
	Tame      bool           `yaml:"tame"`
}

type loadItem struct {
	ID      string   `yaml:"id"`
	Name    string   `yaml:"name"`
	Aliases []string `yaml:"aliases"`
	Value   int      `yaml:"value"`
	Rarity  string   `yaml:"rarity"`
	Places  []string `yaml:"places"`
	Reward  bool     `yaml:"reward"`
}

type loadNPC struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Aliases     []string `yaml:"aliases"`
	Home        string   `yaml:"home"`
	Faction     string   `yaml:"faction"`
	Alive       *bool    `yaml:"alive"`
	Motivations []string `yaml:"motivations"`
}

// loadChallenge is an SRD challenge rating written as a number (0.25) or
// a fraction (1/4).
type loadChallenge float64

// UnmarshalYAML decodes a rating with ParseChallenge; a bad one is a
// *yaml.TypeError with its line, so decoding reports it with the others.
func (c *loadChallenge) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: challenge: want a number such as 2, 0.25 or 1/4", n.Line)}}
	}
	v, err := ParseChallenge(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: challenge: %v", n.Line, err)}}
	}
	*c = loadChallenge(v)
	return nil
}

// ParseChallenge parses an SRD 5.2 challenge rating: "0", "1/8", "1/4",
// "1/2" (or 0.125, 0.25, 0.5) or a whole number from 1 to 30. It returns
// the rating as a number (1/8 = 0.125) or an error naming s.
func ParseChallenge(s string) (float64, error) {
	s = strings.TrimSpace(s)
	var v float64
	if num, den, ok := strings.Cut(s, "/"); ok {
		n, err1 := strconv.Atoi(num)
		d, err2 := strconv.Atoi(den)
		if err1 != nil || err2 != nil || d == 0 {
			return 0, fmt.Errorf("%q is not a challenge rating", s)
		}
		v = float64(n) / float64(d)
	} else {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a challenge rating", s)
		}
		v = f
	}
	switch {
	case v == 0 || v == 0.125 || v == 0.25 || v == 0.5:
	case v >= 1 && v <= 30 && v == math.Trunc(v):
	default:
		return 0, fmt.Errorf("%q is not a challenge rating; want 0, 1/8, 1/4, 1/2 or a whole number 1 to 30", s)
	}
	return v, nil
}

// loadLines finds the lines of values in a parsed YAML document.
type loadLines struct{ root *yaml.Node }

// line returns the line of the value at path (mapping keys as strings,
// sequence indexes as ints), or of the deepest node on the way that exists.
func (x loadLines) line(path ...any) int {
	n := x.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, step := range path {
		var next *yaml.Node
		switch s := step.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == s {
						next = n.Content[i+1]
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && s < len(n.Content) {
				next = n.Content[s]
			}
		}
		if next == nil {
			break
		}
		n = next
		if n.Line > 0 {
			line = n.Line
		}
	}
	return line
}

// keyLine returns the line of key in the mapping at path.
func (x loadLines) keyLine(key string, path ...any) int {
	n := x.root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, step := range path {
		if n.Kind != yaml.MappingNode {
			return n.Line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == step {
				n, found = n.Content[i+1], true
				break
			}
		}
		if !found {
			return n.Line
		}
	}
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i].Line
			}
		}
	}
	return n.Line
}

var loadNotFoundRE = regexp.MustCompile(`field (\S+) not found in type quest\.(\w+)`)

// loadFriendly rewords yaml.v3's messages that name Go types.
func loadFriendly(msg string) string {
	return loadNotFoundRE.ReplaceAllStringFunc(msg, func(m string) string {
		sub := loadNotFoundRE.FindStringSubmatch(m)
		what := map[string]string{"loadFile": "the world", "loadPlace": "a place", "loadCreature": "a creature",
			"loadItem": "an item", "loadNPC": "an npc"}[sub[2]]
		if what == "" {
			what = sub[2]
		}
		return fmt.Sprintf("unknown field %q in %s", sub[1], what)
	})
}

func loadSingular(field string) string {
	switch field {
	case "neighbors":
		return "neighbour"
	case "habitats":
		return "habitat"
	case "places":
		return "gathering place"
	}
	return field
}

func loadSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

package quest

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Place is a location of a World; Neighbors make the world graph.
type Place struct {
	ID        string
	Name      string
	Aliases   []string
	Region    string
	Neighbors []string // place ids reachable in one hop (edges are undirected)
}

// Creature is a kind of monster or animal.
type Creature struct {
	ID        string
	Name      string
	Aliases   []string
	Type      string   // e.g. "beast", "aberration", "undead"
	Challenge float64  // challenge rating (SRD 5.2); 1/8 = 0.125
	Habitats  []string // place ids where it is found
	// Tame marks a creature that is nobody's enemy (a pet, a familiar): it
	// is never a kill or defend target.
	Tame bool
}

// Item is something a player can gather, deliver, use or be rewarded with.
type Item struct {
	ID      string
	Name    string
	Aliases []string
	Value   int      // gold pieces
	Rarity  string   // "common", "uncommon", "rare", "very rare", "legendary"
	Places  []string // place ids where it can be gathered; empty = cannot be gathered
	Reward  bool     // may be given as a reward
}

// NPC is a quest giver or a person an objective involves.
type NPC struct {
	ID          string
	Name        string
	Aliases     []string
	Home        string // place id
	Faction     string
	Alive       bool
	Motivations []Motivation // what this NPC may ask for; empty = any
}

// Kind names what an entity id refers to in a World.
type Kind string

// Entity kinds.
const (
	KindPlace    Kind = "place"
	KindCreature Kind = "creature"
	KindItem     Kind = "item"
	KindNPC      Kind = "npc"
	// KindOther is a known proper noun that is none of the above
	// (factions, events, history): text may name it, objectives may not.
	KindOther Kind = "other"
)

// World is everything the generator and validator check quests against: a
// graph of places, creatures with challenge ratings and habitats, items and
// NPCs. Build it with NewWorld; it is read-only afterwards and safe for
// concurrent use.
type World struct {
	Name               string
	MinLevel, MaxLevel int // player levels the world supports

	places    map[string]*Place
	creatures map[string]*Creature
	items     map[string]*Item
	npcs      map[string]*NPC
	others    map[string]string   // id → name of other known proper nouns
	names     map[string][]string // lowercased name or alias → ids
	placeIDs  []string            // sorted
}

// WorldSpec is the input of NewWorld.
type WorldSpec struct {
	Name               string
	MinLevel, MaxLevel int
	Places             []Place
	Creatures          []Creature
	Items              []Item
	NPCs               []NPC
	// Others are proper nouns that are neither places, creatures, items
	// nor NPCs (factions, festivals, historical names), by id → name and
	// aliases.
	Others map[string][]string
}

// NewWorld checks spec and builds a World. Errors name the offending
// entity: duplicate ids, neighbours, habitats, homes or gather places that
// are not places, a level range that is empty.
func NewWorld(spec WorldSpec) (*World, error) {
	w := &World{Name: spec.Name, MinLevel: spec.MinLevel, MaxLevel: spec.MaxLevel,
		places: map[string]*Place{}, creatures: map[string]*Creature{}, items: map[string]*Item{},
		npcs: map[string]*NPC{}, others: map[string]string{}, names: map[string][]string{}}
	var errs []error
	if w.Name == "" {
		errs = append(errs, errors.New("world: a name is required"))
	}
	if w.MinLevel < 1 || w.MaxLevel < w.MinLevel {
		errs = append(errs, fmt.Errorf("world %q: level range %d..%d: want 1 <= min <= max", w.Name, w.MinLevel, w.MaxLevel))
	}
	seen := map[string]Kind{}
	add := func(kind Kind, id, name string, aliases []string) bool {
		if id == "" || name == "" {
			errs = append(errs, fmt.Errorf("world %q: %s with id %q and name %q: both are required", w.Name, kind, id, name))
			return false
		}
		if k, dup := seen[id]; dup {
			errs = append(errs, fmt.Errorf("world %q: id %q is both a %s and a %s", w.Name, id, k, kind))
			return false
		}
		seen[id] = kind
		for _, n := range append([]string{name}, aliases...) {
			key := normName(n)
			if key != "" {
				w.names[key] = append(w.names[key], id)
			}
		}
		return true
	}
	for i := range spec.Places {
		p := spec.Places[i]
		if add(KindPlace, p.ID, p.Name, p.Aliases) {
			w.places[p.ID] = &p
			w.placeIDs = append(w.placeIDs, p.ID)
		}
	}
	sort.Strings(w.placeIDs)
	// Edges are undirected: add the reverse of every listed neighbour.
	for _, id := range w.placeIDs {
		for _, n := range w.places[id].Neighbors {
			other, ok := w.places[n]
			if !ok {
				errs = append(errs, fmt.Errorf("world %q: place %q: neighbour %q is not a place", w.Name, id, n))
				continue
			}
			if !contains(other.Neighbors, id) {
				other.Neighbors = append(other.Neighbors, id)
			}
		}
	}
	for i := range spec.Creatures {
		c := spec.Creatures[i]
		if add(KindCreature, c.ID, c.Name, c.Aliases) {
			w.creatures[c.ID] = &c
			for _, h := range c.Habitats {
				if _, ok := w.places[h]; !ok {
					errs = append(errs, fmt.Errorf("world %q: creature %q: habitat %q is not a place", w.Name, c.ID, h))
				}
			}
		}
	}
	for i := range spec.Items {
		it := spec.Items[i]
		if add(KindItem, it.ID, it.Name, it.Aliases) {
			w.items[it.ID] = &it
			for _, p := range it.Places {
				if _, ok := w.places[p]; !ok {
					errs = append(errs, fmt.Errorf("world %q: item %q: place %q is not a place", w.Name, it.ID, p))
				}
			}
		}
	}
	for i := range spec.NPCs {
		n := spec.NPCs[i]
		if add(KindNPC, n.ID, n.Name, n.Aliases) {
			w.npcs[n.ID] = &n
			if _, ok := w.places[n.Home]; !ok {
				errs = append(errs, fmt.Errorf("world %q: npc %q: home %q is not a place", w.Name, n.ID, n.Home))
			}
		}
	}
	otherIDs := make([]string, 0, len(spec.Others))
	for id := range spec.Others {
		otherIDs = append(otherIDs, id)
	}
	sort.Strings(otherIDs)
	for _, id := range otherIDs {
		names := spec.Others[id]
		if len(names) == 0 {
			errs = append(errs, fmt.Errorf("world %q: other %q has no name", w.Name, id))
			continue
		}
		if add(KindOther, id, names[0], names[1:]) {
			w.others[id] = names[0]
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return w, nil
}

// Kind returns what id refers to, or "" when the world does not know it.
func (w *World) Kind(id string) Kind {
	switch {
	case w.places[id] != nil:
		return KindPlace
	case w.creatures[id] != nil:
		return KindCreature
	case w.items[id] != nil:
		return KindItem
	case w.npcs[id] != nil:
		return KindNPC
	}
	if _, ok := w.others[id]; ok {
		return KindOther
	}
	return ""
}

// Place returns a place by id.
func (w *World) Place(id string) (Place, bool) { return deref(w.places[id]) }

// Creature returns a creature by id.
func (w *World) Creature(id string) (Creature, bool) { return deref(w.creatures[id]) }

// Item returns an item by id.
func (w *World) Item(id string) (Item, bool) { return deref(w.items[id]) }

// NPC returns an NPC by id.
func (w *World) NPC(id string) (NPC, bool) { return deref(w.npcs[id]) }

func deref[T any](p *T) (T, bool) {
	if p == nil {
		var zero T
		return zero, false
	}
	return *p, true
}

// DisplayName returns the display name of any entity id, or "" when
// unknown.
func (w *World) DisplayName(id string) string {
	switch w.Kind(id) {
	case KindPlace:
		return w.places[id].Name
	case KindCreature:
		return w.creatures[id].Name
	case KindItem:
		return w.items[id].Name
	case KindNPC:
		return w.npcs[id].Name
	case KindOther:
		return w.others[id]
	}
	return ""
}

// Lookup returns the ids whose name or alias is name, ignoring case and
// a leading "the".
func (w *World) Lookup(name string) []string { return w.names[normName(name)] }

// Places returns every place id, sorted.
func (w *World) Places() []string { return w.placeIDs }

// Creatures returns every creature, sorted by id.
func (w *World) Creatures() []Creature { return sortedValues(w.creatures) }

// Items returns every item, sorted by id.
func (w *World) Items() []Item { return sortedValues(w.items) }

// NPCs returns every NPC, sorted by id.
func (w *World) NPCs() []NPC { return sortedValues(w.npcs) }

func sortedValues[T any](m map[string]*T) []T {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]T, len(keys))
	for i, k := range keys {
		out[i] = *m[k]
	}
	return out
}

// Distance returns the number of hops between two places in the world
// graph (breadth-first search), or -1 when to cannot be reached from from
// or either is not a place.
func (w *World) Distance(from, to string) int {
	if w.places[from] == nil || w.places[to] == nil {
		return -1
	}
	if from == to {
		return 0
	}
	dist := map[string]int{from: 0}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, n := range w.places[p].Neighbors {
			if _, seen := dist[n]; seen {
				continue
			}
			dist[n] = dist[p] + 1
			if n == to {
				return dist[n]
			}
			queue = append(queue, n)
		}
	}
	return -1
}

// Within returns the places at most hops away from from, nearest first
// (ties by id), from itself included.
func (w *World) Within(from string, hops int) []string {
	if w.places[from] == nil {
		return nil
	}
	dist := map[string]int{from: 0}
	out := []string{from}
	for i := 0; i < len(out); i++ {
		p := out[i]
		if dist[p] == hops {
			continue
		}
		next := append([]string(nil), w.places[p].Neighbors...)
		sort.Strings(next)
		for _, n := range next {
			if _, seen := dist[n]; !seen {
				dist[n] = dist[p] + 1
				out = append(out, n)
			}
		}
	}
	return out
}

func normName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "the ")
	return strings.Join(strings.Fields(s), " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

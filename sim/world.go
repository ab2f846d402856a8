// Package sim is a deterministic, headless game world built from the demo
// world's content (package sim/world), with simulated players that walk the
// map, greet NPCs, ask about lore, request and pursue quests, give gifts,
// make threats and try prompt attacks (issue 8).
//
// The world is the quest.World map graph: places and their neighbours,
// creatures living in their habitats, items lying in their places and NPCs
// following a schedule (see Map.NPCAt). A game clock advances a fixed step
// of game time per sim tick (Config.Step, one game minute by default).
//
// Each player draws its choices from its own PCG generator (math/rand/v2)
// seeded from Config.Seed and its index, and talks to Hearth through a
// Transport: in-process (the embedded middleware.Runtime, run in lockstep)
// or WebSocket (one middleware/client.Client per player). Every action and
// every result is one line of the event log; the same seed gives the same
// log, and so the same SHA-256 hash, on deterministic backends (the template
// floor and the quest planner).
package sim

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/hearth-ai/hearth/quest"
)

// Map is the sim's view of a quest.World: the place graph with a next-hop
// table, what lives and lies where, and the NPC schedules. It is read-only
// once built and safe for concurrent use.
type Map struct {
	World  *quest.World
	places []string       // sorted place ids
	index  map[string]int // place id → index in places
	nbrs   [][]int        // sorted neighbour indices per place
	next   [][]int16      // next[a][b]: neighbour of a on a shortest path to b; -1 if none

	creatures [][]string // per place, sorted ids of non-tame creatures living there
	items     [][]string // per place, sorted ids of items gatherable there
	names     [][]string // per place, lore names near it (the place, its neighbours, creatures, items)

	npcs  []scheduled
	byNPC map[string]int
}

// scheduled is an NPC with the places its schedule uses.
type scheduled struct {
	id    string
	name  string
	home  int
	nbrs  []int // neighbour places of home, sorted
	phase uint32
}

// NewMap builds the map of w and the schedules of the NPCs given by id,
// name and home place id (a home that is not a place of w is replaced by a
// place chosen from the id's hash, so generated NPCs always have one).
func NewMap(w *quest.World, npcs []NPCInfo) (*Map, error) {
	m := &Map{World: w, places: slices.Clone(w.Places()), index: map[string]int{}, byNPC: map[string]int{}}
	if len(m.places) == 0 {
		return nil, fmt.Errorf("sim: world %q has no places", w.Name)
	}
	if len(m.places) > 32000 {
		return nil, fmt.Errorf("sim: world %q has %d places; at most 32000", w.Name, len(m.places))
	}
	for i, id := range m.places {
		m.index[id] = i
	}
	m.nbrs = make([][]int, len(m.places))
	for i, id := range m.places {
		p, _ := w.Place(id)
		for _, n := range p.Neighbors {
			if j, ok := m.index[n]; ok && j != i && !slices.Contains(m.nbrs[i], j) {
				m.nbrs[i] = append(m.nbrs[i], j)
			}
		}
		slices.Sort(m.nbrs[i])
	}
	// All-pairs next hop by a BFS from every target (graphs are small).
	n := len(m.places)
	m.next = make([][]int16, n)
	for a := range m.next {
		m.next[a] = make([]int16, n)
		for b := range m.next[a] {
			m.next[a][b] = -1
		}
	}
	for b := 0; b < n; b++ {
		m.next[b][b] = int16(b)
		queue := []int{b}
		seen := make([]bool, n)
		seen[b] = true
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			for _, y := range m.nbrs[x] { // sorted: ties go to the lowest id
				if !seen[y] {
					seen[y] = true
					m.next[y][b] = int16(x)
					queue = append(queue, y)
				}
			}
		}
	}
	m.creatures = make([][]string, n)
	m.items = make([][]string, n)
	for _, c := range w.Creatures() {
		if c.Tame {
			continue
		}
		for _, h := range c.Habitats {
			if i, ok := m.index[h]; ok {
				m.creatures[i] = append(m.creatures[i], c.ID)
			}
		}
	}
	for _, it := range w.Items() {
		for _, p := range it.Places {
			if i, ok := m.index[p]; ok {
				m.items[i] = append(m.items[i], it.ID)
			}
		}
	}
	m.names = make([][]string, n)
	for i := range m.places {
		var names []string
		add := func(id string) {
			if s := w.DisplayName(id); s != "" && !slices.Contains(names, s) {
				names = append(names, s)
			}
		}
		add(m.places[i])
		for _, j := range m.nbrs[i] {
			add(m.places[j])
		}
		for _, c := range m.creatures[i] {
			add(c)
		}
		for _, it := range m.items[i] {
			add(it)
		}
		m.names[i] = names
	}
	for _, d := range npcs {
		if _, dup := m.byNPC[d.ID]; dup {
			return nil, fmt.Errorf("sim: npc %q listed twice", d.ID)
		}
		h := hashString(d.ID)
		home, ok := m.index[d.Home]
		if !ok {
			home = int(h % uint32(n))
		}
		m.byNPC[d.ID] = len(m.npcs)
		m.npcs = append(m.npcs, scheduled{id: d.ID, name: d.Name, home: home, nbrs: m.nbrs[home], phase: h})
	}
	return m, nil
}

// NPCInfo is what the map needs of an NPC: its id, display name and home
// place id.
type NPCInfo struct {
	ID, Name, Home string
}

func hashString(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// Places returns the place ids, sorted. The slice must not be modified.
func (m *Map) Places() []string { return m.places }

// Neighbors returns the ids of the places one hop from place, sorted.
func (m *Map) Neighbors(place string) []string {
	i, ok := m.index[place]
	if !ok {
		return nil
	}
	out := make([]string, len(m.nbrs[i]))
	for k, j := range m.nbrs[i] {
		out[k] = m.places[j]
	}
	return out
}

// NextHop returns the neighbour of from on a shortest path to to (ties go
// to the lowest place id), from itself when from == to, and "" when to
// cannot be reached or either is not a place.
func (m *Map) NextHop(from, to string) string {
	a, ok1 := m.index[from]
	b, ok2 := m.index[to]
	if !ok1 || !ok2 || m.next[a][b] < 0 {
		return ""
	}
	return m.places[m.next[a][b]]
}

// Creatures returns the ids of the (non-tame) creatures living at place.
func (m *Map) Creatures(place string) []string {
	if i, ok := m.index[place]; ok {
		return m.creatures[i]
	}
	return nil
}

// Items returns the ids of the items that can be gathered at place.
func (m *Map) Items(place string) []string {
	if i, ok := m.index[place]; ok {
		return m.items[i]
	}
	return nil
}

// LoreNames returns the lore names near place: the place's own name, its
// neighbours', and those of the creatures and items found there.
func (m *Map) LoreNames(place string) []string {
	if i, ok := m.index[place]; ok {
		return m.names[i]
	}
	return nil
}

// NPCs returns how many NPCs the map schedules.
func (m *Map) NPCs() int { return len(m.npcs) }

// NPCAt returns the place id where NPC id is at game hour hour (0..23 of
// any day), and false for an NPC the map does not schedule.
//
// The schedule is derived from the NPC's home and the graph alone, so it
// is the same in every run:
//
//   - 21:00 to 07:59 the NPC is at home (night and morning);
//   - 08:00 to 20:59, on hours whose parity matches the NPC's phase (a hash
//     of its id), it is at home; on the other hours it visits a neighbour
//     of its home, the k-th in id order where k = (phase + hour/2) mod the
//     number of neighbours. An NPC whose home has no neighbours stays home.
//
// So the day's visits differ between NPCs of the same home, and an NPC
// moves at most once per game hour.
func (m *Map) NPCAt(id string, hour int) (string, bool) {
	i, ok := m.byNPC[id]
	if !ok {
		return "", false
	}
	return m.places[m.npcPlace(i, hour)], true
}

func (m *Map) npcPlace(i, hour int) int {
	s := &m.npcs[i]
	if hour < 8 || hour >= 21 || len(s.nbrs) == 0 || uint32(hour)%2 == s.phase%2 {
		return s.home
	}
	return s.nbrs[(s.phase+uint32(hour/2))%uint32(len(s.nbrs))]
}

// presence is, for one game hour, the NPCs at each place (indices into
// m.npcs, ascending).
type presence [][]int32

func (m *Map) presence(hour int, into presence) presence {
	if len(into) != len(m.places) {
		into = make(presence, len(m.places))
	}
	for i := range into {
		into[i] = into[i][:0]
	}
	for i := range m.npcs {
		p := m.npcPlace(i, hour)
		into[p] = append(into[p], int32(i))
	}
	return into
}

// questionName writes a lore name for a question: "the Redvein Mine" for
// names of several words, "the Tipped Kettle" for "The Tipped Kettle", and
// one-word names ("Kettleford") as they are.
func questionName(name string) string {
	switch {
	case strings.HasPrefix(name, "The "):
		return "the " + name[4:]
	case strings.Contains(name, " "):
		return "the " + name
	}
	return name
}

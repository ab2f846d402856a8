package lore

import (
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
)

// Entity is a named thing of the world that lore declares: an NPC, a place,
// a faction, an item, a creature. Quests and answers are checked against
// the registry of entities, so ids are stable and unique across all sources.
type Entity struct {
	ID, Type, Name string   // Type: place, faction, npc, creature, item, event, history, person, ...
	Aliases, Tags  []string // other names Lookup finds it by; free-form tags (the primary entity gets its document's tags)
	Region         string   // where it belongs; entities listed under "entities:" default to their document's region
	Source         string   // lore source name the entity came from ("village", "srd")
	DocPath        string   // document path inside its source
	// Relations link the entity to others by id, sorted by kind then
	// target: RelLocatedIn, RelMemberOf, RelOwns, or any other kind a
	// studio names (lowercase, "_" between words).
	Relations []Relation
}

// Relation is one typed link from an entity to another entity. Target is
// an entity id; it need not be declared (yet): the registry does not check
// it, so lore can be ingested in any order.
type Relation struct {
	Kind   string // RelLocatedIn, RelMemberOf, RelOwns, or a studio's own kind
	Target string // entity id
}

// Relation kinds the lore format documents. In front matter and entity
// files they are written as keys of a "relations" mapping, each with one
// id or a list of ids:
//
//	relations:
//	  located_in: millbrook
//	  member_of: [smiths-guild]
//	  owns: [millbrook-forge]
const (
	RelLocatedIn = "located_in" // a place the entity is in
	RelMemberOf  = "member_of"  // a faction or group it belongs to
	RelOwns      = "owns"       // an item or place it owns
)

// Related returns the ids the entity with the given id links to by kind
// (all kinds when kind is ""), in its Relations order; nil when the entity
// is unknown.
func (r *Registry) Related(id, kind string) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	for _, rel := range r.byID[id].Relations {
		if kind == "" || rel.Kind == kind {
			out = append(out, rel.Target)
		}
	}
	return out
}

// Registry holds the entities of a Library, indexed by id and by name. It is
// safe for concurrent use; ingestion updates it in place, so a held
// *Registry always shows the library's current entities. Returned entities
// are copies the caller may modify.
type Registry struct {
	mu    sync.RWMutex
	byID  map[string]Entity
	exact map[string][]string // normalised name or alias → ids
	stem  map[string][]string // same with plurals stemmed
}

func newRegistry() *Registry {
	return &Registry{byID: map[string]Entity{}}
}

// Get returns the entity with the given id.
func (r *Registry) Get(id string) (Entity, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.byID[id]
	return cloneEntity(e), ok
}

// Lookup returns the entities whose name or one of whose aliases is
// nameOrAlias, sorted by id. Matching ignores case, spacing and punctuation,
// a leading article ("the", "a", "an") and possessives, singular or plural
// ("Brenna's" finds "Brenna", "the Wardens'" finds "The Wardens"); when
// nothing matches exactly, plurals are stemmed as the search index stems
// them ("goblins" finds "Goblin", "Potion of Healing" finds "Potions of
// Healing"; irregular plurals such as "wolves" are not).
func (r *Registry) Lookup(nameOrAlias string) []Entity {
	key, stemKey := nameKeys(nameOrAlias)
	if key == "" {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids := r.exact[key]
	if len(ids) == 0 {
		ids = r.stem[stemKey]
	}
	out := make([]Entity, 0, len(ids))
	for _, id := range ids {
		out = append(out, cloneEntity(r.byID[id]))
	}
	return out
}

// All returns every entity, sorted by id.
func (r *Registry) All() []Entity {
	return r.filter(func(Entity) bool { return true })
}

// ByType returns the entities of type t (case-insensitive), sorted by id.
func (r *Registry) ByType(t string) []Entity {
	return r.filter(func(e Entity) bool { return strings.EqualFold(e.Type, t) })
}

// Len returns the number of entities.
func (r *Registry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.byID)
}

func (r *Registry) filter(keep func(Entity) bool) []Entity {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []Entity
	for _, e := range r.byID {
		if keep(e) {
			out = append(out, cloneEntity(e))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (r *Registry) countSource(source string) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	n := 0
	for _, e := range r.byID {
		if e.Source == source {
			n++
		}
	}
	return n
}

// entityOp is one document's change to the registry: its previous entity
// ids go (those it still owns) and its new entities come in. It mirrors
// store.PutDocument and store.DeleteDocument, so memory and disk agree.
type entityOp struct {
	source, path string
	oldIDs       []string
	entities     []Entity // nil when the document was removed
}

// apply applies ops in order and rebuilds the name indexes. An entity id
// already owned by another document is taken over; IngestFS reports that
// (ErrDuplicateEntity) before it applies, so log is unused.
func (r *Registry) apply(ops []entityOp, _ *slog.Logger) {
	if len(ops) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, op := range ops {
		keep := make(map[string]bool, len(op.entities))
		for _, e := range op.entities {
			keep[e.ID] = true
		}
		for _, id := range op.oldIDs {
			if e, ok := r.byID[id]; ok && !keep[id] && e.Source == op.source && e.DocPath == op.path {
				delete(r.byID, id)
			}
		}
		for _, e := range op.entities {
			r.byID[e.ID] = e // the later declaration wins; ingest has warned
		}
	}
	r.reindexLocked()
}

// load replaces all entities (used by Open).
func (r *Registry) load(es []Entity) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID = make(map[string]Entity, len(es))
	for _, e := range es {
		r.byID[e.ID] = e
	}
	r.reindexLocked()
}

func (r *Registry) reindexLocked() {
	r.exact = make(map[string][]string, len(r.byID)*2)
	r.stem = make(map[string][]string, len(r.byID)*2)
	add := func(m map[string][]string, k, id string) {
		if k != "" && !slices.Contains(m[k], id) {
			m[k] = append(m[k], id)
		}
	}
	for id, e := range r.byID {
		for _, n := range append([]string{e.Name}, e.Aliases...) {
			k, sk := nameKeys(n)
			add(r.exact, k, id)
			add(r.stem, sk, id)
		}
	}
	for _, m := range []map[string][]string{r.exact, r.stem} {
		for _, ids := range m {
			slices.Sort(ids)
		}
	}
}

// nameKeys returns the exact and the plural-stemmed lookup keys of a name:
// lowercase words (letters and digits) joined by one space, possessives and
// a leading article removed.
func nameKeys(name string) (exact, stemmed string) {
	words := nameWords(name)
	if len(words) > 1 && (words[0] == "the" || words[0] == "a" || words[0] == "an") {
		words = words[1:]
	}
	exact = strings.Join(words, " ")
	for i, w := range words {
		words[i] = stemPlural(w)
	}
	return exact, strings.Join(words, " ")
}

// nameWords splits a name like the tokenizer does, but keeps stopwords and
// one-letter words (names are short and every word counts) and does not
// stem.
func nameWords(name string) []string {
	var words []string
	var cur []rune
	rs := []rune(name)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if isWordRune(r) {
			cur = append(cur, r)
			continue
		}
		if isApostrophe(r) && len(cur) > 0 && i+1 < len(rs) && isWordRune(rs[i+1]) {
			if (rs[i+1] == 's' || rs[i+1] == 'S') && (i+2 == len(rs) || !isWordRune(rs[i+2])) {
				i++ // possessive 's
			}
			continue
		}
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	if len(cur) > 0 {
		words = append(words, strings.ToLower(string(cur)))
	}
	return words
}

func cloneEntity(e Entity) Entity {
	e.Aliases = slices.Clone(e.Aliases)
	e.Tags = slices.Clone(e.Tags)
	e.Relations = slices.Clone(e.Relations)
	return e
}

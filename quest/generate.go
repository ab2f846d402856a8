package quest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/inference"
)

// Errors of Generate. Test for them with errors.Is; the error itself
// (a *RequestError for bad requests) says what to change.
var (
	// ErrUnknownLocation: Request.Location is not a place of the World.
	ErrUnknownLocation = errors.New("unknown location")
	// ErrLevelOutOfRange: Request.Level is outside [World.MinLevel,
	// World.MaxLevel].
	ErrLevelOutOfRange = errors.New("level out of range")
	// ErrUnknownGiver: Request.Giver is not an NPC of the World, or is dead.
	ErrUnknownGiver = errors.New("unknown or dead giver")
	// ErrUnknownMotivation: Request.Motivation is not one of Motivations.
	ErrUnknownMotivation = errors.New("unknown motivation")
	// ErrNoSuitableQuest: nothing valid could be grounded near the player,
	// not even the fallback quest (no living NPC can reach the player's
	// location), or GeneratorOptions.NoFallback is set and the request
	// could not be met as asked.
	ErrNoSuitableQuest = errors.New("no suitable quest")
)

// RequestError is a bad Request: Field names the request field, Value its
// value, Hint what would be valid (e.g. nearby place ids), and Err one of
// the sentinels above.
type RequestError struct {
	Field string // request field at fault: "location", "level", "giver", "motivation", "budget"
	Value string // its value as given
	Hint  string // what would be valid, e.g. the most similar place ids
	Err   error  // the sentinel, for errors.Is
}

// Error implements error, e.g. `quest: location "mil": unknown location;
// places of kettleford like it: crookwheel-mill, …`.
func (e *RequestError) Error() string {
	s := fmt.Sprintf("quest: %s %q: %v", e.Field, e.Value, e.Err)
	if e.Hint != "" {
		s += "; " + e.Hint
	}
	return s
}

// Unwrap returns the sentinel, for errors.Is.
func (e *RequestError) Unwrap() error { return e.Err }

// Defaults of GeneratorOptions.
const (
	// DefaultMaxHops is how far from the player, in world-graph hops, the
	// generator looks for a giver and targets.
	DefaultMaxHops = 4
	// DefaultMaxRepairs is how many repair rounds a quest gets before the
	// generator falls back.
	DefaultMaxRepairs = 3
	// DefaultBudget is the budget of a Request whose Budget is 0
	// (DESIGN §1).
	DefaultBudget = 50 * time.Millisecond
	// DefaultFillerMinBudget is the least budget left for which the
	// generator asks its Filler.
	DefaultFillerMinBudget = 30 * time.Millisecond
)

// GeneratorOptions configure a Generator. The zero value is valid and
// means the documented defaults.
type GeneratorOptions struct {
	// MaxHops is how far, in hops of the world graph, the generator looks
	// for a giver and for targets around the player's location, growing
	// from 1 hop until something fits. 0 means DefaultMaxHops.
	MaxHops int
	// CacheSize is how many quests the LRU cache keeps, keyed by the
	// request (world, level, location, motivation, giver, seed, after and
	// recent actions). 0 means DefaultCacheSize; negative disables the
	// cache. Each entry is one Quest (about 1 KiB).
	CacheSize int
	// MaxRepairs is how many repair rounds an invalid quest gets before the
	// generator falls back. 0 means DefaultMaxRepairs; negative means none.
	MaxRepairs int
	// Budget is the budget of requests whose Budget is 0. 0 means
	// DefaultBudget.
	Budget time.Duration
	// NoFallback makes Generate return ErrNoSuitableQuest where it would
	// otherwise return the fallback quest (a Knowledge errand, see
	// Generator).
	NoFallback bool
	// Filler, when set, fills planned quests from a model under a JSON
	// schema (FillSchema) when at least FillerMinBudget of the budget is
	// left. nil (the default) means the deterministic planner's text.
	Filler Filler
	// FillerMinBudget is the least remaining budget for which the Filler
	// is called. 0 means DefaultFillerMinBudget.
	FillerMinBudget time.Duration
}

// Filler is the seam where a model fills a planned quest: the embedded
// model's constrained decoding or a remote model's structured output,
// both under FillSchema (DESIGN §8). Hearth ships no Filler yet: the
// deterministic planner fills every quest, which is also the floor a
// Filler's answer is checked against.
//
// Fill receives a valid draft planned and worded by the generator and
// returns it rewritten: it may change Title, Description, Dialogue and the
// objectives' Targets, Count and Location. The generator keeps the
// draft's giver, motivation, level range, prerequisites and seed,
// recomputes the reward and id, and validates the result; a result with
// any problem, an error or a missed deadline (ctx) is dropped and the
// draft is used. Fill must honour ctx's deadline and be safe for
// concurrent use.
type Filler interface {
	// Fill rewrites draft under schema (FillSchema) before ctx's deadline.
	Fill(ctx context.Context, draft Quest, schema string) (Quest, error)
	// Tier is the tier that fills, recorded in Quest.Tier.
	Tier() inference.Tier
}

// FillSchema is the JSON schema a Filler's output follows: the parts of a
// Quest a model may write. Its field names are Quest's JSON names.
const FillSchema = `{
  "type": "object",
  "required": ["title", "description", "dialogue", "objectives"],
  "additionalProperties": false,
  "properties": {
    "title": {"type": "string", "minLength": 1, "maxLength": 80},
    "description": {"type": "string", "minLength": 1, "maxLength": 1200},
    "dialogue": {"type": "string", "minLength": 1, "maxLength": 1200},
    "objectives": {
      "type": "array", "minItems": 1, "maxItems": 3,
      "items": {
        "type": "object",
        "required": ["action", "targets", "count", "location"],
        "additionalProperties": false,
        "properties": {
          "action": {"enum": ["goto", "kill", "gather", "deliver", "talk", "escort", "defend", "explore", "use"]},
          "targets": {"type": "array", "maxItems": 2, "items": {"type": "string"}},
          "count": {"type": "integer", "minimum": 1, "maximum": 10},
          "location": {"type": "string"}
        }
      }
    }
  }
}`

// Info says how Generate arrived at a quest.
type Info struct {
	// CacheHit: the quest came from the cache.
	CacheHit bool
	// Fallback: the quest is the documented fallback type (a Knowledge
	// errand) because nothing asked for could be grounded; FallbackReason
	// says why.
	Fallback       bool
	FallbackReason string // e.g. "no conquest structure could be grounded near dunmarket"
	// Repairs is the number of repair rounds the quest needed.
	Repairs int
	// Filled: the Filler's text was used. FillerError says why it was not
	// when a Filler was called.
	Filled      bool
	FillerError error // nil when the Filler was not called or its fill was used
	// Attempts is the number of structures tried.
	Attempts int
}

// Generator makes quests for one World. Build it with NewGenerator; it is
// safe for concurrent use.
//
// For a Request it checks the request (typed errors), picks a giver (the
// requested one, else a living NPC near the player whose motivations allow
// the quest, nearer ones likelier, else the nearest reachable one that
// gives such quests), a motivation (the requested one, else one of the
// giver's, earlier ones likelier) and a structure of the grammar
// (Structures), and grounds every action in entities near the player,
// growing the search from 1 to MaxHops hops: kill and defend creatures
// whose habitat is near and whose challenge fits the level (FitsLevel,
// KillCount), gather items that can be gathered near, deliver, talk and
// escort living NPCs near, go to and explore nearby places; targets the
// player just dealt with (Request.RecentActions "kill:ID", "collect:ID",
// "talk:ID", "deliver:ID", "arrive:ID", "explore:ID") are avoided when
// something else fits. When a structure cannot be grounded it tries the
// motivation's other structures, then the giver's other motivations, then
// other givers. The reward follows Limits, the level range LevelRangeFor,
// and the text comes from phrase banks (text.go) seeded by the request. The
// quest is then validated (Validate) and repaired (Repair) if needed.
//
// When nothing fits, Generate returns the fallback quest type — a
// Knowledge quest to talk to a nearby NPC, or else to go to and explore a
// nearby place, given by the nearest living NPC — with Info.Fallback set,
// or ErrNoSuitableQuest with GeneratorOptions.NoFallback. It never returns
// an invalid quest.
type Generator struct {
	w    *World
	opts GeneratorOptions
	ix   *index
	lru  *lru
}

// NewGenerator builds a Generator for w. Errors name the option at fault.
func NewGenerator(w *World, opts GeneratorOptions) (*Generator, error) {
	if w == nil {
		return nil, errors.New("quest: NewGenerator: nil World")
	}
	switch {
	case opts.MaxHops < 0:
		return nil, fmt.Errorf("quest: GeneratorOptions.MaxHops %d: want 0 (default %d) or more", opts.MaxHops, DefaultMaxHops)
	case opts.Budget < 0:
		return nil, fmt.Errorf("quest: GeneratorOptions.Budget %v: want 0 (default %v) or more", opts.Budget, DefaultBudget)
	case opts.FillerMinBudget < 0:
		return nil, fmt.Errorf("quest: GeneratorOptions.FillerMinBudget %v: want 0 (default %v) or more", opts.FillerMinBudget, DefaultFillerMinBudget)
	}
	if opts.MaxHops == 0 {
		opts.MaxHops = DefaultMaxHops
	}
	if opts.MaxRepairs == 0 {
		opts.MaxRepairs = DefaultMaxRepairs
	}
	if opts.MaxRepairs < 0 {
		opts.MaxRepairs = 0
	}
	if opts.Budget == 0 {
		opts.Budget = DefaultBudget
	}
	if opts.FillerMinBudget == 0 {
		opts.FillerMinBudget = DefaultFillerMinBudget
	}
	g := &Generator{w: w, opts: opts, ix: buildIndex(w)}
	switch {
	case opts.CacheSize == 0:
		g.lru = newLRU(DefaultCacheSize)
	case opts.CacheSize > 0:
		g.lru = newLRU(opts.CacheSize)
	}
	return g, nil
}

// World returns the World the generator plans for.
func (g *Generator) World() *World { return g.w }

// CacheLen returns the number of quests in the cache.
func (g *Generator) CacheLen() int { return g.lru.len() }

// Generate returns a valid quest for req, or an error: a *RequestError
// wrapping ErrUnknownLocation, ErrLevelOutOfRange, ErrUnknownGiver or
// ErrUnknownMotivation for a bad request, ErrNoSuitableQuest when nothing
// valid can be made, or ctx's error when ctx is done before it starts.
// The same request (and seed) on the same World gives the same quest.
// Planning stops at req.Budget (or ctx's deadline, whichever is sooner);
// a quest cut short there is the best valid one found, or the fallback.
func (g *Generator) Generate(ctx context.Context, req Request) (Quest, error) {
	q, _, err := g.GenerateInfo(ctx, req)
	return q, err
}

// GenerateInfo is Generate that also says how the quest was made: cache
// hit, fallback, repairs, filler.
func (g *Generator) GenerateInfo(ctx context.Context, req Request) (Quest, Info, error) {
	if err := ctx.Err(); err != nil {
		return Quest{}, Info{}, err
	}
	if err := g.checkRequest(req); err != nil {
		return Quest{}, Info{}, err
	}
	key := keyOf(g.w.Name, req)
	if q, ok := g.lru.get(key); ok {
		return q, Info{CacheHit: true}, nil
	}
	p := g.newPlan(ctx, req)
	q, info, err := p.run()
	if err == nil && !p.timedOut {
		g.lru.put(key, q)
	}
	return q, info, err
}

// checkRequest returns a *RequestError for a request no quest can answer.
func (g *Generator) checkRequest(req Request) error {
	w := g.w
	if w.places[req.Location] == nil {
		hint := fmt.Sprintf("places of %s like it: %s", w.Name, strings.Join(similar(req.Location, w.placeIDs, 5), ", "))
		if req.Location == "" {
			hint = fmt.Sprintf("a place id is required, e.g. %s", strings.Join(w.placeIDs[:min(5, len(w.placeIDs))], ", "))
		}
		return &RequestError{Field: "location", Value: req.Location, Err: ErrUnknownLocation, Hint: hint}
	}
	if req.Level < w.MinLevel || req.Level > w.MaxLevel {
		return &RequestError{Field: "level", Value: fmt.Sprint(req.Level), Err: ErrLevelOutOfRange,
			Hint: fmt.Sprintf("%s supports player levels %d to %d", w.Name, w.MinLevel, w.MaxLevel)}
	}
	if req.Motivation != "" && !ValidMotivation(req.Motivation) {
		return &RequestError{Field: "motivation", Value: string(req.Motivation), Err: ErrUnknownMotivation,
			Hint: fmt.Sprintf("want \"\" (any) or one of %v", Motivations)}
	}
	if req.Giver != "" {
		n := w.npcs[req.Giver]
		if n == nil {
			var ids []string
			for _, x := range g.ix.npcs {
				ids = append(ids, x.ID)
			}
			return &RequestError{Field: "giver", Value: req.Giver, Err: ErrUnknownGiver,
				Hint: fmt.Sprintf("NPCs of %s like it: %s", w.Name, strings.Join(similar(req.Giver, ids, 5), ", "))}
		}
		if !n.Alive {
			return &RequestError{Field: "giver", Value: req.Giver, Err: ErrUnknownGiver, Hint: n.Name + " is dead"}
		}
	}
	if req.Budget < 0 {
		return &RequestError{Field: "budget", Value: req.Budget.String(), Err: ErrNoSuitableQuest, Hint: "want 0 (default) or a positive budget"}
	}
	return nil
}

// similar returns up to n of candidates, the most similar to s first
// (longest common prefix, then shared substring, then edit distance).
func similar(s string, candidates []string, n int) []string {
	type scored struct {
		id    string
		score int
	}
	ss := make([]scored, 0, len(candidates))
	for _, c := range candidates {
		score := -levenshtein(s, c)
		if s != "" && (strings.Contains(c, s) || strings.Contains(s, c)) {
			score += 100
		}
		ss = append(ss, scored{c, score})
	}
	sort.SliceStable(ss, func(i, j int) bool { return ss[i].score > ss[j].score })
	out := make([]string, 0, n)
	for i := 0; i < len(ss) && i < n; i++ {
		out = append(out, ss[i].id)
	}
	return out
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// index is the World rearranged for planning: places as dense indexes,
// and what lives, grows and stands at each.
type index struct {
	placeIdx    map[string]int
	places      []*Place
	adj         [][]int
	creatures   []*Creature
	creaturesAt [][]int // place → creatures with a habitat there
	items       []*Item
	gatherAt    [][]int // place → items gatherable there
	rewards     []int   // items that may be rewards, by value then id
	npcs        []*NPC
	aliveAt     [][]int // place → living NPCs whose home it is
	structures  map[Motivation][]Structure
	forms       map[string]nounForms // creature and item id → singular and plural names
}

func buildIndex(w *World) *index {
	ix := &index{placeIdx: map[string]int{}, structures: map[Motivation][]Structure{}, forms: map[string]nounForms{}}
	for i, id := range w.placeIDs {
		ix.placeIdx[id] = i
		ix.places = append(ix.places, w.places[id])
	}
	n := len(ix.places)
	ix.adj = make([][]int, n)
	ix.creaturesAt = make([][]int, n)
	ix.gatherAt = make([][]int, n)
	ix.aliveAt = make([][]int, n)
	for i, p := range ix.places {
		for _, nb := range p.Neighbors {
			if j, ok := ix.placeIdx[nb]; ok && !slices.Contains(ix.adj[i], j) {
				ix.adj[i] = append(ix.adj[i], j)
			}
		}
		slices.Sort(ix.adj[i])
	}
	for _, id := range sortedEntityIDs(w.creatures) {
		c := w.creatures[id]
		ci := len(ix.creatures)
		ix.creatures = append(ix.creatures, c)
		ix.forms[id] = formsOf(w, id, c.Name, c.Aliases)
		for _, h := range c.Habitats {
			if pi, ok := ix.placeIdx[h]; ok && !slices.Contains(ix.creaturesAt[pi], ci) {
				ix.creaturesAt[pi] = append(ix.creaturesAt[pi], ci)
			}
		}
	}
	for _, id := range sortedEntityIDs(w.items) {
		it := w.items[id]
		ii := len(ix.items)
		ix.items = append(ix.items, it)
		ix.forms[id] = formsOf(w, id, it.Name, it.Aliases)
		for _, pl := range it.Places {
			if pi, ok := ix.placeIdx[pl]; ok && !slices.Contains(ix.gatherAt[pi], ii) {
				ix.gatherAt[pi] = append(ix.gatherAt[pi], ii)
			}
		}
		if it.Reward {
			ix.rewards = append(ix.rewards, ii)
		}
	}
	sort.SliceStable(ix.rewards, func(a, b int) bool { return ix.items[ix.rewards[a]].Value < ix.items[ix.rewards[b]].Value })
	for _, id := range sortedEntityIDs(w.npcs) {
		npc := w.npcs[id]
		ni := len(ix.npcs)
		ix.npcs = append(ix.npcs, npc)
		if pi, ok := ix.placeIdx[npc.Home]; ok && npc.Alive {
			ix.aliveAt[pi] = append(ix.aliveAt[pi], ni)
		}
	}
	for _, m := range Motivations {
		ix.structures[m] = structuresOf(m)
	}
	return ix
}

func sortedEntityIDs[T any](m map[string]*T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// plan is the state of one Generate call.
type plan struct {
	g        *Generator
	w        *World
	ix       *index
	ctx      context.Context
	req      Request
	rng      *rand.Rand
	deadline time.Time
	timedOut bool
	loc      int     // player's place index
	dist     []int   // hops from the player's place; -1 = farther than MaxHops or unreachable
	layers   [][]int // place indexes by hops from the player, 0..MaxHops
	recent   map[string]bool
	giver    *NPC
	exclude  map[string]bool // targets a repair must not pick again
}

func (g *Generator) newPlan(ctx context.Context, req Request) *plan {
	budget := req.Budget
	if budget == 0 {
		budget = g.opts.Budget
	}
	deadline := time.Now().Add(budget)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	p := &plan{g: g, w: g.w, ix: g.ix, ctx: ctx, req: req, deadline: deadline,
		rng: rand.New(rand.NewPCG(req.Seed, requestHash(g.w.Name, req))), loc: g.ix.placeIdx[req.Location]}
	// Breadth-first search from the player, up to MaxHops.
	p.dist = make([]int, len(g.ix.places))
	for i := range p.dist {
		p.dist[i] = -1
	}
	p.dist[p.loc] = 0
	p.layers = [][]int{{p.loc}}
	for h := 1; h <= g.opts.MaxHops; h++ {
		var next []int
		for _, pi := range p.layers[h-1] {
			for _, nb := range g.ix.adj[pi] {
				if p.dist[nb] < 0 {
					p.dist[nb] = h
					next = append(next, nb)
				}
			}
		}
		if len(next) == 0 {
			break
		}
		p.layers = append(p.layers, next)
	}
	if len(req.RecentActions) > 0 {
		p.recent = make(map[string]bool, len(req.RecentActions))
		for _, a := range req.RecentActions {
			p.recent[a] = true
		}
	}
	return p
}

// requestHash mixes the request into the PCG stream, so the same seed at
// another place or level plans another quest, and the same request the
// same one.
func requestHash(world string, req Request) uint64 {
	h := fnv.New64a()
	for _, s := range []string{world, req.Location, string(req.Motivation), req.Giver, req.After, fmt.Sprint(req.Level)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, s := range req.RecentActions {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// expired reports whether the budget or ctx has run out.
func (p *plan) expired() bool {
	if p.timedOut {
		return true
	}
	if p.ctx.Err() != nil || !time.Now().Before(p.deadline) {
		p.timedOut = true
	}
	return p.timedOut
}

// run plans, validates and repairs, falling back when nothing fits.
func (p *plan) run() (Quest, Info, error) {
	var info Info
	reason := ""
	givers := p.givers(p.req.Motivation)
	if len(givers) == 0 {
		reason = "no living NPC near " + p.req.Location
		if p.req.Motivation != "" {
			reason = fmt.Sprintf("no living NPC near %s gives %s quests", p.req.Location, p.req.Motivation)
		}
	}
search:
	for _, giver := range givers {
		p.giver = giver
		for _, m := range p.motivations(giver) {
			for _, s := range p.structureOrder(m) {
				if p.expired() {
					reason = "budget ran out"
					break search
				}
				info.Attempts++
				objs, ok := p.fill(s.Actions, nil, nil)
				if !ok {
					continue
				}
				q := p.assemble(m, objs)
				q, repairs, ok := p.validated(q)
				info.Repairs += repairs
				if !ok {
					continue
				}
				q, info = p.fillByModel(q, info)
				return q, info, nil
			}
		}
	}
	if reason == "" {
		reason = "no structure could be grounded near " + p.req.Location
		if p.req.Motivation != "" {
			reason = fmt.Sprintf("no %s structure could be grounded near %s", p.req.Motivation, p.req.Location)
		}
	}
	if p.g.opts.NoFallback {
		return Quest{}, info, fmt.Errorf("quest: %w: %s", ErrNoSuitableQuest, reason)
	}
	q, ok := p.fallback()
	if !ok {
		return Quest{}, info, fmt.Errorf("quest: %w: %s, and no fallback errand either (no living NPC reachable from %s)", ErrNoSuitableQuest, reason, p.req.Location)
	}
	info.Fallback, info.FallbackReason = true, reason
	return q, info, nil
}

// validated validates q and repairs it up to MaxRepairs rounds; ok is
// false when it stays invalid.
func (p *plan) validated(q Quest) (Quest, int, bool) {
	problems := Validate(p.w, q, p.req.Level)
	rounds := 0
	for len(problems) > 0 && rounds < p.g.opts.MaxRepairs && !p.expired() {
		rounds++
		q = p.repair(q, problems)
		problems = Validate(p.w, q, p.req.Level)
	}
	return q, rounds, len(problems) == 0
}

// fillByModel lets the Filler rewrite a valid quest when the budget
// allows, keeping the planner's quest on any problem.
func (p *plan) fillByModel(q Quest, info Info) (Quest, Info) {
	f := p.g.opts.Filler
	if f == nil || time.Until(p.deadline) < p.g.opts.FillerMinBudget {
		return q, info
	}
	// Keep a millisecond for validating what comes back.
	ctx, cancel := context.WithDeadline(p.ctx, p.deadline.Add(-time.Millisecond))
	defer cancel()
	fq, err := f.Fill(ctx, cloneQuest(q), FillSchema)
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		info.FillerError = err
		return q, info
	}
	out := q
	out.Title, out.Description, out.Dialogue = fq.Title, fq.Description, fq.Dialogue
	out.Objectives = cloneQuest(fq).Objectives
	out.Reward = p.reward(out.Objectives, q.Reward.Items, false)
	out.Tier = f.Tier()
	out.ID = questID(out)
	if problems := Validate(p.w, out, p.req.Level); len(problems) > 0 {
		info.FillerError = fmt.Errorf("quest: filler output rejected: %w", errors.Join(problemErrs(problems)...))
		return q, info
	}
	info.Filled = true
	return out, info
}

func problemErrs(ps []Problem) []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// givers returns the living NPCs that may give a quest of motivation m
// ("" = any) to the player, in the order to try: the requested giver
// alone, else NPCs whose home is within MaxHops, nearer ones first with
// likelihood 1/(1+hops), else (nobody near gives such quests) the nearest
// reachable ones that do.
func (p *plan) givers(m Motivation) []*NPC {
	if p.req.Giver != "" {
		n := p.w.npcs[p.req.Giver]
		if n == nil || !n.Alive || p.w.Distance(n.Home, p.req.Location) < 0 {
			return nil
		}
		return []*NPC{n}
	}
	type cand struct {
		n   *NPC
		key float64
	}
	var cs []cand
	for h, layer := range p.layers {
		for _, pi := range layer {
			for _, ni := range p.ix.aliveAt[pi] {
				n := p.ix.npcs[ni]
				if m != "" && !allows(n, m) {
					continue
				}
				// Efraimidis–Spirakis weighted order: key = u^(1/weight).
				weight := 1 / float64(1+h)
				cs = append(cs, cand{n, math.Pow(p.rng.Float64(), 1/weight)})
			}
		}
	}
	if len(cs) == 0 {
		// Nobody near gives such quests: the nearest who does, anywhere
		// the player can reach, in order of distance.
		for _, n := range p.ix.npcs {
			if n.Alive && (m == "" || allows(n, m)) {
				if d := p.w.Distance(p.req.Location, n.Home); d >= 0 {
					cs = append(cs, cand{n, -float64(d)})
				}
			}
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].key > cs[j].key })
	out := make([]*NPC, 0, min(len(cs), maxGivers))
	for i := 0; i < len(cs) && i < maxGivers; i++ {
		out = append(out, cs[i].n)
	}
	return out
}

// maxGivers bounds the givers tried per request, so a world with many
// NPCs and nothing to ground stays fast.
const maxGivers = 6

func allows(n *NPC, m Motivation) bool {
	return len(n.Motivations) == 0 || slices.Contains(n.Motivations, m)
}

// motivations returns the motivations to try for giver: the requested one,
// else the giver's own (all nine when it lists none) in a weighted random
// order, the k-th of n listed having weight n-k.
func (p *plan) motivations(giver *NPC) []Motivation {
	if p.req.Motivation != "" {
		return []Motivation{p.req.Motivation}
	}
	ms := giver.Motivations
	if len(ms) == 0 {
		ms = Motivations
	}
	type cand struct {
		m   Motivation
		key float64
	}
	cs := make([]cand, 0, len(ms))
	for k, m := range ms {
		if !ValidMotivation(m) || slices.ContainsFunc(cs, func(c cand) bool { return c.m == m }) {
			continue
		}
		weight := float64(len(ms) - k)
		if len(giver.Motivations) == 0 {
			weight = 1
		}
		cs = append(cs, cand{m, math.Pow(p.rng.Float64(), 1/weight)})
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].key > cs[j].key })
	out := make([]Motivation, len(cs))
	for i, c := range cs {
		out[i] = c.m
	}
	return out
}

// structureOrder returns m's structures in a random order.
func (p *plan) structureOrder(m Motivation) []Structure {
	ss := slices.Clone(p.ix.structures[m])
	p.rng.Shuffle(len(ss), func(i, j int) { ss[i], ss[j] = ss[j], ss[i] })
	return ss
}

// assemble completes a quest around grounded objectives: reward, level
// range, text, id.
func (p *plan) assemble(m Motivation, objs []Objective) Quest {
	q := Quest{
		World:      p.w.Name,
		Giver:      p.giver.ID,
		Motivation: m,
		Objectives: objs,
		Level:      LevelRangeFor(p.w, p.req.Level),
		Seed:       p.req.Seed,
		Tier:       inference.TierTemplate,
	}
	if p.req.After != "" {
		q.Prerequisites = []string{p.req.After}
	}
	q.Reward = p.reward(objs, nil, true)
	p.writeText(&q)
	q.ID = questID(q)
	return q
}

// reward computes the reward of objs by Limits: exact XP, gold within
// ±25 % of the base, and, with chance 1/2 when pickItem, one reward item
// worth at most ItemValueCap (keep replaces the item choice).
func (p *plan) reward(objs []Objective, keep []string, pickItem bool) Reward {
	lim := Limits(p.w, objs, p.req.Level)
	r := Reward{XP: lim.XP, Gold: int(math.Round(float64(lim.Gold) * (0.75 + 0.5*p.rng.Float64())))}
	r.Gold = min(max(r.Gold, lim.GoldMin), lim.GoldMax)
	if !pickItem {
		for _, id := range keep {
			if it := p.w.items[id]; it != nil && it.Reward && it.Value <= lim.ItemValueMax && len(r.Items) < MaxRewardItems {
				r.Items = append(r.Items, id)
			}
		}
		return r
	}
	if p.rng.IntN(2) == 0 {
		return r
	}
	// Among the items worth at most the cap, prefer the upper half by
	// value, so rewards grow with the level.
	n := sort.Search(len(p.ix.rewards), func(i int) bool { return p.ix.items[p.ix.rewards[i]].Value > lim.ItemValueMax })
	if n == 0 {
		return r
	}
	lo := n / 2
	it := p.ix.items[p.ix.rewards[lo+p.rng.IntN(n-lo)]]
	r.Items = []string{it.ID}
	return r
}

// questID is the quest's id: the world's name and a hash of its content
// and seed, e.g. "kettleford-q3f9a0c1d2e4b5a6".
func questID(q Quest) string {
	h := fnv.New64a()
	put := func(ss ...string) {
		for _, s := range ss {
			h.Write([]byte(s))
			h.Write([]byte{0})
		}
	}
	put(q.World, q.Giver, string(q.Motivation), q.Title, fmt.Sprint(q.Seed, q.Level, q.Reward.XP, q.Reward.Gold))
	for _, o := range q.Objectives {
		put(string(o.Action), o.Location, fmt.Sprint(o.Count))
		put(o.Targets...)
	}
	put(q.Prerequisites...)
	put(q.Reward.Items...)
	return fmt.Sprintf("%s-q%016x", q.World, h.Sum64())
}

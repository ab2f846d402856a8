// Package npc turns NPC definitions into agents that talk: each turn recalls
// memories of the player, searches the lore the NPC may know, renders a
// versioned prompt template and routes it through the inference Router.
// Every turn is appended to the NPC's memory stream in the store, per
// player, so an NPC greets a returning player by name after a restart.
package npc

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/npc/guard"
)

//go:embed prompts/*.tmpl
var promptFiles embed.FS

// DialoguePrompt is the template name dialogue turns render.
const DialoguePrompt = "npc.dialogue"

// Defaults for recall and retrieval; each is a per-turn cost on the
// request's hot path, sized so a turn stays well under a millisecond.
const (
	recallWindow = 64 // memories read per turn to rank (newest first)
	recallTopK   = 5  // memories put in the prompt
	loreTopK     = 4  // lore chunks put in the prompt
	// recencyDecayPerHour is the Generative Agents recency factor (Park et
	// al. 2023, §4.1: 0.995 per sandbox hour).
	recencyDecayPerHour = 0.995
)

// ErrUnknownNPC is matched (errors.Is) by the error for an NPC id the roster
// does not have.
var ErrUnknownNPC = errors.New("unknown npc")

// UnknownNPCError names the missing id and the ids that exist.
type UnknownNPCError struct {
	ID    string
	Known []string
}

func (e *UnknownNPCError) Error() string {
	known := e.Known
	if len(known) > 12 {
		known = append(known[:12:12], "…")
	}
	return fmt.Sprintf("npc %q: unknown; known: %s", e.ID, strings.Join(known, ", "))
}

// Is makes errors.Is(err, ErrUnknownNPC) true.
func (e *UnknownNPCError) Is(target error) bool { return target == ErrUnknownNPC }

// Deps are what agents need. All fields are required except Prompts,
// Logger, Guard and Memory.
type Deps struct {
	Lore    *lore.Library
	Store   *store.Store
	Router  *inference.Router
	Prompts *inference.Prompts // nil: the built-in templates (DefaultPrompts)
	Logger  *slog.Logger
	Guard   Guardrails    // zero: every guardrail on, with the defaults (see Guardrails)
	Memory  MemoryOptions // zero: the defaults (see MemoryOptions)
	// ModelActions asks models for actions as structured output (a JSON
	// schema, ActionSchema) on turns with NPCs that may do more than end a
	// conversation. Off: actions come from the rules (RuleActions) only,
	// and models answer in free text; the shipped embedded model was not
	// trained to answer in JSON, so it is off by default.
	ModelActions bool
}

// DefaultPrompts loads the prompt templates shipped with this package
// (npc.dialogue@1 and @2, …; dialogue turns render the latest, @2, which
// adds the NPC's mood and feelings about the player). It is OpenPrompts
// with no directory and no weights.
func DefaultPrompts() (*inference.Prompts, error) {
	return OpenPrompts(inference.PromptOptions{})
}

// OpenPrompts loads the shipped templates with opts.Dir's over them (a
// studio's new versions and overrides; see docs/config.md), with
// opts.Weights' A/B split and, with opts.Watch, hot reload; opts.Base,
// BaseDir and Data are set here. Every version of the templates agents
// render (npc.dialogue, npc.bark and their -small forms) is checked
// against the data agents render them with, so a template naming a field
// that does not exist fails here, or its reload is refused, naming the
// file, the template and the field. Close the result when opts.Watch is
// set.
func OpenPrompts(opts inference.PromptOptions) (*inference.Prompts, error) {
	opts.Base, opts.BaseDir = promptFiles, "prompts"
	opts.Data = map[string]any{DialoguePrompt: promptData{}, BarkPrompt: promptData{},
		SmallDialoguePrompt: promptData{}, SmallBarkPrompt: promptData{}}
	return inference.OpenPrompts(opts)
}

// Roster holds the agents of a world. It is safe for concurrent use.
//
// The Roster NewRoster returns serves the default tenant (""); Tenant
// returns the roster of another tenant: the same NPC definitions, lore,
// router and guardrails, but its own memories, names and cached replies
// (DESIGN §9, issue 9), so that two studios on one server never see each
// other's players.
type Roster struct {
	agents map[string]*Agent
	ids    []string
	tenant string

	// build makes the agents of a tenant; shared by every tenant roster.
	build func(tenant string) map[string]*Agent

	// tenants holds the rosters of the other tenants, created on first
	// use; only the default tenant's roster has it (others point to it).
	tenantsMu *sync.Mutex
	tenants   map[string]*Roster
}

// NewRoster builds an agent per definition. It fails on a missing
// dependency, an invalid definition or a duplicate id.
func NewRoster(defs []Definition, deps Deps) (*Roster, error) {
	if deps.Lore == nil || deps.Store == nil || deps.Router == nil {
		return nil, errors.New("npc: Deps.Lore, Deps.Store and Deps.Router are required")
	}
	if deps.Prompts == nil {
		p, err := DefaultPrompts()
		if err != nil {
			return nil, err
		}
		deps.Prompts = p
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	if _, err := guard.ParseRating(string(deps.Guard.Policy.Rating)); err != nil {
		return nil, fmt.Errorf("npc: Deps.Guard.Policy: %w", err)
	}
	filter := guard.NewFilter(deps.Guard.Policy) // compiled once, shared by every agent
	var ids []string
	seen := make(map[string]bool, len(defs))
	for _, d := range defs {
		if err := d.Validate(); err != nil {
			return nil, fmt.Errorf("npc %q: %w", d.ID, err)
		}
		if seen[d.ID] {
			return nil, fmt.Errorf("npc %q: defined twice", d.ID)
		}
		seen[d.ID] = true
		ids = append(ids, d.ID)
	}
	sort.Strings(ids)
	root := deps.Store.Tenant("")
	// Compiled once per definition and shared by every tenant's agent:
	// they depend on the definition alone.
	guards := make(map[string]*agentGuard, len(defs))
	for _, d := range defs {
		guards[d.ID] = newAgentGuard(d, deps.Guard, filter)
	}
	build := func(tenant string) map[string]*Agent {
		td := deps
		td.Store = root.Tenant(tenant)
		agents := make(map[string]*Agent, len(defs))
		for _, d := range defs {
			agents[d.ID] = newAgent(d, td, guards[d.ID])
		}
		return agents
	}
	r := &Roster{ids: ids, build: build, tenantsMu: &sync.Mutex{}, tenants: map[string]*Roster{}}
	r.agents = build("")
	r.tenants[""] = r
	return r, nil
}

// Tenant returns the roster of tenant ("" is this default tenant's),
// creating its agents on first use (a few microseconds per NPC; their
// memories load from the store when first needed). Every call with the
// same tenant returns the same roster.
func (r *Roster) Tenant(tenant string) *Roster {
	if tenant == r.tenant {
		return r
	}
	r.tenantsMu.Lock()
	defer r.tenantsMu.Unlock()
	if t, ok := r.tenants[tenant]; ok {
		return t
	}
	t := &Roster{agents: r.build(tenant), ids: r.ids, tenant: tenant, build: r.build,
		tenantsMu: r.tenantsMu, tenants: r.tenants}
	r.tenants[tenant] = t
	return t
}

// TenantName returns the roster's tenant ("" for the default one).
func (r *Roster) TenantName() string { return r.tenant }

// Tenants returns the roster of every tenant used so far (the default
// one included), sorted by tenant: what ambient upkeep (Runtime.Maintain)
// walks.
func (r *Roster) Tenants() []*Roster {
	r.tenantsMu.Lock()
	defer r.tenantsMu.Unlock()
	out := make([]*Roster, 0, len(r.tenants))
	for _, t := range r.tenants {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].tenant < out[j].tenant })
	return out
}

// Get returns the agent with id, or an *UnknownNPCError.
func (r *Roster) Get(id string) (*Agent, error) {
	if a, ok := r.agents[id]; ok {
		return a, nil
	}
	return nil, &UnknownNPCError{ID: id, Known: r.ids}
}

// Definitions returns every NPC's definition, sorted by id.
func (r *Roster) Definitions() []Definition {
	out := make([]Definition, len(r.ids))
	for i, id := range r.ids {
		out[i] = r.agents[id].def
	}
	return out
}

// Turn is one player line addressed to an NPC, or, with Trigger set, an
// ambient bark of the NPC's own.
type Turn struct {
	PlayerID   string    // required, except for a bark ("" for a scheduled one)
	PlayerName string    // "" when the client did not say; the NPC may remember it
	Text       string    // the player's line; unused by a bark
	Seed       uint64    // per-turn seed: same seed, same reply on deterministic backends
	GameTime   time.Time // zero means now
	// Trigger, when set, makes the turn a bark: a one-liner the game asks
	// of the NPC on an occasion (TriggerProximity, TriggerSchedule, or any
	// trigger CheckTrigger accepts). A bark recalls no memory, is not
	// remembered, and says the same to every player (its request carries
	// an exact cache key over the NPC, the trigger and the lore).
	Trigger string
	// Refine, when set, asks for a better answer after the on-time one
	// (see Refinement); nil: one answer, inside the deadline.
	Refine *Refinement
}

// Reply is an agent's answer to a turn.
type Reply struct {
	inference.Result
	Prompt inference.PromptRef // template that rendered the prompt (zero for floor replies)
	// Guard is why the guardrails replaced the reply with an in-character
	// deflection (guard.ReasonInjection for the player's line,
	// guard.ReasonSecretLeak for the model's reply, …); "" when nothing
	// was blocked. See Guardrails.
	Guard guard.Reason
	// Relationship is what the NPC feels about the player after the turn,
	// the line's effect included (ClassifyLine; Remember writes it); nil
	// for a bark, and for a floor reply when the pair was not in RAM yet
	// (the floor reads no disk).
	Relationship *Relationship
	// Actions are what the NPC does with the reply, validated against its
	// allow-list and the world the host reported (ValidateActions); nil
	// for a bark and a guarded reply. DroppedActions are the actions
	// proposed (by the model or the rules) that failed, with why.
	Actions        []Action
	DroppedActions []DroppedAction
}

// Agent is one NPC able to hold conversations. Safe for concurrent use.
type Agent struct {
	def     Definition
	persona inference.Persona
	filter  lore.Filter
	deps    Deps
	memory  *memoryCache

	// names caches the last name each player gave, so the floor (which
	// must not touch the disk) can still greet a known player by name.
	namesMu sync.RWMutex
	names   map[string]string

	guard *agentGuard

	// feel is the NPC's relationships and mood (relationship.go).
	feel *feelings

	// world is the host's latest world report (action.go).
	world agentWorld
}

func newAgent(d Definition, deps Deps, g *agentGuard) *Agent {
	return &Agent{
		def: d,
		persona: inference.Persona{ID: d.ID, Name: d.Name, Role: d.Role, Traits: d.Traits,
			SpeechStyle: d.SpeechStyle, Faction: d.Faction, Home: d.Home},
		filter: d.Knowledge.Filter(),
		deps:   deps,
		memory: newMemoryCache(d.ID, deps.Store, deps.Memory),
		names:  map[string]string{},
		guard:  g,
		feel:   newFeelings(d.ID, deps.Store, d.Traits),
	}
}

// Definition returns the NPC's definition.
func (a *Agent) Definition() Definition { return a.def }

// Respond answers a turn: recall, lore search, prompt, route. It honours
// ctx's deadline through the Router, which answers with the floor when
// nothing better is ready. It does not write memory; call Remember with the
// reply the player actually received.
//
// With the guardrails on (Deps.Guard), a player's line that fails the
// input checks never reaches the model: the reply is an in-character
// deflection with Reply.Guard set. The model's reply is filtered while it
// streams and once it is done; a blocked reply is replaced by a
// deflection (the sink gets a reset and the deflection) and Reply.Guard
// says why.
//
// Reply.Relationship is the pair's state after the turn: the line's
// effect (ClassifyLine) included, though only Remember writes it; a line
// the guardrails blocked moves nothing.
//
// Reply.Actions are the turn's validated actions (see action.go); with
// Deps.ModelActions the model is asked for them, and only the text it
// says streams to sink.
func (a *Agent) Respond(ctx context.Context, t Turn, sink inference.Sink) (Reply, error) {
	asked := t.Trigger == "" && a.modelActions()
	if asked && sink != nil {
		sink = newSayFilter(sink).push
	}
	r, err := a.respond(ctx, t, sink)
	if err == nil && t.Trigger == "" {
		r.Relationship = a.relationshipAfter(t, r, false)
		a.act(t, &r, asked)
	}
	return r, err
}

// relationshipAfter is the pair's state once Remember has weighed t's
// line (nothing for a blocked line), from RAM only when cachedOnly; nil
// when it cannot tell.
func (a *Agent) relationshipAfter(t Turn, r Reply, cachedOnly bool) *Relationship {
	now := t.GameTime
	if now.IsZero() {
		now = time.Now()
	}
	line := t.Text
	if r.Guard.IsInput() {
		line = ""
	}
	rel, _, ok, err := a.feel.projected(t.PlayerID, line, now, cachedOnly)
	if err != nil || !ok {
		return nil
	}
	return &rel
}

func (a *Agent) respond(ctx context.Context, t Turn, sink inference.Sink) (Reply, error) {
	if !a.guard.off {
		return a.respondGuarded(ctx, t, sink)
	}
	req, ref, err := a.Prepare(ctx, t)
	if err != nil {
		return Reply{}, err
	}
	a.refineInto(req, ref, t)
	res, err := a.deps.Router.Generate(ctx, req, sink)
	return Reply{Result: res, Prompt: ref}, err
}

// Prepare builds the inference request for a turn: intent, recalled
// memories, knowledge-filtered lore and the rendered prompt. For a bark
// (t.Trigger set) it recalls nothing: see Turn.Trigger.
func (a *Agent) Prepare(ctx context.Context, t Turn) (*inference.Request, inference.PromptRef, error) {
	ctx, span := inference.StartSpan(ctx, inference.SpanPrepare) // a no-op unless traced
	defer span.End()
	if t.Trigger != "" {
		return a.prepareBark(ctx, t)
	}
	if t.PlayerID == "" {
		return nil, inference.PromptRef{}, errors.New("npc: turn without a player id")
	}
	now := t.GameTime
	if now.IsZero() {
		now = time.Now()
	}
	req := &inference.Request{
		Intent:     ClassifyIntent(t.Text),
		Persona:    a.persona,
		Tenant:     a.deps.Store.TenantName(),
		PlayerID:   t.PlayerID,
		PlayerName: t.PlayerName,
		UserText:   t.Text,
		Seed:       t.Seed,
		MaxTokens:  80,
	}
	if dl, ok := ctx.Deadline(); ok {
		req.BudgetMS = float64(time.Until(dl)) / 1e6
	}
	_, recall := inference.StartSpan(ctx, inference.SpanRecall)
	recent, err := a.memory.recent(t.PlayerID)
	if err != nil {
		// Memory is an enrichment: a failing disk must not silence the NPC.
		a.deps.Logger.Warn("npc: recall failed", "npc", a.def.ID, "player", t.PlayerID, "err", err)
	}
	if len(recent) > 0 {
		req.Returning = true
		for i := len(recent) - 1; i >= 0 && req.PlayerName == ""; i-- {
			req.PlayerName = recent[i].rec.PlayerName
		}
	}
	if req.PlayerName != "" {
		a.rememberName(t.PlayerID, req.PlayerName)
	}
	req.Memories = a.memory.recall(t.PlayerID, t.Text, now, recallTopK)
	recall.End()
	// Feelings, with this line weighed in: a threatened NPC answers the
	// threat warily. Like memory, they are an enrichment.
	if rel, mood, _, err := a.feel.projected(t.PlayerID, t.Text, now, false); err != nil {
		a.deps.Logger.Warn("npc: relationship load failed", "npc", a.def.ID, "player", t.PlayerID, "err", err)
	} else {
		req.Relationship = promptFeeling(rel, mood)
	}
	if req.Intent == inference.IntentDialogue {
		_, search := inference.StartSpan(ctx, inference.SpanLore)
		for _, h := range a.deps.Lore.Search(t.Text, loreTopK, a.filter) {
			req.Facts = append(req.Facts, inference.Fact{Source: h.Chunk.Source, DocPath: h.Chunk.DocPath,
				Heading: h.Chunk.Heading, Text: h.Chunk.Text, Score: h.Score})
		}
		search.End()
	}
	shareable := makeShareable(req, recent)
	_, render := inference.StartSpan(ctx, inference.SpanRender)
	defer render.End()
	text, ref, err := a.deps.Prompts.RenderFor(DialoguePrompt, t.PlayerID, promptData{
		Persona: a.def, PlayerName: req.PlayerName, Returning: req.Returning,
		UserText: t.Text, Facts: req.Facts, Memories: req.Memories,
		Feeling: req.Relationship, FeelingAbout: feelingAbout(req.PlayerName),
	})
	if err != nil {
		return nil, ref, fmt.Errorf("npc %q: %w", a.def.ID, err)
	}
	req.Prompt, req.PromptName, req.PromptHash = text, ref.String(), ref.Hash
	req.PrefixBytes = stablePrefix(text)
	if err := a.renderSmall(req, SmallDialoguePrompt, t.Text, promptData{
		Persona: a.def, PlayerName: req.PlayerName, Returning: req.Returning,
		UserText: t.Text, Memories: req.Memories,
	}); err != nil {
		return nil, ref, fmt.Errorf("npc %q: %w", a.def.ID, err)
	}
	if shareable {
		req.CacheKey = inference.ExactKey(req)
	}
	if a.modelActions() {
		a.askActions(req)
	}
	inference.TracePrepared(span, req)
	return req, ref, nil
}

// Floor answers a turn at once with the router's floor, touching neither
// the disk nor the lore index: the runtime calls it when a deadline arrives
// before a better reply. Its actions come from the rules (RuleActions),
// validated against the world in RAM.
func (a *Agent) Floor(t Turn) Reply {
	if t.Trigger != "" {
		return a.floorBark(t)
	}
	if v := a.checkInput(t); v.Blocked() {
		return a.deflection(t, v)
	}
	r := Reply{Result: a.floorLine(t)}
	r.Relationship = a.relationshipAfter(t, r, true)
	a.act(t, &r, false)
	return r
}

// floorLine is the router's floor line for a player's turn: the persona,
// the name the NPC knows the player by and whether they have met, from
// RAM only.
func (a *Agent) floorLine(t Turn) inference.Result {
	name := t.PlayerName
	returning := false
	a.namesMu.RLock()
	if known, ok := a.names[t.PlayerID]; ok {
		returning = true
		if name == "" {
			name = known
		}
	}
	a.namesMu.RUnlock()
	req := &inference.Request{Intent: ClassifyIntent(t.Text), Persona: a.persona, Tenant: a.deps.Store.TenantName(), PlayerID: t.PlayerID,
		PlayerName: name, Returning: returning, UserText: t.Text, Seed: t.Seed}
	return a.deps.Router.Floor(req)
}

// Remember appends the turn and the reply the player received to the NPC's
// memory stream for that player, in one write. It returns the store's error
// (for example a full disk); the conversation can go on without it. A
// bark (t.Trigger set) is not remembered: it writes nothing. A line the
// guardrails blocked (r.Guard an input reason) is remembered as strange
// words, not verbatim, so that recall never puts it in a later prompt.
//
// Remember also weighs the player's line into the NPC's relationship with
// the player and its mood (Hear) and writes them; a blocked line moves
// nothing. The error joins the memory's and the relationship's.
func (a *Agent) Remember(t Turn, r Reply) error {
	if t.Trigger != "" {
		return nil
	}
	now := t.GameTime
	if now.IsZero() {
		now = time.Now()
	}
	name := t.PlayerName
	if name == "" {
		a.namesMu.RLock()
		name = a.names[t.PlayerID]
		a.namesMu.RUnlock()
	} else {
		a.rememberName(t.PlayerID, name)
	}
	who := name
	if who == "" {
		who = "The stranger"
	}
	said, importance := who+" said: "+t.Text, a.memory.opts.Rater.Rate(KindDialogue, t.Text)
	if r.Guard.IsInput() {
		// The line is remembered as said, not verbatim: recalled into a
		// later prompt, the verbatim attack would reach the model after all.
		said, importance = who+" said strange words I did not follow.", 2
	}
	g := now.UnixNano()
	err := a.memory.append(t.PlayerID,
		store.MemoryRecord{PlayerName: name, Kind: KindDialogue, Speaker: "player",
			Text: said, Importance: importance, GameTime: g},
		store.MemoryRecord{PlayerName: name, Kind: KindDialogue, Speaker: "npc",
			Text: "I answered: " + r.Text, Importance: 2, GameTime: g},
	)
	if !r.Guard.IsInput() && t.PlayerID != "" {
		_, _, ferr := a.Hear(t.PlayerID, t.Text, now)
		err = errors.Join(err, ferr)
	}
	return err
}

func (a *Agent) rememberName(playerID, name string) {
	a.namesMu.RLock()
	same := a.names[playerID] == name
	a.namesMu.RUnlock()
	if !same {
		a.namesMu.Lock()
		a.names[playerID] = name
		a.namesMu.Unlock()
	}
}

type promptData struct {
	Persona    Definition
	PlayerName string
	Returning  bool
	UserText   string
	Facts      []inference.Fact
	Memories   []inference.Memory
	Occasion   string      // npc.bark: what set the bark off, in words
	Lore       []smallLore // npc.*-small: the sentences that bear on the line
	// npc.dialogue@2: the NPC's feelings about the player and its mood (nil:
	// nothing to show), and how the feeling line names the player.
	Feeling      *inference.Relationship
	FeelingAbout string
}

// feelingAbout is how the feeling line names the player: by name, or "this
// traveller" (the words the memory section uses) when the NPC does not
// know it or the request is shared between players.
func feelingAbout(name string) string {
	if name == "" {
		return "this traveller"
	}
	return name
}

// ClassifyIntent tells a greeting or a farewell from any other line by its
// opening words. Lines longer than six words are dialogue even when they
// open with "hello", so a question is never lost.
func ClassifyIntent(text string) inference.Intent {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\''
	})
	if len(words) == 0 {
		return inference.IntentGreeting
	}
	if len(words) > 6 {
		return inference.IntentDialogue
	}
	switch words[0] {
	case "hello", "hi", "hey", "greetings", "hail", "howdy", "ho":
		return inference.IntentGreeting
	case "good":
		if len(words) > 1 {
			switch words[1] {
			case "morning", "day", "evening", "afternoon", "morrow":
				return inference.IntentGreeting
			case "bye", "night":
				return inference.IntentFarewell
			}
		}
	case "well":
		if len(words) > 1 && words[1] == "met" {
			return inference.IntentGreeting
		}
	case "bye", "goodbye", "farewell":
		return inference.IntentFarewell
	case "see":
		if len(words) > 1 && words[1] == "you" {
			return inference.IntentFarewell
		}
	}
	return inference.IntentDialogue
}

// Importance rates a player line 1..10 with a keyword heuristic, the
// fallback Park et al. (2023) describe when no model rates it: threats,
// gifts and names matter more than small talk.
func Importance(text string) float64 {
	t := strings.ToLower(text)
	score := 3.0
	for _, kw := range []string{"my name is", "i am called", "call me"} {
		if strings.Contains(t, kw) {
			score += 3
		}
	}
	for _, kw := range []string{"kill", "threat", "die", "gift", "give you", "promise", "secret", "help"} {
		if strings.Contains(t, kw) {
			score += 2
		}
	}
	return math.Min(score, 10)
}

// stablePrefix is the length of a rendered npc prompt's stable part: the
// templates (npc.dialogue, npc.bark) put persona and rules first and end
// them with the first blank line; what follows (lore, memories, the line)
// changes per request. 0 when there is no blank line.
func stablePrefix(prompt string) int {
	return max(strings.Index(prompt, "\n\n"), 0)
}

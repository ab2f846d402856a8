package npc

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/inference"
)

// Actions (DESIGN §7, issue 6 part 3).
//
// An NPC's reply can carry actions for the game to carry out: give an
// item, offer a quest, move somewhere, follow someone, trade, attack, end
// the conversation. Each has typed arguments (Action). Before the game
// sees them they are validated (ValidateActions) against the NPC's
// allow-list (Definition.Actions) and against the world state the host
// last reported for the NPC (WorldState, Agent.ReportWorld): an action
// that fails is dropped, with a reason (DroppedAction), never delivered.
//
// Where actions come from:
//
//   - Deterministic rules (RuleActions), on every turn a model did not
//     choose actions for, the template floor's included: a farewell ends
//     the conversation, a threat from a player the NPC hates starts a
//     fight, a player asking to buy what the NPC sells gets a trade. They
//     are documented on RuleActions.
//   - A model, when Deps.ModelActions is on and the NPC may do more than
//     end conversations: the request then carries a JSON schema
//     (ActionSchema) for {"say": "...", "actions": [...]} and the prompt
//     lists the NPC's allowed actions and what it holds. The embedded
//     model enforces the schema by constrained decoding; the text of "say"
//     is what the player is shown and streamed. It is off by default:
//     the shipped embedded model was not trained to answer in JSON, and
//     its free-text replies are better. A reply that is not such a JSON
//     object (the floor, a backend that ignored the schema) is free text,
//     and the rules choose.

// ActionKind names what an action does.
type ActionKind string

// Action kinds and their arguments (Action's fields; the others are
// ignored and cleared).
const (
	// ActionGiveItem: give Count (0 means 1) of Item to the player. The NPC
	// must hold that many.
	ActionGiveItem ActionKind = "give_item"
	// ActionOfferQuest: offer Quest, an id the host reported as
	// offerable by this NPC (WorldState.Quests).
	ActionOfferQuest ActionKind = "offer_quest"
	// ActionMoveTo: walk to Location, a place id the host reported
	// (WorldState.Locations).
	ActionMoveTo ActionKind = "move_to"
	// ActionFollow: follow Target, an entity present (WorldState.Present,
	// or the player the NPC answers).
	ActionFollow ActionKind = "follow"
	// ActionTrade: offer Item for Price (in the game's smallest coin,
	// positive). The NPC must hold at least one.
	ActionTrade ActionKind = "trade"
	// ActionAttack: attack Target, an entity present, as for follow.
	ActionAttack ActionKind = "attack"
	// ActionEndConversation: the NPC ends the conversation. No arguments.
	ActionEndConversation ActionKind = "end_conversation"
)

// ActionKinds lists every kind, in a fixed order (the schema's enum order).
var ActionKinds = []ActionKind{ActionGiveItem, ActionOfferQuest, ActionMoveTo, ActionFollow,
	ActionTrade, ActionAttack, ActionEndConversation}

// DefaultActions is the allow-list of an NPC whose definition has no
// actions key: ending a conversation changes nothing in the world, so
// every NPC may do it; anything that does (items, quests, movement,
// fights) a studio grants per NPC.
var DefaultActions = []ActionKind{ActionEndConversation}

// Bounds on actions, for models and the wire alike.
const (
	// MaxActions is how many actions one reply may carry; more are dropped.
	MaxActions = 4
	// MaxActionArgBytes bounds each string argument (an id).
	MaxActionArgBytes = 128
	// MaxActionCount bounds give_item's Count.
	MaxActionCount = 999
	// MaxActionPrice bounds trade's Price.
	MaxActionPrice = 1_000_000
)

// Known reports whether k is one of ActionKinds.
func (k ActionKind) Known() bool {
	for _, x := range ActionKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Action is one thing an NPC does, with the arguments its Kind takes
// (see the ActionKind constants).
type Action struct {
	Kind     ActionKind `json:"kind"`
	Item     string     `json:"item,omitempty"`     // give_item, trade: item id
	Count    int        `json:"count,omitempty"`    // give_item: how many (0: 1)
	Price    int        `json:"price,omitempty"`    // trade: asking price in the smallest coin
	Quest    string     `json:"quest,omitempty"`    // offer_quest: quest id
	Location string     `json:"location,omitempty"` // move_to: place id
	Target   string     `json:"target,omitempty"`   // follow, attack: entity id (a player's or an NPC's)
}

// String renders a for logs, e.g. "trade(item=ale, price=2)".
func (a Action) String() string {
	var args []string
	add := func(k, v string) {
		if v != "" {
			args = append(args, k+"="+v)
		}
	}
	add("item", a.Item)
	if a.Count != 0 {
		add("count", strconv.Itoa(a.Count))
	}
	if a.Price != 0 {
		add("price", strconv.Itoa(a.Price))
	}
	add("quest", a.Quest)
	add("location", a.Location)
	add("target", a.Target)
	return string(a.Kind) + "(" + strings.Join(args, ", ") + ")"
}

// normalized keeps only the arguments a's kind takes, and gives
// give_item's Count its default of 1.
func (a Action) normalized() Action {
	out := Action{Kind: a.Kind}
	switch a.Kind {
	case ActionGiveItem:
		out.Item, out.Count = a.Item, a.Count
		if out.Count == 0 {
			out.Count = 1
		}
	case ActionTrade:
		out.Item, out.Price = a.Item, a.Price
	case ActionOfferQuest:
		out.Quest = a.Quest
	case ActionMoveTo:
		out.Location = a.Location
	case ActionFollow, ActionAttack:
		out.Target = a.Target
	}
	return out
}

// DroppedAction is an action that failed validation, with why.
type DroppedAction struct {
	Action Action
	// Reason says why, in words for the host's logs, e.g. `item "ale":
	// holds 0, needs 1`.
	Reason string
}

// Stock is an item an NPC holds.
type Stock struct {
	Item  string // item id, e.g. "ale"
	Name  string // optional words players use for it, e.g. "mug of ale"; the rules match them
	Count int    // how many the NPC holds
	Price int    // the NPC's asking price in the smallest coin; 0: not for sale
}

// WorldState is what the host reports of the world around one NPC, the
// facts actions are validated against. The latest report replaces the
// previous one whole (Agent.ReportWorld).
type WorldState struct {
	Items     []Stock  // items the NPC holds
	Locations []string // place ids the NPC can reach (move_to)
	Present   []string // entity ids near the NPC (follow, attack); the player it answers always counts
	Quests    []string // quest ids the NPC may offer now (offer_quest)
}

func (w *WorldState) stock(item string) (Stock, bool) {
	for _, s := range w.Items {
		if s.Item == item {
			return s, true
		}
	}
	return Stock{}, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// AllowedActions returns the NPC's allow-list: Actions, or DefaultActions
// when the definition has no actions key. An explicit empty list
// (actions: []) allows nothing.
func (d Definition) AllowedActions() []ActionKind {
	if d.Actions == nil {
		return DefaultActions
	}
	return d.Actions
}

// Allows reports whether the NPC's allow-list has k.
func (d Definition) Allows(k ActionKind) bool {
	for _, x := range d.AllowedActions() {
		if x == k {
			return true
		}
	}
	return false
}

// validateActionList checks Definition.Actions: known kinds, no repeats.
func validateActionList(kinds []ActionKind) error {
	seen := map[ActionKind]bool{}
	for _, k := range kinds {
		if !k.Known() {
			names := make([]string, len(ActionKinds))
			for i, x := range ActionKinds {
				names[i] = string(x)
			}
			return fmt.Errorf("actions: %q is not one of %s", k, strings.Join(names, ", "))
		}
		if seen[k] {
			return fmt.Errorf("actions: %q listed twice", k)
		}
		seen[k] = true
	}
	return nil
}

// ValidateActions checks actions, in order, against def's allow-list and
// world; world nil means the host has reported nothing, so only actions
// that need no world facts (end_conversation) can pass. It returns the
// actions that passed, normalised (arguments their kind does not take
// cleared, give_item's Count 0 made 1), and those dropped, each with its
// reason. The checks:
//
//   - the kind is known and in the allow-list (Definition.AllowedActions);
//   - at most MaxActions actions, no exact repeat;
//   - string arguments are present where the kind needs them, valid
//     UTF-8, at most MaxActionArgBytes;
//   - give_item: 1..MaxActionCount items the NPC holds that many of,
//     counting what earlier actions of the reply already give or sell;
//   - trade: an item the NPC holds, a price in 1..MaxActionPrice;
//   - offer_quest: a quest in world.Quests;
//   - move_to: a location in world.Locations;
//   - follow, attack: a target in world.Present, never the NPC itself.
//
// It never fails as a whole and does not modify world.
func ValidateActions(def Definition, world *WorldState, actions []Action) (kept []Action, dropped []DroppedAction) {
	used := map[string]int{} // items given or sold by earlier kept actions
	for i, a := range actions {
		a = a.normalized()
		reason := ""
		switch {
		case i >= MaxActions:
			reason = fmt.Sprintf("more than %d actions in one reply", MaxActions)
		case !a.Kind.Known():
			reason = fmt.Sprintf("unknown action kind %q", cut(string(a.Kind)))
		case !def.Allows(a.Kind):
			reason = fmt.Sprintf("action %s is not allowed for npc %q", a.Kind, def.ID)
		default:
			reason = checkAction(def, world, a, used)
		}
		if reason == "" {
			for _, k := range kept {
				if k == a {
					reason = "repeats an earlier action"
					break
				}
			}
		}
		if reason != "" {
			dropped = append(dropped, DroppedAction{Action: a, Reason: reason})
			continue
		}
		switch a.Kind {
		case ActionGiveItem:
			used[a.Item] += a.Count
		case ActionTrade:
			used[a.Item]++
		}
		kept = append(kept, a)
	}
	return kept, dropped
}

// checkAction is ValidateActions' argument and world check of one allowed
// action; "" when it passes.
func checkAction(def Definition, world *WorldState, a Action, used map[string]int) string {
	arg := func(name, v string) string {
		switch {
		case v == "":
			return fmt.Sprintf("%s: %s is required", a.Kind, name)
		case len(v) > MaxActionArgBytes:
			return fmt.Sprintf("%s: %s is %d bytes; the limit is %d", a.Kind, name, len(v), MaxActionArgBytes)
		case !utf8.ValidString(v):
			return fmt.Sprintf("%s: %s is not valid UTF-8", a.Kind, name)
		}
		return ""
	}
	noWorld := fmt.Sprintf("%s: no world state reported for npc %q", a.Kind, def.ID)
	switch a.Kind {
	case ActionGiveItem, ActionTrade:
		if r := arg("item", a.Item); r != "" {
			return r
		}
		need := 1
		if a.Kind == ActionGiveItem {
			if a.Count < 1 || a.Count > MaxActionCount {
				return fmt.Sprintf("give_item: count %d is outside 1..%d", a.Count, MaxActionCount)
			}
			need = a.Count
		} else if a.Price < 1 || a.Price > MaxActionPrice {
			return fmt.Sprintf("trade: price %d is outside 1..%d", a.Price, MaxActionPrice)
		}
		if world == nil {
			return noWorld
		}
		s, _ := world.stock(a.Item)
		if have := s.Count - used[a.Item]; have < need {
			return fmt.Sprintf("%s: item %q: holds %d, needs %d", a.Kind, a.Item, max(have, 0), need)
		}
	case ActionOfferQuest:
		if r := arg("quest", a.Quest); r != "" {
			return r
		}
		if world == nil {
			return noWorld
		}
		if !contains(world.Quests, a.Quest) {
			return fmt.Sprintf("offer_quest: quest %q is not offerable by npc %q", a.Quest, def.ID)
		}
	case ActionMoveTo:
		if r := arg("location", a.Location); r != "" {
			return r
		}
		if world == nil {
			return noWorld
		}
		if !contains(world.Locations, a.Location) {
			return fmt.Sprintf("move_to: location %q is not known or not reachable", a.Location)
		}
	case ActionFollow, ActionAttack:
		if r := arg("target", a.Target); r != "" {
			return r
		}
		if a.Target == def.ID {
			return fmt.Sprintf("%s: target is the npc itself", a.Kind)
		}
		if world == nil {
			return noWorld
		}
		if !contains(world.Present, a.Target) {
			return fmt.Sprintf("%s: target %q is not present", a.Kind, a.Target)
		}
	}
	return ""
}

// cut shortens s to MaxActionArgBytes bytes (on a rune boundary) for a
// reason string.
func cut(s string) string {
	if len(s) <= MaxActionArgBytes {
		return s
	}
	i := MaxActionArgBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// agentWorld holds an agent's latest world report.
type agentWorld struct {
	p atomic.Pointer[WorldState]
}

// ReportWorld replaces what the NPC knows of the world around it (see
// WorldState): later turns validate actions against it. It never blocks
// and copies nothing but the pointer: the caller must not modify w's
// slices afterwards. Safe for concurrent use; the latest report wins.
func (a *Agent) ReportWorld(w WorldState) {
	a.world.p.Store(&w)
}

// World returns the NPC's latest world report, and false when the host
// has reported none.
func (a *Agent) World() (WorldState, bool) {
	if w := a.world.p.Load(); w != nil {
		return *w, true
	}
	return WorldState{}, false
}

// worldFor is the world a turn with playerID is validated against: the
// host's report with the player added to Present (a player talking to the
// NPC is there). nil when the host reported nothing.
func (a *Agent) worldFor(playerID string) *WorldState {
	w := a.world.p.Load()
	if w == nil {
		return nil
	}
	c := *w
	if playerID != "" && !contains(c.Present, playerID) {
		c.Present = append(append(make([]string, 0, len(c.Present)+1), c.Present...), playerID)
	}
	return &c
}

// modelActions reports whether the agent asks models for actions: only
// when Deps.ModelActions is on and the NPC may do more than end a
// conversation (ending one the rules do well).
func (a *Agent) modelActions() bool {
	if !a.deps.ModelActions {
		return false
	}
	for _, k := range a.def.AllowedActions() {
		if k != ActionEndConversation {
			return true
		}
	}
	return false
}

// ActionSchema returns the JSON schema a model's reply follows when actions
// are asked of it: {"say": text, "actions": [action, ...]}, the kinds
// limited to allowed, each argument optional (ValidateActions checks what
// a kind needs). It stays within the subset the embedded model's
// constrained decoder compiles (inference/embedded/constrain): no oneOf,
// members in a fixed order.
func ActionSchema(allowed []ActionKind) []byte {
	kinds := make([]string, len(allowed))
	for i, k := range allowed {
		kinds[i] = string(k)
	}
	enum, _ := json.Marshal(kinds)
	id := `{"type":"string","minLength":1,"maxLength":` + strconv.Itoa(MaxActionArgBytes) + `}`
	return []byte(`{"type":"object","properties":{` +
		`"say":{"type":"string","minLength":1,"maxLength":400},` +
		`"actions":{"type":"array","maxItems":` + strconv.Itoa(MaxActions) + `,"items":{"type":"object","properties":{` +
		`"kind":{"type":"string","enum":` + string(enum) + `},` +
		`"item":` + id + `,` +
		`"count":{"type":"integer","minimum":1,"maximum":` + strconv.Itoa(MaxActionCount) + `},` +
		`"price":{"type":"integer","minimum":1,"maximum":` + strconv.Itoa(MaxActionPrice) + `},` +
		`"quest":` + id + `,"location":` + id + `,"target":` + id +
		`},"required":["kind"],"additionalProperties":false}}` +
		`},"required":["say"],"additionalProperties":false}`)
}

// actionSection is what the dialogue prompt gains when actions are asked
// of a model: the allowed kinds with their arguments, the world facts
// they may name, and the answer format.
func (a *Agent) actionSection(playerID string) string {
	var b strings.Builder
	b.WriteString("Actions you may take, besides speaking (at most one or two, only when the moment calls for it):")
	for _, k := range a.def.AllowedActions() {
		b.WriteString("\n- ")
		b.WriteString(actionHelp[k])
	}
	if w := a.worldFor(playerID); w != nil {
		if len(w.Items) > 0 {
			b.WriteString("\nYou hold:")
			for _, s := range w.Items {
				fmt.Fprintf(&b, " %s x%d", s.Item, s.Count)
				if s.Price > 0 {
					fmt.Fprintf(&b, " (price %d)", s.Price)
				}
				b.WriteString(";")
			}
		}
		if len(w.Quests) > 0 {
			b.WriteString("\nQuests you may offer: " + strings.Join(w.Quests, ", "))
		}
		if len(w.Locations) > 0 {
			b.WriteString("\nPlaces you can go: " + strings.Join(w.Locations, ", "))
		}
		b.WriteString("\nWho is here: " + strings.Join(w.Present, ", "))
	}
	b.WriteString("\nAnswer with JSON only: {\"say\":\"your words\",\"actions\":[{\"kind\":\"...\", ...}]}; leave actions empty when you only speak.")
	return b.String()
}

var actionHelp = map[ActionKind]string{
	ActionGiveItem:        `give_item {"item": id, "count": n}: hand the traveller something you hold`,
	ActionOfferQuest:      `offer_quest {"quest": id}: offer one of your quests`,
	ActionMoveTo:          `move_to {"location": id}: walk somewhere`,
	ActionFollow:          `follow {"target": id}: go along with someone`,
	ActionTrade:           `trade {"item": id, "price": n}: offer something you hold for a price`,
	ActionAttack:          `attack {"target": id}: fight someone (only when truly provoked)`,
	ActionEndConversation: `end_conversation {}: end the conversation`,
}

// actionMaxTokens is the reply length cap, in tokens, of a request that
// asks for actions.
const actionMaxTokens = 160

// askActions makes req ask the model for actions (ActionSchema, and the
// action section in the prompt before the player's line). The cache key,
// when set, gains a hash of the section, since the world it shows is not
// in inference.ExactKey.
func (a *Agent) askActions(req *inference.Request) {
	sec := a.actionSection(req.PlayerID)
	req.ResponseSchema = ActionSchema(a.def.AllowedActions())
	// The JSON around the words costs tokens: room for a reply of the
	// usual length and an action or two. A reply cut short anyway keeps
	// its words (ParseModelReply).
	req.MaxTokens = max(req.MaxTokens, actionMaxTokens)
	if i := strings.LastIndex(req.Prompt, "\n\n"); i >= 0 {
		req.Prompt = req.Prompt[:i] + "\n\n" + sec + req.Prompt[i:]
	} else {
		req.Prompt += "\n\n" + sec
	}
	if req.CacheKey != "" {
		h := fnv.New64a()
		h.Write([]byte(sec))
		req.CacheKey += "-a" + strconv.FormatUint(h.Sum64(), 16)
	}
}

// ParseModelReply reads a model's reply to a request that asked for
// actions. A reply that is a JSON object with a "say" string gives the
// text to show and the actions, each typed per Action; an action with a
// wrongly typed argument is dropped with the reason. A reply that opens
// like one but does not parse (cut short, malformed) keeps what "say"
// held, if anything, and drops the actions with the reason. Anything else
// is free text: ok is false and the caller falls back to the rules.
func ParseModelReply(text string) (say string, actions []Action, dropped []DroppedAction, ok bool) {
	s := unfence(strings.TrimSpace(text))
	if !strings.HasPrefix(s, "{") {
		return text, nil, nil, false
	}
	var doc struct {
		Say     *string           `json:"say"`
		Actions []json.RawMessage `json:"actions"`
	}
	if err := json.Unmarshal([]byte(s), &doc); err != nil || doc.Say == nil {
		say, found := extractSay(s)
		if !found {
			return text, nil, nil, false
		}
		why := "malformed action output"
		if err != nil {
			why += ": " + err.Error()
		} else {
			why += ": no say"
		}
		return say, nil, []DroppedAction{{Reason: why}}, true
	}
	for _, raw := range doc.Actions {
		a, err := decodeAction(raw)
		if err != nil {
			dropped = append(dropped, DroppedAction{Action: a, Reason: "malformed action: " + err.Error()})
			continue
		}
		actions = append(actions, a)
	}
	return *doc.Say, actions, dropped, true
}

// unfence removes a Markdown code fence (```json … ```) around s: chat
// models that were asked for JSON in the prompt but not held to a schema
// often add one.
func unfence(s string) string {
	if !strings.HasPrefix(s, "```") {
		return s
	}
	s = strings.TrimPrefix(s, "```")
	s = strings.TrimPrefix(s, "json")
	s = strings.TrimSuffix(strings.TrimSpace(s), "```")
	return strings.TrimSpace(s)
}

// decodeAction decodes one action object, argument by argument, so the
// error names the argument with the wrong type.
func decodeAction(raw json.RawMessage) (Action, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Action{}, fmt.Errorf("not an object")
	}
	var a Action
	str := func(k string, dst *string) error {
		if v, ok := fields[k]; ok && string(v) != "null" {
			if err := json.Unmarshal(v, dst); err != nil {
				return fmt.Errorf("%s: want a string", k)
			}
		}
		return nil
	}
	num := func(k string, dst *int) error {
		if v, ok := fields[k]; ok && string(v) != "null" {
			var n json.Number
			if err := json.Unmarshal(v, &n); err != nil {
				return fmt.Errorf("%s: want an integer", k)
			}
			i, err := strconv.ParseInt(string(n), 10, 32)
			if err != nil {
				return fmt.Errorf("%s: want an integer, got %s", k, cut(string(n)))
			}
			*dst = int(i)
		}
		return nil
	}
	var kind string
	if err := str("kind", &kind); err != nil {
		return a, err
	}
	a.Kind = ActionKind(kind)
	for _, err := range []error{str("item", &a.Item), num("count", &a.Count), num("price", &a.Price),
		str("quest", &a.Quest), str("location", &a.Location), str("target", &a.Target)} {
		if err != nil {
			return a, err
		}
	}
	if a.Kind == "" {
		return a, fmt.Errorf("kind is required")
	}
	return a, nil
}

// extractSay decodes the "say" string of a JSON reply that may be cut
// short: found is false when s has no "say" member (yet). It is the final
// form of sayFilter's streaming decode.
func extractSay(s string) (string, bool) {
	f := &sayFilter{}
	var b strings.Builder
	f.next = func(d inference.Delta) { b.WriteString(d.Text) }
	f.push(inference.Delta{Text: s})
	return b.String(), f.state >= sayIn
}

// sayFilter states.
const (
	sayWait   = iota // before the "say" member's opening quote
	sayIn            // inside the say string
	sayDone          // after its closing quote: swallow the rest
	sayPlain         // the reply is not JSON: pass everything through
	sayUndone        // nothing received since the last reset
)

// sayFilter streams only the text of the "say" member of a JSON reply to
// next, decoded (escapes resolved), so the player sees words, not JSON.
// A reply (or a fallback after a reset) that does not open with '{' (or a
// code fence) is passed through as is. What it streams is a preview: the
// final text (ParseModelReply) is authoritative, as for any reply.
type sayFilter struct {
	next inference.Sink

	// mu orders pushes: the Router may start a fallback's stream (a
	// reset) while an abandoned backend's goroutine is still pushing.
	mu    sync.Mutex
	state int
	buf   []byte // undecided bytes: a key being read, a partial escape
}

func newSayFilter(next inference.Sink) *sayFilter {
	return &sayFilter{next: next, state: sayUndone}
}

func (f *sayFilter) push(d inference.Delta) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if d.Reset {
		f.state, f.buf = sayUndone, f.buf[:0]
		f.next(inference.Delta{Reset: true})
	}
	text := d.Text
	if f.state == sayUndone {
		t := strings.TrimLeftFunc(text, unicode.IsSpace)
		if t == "" {
			return
		}
		if t[0] == '{' || t[0] == '`' { // a JSON object, or one in a code fence
			f.state = sayWait
		} else {
			f.state = sayPlain
		}
	}
	var out strings.Builder
	switch f.state {
	case sayPlain:
		out.WriteString(text)
	case sayWait, sayIn:
		f.buf = append(f.buf, text...)
		f.scan(&out)
	}
	if out.Len() > 0 && f.next != nil {
		f.next(inference.Delta{Text: out.String()})
	}
}

// scan consumes f.buf as far as it can decide.
func (f *sayFilter) scan(out *strings.Builder) {
	b := f.buf
	if f.state == sayWait {
		// The compact form the constrained decoder writes is {"say":"…;
		// other servers may add spaces.
		i := strings.Index(string(b), `"say"`)
		if i < 0 {
			return
		}
		j := i + len(`"say"`)
		for j < len(b) && (b[j] == ' ' || b[j] == ':' || b[j] == '\n' || b[j] == '\t' || b[j] == '\r') {
			j++
		}
		if j >= len(b) {
			return
		}
		if b[j] != '"' {
			f.state = sayDone
			f.buf = b[:0]
			return
		}
		f.state = sayIn
		b = b[j+1:]
	}
	i := 0
	for i < len(b) {
		c := b[i]
		if c == '"' {
			f.state = sayDone
			f.buf = f.buf[:0]
			return
		}
		if c != '\\' {
			j := i
			for j < len(b) && b[j] != '"' && b[j] != '\\' {
				j++
			}
			// Never split a UTF-8 sequence across deltas.
			k := j
			if j == len(b) {
				if ls := i + lastRuneStart(b[i:j]); !utf8.FullRune(b[ls:j]) {
					k = ls
				}
			}
			out.Write(b[i:k])
			i = k
			if k < j {
				break
			}
			continue
		}
		if i+1 >= len(b) {
			break
		}
		switch b[i+1] {
		case 'n':
			out.WriteByte('\n')
		case 't':
			out.WriteByte('\t')
		case 'r', 'b', 'f':
		case 'u':
			if i+6 > len(b) {
				goto keep
			}
			if n, err := strconv.ParseUint(string(b[i+2:i+6]), 16, 32); err == nil {
				r := rune(n)
				if utf16Surrogate(r) {
					// A pair: \uD83D\uDE00.
					if i+12 > len(b) {
						goto keep
					}
					if lo, err := strconv.ParseUint(string(b[i+8:i+12]), 16, 32); err == nil && b[i+6] == '\\' {
						r = (r-0xD800)<<10 + (rune(lo) - 0xDC00) + 0x10000
						i += 6
					}
				}
				out.WriteRune(r)
			}
			i += 6
			continue
		default: // '"', '\\', '/'
			out.WriteByte(b[i+1])
		}
		i += 2
	}
keep:
	f.buf = append(f.buf[:0], b[i:]...)
}

func utf16Surrogate(r rune) bool { return r >= 0xD800 && r < 0xDC00 }

// lastRuneStart is the index of the last rune start in b (0 if none).
func lastRuneStart(b []byte) int {
	for i := len(b) - 1; i >= 0; i-- {
		if utf8.RuneStart(b[i]) {
			return i
		}
	}
	return 0
}

// Thresholds of the rules (RuleActions), on the NPC's affinity toward the
// player after the line.
const (
	// HostileAffinity: below it a threat is answered with an attack.
	HostileAffinity = -0.6
	// FriendlyAffinity: from it the NPC gives what it is asked for.
	FriendlyAffinity = 0.6
	// WillingAffinity: from it the NPC follows the player or goes where
	// asked.
	WillingAffinity = 0.3
	// GrudgeAffinity: below it the NPC offers no quests.
	GrudgeAffinity = -0.3
)

// Cues of the rules, matched as whole words in the lower-cased line.
var (
	buyCues    = []string{"buy", "purchase", "how much", "what price", "sell me", "i'll take", "i will take", "cost"}
	askCues    = []string{"give me", "can i have", "may i have", "could i have", "spare", "lend me"}
	workCues   = []string{"work", "quest", "task", "job", "errand", "help you", "need help", "need a hand"}
	followCues = []string{"follow me", "come with me", "come along", "walk with me"}
	moveCues   = []string{"go to", "meet me at", "meet me in", "head to", "wait at", "wait for me at"}
)

// RuleActions is the deterministic action rules, for turns a model did not
// choose actions for (the template floor's included). At most one action,
// the first rule that applies, and only of a kind def allows; rel is the
// NPC's feeling toward the player after the line (nil: neutral), world
// the host's report (nil: none, so only rules 1 and 2 can apply). The
// result is still validated (ValidateActions). In order:
//
//  1. A threat (ClassifyLine) from a player the NPC hates (affinity below
//     HostileAffinity) → attack the player; from anyone else →
//     end_conversation.
//  2. A farewell (ClassifyIntent) → end_conversation.
//  3. A line with a buying cue ("buy", "how much", "sell me", …) naming
//     an item the NPC holds at a price (Stock.Price > 0) → trade it at
//     that price.
//  4. A line asking for an item ("give me", "can I have", "spare", …) the
//     NPC holds, from a player it likes (affinity at least
//     FriendlyAffinity) → give_item, one.
//  5. A line asking for work ("work", "quest", "task", "job", …) when the
//     NPC has a quest to offer and no grudge (affinity at least
//     GrudgeAffinity) → offer_quest, the first of WorldState.Quests.
//  6. "Follow me", "come with me", … from a player it is willing to help
//     (affinity at least WillingAffinity) → follow the player.
//  7. "Go to", "meet me at", … naming a place the NPC can reach, from a
//     willing player → move_to that place.
//
// Items and places are named by their id with '-' and '_' read as spaces
// ("iron-nails" is "iron nails"), by Stock.Name, or by either with an "s"
// added.
func RuleActions(def Definition, world *WorldState, t Turn, rel *Relationship) []Action {
	affinity := 0.0
	if rel != nil {
		affinity = rel.Affinity
	}
	line := " " + strings.Join(strings.FieldsFunc(strings.ToLower(t.Text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}), " ") + " "
	has := func(cues []string) bool {
		for _, c := range cues {
			if strings.Contains(line, " "+c+" ") {
				return true
			}
		}
		return false
	}
	one := func(a Action) []Action {
		if !def.Allows(a.Kind) {
			return nil
		}
		return []Action{a}
	}
	if ClassifyLine(t.Text) == SaidThreat {
		if affinity < HostileAffinity && def.Allows(ActionAttack) && t.PlayerID != "" {
			return []Action{{Kind: ActionAttack, Target: t.PlayerID}}
		}
		return one(Action{Kind: ActionEndConversation})
	}
	if ClassifyIntent(t.Text) == inference.IntentFarewell {
		return one(Action{Kind: ActionEndConversation})
	}
	if world == nil {
		return nil
	}
	if def.Allows(ActionTrade) && has(buyCues) {
		for _, s := range world.Items {
			if s.Price > 0 && s.Count > 0 && names(line, s.Item, s.Name) {
				return []Action{{Kind: ActionTrade, Item: s.Item, Price: s.Price}}
			}
		}
	}
	if def.Allows(ActionGiveItem) && affinity >= FriendlyAffinity && has(askCues) {
		for _, s := range world.Items {
			if s.Count > 0 && names(line, s.Item, s.Name) {
				return []Action{{Kind: ActionGiveItem, Item: s.Item, Count: 1}}
			}
		}
	}
	if def.Allows(ActionOfferQuest) && affinity >= GrudgeAffinity && len(world.Quests) > 0 && has(workCues) {
		return []Action{{Kind: ActionOfferQuest, Quest: world.Quests[0]}}
	}
	if affinity >= WillingAffinity && t.PlayerID != "" && def.Allows(ActionFollow) && has(followCues) {
		return []Action{{Kind: ActionFollow, Target: t.PlayerID}}
	}
	if affinity >= WillingAffinity && def.Allows(ActionMoveTo) && has(moveCues) {
		for _, l := range world.Locations {
			if names(line, l, "") {
				return []Action{{Kind: ActionMoveTo, Location: l}}
			}
		}
	}
	return nil
}

// names reports whether line (lower-cased words, space-padded) names the
// thing with id or name.
func names(line, id, name string) bool {
	for _, n := range []string{strings.NewReplacer("-", " ", "_", " ").Replace(id), name} {
		n = strings.Join(strings.Fields(strings.ToLower(n)), " ")
		if n != "" && (strings.Contains(line, " "+n+" ") || strings.Contains(line, " "+n+"s ")) {
			return true
		}
	}
	return false
}

// act sets r.Actions and r.DroppedActions for turn t. When the model was
// asked for actions and answered in their JSON form, its actions are
// proposed and r.Text becomes what it said; otherwise the rules
// (RuleActions) propose. Either way ValidateActions decides. A reply the
// guardrails replaced carries no actions: the model's choice went with its
// words.
func (a *Agent) act(t Turn, r *Reply, asked bool) {
	if t.Trigger != "" || r.Guard != "" {
		return
	}
	var proposed []Action
	fromModel := false
	if asked {
		if say, acts, bad, ok := ParseModelReply(r.Text); ok {
			fromModel = true
			proposed, r.DroppedActions = acts, bad
			r.Text = say
			if strings.TrimSpace(say) == "" {
				// A reply with actions but nothing said: the player still
				// gets a line.
				r.Text = a.floorLine(t).Text
			}
		}
	}
	if !fromModel {
		proposed = RuleActions(a.def, a.world.p.Load(), t, r.Relationship)
	}
	if len(proposed) > 0 {
		kept, dropped := ValidateActions(a.def, a.worldFor(t.PlayerID), proposed)
		r.Actions = kept
		r.DroppedActions = append(r.DroppedActions, dropped...)
	}
	for _, d := range r.DroppedActions {
		a.deps.Logger.Info("npc: action dropped", "npc", a.def.ID, "player", t.PlayerID,
			"action", d.Action.String(), "reason", d.Reason)
	}
}

package protocol

import (
	"strconv"
	"unicode/utf8"
)

// Message is implemented by every payload type of this package. Type returns
// the envelope type the payload travels under.
type Message interface {
	Type() string
}

// Validator is implemented by client→server payloads, and by the
// server→client quest payloads, whose arrays have documented bounds.
// [Frame.Decode] calls Validate after decoding into a Validator, so a server
// gets a [CodeBadRequest] error naming the field instead of a zero-valued
// payload (and a client one instead of an oversized quest).
type Validator interface {
	Validate() error
}

// Hello opens a session; it must be the client's first message (ping is also
// allowed before it). The server answers with [Welcome].
type Hello struct {
	// PlayerID identifies the player to NPC memory and relationships. Required,
	// 1..[MaxIDBytes] bytes.
	PlayerID string `json:"player_id" msgpack:"player_id"`
	// PlayerName is how NPCs address the player. Optional, up to
	// [MaxNameBytes] bytes.
	PlayerName string `json:"player_name,omitempty" msgpack:"player_name,omitempty"`
	// Client names the client software, e.g. "mygame/1.2 (Godot)". Optional,
	// up to [MaxNameBytes] bytes; for logs only.
	Client string `json:"client,omitempty" msgpack:"client,omitempty"`
}

// Type returns [TypeHello].
func (Hello) Type() string { return TypeHello }

// Validate checks the limits documented on the fields.
func (m Hello) Validate() error {
	if err := checkString("hello.player_id", m.PlayerID, 1, MaxIDBytes); err != nil {
		return err
	}
	if err := checkString("hello.player_name", m.PlayerName, 0, MaxNameBytes); err != nil {
		return err
	}
	return checkString("hello.client", m.Client, 0, MaxNameBytes)
}

// Talk is a player's line to an NPC. The server answers with zero or more
// [DialogueDelta] and then one [DialogueDone], all echoing the talk's id, or
// with one error frame echoing it.
type Talk struct {
	// NPCID names the NPC, as listed in [Welcome.NPCs]. Required,
	// 1..[MaxIDBytes] bytes.
	NPCID string `json:"npc_id" msgpack:"npc_id"`
	// Text is what the player says. Required, 1..[MaxTalkTextBytes] bytes.
	Text string `json:"text" msgpack:"text"`
	// BudgetMS is the latency budget in milliseconds, from the server's
	// receipt of the talk to the reply being ready. 0 means the server's
	// default ([Welcome.BudgetMS]); a server may clamp it, and
	// [DialogueDone.BudgetMS] reports the budget applied.
	BudgetMS uint32 `json:"budget_ms,omitempty" msgpack:"budget_ms,omitempty"`
	// Refine asks for "answer now, refine later": the done comes within
	// the budget as always, and when a better backend (a remote large
	// model) could not make the budget, [DialogueDone.Refining] is set and
	// one [DialogueRefine] follows with its answer (or why there is none),
	// within the server's refinement budget (5 s by default).
	Refine bool `json:"refine,omitempty" msgpack:"refine,omitempty"`
}

// Type returns [TypeTalk].
func (Talk) Type() string { return TypeTalk }

// Validate checks the limits documented on the fields.
func (m Talk) Validate() error {
	if err := checkString("talk.npc_id", m.NPCID, 1, MaxIDBytes); err != nil {
		return err
	}
	return checkString("talk.text", m.Text, 1, MaxTalkTextBytes)
}

// Ping asks the server for a [Pong] echoing TMS.
type Ping struct {
	// TMS is the client's clock in milliseconds (any epoch); echoed unchanged.
	TMS int64 `json:"t_ms" msgpack:"t_ms"`
}

// Type returns [TypePing].
func (Ping) Type() string { return TypePing }

// Validate always succeeds: every t_ms is valid. It exists so all
// client→server payloads are Validators.
func (Ping) Validate() error { return nil }

// Welcome answers [Hello].
type Welcome struct {
	// Session is the server's id for this connection (for logs and support).
	Session string `json:"session" msgpack:"session"`
	// Server names the server software and version, e.g. "hearth/0.1".
	Server string `json:"server" msgpack:"server"`
	// TickHz is the server's tick rate. Dialogue results are delivered at tick
	// boundaries, every 1000/TickHz ms.
	TickHz uint32 `json:"tick_hz" msgpack:"tick_hz"`
	// BudgetMS is the default latency budget applied to a talk whose
	// budget_ms is 0.
	BudgetMS uint32 `json:"budget_ms" msgpack:"budget_ms"`
	// NPCs lists the NPCs a client may talk to. Never nil on the wire (an
	// empty array when there are none).
	NPCs []NPCInfo `json:"npcs" msgpack:"npcs"`
}

// Type returns [TypeWelcome].
func (Welcome) Type() string { return TypeWelcome }

// NPCInfo describes one NPC in [Welcome].
type NPCInfo struct {
	// ID is the value to put in [Talk.NPCID].
	ID string `json:"id" msgpack:"id"`
	// Name is the NPC's display name.
	Name string `json:"name" msgpack:"name"`
	// Role is a short description, e.g. "blacksmith".
	Role string `json:"role" msgpack:"role"`
}

// DialogueDelta streams part of an NPC's reply to a talk, before its
// [DialogueDone]. Deltas of one ticket arrive in Seq order; the reply so far
// is the concatenation of their Text since the last delta with Reset set.
type DialogueDelta struct {
	// Ticket is the server's id for the reply, the same in every delta and in
	// the done.
	Ticket uint64 `json:"ticket" msgpack:"ticket"`
	// NPCID is the NPC speaking.
	NPCID string `json:"npc_id" msgpack:"npc_id"`
	// Seq numbers the deltas of a ticket from 0, without gaps, across resets.
	Seq uint32 `json:"seq" msgpack:"seq"`
	// Text is the next piece of the reply. Servers never split a UTF-8
	// sequence across deltas.
	Text string `json:"text" msgpack:"text"`
	// Reset, when true, tells the client to discard the text streamed so far
	// for this ticket before appending Text (the server switched to another
	// backend mid-reply).
	Reset bool `json:"reset,omitempty" msgpack:"reset,omitempty"`
}

// Type returns [TypeDialogueDelta].
func (DialogueDelta) Type() string { return TypeDialogueDelta }

// DialogueDone is the final reply to a talk. Its Text is authoritative: it
// replaces whatever the deltas said.
type DialogueDone struct {
	// Ticket is the server's id for the reply, as in the deltas.
	Ticket uint64 `json:"ticket" msgpack:"ticket"`
	// NPCID is the NPC speaking.
	NPCID string `json:"npc_id" msgpack:"npc_id"`
	// Text is the full final text.
	Text string `json:"text" msgpack:"text"`
	// Tier is the kind of backend that produced Text: one of the Tier*
	// constants.
	Tier string `json:"tier" msgpack:"tier"`
	// Backend names the backend within the tier, e.g. "embedded:tiny-v1".
	Backend string `json:"backend" msgpack:"backend"`
	// LatencyMS is the time from the server's submission of the talk to the
	// reply being ready for delivery, in milliseconds, measured by the server.
	// It excludes network time.
	LatencyMS float64 `json:"latency_ms" msgpack:"latency_ms"`
	// BudgetMS is the budget that was applied, in milliseconds.
	BudgetMS uint32 `json:"budget_ms" msgpack:"budget_ms"`
	// OnTime reports whether the reply was ready within the budget.
	OnTime bool `json:"on_time" msgpack:"on_time"`
	// Floor reports whether Text is the floor answer (cache or template)
	// given because no better backend finished within the budget.
	Floor bool `json:"floor" msgpack:"floor"`
	// Reason says why the server's router chose the backend that
	// produced Text: "cache", "fit", "hedge", "fallback", "floor_no_fit",
	// "floor_unavailable", "floor_after_failure", "floor_only" or
	// "floor_deadline" (docs/protocol.md); omitted when unknown.
	Reason string `json:"reason,omitempty" msgpack:"reason,omitempty"`
	// PredictedMS is the completion time, in milliseconds, the router
	// predicted for the answering backend's attempt when it chose it
	// (compare LatencyMS); omitted for the cache and the floor, which are
	// not predicted.
	PredictedMS float64 `json:"predicted_ms,omitempty" msgpack:"predicted_ms,omitempty"`
	// Prompt is the prompt template used, as name@version, when a model
	// produced Text.
	Prompt string `json:"prompt,omitempty" msgpack:"prompt,omitempty"`
	// Guard names the guardrail that replaced the model's reply (or the
	// player's line) with an in-character deflection, e.g. "injection" or
	// "persona_break"; omitted when nothing was blocked.
	Guard string `json:"guard,omitempty" msgpack:"guard,omitempty"`
	// PromptTokens and Tokens are the input and output tokens the model
	// reported for this reply; omitted when zero (the template floor and
	// the cache do no model work). They count against the player's daily
	// token quota (docs/security.md, "Limits").
	PromptTokens uint32 `json:"prompt_tokens,omitempty" msgpack:"prompt_tokens,omitempty"`
	Tokens       uint32 `json:"tokens,omitempty" msgpack:"tokens,omitempty"`
	// CostUSD is what the reply cost, in US dollars, from the backend's
	// prices; omitted when zero (in-process tiers).
	CostUSD float64 `json:"cost_usd,omitempty" msgpack:"cost_usd,omitempty"`
	// Affinity and Trust are how the NPC feels about the player after
	// this turn, the line weighed in: each in [-1, 1], negative dislike or
	// distrust; omitted when zero (neutral, or not known for this reply:
	// a bark, or a floor reply to a player the NPC had not loaded yet).
	Affinity float64 `json:"affinity,omitempty" msgpack:"affinity,omitempty"`
	Trust    float64 `json:"trust,omitempty" msgpack:"trust,omitempty"`
	// Actions are what the NPC does with this reply, in order, for the
	// game to carry out: already validated by the server against the
	// NPC's allowed actions and the world state the host reported; up to
	// [MaxActions]. Omitted when there are none.
	Actions []Action `json:"actions,omitempty" msgpack:"actions,omitempty"`
	// Refining is set when a [DialogueRefine] for this ticket will follow
	// (the talk asked for [Talk.Refine] and a better backend is at work).
	Refining bool `json:"refining,omitempty" msgpack:"refining,omitempty"`
}

// Type returns [TypeDialogueDone].
func (DialogueDone) Type() string { return TypeDialogueDone }

// Validate checks the actions against their bounds (a client uses it to
// reject a misbehaving server); the other fields have none.
func (m DialogueDone) Validate() error {
	if n := len(m.Actions); n > MaxActions {
		return countError("dialogue.done.actions", n, MaxActions)
	}
	for i := range m.Actions {
		if err := m.Actions[i].validate("dialogue.done.actions[" + strconv.Itoa(i) + "]"); err != nil {
			return err
		}
	}
	return nil
}

// Action limits. [DialogueDone.Validate] enforces them; decoders reject a
// longer actions array before allocating it.
const (
	// MaxActions bounds [DialogueDone.Actions].
	MaxActions = 4
	// MaxActionArgBytes bounds each string of an [Action] (kind, item,
	// quest, location, target).
	MaxActionArgBytes = 128
)

// Action kinds, [Action.Kind]. Clients should ignore kinds they do not
// know: later minor versions may add some.
const (
	ActionGiveItem        = "give_item"        // give Count of Item to the player
	ActionOfferQuest      = "offer_quest"      // offer Quest (an id the host knows)
	ActionMoveTo          = "move_to"          // walk to Location
	ActionFollow          = "follow"           // follow Target
	ActionTrade           = "trade"            // offer Item for Price
	ActionAttack          = "attack"           // attack Target
	ActionEndConversation = "end_conversation" // end the conversation
)

// Action is one thing an NPC does with a reply ([DialogueDone.Actions]).
// Only the arguments of its Kind are set.
type Action struct {
	// Kind is one of the Action* constants. Required.
	Kind string `json:"kind" msgpack:"kind"`
	// Item is the item id (give_item, trade).
	Item string `json:"item,omitempty" msgpack:"item,omitempty"`
	// Count is how many (give_item, at least 1).
	Count uint32 `json:"count,omitempty" msgpack:"count,omitempty"`
	// Price is the asking price in the game's smallest coin (trade, at
	// least 1).
	Price uint32 `json:"price,omitempty" msgpack:"price,omitempty"`
	// Quest is the quest id (offer_quest).
	Quest string `json:"quest,omitempty" msgpack:"quest,omitempty"`
	// Location is the place id (move_to).
	Location string `json:"location,omitempty" msgpack:"location,omitempty"`
	// Target is the entity id, a player's or an NPC's (follow, attack).
	Target string `json:"target,omitempty" msgpack:"target,omitempty"`
}

func (a *Action) validate(field string) error {
	if err := checkString(field+".kind", a.Kind, 1, MaxActionArgBytes); err != nil {
		return err
	}
	for _, f := range [...]struct{ name, v string }{{"item", a.Item}, {"quest", a.Quest},
		{"location", a.Location}, {"target", a.Target}} {
		if err := checkString(field+"."+f.name, f.v, 0, MaxActionArgBytes); err != nil {
			return err
		}
	}
	return nil
}

// ErrorPayload is the payload of an error frame. Its envelope id echoes the
// id of the message that caused it (0 when that is unknown).
type ErrorPayload struct {
	// Code is one of the Code* constants.
	Code string `json:"code" msgpack:"code"`
	// Message is human readable; it names the offending field when there is
	// one.
	Message string `json:"message" msgpack:"message"`
}

// Type returns [TypeError].
func (ErrorPayload) Type() string { return TypeError }

// Err returns the payload as an *Error.
func (m ErrorPayload) Err() *Error { return &Error{Code: m.Code, Message: m.Message} }

// Pong answers [Ping].
type Pong struct {
	// TMS is the ping's t_ms, unchanged.
	TMS int64 `json:"t_ms" msgpack:"t_ms"`
}

// Type returns [TypePong].
func (Pong) Type() string { return TypePong }

// checkString reports a bad_request error naming field when s is shorter than
// minBytes or longer than maxBytes, and an invalid_utf8 error when it is not
// valid UTF-8.
func checkString(field, s string, minBytes, maxBytes int) error {
	if len(s) < minBytes || len(s) > maxBytes {
		var rng string
		if minBytes > 0 {
			rng = "required, " + strconv.Itoa(minBytes) + ".." + strconv.Itoa(maxBytes) + " bytes"
		} else {
			rng = "at most " + strconv.Itoa(maxBytes) + " bytes"
		}
		return badRequest(field + ": " + rng + ", got " + strconv.Itoa(len(s)))
	}
	if !utf8.ValidString(s) {
		return newError(CodeInvalidUTF8, field+": not valid UTF-8")
	}
	return nil
}

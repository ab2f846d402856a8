package middleware

import (
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/quest"
)

// EventKind tells what an Event carries.
type EventKind uint8

// Event kinds, in the order they sort within one ticket.
const (
	// EventDelta is a piece of a streamed reply (Text, Seq, Reset).
	EventDelta EventKind = iota
	// EventReply is the finished reply to a request: exactly one per
	// accepted request unless an EventError replaces it.
	EventReply
	// EventError says the request failed (Err); no reply follows.
	EventError
	// EventQuest carries the quest generated for a SubmitQuest (Quest).
	EventQuest
	// EventRefine is the better reply to a talk whose EventReply had
	// Refining set (Talk.Refine): Text, Tier, Backend, Latency (from
	// submission), cost and tokens as on a reply; or Err when no better
	// reply came (it wraps inference.ErrNoRefinement or
	// npc.ErrRefinementBlocked) and the first reply stands. It always
	// comes after its ticket's EventReply, at a later tick or the same.
	EventRefine
)

func (k EventKind) String() string {
	switch k {
	case EventDelta:
		return "delta"
	case EventReply:
		return "reply"
	case EventError:
		return "error"
	case EventQuest:
		return "quest"
	case EventRefine:
		return "refine"
	}
	return "unknown"
}

// Event is something the runtime hands to the game: a delta, a reply or an
// error for one ticket.
type Event struct {
	Ticket   Ticket
	Kind     EventKind
	Tag      uint64 // the request's Tag (Talk, Bark or QuestRequest)
	NPCID    string
	Tenant   string // the request's tenant ("" for the default one)
	PlayerID string

	// Text is the delta's text (EventDelta) or the whole reply (EventReply).
	Text string
	// Seq numbers the deltas of one ticket from 0.
	Seq uint32
	// Reset on a delta: discard what was streamed so far for this ticket.
	Reset bool

	Tier    inference.Tier // tier that answered (EventReply)
	Backend string         // backend that answered (EventReply)
	Floor   bool           // the floor answered because nothing better was ready in time
	Prompt  string         // prompt template name@version, "" for floor replies
	// Reason is why the Router chose the backend that answered
	// (inference.Reason: "fit", "fallback", "hedge", "cache",
	// "floor_no_fit", …; EventReply).
	Reason inference.Reason
	// Predicted is the completion time the Router predicted for the
	// answering backend's attempt when it chose it; 0 for the cache and
	// the floor (EventReply). Compare Latency.
	Predicted time.Duration

	// Latency is from Submit to ready (EventReply, EventRefine and EventError).
	Latency time.Duration
	// Budget is the request's budget.
	Budget time.Duration
	// CostUSD is what the answering backend charged (0 for in-process
	// tiers and the cache).
	CostUSD float64
	// PromptTokens and Tokens are the reply's input and output tokens as
	// the answering backend counted them (EventReply; the template tier
	// counts words, the cache nothing).
	PromptTokens, Tokens int
	// Affinity and Trust are how the NPC feels about the player after
	// this turn (EventReply of a talk, with HasRelationship): each in
	// [-1, 1], 0 neutral, the player's line already weighed in
	// (npc.Relationship, npc.ClassifyLine). HasRelationship is false for a
	// bark, and for a floor reply to a player the NPC had not yet loaded
	// (the floor reads no disk); ask Runtime.Relationship then.
	Affinity, Trust float64
	HasRelationship bool
	// Guard is the guardrail that replaced the reply with an in-character
	// deflection (npc/guard reason codes: "injection", "persona_break",
	// "secret_leak", …); "" when nothing was blocked.
	Guard string
	// Actions are what the NPC does with the reply (EventReply of a talk),
	// for the game to carry out, in order: validated against the NPC's
	// allowed actions (npc.Definition.Actions) and the world the host last
	// reported (Runtime.ReportWorld). DroppedActions are those proposed
	// (by the model or the rules) that failed, each with its reason, for
	// the host's logs and metrics; the game must not carry them out.
	Actions        []Action
	DroppedActions []DroppedAction
	// Refining is set on an EventReply when an EventRefine will follow:
	// the talk asked for one (Talk.Refine) and a better backend is at
	// work, or the deadline floor answered it (then the refinement is the
	// worker's late reply, or says why there is none).
	Refining bool
	// OnTime is true when the game received the reply by the first Tick at
	// or after its tick boundary: the deadline of DESIGN §1 was kept.
	OnTime bool

	Err error // EventError, and EventRefine when no better reply came

	Quest *quest.Quest // EventQuest only

	boundary time.Time // the tick boundary the reply was due at
	tr       *reqTrace // the request's spans, ended by Tick; nil when untraced
}

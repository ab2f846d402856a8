package protocol

import (
	"strconv"
	"strings"
)

// Quest message types (docs/protocol.md §4.8–4.14). They need a hello first,
// like talk, and a server with quests (else [CodeQuestsUnavailable]).
const (
	// TypeQuestRequest asks for a quest (client→server); answered by one
	// [TypeQuestOffer] or one [TypeError].
	TypeQuestRequest = "quest.request"
	// TypeQuestOffer carries a generated quest (server→client).
	TypeQuestOffer = "quest.offer"
	// TypeQuestAccept accepts a quest this connection was offered
	// (client→server); answered by a [TypeQuestUpdate] of kind "accepted" or
	// a [TypeError].
	TypeQuestAccept = "quest.accept"
	// TypeQuestAbandon abandons an active quest (client→server); answered by
	// a [TypeQuestUpdate] of kind "abandoned" or a [TypeError].
	TypeQuestAbandon = "quest.abandon"
	// TypeWorldEvent reports something that happened in the game world
	// (client→server); answered by zero or more [TypeQuestUpdate] and one
	// [TypeWorldAck], or by a [TypeError].
	TypeWorldEvent = "world.event"
	// TypeWorldAck ends the answer to a world.event (server→client).
	TypeWorldAck = "world.ack"
	// TypeQuestUpdate reports a change to a quest in the player's log
	// (server→client).
	TypeQuestUpdate = "quest.update"
	// TypeQuestLog travels both ways: a client sends it with an empty
	// payload to ask for the player's quest log, and the server answers with
	// the entries under the same type.
	TypeQuestLog = "quest.log"
)

// Quest limits. Validate methods enforce them; lengths are in bytes.
const (
	// MaxQuestIDBytes bounds quest ids (quest.accept.quest_id,
	// quest.abandon.quest_id, quest.request.after).
	MaxQuestIDBytes = 128
	// MaxQuestObjectives bounds a quest's objectives (and a log entry's
	// progress array).
	MaxQuestObjectives = 3
	// MaxQuestTargets bounds an objective's targets.
	MaxQuestTargets = 8
	// MaxQuestPrerequisites bounds a quest's prerequisites.
	MaxQuestPrerequisites = 8
	// MaxQuestRewardItems bounds a reward's items.
	MaxQuestRewardItems = 8
	// MaxQuestLogEntries bounds a quest.log answer. A server sends the most
	// recently changed entries, at most this many and fewer when more would
	// not fit in [MaxFrameBytes]; [QuestLog.Total] says how many the log
	// holds. Decoders reject a longer array before allocating it.
	MaxQuestLogEntries = 64
	// MaxQuestOffers is how many of its latest offers a server remembers per
	// connection: quest.accept works for those only.
	MaxQuestOffers = 32
)

// World event kinds, [WorldEvent.Kind].
const (
	// WorldEventKill: the player killed Target (a creature kind).
	WorldEventKill = "kill"
	// WorldEventCollect: the player picked up Count of Target (an item).
	WorldEventCollect = "collect"
	// WorldEventArrive: the player reached Location; with Target set to an
	// NPC travelling with the player, it completes an escort.
	WorldEventArrive = "arrive"
	// WorldEventTalk: the player talked to Target (an NPC).
	WorldEventTalk = "talk"
	// WorldEventDeliver: the player handed Item to Target (an NPC).
	WorldEventDeliver = "deliver"
	// WorldEventUse: the player used Target (an item) at Location.
	WorldEventUse = "use"
	// WorldEventDied: Target (an NPC) died. It concerns every player: quests
	// it gave, or that escort it, fail.
	WorldEventDied = "died"
)

// Quest update kinds, [QuestUpdate.Kind].
const (
	QuestUpdateAccepted  = "accepted"  // the quest entered the log (quest.accept)
	QuestUpdateProgress  = "progress"  // the current objective advanced
	QuestUpdateObjective = "objective" // the current objective was completed; the next one begins
	QuestUpdateCompleted = "completed" // the last objective was completed; Reward is set
	QuestUpdateFailed    = "failed"    // the giver or escorted NPC died, or time ran out; Reason says which
	QuestUpdateAbandoned = "abandoned" // the player abandoned it (quest.abandon)
)

// Quest states in a log entry, [QuestLogEntry.State].
const (
	QuestStateActive    = "active"
	QuestStateCompleted = "completed"
	QuestStateFailed    = "failed"
	QuestStateAbandoned = "abandoned"
)

// questMotivations are the nine NPC motivations of Doran & Parberry, as the
// quest package names them.
var questMotivations = [...]string{"knowledge", "comfort", "reputation", "serenity", "protection",
	"conquest", "wealth", "ability", "equipment"}

var worldEventKinds = [...]string{WorldEventKill, WorldEventCollect, WorldEventArrive, WorldEventTalk,
	WorldEventDeliver, WorldEventUse, WorldEventDied}

// QuestRequest asks the server for a quest for this connection's player. The
// server answers, at a tick boundary, with one [QuestOffer] or one error
// echoing its id.
type QuestRequest struct {
	// Level is the player's level. Required, at least 1; the world decides
	// which levels it supports (an error names the range).
	Level uint32 `json:"level" msgpack:"level"`
	// Location is the place id where the player is. Required,
	// 1..[MaxIDBytes] bytes.
	Location string `json:"location" msgpack:"location"`
	// Motivation, when set, is why the giver wants the quest: one of
	// knowledge, comfort, reputation, serenity, protection, conquest, wealth,
	// ability, equipment.
	Motivation string `json:"motivation,omitempty" msgpack:"motivation,omitempty"`
	// Giver, when set, is the NPC id that should give the quest. Up to
	// [MaxIDBytes] bytes.
	Giver string `json:"giver,omitempty" msgpack:"giver,omitempty"`
	// Seed makes the quest reproducible: the same seed, world and request
	// give the same quest. 0 lets the server pick one.
	Seed uint64 `json:"seed,omitempty" msgpack:"seed,omitempty"`
	// After, when set, is the id of a quest this one follows in a chain: it
	// becomes a prerequisite. Up to [MaxQuestIDBytes] bytes.
	After string `json:"after,omitempty" msgpack:"after,omitempty"`
	// BudgetMS is the latency budget in milliseconds, as for talk; 0 means
	// the server's default.
	BudgetMS uint32 `json:"budget_ms,omitempty" msgpack:"budget_ms,omitempty"`
}

// Type returns [TypeQuestRequest].
func (QuestRequest) Type() string { return TypeQuestRequest }

// Validate checks the limits documented on the fields.
func (m QuestRequest) Validate() error {
	if m.Level < 1 {
		return badRequest("quest.request.level: required, at least 1, got 0")
	}
	if err := checkString("quest.request.location", m.Location, 1, MaxIDBytes); err != nil {
		return err
	}
	if m.Motivation != "" && !oneOf(m.Motivation, questMotivations[:]) {
		return badRequest("quest.request.motivation: " + quoteCut(m.Motivation) + " is not one of " +
			strings.Join(questMotivations[:], ", "))
	}
	if err := checkString("quest.request.giver", m.Giver, 0, MaxIDBytes); err != nil {
		return err
	}
	return checkString("quest.request.after", m.After, 0, MaxQuestIDBytes)
}

// QuestOffer answers a [QuestRequest] with a generated, validated quest. The
// connection may then accept it with [QuestAccept] by its id.
type QuestOffer struct {
	// Ticket is the server's id for the request.
	Ticket uint64 `json:"ticket" msgpack:"ticket"`
	// Quest is the quest offered.
	Quest QuestInfo `json:"quest" msgpack:"quest"`
	// LatencyMS, BudgetMS, OnTime and Floor are as in [DialogueDone]: Floor
	// means the deterministic planner answered because the budget ran out.
	LatencyMS float64 `json:"latency_ms" msgpack:"latency_ms"`
	BudgetMS  uint32  `json:"budget_ms" msgpack:"budget_ms"`
	OnTime    bool    `json:"on_time" msgpack:"on_time"`
	Floor     bool    `json:"floor" msgpack:"floor"`
}

// Type returns [TypeQuestOffer].
func (QuestOffer) Type() string { return TypeQuestOffer }

// Validate checks the quest against the array bounds (a client uses it to
// reject a misbehaving server).
func (m QuestOffer) Validate() error { return m.Quest.validate("quest.offer.quest") }

// QuestInfo is a quest as it travels in [QuestOffer] and [QuestLogEntry].
// Arrays are never nil on the wire (empty arrays when there is nothing).
type QuestInfo struct {
	// ID identifies the quest, e.g. "kettleford-q102305d335071f24".
	ID string `json:"id" msgpack:"id"`
	// World is the name of the world it was made for.
	World string `json:"world" msgpack:"world"`
	Title string `json:"title" msgpack:"title"`
	// Giver is the NPC id of the quest giver.
	Giver string `json:"giver" msgpack:"giver"`
	// Motivation is one of the nine motivations (see [QuestRequest]).
	Motivation string `json:"motivation" msgpack:"motivation"`
	// Objectives are done in order; 1..[MaxQuestObjectives].
	Objectives []QuestObjective `json:"objectives" msgpack:"objectives"`
	// Prerequisites are quest ids to complete first (chains); up to
	// [MaxQuestPrerequisites].
	Prerequisites []string    `json:"prerequisites" msgpack:"prerequisites"`
	Reward        QuestReward `json:"reward" msgpack:"reward"`
	// Level is the player levels the quest suits, inclusive.
	Level QuestLevel `json:"level" msgpack:"level"`
	// Description is the quest log text.
	Description string `json:"description" msgpack:"description"`
	// Dialogue is the giver's offer, in persona.
	Dialogue string `json:"dialogue" msgpack:"dialogue"`
	// Seed reproduces the quest.
	Seed uint64 `json:"seed" msgpack:"seed"`
	// Tier is the kind of backend that wrote the text (see [DialogueDone]).
	Tier string `json:"tier" msgpack:"tier"`
	// TimeLimitS is how long the player has once accepted, in seconds of
	// game time; 0 means no limit.
	TimeLimitS uint32 `json:"time_limit_s" msgpack:"time_limit_s"`
}

func (q *QuestInfo) validate(field string) error {
	if n := len(q.Objectives); n > MaxQuestObjectives {
		return countError(field+".objectives", n, MaxQuestObjectives)
	}
	for i := range q.Objectives {
		if n := len(q.Objectives[i].Targets); n > MaxQuestTargets {
			return countError(field+".objectives["+strconv.Itoa(i)+"].targets", n, MaxQuestTargets)
		}
	}
	if n := len(q.Prerequisites); n > MaxQuestPrerequisites {
		return countError(field+".prerequisites", n, MaxQuestPrerequisites)
	}
	return q.Reward.validate(field + ".reward")
}

// QuestObjective is one step of a quest.
type QuestObjective struct {
	// Action is one of goto, kill, gather, deliver, talk, escort, defend,
	// explore, use.
	Action string `json:"action" msgpack:"action"`
	// Targets are entity ids (creature, item or NPC, by action; deliver has
	// the item and the NPC who receives it); up to [MaxQuestTargets].
	Targets []string `json:"targets" msgpack:"targets"`
	// Count is how many (kills, items); 1 otherwise.
	Count uint32 `json:"count" msgpack:"count"`
	// Location is the place id where it happens.
	Location string `json:"location" msgpack:"location"`
}

// QuestReward is what the player gets on completion.
type QuestReward struct {
	XP   uint32 `json:"xp" msgpack:"xp"`
	Gold uint32 `json:"gold" msgpack:"gold"`
	// Items are item ids; up to [MaxQuestRewardItems].
	Items []string `json:"items" msgpack:"items"`
}

func (r *QuestReward) validate(field string) error {
	if n := len(r.Items); n > MaxQuestRewardItems {
		return countError(field+".items", n, MaxQuestRewardItems)
	}
	return nil
}

// QuestLevel is a range of player levels, inclusive.
type QuestLevel struct {
	Min uint32 `json:"min" msgpack:"min"`
	Max uint32 `json:"max" msgpack:"max"`
}

// QuestAccept accepts a quest offered on this connection (one of the last
// [MaxQuestOffers] offers). The server answers with a [QuestUpdate] of kind
// [QuestUpdateAccepted] or an error.
type QuestAccept struct {
	// QuestID is [QuestInfo.ID] of the offer. Required,
	// 1..[MaxQuestIDBytes] bytes.
	QuestID string `json:"quest_id" msgpack:"quest_id"`
}

// Type returns [TypeQuestAccept].
func (QuestAccept) Type() string { return TypeQuestAccept }

// Validate checks the limits documented on the fields.
func (m QuestAccept) Validate() error {
	return checkString("quest.accept.quest_id", m.QuestID, 1, MaxQuestIDBytes)
}

// QuestAbandon abandons an active quest of the player's log. The server
// answers with a [QuestUpdate] of kind [QuestUpdateAbandoned] or an error.
type QuestAbandon struct {
	// QuestID is the quest's id. Required, 1..[MaxQuestIDBytes] bytes.
	QuestID string `json:"quest_id" msgpack:"quest_id"`
}

// Type returns [TypeQuestAbandon].
func (QuestAbandon) Type() string { return TypeQuestAbandon }

// Validate checks the limits documented on the fields.
func (m QuestAbandon) Validate() error {
	return checkString("quest.abandon.quest_id", m.QuestID, 1, MaxQuestIDBytes)
}

// WorldEvent reports something that happened in the game world, for the
// connection's player (died concerns everyone). The server advances the
// quests it concerns and answers with the resulting [QuestUpdate] frames for
// this player and then one [WorldAck], all echoing its id.
type WorldEvent struct {
	// Kind is one of the WorldEvent* constants. Required.
	Kind string `json:"kind" msgpack:"kind"`
	// Target is the entity concerned: the creature killed, the item
	// collected or used, the NPC talked to, delivered to, escorted or who
	// died. Required for every kind but arrive. Up to [MaxIDBytes] bytes.
	Target string `json:"target,omitempty" msgpack:"target,omitempty"`
	// Item is the item handed over; required for deliver. Up to
	// [MaxIDBytes] bytes.
	Item string `json:"item,omitempty" msgpack:"item,omitempty"`
	// Location is the place id where it happened; required for arrive. Up
	// to [MaxIDBytes] bytes.
	Location string `json:"location,omitempty" msgpack:"location,omitempty"`
	// Count is how many (kills, items); 0 means 1.
	Count uint32 `json:"count,omitempty" msgpack:"count,omitempty"`
}

// Type returns [TypeWorldEvent].
func (WorldEvent) Type() string { return TypeWorldEvent }

// Validate checks the limits documented on the fields.
func (m WorldEvent) Validate() error {
	if !oneOf(m.Kind, worldEventKinds[:]) {
		if m.Kind == "" {
			return badRequest("world.event.kind: required, one of " + strings.Join(worldEventKinds[:], ", "))
		}
		return badRequest("world.event.kind: " + quoteCut(m.Kind) + " is not one of " + strings.Join(worldEventKinds[:], ", "))
	}
	for _, f := range [...]struct{ name, v string }{
		{"world.event.target", m.Target}, {"world.event.item", m.Item}, {"world.event.location", m.Location},
	} {
		if err := checkString(f.name, f.v, 0, MaxIDBytes); err != nil {
			return err
		}
	}
	switch {
	case m.Kind == WorldEventArrive && m.Location == "":
		return badRequest("world.event.location: required for arrive")
	case m.Kind != WorldEventArrive && m.Target == "":
		return badRequest("world.event.target: required for " + m.Kind)
	case m.Kind == WorldEventDeliver && m.Item == "":
		return badRequest("world.event.item: required for deliver")
	}
	return nil
}

// WorldAck ends the answer to a [WorldEvent]: the updates for it, if any,
// came before it with the same id.
type WorldAck struct {
	// Updates is the number of quest.update frames sent to this connection
	// for the event.
	Updates uint32 `json:"updates" msgpack:"updates"`
}

// Type returns [TypeWorldAck].
func (WorldAck) Type() string { return TypeWorldAck }

// QuestUpdate reports a change to a quest in a player's log. It answers
// quest.accept, quest.abandon and world.event (echoing their id) on the
// connection that sent them, and reaches the player's other connections
// unsolicited (id 0).
type QuestUpdate struct {
	QuestID string `json:"quest_id" msgpack:"quest_id"`
	// Kind is one of the QuestUpdate* constants.
	Kind string `json:"kind" msgpack:"kind"`
	// Objective is the index of the objective concerned.
	Objective uint32 `json:"objective" msgpack:"objective"`
	// Progress is the objective's progress after the change, up to Count.
	Progress uint32 `json:"progress" msgpack:"progress"`
	// Count is the objective's target count.
	Count uint32 `json:"count" msgpack:"count"`
	// Reward is set on completed only.
	Reward *QuestReward `json:"reward,omitempty" msgpack:"reward,omitempty"`
	// Reason says why a quest failed or was abandoned.
	Reason string `json:"reason,omitempty" msgpack:"reason,omitempty"`
}

// Type returns [TypeQuestUpdate].
func (QuestUpdate) Type() string { return TypeQuestUpdate }

// Validate checks the reward's array bound.
func (m QuestUpdate) Validate() error {
	if m.Reward != nil {
		return m.Reward.validate("quest.update.reward")
	}
	return nil
}

// QuestLog is both the request for the player's quest log (a client sends
// it with no fields) and the answer (the server fills it).
type QuestLog struct {
	// Entries are the most recently changed quests of the log, most recent
	// first: at most [MaxQuestLogEntries], fewer when more would not fit in
	// a frame. Omitted when empty.
	Entries []QuestLogEntry `json:"entries,omitempty" msgpack:"entries,omitempty"`
	// Total is the number of quests in the log, which may exceed
	// len(Entries). Omitted when 0.
	Total uint32 `json:"total,omitempty" msgpack:"total,omitempty"`
}

// Type returns [TypeQuestLog].
func (QuestLog) Type() string { return TypeQuestLog }

// Validate checks the array bounds. A server ignores the fields of a
// client's quest.log.
func (m QuestLog) Validate() error {
	if n := len(m.Entries); n > MaxQuestLogEntries {
		return countError("quest.log.entries", n, MaxQuestLogEntries)
	}
	for i := range m.Entries {
		e := &m.Entries[i]
		field := "quest.log.entries[" + strconv.Itoa(i) + "]"
		if err := e.Quest.validate(field + ".quest"); err != nil {
			return err
		}
		if n := len(e.Progress); n > MaxQuestObjectives {
			return countError(field+".progress", n, MaxQuestObjectives)
		}
	}
	return nil
}

// QuestLogEntry is one quest of a player's log.
type QuestLogEntry struct {
	Quest QuestInfo `json:"quest" msgpack:"quest"`
	// State is one of the QuestState* constants.
	State string `json:"state" msgpack:"state"`
	// Objective is the index of the current objective.
	Objective uint32 `json:"objective" msgpack:"objective"`
	// Progress is each objective's progress, up to its count.
	Progress []uint32 `json:"progress" msgpack:"progress"`
	// Reason says why the quest failed or was abandoned.
	Reason string `json:"reason,omitempty" msgpack:"reason,omitempty"`
}

func oneOf(s string, set []string) bool {
	for _, v := range set {
		if s == v {
			return true
		}
	}
	return false
}

// quoteCut quotes s, cut to 64 bytes, for an error message.
func quoteCut(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strconv.Quote(s)
}

func countError(field string, n, limit int) *Error {
	return badRequest(field + ": at most " + strconv.Itoa(limit) + ", got " + strconv.Itoa(n))
}

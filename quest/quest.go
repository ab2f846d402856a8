// Package quest generates quests that are always valid and true to the lore,
// and tracks them per player (DESIGN §8).
//
// A quest follows the structure Doran and Parberry found in 750 quests of
// four MMORPGs ("A Prototype Quest Generator Based on a Structural Analysis
// of Quests from Four MMORPGs", PCGames 2011): an NPC's motivation expands,
// by a small grammar, into a short sequence of atomic actions. The
// generator grounds each action in entities of a World near the player and
// suited to their level, fills the text, validates everything against the
// World, repairs what fails and caches the result. The Tracker advances
// accepted quests from world events and persists per-player quest logs.
package quest

import (
	"time"

	"github.com/hearth-ai/hearth/inference"
)

// Motivation is why the giver wants the quest done: the nine NPC
// motivations of Doran & Parberry (2011), Table 1.
type Motivation string

// The nine motivations.
const (
	Knowledge  Motivation = "knowledge"
	Comfort    Motivation = "comfort"
	Reputation Motivation = "reputation"
	Serenity   Motivation = "serenity"
	Protection Motivation = "protection"
	Conquest   Motivation = "conquest"
	Wealth     Motivation = "wealth"
	Ability    Motivation = "ability"
	Equipment  Motivation = "equipment"
)

// Motivations lists every motivation in a fixed order.
var Motivations = []Motivation{Knowledge, Comfort, Reputation, Serenity, Protection, Conquest, Wealth, Ability, Equipment}

// Action is an atomic quest action (Doran & Parberry 2011, Table 3,
// reduced to the ones a game server can observe).
type Action string

// The atomic actions.
const (
	GoTo    Action = "goto"    // reach a place
	Kill    Action = "kill"    // kill Count creatures of a kind
	Gather  Action = "gather"  // collect Count items
	Deliver Action = "deliver" // bring an item to an NPC
	TalkTo  Action = "talk"    // talk to an NPC
	Escort  Action = "escort"  // bring an NPC safely to a place
	Defend  Action = "defend"  // hold a place against creatures
	Explore Action = "explore" // visit a place and look around
	Use     Action = "use"     // use an item at a place
)

// Actions lists every action in a fixed order.
var Actions = []Action{GoTo, Kill, Gather, Deliver, TalkTo, Escort, Defend, Explore, Use}

// MaxObjectives is the default cap on a quest's objectives (issue 7).
const MaxObjectives = 3

// Objective is one step of a quest.
type Objective struct {
	Action   Action   `json:"action" msgpack:"a"`
	Targets  []string `json:"targets" msgpack:"t"`  // entity ids: creature, item or NPC, by Action
	Count    int      `json:"count" msgpack:"c"`    // how many (kills, items); 1 otherwise
	Location string   `json:"location" msgpack:"l"` // place id where it happens
}

// Reward is what the player gets on completion.
type Reward struct {
	XP    int      `json:"xp" msgpack:"x"`
	Gold  int      `json:"gold" msgpack:"g"`            // in gold pieces
	Items []string `json:"items,omitempty" msgpack:"i"` // item ids
}

// LevelRange is the player levels a quest suits, inclusive.
type LevelRange struct {
	Min int `json:"min" msgpack:"n"`
	Max int `json:"max" msgpack:"x"`
}

// Contains reports whether level is in the range.
func (r LevelRange) Contains(level int) bool { return level >= r.Min && level <= r.Max }

// Quest is a generated quest. It is valid for its World when Validate
// returns no problems.
type Quest struct {
	ID            string         `json:"id" msgpack:"id"`
	World         string         `json:"world" msgpack:"w"` // World.Name it was made for
	Title         string         `json:"title" msgpack:"ti"`
	Giver         string         `json:"giver" msgpack:"gv"` // NPC entity id
	Motivation    Motivation     `json:"motivation" msgpack:"m"`
	Objectives    []Objective    `json:"objectives" msgpack:"o"`
	Prerequisites []string       `json:"prerequisites,omitempty" msgpack:"p"` // quest ids completed first (chains)
	Reward        Reward         `json:"reward" msgpack:"r"`
	Level         LevelRange     `json:"level" msgpack:"lv"`
	Description   string         `json:"description" msgpack:"d"`
	Dialogue      string         `json:"dialogue" msgpack:"dl"` // the giver's offer, in persona
	Seed          uint64         `json:"seed" msgpack:"s"`
	Tier          inference.Tier `json:"tier" msgpack:"tr"` // tier that filled the text ("template" for the planner)
	// TimeLimit is how long the player has once accepted, in game time; 0
	// means none.
	TimeLimit time.Duration `json:"time_limit,omitempty" msgpack:"tl"`
}

// Request asks for a quest.
type Request struct {
	PlayerID string
	Level    int    // the player's level
	Location string // place id where the player is
	// RecentActions are what the player did lately (e.g. "kill:marsh-wolf",
	// "arrive:redvein-mine"); the generator avoids repeating them and
	// prefers follow-ups.
	RecentActions []string
	Motivation    Motivation    // "" for any
	Giver         string        // NPC id to give the quest, "" for any suitable
	Budget        time.Duration // 0 means 50 ms
	Seed          uint64        // same seed and world, same quest
	// After, when set, makes the quest a follow-up in a chain: it becomes
	// a prerequisite.
	After string
}

package quest

import "slices"

// Structure is one expansion of a motivation into atomic actions: a
// "strategy" of Doran & Parberry (2011), Table 2, reduced to the actions a
// game server can observe (Table 3 of the same paper; "get" becomes
// gather, "damage" becomes kill, "listen"/"report" become talk, "give"
// becomes deliver, "spy"/"capture" become explore/escort).
type Structure struct {
	Motivation Motivation // the motivation it expands
	// Strategy is the name Doran & Parberry give the pattern, e.g.
	// "Kill pests" (Comfort) or "Interview NPC" (Knowledge).
	Strategy string
	// Actions are the objectives in order: 1 to MaxObjectives of them.
	Actions []Action
}

// grammar is the motivation grammar. It is read-only: Grammar and
// Structures hand out copies. Every motivation has at least one structure
// made only of actions that need no creature (so a world without suitable
// creatures still yields quests), and Knowledge's [talk] is the fallback
// structure (see Generator).
var grammar = []Structure{
	{Knowledge, "Interview NPC", []Action{TalkTo}},
	{Knowledge, "Spy", []Action{GoTo, Explore}},
	{Knowledge, "Deliver item for study", []Action{Gather, Deliver}},
	{Knowledge, "Interview NPC in person", []Action{GoTo, TalkTo}},

	{Comfort, "Kill pests", []Action{Kill}},
	{Comfort, "Obtain luxuries", []Action{Gather, Deliver}},
	{Comfort, "Kill pests at their den", []Action{GoTo, Kill}},

	{Reputation, "Kill enemies", []Action{Kill, TalkTo}},
	{Reputation, "Obtain rare items", []Action{Deliver}},
	{Reputation, "Visit a dangerous place", []Action{GoTo, Explore}},

	{Serenity, "Revenge, justice", []Action{GoTo, Kill, TalkTo}},
	{Serenity, "Check on NPC", []Action{Explore, Use}},
	{Serenity, "Rescue captured NPC", []Action{GoTo, Kill, Escort}},

	{Protection, "Attack threatening entities", []Action{GoTo, Kill}},
	{Protection, "Guard entity", []Action{Defend}},
	{Protection, "Escort to safety", []Action{Escort}},
	{Protection, "Treat or repair", []Action{Gather, Use}},

	{Conquest, "Attack enemy", []Action{Kill}},
	{Conquest, "Attack enemy and report", []Action{GoTo, Kill, TalkTo}},
	{Conquest, "Attack enemy stronghold", []Action{GoTo, Kill}},

	{Wealth, "Gather raw materials", []Action{Gather}},
	{Wealth, "Gather and sell", []Action{Gather, Deliver}},
	{Wealth, "Gather raw materials afield", []Action{GoTo, Gather}},

	{Ability, "Obtain training materials", []Action{Gather, Use}},
	{Ability, "Research a skill", []Action{Explore, TalkTo}},
	{Ability, "Practice combat", []Action{Kill}},

	{Equipment, "Assemble tool", []Action{Gather, Use}},
	{Equipment, "Deliver supplies", []Action{Deliver}},
	{Equipment, "Obtain supplies", []Action{Gather, Deliver}},
}

// fallbackStructures are the documented fallback quest types, tried in
// order when no structure of any allowed motivation can be grounded: a
// Knowledge errand to talk to a nearby NPC, else to go and look around a
// nearby place. Both are in the grammar, need no creature and no item, so
// any world with one living NPC can offer them.
var fallbackStructures = [][]Action{{TalkTo}, {GoTo, Explore}}

// Grammar returns every structure of the motivation grammar, grouped by
// motivation in the order of Motivations. The slice is a fresh copy.
func Grammar() []Structure {
	out := make([]Structure, 0, len(grammar))
	for _, m := range Motivations {
		for _, s := range grammar {
			if s.Motivation == m {
				s.Actions = slices.Clone(s.Actions)
				out = append(out, s)
			}
		}
	}
	return out
}

// Structures returns the action sequences motivation m expands to (Doran &
// Parberry 2011), or nil for an unknown motivation. The slices are fresh
// copies.
func Structures(m Motivation) [][]Action {
	var out [][]Action
	for _, s := range grammar {
		if s.Motivation == m {
			out = append(out, slices.Clone(s.Actions))
		}
	}
	return out
}

// InGrammar reports whether actions is one of the structures of m.
func InGrammar(m Motivation, actions []Action) bool {
	for _, s := range grammar {
		if s.Motivation == m && slices.Equal(s.Actions, actions) {
			return true
		}
	}
	return false
}

// ValidMotivation reports whether m is one of the nine motivations.
func ValidMotivation(m Motivation) bool { return slices.Contains(Motivations, m) }

// structuresOf returns the grammar entries of m without copying; callers
// must not modify them.
func structuresOf(m Motivation) []Structure {
	var out []Structure
	for _, s := range grammar {
		if s.Motivation == m {
			out = append(out, s)
		}
	}
	return out
}

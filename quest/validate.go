package quest

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Problem is one way a quest fails validation. Field names the part of
// the quest at fault in its JSON spelling, with indexes, e.g.
// "objectives[1].targets[0]", "reward.gold", "description"; Repair uses
// it to decide what to replace.
type Problem struct {
	Field   string // e.g. "objectives[1].targets[0]"
	Message string // what is wrong and what would be right
}

// Error implements error: "field: message".
func (p Problem) Error() string { return p.Field + ": " + p.Message }

// Validate checks q against w for a player of playerLevel and returns
// every problem found, or nil when the quest is valid. The rules:
//
//   - q.World is w.Name; q.ID is set; prerequisites are non-empty and not
//     q itself;
//   - the motivation is one of the nine and the objectives' actions are one
//     of its structures (Structures);
//   - 1 to MaxObjectives objectives;
//   - every target exists with the kind its action needs: kill and defend
//     one creature; gather and use one item; deliver an item then an NPC;
//     talk and escort one NPC; go to and explore no target, only a
//     Location; every NPC target is alive, and talk and escort never target
//     the giver (deliver may, after the quest gathered the item);
//   - every Location is a place reachable from the giver's home; a kill
//     happens in a habitat of its creature, a defence at a habitat or next
//     to one, a gathering at a place the item can be gathered, a delivery or
//     talk at the NPC's home, an escort away from it;
//   - the giver exists and is alive;
//   - creature challenge fits playerLevel (FitsLevel) and a fight's total
//     XP, Count × XPForCR, is at most MaxCombatXP(playerLevel);
//   - Count is 1 to MaxKillCount for kill and defend, 1 to MaxItemCount for
//     gather and deliver, exactly 1 otherwise;
//   - the reward is within Limits(w, q.Objectives, playerLevel);
//   - the level range is non-empty, lies within [w.MinLevel, w.MaxLevel]
//     and contains playerLevel;
//   - title (at most MaxTitleRunes runes), description and dialogue are
//     non-empty, and none has a proper noun the World does not know
//     (UnknownProperNouns).
func Validate(w *World, q Quest, playerLevel int) []Problem {
	var ps []Problem
	add := func(field, format string, args ...any) {
		ps = append(ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if q.World != w.Name {
		add("world", "quest is for world %q, not %q", q.World, w.Name)
	}
	if q.ID == "" {
		add("id", "empty")
	}
	for i, p := range q.Prerequisites {
		if p == "" || p == q.ID {
			add(fmt.Sprintf("prerequisites[%d]", i), "%q: want another quest's id", p)
		}
	}

	// Giver.
	giver := w.npcs[q.Giver]
	switch {
	case q.Giver == "":
		add("giver", "empty")
	case giver == nil:
		add("giver", "%q is not an NPC of %s%s", q.Giver, w.Name, kindNote(w, q.Giver))
	case !giver.Alive:
		add("giver", "%s (%s) is dead", giver.Name, q.Giver)
	}

	// Motivation and structure.
	actions := make([]Action, len(q.Objectives))
	for i, o := range q.Objectives {
		actions[i] = o.Action
	}
	switch {
	case !ValidMotivation(q.Motivation):
		add("motivation", "%q: want one of %v", q.Motivation, Motivations)
	case len(q.Objectives) > 0 && len(q.Objectives) <= MaxObjectives && !InGrammar(q.Motivation, actions):
		add("objectives", "actions %v are not a structure of %s; want one of %v", actions, q.Motivation, Structures(q.Motivation))
	}
	if n := len(q.Objectives); n < 1 || n > MaxObjectives {
		add("objectives", "%d objectives: want 1 to %d", n, MaxObjectives)
	}

	// Objectives.
	gathered := map[string]bool{}
	for i, o := range q.Objectives {
		validateObjective(w, q, giver, i, o, playerLevel, gathered, add)
		if o.Action == Gather && len(o.Targets) > 0 {
			gathered[o.Targets[0]] = true
		}
	}

	// Reward.
	lim := Limits(w, q.Objectives, playerLevel)
	if q.Reward.XP < lim.XPMin || q.Reward.XP > lim.XPMax {
		add("reward.xp", "%d XP: want %d to %d for these objectives at level %d", q.Reward.XP, lim.XPMin, lim.XPMax, playerLevel)
	}
	if q.Reward.Gold < lim.GoldMin || q.Reward.Gold > lim.GoldMax {
		add("reward.gold", "%d gp: want %d to %d for %d objectives at level %d", q.Reward.Gold, lim.GoldMin, lim.GoldMax, len(q.Objectives), playerLevel)
	}
	if len(q.Reward.Items) > MaxRewardItems {
		add("reward.items", "%d items: want at most %d", len(q.Reward.Items), MaxRewardItems)
	}
	for i, id := range q.Reward.Items {
		field := fmt.Sprintf("reward.items[%d]", i)
		it := w.items[id]
		switch {
		case it == nil:
			add(field, "%q is not an item of %s%s", id, w.Name, kindNote(w, id))
		case !it.Reward:
			add(field, "%s (%s) may not be given as a reward", it.Name, id)
		case it.Value > lim.ItemValueMax:
			add(field, "%s (%s) is worth %d gp: more than %d gp for level %d", it.Name, id, it.Value, lim.ItemValueMax, playerLevel)
		}
	}

	// Level range.
	switch lv := q.Level; {
	case lv.Min > lv.Max:
		add("level", "range %d..%d is empty", lv.Min, lv.Max)
	case lv.Min < w.MinLevel || lv.Max > w.MaxLevel:
		add("level", "range %d..%d is outside the world's %d..%d", lv.Min, lv.Max, w.MinLevel, w.MaxLevel)
	case !lv.Contains(playerLevel):
		add("level", "range %d..%d does not contain the player's level %d", lv.Min, lv.Max, playerLevel)
	}

	// Text.
	for _, f := range [...]struct{ field, text string }{
		{"title", q.Title}, {"description", q.Description}, {"dialogue", q.Dialogue},
	} {
		if strings.TrimSpace(f.text) == "" {
			add(f.field, "empty")
			continue
		}
		if f.field == "title" && utf8.RuneCountInString(f.text) > MaxTitleRunes {
			add(f.field, "%d runes: want at most %d", utf8.RuneCountInString(f.text), MaxTitleRunes)
		}
		if unknown := UnknownProperNouns(w, f.text); len(unknown) > 0 {
			add(f.field, "names unknown to %s: %s", w.Name, strings.Join(quoteAll(unknown), ", "))
		}
	}
	return ps
}

// targetCount is the number of targets action a takes; ok is false for an
// unknown action.
func targetCount(a Action) (n int, ok bool) {
	switch a {
	case GoTo, Explore:
		return 0, true
	case Kill, Defend, Gather, Use, TalkTo, Escort:
		return 1, true
	case Deliver:
		return 2, true
	}
	return 0, false
}

func validateObjective(w *World, q Quest, giver *NPC, i int, o Objective, level int, gathered map[string]bool, add func(string, string, ...any)) {
	at := func(part string) string { return fmt.Sprintf("objectives[%d].%s", i, part) }
	n, ok := targetCount(o.Action)
	if !ok {
		add(at("action"), "%q: want one of %v", o.Action, Actions)
		return
	}

	// Location: a place reachable from the giver's home.
	loc := w.places[o.Location]
	switch {
	case o.Location == "":
		add(at("location"), "empty: every objective happens at a place")
	case loc == nil:
		add(at("location"), "%q is not a place of %s%s", o.Location, w.Name, kindNote(w, o.Location))
	case giver != nil && w.Distance(giver.Home, o.Location) < 0:
		add(at("location"), "%s (%s) cannot be reached from the giver's home %s", loc.Name, o.Location, giver.Home)
	}

	// Count.
	maxCount := 1
	switch o.Action {
	case Kill, Defend:
		maxCount = MaxKillCount
	case Gather, Deliver:
		maxCount = MaxItemCount
	}
	if o.Count < 1 || o.Count > maxCount {
		add(at("count"), "%d: want 1 to %d for %s", o.Count, maxCount, o.Action)
	}

	if len(o.Targets) != n {
		switch n {
		case 0:
			add(at("targets"), "%s takes no target, only a location; got %v", o.Action, o.Targets)
		case 2:
			add(at("targets"), "%s takes an item then an NPC; got %v", o.Action, o.Targets)
		default:
			add(at("targets"), "%s takes one target; got %v", o.Action, o.Targets)
		}
		return
	}
	target := func(j int) string { return fmt.Sprintf("objectives[%d].targets[%d]", i, j) }
	wrong := func(j int, id string, want Kind) {
		add(target(j), "%q is not a %s of %s%s; %s needs one", id, want, w.Name, kindNote(w, id), o.Action)
	}
	npcTarget := func(j int) *NPC {
		id := o.Targets[j]
		npc := w.npcs[id]
		switch {
		case npc == nil:
			wrong(j, id, KindNPC)
			return nil
		case !npc.Alive:
			add(target(j), "%s (%s) is dead", npc.Name, id)
			return nil
		}
		return npc
	}

	switch o.Action {
	case Kill, Defend:
		id := o.Targets[0]
		c := w.creatures[id]
		if c == nil {
			wrong(0, id, KindCreature)
			return
		}
		xp := XPForCR(c.Challenge)
		switch {
		case c.Tame:
			add(target(0), "%s is tame: no quest sends a player against it", c.Name)
		case !FitsLevel(c.Challenge, level):
			add(target(0), "%s (CR %s, %d XP) is too strong for level %d: at most %d XP (SRD 5.2 high budget for one character)",
				c.Name, formatCR(c.Challenge), xp, level, MaxCombatXP(level))
		case o.Count >= 1 && o.Count*xp > MaxCombatXP(level):
			add(at("count"), "%d × %s is %d XP: more than %d for level %d", o.Count, c.Name, o.Count*xp, MaxCombatXP(level), level)
		}
		if loc == nil {
			return
		}
		if o.Action == Kill && !slices.Contains(c.Habitats, o.Location) {
			add(at("location"), "%s is not found at %s; its habitats are %v", c.Name, loc.Name, c.Habitats)
		}
		if o.Action == Defend && !nearHabitat(w, c, o.Location) {
			add(at("location"), "%s lives neither at %s nor next to it; its habitats are %v", c.Name, loc.Name, c.Habitats)
		}
	case Gather, Use:
		id := o.Targets[0]
		it := w.items[id]
		if it == nil {
			wrong(0, id, KindItem)
			return
		}
		if o.Action == Gather && loc != nil && !slices.Contains(it.Places, o.Location) {
			add(at("location"), "%s cannot be gathered at %s; it is found at %v", it.Name, loc.Name, it.Places)
		}
	case Deliver:
		if it := w.items[o.Targets[0]]; it == nil {
			wrong(0, o.Targets[0], KindItem)
		}
		npc := npcTarget(1)
		if npc == nil {
			return
		}
		if loc != nil && o.Location != npc.Home {
			add(at("location"), "%s lives at %s, not %s", npc.Name, npc.Home, o.Location)
		}
		if npc.ID == q.Giver && !gathered[o.Targets[0]] {
			add(target(1), "delivering to the giver %s needs an earlier objective that gathers %s", npc.Name, o.Targets[0])
		}
	case TalkTo, Escort:
		npc := npcTarget(0)
		if npc == nil {
			return
		}
		if npc.ID == q.Giver {
			add(target(0), "%s is the giver; %s needs someone else", npc.Name, o.Action)
			return
		}
		if loc == nil {
			return
		}
		if o.Action == TalkTo && o.Location != npc.Home {
			add(at("location"), "%s lives at %s, not %s", npc.Name, npc.Home, o.Location)
		}
		if o.Action == Escort && o.Location == npc.Home {
			add(at("location"), "%s already lives at %s: an escort goes somewhere else", npc.Name, o.Location)
		}
	}
}

// nearHabitat reports whether c lives at place or at one of its
// neighbours.
func nearHabitat(w *World, c *Creature, place string) bool {
	if slices.Contains(c.Habitats, place) {
		return true
	}
	p := w.places[place]
	if p == nil {
		return false
	}
	for _, h := range c.Habitats {
		if slices.Contains(p.Neighbors, h) {
			return true
		}
	}
	return false
}

// kindNote says what id is when it is something else, for error messages.
func kindNote(w *World, id string) string {
	if k := w.Kind(id); k != "" {
		return " (it is a " + string(k) + ")"
	}
	return ""
}

func formatCR(cr float64) string {
	switch cr {
	case 0.125:
		return "1/8"
	case 0.25:
		return "1/4"
	case 0.5:
		return "1/2"
	}
	return fmt.Sprintf("%g", cr)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

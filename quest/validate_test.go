package quest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/quest"
)

// genValidQuest is a hand-written valid quest of the vale world for a level-5
// player: go to the cave, kill the ogre, tell Tom.
func genValidQuest(t *testing.T, w *quest.World) quest.Quest {
	t.Helper()
	q := quest.Quest{
		ID: "testvale-q1", World: "testvale", Giver: "mara", Motivation: quest.Conquest,
		Title: "Ogre in Deep Cave",
		Objectives: []quest.Objective{
			{Action: quest.GoTo, Count: 1, Location: "cave"},
			{Action: quest.Kill, Targets: []string{"ogre"}, Count: 1, Location: "cave"},
			{Action: quest.TalkTo, Targets: []string{"tom"}, Count: 1, Location: "farm"},
		},
		Reward:      quest.Reward{XP: 950, Gold: 150, Items: []string{"potion"}},
		Level:       quest.LevelRange{Min: 4, Max: 7},
		Description: "Mara Quill wants the Ogre gone. Go to Deep Cave, kill the Ogre, then tell Tom Reed at Brook Farm. Mara's purse is open.",
		Dialogue:    "Well met. I need you to kill the Ogre in the Deep Cave. Then speak with Tom Reed. The Valewardens will pay.",
		Tier:        "template",
	}
	if ps := quest.Validate(w, q, 5); len(ps) > 0 {
		t.Fatalf("the valid quest is invalid: %v", ps)
	}
	return q
}

// TestValidateCatchesEachProblem breaks a valid quest one rule at a time.
func TestValidateCatchesEachProblem(t *testing.T) {
	w := genValeWorld(t)
	setObj := func(i int, o quest.Objective) func(*quest.Quest) {
		return func(q *quest.Quest) { q.Objectives[i] = o }
	}
	cases := []struct {
		name   string
		level  int
		break_ func(*quest.Quest)
		field  string
	}{
		{"other world", 5, func(q *quest.Quest) { q.World = "elsewhere" }, "world"},
		{"no id", 5, func(q *quest.Quest) { q.ID = "" }, "id"},
		{"self prerequisite", 5, func(q *quest.Quest) { q.Prerequisites = []string{q.ID} }, "prerequisites[0]"},
		{"unknown giver", 5, func(q *quest.Quest) { q.Giver = "bob" }, "giver"},
		{"giver is a place", 5, func(q *quest.Quest) { q.Giver = "farm" }, "giver"},
		{"dead giver", 5, func(q *quest.Quest) { q.Giver = "ned" }, "giver"},
		{"unknown motivation", 5, func(q *quest.Quest) { q.Motivation = "glory" }, "motivation"},
		{"structure not in grammar", 5, func(q *quest.Quest) { q.Motivation = quest.Wealth }, "objectives"},
		{"no objectives", 5, func(q *quest.Quest) { q.Objectives = nil }, "objectives"},
		{"four objectives", 5, func(q *quest.Quest) { q.Objectives = append(q.Objectives, q.Objectives[2]) }, "objectives"},
		{"unknown action", 5, setObj(0, quest.Objective{Action: "dance", Count: 1, Location: "cave"}), "objectives[0].action"},
		{"kill an item", 5, setObj(1, quest.Objective{Action: quest.Kill, Targets: []string{"potion"}, Count: 1, Location: "cave"}), "objectives[1].targets[0]"},
		{"kill nothing known", 5, setObj(1, quest.Objective{Action: quest.Kill, Targets: []string{"yeti"}, Count: 1, Location: "cave"}), "objectives[1].targets[0]"},
		{"kill two kinds", 5, setObj(1, quest.Objective{Action: quest.Kill, Targets: []string{"ogre", "rats"}, Count: 1, Location: "cave"}), "objectives[1].targets"},
		{"go to with a target", 5, setObj(0, quest.Objective{Action: quest.GoTo, Targets: []string{"ogre"}, Count: 1, Location: "cave"}), "objectives[0].targets"},
		{"location not a place", 5, setObj(0, quest.Objective{Action: quest.GoTo, Count: 1, Location: "ogre"}), "objectives[0].location"},
		{"no location", 5, setObj(0, quest.Objective{Action: quest.GoTo, Count: 1}), "objectives[0].location"},
		{"unreachable place", 5, setObj(0, quest.Objective{Action: quest.GoTo, Count: 1, Location: "island"}), "objectives[0].location"},
		{"kill outside its habitat", 5, setObj(1, quest.Objective{Action: quest.Kill, Targets: []string{"ogre"}, Count: 1, Location: "farm"}), "objectives[1].location"},
		{"creature too strong", 5, setObj(1, quest.Objective{Action: quest.Kill, Targets: []string{"dragon"}, Count: 1, Location: "deepcave"}), "objectives[1].targets[0]"},
		{"creature too strong for level 1", 1, func(q *quest.Quest) { q.Level = quest.LevelRange{Min: 1, Max: 3} }, "objectives[1].targets[0]"},
		{"too many for the level", 5, setObj(1, quest.Objective{Action: quest.Kill, Targets: []string{"ogre"}, Count: 5, Location: "cave"}), "objectives[1].count"},
		{"count zero", 5, setObj(1, quest.Objective{Action: quest.Kill, Targets: []string{"ogre"}, Count: 0, Location: "cave"}), "objectives[1].count"},
		{"count above cap", 5, setObj(1, quest.Objective{Action: quest.Kill, Targets: []string{"rats"}, Count: 11, Location: "cave"}), "objectives[1].count"},
		{"talk count two", 5, setObj(2, quest.Objective{Action: quest.TalkTo, Targets: []string{"tom"}, Count: 2, Location: "farm"}), "objectives[2].count"},
		{"talk to the giver", 5, setObj(2, quest.Objective{Action: quest.TalkTo, Targets: []string{"mara"}, Count: 1, Location: "village"}), "objectives[2].targets[0]"},
		{"talk to the dead", 5, setObj(2, quest.Objective{Action: quest.TalkTo, Targets: []string{"ned"}, Count: 1, Location: "village"}), "objectives[2].targets[0]"},
		{"talk to a creature", 5, setObj(2, quest.Objective{Action: quest.TalkTo, Targets: []string{"ogre"}, Count: 1, Location: "cave"}), "objectives[2].targets[0]"},
		{"talk away from home", 5, setObj(2, quest.Objective{Action: quest.TalkTo, Targets: []string{"tom"}, Count: 1, Location: "village"}), "objectives[2].location"},
		{"reward xp too high", 5, func(q *quest.Quest) { q.Reward.XP = 5000 }, "reward.xp"},
		{"reward xp too low", 5, func(q *quest.Quest) { q.Reward.XP = 10 }, "reward.xp"},
		{"reward gold too high", 5, func(q *quest.Quest) { q.Reward.Gold = 1000 }, "reward.gold"},
		{"reward gold too low", 5, func(q *quest.Quest) { q.Reward.Gold = 0 }, "reward.gold"},
		{"reward item not an item", 5, func(q *quest.Quest) { q.Reward.Items = []string{"ogre"} }, "reward.items[0]"},
		{"reward item not a reward", 5, func(q *quest.Quest) { q.Reward.Items = []string{"charter"} }, "reward.items[0]"},
		{"reward item too valuable", 5, func(q *quest.Quest) { q.Reward.Items = []string{"crown"} }, "reward.items[0]"},
		{"too many reward items", 5, func(q *quest.Quest) { q.Reward.Items = []string{"potion", "potion", "potion"} }, "reward.items"},
		{"level range without the player", 5, func(q *quest.Quest) { q.Level = quest.LevelRange{Min: 6, Max: 8} }, "level"},
		{"level range outside the world", 5, func(q *quest.Quest) { q.Level = quest.LevelRange{Min: 4, Max: 12} }, "level"},
		{"empty level range", 5, func(q *quest.Quest) { q.Level = quest.LevelRange{Min: 7, Max: 4} }, "level"},
		{"empty title", 5, func(q *quest.Quest) { q.Title = " " }, "title"},
		{"long title", 5, func(q *quest.Quest) { q.Title = strings.Repeat("ogre ", 20) }, "title"},
		{"empty description", 5, func(q *quest.Quest) { q.Description = "" }, "description"},
		{"empty dialogue", 5, func(q *quest.Quest) { q.Dialogue = "" }, "dialogue"},
		{"unknown name in title", 5, func(q *quest.Quest) { q.Title = "Ogre of Vexmoor" }, "title"},
		{"unknown name in description", 5, func(q *quest.Quest) { q.Description += " Lord Vexmoor sends his regards." }, "description"},
		{"unknown name in dialogue", 5, func(q *quest.Quest) { q.Dialogue = "Zorblax will pay." }, "dialogue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q := genValidQuest(t, w)
			q.Objectives = slices.Clone(q.Objectives)
			q.Reward.Items = slices.Clone(q.Reward.Items)
			c.break_(&q)
			ps := quest.Validate(w, q, c.level)
			found := false
			for _, p := range ps {
				if p.Field == c.field {
					found = true
				}
				if p.Error() == "" || !strings.HasPrefix(p.Error(), p.Field+": ") {
					t.Errorf("Error() %q", p.Error())
				}
			}
			if !found {
				t.Errorf("want a problem at %s, got %v", c.field, ps)
			}
		})
	}
}

// TestValidateObjectiveKinds covers the other actions' target kinds.
func TestValidateObjectiveKinds(t *testing.T) {
	w := genValeWorld(t)
	base := func(m quest.Motivation, objs ...quest.Objective) quest.Quest {
		q := genValidQuest(t, w)
		q.Motivation, q.Objectives = m, objs
		lim := quest.Limits(w, objs, 5)
		q.Reward = quest.Reward{XP: lim.XP, Gold: lim.Gold}
		return q
	}
	gather := quest.Objective{Action: quest.Gather, Targets: []string{"moonleaf"}, Count: 3, Location: "forest"}
	cases := []struct {
		name  string
		q     quest.Quest
		field string // "" = valid
	}{
		{"gather and deliver to the giver", base(quest.Wealth, gather, quest.Objective{Action: quest.Deliver, Targets: []string{"moonleaf", "mara"}, Count: 3, Location: "village"}), ""},
		{"deliver to the giver without gathering", base(quest.Equipment, quest.Objective{Action: quest.Deliver, Targets: []string{"moonleaf", "mara"}, Count: 1, Location: "village"}), "objectives[0].targets[1]"},
		{"deliver a creature", base(quest.Equipment, quest.Objective{Action: quest.Deliver, Targets: []string{"ogre", "tom"}, Count: 1, Location: "farm"}), "objectives[0].targets[0]"},
		{"deliver to an item", base(quest.Equipment, quest.Objective{Action: quest.Deliver, Targets: []string{"potion", "ring"}, Count: 1, Location: "farm"}), "objectives[0].targets[1]"},
		{"deliver with one target", base(quest.Equipment, quest.Objective{Action: quest.Deliver, Targets: []string{"potion"}, Count: 1, Location: "farm"}), "objectives[0].targets"},
		{"deliver away from home", base(quest.Equipment, quest.Objective{Action: quest.Deliver, Targets: []string{"potion", "tom"}, Count: 1, Location: "forest"}), "objectives[0].location"},
		{"gather where it does not grow", base(quest.Wealth, quest.Objective{Action: quest.Gather, Targets: []string{"moonleaf"}, Count: 2, Location: "cave"}), "objectives[0].location"},
		{"gather a creature", base(quest.Wealth, quest.Objective{Action: quest.Gather, Targets: []string{"rats"}, Count: 2, Location: "farm"}), "objectives[0].targets[0]"},
		{"use an npc", base(quest.Ability, gather, quest.Objective{Action: quest.Use, Targets: []string{"tom"}, Count: 1, Location: "village"}), "objectives[1].targets[0]"},
		{"escort", base(quest.Protection, quest.Objective{Action: quest.Escort, Targets: []string{"tom"}, Count: 1, Location: "village"}), ""},
		{"escort to where they live", base(quest.Protection, quest.Objective{Action: quest.Escort, Targets: []string{"tom"}, Count: 1, Location: "farm"}), "objectives[0].location"},
		{"escort an item", base(quest.Protection, quest.Objective{Action: quest.Escort, Targets: []string{"ring"}, Count: 1, Location: "farm"}), "objectives[0].targets[0]"},
		{"defend next to a habitat", base(quest.Protection, quest.Objective{Action: quest.Defend, Targets: []string{"wolf"}, Count: 2, Location: "village"}), ""},
		{"defend far from any habitat", base(quest.Protection, quest.Objective{Action: quest.Defend, Targets: []string{"ogre"}, Count: 1, Location: "farm"}), "objectives[0].location"},
		{"explore with a target", base(quest.Knowledge, quest.Objective{Action: quest.GoTo, Count: 1, Location: "forest"}, quest.Objective{Action: quest.Explore, Targets: []string{"forest"}, Count: 1, Location: "forest"}), "objectives[1].targets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := quest.Validate(w, c.q, 5)
			if c.field == "" {
				if len(ps) > 0 {
					t.Fatalf("want valid, got %v", ps)
				}
				return
			}
			if !slices.ContainsFunc(ps, func(p quest.Problem) bool { return p.Field == c.field }) {
				t.Errorf("want a problem at %s, got %v", c.field, ps)
			}
		})
	}
}

func TestUnknownProperNouns(t *testing.T) {
	spec := genValeSpec()
	spec.Items = append(spec.Items,
		quest.Item{ID: "potion-of-healing", Name: "Potion of Healing (Greater)", Value: 50},
		quest.Item{ID: "longsword", Name: "+1 Longsword", Value: 500},
		quest.Item{ID: "will-o-wisp-lamp", Name: "Will-o'-Wisp Lantern", Value: 5},
	)
	w, err := quest.NewWorld(spec)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		text string
		want []string
	}{
		{"Mara Quill wants the Ogre dead.", nil},
		{"The Tanglewood is dark.", nil},                      // known name with "The" at sentence start
		{"Go to the Tanglewood, then Ashvale.", nil},          // common word at sentence start
		{"Mara's cat is missing. Tom Reed's too.", nil},       // possessives
		{"Ask Mara. She knows Giant Rats well.", nil},         // alias, name
		{"Bring a Potion of Healing (Greater) to Mara.", nil}, // lower-case word and brackets inside a name
		{"Take the +1 Longsword to Tom Reed.", nil},           // a name that starts with no letter
		{"Light the Will-o'-Wisp Lantern!", nil},
		{"I think I'll go. I'm sure.", nil},
		{"Well met. Hail, friend.", nil},
		{"The Valewardens pay well.", nil}, // "other" proper noun
		{"Lord Vexmoor rules Ashvale.", []string{"Lord Vexmoor"}},
		{"Go to Ashvale and meet Lord Vexmoor there.", []string{"Lord Vexmoor"}},
		{"Dragons came to Ashvale.", []string{"Dragons"}}, // not a common word: flagged
		{"Speak to Mara Quill Junior.", []string{"Junior"}},
		{"Vexmoor. Vexmoor!", []string{"Vexmoor"}},
		{"", nil},
	}
	for _, c := range cases {
		if got := quest.UnknownProperNouns(w, c.text); !slices.Equal(got, c.want) {
			t.Errorf("%q: got %q, want %q", c.text, got, c.want)
		}
	}
	if !quest.IsCommonWord("The") || quest.IsCommonWord("Vexmoor") {
		t.Error("IsCommonWord")
	}
}

func TestBalanceRules(t *testing.T) {
	for _, c := range []struct {
		cr float64
		xp int
	}{{0, 10}, {0.125, 25}, {0.25, 50}, {0.5, 100}, {1, 200}, {2, 450}, {5, 1800}, {17, 18000}, {30, 155000}, {0.3, 50}} {
		if got := quest.XPForCR(c.cr); got != c.xp {
			t.Errorf("XPForCR(%g) = %d, want %d", c.cr, got, c.xp)
		}
	}
	// Highest CR a solo player may face, by level (SRD high budget).
	for _, c := range []struct {
		level int
		maxCR float64
		tooCR float64
	}{{1, 0.5, 1}, {5, 4, 5}, {10, 7, 8}, {20, 19, 20}} {
		if !quest.FitsLevel(c.maxCR, c.level) || quest.FitsLevel(c.tooCR, c.level) {
			t.Errorf("level %d: want CR %g to fit and CR %g not", c.level, c.maxCR, c.tooCR)
		}
	}
	if n := quest.KillCount(0.125, 1); n != 3 {
		t.Errorf("KillCount(1/8, 1) = %d, want 3 (75/25)", n)
	}
	if n := quest.KillCount(0, 20); n != quest.MaxKillCount {
		t.Errorf("KillCount(0, 20) = %d, want the cap", n)
	}
	if n := quest.KillCount(0.5, 1); n != 1 {
		t.Errorf("KillCount(1/2, 1) = %d, want 1", n)
	}
	for level := 1; level <= 20; level++ {
		for _, row := range []float64{0, 0.125, 0.25, 0.5, 1, 2, 3, 4, 5, 8, 12, 16, 19} {
			if quest.FitsLevel(row, level) && quest.KillCount(row, level)*quest.XPForCR(row) > quest.MaxCombatXP(level) {
				t.Errorf("level %d CR %g: count × XP over the high budget", level, row)
			}
		}
	}
	if quest.ItemValueCap(4) != 400 || quest.ItemValueCap(5) != 4000 || quest.ItemValueCap(16) != 40000 || quest.ItemValueCap(17) != 200000 {
		t.Error("ItemValueCap tiers")
	}
}

func TestGrammar(t *testing.T) {
	for _, m := range quest.Motivations {
		ss := quest.Structures(m)
		if len(ss) < 2 {
			t.Errorf("%s: %d structures", m, len(ss))
		}
		for _, s := range ss {
			if len(s) < 1 || len(s) > quest.MaxObjectives || !quest.InGrammar(m, s) {
				t.Errorf("%s: %v", m, s)
			}
		}
		ss[0][0] = "scribble" // a copy: the grammar is unchanged
		if quest.Structures(m)[0][0] == "scribble" {
			t.Error("Structures returned the grammar itself")
		}
	}
	if quest.Structures("glory") != nil || !quest.InGrammar(quest.Knowledge, []quest.Action{quest.TalkTo}) {
		t.Error("unknown motivation or the fallback structure")
	}
	if len(quest.Grammar()) < 2*len(quest.Motivations) {
		t.Error("Grammar too small")
	}
}

// TestEveryNameIsKnown checks the proper-noun check against every name and
// alias of both worlds, wherever a sentence may put it.
func TestEveryNameIsKnown(t *testing.T) {
	for name, load := range map[string]func(testing.TB) *quest.World{"demo": demoWorld, "srd": genSRDWorld} {
		t.Run(name, func(t *testing.T) {
			w := load(t)
			var names []string
			for _, p := range w.Places() {
				pl, _ := w.Place(p)
				names = append(names, pl.Name)
				names = append(names, pl.Aliases...)
			}
			for _, c := range w.Creatures() {
				names = append(names, c.Name)
				names = append(names, c.Aliases...)
			}
			for _, it := range w.Items() {
				names = append(names, it.Name)
				names = append(names, it.Aliases...)
			}
			for _, n := range w.NPCs() {
				names = append(names, n.Name)
				names = append(names, n.Aliases...)
			}
			for _, n := range names {
				for _, text := range []string{n + " waits.", "Go to " + n + ".", "Ask about " + n + "'s past. Then rest.", "Well, " + n + "!"} {
					if u := quest.UnknownProperNouns(w, text); len(u) > 0 {
						t.Errorf("%q: unknown %q", text, u)
					}
				}
			}
		})
	}
}

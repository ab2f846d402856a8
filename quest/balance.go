package quest

// Level fit and reward rules. The generator plans by them and the
// validator checks by them, so the two cannot drift apart. Every number
// here comes from the System Reference Document 5.2 (SRD 5.2, CC-BY-4.0,
// in ../shared/data/srd-5.2/src) unless its comment says it is Hearth's own
// convention.

// Bounds on objective counts.
const (
	// MaxKillCount caps the creatures of one kill or defend objective. The
	// SRD's "Many Creatures" advice (Gameplay Toolbox, Troubleshooting) warns
	// against crowds; 10 is Hearth's cap.
	MaxKillCount = 10
	// MaxItemCount caps the items of one gather or deliver objective
	// (Hearth convention).
	MaxItemCount = 10
	// MaxRewardItems caps the items of a reward (Hearth convention).
	MaxRewardItems = 2
	// MaxTitleRunes caps a quest title's length in runes (Hearth
	// convention: it must fit a quest-log line).
	MaxTitleRunes = 80
)

// xpByCR is SRD 5.2 "Experience Points by Challenge Rating" (Monsters).
// CR 0 is listed as "0 or 10"; quests count the creature as defeated, so
// Hearth uses 10.
var xpByCR = []struct {
	cr float64
	xp int
}{
	{0, 10}, {0.125, 25}, {0.25, 50}, {0.5, 100}, {1, 200}, {2, 450}, {3, 700}, {4, 1100},
	{5, 1800}, {6, 2300}, {7, 2900}, {8, 3900}, {9, 5000}, {10, 5900}, {11, 7200}, {12, 8400},
	{13, 10000}, {14, 11500}, {15, 13000}, {16, 15000}, {17, 18000}, {18, 20000}, {19, 22000},
	{20, 25000}, {21, 33000}, {22, 41000}, {23, 50000}, {24, 62000}, {25, 75000}, {26, 90000},
	{27, 105000}, {28, 120000}, {29, 135000}, {30, 155000},
}

// XPForCR returns the experience points a creature of challenge rating cr
// is worth, from SRD 5.2's "Experience Points by Challenge Rating" table.
// A rating between two rows takes the lower row; CR 0 is worth 10 XP.
func XPForCR(cr float64) int {
	xp := xpByCR[0].xp
	for _, row := range xpByCR {
		if cr+1e-9 < row.cr {
			break
		}
		xp = row.xp
	}
	return xp
}

// xpBudget is SRD 5.2 "XP Budget per Character" (Gameplay Toolbox,
// Combat Encounters, Step 2): low, moderate and high difficulty for one
// character of levels 1 to 20.
var xpBudget = [20][3]int{
	{50, 75, 100}, {100, 150, 200}, {150, 225, 400}, {250, 375, 500}, {500, 750, 1100},
	{600, 1000, 1400}, {750, 1300, 1700}, {1000, 1700, 2100}, {1300, 2000, 2600}, {1600, 2300, 3100},
	{1900, 2900, 4100}, {2200, 3700, 4700}, {2600, 4200, 5400}, {2900, 4900, 6200}, {3300, 5400, 7800},
	{3800, 6100, 9800}, {4500, 7200, 11700}, {5000, 8700, 14200}, {5500, 10700, 17200}, {6400, 13200, 22000},
}

// Difficulty names a column of the SRD's XP budget table.
type Difficulty int

// The three encounter difficulties of SRD 5.2.
const (
	LowDifficulty Difficulty = iota
	ModerateDifficulty
	HighDifficulty
)

// XPBudget returns SRD 5.2's XP budget for one character of level at
// difficulty d. Levels below 1 count as 1, above 20 as 20.
func XPBudget(level int, d Difficulty) int {
	level = min(max(level, 1), 20)
	return xpBudget[level-1][d]
}

// FitsLevel is the level-fit rule for a creature: a solo player of level L
// may be sent after a creature of challenge rating cr when the creature's
// XP (XPForCR) is at most the high-difficulty budget for one character of
// level L (XPBudget(L, HighDifficulty)). That is SRD 5.2's own encounter arithmetic
// with a party of one: at level 1 it allows CR ≤ 1/2, at level 5 CR ≤ 4,
// at level 10 CR ≤ 7, at level 20 CR ≤ 19.
func FitsLevel(cr float64, level int) bool { return XPForCR(cr) <= XPBudget(level, HighDifficulty) }

// KillCount is how many creatures of rating cr a kill or defend objective
// asks of a solo player of level L: as many as fit the moderate budget for
// one character (XPBudget(L, ModerateDifficulty) / XPForCR(cr)), at least 1 and at
// most MaxKillCount. For a creature that FitsLevel the total, count ×
// XPForCR(cr), never exceeds the high budget; MaxCombatXP checks that.
func KillCount(cr float64, level int) int {
	n := XPBudget(level, ModerateDifficulty) / XPForCR(cr)
	return min(max(n, 1), MaxKillCount)
}

// MaxCombatXP is the most XP of creatures one kill or defend objective may
// ask a player of level L to defeat: the high budget of one character.
func MaxCombatXP(level int) int { return XPBudget(level, HighDifficulty) }

// meaningful reports whether a creature is worth a quest at level L, a
// generator preference (not a validity rule): ten of them must make at
// least a low-difficulty encounter, so a level-15 hero is not sent after
// rats while something stronger lives nearby.
func meaningful(cr float64, level int) bool {
	return XPForCR(cr)*MaxKillCount >= XPBudget(level, LowDifficulty)
}

// ActionXP is the XP of one objective that is not a fight (go to, explore,
// gather, deliver, talk, escort, use) for a player of level L: half the
// low-difficulty budget of one character, so a three-step errand is worth
// about one and a half easy fights. Hearth's convention on SRD numbers.
func ActionXP(level int) int { return XPBudget(level, LowDifficulty) / 2 }

// GoldPerObjective is the base gold, in gold pieces, one objective pays a
// player of level L: 10 gp per level. At level 1 that is ten days of a
// Modest lifestyle (1 GP per day, SRD 5.2 Equipment, Lifestyle Expenses);
// the linear scale is Hearth's convention.
func GoldPerObjective(level int) int { return 10 * max(level, 1) }

// ItemValueCap is the highest value, in gold pieces, of an item given as a
// reward to a player of level L: the SRD 5.2 value of the rarest magic
// item suited to the player's tier of play (Character Creation, Tiers of
// Play; Magic Items, Magic Item Rarities and Values): Uncommon (400 gp)
// in tier 1 (levels 1–4), Rare (4,000 gp) in tier 2 (5–10), Very Rare
// (40,000 gp) in tier 3 (11–16), Legendary (200,000 gp) in tier 4 (17–20).
func ItemValueCap(level int) int {
	switch {
	case level <= 4:
		return 400
	case level <= 10:
		return 4000
	case level <= 16:
		return 40000
	}
	return 200000
}

// RewardLimits are the bounds Validate holds a quest's reward to.
type RewardLimits struct {
	// XP is what the generator pays: for each kill or defend objective
	// Count × XPForCR of its creature, for every other objective
	// ActionXP(L).
	XP int
	// XPMin and XPMax bound an acceptable XP reward: XP ± 25 %.
	XPMin, XPMax int
	// Gold is the base gold: GoldPerObjective(L) × objectives. The
	// generator pays Gold ± 25 %.
	Gold int
	// GoldMin and GoldMax bound an acceptable gold reward: Gold ± 50 %.
	GoldMin, GoldMax int
	// ItemValueMax is ItemValueCap(L); at most MaxRewardItems items, each
	// marked Reward in the World.
	ItemValueMax int
}

// Limits returns the reward limits for objectives given to a player of
// level L in w. Objectives whose creature is unknown count as non-combat.
func Limits(w *World, objs []Objective, level int) RewardLimits {
	xp := 0
	for _, o := range objs {
		if o.Action == Kill || o.Action == Defend {
			if len(o.Targets) > 0 {
				if c := w.creatures[o.Targets[0]]; c != nil {
					xp += max(o.Count, 1) * XPForCR(c.Challenge)
					continue
				}
			}
		}
		xp += ActionXP(level)
	}
	gold := GoldPerObjective(level) * max(len(objs), 1)
	return RewardLimits{
		XP: xp, XPMin: xp - xp/4, XPMax: xp + xp/4,
		Gold: gold, GoldMin: gold / 2, GoldMax: gold + gold/2,
		ItemValueMax: ItemValueCap(level),
	}
}

// LevelRangeFor is the level range a quest for a player of level L gets:
// [max(w.MinLevel, L-1), min(w.MaxLevel, L+2)] (Hearth convention: one
// level below, since the fights are planned for L, and two above, as a
// quest log keeps a quest a while as the player grows).
func LevelRangeFor(w *World, level int) LevelRange {
	return LevelRange{Min: max(w.MinLevel, level-1), Max: min(w.MaxLevel, level+2)}
}

package quest

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Quest text: title, description and the giver's dialogue, assembled from
// phrase banks keyed by motivation and action. The banks hold only lower
// case English words and {placeholders}; placeholders become entity
// display names from the World (or forms of them the World also knows,
// such as "Sallow Wolf" beside "Sallow Wolves"), counts and gold. Every
// choice draws on the request's seeded PCG, so a seed gives one text.
//
// Placeholders: {G} giver, {H} giver's home, {F} giver's faction, {P} the
// objective's place, {at} a phrase placing it (" at Kettleford", " there"
// after a go to, " here" in the giver's mouth at home), {T} the creatures
// with their count, {C} the creature's name, {theC} the same with "the",
// {I} the items with their count, {Iname} the item's name, {D} what is
// delivered, {R} the NPC, {gold} the gold, {reward} the reward item phrase.

var numberWords = [...]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}

func countWord(n int) string {
	if n >= 0 && n < len(numberWords) {
		return numberWords[n]
	}
	return strconv.Itoa(n)
}

// nounForms are the singular and plural forms of an entity's name that
// the World resolves to it ("" when unknown).
type nounForms struct {
	sing, plur string
	// unique: the name is one individual's (see formsOf).
	unique bool
}

// formsOf derives the forms of an entity's display name: when the name's
// singular ("Sallow Wolves" → "Sallow Wolf") or plural ("Giant Rat" →
// "Giant Rats") is also one of its names or aliases, both are known.
//
// A name with neither form known is unique — one individual, like a named
// wolf or a relic — when it starts with "The" or one of its aliases is a
// singular "the …" ("Hoarfrost", alias "the she-wolf"); the generator
// asks for a unique creature once and writes its name without an article.
func formsOf(w *World, id, name string, aliases []string) nounForms {
	resolves := func(s string) bool { return contains(w.Lookup(s), id) }
	for _, s := range singulars(name) {
		if resolves(s) {
			return nounForms{sing: s, plur: name}
		}
	}
	for _, s := range plurals(name) {
		if resolves(s) {
			return nounForms{sing: name, plur: s}
		}
	}
	f := nounForms{unique: strings.HasPrefix(name, "The ")}
	for _, a := range aliases {
		if rest, ok := strings.CutPrefix(strings.ToLower(a), "the "); ok && !strings.HasSuffix(rest, "s") {
			f.unique = true
		}
	}
	return f
}

func singulars(name string) []string {
	var out []string
	for _, r := range [...][2]string{{"ves", "f"}, {"ves", "fe"}, {"ies", "y"}, {"es", ""}, {"s", ""}} {
		if s, ok := strings.CutSuffix(name, r[0]); ok && s != "" && !strings.HasSuffix(name, "ss") {
			out = append(out, s+r[1])
		}
	}
	return out
}

func plurals(name string) []string {
	switch {
	case strings.HasSuffix(name, "y") && len(name) > 1 && !strings.ContainsRune("aeiou", rune(name[len(name)-2])):
		return []string{name[:len(name)-1] + "ies"}
	case strings.HasSuffix(name, "fe"):
		return []string{name[:len(name)-2] + "ves"}
	case strings.HasSuffix(name, "f"):
		return []string{name[:len(name)-1] + "ves", name + "s"}
	case strings.HasSuffix(name, "s"), strings.HasSuffix(name, "x"), strings.HasSuffix(name, "ch"), strings.HasSuffix(name, "sh"):
		return []string{name + "es"}
	}
	return []string{name + "s"}
}

// theName puts "the" before a name, using the name's own "The" if it has
// one ("The Tipped Kettle" → "the Tipped Kettle").
func theName(name string) string {
	if rest, ok := strings.CutPrefix(name, "The "); ok {
		return "the " + rest
	}
	return "the " + name
}

// midName lower-cases a name's leading "The" for use inside a sentence.
func midName(name string) string {
	if rest, ok := strings.CutPrefix(name, "The "); ok {
		return "the " + rest
	}
	return name
}

func article(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	if strings.ContainsRune("AEIOUaeiou", r) {
		return "an " + s
	}
	return "a " + s
}

// text is the state of writing one quest's text.
type text struct {
	p       *plan
	q       *Quest
	giver   string // display names
	home    string
	homeID  string
	faction string
}

// writeText fills q's Title, Description and Dialogue.
func (p *plan) writeText(q *Quest) {
	g := p.w.npcs[q.Giver]
	t := text{p: p, q: q}
	if g != nil {
		t.giver, t.homeID = g.Name, g.Home
		t.home = midName(p.w.DisplayName(g.Home))
		t.faction = midName(p.w.DisplayName(g.Faction))
	}
	q.Title = t.title()
	q.Description = t.description()
	q.Dialogue = t.dialogue()
}

func (t *text) pickOne(bank []string) string { return bank[t.p.rng.IntN(len(bank))] }

// main is the index of the objective a title is about: the first that is
// not a go to.
func (t *text) main() int {
	for i, o := range t.q.Objectives {
		if o.Action != GoTo {
			return i
		}
	}
	return 0
}

// mainAction is the action of the objective the quest is about.
func (t *text) mainAction() Action {
	if len(t.q.Objectives) == 0 {
		return ""
	}
	return t.q.Objectives[t.main()].Action
}

func (t *text) title() string {
	if len(t.q.Objectives) == 0 {
		return capFirst(string(t.q.Motivation) + " errand")
	}
	i := t.main()
	bank := titleBanks[t.q.Objectives[i].Action]
	if mt := motiveTitles[t.q.Motivation]; len(mt) > 0 && t.p.rng.IntN(3) == 0 {
		bank = mt
	}
	for range 4 {
		s := capFirst(t.expand(t.pickOne(bank), i, false))
		if utf8.RuneCountInString(s) <= MaxTitleRunes {
			return s
		}
	}
	return capFirst(string(t.q.Motivation) + " errand")
}

func (t *text) description() string {
	var b strings.Builder
	b.WriteString(capFirst(t.expand(t.pickOne(motiveDesc[t.q.Motivation]), -1, false)))
	b.WriteString(".")
	if why := whyDesc[t.mainAction()]; len(why) > 0 && t.p.rng.IntN(2) == 0 {
		b.WriteString(" ")
		b.WriteString(capFirst(t.expand(t.pickOne(why), t.main(), false)))
		b.WriteString(".")
	}
	objs := t.q.Objectives
	for i := 0; i < len(objs); i++ {
		c, skip := t.clause(i, false)
		frame := t.pickOne(descFirst)
		switch {
		case i > 0 && i == len(objs)-1 && len(objs) > 2 && t.p.rng.IntN(2) == 0:
			frame = t.pickOne(descLast)
		case i > 0:
			frame = t.pickOne(descNext)
		}
		b.WriteString(" ")
		b.WriteString(capFirst(t.expand(strings.Replace(frame, "{c}", c, 1), i, false)))
		i += skip
	}
	b.WriteString(" ")
	b.WriteString(capFirst(t.expand(t.pickOne(descPay), -1, false)))
	return b.String()
}

func (t *text) dialogue() string {
	var b strings.Builder
	b.WriteString(capFirst(t.pickOne(greetings)))
	if t.faction != "" && t.p.rng.IntN(4) == 0 {
		b.WriteString(" ")
		b.WriteString(capFirst(t.expand(t.pickOne(factionLines), -1, true)))
	}
	b.WriteString(" ")
	b.WriteString(capFirst(t.expand(t.pickOne(motiveSay[t.q.Motivation]), -1, true)))
	b.WriteString(".")
	if why := whySay[t.mainAction()]; len(why) > 0 && t.p.rng.IntN(2) == 0 {
		b.WriteString(" ")
		b.WriteString(capFirst(t.expand(t.pickOne(why), t.main(), true)))
		b.WriteString(".")
	}
	for i := 0; i < len(t.q.Objectives); i++ {
		c, skip := t.clause(i, true)
		frame := t.pickOne(askFirst)
		if i > 0 {
			frame = t.pickOne(askNext)
		}
		b.WriteString(" ")
		b.WriteString(capFirst(t.expand(strings.Replace(frame, "{c}", c, 1), i, true)))
		i += skip
	}
	b.WriteString(" ")
	b.WriteString(capFirst(t.expand(t.pickOne(promises), -1, true)))
	if t.p.rng.IntN(2) == 0 {
		b.WriteString(" ")
		b.WriteString(capFirst(t.pickOne(closings)))
	}
	return b.String()
}

// clause picks the clause template for objective i. A go to followed by
// another objective at the same place merges with it ("travel to X and
// …"); skip is then 1.
func (t *text) clause(i int, speech bool) (string, int) {
	objs := t.q.Objectives
	o := objs[i]
	if o.Action == GoTo && i+1 < len(objs) && objs[i+1].Location == o.Location {
		next, _ := t.clause(i+1, speech)
		// The next clause's placeholders refer to objective i+1; expand it
		// now, then join.
		return t.expand(t.pickOne(clauseBanks[GoTo]), i, speech) + " and " + t.expand(next, i+1, speech), 1
	}
	bank := clauseBanks[o.Action]
	prev := Action("")
	if i > 0 {
		prev = objs[i-1].Action
	}
	switch {
	case o.Action == Explore && prev == GoTo && objs[i-1].Location == o.Location:
		bank = exploreThere
	case o.Action == Escort && prev == Kill:
		bank = rescueBank
	case o.Action == Deliver && speech && len(o.Targets) == 2 && o.Targets[1] == t.q.Giver:
		bank = deliverToMe
	}
	c := t.pickOne(bank)
	if t.p.rng.IntN(4) == 0 && !strings.Contains(c, ",") {
		c += t.pickOne(clauseTails)
	}
	return c, 0
}

// expand fills a template's placeholders for objective i (-1 for none);
// speech is true in the giver's mouth.
func (t *text) expand(tpl string, i int, speech bool) string {
	var o Objective
	if i >= 0 && i < len(t.q.Objectives) {
		o = t.q.Objectives[i]
	}
	w := t.p.w
	var b strings.Builder
	for {
		open := strings.IndexByte(tpl, '{')
		if open < 0 {
			b.WriteString(tpl)
			break
		}
		end := strings.IndexByte(tpl[open:], '}')
		if end < 0 {
			b.WriteString(tpl)
			break
		}
		b.WriteString(tpl[:open])
		key := tpl[open+1 : open+end]
		tpl = tpl[open+end+1:]
		switch key {
		case "G":
			b.WriteString(t.giver)
		case "H":
			b.WriteString(t.home)
		case "F":
			b.WriteString(t.faction)
		case "P":
			b.WriteString(t.placeName(o, i))
		case "at":
			b.WriteString(t.at(o, i, speech))
		case "C":
			b.WriteString(midName(w.DisplayName(first(o.Targets))))
		case "theC":
			if t.p.ix.forms[first(o.Targets)].unique {
				b.WriteString(midName(w.DisplayName(first(o.Targets))))
			} else {
				b.WriteString(theName(w.DisplayName(first(o.Targets))))
			}
		case "T":
			b.WriteString(t.creatures(o))
		case "I":
			b.WriteString(t.items(o, i, speech))
		case "Iname":
			if i < 0 {
				b.WriteString(midName(w.DisplayName(first(t.q.Reward.Items))))
			} else {
				b.WriteString(midName(w.DisplayName(first(o.Targets))))
			}
		case "D":
			b.WriteString(t.delivered(o, i, speech))
		case "R":
			b.WriteString(t.npc(o))
		case "gold":
			b.WriteString(strconv.Itoa(t.q.Reward.Gold))
		case "reward":
			if len(t.q.Reward.Items) > 0 {
				b.WriteString(t.expand(t.pickOne(rewardItem), -1, speech))
			}
		case "c":
			b.WriteString("{c}")
		default:
			b.WriteString("{" + key + "}")
		}
	}
	return b.String()
}

func first(ss []string) string {
	if len(ss) == 0 {
		return ""
	}
	return ss[0]
}

// placeName is the objective's place, or when i is -1 the main
// objective's (titles by motivation name it).
func (t *text) placeName(o Objective, i int) string {
	if i < 0 && len(t.q.Objectives) > 0 {
		o = t.q.Objectives[t.main()]
	}
	return midName(t.p.w.DisplayName(o.Location))
}

// at places an objective: " there" right after a go to the same place,
// " here" in the giver's mouth at the giver's home, else a preposition and
// the place's name.
func (t *text) at(o Objective, i int, speech bool) string {
	if i > 0 && t.q.Objectives[i-1].Action == GoTo && t.q.Objectives[i-1].Location == o.Location {
		return " there"
	}
	if speech && o.Location == t.homeID {
		return " here"
	}
	preps := [...]string{" at ", " in ", " near ", " around "}
	if o.Action == Deliver || o.Action == TalkTo || o.Action == Use {
		return preps[t.p.rng.IntN(2)] + midName(t.p.w.DisplayName(o.Location))
	}
	return preps[t.p.rng.IntN(len(preps))] + midName(t.p.w.DisplayName(o.Location))
}

// creatures is the objective's creatures with their count.
func (t *text) creatures(o Objective) string {
	id := first(o.Targets)
	name := t.p.w.DisplayName(id)
	f := t.p.ix.forms[id]
	if o.Count <= 1 {
		switch {
		case f.sing != "":
			return t.pickOne([]string{article(midName(f.sing)), "one " + midName(f.sing), theName(f.sing)})
		case f.plur != "":
			return "one of " + theName(f.plur)
		case f.unique:
			return midName(name)
		}
		return t.pickOne([]string{article(name), theName(name), "a single " + name})
	}
	n := countWord(o.Count)
	if f.plur != "" {
		return t.pickOne([]string{n + " " + midName(f.plur), n + " of " + theName(f.plur)})
	}
	return t.pickOne([]string{n + " of " + theName(name) + " kind", n + " foes of " + theName(name) + " kind", n + " creatures of " + theName(name) + " kind"})
}

// items is the objective's items with their count; after a gather of the
// same item, a pronoun.
func (t *text) items(o Objective, i int, speech bool) string {
	id := first(o.Targets)
	if i > 0 {
		if prev := t.q.Objectives[i-1]; prev.Action == Gather && first(prev.Targets) == id {
			if prev.Count > 1 {
				return t.pickOne([]string{"them", "what you gathered", "the lot"})
			}
			return t.pickOne([]string{"it", "your find"})
		}
	}
	name := midName(t.p.w.DisplayName(id))
	f := t.p.ix.forms[id]
	if o.Count <= 1 {
		if f.sing != "" {
			return t.pickOne([]string{article(midName(f.sing)), "one " + midName(f.sing)})
		}
		if speech && o.Action == Use {
			return t.pickOne([]string{theName(name), "my " + name})
		}
		return t.pickOne([]string{name, theName(name)})
	}
	n := countWord(o.Count)
	if f.plur != "" {
		return n + " " + midName(f.plur)
	}
	return t.pickOne([]string{n + " measures of " + name, n + " bundles of " + name, n + " lots of " + name})
}

// delivered is what a deliver objective carries.
func (t *text) delivered(o Objective, i int, speech bool) string {
	id := first(o.Targets)
	name := midName(t.p.w.DisplayName(id))
	if i > 0 {
		if prev := t.q.Objectives[i-1]; prev.Action == Gather && first(prev.Targets) == id {
			if o.Count > 1 {
				return t.pickOne([]string{"them", "what you gathered", "the lot", "your haul"})
			}
			return t.pickOne([]string{"it", "your find", theName(name)})
		}
	}
	if t.p.ix.forms[id].unique {
		return name
	}
	if speech {
		return t.pickOne([]string{"this " + name, "my " + name})
	}
	return t.pickOne([]string{name, theName(name)})
}

// npc is the NPC an objective involves: for delivery the recipient.
func (t *text) npc(o Objective) string {
	id := first(o.Targets)
	if o.Action == Deliver && len(o.Targets) == 2 {
		id = o.Targets[1]
	}
	return t.p.w.DisplayName(id)
}

// capFirst upper-cases the first letter of s.
func capFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || unicode.IsUpper(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

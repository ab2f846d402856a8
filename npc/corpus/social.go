package corpus

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/npc"
)

// Player lines that open and close a conversation; {n} is the NPC's first
// name, {p} the player's name (used only by a named player). Each is
// checked with npc.ClassifyIntent before use.
var (
	greetLines = []string{"Hello.", "Hello there!", "Hi.", "Hey.", "Greetings.", "Hail!", "Good morning.",
		"Good evening.", "Good day to you.", "Well met.", "Hello, {n}.", "Greetings, {n}.", "Hail, {n}!",
		"Good morrow.", "Howdy.", "Hi, {n}!", "Hey there, {n}.", ""}
	namedGreetLines = []string{"Hello, I'm {p}.", "Hi, my name is {p}.", "Greetings, I am {p}.",
		"Well met, I'm {p}.", "Hail, {n}! It's {p}.", "Hello again, {n}."}
	farewellLines = []string{"Goodbye.", "Farewell.", "Bye!", "Bye for now.", "See you later.", "See you, {n}.",
		"Farewell, {n}.", "Good night.", "Goodbye, {n}. Take care.", "Farewell for now.", "Good bye, then."}
	// pastLines are what a returning player said last time.
	pastLines = []string{"Where can I find a bed for the night?", "Any work going around here?",
		"I'm looking for the old mill.", "Have you seen any wolves on the road?", "What's the news in the village?",
		"My name is {p}, by the way.", "I brought the herbs you asked for.", "Thank you for your help."}
)

// BarkTriggers are the triggers bark items are made for: the two common
// ones (npc.TriggerProximity, npc.TriggerSchedule) and a few occasions a
// game may name.
var BarkTriggers = []string{npc.TriggerProximity, npc.TriggerSchedule, "dawn", "dusk", "rain", "market-day", "night", "crowd"}

// MaxBarkWords caps a bark target, in words (the bark rules: at most
// fifteen words).
const MaxBarkWords = 15

func firstName(name string) string {
	if f := strings.Fields(name); len(f) > 0 {
		return f[0]
	}
	return name
}

func fillLine(s, npcName, player string) string {
	return strings.NewReplacer("{n}", firstName(npcName), "{p}", player).Replace(s)
}

// pickLine draws a line of bank that classifies as want.
func pickLine(rng *rand.Rand, bank []string, npcName, player string, want inference.Intent) (string, bool) {
	for range 8 {
		l := fillLine(bank[rng.IntN(len(bank))], npcName, player)
		if npc.ClassifyIntent(l) == want {
			return l, true
		}
	}
	return "", false
}

// socialItems makes greetings and farewells: strangers, named players and
// returning players (who have a remembered exchange, so the prompt shows
// "(you have met before)" and their memories). A stranger's greeting is
// half the time the definition's Greeting; every other reply is the
// template floor's (inference/template) for the request Prepare built.
func (g *gen) socialItems(ctx context.Context, a *agent, opts Options, put func(Item) error) error {
	for _, s := range []struct {
		kind   Kind
		n      int
		intent inference.Intent
	}{{KindGreeting, opts.Greetings, inference.IntentGreeting}, {KindFarewell, opts.Farewells, inference.IntentFarewell}} {
		rng := g.rng(string(s.kind), a.def.ID)
		for i := 0; i < s.n; i++ {
			it, ok, err := g.socialTurn(ctx, a, rng, s.kind, s.intent, i%3)
			if err != nil {
				return err
			}
			if ok {
				if err := put(it); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// socialTurn: mode 0 a stranger, 1 a named player, 2 a returning player.
func (g *gen) socialTurn(ctx context.Context, a *agent, rng *rand.Rand, kind Kind, intent inference.Intent, mode int) (Item, bool, error) {
	id, _ := g.player(rng)
	name := ""
	if mode > 0 {
		name = playerNames[rng.IntN(len(playerNames))]
	}
	if mode == 2 {
		// A remembered exchange an hour or more ago; half the time the
		// player does not repeat their name and the NPC recalls it.
		past := fillLine(pastLines[rng.IntN(len(pastLines))], a.def.Name, name)
		pt := npc.Turn{PlayerID: id, PlayerName: name, Text: past,
			GameTime: g.baseTime.Add(-time.Duration(1+rng.IntN(48)) * time.Hour)}
		preq, err := g.prepare(ctx, a, pt)
		if err != nil {
			return Item{}, false, err
		}
		prev, _ := g.floor.Generate(ctx, preq, nil)
		if err := a.a.Remember(pt, npc.Reply{Result: prev}); err != nil {
			return Item{}, false, err
		}
		if rng.IntN(2) == 0 {
			name = ""
		}
	}
	bank := greetLines
	if kind == KindFarewell {
		bank = farewellLines
	} else if name != "" && rng.IntN(2) == 0 {
		bank = namedGreetLines
	}
	line, ok := pickLine(rng, bank, a.def.Name, name, intent)
	if !ok {
		return Item{}, false, nil
	}
	req, err := g.prepare(ctx, a, npc.Turn{PlayerID: id, PlayerName: name, Text: line, Seed: rng.Uint64()})
	if err != nil {
		return Item{}, false, err
	}
	var resp string
	// The definition's greeting is for a stranger met for the first time;
	// a named or returning player gets the floor's line, which uses the name
	// and the memories.
	if kind == KindGreeting && !req.Returning && req.PlayerName == "" && a.def.Greeting != "" && rng.IntN(2) == 0 {
		resp = a.def.Greeting
	} else {
		res, err := g.floor.Generate(ctx, req, nil)
		if err != nil {
			return Item{}, false, err
		}
		resp = res.Text
	}
	return Item{Prompt: req.SmallPrompt, PrefixBytes: req.SmallPrefixBytes, Response: resp, Kind: kind, NPC: a.def.ID}, true, nil
}

// barkItems makes ambient lines for BarkTriggers: a short sentence or
// leading clause of the bark prompt's lore (at most MaxBarkWords words)
// or, when none is short enough or one time in three, the template floor's
// bark.
func (g *gen) barkItems(ctx context.Context, a *agent, n int, put func(Item) error) error {
	rng := g.rng("bark", a.def.ID)
	for i := 0; i < n; i++ {
		trigger := BarkTriggers[i%len(BarkTriggers)]
		req, err := g.prepare(ctx, a, npc.Turn{Trigger: trigger, Seed: rng.Uint64() | 1})
		if err != nil {
			return err
		}
		var short []string
		for _, l := range PromptLore(req.SmallPrompt) {
			if c := barkClause(l); c != "" && g.allowedInTraining(l) {
				short = append(short, c)
			}
		}
		var resp string
		if len(short) > 0 && rng.IntN(3) > 0 {
			resp = short[rng.IntN(len(short))]
		} else {
			req.Seed = hash64(strconv.FormatUint(g.seed, 10), a.def.ID, trigger, strconv.Itoa(i))
			res, err := g.floor.Generate(ctx, req, nil)
			if err != nil {
				return err
			}
			resp = res.Text
		}
		if words(resp) > MaxBarkWords {
			continue
		}
		if err := put(Item{Prompt: req.SmallPrompt, PrefixBytes: req.SmallPrefixBytes, Response: resp,
			Kind: KindBark, NPC: a.def.ID}); err != nil {
			return err
		}
	}
	return nil
}

// barkClause is s when it has 4 to MaxBarkWords words, else its leading
// clause (up to the first comma, semicolon or dash) when that has 4 to
// MaxBarkWords words, ended with a full stop; else "".
func barkClause(s string) string {
	if n := words(s); n >= 4 && n <= MaxBarkWords {
		return s
	}
	cut := len(s)
	for _, sep := range []string{", ", "; ", " — ", " – ", ": "} {
		if i := strings.Index(s, sep); i >= 0 && i < cut {
			cut = i
		}
	}
	c := strings.TrimRight(s[:cut], ",;:")
	if n := words(c); cut < len(s) && n >= 4 && n <= MaxBarkWords {
		return c + "."
	}
	return ""
}

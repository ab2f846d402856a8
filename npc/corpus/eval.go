package corpus

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"strings"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/embedded/constrain"
)

// DemoQuestOfferSchema is the quest offer schema of the embedded demo
// world (QuestOfferSchema over sim/world), committed at
// npc/corpus/schemas/quest_offer.json; a test keeps it equal to what
// QuestOfferSchema produces.
//
//go:embed schemas/quest_offer.json
var DemoQuestOfferSchema []byte

// EvalPerSentence caps the evaluation questions about one held-out
// sentence (each to a different NPC where several may know it).
const EvalPerSentence = 4

// EvalQuestsPerGiver is how many quest offer prompts the evaluation set
// holds per quest-giving NPC (about 30 for the demo world's ten).
const EvalQuestsPerGiver = 3

// GenerateEval returns the labeled evaluation set for w: lore_qa questions
// about the held-out sentences (HeldOut), phrased with the evaluation-only
// templates and some training ones, asked of NPCs whose knowledge scope
// holds the sentence and kept only when Agent.Prepare's small prompt shows
// it among at least two lore sentences (so a model that copies the right
// one passes, and one that copies any does not); then quest_offer
// prompts (EvalQuestsPerGiver per giver) drawn apart from the training
// ones. Response is a reference reply; Fact the sentence a reply must
// contain. Deterministic for a World and seed.
func GenerateEval(ctx context.Context, w World, seed uint64) ([]EvalItem, error) {
	g, err := newGen(w, seed)
	if err != nil {
		return nil, err
	}
	defer g.close()
	var out []EvalItem
	all := append(append([]qtemplate(nil), evalTemplates...), trainTemplates[3:8]...) // the specific training phrasings
	anyLine := func(string) bool { return true }
	for _, sn := range g.sents {
		if !sn.heldOut {
			continue
		}
		rng := g.rng("eval", sn.key)
		var scope []*agent
		for _, a := range g.agents {
			if a.filter.Allows(sn.chunk) {
				scope = append(scope, a)
			}
		}
		rng.Shuffle(len(scope), func(i, j int) { scope[i], scope[j] = scope[j], scope[i] })
		kept := 0
		for _, a := range scope {
			if kept == EvalPerSentence {
				break
			}
			for _, q := range pickTemplates(rng, all, baseContext(sn, rng), 2) {
				it, _, err := g.loreTurn(ctx, a, rng, q, sn.text, anyLine)
				if err != nil {
					return nil, err
				}
				// Two lore lines at least, so that answering means choosing.
				if it.Kind == KindLoreQA && Normalize(it.Fact) == sn.key && len(PromptLore(it.Prompt)) >= 2 {
					out = append(out, it)
					kept++
					break
				}
			}
		}
	}
	err = g.questItems(ctx, EvalQuestsPerGiver, "eval", func(it Item) error {
		out = append(out, it)
		return nil
	})
	return out, err
}

// EvalOptions configure Evaluate. The zero value means the defaults.
type EvalOptions struct {
	// MaxTokens caps a lore reply, in tokens. Default 80 (npc.Agent's).
	MaxTokens int
	// QuestMaxTokens caps a quest offer reply, in tokens. Default 192.
	QuestMaxTokens int
	// Seed is every request's seed (deterministic backends give the same
	// report for the same seed).
	Seed uint64
	// QuestSchema is the quest offer JSON schema; nil means
	// DemoQuestOfferSchema.
	QuestSchema []byte
	// MaxFailures caps Report.Failures. Default 20; negative lists none.
	MaxFailures int
}

// Report is what Evaluate measured.
type Report struct {
	Items, Passed int
	ByKind        map[Kind]*KindScore
	// Failures lists the first MaxFailures failed items, in item order.
	Failures []Failure
}

// KindScore is the score of one kind.
type KindScore struct {
	Items, Passed int
	Errors        int // items whose Generate call failed (counted as failed)
}

// PassRate is Passed/Items, 0 when there are no items.
func (k KindScore) PassRate() float64 {
	if k.Items == 0 {
		return 0
	}
	return float64(k.Passed) / float64(k.Items)
}

// PassRate is the overall share of items passed, 0 when there are none.
func (r Report) PassRate() float64 {
	if r.Items == 0 {
		return 0
	}
	return float64(r.Passed) / float64(r.Items)
}

// Failure is one failed evaluation item.
type Failure struct {
	Index  int // position in the items
	Kind   Kind
	NPC    string
	Fact   string
	Reply  string
	Reason string
}

// Write prints the report: a line per kind, then the failures listed.
func (r Report) Write(w io.Writer) error {
	var err error
	pr := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	pr("%-12s %6s %6s %7s %6s\n", "kind", "items", "passed", "rate", "errors")
	for _, k := range Kinds {
		if s := r.ByKind[k]; s != nil {
			pr("%-12s %6d %6d %6.1f%% %6d\n", k, s.Items, s.Passed, 100*s.PassRate(), s.Errors)
		}
	}
	pr("%-12s %6d %6d %6.1f%%\n", "total", r.Items, r.Passed, 100*r.PassRate())
	for _, f := range r.Failures {
		pr("FAIL #%d %s %s: %s\n  fact:  %s\n  reply: %s\n", f.Index, f.Kind, f.NPC, f.Reason, f.Fact, f.Reply)
	}
	return err
}

// Evaluate asks m every item's prompt and scores the replies:
//
//   - lore_qa passes when the reply contains the item's Fact, both compared
//     in Normalize form (case, white space and punctuation ignored) and on
//     word boundaries;
//   - dont_know passes when the reply does not contain the Fact (the NPC
//     did not state what it should not know);
//   - quest_offer passes when the reply, trimmed of surrounding white space,
//     is JSON that validates against the quest offer schema
//     (constrain's Schema.Validate).
//
// Each request carries the prompt as both Prompt and SmallPrompt (with
// PrefixBytes), the item's intent, MaxTokens and Seed, and the structured
// fields parsed back from the prompt (persona name, player name, the
// player's line and the Lore sentences as Facts) for backends that read
// them, such as the template floor. A failed Generate counts as a failure
// (Errors); Evaluate returns an error only for an invalid option or item
// (empty prompt, a kind it cannot score) or when ctx ends.
func Evaluate(ctx context.Context, m inference.Model, items []EvalItem, opts EvalOptions) (Report, error) {
	if m == nil {
		return Report{}, fmt.Errorf("corpus: Evaluate: nil model")
	}
	if opts.MaxTokens == 0 {
		opts.MaxTokens = 80
	}
	if opts.QuestMaxTokens == 0 {
		opts.QuestMaxTokens = 192
	}
	if opts.MaxFailures == 0 {
		opts.MaxFailures = 20
	}
	if opts.MaxTokens < 0 || opts.QuestMaxTokens < 0 {
		return Report{}, fmt.Errorf("corpus: Evaluate: negative MaxTokens")
	}
	raw := opts.QuestSchema
	if raw == nil {
		raw = DemoQuestOfferSchema
	}
	var schema *constrain.Schema
	rep := Report{ByKind: map[Kind]*KindScore{}}
	for i, it := range items {
		switch {
		case it.Prompt == "":
			return rep, fmt.Errorf("corpus: Evaluate: item %d: empty prompt", i)
		case it.Kind == KindQuestOffer && schema == nil:
			s, err := constrain.Compile(raw)
			if err != nil {
				return rep, fmt.Errorf("corpus: Evaluate: quest offer schema: %w", err)
			}
			schema = s
		case it.Kind != KindLoreQA && it.Kind != KindDontKnow && it.Kind != KindQuestOffer:
			return rep, fmt.Errorf("corpus: Evaluate: item %d: kind %q has no automatic score (want lore_qa, dont_know or quest_offer)", i, it.Kind)
		case it.Kind == KindLoreQA && Normalize(it.Fact) == "":
			return rep, fmt.Errorf("corpus: Evaluate: item %d: lore_qa item without a fact", i)
		}
	}
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		req := RequestFor(it)
		req.Seed = opts.Seed
		req.MaxTokens = opts.MaxTokens
		if it.Kind == KindQuestOffer {
			req.MaxTokens = opts.QuestMaxTokens
			// Backends that support it (the embedded model) decode under the
			// schema; the others are scored on what they write.
			req.ResponseSchema = raw
		}
		ks := rep.ByKind[it.Kind]
		if ks == nil {
			ks = &KindScore{}
			rep.ByKind[it.Kind] = ks
		}
		ks.Items++
		rep.Items++
		res, err := m.Generate(ctx, req, nil)
		var reason string
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			ks.Errors++
			reason = "generate: " + err.Error()
		case it.Kind == KindLoreQA:
			if !containsFact(res.Text, it.Fact) {
				reason = "reply does not contain the fact"
			}
		case it.Kind == KindDontKnow:
			if Normalize(it.Fact) != "" && containsFact(res.Text, it.Fact) {
				reason = "reply states a fact the NPC should not know"
			}
		case it.Kind == KindQuestOffer:
			if err := schema.Validate([]byte(strings.TrimSpace(res.Text))); err != nil {
				reason = err.Error()
			}
		}
		if reason == "" {
			ks.Passed++
			rep.Passed++
			continue
		}
		if opts.MaxFailures > 0 && len(rep.Failures) < opts.MaxFailures {
			rep.Failures = append(rep.Failures, Failure{Index: i, Kind: it.Kind, NPC: it.NPC, Fact: it.Fact,
				Reply: res.Text, Reason: reason})
		}
	}
	return rep, nil
}

// containsFact: the Normalize form of fact occurs in reply's on word
// boundaries.
func containsFact(reply, fact string) bool {
	return strings.Contains(" "+Normalize(reply)+" ", " "+Normalize(fact)+" ")
}

// RequestFor is the request an item's prompt stands for: Prompt and
// SmallPrompt (with their prefix length), the intent of its kind, and the
// structured fields read back from the small prompt's layout ("You are
// <Name>, …", the Lore lines as Facts, "<Player> says: <line>"). Seed and
// MaxTokens are left zero.
func RequestFor(it Item) *inference.Request {
	req := &inference.Request{Prompt: it.Prompt, PrefixBytes: it.PrefixBytes, SmallPrompt: it.Prompt,
		SmallPrefixBytes: it.PrefixBytes, Intent: inference.IntentDialogue, Persona: inference.Persona{ID: it.NPC}}
	switch it.Kind {
	case KindGreeting:
		req.Intent = inference.IntentGreeting
	case KindFarewell:
		req.Intent = inference.IntentFarewell
	case KindBark:
		req.Intent = inference.IntentBark
	}
	if rest, ok := strings.CutPrefix(it.Prompt, "You are "); ok {
		if k := strings.IndexAny(rest, ",\n"); k > 0 {
			req.Persona.Name = rest[:k]
		}
	}
	for _, l := range promptLoreLines(it.Prompt) {
		req.Facts = append(req.Facts, inference.Fact{Heading: l.heading, Text: l.text})
	}
	lines := strings.Split(strings.TrimRight(it.Prompt, "\n"), "\n")
	if len(lines) >= 2 {
		who, said, ok := strings.Cut(lines[len(lines)-2], " says: ")
		if ok {
			req.UserText = said
			if w, met := strings.CutSuffix(who, " (you have met before)"); met {
				who, req.Returning = w, true
			}
			if who != "A stranger" {
				req.PlayerName = who
			}
		}
	}
	return req
}

type loreLine struct {
	heading []string
	text    string
}

func promptLoreLines(prompt string) []loreLine {
	i := strings.Index(prompt, "\n\nLore:\n")
	if i < 0 {
		return nil
	}
	var out []loreLine
	for _, line := range strings.Split(prompt[i+len("\n\nLore:\n"):], "\n") {
		if !strings.HasPrefix(line, "- ") {
			break
		}
		line = line[2:]
		var h []string
		if strings.HasPrefix(line, "[") {
			if j := strings.Index(line, "] "); j >= 0 {
				h = strings.Split(line[1:j], " > ")
				line = line[j+2:]
			}
		}
		out = append(out, loreLine{h, line})
	}
	return out
}

func newLineScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	return sc
}

// Package corpus builds the training data of Hearth's embedded model from a
// world's lore and NPC definitions, and scores a model on a labeled
// evaluation set.
//
// Every prompt in a corpus is the small prompt (inference.Request.
// SmallPrompt, templates npc.dialogue-small and npc.bark-small) that
// npc.Agent.Prepare renders for the turn at inference time, with the NPC's
// real knowledge-filtered lore retrieval, so training prompts are exactly
// what the model sees when it serves. Responses are written in the NPC's
// voice by rules (lore answers copy a retrieved sentence verbatim) or
// distilled from the template floor (inference/template); `hearth distill`
// replaces them with a larger model's.
//
// A corpus is JSONL, one Item per line. Kinds:
//
//   - lore_qa: a player question about one lore sentence the NPC may know;
//     the response copies the sentence from the prompt's Lore section
//     after a short in-persona lead. Fact is the copied sentence.
//   - dont_know: a question the prompt's lore does not answer (the sentence
//     was not retrieved, is outside the NPC's knowledge scope, or names
//     something that does not exist); the response says so in persona.
//   - greeting, farewell: a player opening or closing a conversation
//     (stranger, named, returning with memories); the response is the
//     NPC's Greeting or the template floor's line.
//   - bark: an ambient one-liner for a trigger; a short lore sentence or
//     clause from the bark prompt (at most 15 words), or the floor's bark.
//   - quest_offer: a quest offer as compact JSON (QuestOffer, schema
//     QuestOfferSchema) for a planned quest of the quest package.
//
// Ten percent of the lore sentences (by a stable hash, HeldOut) are never
// asked about, nor copied, in a training corpus: their questions, with new
// phrasings, form the evaluation set (GenerateEval, Evaluate).
package corpus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/npc"
	"github.com/hearth-ai/hearth/quest"
)

// Kind is what a corpus item teaches.
type Kind string

// The kinds of corpus items; see the package doc.
const (
	KindLoreQA     Kind = "lore_qa"
	KindDontKnow   Kind = "dont_know"
	KindGreeting   Kind = "greeting"
	KindFarewell   Kind = "farewell"
	KindBark       Kind = "bark"
	KindQuestOffer Kind = "quest_offer"
)

// Kinds lists every kind in report order.
var Kinds = []Kind{KindLoreQA, KindDontKnow, KindGreeting, KindFarewell, KindBark, KindQuestOffer}

// Item is one line of a corpus or evaluation JSONL file.
type Item struct {
	// Prompt is the small prompt the model sees, byte for byte.
	Prompt string `json:"prompt"`
	// PrefixBytes is the length in bytes of Prompt's stable prefix
	// (persona and rules), as Request.SmallPrefixBytes.
	PrefixBytes int `json:"prefix_bytes"`
	// Response is the target reply (without a trailing newline).
	Response string `json:"response"`
	Kind     Kind   `json:"kind"`
	NPC      string `json:"npc"` // NPC id
	// Fact is, for lore_qa, the lore sentence the reply must contain
	// (Evaluate's check); for dont_know, the sentence the question was
	// made from. "" for other kinds.
	Fact string `json:"fact,omitempty"`
	// Source says where Response came from when not from this package's
	// rules, e.g. "distill:gpt-4o-mini" (hearth distill).
	Source string `json:"source,omitempty"`
}

// EvalItem is one labeled evaluation case: an Item whose Prompt is asked
// of the model and whose Fact (lore_qa) or schema (quest_offer) judges the
// reply. Response holds a reference reply.
type EvalItem = Item

// World is what a corpus is generated from. Build it from an open stack
// (middleware.OpenStack): its lore library, the chunks in its store
// (LoadChunks), its roster's definitions and its quest world.
type World struct {
	Lore   *lore.Library    // required: the library Agent.Prepare searches
	Chunks []lore.Chunk     // required: every chunk of Lore (lore.Library.Chunks)
	NPCs   []npc.Definition // required: at least one
	// Quests is the quest world for quest_offer items; nil: none.
	Quests *quest.World
	// Prompts are the prompt templates; nil means npc.DefaultPrompts.
	Prompts *inference.Prompts
}

// ContextTokens is the embedded model's context length in tokens: prompt
// and response together must fit (issue 3: a 512-token context).
const ContextTokens = 512

// ApproxTokens estimates the tokens of s as bytes/4 rounded up, the rule of
// thumb for English BPE vocabularies (OpenAI's tokenizer guide: about four
// characters per token); the embedded model's own tokenizer is trained on
// this corpus and is not known when it is generated.
func ApproxTokens(s string) int { return (len(s) + 3) / 4 }

// Options configure Generate. The zero value means the documented
// defaults.
type Options struct {
	// Seed makes the corpus reproducible: the same World, Options and Seed
	// give the same bytes.
	Seed uint64
	// PerSentence is how many questions are asked about each informative
	// lore sentence, per NPC that may know it. Default 6.
	PerSentence int
	// OutOfScope is how many questions each NPC is asked about sentences
	// outside its knowledge scope (dont_know when retrieval cannot bring
	// them). Default 150.
	OutOfScope int
	// Unknown is how many questions each NPC is asked about things that do
	// not exist. Default 40.
	Unknown int
	// Greetings, Farewells and Barks are items per NPC. Defaults 120, 60, 60.
	Greetings, Farewells, Barks int
	// QuestOffers is quest offers per quest-giving NPC. Default 200.
	QuestOffers int
	// MaxTokens bounds prompt plus response in ApproxTokens; longer items
	// are dropped and counted in Stats.Dropped. Default ContextTokens.
	MaxTokens int
	// Counterfactual is the share (0..1) of lore_qa items that also get a
	// counterfactual copy, whose answer is found only in its prompt
	// (perturb.go). Default 0: none.
	Counterfactual float64
	// CounterfactualWords is the most content words of a fact a
	// counterfactual copy replaces (each copy replaces one to this many,
	// uniformly). More makes the copied sentence less like any sentence
	// seen in training, so that only copying answers it. Default 3.
	CounterfactualWords int
	// Splice is the share (0..1) of lore_qa items that also get a spliced
	// copy, whose answer is the head of the fact joined to the tail of
	// another sentence (perturb.go). Default 0: none.
	Splice float64
	// Shuffle is the share (0..1) of lore_qa items that also get a copy
	// whose fact's words are in a random order (perturb.go). Default 0.
	Shuffle float64
	// Emitted, when set, is called with every item written, after emit
	// returns without error (hearth corpus -drills collects drills there).
	Emitted func(Item)
	// PerturbedOnly leaves out the lore_qa items as asked and keeps only
	// their counterfactual and spliced copies: no lore answer can then be
	// recited from memory, which is what a model that should copy needs
	// to unlearn. The other kinds are kept.
	PerturbedOnly bool
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.PerSentence, 8)
	def(&o.OutOfScope, 150)
	def(&o.Unknown, 40)
	def(&o.Greetings, 120)
	def(&o.Farewells, 60)
	def(&o.Barks, 60)
	def(&o.QuestOffers, 200)
	def(&o.MaxTokens, ContextTokens)
	def(&o.CounterfactualWords, 3)
	return o
}

func (o Options) check() error {
	for _, v := range []struct {
		name string
		n    int
	}{{"PerSentence", o.PerSentence}, {"OutOfScope", o.OutOfScope}, {"Unknown", o.Unknown},
		{"Greetings", o.Greetings}, {"Farewells", o.Farewells}, {"Barks", o.Barks},
		{"QuestOffers", o.QuestOffers}, {"MaxTokens", o.MaxTokens}, {"CounterfactualWords", o.CounterfactualWords}} {
		if v.n < 0 {
			return fmt.Errorf("corpus: Options.%s %d: must not be negative", v.name, v.n)
		}
	}
	if !(o.Counterfactual >= 0 && o.Counterfactual <= 1) {
		return fmt.Errorf("corpus: Options.Counterfactual %g: want a share in [0, 1]", o.Counterfactual)
	}
	if !(o.Splice >= 0 && o.Splice <= 1) {
		return fmt.Errorf("corpus: Options.Splice %g: want a share in [0, 1]", o.Splice)
	}
	if !(o.Shuffle >= 0 && o.Shuffle <= 1) {
		return fmt.Errorf("corpus: Options.Shuffle %g: want a share in [0, 1]", o.Shuffle)
	}
	if o.PerSentence > len(trainTemplates) {
		return fmt.Errorf("corpus: Options.PerSentence %d: at most %d question templates exist", o.PerSentence, len(trainTemplates))
	}
	return nil
}

// Generate writes a training corpus for w to emit, one item at a time, in
// a deterministic order (NPCs by id, then kind), and returns its
// statistics. It fails on an invalid World or Options, when Agent.Prepare
// fails or renders no small prompt, or when emit fails (its error is
// returned wrapped). Items over Options.MaxTokens are dropped and counted.
func Generate(ctx context.Context, w World, opts Options, emit func(Item) error) (Stats, error) {
	opts = opts.withDefaults()
	if err := opts.check(); err != nil {
		return Stats{}, err
	}
	g, err := newGen(w, opts.Seed)
	if err != nil {
		return Stats{}, err
	}
	defer g.close()
	if opts.Emitted != nil {
		inner := emit
		emit = func(it Item) error {
			if err := inner(it); err != nil {
				return err
			}
			opts.Emitted(it)
			return nil
		}
	}
	st := newStats()
	// The perturbed copies of a lore answer (perturb.go), each drawn with
	// its own seeded RNG so that turning one on does not change another's.
	type perturbation struct {
		share float64
		rng   *rand.Rand
		count *int // in st
		copy  func(Item, *rand.Rand) (Item, bool)
	}
	var perturbs []perturbation
	if opts.Counterfactual > 0 {
		pools := buildPools(g.sents)
		perturbs = append(perturbs, perturbation{opts.Counterfactual, rand.New(rand.NewPCG(opts.Seed, 0x636f756e746572)), // "counter"
			&st.Counterfactual, func(it Item, rng *rand.Rand) (Item, bool) {
				return pools.counterfactual(it, rng, opts.CounterfactualWords)
			}})
	}
	if opts.Splice > 0 {
		spl := newSplicer(g.sents)
		perturbs = append(perturbs, perturbation{opts.Splice, rand.New(rand.NewPCG(opts.Seed, 0x73706c696365)), // "splice"
			&st.Spliced, spl.splice})
	}
	if opts.Shuffle > 0 {
		perturbs = append(perturbs, perturbation{opts.Shuffle, rand.New(rand.NewPCG(opts.Seed, 0x73687566666c65)), // "shuffle"
			&st.Shuffled, shuffled})
	}
	put := func(it Item) error {
		if ApproxTokens(it.Prompt)+ApproxTokens(it.Response) > opts.MaxTokens {
			st.Dropped++
			return nil
		}
		isLore := it.Kind == KindLoreQA
		if !(opts.PerturbedOnly && isLore) {
			st.add(it)
			if err := emit(it); err != nil {
				return err
			}
		}
		for _, p := range perturbs {
			if !isLore || p.rng.Float64() >= p.share {
				continue
			}
			cp, ok := p.copy(it, p.rng)
			if !ok || ApproxTokens(cp.Prompt)+ApproxTokens(cp.Response) > opts.MaxTokens {
				continue
			}
			st.add(cp)
			*p.count++
			if err := emit(cp); err != nil {
				return err
			}
		}
		return nil
	}
	for _, a := range g.agents {
		if err := ctx.Err(); err != nil {
			return st.finish(), err
		}
		if err := g.loreItems(ctx, a, opts, put); err != nil {
			return st.finish(), err
		}
		if err := g.socialItems(ctx, a, opts, put); err != nil {
			return st.finish(), err
		}
		if err := g.barkItems(ctx, a, opts.Barks, put); err != nil {
			return st.finish(), err
		}
	}
	if err := g.questItems(ctx, opts.QuestOffers, "train", put); err != nil {
		return st.finish(), err
	}
	return st.finish(), nil
}

// WriteJSONL writes items as JSONL: one compact JSON object per line, no
// HTML escaping, in Item's field order.
func WriteJSONL(w io.Writer, items []Item) error {
	enc := NewEncoder(w)
	for _, it := range items {
		if err := enc.Encode(it); err != nil {
			return err
		}
	}
	return nil
}

// Encoder writes Items as JSONL lines.
type Encoder struct{ enc *json.Encoder }

// NewEncoder returns an Encoder writing to w.
func NewEncoder(w io.Writer) *Encoder {
	e := json.NewEncoder(w)
	e.SetEscapeHTML(false)
	return &Encoder{enc: e}
}

// Encode writes it as one line.
func (e *Encoder) Encode(it Item) error { return e.enc.Encode(it) }

// ReadJSONL reads items from JSONL (blank lines skipped). Each line must be
// one Item object with no unknown fields; the error names the line.
func ReadJSONL(r io.Reader) ([]Item, error) {
	var out []Item
	err := ScanJSONL(r, func(line int, it Item, err error) error {
		if err != nil {
			return fmt.Errorf("corpus: line %d: %w", line, err)
		}
		out = append(out, it)
		return nil
	})
	return out, err
}

// ReadJSONLFile is ReadJSONL of the file at path. Errors: the file's open
// error, or ReadJSONL's prefixed with path.
func ReadJSONLFile(path string) ([]Item, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	items, err := ReadJSONL(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return items, nil
}

// ScanJSONL calls fn for every non-blank line of r with its 1-based line
// number and the decoded Item, or the line's decoding error (a line that
// is not one Item object, or has unknown fields; it does not repeat the
// line number). fn's error stops the
// scan and is returned; so does a read error or a line over 16 MiB.
func ScanJSONL(r io.Reader, fn func(line int, it Item, err error) error) error {
	sc := newLineScanner(r)
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var it Item
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		err := dec.Decode(&it)
		if err == nil && dec.More() {
			err = errors.New("trailing data after the object")
		}
		if err := fn(n, it, err); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("corpus: read line %d: %w", n+1, err)
	}
	return nil
}

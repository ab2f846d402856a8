package corpus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/npc"
)

// HeldOutPercent is the share of lore sentences kept out of training for
// the evaluation set.
const HeldOutPercent = 10

// HeldOut reports whether a lore sentence belongs to the evaluation split:
// FNV-1a of its Normalize form, modulo 100, below HeldOutPercent. The split
// depends on the sentence alone, never on a seed, so it is the same for
// every corpus of a world.
func HeldOut(sentence string) bool {
	return hash64("heldout", Normalize(sentence))%100 < HeldOutPercent
}

// sentence is an informative lore sentence.
type sentence struct {
	text, key string
	chunk     *lore.Chunk
	heldOut   bool
	// noTrain: held out, or containing or contained in a held-out
	// sentence (near duplicates: "Three-pint copper kettle with the guild
	// stamp: …" holds "Copper kettle with the guild stamp: …"); never asked
	// about nor copied in training.
	noTrain  bool
	subjects []subject
	k1, k2   string
}

type agent struct {
	a      *npc.Agent
	def    npc.Definition
	filter lore.Filter
	voice  voice
}

type gen struct {
	w        World
	seed     uint64
	st       *store.Store
	floor    *template.Model
	agents   []*agent
	sents    []*sentence
	byKey    map[string]*sentence
	unknown  []subject
	players  int
	baseTime time.Time
}

// newGen builds a private roster over a fresh in-memory store (so memories
// written for returning players never leak between corpora) that shares
// w.Lore, and indexes the lore sentences.
func newGen(w World, seed uint64) (*gen, error) {
	if w.Lore == nil || len(w.NPCs) == 0 {
		return nil, errors.New("corpus: World.Lore and at least one World.NPCs definition are required")
	}
	if len(w.Chunks) == 0 {
		return nil, errors.New("corpus: World.Chunks is empty (see LoadChunks)")
	}
	so := store.DefaultOptions("")
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	so.Logger = quiet
	st, err := store.Open(so)
	if err != nil {
		return nil, err
	}
	floor := template.New()
	router, err := inference.NewRouter(floor, nil, inference.RouterOptions{})
	if err != nil {
		st.Close()
		return nil, err
	}
	roster, err := npc.NewRoster(w.NPCs, npc.Deps{Lore: w.Lore, Store: st, Router: router, Prompts: w.Prompts, Logger: quiet})
	if err != nil {
		st.Close()
		return nil, err
	}
	g := &gen{w: w, seed: seed, st: st, floor: floor, byKey: map[string]*sentence{},
		baseTime: time.Date(2026, time.March, 1, 12, 0, 0, 0, time.UTC)}
	for _, d := range roster.Definitions() {
		a, _ := roster.Get(d.ID)
		g.agents = append(g.agents, &agent{a: a, def: d, filter: d.Knowledge.Filter(), voice: newVoice(d)})
	}
	g.indexSentences()
	for _, u := range unknownSubjects {
		if len(w.Lore.Entities().Lookup(u.name)) == 0 && !g.mentioned(u.name) {
			g.unknown = append(g.unknown, u)
		}
	}
	return g, nil
}

func (g *gen) close() { g.st.Close() }

// mentioned reports whether any chunk's text names s.
func (g *gen) mentioned(s string) bool {
	n := " " + Normalize(strings.TrimPrefix(s, "the ")) + " "
	for i := range g.w.Chunks {
		if strings.Contains(" "+Normalize(g.w.Chunks[i].Text)+" ", n) {
			return true
		}
	}
	return false
}

// informative: a statement of 6 to 40 words with at least three content
// terms, not a table row or a lead-in to a list.
func informative(s string) bool {
	n := words(s)
	return n >= 6 && n <= 40 && !strings.Contains(s, "|") && !strings.HasSuffix(s, ":") &&
		len(termSet(s)) >= 3
}

type nameForm struct {
	norm string
	e    lore.Entity
}

func (g *gen) indexSentences() {
	// Entity names a sentence may mention: names and capitalised aliases,
	// longest first so "Kettle Green" wins over "Kettle".
	var forms []nameForm
	for _, e := range g.w.Lore.Entities().All() {
		for i, n := range append([]string{e.Name}, e.Aliases...) {
			if i > 0 && strings.ToLower(n) == n {
				continue
			}
			k := Normalize(strings.TrimPrefix(strings.TrimPrefix(n, "The "), "the "))
			if len(k) >= 3 {
				forms = append(forms, nameForm{k, e})
			}
		}
	}
	sort.SliceStable(forms, func(i, j int) bool { return len(forms[i].norm) > len(forms[j].norm) })
	df := map[string]int{}
	for ci := range g.w.Chunks {
		c := &g.w.Chunks[ci]
		for _, s := range Sentences(c.Text) {
			if !informative(s) {
				continue
			}
			key := Normalize(s)
			if _, dup := g.byKey[key]; dup {
				continue
			}
			sn := &sentence{text: s, key: key, chunk: c, heldOut: HeldOut(s)}
			g.byKey[key] = sn
			g.sents = append(g.sents, sn)
			for t := range termSet(s) {
				df[t]++
			}
		}
	}
	var held []string
	for _, sn := range g.sents {
		if sn.heldOut {
			held = append(held, " "+sn.key+" ")
		}
	}
	for _, sn := range g.sents {
		padded := " " + sn.key + " "
		sn.noTrain = sn.heldOut || slices.ContainsFunc(held, func(h string) bool {
			return strings.Contains(padded, h) || strings.Contains(h, padded)
		})
	}
	for _, sn := range g.sents {
		padded := " " + sn.key + " "
		used := map[string]bool{}
		for _, f := range forms {
			if len(sn.subjects) == 2 {
				break
			}
			if used[f.e.ID] || !strings.Contains(padded, " "+f.norm+" ") {
				continue
			}
			used[f.e.ID] = true
			sn.subjects = append(sn.subjects, subject{name: f.e.Name, aliases: f.e.Aliases, typ: f.e.Type})
		}
		if len(sn.subjects) == 0 {
			sn.subjects = g.docSubject(sn.chunk)
		}
		sn.k1, sn.k2 = keywords(sn, df, len(g.sents))
	}
}

// docSubject is the entity a chunk's document is about: the one whose name
// is the document title, else the title itself.
func (g *gen) docSubject(c *lore.Chunk) []subject {
	if len(c.Heading) == 0 {
		return nil
	}
	title := c.Heading[0]
	for _, id := range c.Entities {
		if e, ok := g.w.Lore.Entities().Get(id); ok && Normalize(e.Name) == Normalize(title) {
			return []subject{{name: e.Name, aliases: e.Aliases, typ: e.Type}}
		}
	}
	return []subject{{name: title}}
}

// keywords are the two rarest content words of a sentence (highest inverse
// document frequency over the world's sentences, earliest first on ties)
// that are not part of its subjects' names, in their surface form.
func keywords(sn *sentence, df map[string]int, n int) (string, string) {
	names := map[string]bool{}
	for _, s := range sn.subjects {
		for _, t := range terms(s.name) {
			names[t] = true
		}
	}
	type kw struct {
		w   string
		idf float64
		pos int
	}
	var ks []kw
	seen := map[string]bool{}
	for i, w := range strings.Fields(Normalize(sn.text)) {
		if stopwords[w] || weakWords[w] || len(w) < 4 || isNumber(w) || strings.HasSuffix(w, "ly") {
			continue
		}
		t := stemTerm(w)
		if names[t] || seen[t] {
			continue
		}
		seen[t] = true
		ks = append(ks, kw{w, math.Log(float64(n+1) / float64(df[t]+1)), i})
	}
	sort.SliceStable(ks, func(i, j int) bool { return ks[i].idf > ks[j].idf })
	switch len(ks) {
	case 0:
		return "", ""
	case 1:
		return ks[0].w, ""
	}
	return ks[0].w, ks[1].w
}

// weakWords make poor question keywords: common verbs, adjectives,
// adverbs and prepositions that are rare enough to score a high inverse
// document frequency but name nothing ("the Kettle Market and the longer?").
var weakWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`longer never always still every other another first last though although
		until since while because without within between around above below near against among through during
		before after behind beyond under across toward towards upon along away back down even ever together
		begin begins began loses lost makes made make takes took take comes came come goes went gone gets got
		keeps kept gives gave given holds held runs ran stands stood says told tells think thinks believe believes
		known knows called call calls used uses using being having whole half same such each both either neither
		more most less least many much several few some none once twice three four five seven eight nine
		seventh tenth hundred thousand good best better worse worst great small large little big long short high
		older oldest young new next only just also well really quite rather enough almost`) {
		m[w] = true
	}
	return m
}()

func isNumber(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < '0' || w[i] > '9' {
			return false
		}
	}
	return w != ""
}

func (g *gen) rng(parts ...string) *rand.Rand {
	h := hash64(append([]string{fmt.Sprint(g.seed)}, parts...)...)
	return rand.New(rand.NewPCG(h, h^0x9e3779b97f4a7c15))
}

// baseContext is the question context for a sentence and one of its
// subjects.
func baseContext(sn *sentence, rng *rand.Rand) qctx {
	q := qctx{k1: sn.k1, k2: sn.k2, claim: claimOf(sn.text)}
	if len(sn.chunk.Heading) > 0 {
		q.title = midName(sn.chunk.Heading[0])
	}
	if len(sn.chunk.Heading) >= 2 {
		q.section = sn.chunk.Heading[len(sn.chunk.Heading)-1]
	}
	if len(sn.subjects) > 0 {
		s := sn.subjects[rng.IntN(len(sn.subjects))]
		q.x, q.typ, q.hasX = midName(s.name), s.typ, true
		// Now and then a player uses an alias with a capital (a name, not
		// "the inn"): the lore registry finds either.
		var named []string
		for _, a := range s.aliases {
			if strings.ToLower(a) != a {
				named = append(named, a)
			}
		}
		if len(named) > 0 && rng.IntN(4) == 0 {
			q.x = midName(named[rng.IntN(len(named))])
		}
	}
	return q
}

// player draws who speaks: a name, or "" (a stranger) two times in five.
func (g *gen) player(rng *rand.Rand) (id, name string) {
	g.players++
	id = fmt.Sprintf("corpus-player-%d", g.players)
	if rng.IntN(5) < 2 {
		return id, ""
	}
	return id, playerNames[rng.IntN(len(playerNames))]
}

// prepare runs Agent.Prepare for a turn and checks the small prompt.
func (g *gen) prepare(ctx context.Context, a *agent, t npc.Turn) (*inference.Request, error) {
	if t.GameTime.IsZero() {
		t.GameTime = g.baseTime
	}
	req, _, err := a.a.Prepare(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("corpus: npc %q: prepare: %w", a.def.ID, err)
	}
	if req.SmallPrompt == "" {
		return nil, fmt.Errorf("corpus: npc %q: Agent.Prepare rendered no small prompt (Request.SmallPrompt)", a.def.ID)
	}
	return req, nil
}

// PromptLore returns the lore sentences of a small prompt's "Lore:"
// section (lines "- [Heading > …] sentence"), without the heading
// markers, in order; nil when the prompt has none.
func PromptLore(prompt string) []string {
	var out []string
	for _, l := range promptLoreLines(prompt) {
		out = append(out, l.text)
	}
	return out
}

// answer decides a lore reply from a small prompt's Lore lines: the asked
// sentence when the prompt shows it; else the first line, in prompt
// order, that allowed accepts and whose heading path and sentence together
// hold every key term of the question; else nothing (the NPC does not
// know). second is another allowed line sharing a key term, or "".
// blocked reports a line allowed refused that would have answered: the
// item is then left out rather than taught as "I don't know".
func answer(lines []loreLine, asked string, keyTerms []string, allowed func(string) bool) (target, second string, blocked bool) {
	askedKey := Normalize(asked)
	need := map[string]bool{}
	for _, t := range keyTerms {
		need[t] = true
	}
	covers := func(l loreLine) int {
		return overlap(keyTerms, termSet(strings.Join(l.heading, " ")+" "+l.text))
	}
	for _, l := range lines {
		if asked != "" && Normalize(l.text) == askedKey {
			target = l.text
			break
		}
	}
	if target != "" && !allowed(target) {
		return "", "", true
	}
	if target == "" && len(need) > 0 {
		for _, l := range lines {
			if covers(l) == len(need) {
				if !allowed(l.text) {
					return "", "", true
				}
				target = l.text
				break
			}
		}
	}
	if target == "" {
		return "", "", false
	}
	for _, l := range lines {
		if l.text != target && allowed(l.text) && covers(l) > 0 && words(l.text)+words(target) <= 45 {
			return target, l.text, false
		}
	}
	return target, "", false
}

// allowedInTraining refuses held-out sentences (and lines that are not
// informative sentences of the world, which are never copied either).
func (g *gen) allowedInTraining(l string) bool {
	sn, ok := g.byKey[Normalize(l)]
	return ok && !sn.noTrain
}

// loreTurn asks q of a and returns the item: lore_qa when the prompt
// answers it, dont_know otherwise; ok is false when only a line allowed
// refuses would answer it (the item is left out). asked is the source
// sentence ("" for a question about something that does not exist).
func (g *gen) loreTurn(ctx context.Context, a *agent, rng *rand.Rand, q question, asked string,
	allowed func(string) bool) (it Item, ok bool, err error) {
	id, name := g.player(rng)
	req, err := g.prepare(ctx, a, npc.Turn{PlayerID: id, PlayerName: name, Text: q.text, Seed: rng.Uint64()})
	if err != nil {
		return Item{}, false, err
	}
	it = Item{Prompt: req.SmallPrompt, PrefixBytes: req.SmallPrefixBytes, NPC: a.def.ID}
	target, second, blocked := answer(promptLoreLines(req.SmallPrompt), asked, q.keyTerms, allowed)
	if blocked {
		return Item{}, false, nil
	}
	if target == "" {
		it.Kind, it.Response, it.Fact = KindDontKnow, a.voice.unknown(rng), asked
		return it, true, nil
	}
	resp := target
	if lead := a.voice.lead(rng); lead != "" {
		resp = lead + " " + target
	}
	if second != "" && rng.IntN(4) == 0 {
		resp += " " + second
	}
	it.Kind, it.Response, it.Fact = KindLoreQA, resp, target
	return it, true, nil
}

// loreAsk puts the training item of one question, if it has one.
func (g *gen) loreAsk(ctx context.Context, a *agent, rng *rand.Rand, q question, asked string, put func(Item) error) error {
	it, ok, err := g.loreTurn(ctx, a, rng, q, asked, g.allowedInTraining)
	if err != nil || !ok {
		return err
	}
	return put(it)
}

func (g *gen) loreItems(ctx context.Context, a *agent, opts Options, put func(Item) error) error {
	var out []*sentence
	for _, sn := range g.sents {
		if sn.noTrain {
			continue
		}
		if !a.filter.Allows(sn.chunk) {
			out = append(out, sn)
			continue
		}
		rng := g.rng("lore", a.def.ID, sn.key)
		for _, q := range pickTemplates(rng, trainTemplates, baseContext(sn, rng), opts.PerSentence) {
			if err := g.loreAsk(ctx, a, rng, q, sn.text, put); err != nil {
				return err
			}
		}
	}
	// Questions about lore outside the NPC's scope: retrieval cannot bring
	// it, so the honest answer is usually "I don't know".
	rng := g.rng("out-of-scope", a.def.ID)
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	for _, sn := range out[:min(opts.OutOfScope, len(out))] {
		for _, q := range pickTemplates(rng, trainTemplates, baseContext(sn, rng), 1) {
			if err := g.loreAsk(ctx, a, rng, q, sn.text, put); err != nil {
				return err
			}
		}
	}
	if len(g.unknown) == 0 {
		return nil
	}
	rng = g.rng("unknown", a.def.ID)
	for i := 0; i < opts.Unknown; i++ {
		u := g.unknown[rng.IntN(len(g.unknown))]
		base := qctx{x: u.name, typ: u.typ, hasX: true}
		for _, q := range pickTemplates(rng, trainTemplates, base, 1) {
			if err := g.loreAsk(ctx, a, rng, q, "", put); err != nil {
				return err
			}
		}
	}
	return nil
}

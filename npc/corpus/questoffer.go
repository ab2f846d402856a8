package corpus

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/inference/embedded/constrain"
	"github.com/hearth-ai/hearth/npc"
	"github.com/hearth-ai/hearth/quest"
)

// QuestOffer is the JSON document an NPC's quest offer is written as: the
// parts of a quest.Quest a small model writes, flattened to one target per
// objective. Field order is the schema's property order (QuestOfferSchema).
type QuestOffer struct {
	Title      string           `json:"title"`       // at most MaxTitleRunes code points
	Giver      string           `json:"giver"`       // NPC id
	Objectives []OfferObjective `json:"objectives"`  // 1..quest.MaxObjectives
	RewardGold int              `json:"reward_gold"` // 0..MaxRewardGold gold pieces
}

// OfferObjective is one quest step: the quest.Objective's action, its first
// target (creature, item or NPC id; the place id for go to and explore),
// count and place.
type OfferObjective struct {
	Action   string `json:"action"`   // a quest.Action
	Target   string `json:"target"`   // entity id
	Count    int    `json:"count"`    // 1..10
	Location string `json:"location"` // place id
}

// Bounds of a QuestOffer (the schema's maxLength and maximum).
const (
	MaxTitleRunes = 60
	MaxRewardGold = 500
	MaxCount      = 10
)

// QuestOfferSchema returns the JSON schema of QuestOffer for world w and
// the speaking NPCs givers (sorted; only those w knows as NPCs are kept):
// enums of giver ids, actions (quest.Actions), target ids (every place,
// creature, item and NPC of w) and place ids; every property required, no
// others allowed. It is the subset inference/embedded/constrain compiles,
// and the schema committed at npc/corpus/schemas/quest_offer.json for the
// demo world. The output is indented JSON ending in a newline.
func QuestOfferSchema(w *quest.World, givers []string) ([]byte, error) {
	if w == nil {
		return nil, errors.New("corpus: QuestOfferSchema: nil quest world")
	}
	gs := questGivers(w, givers)
	if len(gs) == 0 {
		return nil, errors.New("corpus: QuestOfferSchema: no giver is an NPC of the quest world")
	}
	actions := make([]string, len(quest.Actions))
	for i, a := range quest.Actions {
		actions[i] = string(a)
	}
	places := append([]string(nil), w.Places()...)
	targets := append([]string(nil), places...)
	for _, c := range w.Creatures() {
		targets = append(targets, c.ID)
	}
	for _, it := range w.Items() {
		targets = append(targets, it.ID)
	}
	for _, n := range w.NPCs() {
		targets = append(targets, n.ID)
	}
	sort.Strings(targets)
	targets = slices.Compact(targets)
	type obj = map[string]any
	schema := obj{
		"type":                 "object",
		"additionalProperties": false,
		"required":             []string{"title", "giver", "objectives", "reward_gold"},
		"properties": orderedProps{
			{"title", obj{"type": "string", "minLength": 1, "maxLength": MaxTitleRunes}},
			{"giver", obj{"type": "string", "enum": gs}},
			{"objectives", obj{"type": "array", "minItems": 1, "maxItems": quest.MaxObjectives,
				"items": obj{"type": "object", "additionalProperties": false,
					"required": []string{"action", "target", "count", "location"},
					"properties": orderedProps{
						{"action", obj{"type": "string", "enum": actions}},
						{"target", obj{"type": "string", "enum": targets}},
						{"count", obj{"type": "integer", "minimum": 1, "maximum": MaxCount}},
						{"location", obj{"type": "string", "enum": places}},
					}}}},
			{"reward_gold", obj{"type": "integer", "minimum": 0, "maximum": MaxRewardGold}},
		},
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(schema); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// orderedProps marshals as a JSON object keeping its order (JSON schema
// "properties", whose order the constrained decoder follows).
type orderedProps []struct {
	k string
	v any
}

func (p orderedProps) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(kv.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(kv.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func questGivers(w *quest.World, givers []string) []string {
	var out []string
	for _, id := range givers {
		if n, ok := w.NPC(id); ok && n.Alive {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// offerOf flattens a quest into a QuestOffer; ok is false when it does not
// fit the schema's bounds (title length, counts, gold).
func offerOf(q quest.Quest) (QuestOffer, bool) {
	o := QuestOffer{Title: q.Title, Giver: q.Giver, RewardGold: q.Reward.Gold}
	if utf8.RuneCountInString(q.Title) > MaxTitleRunes || q.Title == "" || q.Reward.Gold < 0 || q.Reward.Gold > MaxRewardGold ||
		len(q.Objectives) == 0 || len(q.Objectives) > quest.MaxObjectives {
		return o, false
	}
	for _, ob := range q.Objectives {
		t := ob.Location
		if len(ob.Targets) > 0 {
			t = ob.Targets[0]
		}
		c := max(ob.Count, 1)
		if c > MaxCount {
			return o, false
		}
		o.Objectives = append(o.Objectives, OfferObjective{Action: string(ob.Action), Target: t, Count: c, Location: ob.Location})
	}
	return o, true
}

// QuestOfferPrompt renders the prompt a quest offer is asked with: the
// giver's small-prompt stable prefix (persona and rules, prefix), then the
// request (player level, place, motivation), the ids the offer may use
// near the player, and the instruction, ending with "<Name> (JSON):" and a
// newline, as the dialogue prompts end with "<Name>:" and a newline.
// near lists place, creature, item and NPC ids (each list sorted).
func QuestOfferPrompt(prefix, npcName string, level int, place, placeName string, m quest.Motivation, near Near) string {
	var b strings.Builder
	b.WriteString(prefix)
	fmt.Fprintf(&b, "\n\nQuest request: a level %d traveller at %s (%s); motivation: %s.", level, placeName, place, m)
	for _, l := range []struct {
		name string
		ids  []string
	}{{"Places", near.Places}, {"Creatures", near.Creatures}, {"Items", near.Items}, {"People", near.People}} {
		if len(l.ids) > 0 {
			fmt.Fprintf(&b, "\n%s near: %s.", l.name, strings.Join(l.ids, ", "))
		}
	}
	b.WriteString("\nOffer one quest as JSON: title, giver, objectives (action, target, count, location), reward_gold.\n")
	b.WriteString(npcName + " (JSON):\n")
	return b.String()
}

// Near are the entity ids a quest offer may use, by kind.
type Near struct{ Places, Creatures, Items, People []string }

// maxNear caps each Near list.
const maxNear = 8

// nearOf lists ids within two hops of place plus every id q uses (so the
// target is always in the prompt), each list capped at maxNear with q's
// ids kept, sorted.
func nearOf(w *quest.World, place string, q quest.Quest, rng *rand.Rand) Near {
	must := map[string]bool{}
	for _, o := range q.Objectives {
		must[o.Location] = true
		for _, t := range o.Targets {
			must[t] = true
		}
	}
	must[q.Giver] = true
	near := map[string]bool{}
	for _, p := range w.Within(place, 2) {
		near[p] = true
	}
	var n Near
	for _, p := range w.Places() {
		if near[p] || must[p] {
			n.Places = append(n.Places, p)
		}
	}
	for _, c := range w.Creatures() {
		if must[c.ID] || (!c.Tame && slices.ContainsFunc(c.Habitats, func(h string) bool { return near[h] })) {
			n.Creatures = append(n.Creatures, c.ID)
		}
	}
	for _, it := range w.Items() {
		if must[it.ID] || slices.ContainsFunc(it.Places, func(h string) bool { return near[h] }) {
			n.Items = append(n.Items, it.ID)
		}
	}
	for _, p := range w.NPCs() {
		if must[p.ID] || near[p.Home] {
			n.People = append(n.People, p.ID)
		}
	}
	trim := func(ids []string) []string {
		if len(ids) <= maxNear {
			return ids
		}
		var keep, rest []string
		for _, id := range ids {
			if must[id] {
				keep = append(keep, id)
			} else {
				rest = append(rest, id)
			}
		}
		rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
		keep = append(keep, rest[:max(0, maxNear-len(keep))]...)
		sort.Strings(keep)
		return keep
	}
	n.Places, n.Creatures, n.Items, n.People = trim(n.Places), trim(n.Creatures), trim(n.Items), trim(n.People)
	return n
}

// questItems makes n quest offers per quest-giving NPC (those w.Quests
// knows, alive), from the quest generator, for random levels, places near
// the giver's home and the giver's motivations. stream separates the
// training and evaluation draws.
func (g *gen) questItems(ctx context.Context, n int, stream string, put func(Item) error) error {
	qw := g.w.Quests
	if qw == nil || n == 0 {
		return nil
	}
	qg, err := quest.NewGenerator(qw, quest.GeneratorOptions{CacheSize: -1, Budget: 10 * time.Second, NoFallback: true})
	if err != nil {
		return err
	}
	var ids []string
	for _, a := range g.agents {
		ids = append(ids, a.def.ID)
	}
	raw, err := QuestOfferSchema(qw, ids)
	if err != nil {
		return err
	}
	schema, err := constrain.Compile(raw)
	if err != nil {
		return fmt.Errorf("corpus: quest offer schema: %w", err)
	}
	for _, a := range g.agents {
		giver, ok := qw.NPC(a.def.ID)
		if !ok || !giver.Alive {
			continue
		}
		greq, err := g.prepare(ctx, a, npc.Turn{PlayerID: "corpus-quest", Text: "Hello."})
		if err != nil {
			return err
		}
		prefix := greq.SmallPrompt[:greq.SmallPrefixBytes]
		motivations := giver.Motivations
		if len(motivations) == 0 {
			motivations = quest.Motivations
		}
		rng := g.rng("quest", stream, a.def.ID)
		places := qw.Within(giver.Home, 2)
		made := 0
		for try := 0; made < n && try < 4*n; try++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			level := qw.MinLevel + rng.IntN(qw.MaxLevel-qw.MinLevel+1)
			place := places[rng.IntN(len(places))]
			m := motivations[rng.IntN(len(motivations))]
			q, err := qg.Generate(ctx, quest.Request{PlayerID: "corpus", Level: level, Location: place,
				Motivation: m, Giver: giver.ID, Seed: rng.Uint64(), Budget: 10 * time.Second})
			if err != nil {
				continue // nothing groundable for this draw (quest.ErrNoSuitableQuest)
			}
			offer, ok := offerOf(q)
			if !ok {
				continue
			}
			doc, err := json.Marshal(offer)
			if err != nil {
				return err
			}
			// Canonical is the form the constrained decoder accepts.
			target, err := constrain.Canonical(schema, doc)
			if err != nil {
				continue // outside the schema (a target id the quest world does not list)
			}
			p, _ := qw.Place(place)
			prompt := QuestOfferPrompt(prefix, a.def.Name, level, place, p.Name, q.Motivation, nearOf(qw, place, q, rng))
			made++
			if err := put(Item{Prompt: prompt, PrefixBytes: len(prefix), Response: string(target), Kind: KindQuestOffer,
				NPC: a.def.ID}); err != nil {
				return err
			}
		}
	}
	return nil
}

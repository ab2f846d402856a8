package quest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hearth-ai/hearth/inference"
)

// Repair returns q made valid for req (the player's level and location,
// and the seed for new choices), or an error wrapping ErrNoSuitableQuest
// and the problems left. It replaces only what Validate finds at fault —
// another target or place for a bad objective (never the one that
// failed), another structure when the actions do not fit the motivation,
// another giver, a recomputed reward or level range, new text — and
// validates again, for up to GeneratorOptions.MaxRepairs rounds within
// req's budget. A valid q comes back unchanged. Repair does not fall back
// to another quest type; Generate does.
func (g *Generator) Repair(ctx context.Context, q Quest, req Request) (Quest, error) {
	if err := ctx.Err(); err != nil {
		return Quest{}, err
	}
	if err := g.checkRequest(req); err != nil {
		return Quest{}, err
	}
	p := g.newPlan(ctx, req)
	q, _, ok := p.validated(cloneQuest(q))
	if !ok {
		ps := Validate(g.w, q, req.Level)
		return Quest{}, fmt.Errorf("quest: %w: repair left %d problems: %w", ErrNoSuitableQuest, len(ps), errors.Join(problemErrs(ps)...))
	}
	return q, nil
}

// repair runs one repair round over problems.
func (p *plan) repair(q Quest, problems []Problem) Quest {
	q = cloneQuest(q)
	if p.exclude == nil {
		p.exclude = map[string]bool{}
	}
	redo := make([]bool, len(q.Objectives))
	var restructure, regiver, rereward, retext, changed bool
	for _, pr := range problems {
		f := pr.Field
		switch {
		case strings.HasPrefix(f, "objectives["):
			i, part := objectiveField(f)
			if i < 0 || i >= len(q.Objectives) {
				restructure = true
				continue
			}
			redo[i] = true
			o := q.Objectives[i]
			switch {
			case strings.HasPrefix(part, "targets["):
				if j, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(part, "targets["), "]")); err == nil && j < len(o.Targets) {
					p.exclude[o.Targets[j]] = true
				}
			case part == "location":
				// A location at fault for its target (not a habitat, not
				// a home): pick the pair again, but keep the place
				// available when it is a place at all.
				g := p.w.npcs[q.Giver]
				if p.w.places[o.Location] == nil || g != nil && p.w.Distance(g.Home, o.Location) < 0 {
					p.exclude[o.Location] = true
				}
			case part == "action":
				restructure = true
			}
		case f == "objectives" || f == "motivation":
			restructure = true
		case f == "giver":
			regiver = true
		case strings.HasPrefix(f, "reward"):
			rereward = true
		case f == "level":
			q.Level = LevelRangeFor(p.w, p.req.Level)
		case f == "title" || f == "description" || f == "dialogue":
			retext = true
		case f == "world":
			q.World = p.w.Name
		case strings.HasPrefix(f, "prerequisites"):
			q.Prerequisites = slices.DeleteFunc(q.Prerequisites, func(s string) bool { return s == "" || s == q.ID })
			if len(q.Prerequisites) == 0 {
				q.Prerequisites = nil
			}
		}
	}

	// The giver: keep a valid one, else the nearest fit.
	if g := p.w.npcs[q.Giver]; g != nil && g.Alive && !regiver {
		p.giver = g
	} else {
		p.exclude[q.Giver] = true
		giver := p.newGiver(q.Motivation)
		if giver == nil {
			return q // nothing to repair with; validation keeps failing
		}
		p.giver, q.Giver, changed = giver, giver.ID, true
		// Objectives that pointed at the new giver must change too.
		for i, o := range q.Objectives {
			if slices.Contains(o.Targets, giver.ID) || o.Action == Deliver {
				redo[i] = true
			}
		}
	}
	if !ValidMotivation(q.Motivation) {
		restructure = true
		q.Motivation = p.motivations(p.giver)[0]
	}

	actions := make([]Action, len(q.Objectives))
	for i, o := range q.Objectives {
		actions[i] = o.Action
	}
	if !restructure && slices.Contains(redo, true) {
		// Refill what depends on a refilled objective.
		for i := range redo {
			if redo[i] && i+1 < len(actions) && (actions[i] == Gather || actions[i] == Explore || actions[i] == Kill) {
				redo[i+1] = true
			}
		}
		if objs, ok := p.fill(actions, q.Objectives, redo); ok {
			q.Objectives, changed = objs, true
		} else {
			restructure = true
		}
	}
	if restructure {
		for _, s := range p.structureOrder(q.Motivation) {
			if objs, ok := p.fill(s.Actions, nil, nil); ok {
				q.Objectives, changed = objs, true
				break
			}
		}
	}
	if changed || rereward {
		q.Reward = p.reward(q.Objectives, q.Reward.Items, false)
	}
	if changed || retext {
		p.writeText(&q)
		q.Tier = inference.TierTemplate
	}
	q.ID = questID(q)
	return q
}

// objectiveField splits "objectives[2].targets[0]" into 2 and
// "targets[0]"; i is -1 when f does not parse.
func objectiveField(f string) (i int, part string) {
	rest := strings.TrimPrefix(f, "objectives[")
	num, rest, ok := strings.Cut(rest, "]")
	if !ok {
		return -1, ""
	}
	i, err := strconv.Atoi(num)
	if err != nil {
		return -1, ""
	}
	return i, strings.TrimPrefix(rest, ".")
}

// newGiver returns the nearest living NPC, not excluded, that allows m,
// else the nearest living one; nil when none is reachable.
func (p *plan) newGiver(m Motivation) *NPC {
	var anyone *NPC
	for _, layer := range p.layers {
		for _, pi := range layer {
			for _, ni := range p.ix.aliveAt[pi] {
				n := p.ix.npcs[ni]
				if p.exclude[n.ID] {
					continue
				}
				if allows(n, m) {
					return n
				}
				if anyone == nil {
					anyone = n
				}
			}
		}
	}
	if anyone != nil {
		return anyone
	}
	// Farther than MaxHops: the nearest reachable at all.
	best, bestD := (*NPC)(nil), -1
	for _, n := range p.ix.npcs {
		if !n.Alive || p.exclude[n.ID] {
			continue
		}
		if d := p.w.Distance(p.req.Location, n.Home); d >= 0 && (bestD < 0 || d < bestD) {
			best, bestD = n, d
		}
	}
	return best
}

// fallback makes the documented fallback quest: a Knowledge errand from
// the requested giver or the nearest living NPC (one that gives Knowledge
// quests if any is near) — talk to someone near, else go to and explore a
// place near.
func (p *plan) fallback() (Quest, bool) {
	giver := p.w.npcs[p.req.Giver]
	if giver == nil {
		p.exclude = nil
		giver = p.newGiver(Knowledge)
	}
	if giver == nil {
		return Quest{}, false
	}
	p.giver, p.exclude = giver, nil
	for _, acts := range fallbackStructures {
		objs, ok := p.fill(acts, nil, nil)
		if !ok {
			continue
		}
		q, _, ok := p.validated(p.assemble(Knowledge, objs))
		if ok {
			return q, true
		}
	}
	return Quest{}, false
}

package quest

// Grounding: filling a structure's actions with entities near the player.

// cand is a candidate for one action: an entity index (creature, item or
// NPC, by action) and the place index where the objective happens.
type cand struct{ e, place int }

// pick grows the search radius from 1 to MaxHops hops around the player
// and, at the first radius with candidates, picks one uniformly among
// those that pass the most preferences: each preference narrows the
// candidates only when some candidate passes it. collect adds the
// candidates of one place.
func (p *plan) pick(collect func(place int, add func(e, place int)), prefs ...func(cand) bool) (cand, bool) {
	var cs []cand
	add := func(e, place int) { cs = append(cs, cand{e, place}) }
	for h, layer := range p.layers {
		for _, pi := range layer {
			collect(pi, add)
		}
		if len(cs) > 0 && (h >= 1 || len(p.layers) == 1) {
			break
		}
	}
	if len(cs) == 0 {
		return cand{}, false
	}
	for _, pref := range prefs {
		n := 0
		for _, c := range cs {
			if pref(c) {
				n++
			}
		}
		if n == 0 || n == len(cs) {
			continue
		}
		kept := make([]cand, 0, n)
		for _, c := range cs {
			if pref(c) {
				kept = append(kept, c)
			}
		}
		cs = kept
	}
	return cs[p.rng.IntN(len(cs))], true
}

// fill grounds actions. With prev nil it fills every objective; otherwise
// it starts from prev and refills only the objectives marked in redo. A go
// to followed by another action always goes where that action happens.
func (p *plan) fill(actions []Action, prev []Objective, redo []bool) ([]Objective, bool) {
	objs := make([]Objective, len(actions))
	if prev != nil {
		copy(objs, cloneQuest(Quest{Objectives: prev}).Objectives)
	}
	for i, a := range actions {
		if a == GoTo && i+1 < len(actions) {
			continue
		}
		if prev != nil && !redo[i] {
			continue
		}
		var before *Objective
		if i > 0 && actions[i-1] != GoTo {
			before = &objs[i-1]
		}
		away := i > 0 && actions[i-1] == GoTo
		o, ok := p.fillAction(a, before, away)
		if !ok {
			return nil, false
		}
		objs[i] = o
	}
	for i, a := range actions {
		if a == GoTo && i+1 < len(actions) {
			objs[i] = Objective{Action: GoTo, Count: 1, Location: objs[i+1].Location}
		}
	}
	return objs, true
}

func (p *plan) fillAction(a Action, before *Objective, away bool) (Objective, bool) {
	switch a {
	case Kill, Defend:
		return p.fillFight(a, away)
	case Gather:
		return p.fillGather(away)
	case Deliver:
		return p.fillDeliver(before)
	case TalkTo:
		return p.fillTalk(away)
	case Escort:
		return p.fillEscort(before)
	case GoTo, Explore:
		return p.fillPlace(a, away)
	case Use:
		return p.fillUse(before)
	}
	return Objective{}, false
}

func (p *plan) notLoc(c cand) bool { return c.place != p.loc }

func (p *plan) placeID(pi int) string { return p.ix.places[pi].ID }

// fillFight grounds a kill (a creature at one of its habitats) or a
// defence (a place with a creature living there or next door).
func (p *plan) fillFight(a Action, away bool) (Objective, bool) {
	level := p.req.Level
	fits := func(ci int) bool {
		c := p.ix.creatures[ci]
		return !c.Tame && FitsLevel(c.Challenge, level) && !p.exclude[c.ID]
	}
	var collect func(pi int, add func(e, place int))
	if a == Kill {
		collect = func(pi int, add func(e, place int)) {
			if p.exclude[p.placeID(pi)] {
				return
			}
			for _, ci := range p.ix.creaturesAt[pi] {
				if fits(ci) {
					add(ci, pi)
				}
			}
		}
	} else {
		collect = func(pi int, add func(e, place int)) {
			if p.exclude[p.placeID(pi)] {
				return
			}
			for _, ci := range p.ix.creaturesAt[pi] {
				if fits(ci) {
					add(ci, pi)
				}
			}
			for _, nb := range p.ix.adj[pi] {
				for _, ci := range p.ix.creaturesAt[nb] {
					if fits(ci) {
						add(ci, pi)
					}
				}
			}
		}
	}
	prefs := []func(cand) bool{
		func(c cand) bool { return meaningful(p.ix.creatures[c.e].Challenge, level) },
		func(c cand) bool { return !p.recent["kill:"+p.ix.creatures[c.e].ID] },
	}
	if a == Defend {
		// Defend a settlement: a place someone lives.
		prefs = append(prefs, func(c cand) bool { return len(p.ix.aliveAt[c.place]) > 0 })
	}
	if away {
		prefs = append(prefs, p.notLoc)
	}
	c, ok := p.pick(collect, prefs...)
	if !ok {
		return Objective{}, false
	}
	cr := p.ix.creatures[c.e]
	count := KillCount(cr.Challenge, level)
	if p.ix.forms[cr.ID].unique {
		count = 1 // one individual (formsOf)
	}
	return Objective{Action: a, Targets: []string{cr.ID}, Count: count, Location: p.placeID(c.place)}, true
}

// gatherCount is how many of an item a gather objective asks for: more of
// cheap things (Hearth convention).
func (p *plan) gatherCount(value int) int {
	switch {
	case value <= 1:
		return 3 + p.rng.IntN(6) // 3..8
	case value <= 10:
		return 2 + p.rng.IntN(4) // 2..5
	case value <= 100:
		return 1 + p.rng.IntN(3) // 1..3
	}
	return 1
}

func (p *plan) fillGather(away bool) (Objective, bool) {
	valueCap := ItemValueCap(p.req.Level)
	c, ok := p.pick(func(pi int, add func(e, place int)) {
		if p.exclude[p.placeID(pi)] {
			return
		}
		for _, ii := range p.ix.gatherAt[pi] {
			if !p.exclude[p.ix.items[ii].ID] {
				add(ii, pi)
			}
		}
	},
		func(c cand) bool { return p.ix.items[c.e].Value <= valueCap },
		func(c cand) bool { return !p.recent["collect:"+p.ix.items[c.e].ID] },
		func(c cand) bool { return !away || p.notLoc(c) },
	)
	if !ok {
		return Objective{}, false
	}
	it := p.ix.items[c.e]
	return Objective{Action: Gather, Targets: []string{it.ID}, Count: p.gatherCount(it.Value), Location: p.placeID(c.place)}, true
}

// npcNear picks a living NPC other than the giver whose home is near.
func (p *plan) npcNear(prefs ...func(cand) bool) (cand, bool) {
	return p.pick(func(pi int, add func(e, place int)) {
		for _, ni := range p.ix.aliveAt[pi] {
			n := p.ix.npcs[ni]
			if n.ID != p.giver.ID && !p.exclude[n.ID] {
				add(ni, pi)
			}
		}
	}, prefs...)
}

// anyItem picks an item the giver could hand over: worth at most the
// level's cap when one is, not excluded.
func (p *plan) anyItem(prefer func(*Item) bool) (*Item, bool) {
	valueCap := ItemValueCap(p.req.Level)
	var cs, capped, preferred []*Item
	for _, it := range p.ix.items {
		if p.exclude[it.ID] {
			continue
		}
		cs = append(cs, it)
		if it.Value <= valueCap {
			capped = append(capped, it)
			if prefer != nil && prefer(it) {
				preferred = append(preferred, it)
			}
		}
	}
	switch {
	case len(preferred) > 0:
		cs = preferred
	case len(capped) > 0:
		cs = capped
	}
	if len(cs) == 0 {
		return nil, false
	}
	return cs[p.rng.IntN(len(cs))], true
}

func (p *plan) fillDeliver(before *Objective) (Objective, bool) {
	if before != nil && before.Action == Gather && len(before.Targets) == 1 {
		item, count := before.Targets[0], before.Count
		// Bring it back to the giver half the time, else to someone near.
		if p.rng.IntN(2) == 0 && !p.exclude[p.giver.ID] {
			return Objective{Action: Deliver, Targets: []string{item, p.giver.ID}, Count: count, Location: p.giver.Home}, true
		}
		if c, ok := p.npcNear(func(c cand) bool { return !p.recent["deliver:"+p.ix.npcs[c.e].ID] }); ok {
			n := p.ix.npcs[c.e]
			return Objective{Action: Deliver, Targets: []string{item, n.ID}, Count: count, Location: n.Home}, true
		}
		if p.exclude[p.giver.ID] {
			return Objective{}, false
		}
		return Objective{Action: Deliver, Targets: []string{item, p.giver.ID}, Count: count, Location: p.giver.Home}, true
	}
	// The giver hands over something to take to someone else.
	c, ok := p.npcNear(func(c cand) bool { return !p.recent["deliver:"+p.ix.npcs[c.e].ID] })
	if !ok {
		return Objective{}, false
	}
	it, ok := p.anyItem(nil)
	if !ok {
		return Objective{}, false
	}
	n := p.ix.npcs[c.e]
	return Objective{Action: Deliver, Targets: []string{it.ID, n.ID}, Count: 1, Location: n.Home}, true
}

func (p *plan) fillTalk(away bool) (Objective, bool) {
	c, ok := p.npcNear(
		func(c cand) bool { return !p.recent["talk:"+p.ix.npcs[c.e].ID] },
		func(c cand) bool { return !away || p.notLoc(c) },
	)
	if !ok {
		return Objective{}, false
	}
	n := p.ix.npcs[c.e]
	return Objective{Action: TalkTo, Targets: []string{n.ID}, Count: 1, Location: n.Home}, true
}

// fillEscort picks a living NPC near and a place to take them: the giver's
// home after a rescue (a kill before it) or half the time, else another
// place near the player.
func (p *plan) fillEscort(before *Objective) (Objective, bool) {
	c, ok := p.npcNear()
	if !ok {
		return Objective{}, false
	}
	n := p.ix.npcs[c.e]
	home := p.giver.Home
	if home != n.Home && !p.exclude[home] && (before != nil && before.Action == Kill || p.rng.IntN(2) == 0) {
		return Objective{Action: Escort, Targets: []string{n.ID}, Count: 1, Location: home}, true
	}
	var dests []int
	for h := 0; h < len(p.layers) && h <= 2; h++ {
		for _, pi := range p.layers[h] {
			if id := p.placeID(pi); id != n.Home && !p.exclude[id] {
				dests = append(dests, pi)
			}
		}
	}
	if len(dests) == 0 {
		if home == n.Home || p.exclude[home] {
			return Objective{}, false
		}
		return Objective{Action: Escort, Targets: []string{n.ID}, Count: 1, Location: home}, true
	}
	return Objective{Action: Escort, Targets: []string{n.ID}, Count: 1, Location: p.placeID(dests[p.rng.IntN(len(dests))])}, true
}

// fillPlace picks a place near for a go to or an explore: away from the
// player's own place, not lately visited, and for exploring, somewhere
// creatures live.
func (p *plan) fillPlace(a Action, away bool) (Objective, bool) {
	c, ok := p.pick(func(pi int, add func(e, place int)) {
		if !p.exclude[p.placeID(pi)] {
			add(pi, pi)
		}
	},
		p.notLoc,
		func(c cand) bool {
			id := p.placeID(c.place)
			return !p.recent["arrive:"+id] && !p.recent["explore:"+id]
		},
		func(c cand) bool { return a != Explore || len(p.ix.creaturesAt[c.place]) > 0 },
	)
	if !ok {
		return Objective{}, false
	}
	return Objective{Action: a, Count: 1, Location: p.placeID(c.place)}, true
}

// fillUse grounds using an item at a place: the item just gathered, used
// at the giver's home; or, after exploring, something found there, used
// on the spot.
func (p *plan) fillUse(before *Objective) (Objective, bool) {
	if before != nil && before.Action == Gather && len(before.Targets) == 1 {
		loc := p.giver.Home
		if p.exclude[loc] {
			loc = before.Location
		}
		return Objective{Action: Use, Targets: []string{before.Targets[0]}, Count: 1, Location: loc}, true
	}
	loc := ""
	if before != nil {
		loc = before.Location
	} else {
		o, ok := p.fillPlace(Explore, false)
		if !ok {
			return Objective{}, false
		}
		loc = o.Location
	}
	it, ok := p.anyItem(func(it *Item) bool { return contains(it.Places, loc) })
	if !ok {
		return Objective{}, false
	}
	return Objective{Action: Use, Targets: []string{it.ID}, Count: 1, Location: loc}, true
}

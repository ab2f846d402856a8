package middleware

import (
	"fmt"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/npc"
)

// Action is something an NPC does with a reply (npc.Action): give an item,
// offer a quest, move, follow, trade, attack or end the conversation, with
// its typed arguments. Event.Actions carries them, validated.
type Action = npc.Action

// DroppedAction is an action that failed validation and was not
// delivered, with the reason (npc.DroppedAction).
type DroppedAction = npc.DroppedAction

// WorldState is what the host reports of the world around one NPC
// (npc.WorldState): the items it holds, the places it can reach, who is
// present and the quests it may offer.
type WorldState = npc.WorldState

// MaxWorldEntries bounds each list of a WorldState (items, locations,
// present, quests): an NPC's surroundings, not the world's.
const MaxWorldEntries = 1024

// ReportWorld replaces what the NPC npcID of tenant ("" for the default
// one) knows of the world around it: the actions of its later replies are
// validated against it (npc.ValidateActions), and an action that names an
// item it does not hold, a place it cannot reach, someone not present or a
// quest it may not offer is dropped, with the reason, in
// Event.DroppedActions. Until the first report only end_conversation can
// pass.
//
// It never blocks: it checks w, copies it and swaps it in (the latest
// report wins, whole); the caller may reuse w's slices afterwards. Report
// again whenever the NPC's surroundings change. It returns an error for
// an invalid world (a list longer than MaxWorldEntries, an id that is
// empty, longer than npc.MaxActionArgBytes or not valid UTF-8, a negative
// count or price), *npc.UnknownNPCError, or ErrClosed.
func (rt *Runtime) ReportWorld(tenant, npcID string, w WorldState) error {
	if err := checkWorld(w); err != nil {
		return fmt.Errorf("hearth: report world: %w", err)
	}
	agent, err := rt.rosterOf(tenant).Get(npcID)
	if err != nil {
		return err
	}
	rt.submitMu.Lock()
	closed := rt.closed
	rt.submitMu.Unlock()
	if closed {
		return ErrClosed
	}
	c := WorldState{
		Items:     append([]npc.Stock(nil), w.Items...),
		Locations: append([]string(nil), w.Locations...),
		Present:   append([]string(nil), w.Present...),
		Quests:    append([]string(nil), w.Quests...),
	}
	agent.ReportWorld(c)
	return nil
}

// checkWorld reports the first problem with w.
func checkWorld(w WorldState) error {
	for _, l := range []struct {
		name string
		n    int
	}{{"items", len(w.Items)}, {"locations", len(w.Locations)}, {"present", len(w.Present)}, {"quests", len(w.Quests)}} {
		if l.n > MaxWorldEntries {
			return fmt.Errorf("%s: %d entries; the limit is %d", l.name, l.n, MaxWorldEntries)
		}
	}
	id := func(field string, i int, s string) error {
		switch {
		case s == "":
			return fmt.Errorf("%s[%d]: empty id", field, i)
		case len(s) > npc.MaxActionArgBytes:
			return fmt.Errorf("%s[%d]: %d bytes; the limit is %d", field, i, len(s), npc.MaxActionArgBytes)
		case !utf8.ValidString(s):
			return fmt.Errorf("%s[%d]: not valid UTF-8", field, i)
		}
		return nil
	}
	for i, s := range w.Items {
		if err := id("items", i, s.Item); err != nil {
			return err
		}
		switch {
		case s.Count < 0:
			return fmt.Errorf("items[%d] %q: negative count %d", i, s.Item, s.Count)
		case s.Price < 0:
			return fmt.Errorf("items[%d] %q: negative price %d", i, s.Item, s.Price)
		case len(s.Name) > MaxTextBytes || !utf8.ValidString(s.Name):
			return fmt.Errorf("items[%d] %q: name too long or not valid UTF-8", i, s.Item)
		}
	}
	for _, l := range []struct {
		name string
		ids  []string
	}{{"locations", w.Locations}, {"present", w.Present}, {"quests", w.Quests}} {
		for i, s := range l.ids {
			if err := id(l.name, i, s); err != nil {
				return err
			}
		}
	}
	return nil
}

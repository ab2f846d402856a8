package middleware

import (
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/npc"
)

// Deed is something a player or another NPC did to or for an NPC
// (npc.Deed): a gift, help, praise, an insult, a threat, an attack or a
// theft, by Actor, with a Magnitude (0: 1) and optional memory Text.
type Deed = npc.Deed

// Deed reports a deed to an NPC of tenant ("" for the default one): the
// NPC's affinity and trust toward d.Actor (a player's id or another NPC's)
// and its mood move by npc.DeedEffects (with diminishing returns near
// ±1), and the deed is remembered as an observation, so the NPC can say
// why it feels as it does.
//
// Like Observe it never blocks: it validates and queues the deed for a
// background writer and returns. Applying a deed may read the store (the
// pair's first use) and writes it and the memory stream (an embedding, at
// times a compaction), which the game loop must not wait for; one writer
// applies deeds (and observations and meetings) in the order they were reported, so "gift, then theft"
// never lands as "theft, then gift". The next turn with that player sees
// the deed once it is applied; Settle waits for that.
//
// It returns an error for an invalid deed (an unknown kind, no actor, the
// NPC itself as the actor, a magnitude outside 0..npc.MaxDeedMagnitude,
// text that is not valid UTF-8 or longer than MaxTextBytes),
// *npc.UnknownNPCError, *OverloadError (PriorityAmbient) when
// AmbientQueueSize pieces of ambient work are waiting, or ErrClosed. A deed whose write fails
// later (a full disk) is logged and still holds in RAM.
func (rt *Runtime) Deed(tenant, npcID string, d Deed) error {
	if err := d.Validate(npcID); err != nil {
		return fmt.Errorf("hearth: deed: %w", err)
	}
	switch {
	case len(d.Text) > MaxTextBytes:
		return fmt.Errorf("hearth: deed: text is %d bytes; the limit is %d", len(d.Text), MaxTextBytes)
	case !utf8.ValidString(d.Text) || !utf8.ValidString(d.Actor) || !utf8.ValidString(d.ActorName):
		return errors.New("hearth: deed: text is not valid UTF-8")
	}
	agent, err := rt.rosterOf(tenant).Get(npcID)
	if err != nil {
		return err
	}
	if d.GameTime.IsZero() {
		d.GameTime = time.Now() // when it was reported, not when it is applied
	}
	return rt.queueAmbient(func() {
		if _, err := agent.Witness(d); err != nil {
			rt.opts.Logger.Warn("hearth: deed write failed", "npc", npcID, "tenant", tenant,
				"actor", d.Actor, "kind", d.Kind, "err", err)
		}
	})
}

// Relationship returns what NPC npcID of tenant ("" for the default one)
// feels about otherID, a player's id or another NPC's: affinity and trust
// in [-1, 1] (npc.Relationship; a stranger's are 0), including every turn
// remembered and every deed applied so far (Settle waits for queued
// ones). It reads the store on the pair's first use (a point lookup), so
// call it from the game's logic, not from a per-frame path. It returns
// *npc.UnknownNPCError, or the store's error.
func (rt *Runtime) Relationship(tenant, npcID, otherID string) (npc.Relationship, error) {
	if otherID == "" {
		return npc.Relationship{}, errors.New("hearth: relationship: other id is required")
	}
	agent, err := rt.rosterOf(tenant).Get(npcID)
	if err != nil {
		return npc.Relationship{}, err
	}
	return agent.Relationship(otherID)
}

// Mood returns the mood of NPC npcID of tenant at gameTime (zero: now):
// a valence in [-1, 1] decayed toward the NPC's baseline
// (npc.MoodHalfLife game hours per half). It reads the store once per
// NPC. It returns *npc.UnknownNPCError, or the store's error.
func (rt *Runtime) Mood(tenant, npcID string, gameTime time.Time) (npc.Mood, error) {
	agent, err := rt.rosterOf(tenant).Get(npcID)
	if err != nil {
		return npc.Mood{}, err
	}
	return agent.Mood(gameTime)
}

package middleware

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/npc"
)

// Observation is a game event an NPC witnessed or learnt (npc.Observation):
// Text, GameTime, and optionally the PlayerID it concerns ("" for world
// knowledge), the player's name, an Importance (1..10; 0: rated), the
// knowledge scope gossip respects (Region, Tags, Secrecy) and an Event id.
type Observation = npc.Observation

// Observe reports a game event to an NPC's memory stream ("the player hid
// the key under the blue stone"). Like Submit it never blocks: it
// validates, queues the observation for a background writer (which rates
// it when o.Importance is 0, embeds it and persists it) and returns. It
// returns an error for an invalid observation (no text, text or scope
// over MaxTextBytes or not UTF-8, an importance outside 0..10, a negative
// secrecy), *npc.UnknownNPCError, *OverloadError (PriorityAmbient) when
// AmbientQueueSize pieces of ambient work are waiting, or ErrClosed. A turn recalls
// the observation once it is written; Settle waits for that.
func (rt *Runtime) Observe(npcID string, o Observation) error {
	return rt.ObserveTenant("", npcID, o)
}

// ObserveTenant is Observe for the NPC as tenant's players know it (see
// Talk.Tenant): the memory goes to that tenant's stream only.
func (rt *Runtime) ObserveTenant(tenant, npcID string, o Observation) error {
	switch {
	case o.Text == "":
		return errors.New("hearth: observe: text is required")
	case len(o.Text) > MaxTextBytes:
		return fmt.Errorf("hearth: observe: text is %d bytes; the limit is %d", len(o.Text), MaxTextBytes)
	case !utf8.ValidString(o.Text) || !utf8.ValidString(o.PlayerID) || !utf8.ValidString(o.PlayerName):
		return errors.New("hearth: observe: text is not valid UTF-8")
	case o.Importance < 0 || o.Importance > 10:
		return fmt.Errorf("hearth: observe: importance %v: want 0 (rate it) or 1..10", o.Importance)
	}
	if err := checkScope(o); err != nil {
		return err
	}
	o.Tags = slices.Clone(o.Tags) // the host may reuse its slice once we return
	agent, err := rt.rosterOf(tenant).Get(npcID)
	if err != nil {
		return err
	}
	if o.GameTime.IsZero() {
		o.GameTime = time.Now()
	}
	return rt.queueAmbient(func() {
		if err := agent.Observe(o); err != nil {
			rt.opts.Logger.Warn("hearth: observation write failed", "npc", npcID, "tenant", tenant, "err", err)
		}
	})
}

// Maintain runs every NPC's memory upkeep, in every tenant that has been
// used (npc.Agent.Maintain, npc.Roster.Tenants): reflection
// once enough has happened, and compaction past the memory cap. It is
// ambient work: the host calls it when the server is idle (between
// sessions, or from a low-priority timer), never from a turn. gameTime
// dates the reflections (zero: now). It stops at ctx's end and returns
// the totals with the first error.
func (rt *Runtime) Maintain(ctx context.Context, gameTime time.Time) (npc.MaintainReport, error) {
	var total npc.MaintainReport
	var first error
	for _, roster := range rt.roster.Tenants() {
		for _, d := range roster.Definitions() {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			a, err := roster.Get(d.ID)
			if err != nil {
				continue
			}
			rep, err := a.Maintain(ctx, gameTime)
			total.Reflections += rep.Reflections
			total.Folded += rep.Folded
			if err != nil && first == nil {
				first = err
			}
		}
	}
	return total, first
}

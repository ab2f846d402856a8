package middleware

import (
	"context"
	"time"

	"github.com/hearth-ai/hearth/npc"
)

// PregenOptions configure Runtime.Pregenerate. The zero value takes
// npc.PregenLines, npc.PregenTriggers and a 5 s budget per turn.
type PregenOptions struct {
	Lines    []string
	Triggers []string
	// Budget is each pre-generated turn's deadline: long enough for the
	// best backend (a remote large model) to answer, since nobody waits.
	Budget time.Duration
}

// Pregenerate fills the response cache, during idle capacity, with every
// NPC's replies to the turns all strangers share (npc.Agent.Pregenerate:
// greetings, asking for news, proximity and schedule barks), answered by
// the best backend within opts.Budget, so that a new player's first line
// is answered at that quality in microseconds, whatever its budget. It is
// ambient work, like Maintain and Gossip: the host calls it when the
// server is idle (after a start, or when the mood of the world has
// changed), never from a tick; it runs one turn at a time and takes a
// backend's capacity as a player's request would. tenant scopes the
// cache ("" for the default tenant). It stops at ctx's end or at the
// first error (an NPC's prompt that cannot render) and returns the totals
// so far with that error.
func (rt *Runtime) Pregenerate(ctx context.Context, tenant string, opts PregenOptions) (npc.PregenReport, error) {
	var total npc.PregenReport
	roster := rt.rosterOf(tenant)
	for _, d := range roster.Definitions() {
		a, err := roster.Get(d.ID)
		if err != nil {
			continue
		}
		rep, err := a.Pregenerate(ctx, opts.Lines, opts.Triggers, opts.Budget)
		total.Asked += rep.Asked
		total.Cached += rep.Cached
		total.Fresh += rep.Fresh
		total.Floor += rep.Floor
		total.Unshareable += rep.Unshareable
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

package middleware

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/npc"
)

// Observation is a game event an NPC witnessed or learnt (npc.Observation):
// Text, GameTime, and optionally the PlayerID it concerns ("" for world
// knowledge), the player's name and an Importance (1..10; 0: rated).
type Observation = npc.Observation

// ObserveQueueSize is how many observations may wait for their memory
// write; Observe returns an *OverloadError when that many are waiting.
const ObserveQueueSize = 4096

// observation is one accepted Observe call.
type observation struct {
	agent *npc.Agent
	obs   Observation
}

// observer writes a runtime's observations to NPC memory, off the game's
// thread. One per Runtime, started by the first Observe.
type observer struct {
	ch chan observation
}

// observers maps *Runtime to its *observer. It lives outside Runtime so
// that observation stays in this file.
var observers sync.Map

// Observe reports a game event to an NPC's memory stream ("the player hid
// the key under the blue stone"). Like Submit it never blocks: it
// validates, queues the observation for a background writer (which rates
// it when o.Importance is 0, embeds it and persists it) and returns. It
// returns *npc.UnknownNPCError, *OverloadError (PriorityAmbient) when
// ObserveQueueSize observations are waiting, or ErrClosed. A turn recalls
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
	agent, err := rt.rosterOf(tenant).Get(npcID)
	if err != nil {
		return err
	}
	if o.GameTime.IsZero() {
		o.GameTime = time.Now()
	}
	rt.submitMu.Lock()
	defer rt.submitMu.Unlock()
	if rt.closed {
		return ErrClosed
	}
	ob := rt.observer()
	rt.pending.Add(1) // Settle and Close wait for the write
	select {
	case ob.ch <- observation{agent: agent, obs: o}:
		return nil
	default:
		rt.pending.Done()
		rt.metrics.overloaded.WithLabelValues(PriorityAmbient.String()).Inc()
		return &OverloadError{Priority: PriorityAmbient, Capacity: cap(ob.ch)}
	}
}

// observer returns rt's observer, starting it on first use. The caller
// holds submitMu and has checked that rt is open, so the writer is
// counted in rt.wg before Close waits on it.
func (rt *Runtime) observer() *observer {
	if v, ok := observers.Load(rt); ok {
		return v.(*observer)
	}
	ob := &observer{ch: make(chan observation, ObserveQueueSize)}
	observers.Store(rt, ob)
	rt.wg.Add(1)
	go rt.observeLoop(ob)
	return ob
}

func (rt *Runtime) observeLoop(ob *observer) {
	defer rt.wg.Done()
	defer observers.Delete(rt)
	for {
		select {
		case o := <-ob.ch:
			rt.writeObservation(o)
		case <-rt.stop:
			// Close has waited for every accepted observation (pending),
			// so the queue is empty.
			return
		}
	}
}

func (rt *Runtime) writeObservation(o observation) {
	defer rt.pending.Done()
	if err := o.agent.Observe(o.obs); err != nil {
		rt.opts.Logger.Warn("hearth: observation write failed", "npc", o.agent.Definition().ID, "err", err)
	}
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

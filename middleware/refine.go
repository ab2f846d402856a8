package middleware

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/npc"
)

// refineSlot holds a refinement that arrived before its request's reply
// was queued, so that the game always sees the reply first.
type refineSlot struct {
	mu      sync.Mutex
	replied bool   // the EventReply (or EventError) is queued
	early   *Event // the EventRefine, waiting for the reply
}

// answered records that r's reply (or error) is queued and queues a
// refinement that was waiting for it. A nil slot does nothing.
func (s *refineSlot) answered(rt *Runtime) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.replied = true
	ev := s.early
	s.early = nil
	s.mu.Unlock()
	if ev != nil {
		rt.push(*ev)
	}
}

// refineTurn returns the turn to run for r, asking for a refinement when
// the talk wants one, and the function the worker calls once Respond has
// returned, with whether a refinement is under way. A refinement is an
// obligation of the runtime (Settle waits for it) until its EventRefine is
// queued.
func (rt *Runtime) refineTurn(r *request) (npc.Turn, func(refining bool)) {
	turn := r.turn
	if r.refine == nil { // made by submitTurn, before any timer can see r
		return turn, func(bool) {}
	}
	budget := r.talk.RefineBudget
	if budget <= 0 {
		budget = rt.opts.RefineBudget
	}
	ctx, cancel := context.WithDeadline(rt.refineCtx, r.submitted.Add(budget))
	rt.pending.Add(1) // the refinement obligation
	turn.Refine = &npc.Refinement{Ctx: ctx, Done: func(reply npc.Reply, err error) {
		cancel()
		rt.refined(r, reply, err)
		rt.pending.Done()
	}}
	return turn, func(refining bool) {
		if !refining { // no Done will come
			cancel()
			rt.pending.Done()
		}
	}
}

// refined queues r's EventRefine after its reply.
func (rt *Runtime) refined(r *request, reply npc.Reply, err error) {
	ev := Event{Ticket: r.ticket, Kind: EventRefine, Tag: r.talk.Tag, NPCID: r.talk.NPCID,
		Tenant: r.talk.Tenant, PlayerID: r.talk.PlayerID, Latency: time.Since(r.submitted), Budget: r.budget, Err: err}
	if err == nil {
		ev.Text, ev.Tier, ev.Backend = reply.Text, reply.Tier, reply.Backend
		ev.CostUSD, ev.PromptTokens, ev.Tokens = reply.CostUSD, reply.PromptTokens, reply.Tokens
		if reply.Prompt.Name != "" {
			ev.Prompt = reply.Prompt.String()
		}
	}
	rt.metrics.observeRefine(ev)
	s := r.refine
	s.mu.Lock()
	if !s.replied {
		s.early = &ev
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	rt.push(ev)
}

// errQueuedPastDeadline is why a request answered by the floor before any
// worker took it has no refinement.
var errQueuedPastDeadline = errors.New("the request waited in the queue past its deadline")

// refineLate turns the worker's reply, which came after the floor had
// answered r, into r's promised EventRefine: the reply itself when a
// backend better than the floor wrote it, else the reason there is none.
func (rt *Runtime) refineLate(r *request, reply npc.Reply, err error) {
	switch {
	case err != nil:
		err = fmt.Errorf("%w: %w", inference.ErrNoRefinement, err)
	case reply.Floor || reply.Tier == inference.TierTemplate || reply.Guard != "":
		err = fmt.Errorf("%w: nothing better than the floor answered", inference.ErrNoRefinement)
	}
	rt.refined(r, reply, err)
}

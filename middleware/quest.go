package middleware

import (
	"context"
	"errors"
	"time"

	"github.com/hearth-ai/hearth/quest"
)

// ErrNoQuests is returned by SubmitQuest when the runtime has no quest
// generator (Options.Quests is nil: the world has no quest.yaml).
var ErrNoQuests = errors.New("hearth: this runtime has no quest generator (the world has no quest.yaml)")

// QuestRequest asks the runtime for a quest. It runs at PriorityQuest
// unless Priority says otherwise, under the same deadline rules as a talk.
type QuestRequest struct {
	quest.Request
	Tenant   string   // the player's tenant, echoed on the event ("" for the default one)
	Priority Priority // default PriorityQuest
	Tag      uint64   // the caller's correlation id, echoed on the event
}

// SubmitQuest queues a quest request and returns its ticket; the quest
// arrives as an EventQuest (or an EventError naming what was wrong with the
// request: unknown location, level out of range, no suitable quest). Like
// Submit it never blocks: it fails at once with ErrNoQuests, ErrClosed or
// an *OverloadError.
func (rt *Runtime) SubmitQuest(req QuestRequest) (Ticket, error) {
	if rt.opts.Quests == nil {
		return 0, ErrNoQuests
	}
	if req.Priority == PriorityInteractive {
		req.Priority = PriorityQuest // the zero value: quests wait behind dialogue
	}
	if req.Priority >= numPriorities {
		return 0, errors.New("hearth: quest: unknown priority")
	}
	if req.PlayerID == "" {
		return 0, errors.New("hearth: quest: player id is required")
	}
	budget := req.Budget
	if budget <= 0 {
		budget = rt.opts.Budget
	}
	r := &request{questReq: &req, budget: budget, submitted: time.Now(),
		talk: Talk{Tenant: req.Tenant, PlayerID: req.PlayerID, Tag: req.Tag, Priority: req.Priority}}
	r.tr = rt.startTrace(SpanQuest, &r.talk, budget)
	return rt.enqueue(r, req.Priority, func() {
		if r.questReq.Seed == 0 {
			r.questReq.Seed = mixSeed(rt.opts.Seed, uint64(r.ticket))
		}
		r.questReq.Budget = budget
	})
}

// runQuest generates r's quest on a worker, under its work deadline.
func (rt *Runtime) runQuest(r *request) {
	if r.state.Load() != statePending {
		return // the floor answered at the deadline; quests write no memory
	}
	ctx, cancel := context.WithDeadline(r.tr.context(), r.deadline)
	q, err := rt.opts.Quests.Generate(ctx, r.questReq.Request)
	cancel()
	if !r.state.CompareAndSwap(statePending, stateClaimed) {
		return
	}
	if t := r.timer.Load(); t != nil {
		t.Stop()
	}
	floor := false
	if errors.Is(err, context.DeadlineExceeded) {
		// Dequeued after its deadline while the timer was starved of CPU:
		// answer like the timer would have, with the planner and no
		// deadline, never with the context's error.
		q, err = rt.opts.Quests.Generate(context.Background(), r.questReq.Request)
		floor = true
	}
	rt.deliverQuest(r, q, err, floor)
}

// floorQuest answers a quest request whose deadline came first. The
// generator's deterministic planner is itself the floor (tens of
// microseconds, measured by hearth quests), so it runs here without a
// deadline.
func (rt *Runtime) floorQuest(r *request) {
	q, err := rt.opts.Quests.Generate(context.Background(), r.questReq.Request)
	rt.deliverQuest(r, q, err, true)
}

// deliverQuest queues the quest (or the error) for Tick and settles r. The
// caller has claimed r.
func (rt *Runtime) deliverQuest(r *request, q quest.Quest, err error, floor bool) {
	defer rt.pending.Done() // the delivery obligation
	ready := time.Now()
	ev := Event{Ticket: r.ticket, Kind: EventQuest, Tag: r.talk.Tag, PlayerID: r.questReq.PlayerID,
		Latency: ready.Sub(r.submitted), Budget: r.budget, OnTime: !ready.After(r.boundary),
		Floor: floor, boundary: r.boundary}
	if err != nil {
		ev.Kind, ev.Err = EventError, err
	} else {
		ev.Quest = &q
		ev.Tier, ev.Backend, ev.NPCID = q.Tier, "planner", q.Giver
		rt.metrics.observe(ev, featureQuest)
	}
	r.tr.delivering(&ev)
	rt.push(ev)
	r.state.Store(stateDone)
}

// Package middleware is Hearth's tick-aware runtime: the one type a game
// server holds. See Runtime for the contract.
package middleware

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/npc"
	"github.com/hearth-ai/hearth/quest"
	"go.opentelemetry.io/otel/trace"
)

// Priority is a request's scheduling class. Workers always take the highest
// class that has work; ambient work only runs on spare capacity.
type Priority uint8

// The priority classes of DESIGN §3, highest first.
const (
	PriorityInteractive Priority = iota // player dialogue
	PriorityQuest                       // quest generation
	PriorityAmbient                     // barks, reflection, pre-generation, refinements
	numPriorities
)

func (p Priority) String() string {
	switch p {
	case PriorityInteractive:
		return "interactive"
	case PriorityQuest:
		return "quest"
	case PriorityAmbient:
		return "ambient"
	}
	return fmt.Sprintf("priority(%d)", uint8(p))
}

// Ticket identifies one submitted request. Tickets increase by one per
// accepted submission, so the same submissions in the same order get the
// same tickets.
type Ticket uint64

// ErrOverloaded is matched (errors.Is) by the error Submit returns when the
// request's priority queue is full. The request was not accepted; the game
// decides what the NPC says instead.
var ErrOverloaded = errors.New("hearth: runtime overloaded")

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("hearth: runtime closed")

// OverloadError says which queue was full and how large it is.
type OverloadError struct {
	Priority Priority
	Capacity int // queue length, requests
}

func (e *OverloadError) Error() string {
	return fmt.Sprintf("hearth: %s queue full (%d requests); retry later", e.Priority, e.Capacity)
}

// Is makes errors.Is(err, ErrOverloaded) true.
func (e *OverloadError) Is(target error) bool { return target == ErrOverloaded }

// MaxTextBytes caps a player's line, in bytes of UTF-8.
const MaxTextBytes = 2000

// Options configures a Runtime. Zero fields take the documented defaults;
// New rejects negative or out-of-range values with an error naming the
// field.
type Options struct {
	// TickRate is the host's tick rate in Hz. Default 20 (a 50 ms tick).
	TickRate float64
	// Budget is the default budget of a request, from submission to ready.
	// Default 50 ms (DESIGN §1).
	Budget time.Duration
	// SafetyMargin is kept between a request's work deadline and the tick
	// boundary that delivers it, for the floor and the hand-off. Default 2 ms,
	// which leaves the ≈45 ms of work of DESIGN §1's example.
	SafetyMargin time.Duration
	// Workers is the size of the worker pool that runs model work. Default
	// GOMAXPROCS-1, at least 1, so that the game keeps a core.
	Workers int
	// QueueSize is the capacity of each priority's queue, in requests.
	// Default 4096 interactive, 1024 quest, 1024 ambient. A full queue
	// makes Submit return an *OverloadError at once.
	QueueSize [numPriorities]int
	// Seed makes per-request seeds reproducible: the seed of ticket t is a
	// mix of Seed and t.
	Seed uint64
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Quests generates quests for SubmitQuest; nil disables quests.
	// OpenStack sets it when the world has a quest.yaml.
	Quests *quest.Generator
	// TracerProvider makes the OpenTelemetry spans of each request (see
	// trace.go); nil uses the global provider (otel.GetTracerProvider),
	// a no-op unless the host installed one.
	TracerProvider trace.TracerProvider
	// RefineBudget is the default budget of a refinement (Talk.Refine),
	// from submission. Default inference.DefaultRefineBudget (5 s).
	RefineBudget time.Duration
}

func (o *Options) fill() error {
	if o.TickRate == 0 {
		o.TickRate = 20
	}
	if o.Budget == 0 {
		o.Budget = 50 * time.Millisecond
	}
	if o.SafetyMargin == 0 {
		o.SafetyMargin = 2 * time.Millisecond
	}
	if o.Workers == 0 {
		o.Workers = max(1, runtime.GOMAXPROCS(0)-1)
	}
	def := [numPriorities]int{4096, 1024, 1024}
	for i := range o.QueueSize {
		if o.QueueSize[i] == 0 {
			o.QueueSize[i] = def[i]
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.RefineBudget == 0 {
		o.RefineBudget = inference.DefaultRefineBudget
	}
	switch {
	case o.TickRate < 0 || o.TickRate > 1000:
		return fmt.Errorf("middleware: Options.TickRate %v Hz: want 0 < rate <= 1000", o.TickRate)
	case o.Budget < 0:
		return fmt.Errorf("middleware: Options.Budget %v: must be positive", o.Budget)
	case o.SafetyMargin < 0 || o.SafetyMargin >= o.Budget:
		return fmt.Errorf("middleware: Options.SafetyMargin %v: want 0 <= margin < Budget", o.SafetyMargin)
	case o.Workers < 0:
		return fmt.Errorf("middleware: Options.Workers %d: must be positive", o.Workers)
	case o.RefineBudget < 0:
		return fmt.Errorf("middleware: Options.RefineBudget %v: must be positive", o.RefineBudget)
	}
	for i, n := range o.QueueSize {
		if n < 0 {
			return fmt.Errorf("middleware: Options.QueueSize[%s] %d: must be positive", Priority(i), n)
		}
	}
	return nil
}

// Talk is a player's line to an NPC.
type Talk struct {
	NPCID string
	// Tenant is the studio or game the player belongs to ("" for the
	// default tenant). NPC memories and cached replies are kept per
	// tenant (npc.Roster.Tenant): the same PlayerID in two tenants is two
	// players, and an NPC remembers each tenant's world apart.
	Tenant     string
	PlayerID   string
	PlayerName string // optional; the NPC may remember it from earlier
	Text       string // at most MaxTextBytes of valid UTF-8
	Priority   Priority
	Budget     time.Duration // 0 means Options.Budget
	Tag        uint64        // the caller's correlation id, echoed on every event
	// GameTime is when the line is said on the game's clock; NPC memory
	// ranks recency by it. Zero means the wall clock at submission.
	GameTime time.Time
	// Refine asks for "answer now, refine later" (issue 4): the reply
	// comes by the deadline as always, and when a better backend (a
	// remote large model) does not fit the budget it is started at once
	// beside it; the EventReply then has Refining set and one
	// EventRefine follows within RefineBudget, with the better reply or
	// the reason there is none. A reply the deadline floor gave is
	// always Refining (its refinement is the worker's late reply, when
	// better than the floor).
	Refine bool
	// RefineBudget bounds the refinement, from submission; 0 means
	// Options.RefineBudget.
	RefineBudget time.Duration
}

// Runtime schedules NPC work under per-request deadlines and hands results
// to the game at tick boundaries.
//
// The contract, for a game developer:
//
//   - Submit (a player's line), SubmitBark (an NPC's ambient line) and
//     SubmitQuest (a quest) never block. Each validates the request,
//     assigns a Ticket and queues it, or returns an error at once: *npc.UnknownNPCError,
//     *OverloadError when the queue of that priority is full, ErrClosed.
//   - Every accepted request gets exactly one EventReply (or EventError),
//     ready by its deadline: the last tick boundary that falls inside its
//     budget, minus Options.SafetyMargin. If no better reply is ready by
//     then, the floor answer is (a template line that costs microseconds);
//     the Event says so with Floor. Boundaries are predicted from the time
//     of the last Tick and TickRate.
//   - Tick moves finished results into the game's hands: it never waits
//     for a model, the network or the disk, and does not allocate in
//     steady state. Only for a request whose boundary has come unanswered
//     does it do more: it answers with the floor (microseconds), or waits
//     at most 1 ms for the worker that is queueing its reply. Events come out ordered by Ticket (and by sequence
//     within a ticket), so a replay of the same submissions with the same
//     Seed on deterministic backends yields the same event log.
//   - The slice Tick returns is valid until the next call to Tick.
//
// Host it embedded (call Tick from the game loop) or standalone (Run calls
// Tick on its own ticker). All methods are safe for concurrent use, but
// Tick must be called from one goroutine at a time.
type Runtime struct {
	opts    Options
	roster  *npc.Roster
	period  time.Duration
	queues  [numPriorities]chan *request
	wake    chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
	metrics *Metrics

	submitMu   sync.Mutex
	nextTicket Ticket       // last ticket assigned; guarded by submitMu
	closed     bool         // guarded by submitMu
	lastTick   atomic.Int64 // Unix ns of the last Tick; 0 before the first
	tickCount  atomic.Uint64
	closeOnce  sync.Once
	onDelta    atomic.Pointer[func(Event)]
	pending    sync.WaitGroup // obligations of accepted requests not yet met

	readyMu sync.Mutex
	ready   []Event   // filled by workers; guarded by readyMu
	spare   []Event   // the batch Tick sorted last time, reused for ready
	out     []Event   // handed to the game by the last Tick
	keys    []sortKey // scratch for Tick's sort

	// due holds accepted requests by boundary, so that Tick can answer with
	// the floor any request whose boundary has come while its deadline
	// timer was still waiting for a CPU (a saturated machine delays timer
	// goroutines by milliseconds; the game's tick is the reference).
	dueMu    sync.Mutex
	due      dueHeap
	overdue  []*request // scratch for Tick
	prevTick time.Time  // time of the Tick before the last; ticker goroutine only

	// Memory writes that failed (a full disk, a read-only data directory):
	// counted for MemoryWriteErrors and logged at most once per
	// memoryErrLogEvery, with the number suppressed since.
	memErrs      atomic.Uint64
	memErrLogged atomic.Int64  // Unix ns of the last log; 0: never
	memErrUnsaid atomic.Uint64 // failures since that log

	// ambient applies observations, deeds and meetings in order
	// (ambient.go); made by the first of them, under submitMu.
	ambient *ambientWriter
	// gossip is where the host says NPCs are (gossip.go); made by the
	// first Locate or Gossip.
	gossip atomic.Pointer[gossiper]
	// refineCtx parents every refinement (refine.go); Close cancels it.
	refineCtx  context.Context
	refineStop context.CancelFunc
	// tracer starts each request's root span (trace.go).
	tracer trace.Tracer
}

// memoryErrLogEvery is how often a failing memory write is logged while
// writes keep failing.
const memoryErrLogEvery = 10 * time.Second

// claimWait bounds how long Tick waits for a worker that has claimed an
// overdue request to queue its reply (normally microseconds; a preempted
// worker may take longer, and then its reply is late by one tick).
const claimWait = time.Millisecond

// dueHeap is a min-heap of requests by boundary. It is typed rather than
// driven through container/heap: Tick pops hundreds of requests a tick at
// scale, and the interface calls were a third of its time.
type dueHeap []*request

// push adds r, keeping the heap order.
func (h *dueHeap) push(r *request) {
	*h = append(*h, r)
	s := *h
	for i := len(s) - 1; i > 0; {
		parent := (i - 1) / 2
		if !s[i].boundary.Before(s[parent].boundary) {
			break
		}
		s[i], s[parent] = s[parent], s[i]
		i = parent
	}
}

// pop removes and returns the request with the earliest boundary; the
// heap must not be empty.
func (h *dueHeap) pop() *request {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s[last] = nil
	s = s[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(s) {
			break
		}
		m := l
		if r := l + 1; r < len(s) && s[r].boundary.Before(s[l].boundary) {
			m = r
		}
		if !s[m].boundary.Before(s[i].boundary) {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// New starts a Runtime over the NPCs of roster, with opts.Workers worker
// goroutines. Close it to stop them.
func New(roster *npc.Roster, opts Options) (*Runtime, error) {
	if roster == nil {
		return nil, errors.New("middleware: New needs a roster")
	}
	if err := opts.fill(); err != nil {
		return nil, err
	}
	rt := &Runtime{
		opts:    opts,
		roster:  roster,
		period:  time.Duration(float64(time.Second) / opts.TickRate),
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		metrics: newMetrics(),
	}
	rt.tracer = tracerOf(opts.TracerProvider)
	rt.refineCtx, rt.refineStop = context.WithCancel(context.Background())
	for i := range rt.queues {
		rt.queues[i] = make(chan *request, opts.QueueSize[i])
	}
	for i := 0; i < opts.Workers; i++ {
		rt.wg.Add(1)
		go rt.worker()
	}
	return rt, nil
}

// StreamDeltas makes streamed deltas bypass Tick: fn receives each one as
// soon as it is produced, from worker goroutines, and must not block. A
// WebSocket server uses it to forward tokens as they come (DESIGN §3).
// Call it before the first Submit; nil restores delivery at Tick.
func (rt *Runtime) StreamDeltas(fn func(Event)) {
	if fn == nil {
		rt.onDelta.Store(nil)
		return
	}
	rt.onDelta.Store(&fn)
}

// rosterOf returns the roster of tenant, without a lock for the default
// tenant.
func (rt *Runtime) rosterOf(tenant string) *npc.Roster {
	if tenant == "" {
		return rt.roster
	}
	return rt.roster.Tenant(tenant)
}

// Roster returns the NPCs this runtime serves (the default tenant's;
// Roster().Tenant(t) for another tenant's).
func (rt *Runtime) Roster() *npc.Roster { return rt.roster }

// Metrics returns the runtime's Prometheus collectors.
func (rt *Runtime) Metrics() *Metrics { return rt.metrics }

// Options returns the options in force, defaults filled in.
func (rt *Runtime) Options() Options { return rt.opts }

// TickCount returns how many times Tick has run.
func (rt *Runtime) TickCount() uint64 { return rt.tickCount.Load() }

// request is one accepted submission. state moves from pending to done
// exactly once, by the worker that finished it or by the deadline timer
// that answered with the floor; the winner delivers.
type request struct {
	ticket Ticket
	// A request is a dialogue turn or a bark (agent set; a bark's turn has
	// a Trigger) or a quest (questReq set).
	talk      Talk
	agent     *npc.Agent
	turn      npc.Turn
	questReq  *QuestRequest
	budget    time.Duration
	submitted time.Time
	deadline  time.Time // work deadline
	boundary  time.Time // tick boundary the reply must be ready by
	state     atomic.Uint32
	reply     npc.Reply // the delivered reply; read only once state is done
	timer     atomic.Pointer[time.Timer]
	deltaSeq  uint32 // written only by the goroutine streaming the reply
	// refine orders a refinement after the reply (refine.go); nil
	// unless the talk asked for one.
	refine *refineSlot
	tr     *reqTrace // its spans; nil when untraced (trace.go)
}

// Request states. pending → claimed (by the worker's reply or the floor,
// whichever comes first) → done (reply stored and queued for Tick).
const (
	statePending uint32 = iota
	stateClaimed
	stateDone
)

// Submit queues a talk request and returns its ticket. It never blocks
// (beyond a mutex held for a few instructions); see Runtime for the errors.
func (rt *Runtime) Submit(t Talk) (Ticket, error) {
	switch {
	case t.PlayerID == "":
		return 0, errors.New("hearth: talk: player id is required")
	case t.Text == "":
		return 0, errors.New("hearth: talk: text is required")
	case len(t.Text) > MaxTextBytes:
		return 0, fmt.Errorf("hearth: talk: text is %d bytes; the limit is %d", len(t.Text), MaxTextBytes)
	case !utf8.ValidString(t.Text) || !utf8.ValidString(t.PlayerName) || !utf8.ValidString(t.PlayerID):
		return 0, errors.New("hearth: talk: text is not valid UTF-8")
	}
	return rt.submitTurn("talk", t, npc.Turn{PlayerID: t.PlayerID, PlayerName: t.PlayerName, Text: t.Text})
}

// submitTurn checks what talks and barks share (priority, budget, NPC),
// then queues t's request at t.Priority with turn, which gets the
// ticket's seed and the game time. what names the request in errors.
func (rt *Runtime) submitTurn(what string, t Talk, turn npc.Turn) (Ticket, error) {
	switch {
	case t.Priority >= numPriorities:
		return 0, fmt.Errorf("hearth: %s: priority %d: unknown", what, t.Priority)
	case t.Budget < 0:
		return 0, fmt.Errorf("hearth: %s: budget %v is negative", what, t.Budget)
	}
	agent, err := rt.rosterOf(t.Tenant).Get(t.NPCID)
	if err != nil {
		return 0, err
	}
	budget := t.Budget
	if budget == 0 {
		budget = rt.opts.Budget
	}
	now := time.Now()
	r := &request{talk: t, agent: agent, budget: budget, submitted: now}
	if what == "bark" {
		r.tr = rt.startTrace(SpanBark, &t, budget)
	} else {
		r.tr = rt.startTrace(SpanTalk, &t, budget)
	}
	if t.Refine && turn.Trigger == "" {
		r.refine = &refineSlot{}
	}
	turn.GameTime = t.GameTime
	if turn.GameTime.IsZero() {
		turn.GameTime = now
	}
	return rt.enqueue(r, t.Priority, func() {
		turn.Seed = mixSeed(rt.opts.Seed, uint64(r.ticket))
		r.turn = turn
	})
}

// enqueue assigns r its deadlines and ticket, queues it at priority and
// arms its deadline timer. prepare runs once the ticket is known, before
// any worker can see r.
func (rt *Runtime) enqueue(r *request, priority Priority, prepare func()) (Ticket, error) {
	r.boundary, r.deadline = rt.deadline(r.submitted, r.budget)
	// Tickets are assigned under the lock, in queue order, and only to
	// accepted requests, so the same submissions get the same tickets.
	rt.submitMu.Lock()
	if rt.closed {
		rt.submitMu.Unlock()
		r.tr.refused(ErrClosed)
		return 0, ErrClosed
	}
	r.ticket = rt.nextTicket + 1
	prepare()
	q := rt.queues[priority]
	// Two obligations per request: a worker dequeues it, and someone
	// delivers it. Close waits for both.
	rt.pending.Add(2)
	select {
	case q <- r:
		rt.nextTicket = r.ticket
	default:
		rt.pending.Add(-2)
		rt.submitMu.Unlock()
		rt.metrics.overloaded.WithLabelValues(priority.String()).Inc()
		err := &OverloadError{Priority: priority, Capacity: cap(q)}
		r.tr.refused(err)
		return 0, err
	}
	rt.submitMu.Unlock()
	r.tr.accepted(r.ticket)
	rt.dueMu.Lock()
	rt.due.push(r)
	rt.dueMu.Unlock()
	rt.metrics.submitted.WithLabelValues(priority.String()).Inc()
	r.timer.Store(time.AfterFunc(time.Until(r.deadline), func() { rt.floor(r) }))
	select {
	case rt.wake <- struct{}{}:
	default:
	}
	return r.ticket, nil
}

// deadline computes, for a request submitted at now with budget, the tick
// boundary that delivers it (the last one inside the budget) and the work
// deadline (that boundary minus the safety margin). Before the first Tick,
// or when no boundary falls inside the budget (a budget shorter than the
// time left in this tick), the budget's end itself is the boundary.
func (rt *Runtime) deadline(now time.Time, budget time.Duration) (boundary, work time.Time) {
	end := now.Add(budget)
	boundary = end
	if last := rt.lastTick.Load(); last != 0 {
		since := end.Sub(time.Unix(0, last))
		b := time.Unix(0, last).Add(since - since%rt.period)
		if b.After(now) {
			boundary = b
		}
	}
	return boundary, boundary.Add(-rt.opts.SafetyMargin)
}

// mixSeed is SplitMix64's finaliser over seed^ticket (Steele et al., 2014),
// so neighbouring tickets get unrelated seeds.
func mixSeed(seed, ticket uint64) uint64 {
	z := seed ^ (ticket * 0x9e3779b97f4a7c15)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (rt *Runtime) worker() {
	defer rt.wg.Done()
	for {
		r := rt.next()
		if r == nil {
			return
		}
		rt.run(r)
	}
}

// next takes the highest-priority queued request, blocking until there is
// one or the runtime stops (nil).
func (rt *Runtime) next() *request {
	for {
		for i := range rt.queues {
			select {
			case r := <-rt.queues[i]:
				return r
			default:
			}
		}
		select {
		case <-rt.wake:
		case <-rt.stop:
			return nil
		}
	}
}

func (rt *Runtime) run(r *request) {
	defer rt.pending.Done() // the dequeue obligation
	r.tr.dequeued(&r.talk, r.questReq == nil && r.turn.Trigger == "")
	if r.questReq != nil {
		rt.runQuest(r)
		return
	}
	var reply npc.Reply // the worker's reply, when it ran
	err := errQueuedPastDeadline
	if r.state.Load() == statePending {
		ctx, cancel := context.WithDeadline(r.tr.context(), r.deadline)
		turn, settleRefine := rt.refineTurn(r)
		reply, err = r.agent.Respond(ctx, turn, func(d inference.Delta) { rt.delta(r, d) })
		cancel()
		settleRefine(reply.Refining)
		if r.state.CompareAndSwap(statePending, stateClaimed) {
			defer func() { // after delivery: claimed → done as fast as possible
				if t := r.timer.Load(); t != nil {
					t.Stop()
				}
			}()
			if err != nil {
				rt.push(Event{Ticket: r.ticket, Kind: EventError, Tag: r.talk.Tag, NPCID: r.talk.NPCID,
					Tenant: r.talk.Tenant, PlayerID: r.talk.PlayerID, Err: err, Latency: time.Since(r.submitted), Budget: r.budget,
					boundary: r.boundary})
				r.refine.answered(rt)
				r.tr.failed(err)
				r.state.Store(stateDone)
				rt.pending.Done() // the delivery obligation
				rt.opts.Logger.Error("hearth: respond failed", "npc", r.talk.NPCID, "ticket", r.ticket, "err", err)
				return
			}
			// Deliver first, then write memory: the write (milliseconds
			// when Badger compacts) must not make the reply late.
			rt.deliver(r, reply)
			rt.remember(r, reply)
			return
		}
	}
	// The floor answered at the deadline (timer or Tick). Record what the
	// player actually received; the floor stores it within microseconds.
	for r.state.Load() != stateDone {
		runtime.Gosched()
	}
	rt.remember(r, r.reply)
	if r.refine != nil && !reply.Refining {
		// The floor promised a refinement (see floor); this late reply
		// is it, unless it is no better than the floor.
		rt.refineLate(r, reply, err)
	}
}

// remember writes the turn to the NPC's memory. Memory is an enrichment:
// a failed write (full disk, read-only data directory) loses this turn's
// memory but never a reply; it is counted (MemoryWriteErrors, the
// hearth_runtime_memory_write_errors_total metric) and logged once per
// memoryErrLogEvery, not once per turn.
func (rt *Runtime) remember(r *request, reply npc.Reply) {
	err := r.agent.Remember(r.turn, reply)
	if err == nil {
		return
	}
	rt.memErrs.Add(1)
	unsaid := rt.memErrUnsaid.Add(1)
	now := time.Now().UnixNano()
	last := rt.memErrLogged.Load()
	if last != 0 && now-last < int64(memoryErrLogEvery) || !rt.memErrLogged.CompareAndSwap(last, now) {
		return
	}
	rt.memErrUnsaid.Add(-unsaid)
	rt.opts.Logger.Error("hearth: memory write failed; replies continue without memory of their turns",
		"npc", r.talk.NPCID, "failures_since_last_log", unsaid, "failures_total", rt.memErrs.Load(), "err", err)
}

// MemoryWriteErrors returns how many turns' memory writes have failed
// since New (replies were delivered; their memory was lost).
func (rt *Runtime) MemoryWriteErrors() uint64 { return rt.memErrs.Load() }

// floor answers r with the floor if nothing has claimed it yet. It runs on
// the request's deadline timer, or in Tick for a request whose boundary
// has come while its timer was still waiting for a CPU. It touches
// neither the disk nor a model: the worker that dequeues r records the
// floor reply in memory.
func (rt *Runtime) floor(r *request) {
	if !r.state.CompareAndSwap(statePending, stateClaimed) {
		return
	}
	if r.questReq != nil {
		rt.floorQuest(r)
		return
	}
	reply := r.agent.Floor(r.turn)
	reply.Floor = true
	// A talk that allows refinement and got the floor always gets one
	// EventRefine: the Router's better backend if it started one, else
	// the worker's late reply (run).
	reply.Refining = r.refine != nil
	rt.deliver(r, reply)
}

func (rt *Runtime) delta(r *request, d inference.Delta) {
	if r.state.Load() != statePending {
		return
	}
	ev := Event{Ticket: r.ticket, Kind: EventDelta, Tag: r.talk.Tag, NPCID: r.talk.NPCID,
		Tenant: r.talk.Tenant, PlayerID: r.talk.PlayerID, Text: d.Text, Reset: d.Reset, Seq: r.deltaSeq}
	r.deltaSeq++
	if h := rt.onDelta.Load(); h != nil {
		(*h)(ev)
		return
	}
	rt.push(ev)
}

// deliver queues r's reply for the next Tick and settles the request. The
// caller has claimed r.
func (rt *Runtime) deliver(r *request, reply npc.Reply) {
	defer rt.pending.Done() // the delivery obligation
	ready := time.Now()
	lat := ready.Sub(r.submitted)
	onTime := !ready.After(r.boundary)
	ev := Event{Ticket: r.ticket, Kind: EventReply, Tag: r.talk.Tag, NPCID: r.talk.NPCID,
		Tenant: r.talk.Tenant, PlayerID: r.talk.PlayerID, Text: reply.Text, Tier: reply.Tier, Backend: reply.Backend,
		Floor: reply.Floor, Latency: lat, Budget: r.budget, OnTime: onTime, CostUSD: reply.CostUSD,
		PromptTokens: reply.PromptTokens, Tokens: reply.Tokens,
		Guard: string(reply.Guard)}
	if reply.Prompt.Name != "" {
		ev.Prompt = reply.Prompt.String()
	}
	if rel := reply.Relationship; rel != nil {
		ev.Affinity, ev.Trust, ev.HasRelationship = rel.Affinity, rel.Trust, true
	}
	ev.Actions, ev.DroppedActions = reply.Actions, reply.DroppedActions
	ev.Refining = reply.Refining
	ev.boundary = r.boundary
	ev.Reason, ev.Predicted = reply.Reason, reply.Predicted
	r.tr.delivering(&ev)
	rt.push(ev)
	r.refine.answered(rt)
	r.reply = reply
	r.state.Store(stateDone)
	feature := featureDialogue
	if r.turn.Trigger != "" {
		feature = featureBark
	}
	rt.metrics.observe(ev, feature)
}

func (rt *Runtime) push(ev Event) {
	rt.readyMu.Lock()
	rt.ready = append(rt.ready, ev)
	rt.readyMu.Unlock()
}

// Tick marks a tick boundary and returns the events that became ready
// since the previous Tick, ordered by ticket, then delta sequence, with
// each ticket's reply after its deltas. Besides moving events, it answers
// with the floor (microseconds each) any request whose boundary has come
// and that nothing has answered yet, so the deadline holds even when the
// machine is too busy to run the deadline timers on time.
func (rt *Runtime) Tick() []Event {
	now := time.Now()
	rt.lastTick.Store(now.UnixNano())
	rt.tickCount.Add(1)

	rt.dueMu.Lock()
	for len(rt.due) > 0 && !rt.due[0].boundary.After(now) {
		r := rt.due.pop()
		if r.state.Load() != stateDone {
			rt.overdue = append(rt.overdue, r)
		}
	}
	rt.dueMu.Unlock()
	for i, r := range rt.overdue {
		rt.floor(r) // a no-op when a worker has claimed it
		// A worker that claimed r is a few instructions from queueing its
		// reply; wait for that (never for a model, the network or the
		// disk), up to claimWait, so the reply makes its boundary's tick.
		for spin := time.Now(); r.state.Load() != stateDone && time.Since(spin) < claimWait; {
			runtime.Gosched()
		}
		rt.overdue[i] = nil
	}
	rt.overdue = rt.overdue[:0]

	rt.readyMu.Lock()
	// Three buffers rotate so steady state does not allocate: workers fill
	// ready, Tick sorts a batch into out, and the batch becomes the next
	// ready buffer.
	batch := rt.ready
	rt.ready = rt.spare[:0]
	rt.readyMu.Unlock()
	// Sort small keys, not the events (about 200 bytes each: swapping them
	// was most of Tick's time), then gather the events in order. Workers
	// usually finish in ticket order; then the batch itself is handed over.
	rt.keys = rt.keys[:0]
	sorted := true
	for i := range batch {
		ev := &batch[i]
		k := sortKey{ticket: ev.Ticket, kind: ev.Kind, seq: ev.Seq, idx: int32(i)}
		if i > 0 && sorted && compareKeys(rt.keys[i-1], k) > 0 {
			sorted = false
		}
		rt.keys = append(rt.keys, k)
	}
	// The buffers are not cleared: each is overwritten from the front by
	// the next batch, so what they keep alive past its use is bounded by
	// the largest batch, and clearing them cost a third of Tick at 500
	// events.
	if sorted {
		rt.out, rt.spare = batch, rt.out[:0]
	} else {
		sortKeys(rt.keys)
		rt.out = rt.out[:0]
		for _, k := range rt.keys {
			rt.out = append(rt.out, batch[k.idx])
		}
		rt.spare = batch
	}
	// A reply that became ready after its boundary but before this Tick —
	// the first at or after that boundary — still reaches the game at its
	// deadline.
	for i := range rt.out {
		ev := &rt.out[i]
		if (ev.Kind == EventReply || ev.Kind == EventQuest) && !ev.OnTime && ev.boundary.After(rt.prevTick) {
			ev.OnTime = true
		}
		if ev.tr != nil { // a traced request reaches the game: end its spans
			ev.tr.handed(ev.OnTime)
			ev.tr = nil
		}
	}
	rt.prevTick = now
	return rt.out
}

// sortKey orders events: by ticket, then kind (deltas before the reply),
// then delta sequence; idx is the event's place in the batch.
type sortKey struct {
	ticket Ticket
	seq    uint32
	idx    int32
	kind   EventKind
}

// sortKeys sorts keys by compareKeys. Workers finish nearly in ticket
// order (neighbours swapped, a straggler now and then), so an insertion
// sort does it in a few passes — pdqsort took half of Tick's time on such
// input. If the input turns out far from sorted (more than
// maxShiftsPerKey moves per key so far) it hands over to pdqsort, so the
// worst case stays O(n log n).
func sortKeys(keys []sortKey) {
	const maxShiftsPerKey = 8
	shifts := 0
	for i := 1; i < len(keys); i++ {
		k := keys[i]
		j := i
		for ; j > 0 && compareKeys(keys[j-1], k) > 0; j-- {
			keys[j] = keys[j-1]
		}
		keys[j] = k
		if shifts += i - j; shifts > maxShiftsPerKey*len(keys) {
			slices.SortFunc(keys, compareKeys)
			return
		}
	}
}

func compareKeys(a, b sortKey) int {
	switch {
	case a.ticket != b.ticket:
		if a.ticket < b.ticket {
			return -1
		}
		return 1
	case a.kind != b.kind:
		return int(a.kind) - int(b.kind)
	default:
		return int(a.seq) - int(b.seq)
	}
}

// Run hosts the runtime standalone: it calls Tick at Options.TickRate and
// hands each tick's events to handle, until ctx ends. handle runs on the
// ticker goroutine and must not block for long; the events are valid until
// it returns.
func (rt *Runtime) Run(ctx context.Context, handle func(tick uint64, events []Event)) {
	t := time.NewTicker(rt.period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			evs := rt.Tick()
			handle(rt.tickCount.Load(), evs)
		}
	}
}

// Settle blocks until every accepted request has been delivered and
// recorded in its NPC's memory. Lockstep hosts (simulations, replays,
// tests) call it between steps so the next step's recall sees the same
// history in every run. It must not run concurrently with Submit or
// SubmitQuest.
func (rt *Runtime) Settle() { rt.pending.Wait() }

// Close stops accepting requests, waits for the accepted ones to be
// answered (each by its deadline at the latest) and stops the workers.
func (rt *Runtime) Close() error {
	rt.closeOnce.Do(func() {
		rt.submitMu.Lock()
		rt.closed = true
		rt.submitMu.Unlock()
		rt.refineStop() // refinements are extras: end them now
		rt.pending.Wait()
		close(rt.stop)
		rt.wg.Wait()
	})
	return nil
}

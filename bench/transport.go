package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/npc"
	"github.com/hearth-ai/hearth/quest"
)

// InProcess is the in-process Transport: it submits requests to an
// embedded Runtime (Submit, SubmitBark, SubmitQuest) and, on its own goroutine, calls
// Tick at the runtime's tick rate (Runtime.Run) and hands each reply to
// the request that waits for it, with the event's Latency as the ready
// latency. It owns the runtime's Tick: nothing else may tick that runtime
// while the transport is open.
type InProcess struct {
	rt      *middleware.Runtime
	players []string
	npcs    []string
	nextTag atomic.Uint64
	mu      sync.Mutex
	waiting map[uint64]func(Result, error)
	stop    context.CancelFunc
	ticking chan struct{}
}

// NewInProcess starts ticking rt and returns a transport that spreads
// requests over players simulated players (player ids "bench-0", ...).
func NewInProcess(rt *middleware.Runtime, players int) *InProcess {
	t := &InProcess{rt: rt, waiting: map[uint64]func(Result, error){}, ticking: make(chan struct{})}
	for i := range max(1, players) {
		t.players = append(t.players, fmt.Sprintf("bench-%d", i))
	}
	for _, d := range rt.Roster().Definitions() {
		t.npcs = append(t.npcs, d.ID)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.stop = cancel
	go func() {
		defer close(t.ticking)
		rt.Run(ctx, t.handle)
	}()
	return t
}

// handle runs on the tick goroutine: it completes the requests whose
// results this tick delivered.
func (t *InProcess) handle(_ uint64, events []middleware.Event) {
	for i := range events {
		ev := &events[i]
		if ev.Kind == middleware.EventDelta {
			continue
		}
		t.mu.Lock()
		done := t.waiting[ev.Tag]
		delete(t.waiting, ev.Tag)
		t.mu.Unlock()
		if done == nil {
			continue
		}
		if ev.Kind == middleware.EventError {
			done(Result{}, runtimeError(ev.Err))
			continue
		}
		done(Result{Ready: ev.Latency, Budget: ev.Budget, Tier: string(ev.Tier), OnTime: ev.OnTime, Floor: ev.Floor, Cost: ev.CostUSD}, nil)
	}
}

// runtimeError gives a runtime error the protocol code the WebSocket
// server would answer with, so both transports count errors alike.
func runtimeError(err error) error {
	code := protocol.CodeInternal
	var re *quest.RequestError
	switch {
	case errors.Is(err, middleware.ErrOverloaded), errors.Is(err, middleware.ErrClosed):
		code = protocol.CodeOverloaded
	case errors.Is(err, npc.ErrUnknownNPC):
		code = protocol.CodeUnknownNPC
	case errors.Is(err, middleware.ErrNoQuests):
		code = protocol.CodeQuestsUnavailable
	case errors.Is(err, quest.ErrNoSuitableQuest):
		code = protocol.CodeNoQuest
	case errors.As(err, &re), errors.Is(err, quest.ErrUnknownLocation), errors.Is(err, quest.ErrLevelOutOfRange):
		code = protocol.CodeBadRequest
	}
	return protocol.ErrorPayload{Code: code, Message: err.Error()}.Err()
}

// Name returns "inproc".
func (t *InProcess) Name() string { return "inproc" }

// Players returns the number of simulated players.
func (t *InProcess) Players() int { return len(t.players) }

// NPCs returns the runtime's NPC ids.
func (t *InProcess) NPCs() []string { return t.npcs }

// Send submits req; a refused submission (overloaded, ...) is answered at
// once with its error.
func (t *InProcess) Send(_ context.Context, req Request, done func(Result, error)) {
	tag := t.nextTag.Add(1)
	t.mu.Lock()
	t.waiting[tag] = done
	t.mu.Unlock()
	var err error
	player := t.players[req.Player%len(t.players)]
	switch req.Kind {
	case KindQuest:
		_, err = t.rt.SubmitQuest(middleware.QuestRequest{Tag: tag, Request: quest.Request{
			PlayerID: player, Level: req.Level, Location: req.Place}})
	case KindBark:
		_, err = t.rt.SubmitBark(middleware.Bark{NPCID: req.NPCID, PlayerID: player, Trigger: req.Trigger, Tag: tag})
	default:
		_, err = t.rt.Submit(middleware.Talk{NPCID: req.NPCID, PlayerID: player, Text: req.Text,
			Priority: middleware.PriorityInteractive, Tag: tag})
	}
	if err != nil {
		t.mu.Lock()
		delete(t.waiting, tag)
		t.mu.Unlock()
		done(Result{}, runtimeError(err))
	}
}

// Close stops ticking. Requests still waiting are not answered. It does
// not close the runtime.
func (t *InProcess) Close() error {
	t.stop()
	<-t.ticking
	return nil
}

// WebSocket is the Transport over Hearth's WebSocket protocol: one
// middleware/client connection per player; each request is a Talk, a Bark
// or a RequestQuest on its own goroutine, so the connection carries many at
// once.
type WebSocket struct {
	clients []*client.Client
	npcs    []string
	// Timeout bounds each request (default 30 s).
	Timeout time.Duration
}

// DialWebSocket connects conns players to the server at url (ws://…/v1/ws)
// with the given subprotocol ("" for msgpack).
func DialWebSocket(ctx context.Context, url string, conns int, subprotocol string) (*WebSocket, error) {
	if conns <= 0 {
		return nil, errors.New("bench: DialWebSocket: conns must be positive")
	}
	t := &WebSocket{clients: make([]*client.Client, conns), Timeout: 30 * time.Second}
	errs := make([]error, conns)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range t.clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			t.clients[i], errs[i] = client.Dial(dctx, url, client.Options{Subprotocol: subprotocol,
				PlayerID: fmt.Sprintf("bench-%d", i), PlayerName: fmt.Sprintf("Bencher %d", i), ClientName: "hearth-bench"})
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Close()
		return nil, fmt.Errorf("bench: connect: %w", err)
	}
	for _, n := range t.clients[0].Welcome().NPCs {
		t.npcs = append(t.npcs, n.ID)
	}
	return t, nil
}

// Name returns "websocket".
func (t *WebSocket) Name() string { return "websocket" }

// Players returns the number of connections.
func (t *WebSocket) Players() int { return len(t.clients) }

// NPCs returns the NPC ids the server's welcome listed.
func (t *WebSocket) NPCs() []string { return t.npcs }

// Send starts the request on its own goroutine and returns.
func (t *WebSocket) Send(ctx context.Context, req Request, done func(Result, error)) {
	c := t.clients[req.Player%len(t.clients)]
	go func() {
		rctx, cancel := context.WithTimeout(ctx, t.Timeout)
		defer cancel()
		if req.Kind == KindQuest {
			o, err := c.RequestQuest(rctx, protocol.QuestRequest{Level: uint32(req.Level), Location: req.Place})
			if err != nil {
				done(Result{}, err)
				return
			}
			done(Result{Ready: msDuration(o.LatencyMS), Budget: time.Duration(o.BudgetMS) * time.Millisecond,
				Tier: o.Quest.Tier, OnTime: o.OnTime, Floor: o.Floor}, nil)
			return
		}
		var r client.Reply
		var err error
		if req.Kind == KindBark {
			r, err = c.Bark(rctx, req.NPCID, req.Trigger, 0)
		} else {
			r, err = c.Talk(rctx, req.NPCID, req.Text, 0, nil)
		}
		if err != nil {
			done(Result{}, err)
			return
		}
		done(Result{Ready: msDuration(r.LatencyMS), Budget: time.Duration(r.BudgetMS) * time.Millisecond,
			Tier: r.Tier, OnTime: r.OnTime, Floor: r.Floor}, nil)
	}()
}

func msDuration(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// Close closes every connection.
func (t *WebSocket) Close() error {
	var wg sync.WaitGroup
	for _, c := range t.clients {
		if c != nil {
			wg.Add(1)
			go func() { defer wg.Done(); c.Close() }()
		}
	}
	wg.Wait()
	return nil
}

package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"runtime"
	"time"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/npc"
	"github.com/hearth-ai/hearth/quest"
	"github.com/hearth-ai/hearth/sim/world"
)

// RequestKind is what a Request asks of Hearth.
type RequestKind uint8

// Request kinds.
const (
	// RequestTalk is a player's line (NPC, Text) to an NPC.
	RequestTalk RequestKind = iota
	// RequestQuest asks for a quest (Quest).
	RequestQuest
	// RequestAccept accepts an offered quest (Offer).
	RequestAccept
	// RequestEvent reports a world event for the player's quest log (Event).
	RequestEvent
)

// Request is one thing a simulated player asks of Hearth during a tick.
type Request struct {
	Kind     RequestKind
	Player   int    // index of the player in the run
	PlayerID string // the player's id
	Level    int    // the player's level

	NPC  string // RequestTalk: NPC id
	Text string // RequestTalk: the line

	Quest quest.Request // RequestQuest
	Offer *Offer        // RequestAccept
	Event quest.Event   // RequestEvent; PlayerID and Time are filled in
}

// Offer is a quest offered to a player.
type Offer struct {
	ID         string
	Title      string
	Giver      string
	Objectives []quest.Objective
	Quest      *quest.Quest // the whole quest, in-process only (nil over WebSocket)
}

// Update is a change to a player's quest log.
type Update struct {
	QuestID   string
	Kind      string // "accepted", "progress", "objective", "completed", "failed", "abandoned"
	Objective int
	Progress  int
	Count     int
}

// Response is the result of one Request.
type Response struct {
	Err error // the request failed (the log records the error)

	// RequestTalk
	Text    string
	Tier    string
	Backend string
	Floor   bool
	OnTime  bool

	Offer   *Offer   // RequestQuest
	Updates []Update // RequestAccept and RequestEvent
}

// Transport carries a tick's requests to Hearth and brings back their
// results. Do must fill out[i] for every reqs[i], and must make the results
// depend only on the requests (not on timing) on deterministic backends.
type Transport interface {
	// Do runs one tick's requests, given in player order, at game time now.
	Do(ctx context.Context, now time.Time, reqs []Request, out []Response) error
	// NPCs lists the NPCs players may talk to, sorted by id.
	NPCs() []NPCInfo
	// Close releases the transport.
	Close() error
}

// InProcessConfig configures NewInProcess.
type InProcessConfig struct {
	// NPCs is the total number of NPCs: the demo world's, plus generated
	// villagers (GenerateNPCs) up to this number. 0 or fewer than the demo
	// world has means the demo world's alone.
	NPCs int
	// Seed seeds the runtime (per-ticket reply seeds) and the villagers.
	Seed uint64
	// Workers is the runtime's worker pool. Default GOMAXPROCS: in
	// lockstep the sim itself mostly waits for the workers.
	Workers int
	// Budget is each request's budget. Default 10 s: so long that no reply
	// depends on timing (the template floor answers in microseconds).
	Budget time.Duration
	// Logger defaults to a logger that discards everything.
	Logger *slog.Logger
}

// InProcess is the in-process transport: an embedded Hearth stack over an
// in-memory store, with the demo world (and generated villagers), driven in
// lockstep: Do submits a tick's talks and quest requests at the sim's game
// time, then calls Tick until every ticket has its event, then
// Runtime.Settle until every turn is in its NPC's memory, so the next tick
// starts from the same state in every run. Quest accepts and world events
// go to Stack.QuestLog at the sim's game time.
type InProcess struct {
	Stack   *middleware.Stack
	Runtime *middleware.Runtime // the runtime the sim drives (Stack.Runtime, or its own over more NPCs)
	budget  time.Duration
	own     bool
	npcs    []NPCInfo
	pending map[middleware.Ticket]int
}

// NewInProcess opens the demo world's stack in memory and builds the
// runtime over cfg.NPCs NPCs.
func NewInProcess(ctx context.Context, cfg InProcessConfig) (*InProcess, error) {
	if cfg.Budget <= 0 {
		cfg.Budget = 10 * time.Second
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	opts := middleware.Options{Budget: cfg.Budget, Seed: cfg.Seed, Workers: cfg.Workers, Logger: cfg.Logger}
	opts.QueueSize = [3]int{1 << 16, 1 << 14, 1024}
	st, err := middleware.OpenStack(ctx, middleware.StackConfig{World: world.FS(), WorldSource: world.Source,
		Runtime: opts, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	if st.QuestWorld == nil {
		st.Close()
		return nil, errors.New("sim: the demo world has no quest.yaml")
	}
	t := &InProcess{Stack: st, Runtime: st.Runtime, budget: cfg.Budget,
		pending: map[middleware.Ticket]int{}}
	defs := st.Roster.Definitions()
	if extra := cfg.NPCs - len(defs); extra > 0 {
		defs = append(defs, GenerateNPCs(st.QuestWorld, extra, cfg.Seed)...)
		roster, err := npc.NewRoster(defs, npc.Deps{Lore: st.Lore, Store: st.Store, Router: st.Router, Logger: cfg.Logger})
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("sim: roster: %w", err)
		}
		opts.Quests = st.Quests
		if t.Runtime, err = middleware.New(roster, opts); err != nil {
			st.Close()
			return nil, err
		}
		t.own = true
	}
	// Deltas are not logged: drop them instead of queueing them for Tick.
	t.Runtime.StreamDeltas(func(middleware.Event) {})
	for _, d := range t.Runtime.Roster().Definitions() {
		t.npcs = append(t.npcs, NPCInfo{ID: d.ID, Name: d.Name, Home: d.Home})
	}
	return t, nil
}

// World returns the quest world.
func (t *InProcess) World() *quest.World { return t.Stack.QuestWorld }

// NPCs lists the runtime's NPCs, sorted by id.
func (t *InProcess) NPCs() []NPCInfo { return t.npcs }

// Do implements Transport.
func (t *InProcess) Do(ctx context.Context, now time.Time, reqs []Request, out []Response) error {
	clear(t.pending)
	for i := range reqs {
		r := &reqs[i]
		out[i] = Response{}
		switch r.Kind {
		case RequestTalk:
			tk, err := t.Runtime.Submit(middleware.Talk{NPCID: r.NPC, PlayerID: r.PlayerID,
				PlayerName: PlayerName(r.Player), Text: r.Text, Budget: t.budget, GameTime: now})
			if err != nil {
				out[i].Err = err
				continue
			}
			t.pending[tk] = i
		case RequestQuest:
			q := r.Quest
			q.PlayerID, q.Budget = r.PlayerID, t.budget
			tk, err := t.Runtime.SubmitQuest(middleware.QuestRequest{Request: q})
			if err != nil {
				out[i].Err = err
				continue
			}
			t.pending[tk] = i
		case RequestAccept:
			if r.Offer == nil || r.Offer.Quest == nil {
				out[i].Err = errors.New("sim: accept without an in-process offer")
				continue
			}
			if _, err := t.Stack.QuestLog.Accept(r.PlayerID, r.Level, *r.Offer.Quest, now); err != nil {
				out[i].Err = err
				continue
			}
			out[i].Updates = []Update{{QuestID: r.Offer.ID, Kind: "accepted"}}
		case RequestEvent:
			ev := r.Event
			ev.PlayerID, ev.Time = r.PlayerID, now
			ups, err := t.Stack.QuestLog.Apply(ev)
			out[i].Err = err
			for _, u := range ups {
				out[i].Updates = append(out[i].Updates, Update{QuestID: u.QuestID, Kind: string(u.Kind),
					Objective: u.Objective, Progress: u.Progress, Count: u.Count})
			}
		}
	}
	for len(t.pending) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, ev := range t.Runtime.Tick() {
			i, ok := t.pending[ev.Ticket]
			if !ok || ev.Kind == middleware.EventDelta {
				continue
			}
			delete(t.pending, ev.Ticket)
			o := &out[i]
			o.Tier, o.Backend, o.Floor, o.OnTime = string(ev.Tier), ev.Backend, ev.Floor, ev.OnTime
			switch ev.Kind {
			case middleware.EventReply:
				o.Text = ev.Text
			case middleware.EventQuest:
				q := *ev.Quest
				o.Offer = &Offer{ID: q.ID, Title: q.Title, Giver: q.Giver, Objectives: q.Objectives, Quest: &q}
			case middleware.EventError:
				o.Err = ev.Err
			}
		}
		if len(t.pending) > 0 {
			time.Sleep(20 * time.Microsecond)
		}
	}
	// The runtime writes a turn to its NPC's memory just after delivering
	// the reply: wait for those writes before the next tick.
	t.Runtime.Settle()
	return nil
}

// Close stops the runtime(s) and closes the store.
func (t *InProcess) Close() error {
	var errs []error
	if t.own {
		errs = append(errs, t.Runtime.Close())
	}
	errs = append(errs, t.Stack.Close())
	return errors.Join(errs...)
}

// demoHomes returns the homes of the demo world's NPCs by id.
func demoHomes() map[string]string {
	defs, err := npc.LoadDefinitions(world.FS(), "npcs")
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, d := range defs {
		out[d.ID] = d.Home
	}
	return out
}

// DemoWorld loads the demo world's quest world (sim/world's quest.yaml):
// the map a WebSocket run plays on.
func DemoWorld() (*quest.World, error) {
	data, err := fs.ReadFile(world.FS(), "quest.yaml")
	if err != nil {
		return nil, err
	}
	return quest.LoadWorld("", data)
}

// RunInProcess runs cfg on a fresh in-process transport with npcs NPCs
// (see InProcessConfig.NPCs), seeded with cfg.Seed, and closes it.
func RunInProcess(ctx context.Context, npcs int, cfg Config) (_ Result, err error) {
	tr, err := NewInProcess(ctx, InProcessConfig{NPCs: npcs, Seed: cfg.Seed})
	if err != nil {
		return Result{}, err
	}
	defer func() { err = errors.Join(err, tr.Close()) }()
	return Run(ctx, tr, tr.World(), cfg)
}

package village

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/quest"
	"github.com/hearth-ai/hearth/sim/world"
)

// Backend is Hearth as the game sees it: the embedded runtime or a server.
// Every method returns at once (the game calls them from Update); answers
// come back from Poll, which the game calls once per tick.
type Backend interface {
	// Name says which backend this is, for the overlay.
	Name() string
	// Talk says text to an NPC; the deltas and the reply carry tag.
	Talk(npcID, text string, tag uint64) error
	// RequestQuest asks giver for a quest for a player of level at
	// location; the offer (or an error) carries tag.
	RequestQuest(giver, location string, level int, tag uint64) error
	// AcceptQuest puts an offered quest in the player's log.
	AcceptQuest(q protocol.QuestInfo, level int)
	// Report reports a world event for the player's quests.
	Report(ev quest.Event)
	// RefreshLog fetches the player's quest log.
	RefreshLog()
	// StartLoad keeps n conversations with random NPCs in flight in the
	// background until Close; their answers are counted, not returned.
	StartLoad(n int, npcs []string, seed uint64)
	// LoadStats returns how many background conversations finished and
	// how many of those failed.
	LoadStats() (done, failed uint64)
	// Poll appends what arrived since the last call to dst.
	Poll(dst []Msg) []Msg
	// Close stops everything the backend started and waits for it.
	Close() error
}

// MsgKind says what a Msg carries.
type MsgKind uint8

// Message kinds.
const (
	MsgDelta   MsgKind = iota // a piece of a reply (Text, Reset)
	MsgReply                  // a whole reply (Text, Tier, LatencyMS, OnTime, Floor)
	MsgError                  // a request failed (Err)
	MsgOffer                  // a quest offer (Quest, Tier, LatencyMS)
	MsgLog                    // the quest log (Log)
	MsgUpdates                // quest updates (Updates)
	MsgNotice                 // something to tell the player (Text)
)

// Msg is an answer from the backend.
type Msg struct {
	Kind      MsgKind
	Tag       uint64
	NPC       string
	Text      string
	Reset     bool
	Tier      string
	LatencyMS float64
	OnTime    bool
	Floor     bool
	Err       error
	Quest     protocol.QuestInfo
	Log       []protocol.QuestLogEntry
	Updates   []protocol.QuestUpdate
}

// inbox is a mutex-guarded queue of messages from other goroutines.
type inbox struct {
	mu  sync.Mutex
	msg []Msg
}

func (b *inbox) put(m ...Msg) {
	b.mu.Lock()
	b.msg = append(b.msg, m...)
	b.mu.Unlock()
}

// drain appends the queued messages to dst. The lock is held for a copy,
// never for I/O, so Update never waits behind the network or the disk.
func (b *inbox) drain(dst []Msg) []Msg {
	b.mu.Lock()
	dst = append(dst, b.msg...)
	clear(b.msg)
	b.msg = b.msg[:0]
	b.mu.Unlock()
	return dst
}

// loadTag marks the tags of background conversations.
const loadTag = 1 << 63

// BackendConfig chooses and configures a backend.
type BackendConfig struct {
	Server       string // ws://…/v1/ws; "" for the embedded runtime
	Player, Name string
	DataDir      string // embedded: "" keeps the store in memory
	Lore         []middleware.LoreSource
	TickRate     float64
	Seed         uint64
	Logger       *slog.Logger
}

// OpenBackend opens the backend cfg asks for.
func OpenBackend(ctx context.Context, cfg BackendConfig) (Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Server != "" {
		return dialRemote(ctx, cfg)
	}
	return openEmbedded(ctx, cfg)
}

// embedded hosts the runtime in the game's process. The game's Update
// calls Poll, which calls Runtime.Tick: replies come at the game's ticks.
// Quest log work (the tracker writes to the store) runs on its own
// goroutine, so the tick never waits for the disk.
type embedded struct {
	st           *middleware.Stack
	player, name string
	jobs         chan func()
	quit         chan struct{}
	wg           sync.WaitGroup
	in           inbox

	offersMu sync.Mutex
	offers   map[string]*quest.Quest // offered quests by id

	// Background load, touched only by StartLoad and Poll (the Update
	// goroutine), but for the counts LoadStats reads from elsewhere.
	loadNPCs    []string
	loadRNG     *rand.Rand
	loadN       uint64
	loadOwed    int        // conversations to start again at the next Poll
	loadStatsMu sync.Mutex // guards loadDone and loadFailed
	loadDone    uint64
	loadFailed  uint64
}

func openEmbedded(ctx context.Context, cfg BackendConfig) (*embedded, error) {
	if cfg.DataDir != "" {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("-data: %w", err)
		}
	}
	st, err := middleware.OpenStack(ctx, middleware.StackConfig{
		DataDir: cfg.DataDir, World: world.FS(), WorldSource: world.Source, ExtraLore: cfg.Lore,
		Logger: cfg.Logger,
		// The runtime's default worker count keeps a core for the game.
		Runtime: middleware.Options{TickRate: cfg.TickRate, Seed: cfg.Seed},
	})
	if err != nil {
		return nil, err
	}
	if st.QuestLog == nil {
		st.Close()
		return nil, errors.New("demo: the world has no quest.yaml")
	}
	e := &embedded{st: st, player: cfg.Player, name: cfg.Name,
		jobs: make(chan func(), 64), quit: make(chan struct{}), offers: map[string]*quest.Quest{}}
	e.wg.Add(1)
	go e.work()
	return e, nil
}

func (e *embedded) Name() string { return "embedded" }

func (e *embedded) work() {
	defer e.wg.Done()
	for {
		select {
		case <-e.quit:
			return
		case job := <-e.jobs:
			job()
		}
	}
}

// do queues quest log work without blocking; a full queue (the disk far
// behind the player) drops it with a notice.
func (e *embedded) do(job func()) {
	select {
	case e.jobs <- job:
	default:
		e.in.put(Msg{Kind: MsgNotice, Text: "quest log busy; try again"})
	}
}

func (e *embedded) Talk(npcID, text string, tag uint64) error {
	_, err := e.st.Runtime.Submit(middleware.Talk{NPCID: npcID, PlayerID: e.player, PlayerName: e.name, Text: text, Tag: tag})
	return err
}

func (e *embedded) RequestQuest(giver, location string, level int, tag uint64) error {
	_, err := e.st.Runtime.SubmitQuest(middleware.QuestRequest{Tag: tag,
		Request: quest.Request{PlayerID: e.player, Level: level, Location: location, Giver: giver}})
	return err
}

func (e *embedded) AcceptQuest(q protocol.QuestInfo, level int) {
	e.offersMu.Lock()
	full := e.offers[q.ID]
	e.offersMu.Unlock()
	if full == nil {
		e.in.put(Msg{Kind: MsgNotice, Text: "that offer is gone"})
		return
	}
	e.do(func() {
		if _, err := e.st.QuestLog.Accept(e.player, level, *full, time.Now()); err != nil {
			e.in.put(Msg{Kind: MsgNotice, Text: "accept: " + err.Error()})
			return
		}
		e.in.put(Msg{Kind: MsgUpdates, Updates: []protocol.QuestUpdate{protocol.QuestAcceptedOf(full)}})
		e.sendLog()
	})
}

func (e *embedded) Report(ev quest.Event) {
	ev.PlayerID = e.player
	e.do(func() {
		ups, err := e.st.QuestLog.Apply(ev)
		if err != nil {
			e.in.put(Msg{Kind: MsgNotice, Text: "quest log: " + err.Error()})
		}
		if len(ups) == 0 {
			return
		}
		out := make([]protocol.QuestUpdate, len(ups))
		for i, u := range ups {
			out[i] = protocol.QuestUpdateOf(u)
		}
		e.in.put(Msg{Kind: MsgUpdates, Updates: out})
		e.sendLog()
	})
}

func (e *embedded) RefreshLog() { e.do(e.sendLog) }

// sendLog reads the log (on the worker goroutine) and queues it, most
// recently changed first as the server sends it.
func (e *embedded) sendLog() {
	entries, err := e.st.QuestLog.Log(e.player)
	if err != nil {
		e.in.put(Msg{Kind: MsgNotice, Text: "quest log: " + err.Error()})
		return
	}
	slices.SortStableFunc(entries, func(a, b quest.Entry) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
	out := make([]protocol.QuestLogEntry, len(entries))
	for i := range entries {
		out[i] = protocol.QuestLogEntryOf(&entries[i])
	}
	e.in.put(Msg{Kind: MsgLog, Log: out})
}

func (e *embedded) StartLoad(n int, npcs []string, seed uint64) {
	if n <= 0 || len(npcs) == 0 {
		return
	}
	e.loadNPCs = npcs
	e.loadRNG = rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	for range n {
		e.submitLoad()
	}
}

// loadLines are what the background players say.
var loadLines = []string{"Hello!", "Any news?", "What do you sell?", "Tell me about the river.",
	"Who is the Wick?", "Seen anything strange?", "Where is the mine?", "Good day to you."}

// submitLoad starts one background conversation, from one of 64 background
// players in turn, so that NPC memories stay per player as with real
// players. A refused submission (a full queue) is retried at the next
// Poll, so the load stays at its size.
func (e *embedded) submitLoad() {
	e.loadN++
	npc := e.loadNPCs[e.loadRNG.IntN(len(e.loadNPCs))]
	line := loadLines[e.loadRNG.IntN(len(loadLines))]
	_, err := e.st.Runtime.Submit(middleware.Talk{NPCID: npc, PlayerID: fmt.Sprintf("load-%d", e.loadN%64),
		Text: line, Tag: loadTag | e.loadN})
	if err != nil {
		e.countLoad(true)
		e.loadOwed++
	}
}

func (e *embedded) countLoad(failed bool) {
	e.loadStatsMu.Lock()
	e.loadDone++
	if failed {
		e.loadFailed++
	}
	e.loadStatsMu.Unlock()
}

func (e *embedded) LoadStats() (done, failed uint64) {
	e.loadStatsMu.Lock()
	defer e.loadStatsMu.Unlock()
	return e.loadDone, e.loadFailed
}

func (e *embedded) Poll(dst []Msg) []Msg {
	for owed := e.loadOwed; owed > 0; owed-- {
		e.loadOwed--
		e.submitLoad()
	}
	for _, ev := range e.st.Runtime.Tick() {
		if ev.Tag&loadTag != 0 {
			if ev.Kind == middleware.EventReply || ev.Kind == middleware.EventError {
				e.countLoad(ev.Kind == middleware.EventError)
				e.submitLoad()
			}
			continue
		}
		m := Msg{Tag: ev.Tag, NPC: ev.NPCID}
		switch ev.Kind {
		case middleware.EventDelta:
			m.Kind, m.Text, m.Reset = MsgDelta, ev.Text, ev.Reset
		case middleware.EventReply:
			m.Kind, m.Text, m.Tier = MsgReply, ev.Text, string(ev.Tier)
			m.LatencyMS, m.OnTime, m.Floor = float64(ev.Latency)/1e6, ev.OnTime, ev.Floor
		case middleware.EventError:
			m.Kind, m.Err = MsgError, ev.Err
		case middleware.EventQuest:
			if ev.Quest == nil {
				continue
			}
			e.offersMu.Lock()
			e.offers[ev.Quest.ID] = ev.Quest
			e.offersMu.Unlock()
			m.Kind, m.Quest, m.Tier = MsgOffer, protocol.QuestInfoOf(ev.Quest), string(ev.Quest.Tier)
			m.LatencyMS, m.OnTime, m.Floor = float64(ev.Latency)/1e6, ev.OnTime, ev.Floor
		default:
			continue
		}
		dst = append(dst, m)
	}
	return e.in.drain(dst)
}

func (e *embedded) Close() error {
	close(e.quit)
	e.wg.Wait()
	return e.st.Close()
}

// remote talks to a Hearth server through the Go client. The client's
// calls block until the answer, so each runs on its own goroutine and
// hands its result to Poll through the inbox.
type remote struct {
	c      *client.Client
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	in     inbox

	loadMu             sync.Mutex
	loadDone, loadFail uint64
}

func dialRemote(ctx context.Context, cfg BackendConfig) (*remote, error) {
	c, err := client.Dial(ctx, cfg.Server, client.Options{PlayerID: cfg.Player, PlayerName: cfg.Name, ClientName: "hearth-demo"})
	if err != nil {
		return nil, err
	}
	r := &remote{c: c}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

func (r *remote) Name() string { return "server" }

// goDo runs f on a goroutine that Close waits for.
func (r *remote) goDo(f func(ctx context.Context)) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f(r.ctx)
	}()
}

func (r *remote) Talk(npcID, text string, tag uint64) error {
	r.goDo(func(ctx context.Context) {
		reply, err := r.c.Talk(ctx, npcID, text, 0, func(d protocol.DialogueDelta) {
			r.in.put(Msg{Kind: MsgDelta, Tag: tag, NPC: npcID, Text: d.Text, Reset: d.Reset})
		})
		if err != nil {
			r.in.put(Msg{Kind: MsgError, Tag: tag, NPC: npcID, Err: err})
			return
		}
		r.in.put(Msg{Kind: MsgReply, Tag: tag, NPC: npcID, Text: reply.Text, Tier: reply.Tier,
			LatencyMS: reply.LatencyMS, OnTime: reply.OnTime, Floor: reply.Floor})
	})
	return nil
}

func (r *remote) RequestQuest(giver, location string, level int, tag uint64) error {
	r.goDo(func(ctx context.Context) {
		offer, err := r.c.RequestQuest(ctx, protocol.QuestRequest{Level: uint32(max(level, 1)), Location: location, Giver: giver})
		if err != nil {
			r.in.put(Msg{Kind: MsgError, Tag: tag, NPC: giver, Err: err})
			return
		}
		r.in.put(Msg{Kind: MsgOffer, Tag: tag, NPC: giver, Quest: offer.Quest, Tier: offer.Quest.Tier,
			LatencyMS: offer.LatencyMS, OnTime: offer.OnTime, Floor: offer.Floor})
	})
	return nil
}

func (r *remote) AcceptQuest(q protocol.QuestInfo, _ int) {
	r.goDo(func(ctx context.Context) {
		u, err := r.c.AcceptQuest(ctx, q.ID)
		if err != nil {
			r.in.put(Msg{Kind: MsgNotice, Text: "accept: " + err.Error()})
			return
		}
		r.in.put(Msg{Kind: MsgUpdates, Updates: []protocol.QuestUpdate{u}})
		r.fetchLog(ctx)
	})
}

func (r *remote) Report(ev quest.Event) {
	we := protocol.WorldEvent{Kind: string(ev.Kind), Target: ev.Target, Item: ev.Item, Location: ev.Location,
		Count: protocol.U32(ev.Count)}
	r.goDo(func(ctx context.Context) {
		ups, err := r.c.ReportEvent(ctx, we)
		if err != nil {
			r.in.put(Msg{Kind: MsgNotice, Text: "event: " + err.Error()})
			return
		}
		if len(ups) > 0 {
			r.in.put(Msg{Kind: MsgUpdates, Updates: ups})
			r.fetchLog(ctx)
		}
	})
}

func (r *remote) RefreshLog() { r.goDo(r.fetchLog) }

func (r *remote) fetchLog(ctx context.Context) {
	l, err := r.c.QuestLog(ctx)
	if err != nil {
		r.in.put(Msg{Kind: MsgNotice, Text: "quest log: " + err.Error()})
		return
	}
	r.in.put(Msg{Kind: MsgLog, Log: l.Entries})
}

func (r *remote) StartLoad(n int, npcs []string, seed uint64) {
	if len(npcs) == 0 {
		return
	}
	for i := range n {
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		r.goDo(func(ctx context.Context) {
			for ctx.Err() == nil {
				npc := npcs[rng.IntN(len(npcs))]
				_, err := r.c.Talk(ctx, npc, loadLines[rng.IntN(len(loadLines))], 0, nil)
				if ctx.Err() != nil {
					return
				}
				r.loadMu.Lock()
				r.loadDone++
				if err != nil {
					r.loadFail++
				}
				r.loadMu.Unlock()
				if err != nil {
					// An overloaded or broken server: back off instead of
					// spinning.
					select {
					case <-ctx.Done():
					case <-time.After(100 * time.Millisecond):
					}
				}
			}
		})
	}
}

func (r *remote) LoadStats() (done, failed uint64) {
	r.loadMu.Lock()
	defer r.loadMu.Unlock()
	return r.loadDone, r.loadFail
}

func (r *remote) Poll(dst []Msg) []Msg { return r.in.drain(dst) }

func (r *remote) Close() error {
	r.cancel()
	err := r.c.Close()
	r.wg.Wait()
	return err
}

// objective converts a wire objective back, for quest.World.EventFor.
func objective(o protocol.QuestObjective) quest.Objective {
	return quest.Objective{Action: quest.Action(o.Action), Targets: o.Targets, Count: int(o.Count), Location: o.Location}
}

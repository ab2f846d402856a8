// Package server speaks Hearth's WebSocket protocol (docs/protocol.md) on
// top of a middleware.Runtime, and serves /healthz and /metrics.
//
// A request's path through this package, file by file: conn.go accepts the
// upgrade and runs one read pump and one write pump per connection; the read
// pump decodes a frame and dispatches it by message type; talk becomes a
// Runtime.Submit, bark a Runtime.SubmitBark and quest.request a
// Runtime.SubmitQuest; the runtime's
// events come back through Server.Run (replies and quest offers, at tick
// boundaries) or the delta stream (as they are produced) and are routed to
// the connection that asked. quest.go handles the quest messages that call
// the quest tracker (accept, abandon, world events, the log) on the read
// pump and sends their updates to every connection of the player.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/quest"
)

// Name is the server software reported in welcome.
const Name = "hearth/0.1"

// Options configures a Server. Zero fields take the documented defaults.
type Options struct {
	// SendQueue is each connection's send queue, in frames. When it is full
	// the client is too slow: the connection is closed with
	// protocol.CloseSlowConsumer rather than buffering without bound.
	// Default 512.
	SendQueue int
	// WriteTimeout bounds every write to a socket. Default 5 s.
	WriteTimeout time.Duration
	// PingInterval is how often the server pings each client; a client
	// silent for 3 intervals is dropped. Default 15 s.
	PingInterval time.Duration
	// MaxBudget clamps a talk's or bark's budget_ms. Default 10 s.
	MaxBudget time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// CheckOrigin decides which browser origins may connect. Default: all
	// (game clients are not browsers; put auth in front for production).
	CheckOrigin func(r *http.Request) bool
	// Quests is the tracker of the players' quest logs
	// (middleware.Stack.QuestLog). nil disables the quest messages: they are
	// answered with protocol.CodeQuestsUnavailable. quest.request also needs
	// the runtime's quest generator (middleware.Options.Quests). The server
	// calls the tracker, which writes to the store, only from connections'
	// read pumps, never from the tick.
	Quests *quest.Tracker
	// Collectors are more Prometheus collectors served on /metrics beside
	// the runtime's, e.g. inference.NewCollector(stack.Router, stack.Cache).
	Collectors []prometheus.Collector

	// Keys are the API keys accepted on the WebSocket upgrade and the
	// admin endpoints (LoadKeyRing). With Keys and JWT both nil the server
	// is open: anyone who reaches it may connect as any player, the admin
	// endpoints answer 403, and New logs a warning. docs/security.md.
	Keys *KeyRing
	// JWT verifies HS256 JWTs (NewJWTVerifier) on the upgrade and the
	// admin endpoints; a JWT binds the connection to the player in its sub.
	JWT *JWTVerifier
	// Audit records every authenticated admin request. Default: the
	// Logger, at level info (use OpenFileAudit for an append-only file).
	Audit Audit
	// Limits bound message rates and requests in flight. The zero value
	// limits nothing but frame sizes; DefaultLimits is the production
	// policy.
	Limits Limits
}

func (o *Options) fill() error {
	if o.SendQueue == 0 {
		o.SendQueue = 512
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 5 * time.Second
	}
	if o.PingInterval == 0 {
		o.PingInterval = 15 * time.Second
	}
	if o.MaxBudget == 0 {
		o.MaxBudget = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.CheckOrigin == nil {
		o.CheckOrigin = func(*http.Request) bool { return true }
	}
	if o.Audit == nil {
		o.Audit = logAudit{o.Logger}
	}
	if err := o.Limits.fill(); err != nil {
		return err
	}
	switch {
	case o.SendQueue < 0:
		return fmt.Errorf("server: Options.SendQueue %d: must be positive", o.SendQueue)
	case o.WriteTimeout < 0:
		return fmt.Errorf("server: Options.WriteTimeout %v: must be positive", o.WriteTimeout)
	case o.PingInterval < 0:
		return fmt.Errorf("server: Options.PingInterval %v: must be positive", o.PingInterval)
	case o.MaxBudget < 0:
		return fmt.Errorf("server: Options.MaxBudget %v: must be positive", o.MaxBudget)
	}
	return nil
}

// Server serves one Runtime to WebSocket clients.
type Server struct {
	rt       *middleware.Runtime
	opts     Options
	upgrader websocket.Upgrader
	registry *prometheus.Registry
	metrics  serverMetrics
	npcs     []protocol.NPCInfo

	// routes maps a runtime Tag to the connection and client id that asked.
	routes  sync.Map // uint64 → route
	nextTag atomic.Uint64
	tick    atomic.Uint64

	// questMu serializes the tracker's changes with the publication of
	// their updates, so that every connection sees a quest's updates in
	// the order they happened. The tracker serializes its changes anyway.
	questMu sync.Mutex

	mu      sync.Mutex
	conns   map[*conn]struct{}
	players map[string]map[*conn]struct{} // playerKey(tenant, player id) → its connections that said hello
	// playerLims are the per-player token buckets (Limits.Player), by
	// playerKey, while the player has a connection.
	playerLims map[string]*playerBucket
	// quota is each player's usage of the day, checked against
	// Limits.Daily when it sets caps.
	quota    *quotaBook
	shutdown bool
	connWG   sync.WaitGroup
	sessions atomic.Uint64
}

type route struct {
	c  *conn
	id uint64 // the talk's, bark's or quest.request's envelope id

	quest bool // a quest.request: the answer is a quest.offer
	level int  // quest.request's level, kept with the offer for quest.accept
}

// New builds a Server over rt and registers rt's metrics and its own with a
// fresh Prometheus registry served at /metrics.
func New(rt *middleware.Runtime, opts Options) (*Server, error) {
	if err := opts.fill(); err != nil {
		return nil, err
	}
	s := &Server{rt: rt, opts: opts, registry: prometheus.NewRegistry(), conns: map[*conn]struct{}{},
		players: map[string]map[*conn]struct{}{}, playerLims: map[string]*playerBucket{},
		quota: newQuotaBook(opts.Limits.Daily)}
	if !s.authEnabled() {
		opts.Logger.Warn("server: authentication is off: anyone who can reach this address may connect as any player, " +
			"and the admin endpoints are disabled; use Options.Keys or Options.JWT (hearth serve -auth-keys, -jwt-secret-env) " +
			"in production (docs/security.md)")
	}
	s.upgrader = websocket.Upgrader{
		Subprotocols:    protocol.Subprotocols(),
		CheckOrigin:     opts.CheckOrigin,
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
	}
	s.metrics = newServerMetrics()
	// go_gc_heap_live_bytes (the heap the last collection kept) beside the
	// MemStats gauges: with GOGC 400 the heap in use is a sawtooth up to 5×
	// the live heap, so a leak shows in the live heap first (hearth soak
	// gates on it).
	goCollector := collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
		collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/live:bytes$`)}))
	for _, c := range []prometheus.Collector{goCollector, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		if err := s.registry.Register(c); err != nil {
			return nil, err
		}
	}
	if err := rt.Metrics().Register(s.registry); err != nil {
		return nil, err
	}
	for _, c := range opts.Collectors {
		if err := s.registry.Register(c); err != nil {
			return nil, fmt.Errorf("server: register metrics: %w", err)
		}
	}
	if err := s.metrics.register(s.registry, s); err != nil {
		return nil, err
	}
	for _, d := range rt.Roster().Definitions() {
		s.npcs = append(s.npcs, protocol.NPCInfo{ID: d.ID, Name: d.Name, Role: d.Role})
	}
	rt.StreamDeltas(s.onDelta)
	return s, nil
}

// Handler returns the HTTP handler: /v1/ws, the admin endpoints
// (AdminConnectionsPath, AdminKickPath), /healthz and /metrics.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(protocol.Path, s.serveWS)
	mux.HandleFunc(AdminConnectionsPath, s.adminHandler(http.MethodGet, "connections.list", s.adminConnections))
	mux.HandleFunc(AdminKickPath, s.adminHandler(http.MethodPost, "kick", s.adminKick))
	mux.HandleFunc(AdminUsagePath, s.adminHandler(http.MethodGet, "usage.list", s.adminUsage))
	mux.HandleFunc("/healthz", s.serveHealth)
	mux.Handle("/metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	return mux
}

func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	n, down := len(s.conns), s.shutdown
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if down {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	fmt.Fprintf(w, `{"status":%q,"connections":%d,"tick":%d,"npcs":%d}`+"\n",
		map[bool]string{false: "ok", true: "shutting down"}[down], n, s.tick.Load(), len(s.npcs))
}

// Run hosts the runtime standalone: it ticks it at its TickRate and
// delivers each tick's replies to the clients, until ctx ends.
func (s *Server) Run(ctx context.Context) {
	if s.opts.Quests != nil {
		done := make(chan struct{})
		defer func() { <-done }()
		go func() { defer close(done); s.expireQuests(ctx) }()
	}
	s.rt.Run(ctx, s.deliverTick)
}

// questExpiryInterval is how often timed quests are checked. A second is
// far finer than any quest time limit and costs one pass over loaded logs.
const questExpiryInterval = time.Second

// expireQuests fails timed-out quests (wall clock as game time: the
// standalone server has no other clock) and tells their players, off the
// tick goroutine, since the tracker writes to the store.
func (s *Server) expireQuests(ctx context.Context) {
	t := time.NewTicker(questExpiryInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			s.questMu.Lock()
			for _, tr := range s.opts.Quests.Tenants() {
				ups, err := tr.Expire(now)
				for _, u := range ups {
					s.publish(nil, 0, tr.TenantName(), u.PlayerID, protocol.QuestUpdateOf(u))
				}
				if err != nil {
					s.opts.Logger.Error("quest expiry failed", "tenant", tr.TenantName(), "err", err)
				}
			}
			s.questMu.Unlock()
		}
	}
}

// deliverTick runs on the ticker goroutine: it only encodes and queues.
func (s *Server) deliverTick(tick uint64, events []middleware.Event) {
	s.tick.Store(tick)
	for i := range events {
		ev := &events[i]
		v, ok := s.routes.Load(ev.Tag)
		if !ok {
			continue
		}
		rt := v.(route)
		switch ev.Kind {
		case middleware.EventDelta: // only when no delta stream is set
			rt.c.sendDelta(rt.id, tick, ev)
		case middleware.EventReply:
			if !ev.Refining { // else the route waits for the refinement
				s.routes.Delete(ev.Tag)
			}
			rt.c.releaseInFlight()
			s.metrics.observe(ev)
			s.quota.charge(playerKey(rt.c.principal.Tenant, rt.c.playerID), ev, time.Now())
			rt.c.send(protocol.Header{ID: rt.id, Tick: tick}, protocol.DialogueDone{
				Ticket: uint64(ev.Ticket), NPCID: ev.NPCID, Text: ev.Text, Tier: string(ev.Tier),
				Backend: ev.Backend, LatencyMS: float64(ev.Latency) / 1e6,
				BudgetMS: uint32(ev.Budget / time.Millisecond), OnTime: ev.OnTime, Floor: ev.Floor,
				Reason: ev.Reason.String(), PredictedMS: float64(ev.Predicted) / 1e6,
				Prompt: ev.Prompt, Guard: ev.Guard, CostUSD: ev.CostUSD,
				PromptTokens: modelTokens(ev, ev.PromptTokens), Tokens: modelTokens(ev, ev.Tokens),
				Affinity: ev.Affinity, Trust: ev.Trust, Actions: wireActions(ev.Actions), Refining: ev.Refining,
			})
		case middleware.EventRefine:
			s.routes.Delete(ev.Tag)
			s.quota.charge(playerKey(rt.c.principal.Tenant, rt.c.playerID), ev, time.Now())
			m := protocol.DialogueRefine{Ticket: uint64(ev.Ticket), NPCID: ev.NPCID, Text: ev.Text, Tier: string(ev.Tier),
				Backend: ev.Backend, LatencyMS: float64(ev.Latency) / 1e6, Prompt: ev.Prompt, CostUSD: ev.CostUSD,
				PromptTokens: modelTokens(ev, ev.PromptTokens), Tokens: modelTokens(ev, ev.Tokens)}
			if ev.Err != nil {
				m.Reason = ev.Err.Error()
			}
			rt.c.send(protocol.Header{ID: rt.id, Tick: tick}, m)
		case middleware.EventQuest:
			s.routes.Delete(ev.Tag)
			rt.c.releaseInFlight()
			rt.c.offerQuest(rt, tick, ev)
		case middleware.EventError:
			s.routes.Delete(ev.Tag)
			rt.c.releaseInFlight()
			if rt.quest {
				rt.c.sendError(rt.id, questErrorCode(ev.Err), ev.Err.Error())
				break
			}
			rt.c.sendError(rt.id, protocol.CodeInternal, "the NPC could not answer: "+ev.Err.Error())
		}
	}
}

// onDelta forwards a streamed delta as soon as it is produced.
func (s *Server) onDelta(ev middleware.Event) {
	if v, ok := s.routes.Load(ev.Tag); ok {
		rt := v.(route)
		rt.c.sendDelta(rt.id, s.tick.Load(), &ev)
	}
}

// Shutdown stops accepting work, closes every connection with
// protocol.CloseGoingAway and waits for their goroutines, or for ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.closeWith(protocol.CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() { s.connWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.Join(errors.New("server: shutdown: connections still open"), ctx.Err())
	}
}

func (s *Server) addConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shutdown {
		return false
	}
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	return true
}

func (s *Server) removeConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.releasePlayerLimiterLocked(c)
	k := playerKey(c.principal.Tenant, c.playerID)
	if pc := s.players[k]; pc != nil {
		delete(pc, c)
		if len(pc) == 0 {
			delete(s.players, k)
		}
	}
	s.mu.Unlock()
	s.connWG.Done()
}

func (s *Server) connCount() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return float64(len(s.conns))
}

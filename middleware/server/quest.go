package server

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/quest"
)

// The quest messages (docs/protocol.md §4.8–4.14). quest.request goes
// through the runtime like a talk and is answered at a tick boundary; the
// others call the tracker, which writes to the store, on the read pump.

// maxRecentActions is how many of a connection's latest world events are
// passed to the generator as quest.Request.RecentActions.
const maxRecentActions = 16

// offer is a quest offered on a connection, with the level it was asked
// for: quest.accept uses both, never a quest body from the client.
type offer struct {
	q     quest.Quest
	level int
}

// offers keeps a connection's latest protocol.MaxQuestOffers offers. The
// tick goroutine adds, the read pump looks up.
type offers struct {
	mu    sync.Mutex
	byID  map[string]offer
	order []string // oldest first
}

func (o *offers) put(q quest.Quest, level int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.byID == nil {
		o.byID = make(map[string]offer, protocol.MaxQuestOffers)
	}
	if _, ok := o.byID[q.ID]; ok { // offered again: it becomes the newest
		for i, id := range o.order {
			if id == q.ID {
				o.order = append(o.order[:i], o.order[i+1:]...)
				break
			}
		}
	} else if len(o.order) >= protocol.MaxQuestOffers {
		delete(o.byID, o.order[0])
		o.order = append(o.order[:0], o.order[1:]...)
	}
	o.byID[q.ID] = offer{q: q, level: level}
	o.order = append(o.order, q.ID)
}

func (o *offers) get(id string) (offer, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	of, ok := o.byID[id]
	return of, ok
}

// addPlayerConn indexes c under its player, for quest updates.
func (s *Server) addPlayerConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := playerKey(c.principal.Tenant, c.playerID)
	pc := s.players[k]
	if pc == nil {
		pc = map[*conn]struct{}{}
		s.players[k] = pc
	}
	pc[c] = struct{}{}
}

// publish sends u to every open connection of player in tenant: with id
// to from, and with id 0 to the others. It reports whether from was one of
// them.
func (s *Server) publish(from *conn, id uint64, tenant, player string, u protocol.QuestUpdate) bool {
	s.mu.Lock()
	pc := s.players[playerKey(tenant, player)]
	conns := make([]*conn, 0, len(pc))
	for c := range pc {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	tick := s.tick.Load()
	here := false
	for _, c := range conns {
		if c == from {
			here = true
			c.send(protocol.Header{ID: id, Tick: tick}, u)
		} else {
			c.send(protocol.Header{Tick: tick}, u)
		}
	}
	return here
}

// quests returns the quest tracker of c's tenant: tenants' quest logs are
// isolated (docs/security.md, "Tenants"). Call after questsReady.
func (c *conn) quests() *quest.Tracker { return c.s.opts.Quests.Tenant(c.principal.Tenant) }

// questsReady checks what every quest message needs: a hello and a server
// with quests. It answers the error itself.
func (c *conn) questsReady(id uint64) bool {
	switch {
	case c.playerID == "":
		c.sendError(id, protocol.CodeNotHello, "send hello with your player_id before quest messages")
		return false
	case c.s.opts.Quests == nil:
		c.sendError(id, protocol.CodeQuestsUnavailable, "this server hosts no quests (its world has no quest.yaml)")
		return false
	}
	return true
}

func (c *conn) questRequest(id uint64, m protocol.QuestRequest) {
	if !c.questsReady(id) || !c.acquireInFlight(id) {
		return
	}
	budget := min(time.Duration(m.BudgetMS)*time.Millisecond, c.s.opts.MaxBudget)
	level := int(min(m.Level, math.MaxInt32))
	tag := c.s.nextTag.Add(1)
	c.s.routes.Store(tag, route{c: c, id: id, quest: true, level: level})
	_, err := c.s.rt.SubmitQuest(middleware.QuestRequest{Tag: tag, Tenant: c.principal.Tenant, Request: quest.Request{
		PlayerID: c.playerID, Level: level, Location: m.Location, Motivation: quest.Motivation(m.Motivation),
		Giver: m.Giver, Budget: budget, Seed: m.Seed, After: m.After,
		RecentActions: append([]string(nil), c.recent...),
	}})
	if err == nil {
		return
	}
	c.s.routes.Delete(tag)
	c.releaseInFlight()
	switch {
	case errors.Is(err, middleware.ErrNoQuests):
		c.sendError(id, protocol.CodeQuestsUnavailable, err.Error())
	case errors.Is(err, middleware.ErrOverloaded):
		c.sendError(id, protocol.CodeOverloaded, err.Error())
	case errors.Is(err, middleware.ErrClosed):
		c.sendError(id, protocol.CodeOverloaded, "server shutting down")
	default:
		c.sendError(id, protocol.CodeBadRequest, err.Error())
	}
}

// questErrorCode is the error code of a failed quest generation.
func questErrorCode(err error) string {
	var re *quest.RequestError
	switch {
	case errors.Is(err, quest.ErrNoSuitableQuest):
		return protocol.CodeNoQuest
	case errors.As(err, &re), errors.Is(err, quest.ErrUnknownLocation), errors.Is(err, quest.ErrLevelOutOfRange),
		errors.Is(err, quest.ErrUnknownGiver), errors.Is(err, quest.ErrUnknownMotivation):
		return protocol.CodeBadRequest
	}
	return protocol.CodeInternal
}

// offerQuest runs on the tick goroutine: it remembers the offer and sends
// it.
func (c *conn) offerQuest(r route, tick uint64, ev *middleware.Event) {
	if ev.Quest == nil {
		c.sendError(r.id, protocol.CodeInternal, "the runtime delivered no quest")
		return
	}
	o := protocol.QuestOffer{Ticket: uint64(ev.Ticket), Quest: protocol.QuestInfoOf(ev.Quest),
		LatencyMS: float64(ev.Latency) / 1e6, BudgetMS: uint32(ev.Budget / time.Millisecond),
		OnTime: ev.OnTime, Floor: ev.Floor}
	if err := o.Validate(); err != nil {
		c.log.Error("generated quest exceeds the protocol's bounds", "quest", ev.Quest.ID, "err", err)
		c.sendError(r.id, protocol.CodeInternal, "the generated quest does not fit the protocol: "+err.Error())
		return
	}
	c.offers.put(*ev.Quest, r.level)
	c.send(protocol.Header{ID: r.id, Tick: tick}, o)
}

func (c *conn) questAccept(id uint64, m protocol.QuestAccept) {
	if !c.questsReady(id) {
		return
	}
	of, ok := c.offers.get(m.QuestID)
	if !ok {
		c.sendError(id, protocol.CodeUnknownQuest, fmt.Sprintf("quest %s was not offered on this connection "+
			"(it remembers its last %d offers); ask for one with quest.request", strconv.Quote(m.QuestID), protocol.MaxQuestOffers))
		return
	}
	c.s.questMu.Lock()
	defer c.s.questMu.Unlock()
	e, err := c.quests().Accept(c.playerID, of.level, of.q, time.Now())
	if err != nil {
		if errors.Is(err, quest.ErrPrerequisites) || errors.Is(err, quest.ErrAlreadyAccepted) || errors.Is(err, quest.ErrInvalidForPlayer) {
			c.sendError(id, protocol.CodeBadRequest, err.Error())
		} else if errors.Is(err, store.ErrWriteFailed) {
			c.storageError(id, "quest.accept", err)
		} else {
			c.internalError(id, "quest.accept", err)
		}
		return
	}
	c.s.publish(c, id, c.principal.Tenant, c.playerID, protocol.QuestAcceptedOf(&e.Quest))
}

func (c *conn) questAbandon(id uint64, m protocol.QuestAbandon) {
	if !c.questsReady(id) {
		return
	}
	c.s.questMu.Lock()
	defer c.s.questMu.Unlock()
	u, err := c.quests().Abandon(c.playerID, m.QuestID, time.Now())
	switch {
	case errors.Is(err, quest.ErrNotInLog):
		c.sendError(id, protocol.CodeUnknownQuest, err.Error())
	case errors.Is(err, quest.ErrNotActive):
		c.sendError(id, protocol.CodeBadRequest, err.Error())
	case errors.Is(err, store.ErrWriteFailed):
		c.storageError(id, "quest.abandon", err)
	case err != nil:
		c.internalError(id, "quest.abandon", err)
	default:
		c.s.publish(c, id, c.principal.Tenant, c.playerID, protocol.QuestUpdateOf(u))
	}
}

func (c *conn) worldEvent(id uint64, m protocol.WorldEvent) {
	if !c.questsReady(id) {
		return
	}
	ev := quest.Event{Kind: quest.EventKind(m.Kind), PlayerID: c.playerID, Target: m.Target, Item: m.Item,
		Location: m.Location, Count: int(m.Count), Time: time.Now()}
	if ev.Kind == quest.EventDied {
		ev.PlayerID = "" // it concerns every player of the tenant
	}
	c.remember(m)
	c.s.questMu.Lock()
	defer c.s.questMu.Unlock()
	ups, err := c.quests().Apply(ev)
	var n uint32
	for _, u := range ups {
		if c.s.publish(c, id, c.principal.Tenant, u.PlayerID, protocol.QuestUpdateOf(u)) {
			n++
		}
	}
	if errors.Is(err, store.ErrWriteFailed) {
		// The updates published above were written and synced; the
		// one that failed was not made.
		c.storageError(id, "world.event", err)
		return
	}
	if err != nil {
		c.internalError(id, "world.event", err)
		return
	}
	c.send(protocol.Header{ID: id, Tick: c.s.tick.Load()}, protocol.WorldAck{Updates: n})
}

// remember records a world event as a recent action for quest.request.
func (c *conn) remember(m protocol.WorldEvent) {
	var a string
	switch m.Kind {
	case protocol.WorldEventKill, protocol.WorldEventCollect, protocol.WorldEventTalk, protocol.WorldEventDeliver:
		a = m.Kind + ":" + m.Target
	case protocol.WorldEventArrive:
		a = "arrive:" + m.Location
	default:
		return
	}
	if len(c.recent) >= maxRecentActions {
		c.recent = append(c.recent[:0], c.recent[1:]...)
	}
	c.recent = append(c.recent, a)
}

func (c *conn) questLog(id uint64) {
	if !c.questsReady(id) {
		return
	}
	log, err := c.quests().Log(c.playerID)
	if err != nil {
		c.internalError(id, "quest.log", err)
		return
	}
	// Most recently changed first (Log orders by quest id, which breaks
	// ties).
	sort.SliceStable(log, func(i, j int) bool { return log[i].UpdatedAt.After(log[j].UpdatedAt) })
	m := protocol.QuestLog{Total: protocol.U32(len(log))}
	for i := range log[:min(len(log), protocol.MaxQuestLogEntries)] {
		m.Entries = append(m.Entries, protocol.QuestLogEntryOf(&log[i]))
	}
	b, err := encodeLog(c.codec, protocol.Header{ID: id, Tick: c.s.tick.Load()}, m)
	if err != nil {
		c.internalError(id, "quest.log", err)
		return
	}
	c.enqueue(b)
}

// encodeLog encodes m, dropping its last (oldest) entries until the frame
// fits in protocol.MaxFrameBytes.
func encodeLog(codec protocol.Codec, h protocol.Header, m protocol.QuestLog) ([]byte, error) {
	for {
		b, err := codec.Encode(h, m)
		if err != nil || len(b) <= protocol.MaxFrameBytes || len(m.Entries) == 0 {
			return b, err
		}
		// Drop about the share of entries that is too much, at least one.
		over := len(m.Entries) * (len(b) - protocol.MaxFrameBytes) / len(b)
		m.Entries = m.Entries[:len(m.Entries)-max(1, over)]
	}
}

// storageError refuses a quest change the store could not make durable
// (docs/security.md, "Crash safety"). The store logs nothing per write, so
// this logs at warn; a full disk is the operator's to fix.
func (c *conn) storageError(id uint64, what string, err error) {
	c.s.metrics.storageRefused.Inc()
	c.log.Warn(what+" refused: the quest log could not be written", "err", err)
	c.sendError(id, protocol.CodeStorageUnavailable, what+": the quest log could not be saved; nothing changed, retry later")
}

func (c *conn) internalError(id uint64, what string, err error) {
	c.log.Error(what+" failed", "err", err)
	c.sendError(id, protocol.CodeInternal, what+": "+err.Error())
}

package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/npc"
)

// conn is one client connection. The read pump (serveWS's goroutine) owns
// reads; the write pump owns every write, pings included, because
// gorilla/websocket allows one writer at a time.
type conn struct {
	s       *Server
	ws      *websocket.Conn
	codec   protocol.Codec
	session string
	log     *slog.Logger
	// principal is who authenticated the upgrade (an anonymous client
	// when the server runs without authentication); its Tenant is the
	// connection's tenant. Set before the connection is registered.
	principal Principal

	// Limits (limits.go). connLim, playerLim (set by hello), errLim and
	// the unanswered count belong to the read pump; inFlight counts the
	// connection's requests that wait for their answer.
	connLim, playerLim, errLim *rate.Limiter
	unanswered                 int
	unansweredCode             string
	inFlight                   atomic.Int32

	out       chan []byte   // encoded frames; bounded, see Options.SendQueue
	closeReq  chan closeMsg // first close request wins
	closeOnce sync.Once
	done      chan struct{} // closed when the write pump exits

	// Set by hello; read and written only by the read pump (and by
	// removeConn after it).
	playerID, playerName string
	// recent are the connection's latest world events as quest.Request
	// RecentActions ("kill:marsh-wolf"); read pump only.
	recent []string

	offers offers // the latest quest offers, for quest.accept
}

type closeMsg struct {
	code   int
	reason string
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	// Authentication comes first, before the upgrade: a refused client
	// gets an HTTP 401 and never a WebSocket connection.
	principal, fail := s.authenticate(r)
	if fail != nil {
		s.refuse(w, r, fail)
		return
	}
	if !offersSubprotocol(r) {
		http.Error(w, "hearth: ask for a subprotocol in Sec-WebSocket-Protocol: "+
			protocol.SubprotocolMsgpack+" or "+protocol.SubprotocolJSON+" (docs/protocol.md §1)", http.StatusBadRequest)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader already answered with an HTTP error
	}
	codec, _ := protocol.CodecFor(ws.Subprotocol())
	c := &conn{
		s: s, ws: ws, codec: codec,
		session:   strconv.FormatUint(s.sessions.Add(1), 36),
		principal: principal,
		out:       make(chan []byte, s.opts.SendQueue),
		closeReq:  make(chan closeMsg, 1),
		done:      make(chan struct{}),
		connLim:   s.opts.Limits.Conn.limiter(),
		errLim:    s.opts.Limits.ErrorReplies.limiter(),
	}
	c.log = s.opts.Logger.With("session", c.session, "remote", r.RemoteAddr)
	if principal.ID != "" {
		c.log = c.log.With("principal", principal.ID, "tenant", principal.Tenant)
	}
	if !s.addConn(c) {
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(protocol.CloseGoingAway, "server shutting down"), time.Now().Add(time.Second))
		ws.Close()
		return
	}
	defer s.removeConn(c)
	if exp := principal.Expires; !exp.IsZero() {
		// A connection lives no longer than its token (docs/security.md).
		t := time.AfterFunc(time.Until(exp.Add(JWTLeeway)), func() {
			c.closeWith(protocol.CloseCredentialExpired, "token expired: reconnect with a fresh one")
		})
		defer t.Stop()
	}
	go c.writePump()
	c.readPump()
	c.closeWith(websocket.CloseNormalClosure, "")
	<-c.done
	ws.Close()
}

// readPump reads frames until the connection fails or closes. A bad frame
// gets an error message and the loop goes on; only transport failures and
// frames over the hard cap end it.
func (c *conn) readPump() {
	ws := c.ws
	ws.SetReadLimit(protocol.MaxFrameHardBytes)
	pongWait := 3 * c.s.opts.PingInterval
	ws.SetReadDeadline(time.Now().Add(pongWait))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(pongWait)) })
	var buf bytes.Buffer
	for {
		mt, r, err := ws.NextReader()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.closeWith(protocol.CloseMessageTooBig, fmt.Sprintf("frame over %d bytes", protocol.MaxFrameHardBytes))
			} else if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
				c.log.Debug("read failed", "err", err)
			}
			return
		}
		select {
		case <-c.done:
			// Closing: the write pump has set the drain deadline
			// (closeDrain), which traffic must not extend, and nothing
			// read now gets an answer: discard it as fast as it comes,
			// so the socket closes with nothing unread (which would make
			// it a reset).
			if _, err := io.Copy(io.Discard, r); err != nil {
				return
			}
			continue
		default:
			ws.SetReadDeadline(time.Now().Add(pongWait))
		}
		tooBig, err := readBounded(r, &buf, protocol.MaxFrameBytes)
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.closeWith(protocol.CloseMessageTooBig, fmt.Sprintf("frame over %d bytes", protocol.MaxFrameHardBytes))
			}
			return
		}
		c.s.metrics.framesIn.Inc()
		if !c.admit(buf.Bytes()) {
			continue
		}
		if tooBig {
			c.s.metrics.badFrames.WithLabelValues(protocol.CodeFrameTooLarge).Inc()
			c.sendError(0, protocol.CodeFrameTooLarge, fmt.Sprintf("frame is over %d bytes", protocol.MaxFrameBytes))
			continue
		}
		if want := c.codec.MessageType(); mt != want {
			c.s.metrics.badFrames.WithLabelValues(protocol.CodeBadFrame).Inc()
			c.sendError(0, protocol.CodeBadFrame, fmt.Sprintf("subprotocol %s takes %s frames", c.codec.Subprotocol(), frameKind(want)))
			continue
		}
		c.dispatch(buf.Bytes())
	}
}

// readBounded reads one frame into buf, at most limit bytes. When the
// frame is longer it discards the rest (bounded by the socket's read limit)
// and reports tooBig, so an oversized frame never grows memory.
func readBounded(r io.Reader, buf *bytes.Buffer, limit int64) (tooBig bool, err error) {
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return false, err
	}
	if int64(buf.Len()) <= limit {
		return false, nil
	}
	_, err = io.Copy(io.Discard, r)
	return true, err
}

// offersSubprotocol reports whether the handshake asks for one of ours.
func offersSubprotocol(r *http.Request) bool {
	for _, asked := range websocket.Subprotocols(r) {
		if _, ok := protocol.CodecFor(asked); ok {
			return true
		}
	}
	return false
}

func frameKind(mt int) string {
	if mt == websocket.BinaryMessage {
		return "binary"
	}
	return "text"
}

// dispatch decodes one frame and acts on it by message type.
func (c *conn) dispatch(data []byte) {
	f, err := c.codec.Decode(data)
	if err != nil {
		c.badFrame(f.ID, err) // the id when it was readable, else 0
		return
	}
	m, err := f.Message() // typed, bounded and validated; unknown types are errors
	if err != nil {
		c.badFrame(f.ID, err)
		return
	}
	switch m := m.(type) {
	case protocol.Hello:
		c.hello(f.ID, m)
	case protocol.Talk:
		c.talk(f.ID, m)
	case protocol.Bark:
		c.bark(f.ID, m)
	case protocol.Ping:
		c.send(protocol.Header{ID: f.ID, Tick: c.s.tick.Load()}, protocol.Pong{TMS: m.TMS})
	case protocol.QuestRequest:
		c.questRequest(f.ID, m)
	case protocol.QuestAccept:
		c.questAccept(f.ID, m)
	case protocol.QuestAbandon:
		c.questAbandon(f.ID, m)
	case protocol.WorldEvent:
		c.worldEvent(f.ID, m)
	case protocol.WorldState:
		c.worldState(f.ID, m)
	case protocol.QuestLog:
		c.questLog(f.ID)
	default: // a server→client type sent by a client
		c.s.metrics.badFrames.WithLabelValues(protocol.CodeUnknownType).Inc()
		c.sendError(f.ID, protocol.CodeUnknownType, fmt.Sprintf("message type %q is sent by servers; clients send "+
			"hello, talk, bark, ping, quest.request, quest.accept, quest.abandon, quest.log, world.event and world.state", f.Type))
	}
}

func (c *conn) badFrame(id uint64, err error) {
	code, msg := protocol.CodeBadFrame, err.Error()
	var pe *protocol.Error
	if errors.As(err, &pe) {
		code, msg = pe.Code, pe.Message
	}
	c.s.metrics.badFrames.WithLabelValues(code).Inc()
	c.sendError(id, code, msg)
}

func (c *conn) hello(id uint64, m protocol.Hello) {
	if c.playerID != "" {
		// docs/protocol.md §3: one hello per connection.
		c.closeWith(protocol.CloseProtocolViolation, "hello sent twice; this connection belongs to player "+strconv.Quote(c.playerID))
		return
	}
	if p := c.principal.Player; p != "" && m.PlayerID != p {
		// A JWT speaks for one player only (docs/security.md).
		c.s.metrics.limited.WithLabelValues(protocol.CodeForbidden).Inc()
		c.sendError(id, protocol.CodeForbidden, fmt.Sprintf("hello.player_id %q: this connection's token is for player %q", m.PlayerID, p))
		return
	}
	c.playerID, c.playerName = m.PlayerID, m.PlayerName
	c.playerLim = c.s.acquirePlayerLimiter(c)
	c.s.addPlayerConn(c)
	opts := c.s.rt.Options()
	c.send(protocol.Header{ID: id, Tick: c.s.tick.Load()}, protocol.Welcome{
		Session: c.session, Server: Name, TickHz: uint32(opts.TickRate + 0.5),
		BudgetMS: uint32(opts.Budget / time.Millisecond), NPCs: c.s.npcs,
	})
}

func (c *conn) talk(id uint64, m protocol.Talk) {
	c.submit(id, "talk", m.BudgetMS, func(tag uint64, budget time.Duration) (middleware.Ticket, error) {
		return c.s.rt.Submit(middleware.Talk{NPCID: m.NPCID, Tenant: c.principal.Tenant, PlayerID: c.playerID, PlayerName: c.playerName,
			Text: m.Text, Priority: middleware.PriorityInteractive, Budget: budget, Tag: tag, Refine: m.Refine})
	})
}

// bark asks the runtime for an NPC's ambient line, said because this
// connection's player came near or on the NPC's schedule; it is answered
// like a talk (dialogue.delta*, dialogue.done).
func (c *conn) bark(id uint64, m protocol.Bark) {
	c.submit(id, "bark", m.BudgetMS, func(tag uint64, budget time.Duration) (middleware.Ticket, error) {
		return c.s.rt.SubmitBark(middleware.Bark{NPCID: m.NPCID, Tenant: c.principal.Tenant, PlayerID: c.playerID, Trigger: m.Trigger,
			Budget: budget, Tag: tag})
	})
}

// submit routes the answer of a dialogue request (talk, bark) to this
// connection under a fresh tag and submits it with the clamped budget;
// a refused submission is answered at once with its error code.
func (c *conn) submit(id uint64, what string, budgetMS uint32, submit func(tag uint64, budget time.Duration) (middleware.Ticket, error)) {
	if c.playerID == "" {
		c.sendError(id, protocol.CodeNotHello, "send hello with your player_id before "+what)
		return
	}
	if msg := c.s.quota.admit(playerKey(c.principal.Tenant, c.playerID), time.Now()); msg != "" {
		c.s.metrics.limited.WithLabelValues(protocol.CodeQuotaExceeded).Inc()
		c.sendError(id, protocol.CodeQuotaExceeded, msg)
		return
	}
	if !c.acquireInFlight(id) {
		return
	}
	budget := time.Duration(budgetMS) * time.Millisecond
	budget = min(budget, c.s.opts.MaxBudget)
	tag := c.s.nextTag.Add(1)
	c.s.routes.Store(tag, route{c: c, id: id})
	_, err := submit(tag, budget)
	if err == nil {
		return
	}
	c.s.routes.Delete(tag)
	c.releaseInFlight()
	switch {
	case errors.Is(err, npc.ErrUnknownNPC):
		c.sendError(id, protocol.CodeUnknownNPC, err.Error())
	case errors.Is(err, middleware.ErrOverloaded):
		c.sendError(id, protocol.CodeOverloaded, err.Error())
	case errors.Is(err, middleware.ErrClosed):
		c.sendError(id, protocol.CodeOverloaded, "server shutting down")
	default:
		c.sendError(id, protocol.CodeBadRequest, err.Error())
	}
}

func (c *conn) sendDelta(id, tick uint64, ev *middleware.Event) {
	c.send(protocol.Header{ID: id, Tick: tick}, protocol.DialogueDelta{
		Ticket: uint64(ev.Ticket), NPCID: ev.NPCID, Seq: ev.Seq, Text: ev.Text, Reset: ev.Reset})
}

func (c *conn) sendError(id uint64, code, msg string) {
	c.send(protocol.Header{ID: id, Tick: c.s.tick.Load()}, protocol.ErrorPayload{Code: code, Message: msg})
}

// send encodes and queues one frame without blocking. A full queue means
// the client cannot keep up: it is closed with CloseSlowConsumer.
func (c *conn) send(h protocol.Header, payload protocol.Message) {
	b, err := c.codec.Encode(h, payload)
	if err != nil {
		c.log.Error("encode failed", "type", payload.Type(), "err", err)
		return
	}
	c.enqueue(b)
}

// enqueue queues an encoded frame without blocking, as send does.
func (c *conn) enqueue(b []byte) {
	select {
	case <-c.done:
		return
	default:
	}
	select {
	case c.out <- b:
		c.s.metrics.framesOut.Inc()
	default:
		c.s.metrics.slowConsumers.Inc()
		c.closeWith(protocol.CloseSlowConsumer, "send queue full: read faster")
	}
}

// closeWith asks the write pump to send a close frame and stop. The first
// call wins.
func (c *conn) closeWith(code int, reason string) {
	c.closeOnce.Do(func() { c.closeReq <- closeMsg{code, reason} })
}

// closeDrain is how long a closing connection keeps reading (and
// discarding) what the client still sends after the close frame. Closing a
// socket with unread input makes the kernel send a reset, which can destroy
// the close frame before the client reads it.
const closeDrain = 5 * time.Second

// writePump owns all writes: queued frames, pings and the close frame.
func (c *conn) writePump() {
	defer close(c.done)
	ping := time.NewTicker(c.s.opts.PingInterval)
	defer ping.Stop()
	mt := c.codec.MessageType()
	for {
		select {
		case b := <-c.out:
			c.ws.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
			if err := c.ws.WriteMessage(mt, b); err != nil {
				c.ws.Close() // unblocks the read pump
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.s.opts.WriteTimeout)); err != nil {
				c.ws.Close()
				return
			}
		case m := <-c.closeReq:
			// Flush what is queued, unless the queue overflowed.
			if m.code != protocol.CloseSlowConsumer {
				for n := len(c.out); n > 0; n-- {
					c.ws.SetWriteDeadline(time.Now().Add(c.s.opts.WriteTimeout))
					if c.ws.WriteMessage(mt, <-c.out) != nil {
						break
					}
				}
			}
			c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(m.code, m.reason), time.Now().Add(c.s.opts.WriteTimeout))
			// Give the client time to answer the close (see closeDrain),
			// then make sure the read pump ends.
			c.ws.SetReadDeadline(time.Now().Add(closeDrain))
			return
		}
	}
}

// Package client is the Go SDK for a Hearth server's WebSocket protocol
// (docs/protocol.md): it connects, says hello, and lets any number of
// goroutines talk to NPCs and ping over one connection.
//
// A complete program:
//
//	package main
//
//	import (
//		"context"
//		"errors"
//		"fmt"
//		"log"
//		"time"
//
//		"github.com/hearth-ai/hearth/middleware/client"
//		"github.com/hearth-ai/hearth/middleware/protocol"
//	)
//
//	func main() {
//		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//		defer cancel()
//
//		c, err := client.Dial(ctx, "ws://127.0.0.1:7777/v1/ws", client.Options{
//			PlayerID:   "p1",
//			PlayerName: "Aria",
//		})
//		if err != nil {
//			log.Fatal(err)
//		}
//		defer c.Close()
//
//		for _, npc := range c.Welcome().NPCs {
//			fmt.Printf("%s: %s, %s\n", npc.ID, npc.Name, npc.Role)
//		}
//
//		reply, err := c.Talk(ctx, "smith", "Any work for me?", 0, func(d protocol.DialogueDelta) {
//			if d.Reset {
//				fmt.Println(" [restarting]")
//			}
//			fmt.Print(d.Text) // show the reply as it streams in
//		})
//		var perr *protocol.Error
//		switch {
//		case errors.As(err, &perr) && perr.Code == protocol.CodeOverloaded:
//			fmt.Println("The smith is busy.") // the server is saturated: say something canned
//			return
//		case err != nil:
//			log.Fatal(err)
//		}
//		// reply.Text is authoritative: it replaces what the deltas said.
//		fmt.Printf("\n%s\n(%s tier, %.1f ms of a %d ms budget, on time: %v)\n",
//			reply.Text, reply.Tier, reply.LatencyMS, reply.BudgetMS, reply.OnTime)
//
//		rtt, err := c.Ping(ctx)
//		if err == nil {
//			fmt.Println("round trip:", rtt)
//		}
//	}
//
// Quests: RequestQuest asks for a quest and returns the server's offer;
// AcceptQuest and AbandonQuest change the player's quest log; ReportEvent
// tells the server what happened in the game (a kill, an arrival, a
// delivery, ...) and returns the progress it made; QuestLog lists the log.
// Changes caused by another connection of the same player arrive through
// Options.OnQuestUpdate.
//
// A Client runs one reader goroutine that routes the server's frames to the
// waiting calls by correlation id; writes are serialized by a mutex, as
// gorilla/websocket allows one writer at a time. Close stops the reader.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-ai/hearth/middleware/protocol"
)

// ErrClosed is wrapped by every error a call returns because the connection
// is gone (closed by Close, by the server, or broken). When the server closed
// it with a close frame, the error also wraps the *websocket.CloseError, so
// errors.As finds the close code (for example protocol.CloseSlowConsumer).
var ErrClosed = errors.New("hearth client: connection closed")

// Default values of Options fields.
const (
	// DefaultWriteTimeout bounds each frame write when the call's context has
	// no earlier deadline.
	DefaultWriteTimeout = 10 * time.Second
	// closeTimeout is how long Close waits for the server's close frame
	// before dropping the connection.
	closeTimeout = 2 * time.Second
	// callBuffer is the number of frames buffered per call before the reader
	// waits for the caller (e.g. a slow onDelta) to catch up.
	callBuffer = 32
)

// Options configures Dial. Only PlayerID is required.
type Options struct {
	// Subprotocol is protocol.SubprotocolMsgpack (the default when empty) or
	// protocol.SubprotocolJSON.
	Subprotocol string
	// PlayerID identifies the player to the server (hello.player_id);
	// required, 1..protocol.MaxIDBytes bytes.
	PlayerID string
	// PlayerName is how NPCs address the player (optional).
	PlayerName string
	// ClientName names the client software for the server's logs (optional),
	// e.g. "mygame/1.2".
	ClientName string
	// Dialer makes the connection; nil means websocket.DefaultDialer. It is
	// copied, and its Subprotocols field is replaced by Subprotocol.
	Dialer *websocket.Dialer
	// Header is sent with the HTTP upgrade request, e.g. an Authorization
	// header when the server requires one.
	Header http.Header
	// WriteTimeout bounds each frame write; 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// OnMessage, when set, receives the frames no call is waiting for:
	// unsolicited ones (id 0) and late replies to calls that gave up, except
	// the quest.update frames that OnQuestUpdate takes. It runs on the reader
	// goroutine: it must return quickly and must not wait for a call or call
	// Close on the same Client.
	OnMessage func(protocol.Frame)
	// OnQuestUpdate, when set, receives the quest.update frames no call is
	// waiting for: changes to the player's quests caused by another
	// connection of the same player (a world.event, an accept or abandon
	// there, an NPC's death reported by anyone), and late updates for calls
	// that gave up. It runs on the reader goroutine, like OnMessage.
	OnQuestUpdate func(protocol.QuestUpdate)
}

// Reply is the final answer to a talk or a bark: the server's dialogue.done, plus what
// the client saw on the way.
type Reply struct {
	protocol.DialogueDone
	// Deltas is the number of dialogue.delta frames received before the done.
	Deltas int
	// Tick is the server tick at which the done was sent.
	Tick uint64
}

// Client is a connection to a Hearth server. Its methods are safe for
// concurrent use.
type Client struct {
	conn         *websocket.Conn
	codec        protocol.Codec
	welcome      protocol.Welcome
	writeTimeout time.Duration
	onMessage    func(protocol.Frame)
	onQuest      func(protocol.QuestUpdate)

	nextID atomic.Uint64

	writeMu sync.Mutex
	wbuf    []byte // encode buffer, guarded by writeMu

	mu      sync.Mutex
	calls   map[uint64]*call
	err     error // why the connection ended; set before done is closed
	closing bool  // Close was called

	done      chan struct{} // closed when the reader goroutine has exited
	closeOnce sync.Once
	closeErr  error
}

// call is a request waiting for its replies.
type call struct {
	events    chan event
	abandoned chan struct{} // closed when the caller stops listening
}

// event is a frame for a call, or the error of a frame the server sent for
// it that could not be decoded.
type event struct {
	f   protocol.Frame
	err error
}

// Dial connects to a Hearth server at url (ws://host:port/v1/ws), negotiates
// the subprotocol, sends hello and waits for welcome. ctx bounds the whole
// exchange. A server error reply comes back as a *protocol.Error.
func Dial(ctx context.Context, url string, opts Options) (*Client, error) {
	sub := opts.Subprotocol
	if sub == "" {
		sub = protocol.SubprotocolMsgpack
	}
	codec, ok := protocol.CodecFor(sub)
	if !ok {
		return nil, fmt.Errorf("hearth client: unknown subprotocol %q; use %q or %q",
			sub, protocol.SubprotocolMsgpack, protocol.SubprotocolJSON)
	}
	hello := protocol.Hello{PlayerID: opts.PlayerID, PlayerName: opts.PlayerName, Client: opts.ClientName}
	if err := hello.Validate(); err != nil {
		return nil, err
	}
	d := *websocket.DefaultDialer
	if opts.Dialer != nil {
		d = *opts.Dialer
	}
	d.Subprotocols = []string{sub}
	conn, resp, err := d.DialContext(ctx, url, opts.Header)
	if err != nil {
		if resp != nil {
			// A refused handshake carries the server's reason as a JSON
			// error body (401 "no credential", "unknown API key", …):
			// pass it on, it says what to do.
			var e protocol.ErrorPayload
			if resp.Body != nil && json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&e) == nil && e.Code != "" {
				return nil, fmt.Errorf("hearth client: dial %s: HTTP %s: %w", url, resp.Status, &protocol.Error{Code: e.Code, Message: e.Message})
			}
			return nil, fmt.Errorf("hearth client: dial %s: %w (HTTP %s)", url, err, resp.Status)
		}
		return nil, fmt.Errorf("hearth client: dial %s: %w", url, err)
	}
	if got := conn.Subprotocol(); got != sub {
		conn.Close()
		return nil, fmt.Errorf("hearth client: server at %s negotiated subprotocol %q, want %q (not a Hearth v1 server?)", url, got, sub)
	}
	conn.SetReadLimit(protocol.MaxFrameHardBytes)
	c := &Client{
		conn:         conn,
		codec:        codec,
		writeTimeout: opts.WriteTimeout,
		onMessage:    opts.OnMessage,
		onQuest:      opts.OnQuestUpdate,
		calls:        make(map[uint64]*call),
		done:         make(chan struct{}),
	}
	if c.writeTimeout <= 0 {
		c.writeTimeout = DefaultWriteTimeout
	}
	go c.readLoop()

	var welcome protocol.Welcome
	err = c.roundTrip(ctx, hello, func(f protocol.Frame) (bool, error) {
		if f.Type != protocol.TypeWelcome {
			return false, nil
		}
		return true, f.Decode(&welcome)
	})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("hearth client: hello: %w", err)
	}
	c.welcome = welcome
	return c, nil
}

// Welcome returns the server's welcome: its tick rate, default budget and
// NPCs.
func (c *Client) Welcome() protocol.Welcome { return c.welcome }

// Subprotocol returns the negotiated subprotocol.
func (c *Client) Subprotocol() string { return c.codec.Subprotocol() }

// Talk sends the player's line text to NPC npcID and waits for the NPC's
// final reply. budgetMS is the latency budget in milliseconds (0: the
// server's default, Welcome().BudgetMS). onDelta, when not nil, is called
// with every dialogue.delta, in order, on the calling goroutine, before Talk
// returns; a delta with Reset set means "discard what was shown so far".
// While onDelta runs, frames for this call queue up (32 of them), and then
// the reader goroutine waits, delaying every other call on the Client: keep
// onDelta short.
//
// A server error reply (unknown_npc, overloaded, ...) is returned as a
// *protocol.Error, as is a local validation failure (bad_request), which is
// detected before anything is sent. When ctx ends first, Talk returns
// ctx.Err() and the server's late replies are dropped (or passed to
// Options.OnMessage). Talk may be called from many goroutines at once.
func (c *Client) Talk(ctx context.Context, npcID, text string, budgetMS uint32, onDelta func(protocol.DialogueDelta)) (Reply, error) {
	return c.dialogue(ctx, protocol.Talk{NPCID: npcID, Text: text, BudgetMS: budgetMS}, onDelta)
}

// TalkRefine is Talk with refinement allowed (protocol.Talk.Refine, "answer
// now, refine later"): it returns the on-time reply as Talk does. When
// that reply has Refining set, the server's dialogue.refine (a better
// backend's answer, or its Reason for having none) arrives later on the
// returned channel, which then closes; when Refining is not set the
// channel is closed at once. ctx bounds the whole exchange, refinement
// included: when it ends first the channel closes without a value. onDelta
// runs on a goroutine of the Client's, not the caller's; keep it short.
func (c *Client) TalkRefine(ctx context.Context, npcID, text string, budgetMS uint32, onDelta func(protocol.DialogueDelta)) (Reply, <-chan protocol.DialogueRefine, error) {
	req := protocol.Talk{NPCID: npcID, Text: text, BudgetMS: budgetMS, Refine: true}
	if err := req.Validate(); err != nil {
		return Reply{}, nil, err
	}
	replied := make(chan Reply, 1)
	refined := make(chan protocol.DialogueRefine, 1)
	failed := make(chan error, 1)
	go func() {
		defer close(refined)
		err := c.roundTrip(ctx, req, dialogueFrames(onDelta, func(r Reply) bool {
			replied <- r
			return !r.Refining
		}, func(m protocol.DialogueRefine) { refined <- m }))
		failed <- err
	}()
	select {
	case r := <-replied:
		return r, refined, nil
	case err := <-failed:
		select {
		case r := <-replied: // the done came first; the call ended after it
			return r, refined, nil
		default:
		}
		if err == nil { // unreachable: the call ends after its done
			err = errors.New("hearth client: talk ended without a reply")
		}
		return Reply{}, nil, err
	}
}

// Bark asks NPC npcID for an ambient one-liner because this client's
// player came near it (trigger protocol.TriggerProximity) or on the NPC's
// schedule (protocol.TriggerSchedule), and waits for the line, which comes
// as a talk's reply does (its deltas are not passed on). budgetMS is as
// for Talk. The NPC does not remember a bark, and players near the same
// NPC may hear the same line (Reply.Tier "cache"). Errors are Talk's; a
// trigger that is not 1..protocol.MaxTriggerBytes of a-z, 0-9, '-' and '_'
// fails locally with bad_request. Bark may be called from many goroutines
// at once.
func (c *Client) Bark(ctx context.Context, npcID, trigger string, budgetMS uint32) (Reply, error) {
	return c.dialogue(ctx, protocol.Bark{NPCID: npcID, Trigger: trigger, BudgetMS: budgetMS}, nil)
}

// dialogue validates and sends req (a talk or a bark) and collects its
// deltas and done.
func (c *Client) dialogue(ctx context.Context, req interface {
	protocol.Message
	protocol.Validator
}, onDelta func(protocol.DialogueDelta)) (Reply, error) {
	if err := req.Validate(); err != nil {
		return Reply{}, err
	}
	var reply Reply
	err := c.roundTrip(ctx, req, dialogueFrames(onDelta, func(r Reply) bool { reply = r; return true }, nil))
	if err != nil {
		return Reply{}, err
	}
	return reply, nil
}

// dialogueFrames is the frame handler of a talk or bark: each
// dialogue.delta goes to onDelta (when set); the dialogue.done, with the
// deltas counted, to onDone, which says whether the call is over; a
// dialogue.refine to onRefine (a call with refinement only), which ends
// it.
func dialogueFrames(onDelta func(protocol.DialogueDelta), onDone func(Reply) bool, onRefine func(protocol.DialogueRefine)) func(protocol.Frame) (bool, error) {
	deltas := 0
	return func(f protocol.Frame) (bool, error) {
		switch f.Type {
		case protocol.TypeDialogueDelta:
			var d protocol.DialogueDelta
			if err := f.Decode(&d); err != nil {
				return true, err
			}
			deltas++
			if onDelta != nil {
				onDelta(d)
			}
		case protocol.TypeDialogueDone:
			r := Reply{Tick: f.Tick, Deltas: deltas}
			if err := f.Decode(&r.DialogueDone); err != nil {
				return true, err
			}
			return onDone(r), nil
		case protocol.TypeDialogueRefine:
			if onRefine == nil {
				return false, nil
			}
			var m protocol.DialogueRefine
			if err := f.Decode(&m); err != nil {
				return true, err
			}
			onRefine(m)
			return true, nil
		}
		return false, nil
	}
}

// RequestQuest asks the server for a quest for this client's player and
// waits for the offer, which the server sends at a tick boundary. A request
// the server refuses comes back as a *protocol.Error: bad_request naming the
// problem (an unknown location with the nearby places, a level outside the
// world's range, ...), no_quest when nothing suitable could be grounded,
// quests_unavailable when the server hosts no quests, overloaded. Invalid
// requests (level 0, a motivation that is not one of the nine) fail locally
// with bad_request before anything is sent.
func (c *Client) RequestQuest(ctx context.Context, req protocol.QuestRequest) (protocol.QuestOffer, error) {
	if err := req.Validate(); err != nil {
		return protocol.QuestOffer{}, err
	}
	var offer protocol.QuestOffer
	err := c.roundTrip(ctx, req, func(f protocol.Frame) (bool, error) {
		if f.Type != protocol.TypeQuestOffer {
			return false, nil
		}
		return true, f.Decode(&offer)
	})
	return offer, err
}

// AcceptQuest accepts a quest the server offered on this connection (one
// of its last protocol.MaxQuestOffers offers) and returns the "accepted"
// update. Errors: unknown_quest for an id not offered here, bad_request
// when its prerequisites are not completed or it is already in the log.
func (c *Client) AcceptQuest(ctx context.Context, questID string) (protocol.QuestUpdate, error) {
	return c.questCall(ctx, protocol.QuestAccept{QuestID: questID})
}

// AbandonQuest abandons an active quest of the player's log and returns the
// "abandoned" update. Errors: unknown_quest for a quest not in the log,
// bad_request for one that is no longer active.
func (c *Client) AbandonQuest(ctx context.Context, questID string) (protocol.QuestUpdate, error) {
	return c.questCall(ctx, protocol.QuestAbandon{QuestID: questID})
}

// questCall sends an accept or abandon and waits for its one update.
func (c *Client) questCall(ctx context.Context, req interface {
	protocol.Message
	protocol.Validator
}) (protocol.QuestUpdate, error) {
	if err := req.Validate(); err != nil {
		return protocol.QuestUpdate{}, err
	}
	var u protocol.QuestUpdate
	err := c.roundTrip(ctx, req, func(f protocol.Frame) (bool, error) {
		if f.Type != protocol.TypeQuestUpdate {
			return false, nil
		}
		return true, f.Decode(&u)
	})
	return u, err
}

// ReportEvent reports a world event for this client's player (for
// protocol.WorldEventDied, an NPC's death, which concerns every player) and
// returns the quest updates it caused for this player, in order: those the
// server sent with this call's id, up to its world.ack. Updates for the
// player's other connections reach them through their OnQuestUpdate.
func (c *Client) ReportEvent(ctx context.Context, ev protocol.WorldEvent) ([]protocol.QuestUpdate, error) {
	if err := ev.Validate(); err != nil {
		return nil, err
	}
	var ups []protocol.QuestUpdate
	err := c.roundTrip(ctx, ev, func(f protocol.Frame) (bool, error) {
		switch f.Type {
		case protocol.TypeQuestUpdate:
			var u protocol.QuestUpdate
			if err := f.Decode(&u); err != nil {
				return true, err
			}
			ups = append(ups, u)
		case protocol.TypeWorldAck:
			return true, nil
		}
		return false, nil
	})
	return ups, err
}

// ReportWorld tells the server what the world around an NPC is (what it
// holds, where it can go, who is near, which quests it may offer); the
// NPC's actions are validated against the latest report. Game servers
// send it (API keys); a player's token gets protocol.CodeForbidden. It
// returns the server's error (unknown NPC, bad request) or ctx's.
func (c *Client) ReportWorld(ctx context.Context, w protocol.WorldState) error {
	if err := w.Validate(); err != nil {
		return err
	}
	return c.roundTrip(ctx, w, func(f protocol.Frame) (bool, error) {
		return f.Type == protocol.TypeWorldAck, nil
	})
}

// QuestLog returns the player's quest log: the most recently changed
// quests first, at most protocol.MaxQuestLogEntries of them (Total says how
// many the log holds).
func (c *Client) QuestLog(ctx context.Context) (protocol.QuestLog, error) {
	var l protocol.QuestLog
	err := c.roundTrip(ctx, protocol.QuestLog{}, func(f protocol.Frame) (bool, error) {
		if f.Type != protocol.TypeQuestLog {
			return false, nil
		}
		return true, f.Decode(&l)
	})
	return l, err
}

// Ping sends a ping and returns the round-trip time measured on this side
// (including the server's queueing).
func (c *Client) Ping(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	err := c.roundTrip(ctx, protocol.Ping{TMS: start.UnixMilli()}, func(f protocol.Frame) (bool, error) {
		return f.Type == protocol.TypePong, nil
	})
	if err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// Done returns a channel that is closed when the connection has ended, for
// whatever reason; Err then says why.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns nil while the connection is up, and afterwards the reason it
// ended, which wraps ErrClosed.
func (c *Client) Err() error {
	select {
	case <-c.done:
	default:
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close sends a normal close frame, waits (up to 2 s) for the server to
// answer it, closes the connection and waits for the reader goroutine to
// exit. Calls still waiting return an error wrapping ErrClosed. Close is
// idempotent; it returns nil when the connection was closed cleanly.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closing = true
		c.mu.Unlock()
		msg := websocket.FormatCloseMessage(protocol.CloseNormal, "")
		// WriteControl may run concurrently with other writes.
		werr := c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		if werr == nil {
			select {
			case <-c.done:
			case <-time.After(closeTimeout):
			}
		}
		c.conn.Close()
		<-c.done
		if werr != nil && !errors.Is(werr, websocket.ErrCloseSent) {
			c.mu.Lock()
			already := c.err // the connection was already gone: not a Close failure
			c.mu.Unlock()
			if already == nil {
				c.closeErr = werr
			}
		}
	})
	return c.closeErr
}

// roundTrip sends payload with a fresh id and hands each frame that answers
// it to handle until handle reports done. An error frame ends the call with
// its *protocol.Error.
func (c *Client) roundTrip(ctx context.Context, payload protocol.Message, handle func(protocol.Frame) (done bool, err error)) error {
	id := c.nextID.Add(1)
	cl := &call{events: make(chan event, callBuffer), abandoned: make(chan struct{})}
	c.mu.Lock()
	c.calls[id] = cl
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.calls, id)
		c.mu.Unlock()
		close(cl.abandoned)
	}()

	if err := c.send(ctx, protocol.Header{ID: id}, payload); err != nil {
		return err
	}
	process := func(ev event) (bool, error) {
		if ev.err != nil {
			return true, fmt.Errorf("hearth client: undecodable reply from server: %w", ev.err)
		}
		f := ev.f
		if f.Type == protocol.TypeError {
			var e protocol.ErrorPayload
			if err := f.Decode(&e); err != nil {
				return true, err
			}
			return true, e.Err()
		}
		return handle(f)
	}
	for {
		select {
		case ev := <-cl.events:
			if done, err := process(ev); done || err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			// Frames the reader delivered before it stopped come first.
			for {
				select {
				case ev := <-cl.events:
					if done, err := process(ev); done || err != nil {
						return err
					}
					continue
				default:
				}
				return c.Err()
			}
		}
	}
}

// send writes one frame. A failed write leaves gorilla's connection unusable,
// so it closes the connection (the reader then ends every call).
func (c *Client) send(ctx context.Context, h protocol.Header, payload any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-c.done:
		return c.Err()
	default:
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	b, err := c.codec.AppendEncode(c.wbuf[:0], h, payload)
	if err != nil {
		return err
	}
	c.wbuf = b
	deadline := time.Now().Add(c.writeTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.conn.SetWriteDeadline(deadline)
	if err := c.conn.WriteMessage(c.codec.MessageType(), b); err != nil {
		c.conn.Close()
		return fmt.Errorf("%w: write: %w", ErrClosed, err)
	}
	return nil
}

// readLoop is the only reader of the connection. It routes every frame to
// the call waiting for its id and ends when the connection does.
func (c *Client) readLoop() {
	defer close(c.done)
	for {
		mt, data, err := c.conn.ReadMessage()
		if err != nil {
			c.finish(err)
			return
		}
		if mt != c.codec.MessageType() {
			continue // the protocol uses one kind of frame per subprotocol
		}
		// A frame this client cannot read fails the call it belongs to when
		// its id is readable, and is dropped otherwise.
		f, err := c.codec.Decode(data)
		c.mu.Lock()
		cl := c.calls[f.ID]
		c.mu.Unlock()
		if cl == nil || f.ID == 0 {
			if err != nil {
				continue
			}
			if f.Type == protocol.TypeQuestUpdate && c.onQuest != nil {
				var u protocol.QuestUpdate
				if f.Decode(&u) == nil {
					c.onQuest(u)
				}
			} else if c.onMessage != nil {
				c.onMessage(f)
			}
			continue
		}
		select {
		case cl.events <- event{f: f, err: err}:
		case <-cl.abandoned:
		}
	}
}

// finish records why the connection ended.
func (c *Client) finish(cause error) {
	c.conn.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	var ce *websocket.CloseError
	switch {
	case c.closing:
		c.err = fmt.Errorf("%w by Close", ErrClosed)
	case errors.As(cause, &ce):
		c.err = fmt.Errorf("%w: %w", ErrClosed, ce)
	default:
		c.err = fmt.Errorf("%w: %w", ErrClosed, cause)
	}
}

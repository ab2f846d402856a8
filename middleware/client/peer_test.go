package client

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-ai/hearth/middleware/protocol"
)

// testPeer is a minimal Hearth server for this package's tests: real
// sockets, the real codecs, canned replies. It hosts two NPCs, "smith" and
// "guard". A talk's text steers it:
//
//   - "overload": error overloaded
//   - "slow": the reply comes after 300 ms
//   - "reset": the deltas include a reset
//   - "close4008": the peer closes the connection with 4008
//   - "garbage": the peer answers with a version-2 frame for the talk's id
//
// Otherwise the reply is "<Name> hears: <text>", streamed word by word.
type testPeer struct {
	*httptest.Server
	URL string // ws:// URL of /v1/ws

	silent bool // never answer hello

	mu    sync.Mutex
	conns int // connections served so far
	wg    sync.WaitGroup
}

var testNPCs = []protocol.NPCInfo{
	{ID: "smith", Name: "Brom", Role: "blacksmith"},
	{ID: "guard", Name: "Ysolde", Role: "gate guard"},
}

func newTestPeer(t testing.TB) *testPeer {
	return startTestPeer(t, false)
}

// startTestPeer starts a peer; silent peers accept the connection but never
// answer.
func startTestPeer(t testing.TB, silent bool) *testPeer {
	p := &testPeer{silent: silent}
	up := websocket.Upgrader{Subprotocols: protocol.Subprotocols()}
	mux := http.NewServeMux()
	mux.HandleFunc(protocol.Path, func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns++
		p.mu.Unlock()
		p.serve(conn)
	})
	p.Server = httptest.NewServer(mux)
	p.URL = "ws" + strings.TrimPrefix(p.Server.URL, "http") + protocol.Path
	t.Cleanup(p.Close)
	return p
}

// Close stops the server and waits for the reply goroutines.
func (p *testPeer) Close() {
	p.Server.CloseClientConnections()
	p.Server.Close()
	p.wg.Wait()
}

type peerConn struct {
	conn  *websocket.Conn
	codec protocol.Codec
	mu    sync.Mutex // one writer at a time
	tick  uint64
}

func (pc *peerConn) send(h protocol.Header, payload any) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.tick++
	h.Tick = pc.tick
	b, err := pc.codec.Encode(h, payload)
	if err != nil {
		panic(err)
	}
	pc.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	pc.conn.WriteMessage(pc.codec.MessageType(), b)
}

func (pc *peerConn) close(code int, reason string) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	pc.conn.Close()
}

func (p *testPeer) serve(conn *websocket.Conn) {
	defer conn.Close()
	codec, ok := protocol.CodecFor(conn.Subprotocol())
	if !ok {
		conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseProtocolError, "no subprotocol"), time.Now().Add(time.Second))
		return
	}
	conn.SetReadLimit(protocol.MaxFrameHardBytes)
	pc := &peerConn{conn: conn, codec: codec}
	helloed := false
	var ticket uint64
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		if p.silent {
			continue
		}
		f, err := codec.Decode(data)
		if err != nil {
			pc.send(protocol.Header{ID: f.ID}, err)
			continue
		}
		msg, err := f.Message()
		if err != nil {
			pc.send(protocol.Header{ID: f.ID}, err)
			continue
		}
		h := protocol.Header{ID: f.ID}
		switch m := msg.(type) {
		case protocol.Hello:
			if helloed {
				pc.close(protocol.CloseProtocolViolation, "hello twice")
				return
			}
			helloed = true
			pc.send(h, protocol.Welcome{Session: "test-session", Server: "testpeer/0", TickHz: 20, BudgetMS: 50, NPCs: testNPCs})
		case protocol.Ping:
			pc.send(h, protocol.Pong{TMS: m.TMS})
		case protocol.Talk:
			var name string
			for _, npc := range testNPCs {
				if npc.ID == m.NPCID {
					name = npc.Name
				}
			}
			switch {
			case !helloed:
				pc.send(h, &protocol.Error{Code: protocol.CodeNotHello, Message: "say hello first"})
			case name == "":
				pc.send(h, &protocol.Error{Code: protocol.CodeUnknownNPC, Message: "npc " + m.NPCID + ": unknown"})
			case m.Text == "overload":
				pc.send(h, &protocol.Error{Code: protocol.CodeOverloaded, Message: "queue full"})
			case m.Text == "close4008":
				pc.close(protocol.CloseSlowConsumer, "slow consumer")
				return
			case m.Text == "garbage":
				// A frame for this id that a v1 client cannot accept.
				pc.send(protocol.Header{ID: h.ID, Version: 2, Type: protocol.TypeDialogueDone}, nil)
			default:
				ticket++
				p.wg.Add(1)
				go p.reply(pc, h, ticket, m, name)
			}
		default:
			pc.send(h, protocol.UnknownType(f.Type))
		}
	}
}

func (p *testPeer) reply(pc *peerConn, h protocol.Header, ticket uint64, m protocol.Talk, name string) {
	defer p.wg.Done()
	if m.Text == "slow" {
		time.Sleep(300 * time.Millisecond)
	}
	text := name + " hears: " + m.Text
	start := time.Now()
	var seq uint32
	if strings.Contains(m.Text, "reset") {
		pc.send(h, protocol.DialogueDelta{Ticket: ticket, NPCID: m.NPCID, Seq: seq, Text: "Uh… "})
		seq++
	}
	for i, w := range strings.SplitAfter(text, " ") {
		pc.send(h, protocol.DialogueDelta{Ticket: ticket, NPCID: m.NPCID, Seq: seq, Text: w, Reset: i == 0 && seq > 0})
		seq++
		if ticket%3 == 0 {
			time.Sleep(time.Millisecond) // let replies to concurrent talks interleave
		}
	}
	budget := m.BudgetMS
	if budget == 0 {
		budget = 50
	}
	lat := float64(time.Since(start).Microseconds()) / 1000
	pc.send(h, protocol.DialogueDone{Ticket: ticket, NPCID: m.NPCID, Text: text, Tier: protocol.TierTemplate,
		Backend: "testpeer", LatencyMS: lat, BudgetMS: budget, OnTime: lat <= float64(budget), Floor: true})
}

package server_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/middleware/server"
	"github.com/hearth-ai/hearth/sim/world"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// startServer runs the demo world behind a real WebSocket server on
// loopback, ticking at 20 Hz, and returns its ws:// URL and base http URL.
// The server gets the stack's quest tracker unless opts names one.
func startServer(t *testing.T, opts server.Options) (wsURL, httpURL string) {
	t.Helper()
	ts := launch(t, t.TempDir(), opts, true)
	return ts.wsURL, ts.httpURL
}

// testServer is a running server over a stack.
type testServer struct {
	wsURL, httpURL string
	st             *middleware.Stack
	stop           func() // idempotent; also run by t.Cleanup
}

// launch opens a stack on dir and serves it; withQuests gives the server
// the stack's quest tracker (when opts.Quests is nil).
func launch(t *testing.T, dir string, opts server.Options, withQuests bool) *testServer {
	t.Helper()
	return launchStack(t, middleware.StackConfig{DataDir: dir, World: world.FS()}, opts, withQuests)
}

// launchStack is launch over a stack of any configuration (backends,
// budgets).
func launchStack(t *testing.T, cfg middleware.StackConfig, opts server.Options, withQuests bool) *testServer {
	t.Helper()
	st, err := middleware.OpenStack(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if withQuests && opts.Quests == nil {
		opts.Quests = st.QuestLog
	}
	if opts.Collectors == nil {
		opts.Collectors = []prometheus.Collector{inference.NewCollector(st.Router, st.Cache)}
	}
	srv, err := server.New(st.Runtime, opts)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	h := srv.Start(ln)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			if err := h.Close(sctx); err != nil {
				t.Error(err)
			}
			st.Close()
		})
	}
	t.Cleanup(stop)
	return &testServer{wsURL: h.URL(), httpURL: "http://" + ln.Addr().String(), st: st, stop: stop}
}

// raw is a bare WebSocket connection for sending hand-made frames.
type raw struct {
	t     *testing.T
	ws    *websocket.Conn
	codec protocol.Codec
}

func dialRaw(t *testing.T, url, sub string) *raw {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{sub}}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	codec, _ := protocol.CodecFor(sub)
	return &raw{t: t, ws: ws, codec: codec}
}

func (r *raw) write(mt int, b []byte) {
	r.t.Helper()
	if err := r.ws.WriteMessage(mt, b); err != nil {
		r.t.Fatal(err)
	}
}

func (r *raw) send(id uint64, m protocol.Message) {
	r.t.Helper()
	b, err := r.codec.Encode(protocol.Header{ID: id}, m)
	if err != nil {
		r.t.Fatal(err)
	}
	r.write(r.codec.MessageType(), b)
}

// next reads frames until one that is not a dialogue.delta.
func (r *raw) next() (protocol.Header, protocol.Message) {
	r.t.Helper()
	r.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := r.ws.ReadMessage()
		if err != nil {
			r.t.Fatalf("read: %v", err)
		}
		f, err := r.codec.Decode(b)
		if err != nil {
			r.t.Fatalf("server sent an undecodable frame: %v", err)
		}
		m, err := f.Message()
		if err != nil {
			r.t.Fatal(err)
		}
		if _, delta := m.(protocol.DialogueDelta); !delta {
			return f.Header, m
		}
	}
}

func (r *raw) wantError(id uint64, code string) {
	r.t.Helper()
	h, m := r.next()
	e, ok := m.(protocol.ErrorPayload)
	if !ok || e.Code != code || h.ID != id {
		r.t.Fatalf("got %s id %d %+v, want error %s with id %d", h.Type, h.ID, m, code, id)
	}
	if e.Message == "" {
		r.t.Fatalf("error %s without a message", code)
	}
}

// wantAlive proves the connection still works after a bad frame.
func (r *raw) wantAlive() {
	r.t.Helper()
	r.send(999, protocol.Ping{TMS: 42})
	if h, m := r.next(); h.ID != 999 || m.(protocol.Pong).TMS != 42 {
		r.t.Fatalf("after a bad frame, ping got %s %+v", h.Type, m)
	}
}

func (r *raw) wantClose(code int) {
	r.t.Helper()
	r.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := r.ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code {
			r.t.Fatalf("want close %d, got %v", code, err)
		}
		return
	}
}

func TestBadInputGetsClearErrorsAndOthersKeepTalking(t *testing.T) {
	wsURL, _ := startServer(t, server.Options{})

	// A well-behaved player talks throughout, from another connection.
	good, err := client.Dial(context.Background(), wsURL, client.Options{PlayerID: "good", PlayerName: "Aria"})
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	npcID := good.Welcome().NPCs[0].ID
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var goodReplies int
	var goodErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			r, err := good.Talk(ctx, npcID, "What can you tell me about Kettleford?", 0, nil)
			cancel()
			if err != nil || r.Text == "" {
				goodErr = errors.Join(goodErr, err)
				return
			}
			goodReplies++
		}
	}()

	mp := dialRaw(t, wsURL, protocol.SubprotocolMsgpack)
	mp.send(1, protocol.Talk{NPCID: npcID, Text: "hi"})
	mp.wantError(1, protocol.CodeNotHello)
	mp.send(2, protocol.Hello{PlayerID: "raw-player"})
	if _, m := mp.next(); m.(protocol.Welcome).TickHz != 20 {
		t.Fatalf("welcome %+v", m)
	}
	cases := []struct {
		name  string
		frame []byte
		id    uint64
		code  string
	}{
		{"not msgpack", []byte{0xc1}, 0, protocol.CodeBadFrame},
		{"truncated", []byte{0x85, 0xa1, 'v'}, 0, protocol.CodeBadFrame},
		// fixmap{"v":1,"type":"talk","id":7,"payload":{"text": str32 claiming 4 GiB}}
		{"huge claimed string", append(mustHex(t, "84a17601a474797065a474616c6ba2696407a77061796c6f616481a474657874"), 0xdb, 0xff, 0xff, 0xff, 0xff), 0, protocol.CodeBadFrame},
		{"huge claimed array", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, 0, protocol.CodeBadFrame},
		{"oversized", make([]byte, protocol.MaxFrameBytes+100), 0, protocol.CodeFrameTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mp.t = t
			mp.write(websocket.BinaryMessage, c.frame)
			mp.wantError(c.id, c.code)
			mp.wantAlive()
		})
	}
	mp.t = t
	t.Run("unknown type", func(t *testing.T) {
		mp.t = t
		b, _ := mp.codec.Encode(protocol.Header{ID: 5, Type: "dance"}, map[string]any{})
		mp.write(websocket.BinaryMessage, b)
		mp.wantError(5, protocol.CodeUnknownType)
		mp.wantAlive()
	})
	t.Run("unknown npc", func(t *testing.T) {
		mp.t = t
		mp.send(6, protocol.Talk{NPCID: "nobody", Text: "hello"})
		mp.wantError(6, protocol.CodeUnknownNPC)
		mp.wantAlive()
	})
	t.Run("invalid utf-8 in msgpack", func(t *testing.T) {
		mp.t = t
		b, _ := mp.codec.Encode(protocol.Header{ID: 8}, protocol.Talk{NPCID: npcID, Text: "caf\u00e9"})
		// Break the é (c3 a9) into an invalid byte sequence.
		i := strings.Index(string(b), "caf") + 3
		b[i] = 0xff
		mp.write(websocket.BinaryMessage, b)
		mp.wantError(0, protocol.CodeInvalidUTF8) // the frame is rejected whole: no id is read
		mp.wantAlive()
	})
	t.Run("text frame on msgpack", func(t *testing.T) {
		mp.t = t
		mp.write(websocket.TextMessage, []byte(`{"v":1}`))
		mp.wantError(0, protocol.CodeBadFrame)
		mp.wantAlive()
	})
	mp.t = t

	js := dialRaw(t, wsURL, protocol.SubprotocolJSON)
	js.send(1, protocol.Hello{PlayerID: "json-player"})
	js.next()
	t.Run("invalid utf-8 in json", func(t *testing.T) {
		js.t = t
		js.write(websocket.TextMessage, []byte("{\"v\":1,\"type\":\"talk\",\"id\":3,\"payload\":{\"npc_id\":\""+npcID+"\",\"text\":\"\xff\"}}"))
		js.wantError(0, protocol.CodeInvalidUTF8)
		js.wantAlive()
	})
	t.Run("malformed json", func(t *testing.T) {
		js.t = t
		js.write(websocket.TextMessage, []byte(`{"v":1,"type":`))
		js.wantError(0, protocol.CodeBadFrame)
		js.wantAlive()
	})
	t.Run("json talk works", func(t *testing.T) {
		js.t = t
		js.send(4, protocol.Talk{NPCID: npcID, Text: "Hello!"})
		h, m := js.next()
		done, ok := m.(protocol.DialogueDone)
		if !ok || h.ID != 4 || done.Text == "" || done.Tier == "" || done.LatencyMS <= 0 || !done.OnTime {
			t.Fatalf("got %s %+v", h.Type, m)
		}
	})
	js.t = t

	t.Run("second hello closes 4000", func(t *testing.T) {
		c := dialRaw(t, wsURL, protocol.SubprotocolMsgpack)
		c.send(1, protocol.Hello{PlayerID: "a"})
		c.next()
		c.send(2, protocol.Hello{PlayerID: "b"})
		c.wantClose(protocol.CloseProtocolViolation)
	})
	t.Run("frame over the hard cap closes 1009", func(t *testing.T) {
		c := dialRaw(t, wsURL, protocol.SubprotocolMsgpack)
		c.ws.WriteMessage(websocket.BinaryMessage, make([]byte, protocol.MaxFrameHardBytes+1))
		c.wantClose(protocol.CloseMessageTooBig)
	})

	close(stop)
	wg.Wait()
	if goodErr != nil || goodReplies == 0 {
		t.Fatalf("the well-behaved player was disturbed: %d replies, err %v", goodReplies, goodErr)
	}
}

func TestHandshakeWithoutSubprotocolIsRefused(t *testing.T) {
	wsURL, _ := startServer(t, server.Options{})
	_, resp, err := websocket.DefaultDialer.Dial(wsURL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("want HTTP 400, got %v (%v)", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), protocol.SubprotocolMsgpack) {
		t.Fatalf("the refusal does not say what to ask for: %s", body)
	}
}

func TestSlowConsumerIsClosed(t *testing.T) {
	// A long write timeout: this test is about the queue overflowing, not
	// about a write timing out while the flood runs on a loaded machine.
	wsURL, httpURL := startServer(t, server.Options{SendQueue: 8, WriteTimeout: time.Minute})
	// A client that never reads, with a tiny socket buffer, floods pings:
	// the server's writer blocks, its queue fills and it must close the
	// connection with 4008 instead of buffering without bound.
	d := websocket.Dialer{Subprotocols: []string{protocol.SubprotocolMsgpack},
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				// Only the receive buffer is small: a small send buffer
				// too could stall loopback TCP for a minute (tiny
				// segments against tiny buffers in both directions).
				tc.SetReadBuffer(4096)
			}
			return c, err
		}}
	ws, _, err := d.Dial(wsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	codec, _ := protocol.CodecFor(protocol.SubprotocolMsgpack)
	ping, _ := codec.Encode(protocol.Header{ID: 1}, protocol.Ping{TMS: 1})
	// Flood without reading until the server has counted us as a slow
	// consumer, then stop: a client still flooding when the server's close
	// drain ends makes its close a TCP reset, which can destroy the close
	// frame before we read it.
	//
	// The flood runs in its own goroutine without a write deadline, and
	// the verdict comes from the server's metric, not from how the writes
	// fare: with tiny frames and a tiny receive buffer, loopback TCP can
	// stall the client's sends for seconds (the server's receive window
	// closes under per-segment memory accounting and reopens only on the
	// sender's backed-off zero-window probe). A write deadline then cut a
	// frame in half, the server waited for its rest, and neither side
	// sent anything again: the flake of issue 9's stop 12.
	slowConsumers := func() bool {
		resp, err := http.Get(httpURL + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		// Every overflowing frame counts, so the total may be past 1 by now.
		for _, line := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, "hearth_server_slow_consumers_total "); ok {
				return v != "0"
			}
		}
		return false
	}
	start := time.Now()
	var sent atomic.Int64
	stop := make(chan struct{})
	flooded := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				flooded <- nil
				return
			default:
			}
			if err := ws.WriteMessage(websocket.BinaryMessage, ping); err != nil {
				flooded <- err // the server closed, or we cut the write short below
				return
			}
			sent.Add(1)
		}
	}()
	// How many pings that takes depends on the kernel's socket buffers and
	// on how fast the server reads, so the bound is time, not a count.
	counted := false
	for !counted && time.Since(start) < 60*time.Second {
		time.Sleep(20 * time.Millisecond)
		counted = slowConsumers()
	}
	close(stop)
	// A write blocked in the kernel ends at once with a timeout error;
	// gorilla's own deadline would only apply to the next write.
	ws.UnderlyingConn().SetWriteDeadline(time.Now())
	floodErr := <-flooded
	flood := time.Since(start)
	if !counted {
		t.Fatalf("the server did not count a slow consumer in %v (%d pings sent, flood ended by %v)", flood.Round(time.Millisecond), sent.Load(), floodErr)
	}
	t.Logf("flood: %d pings in %v (ended by %v)", sent.Load(), flood.Round(time.Millisecond), floodErr)
	// Now read: queued pongs may come first, then the close frame. The
	// deadline that stopped the flood must not outlive it (gorilla applies
	// its own, none, on the next write).
	ws.SetWriteDeadline(time.Time{})
	// Do not answer the server's close: the kernel's send buffer may still
	// be full of the flood (a loaded machine drains it slowly), and
	// gorilla's default handler would then fail its 1 s reply write and
	// report that instead of the close code this test is about.
	ws.SetCloseHandler(func(int, string) error { return nil })
	ws.SetPingHandler(func(string) error { return nil }) // nor its pings, for the same reason
	ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	read := 0
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			read++
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != protocol.CloseSlowConsumer {
			var stacks strings.Builder
			pprof.Lookup("goroutine").WriteTo(&stacks, 2)
			t.Logf("goroutines:\n%s", stacks.String())
			t.Fatalf("want close 4008 (slow consumer), got %v\n(flood: %d pings in %v; then read %d frames in %v)",
				err, sent.Load(), flood.Round(time.Millisecond), read, time.Since(start.Add(flood)).Round(time.Millisecond))
		}
		return
	}
}

func TestHealthAndMetrics(t *testing.T) {
	wsURL, httpURL := startServer(t, server.Options{})
	c, err := client.Dial(context.Background(), wsURL, client.Options{PlayerID: "m"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Talk(context.Background(), c.Welcome().NPCs[0].ID, "Hello!", 0, nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{"/healthz", `"status":"ok"`},
		{"/metrics", `hearth_runtime_replies_total{floor="false",on_time="true",tier="template"}`},
		// The greeting of a first meeting is shareable: one lookup, a miss.
		{"/metrics", "hearth_cache_misses_total 1"},
	} {
		path, want := c.path, c.want
		resp, err := http.Get(httpURL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d, want %q in:\n%.2000s", path, resp.StatusCode, want, body)
		}
	}
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b := make([]byte, len(s)/2)
	for i := range b {
		var v byte
		for _, c := range s[2*i : 2*i+2] {
			v <<= 4
			switch {
			case c >= '0' && c <= '9':
				v |= byte(c - '0')
			case c >= 'a' && c <= 'f':
				v |= byte(c - 'a' + 10)
			}
		}
		b[i] = v
	}
	return b
}

package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func subprotocols() []string { return protocol.Subprotocols() }

func dial(t *testing.T, p *testPeer, sub string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, p.URL, Options{Subprotocol: sub, PlayerID: "p1", PlayerName: "Aria", ClientName: "client_test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestTalkAndPing(t *testing.T) {
	for _, sub := range subprotocols() {
		t.Run(sub, func(t *testing.T) {
			p := newTestPeer(t)
			c := dial(t, p, sub)
			if c.Subprotocol() != sub {
				t.Errorf("subprotocol %q", c.Subprotocol())
			}
			w := c.Welcome()
			if w.Session != "test-session" || w.TickHz != 20 || w.BudgetMS != 50 || len(w.NPCs) != 2 || w.NPCs[0] != testNPCs[0] {
				t.Errorf("welcome = %+v", w)
			}
			var streamed strings.Builder
			wantSeq := uint32(0)
			reply, err := c.Talk(ctxT(t), "smith", "Any work for me?", 80, func(d protocol.DialogueDelta) {
				if d.Seq != wantSeq {
					t.Errorf("delta seq %d, want %d", d.Seq, wantSeq)
				}
				wantSeq++
				streamed.WriteString(d.Text)
			})
			if err != nil {
				t.Fatal(err)
			}
			want := "Brom hears: Any work for me?"
			if reply.Text != want || streamed.String() != want {
				t.Errorf("reply %q, streamed %q, want %q", reply.Text, streamed.String(), want)
			}
			if reply.Deltas != 6 || reply.NPCID != "smith" || reply.BudgetMS != 80 || reply.Tier != protocol.TierTemplate || reply.Tick == 0 || reply.Ticket != 1 {
				t.Errorf("reply = %+v", reply)
			}
			rtt, err := c.Ping(ctxT(t))
			if err != nil || rtt <= 0 {
				t.Errorf("Ping = %v, %v", rtt, err)
			}
			if c.Err() != nil {
				t.Errorf("Err() = %v while open", c.Err())
			}
		})
	}
}

func TestDeltaReset(t *testing.T) {
	p := newTestPeer(t)
	c := dial(t, p, protocol.SubprotocolMsgpack)
	var shown string
	reply, err := c.Talk(ctxT(t), "guard", "reset please", 0, func(d protocol.DialogueDelta) {
		if d.Reset {
			shown = ""
		}
		shown += d.Text
	})
	if err != nil {
		t.Fatal(err)
	}
	if shown != reply.Text || reply.Text != "Ysolde hears: reset please" || reply.BudgetMS != 50 {
		t.Errorf("shown %q, reply %+v", shown, reply)
	}
}

func TestConcurrentTalks(t *testing.T) {
	for _, sub := range subprotocols() {
		t.Run(sub, func(t *testing.T) {
			p := newTestPeer(t)
			c := dial(t, p, sub)
			const goroutines, talks = 16, 8
			var wg sync.WaitGroup
			errs := make(chan error, goroutines*talks)
			for g := 0; g < goroutines; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < talks; i++ {
						npc, name := "smith", "Brom"
						if (g+i)%2 == 1 {
							npc, name = "guard", "Ysolde"
						}
						text := fmt.Sprintf("line %d from goroutine %d", i, g)
						var streamed strings.Builder
						var ticket uint64
						reply, err := c.Talk(ctxT(t), npc, text, 0, func(d protocol.DialogueDelta) {
							if ticket == 0 {
								ticket = d.Ticket
							} else if d.Ticket != ticket {
								errs <- fmt.Errorf("delta of ticket %d mixed into ticket %d", d.Ticket, ticket)
							}
							streamed.WriteString(d.Text)
						})
						switch want := name + " hears: " + text; {
						case err != nil:
							errs <- err
						case reply.Text != want || streamed.String() != want || reply.Ticket != ticket:
							errs <- fmt.Errorf("got %q (streamed %q), want %q", reply.Text, streamed.String(), want)
						}
						if i%3 == 0 {
							if _, err := c.Ping(ctxT(t)); err != nil {
								errs <- err
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func TestServerErrors(t *testing.T) {
	p := newTestPeer(t)
	c := dial(t, p, protocol.SubprotocolJSON)
	tests := []struct {
		npc, text, code string
	}{
		{"ghost", "hello?", protocol.CodeUnknownNPC},
		{"smith", "overload", protocol.CodeOverloaded},
		{"smith", "", protocol.CodeBadRequest},                                               // caught locally
		{"smith", strings.Repeat("x", protocol.MaxTalkTextBytes+1), protocol.CodeBadRequest}, // caught locally
		{"smith", "garbage", protocol.CodeUnsupportedVersion},                                // undecodable reply
	}
	for _, tt := range tests {
		_, err := c.Talk(ctxT(t), tt.npc, tt.text, 0, nil)
		var perr *protocol.Error
		if !errors.As(err, &perr) || perr.Code != tt.code {
			t.Errorf("Talk(%q, %.20q) error = %v, want code %s", tt.npc, tt.text, err, tt.code)
		}
	}
	// The connection is still usable.
	if _, err := c.Talk(ctxT(t), "smith", "still there?", 0, nil); err != nil {
		t.Error(err)
	}
}

func TestContextCancelDropsLateReplies(t *testing.T) {
	p := newTestPeer(t)
	late := make(chan protocol.Frame, 64)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, p.URL, Options{PlayerID: "p1", OnMessage: func(f protocol.Frame) { late <- f }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := c.Talk(short, "smith", "slow", 0, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	// The late reply goes to OnMessage and does not disturb the next talk.
	reply, err := c.Talk(ctx, "smith", "next", 0, nil)
	if err != nil || reply.Text != "Brom hears: next" {
		t.Fatalf("%+v %v", reply, err)
	}
	select {
	case f := <-late:
		if f.ID != 2 {
			t.Errorf("late frame id %d, want 2 (the abandoned talk)", f.ID)
		}
	case <-time.After(2 * time.Second):
		t.Error("late reply did not reach OnMessage")
	}
}

func TestServerCloseEndsCalls(t *testing.T) {
	p := newTestPeer(t)
	c := dial(t, p, protocol.SubprotocolMsgpack)
	// A slow talk is pending when the server closes with 4008.
	pending := make(chan error, 1)
	go func() {
		_, err := c.Talk(ctxT(t), "smith", "slow", 0, nil)
		pending <- err
	}()
	time.Sleep(20 * time.Millisecond)
	_, err := c.Talk(ctxT(t), "smith", "close4008", 0, nil)
	for _, err := range []error{err, <-pending} {
		var ce *websocket.CloseError
		if !errors.Is(err, ErrClosed) || !errors.As(err, &ce) || ce.Code != protocol.CloseSlowConsumer {
			t.Errorf("error = %v, want ErrClosed with close code 4008", err)
		}
	}
	select {
	case <-c.Done():
	case <-time.After(time.Second):
		t.Fatal("Done not closed")
	}
	if !errors.Is(c.Err(), ErrClosed) {
		t.Errorf("Err() = %v", c.Err())
	}
	if _, err := c.Ping(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping after close: %v", err)
	}
}

func TestCloseEndsPendingCalls(t *testing.T) {
	p := newTestPeer(t)
	ctx := ctxT(t)
	c, err := Dial(ctx, p.URL, Options{PlayerID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	pending := make(chan error, 1)
	go func() {
		_, err := c.Talk(ctx, "smith", "slow", 0, nil)
		pending <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-pending; !errors.Is(err, ErrClosed) {
		t.Errorf("pending Talk: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestDialErrors(t *testing.T) {
	p := newTestPeer(t)
	ctx := ctxT(t)
	if _, err := Dial(ctx, p.URL, Options{}); protocol.CodeOf(err) != protocol.CodeBadRequest {
		t.Errorf("no player id: %v", err)
	}
	if _, err := Dial(ctx, p.URL, Options{PlayerID: "p", Subprotocol: "hearth.v9.xml"}); err == nil {
		t.Error("unknown subprotocol: want error")
	}
	if _, err := Dial(ctx, strings.Replace(p.URL, "/v1/ws", "/nope", 1), Options{PlayerID: "p"}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("wrong path: %v", err)
	}

	// A server that does not negotiate a subprotocol is not a Hearth server.
	plain := newPlainPeer(t)
	if _, err := Dial(ctx, plain, Options{PlayerID: "p"}); err == nil || !strings.Contains(err.Error(), "subprotocol") {
		t.Errorf("no subprotocol: %v", err)
	}

	// A server that never answers hello: Dial honours ctx.
	silent := startTestPeer(t, true)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := Dial(short, silent.URL, Options{PlayerID: "p"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("silent server: %v", err)
	}
}

func TestHelloTwiceClosesWith4000(t *testing.T) {
	p := newTestPeer(t)
	c := dial(t, p, protocol.SubprotocolMsgpack)
	err := c.roundTrip(ctxT(t), protocol.Hello{PlayerID: "again"}, func(protocol.Frame) (bool, error) { return true, nil })
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != protocol.CloseProtocolViolation {
		t.Errorf("second hello: %v, want close 4000", err)
	}
}

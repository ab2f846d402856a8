package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/middleware/server"
)

// frame is one decoded server frame.
type frame struct {
	h protocol.Header
	m protocol.Message
}

// readAll decodes every frame r's connection receives into a channel,
// skipping dialogue.delta, until the connection fails (the test's cleanup
// closes it).
func readAll(r *raw) <-chan frame {
	ch := make(chan frame, 16384)
	go func() {
		defer close(ch)
		for {
			_, b, err := r.ws.ReadMessage()
			if err != nil {
				return
			}
			f, err := r.codec.Decode(b)
			if err != nil {
				continue
			}
			m, err := f.Message()
			if err != nil {
				continue
			}
			if _, delta := m.(protocol.DialogueDelta); !delta {
				ch <- frame{f.Header, m}
			}
		}
	}()
	return ch
}

func errCode(m protocol.Message) string {
	if e, ok := m.(protocol.ErrorPayload); ok {
		return e.Code
	}
	return ""
}

func TestFloodIsRefusedCleanly(t *testing.T) {
	wsURL, _ := startServer(t, server.Options{Limits: server.DefaultLimits()})
	fl := dialRaw(t, wsURL, protocol.SubprotocolMsgpack)
	frames := readAll(fl)
	fl.send(1, protocol.Hello{PlayerID: "flooder"})
	var npcID string
	if f := <-frames; f.h.ID == 1 {
		npcID = f.m.(protocol.Welcome).NPCs[0].ID
	} else {
		t.Fatalf("got %+v before welcome", f)
	}

	// A bystander, on its own connection, talks while the flood runs.
	by, err := client.Dial(context.Background(), wsURL, client.Options{PlayerID: "bystander"})
	if err != nil {
		t.Fatal(err)
	}
	defer by.Close()
	byDone := make(chan error, 1)

	// 5,000 talk frames, written as fast as the socket takes them.
	const flood = 5000
	for i := range flood {
		if i == flood/2 {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, err := by.Talk(ctx, npcID, "Hello there!", 0, nil)
				byDone <- err
			}()
		}
		fl.send(uint64(100+i), protocol.Talk{NPCID: npcID, Text: "Tell me everything!"})
	}
	if err := <-byDone; err != nil {
		t.Fatalf("the bystander got no reply during the flood: %v", err)
	}

	// The flooder's connection stays usable: once its bucket refills, a
	// ping gets its pong and a talk its reply. Retry while refused.
	var limited, summaries, done, others int
	seen := map[uint64]bool{}
	collect := func(f frame) {
		switch {
		case errCode(f.m) == protocol.CodeRateLimited && f.h.ID == 0:
			summaries++
			if !strings.Contains(f.m.(protocol.ErrorPayload).Message, "more frames were refused") {
				t.Errorf("summary error says %q", f.m.(protocol.ErrorPayload).Message)
			}
		case errCode(f.m) == protocol.CodeRateLimited:
			limited++
			if seen[f.h.ID] {
				t.Errorf("frame %d answered twice", f.h.ID)
			}
			seen[f.h.ID] = true
		case f.m.Type() == protocol.TypeDialogueDone:
			done++
			if seen[f.h.ID] {
				t.Errorf("frame %d answered twice", f.h.ID)
			}
			seen[f.h.ID] = true
		default:
			others++
		}
	}
	// waitFor reads frames until one with id arrives, or gives up after a
	// while (then the request is retried).
	waitFor := func(id uint64) (frame, bool) {
		timeout := time.After(2 * time.Second)
		for {
			select {
			case f, ok := <-frames:
				if !ok {
					t.Fatal("the flooder's connection was closed")
				}
				if f.h.ID == id {
					return f, true
				}
				collect(f)
			case <-timeout:
				return frame{}, false
			}
		}
	}
	retry := func(what string, send func(id uint64), ok func(protocol.Message) bool) {
		t.Helper()
		for attempt := range 50 {
			id := uint64(1_000_000 + attempt)
			if what == "talk" {
				id += 1000
			}
			send(id)
			f, got := waitFor(id)
			if got && ok(f.m) {
				return
			}
			if got && errCode(f.m) != protocol.CodeRateLimited && errCode(f.m) != protocol.CodeTooManyInFlight {
				t.Fatalf("%s after the flood: got %+v", what, f.m)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatalf("%s after the flood was never answered", what)
	}
	retry("ping", func(id uint64) { fl.send(id, protocol.Ping{TMS: 7}) },
		func(m protocol.Message) bool { p, ok := m.(protocol.Pong); return ok && p.TMS == 7 })
	retry("talk", func(id uint64) { fl.send(id, protocol.Talk{NPCID: npcID, Text: "Sorry. Hello?"}) },
		func(m protocol.Message) bool { d, ok := m.(protocol.DialogueDone); return ok && d.Text != "" })

	// Drain what is already there.
	for drained := false; !drained; {
		select {
		case f := <-frames:
			collect(f)
		default:
			drained = true
		}
	}
	t.Logf("flood of %d: %d answered, %d rate_limited errors, %d summaries, %d other frames",
		flood, done, limited, summaries, others)
	if limited == 0 {
		t.Fatal("no rate_limited error for a flood of 5000 frames")
	}
	// Error replies are rate limited too: far fewer than the frames.
	if limited+summaries+done+others > flood/5 {
		t.Fatalf("%d frames in answer to a flood of %d: the error replies are not bounded", limited+summaries+done+others, flood)
	}
}

func TestInFlightCap(t *testing.T) {
	wsURL, _ := startServer(t, server.Options{Limits: server.Limits{MaxInFlight: 2}})
	r := dialRaw(t, wsURL, protocol.SubprotocolMsgpack)
	r.send(1, protocol.Hello{PlayerID: "eager"})
	_, w := r.next()
	npcID := w.(protocol.Welcome).NPCs[0].ID
	// Replies come at tick boundaries (20 Hz), so 30 talks written at once
	// find the first two still waiting.
	const n = 30
	for i := range n {
		r.send(uint64(10+i), protocol.Talk{NPCID: npcID, Text: "Quick question!"})
	}
	answered := map[uint64]string{}
	var capped, done int
	for len(answered) < n {
		h, m := r.next()
		if h.ID < 10 || h.ID >= 10+n || answered[h.ID] != "" {
			t.Fatalf("unexpected %s id %d %+v", h.Type, h.ID, m)
		}
		answered[h.ID] = h.Type
		switch {
		case errCode(m) == protocol.CodeTooManyInFlight:
			capped++
		case h.Type == protocol.TypeDialogueDone:
			done++
		default:
			t.Fatalf("talk %d: got %+v", h.ID, m)
		}
	}
	if capped == 0 || done < 2 {
		t.Fatalf("%d done, %d too_many_in_flight", done, capped)
	}
	// Answered requests free their slots.
	r.send(100, protocol.Talk{NPCID: npcID, Text: "One more?"})
	if h, m := r.next(); h.ID != 100 || h.Type != protocol.TypeDialogueDone {
		t.Fatalf("after the cap: %s %+v", h.Type, m)
	}
}

func TestPlayerRateLimitSpansConnections(t *testing.T) {
	// Per connection: plenty. Per player: a burst of 10, then 1 per second.
	wsURL, _ := startServer(t, server.Options{Limits: server.Limits{
		Conn: server.Rate{PerSecond: 1000}, Player: server.Rate{PerSecond: 1, Burst: 10}}})
	var twins []*raw
	for range 2 {
		r := dialRaw(t, wsURL, protocol.SubprotocolMsgpack)
		r.send(1, protocol.Hello{PlayerID: "twin"}) // not counted: before hello
		r.next()
		twins = append(twins, r)
	}
	const each = 15
	for _, r := range twins {
		for i := range each {
			r.send(uint64(10+i), protocol.Ping{TMS: 1})
		}
	}
	var pongs, limited int
	for _, r := range twins {
		// Every frame is answered: the error budget (burst 20) covers the
		// refusals of each connection.
		for range each {
			h, m := r.next()
			switch {
			case h.Type == protocol.TypePong:
				pongs++
			case errCode(m) == protocol.CodePlayerRateLimited:
				limited++
				if !strings.Contains(m.(protocol.ErrorPayload).Message, `"twin"`) {
					t.Fatalf("message %q does not name the player", m.(protocol.ErrorPayload).Message)
				}
			default:
				t.Fatalf("got %s %+v", h.Type, m)
			}
		}
	}
	if limited == 0 || pongs >= 2*each {
		t.Fatalf("%d pongs, %d player_rate_limited for %d pings of one player", pongs, limited, 2*each)
	}
	// Another player has its own bucket.
	other := dialRaw(t, wsURL, protocol.SubprotocolMsgpack)
	other.send(1, protocol.Hello{PlayerID: "other"})
	other.next()
	other.wantAlive()
}

func TestLimitsOptionsAreChecked(t *testing.T) {
	for _, l := range []server.Limits{
		{Conn: server.Rate{PerSecond: -1}},
		{Player: server.Rate{PerSecond: 1, Burst: -1}},
		{MaxInFlight: -1},
	} {
		_, err := server.New(nil, server.Options{Limits: l})
		if err == nil || !strings.Contains(err.Error(), "Limits") {
			t.Errorf("%+v: %v", l, err)
		}
	}
}

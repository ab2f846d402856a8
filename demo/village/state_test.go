package village

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/middleware/server"
	"github.com/hearth-ai/hearth/quest"
	"github.com/hearth-ai/hearth/sim/world"
)

// fakeBackend answers at the next Poll, like the runtime at the next tick.
type fakeBackend struct {
	next     []Msg
	talks    []string
	quests   []string
	accepted []string
	events   []quest.Event
	offer    protocol.QuestInfo
	refresh  int
}

func (f *fakeBackend) Name() string { return "fake" }
func (f *fakeBackend) Talk(npc, text string, tag uint64) error {
	f.talks = append(f.talks, npc+": "+text)
	f.next = append(f.next, Msg{Kind: MsgDelta, Tag: tag, NPC: npc, Text: "Well met"},
		Msg{Kind: MsgReply, Tag: tag, NPC: npc, Text: "Well met, traveller.", Tier: "template", LatencyMS: 0.5, OnTime: true})
	return nil
}
func (f *fakeBackend) RequestQuest(giver, loc string, level int, tag uint64) error {
	f.quests = append(f.quests, giver+"@"+loc)
	f.next = append(f.next, Msg{Kind: MsgOffer, Tag: tag, NPC: giver, Quest: f.offer, Tier: "template"})
	return nil
}
func (f *fakeBackend) AcceptQuest(q protocol.QuestInfo, _ int) {
	f.accepted = append(f.accepted, q.ID)
	f.next = append(f.next, Msg{Kind: MsgUpdates, Updates: []protocol.QuestUpdate{{QuestID: q.ID, Kind: protocol.QuestUpdateAccepted}}},
		Msg{Kind: MsgLog, Log: []protocol.QuestLogEntry{{Quest: q, State: protocol.QuestStateActive, Progress: make([]uint32, len(q.Objectives))}}})
}
func (f *fakeBackend) Report(ev quest.Event)           { f.events = append(f.events, ev) }
func (f *fakeBackend) RefreshLog()                     { f.refresh++ }
func (f *fakeBackend) StartLoad(int, []string, uint64) {}
func (f *fakeBackend) LoadStats() (uint64, uint64)     { return 0, 0 }
func (f *fakeBackend) Close() error                    { return nil }
func (f *fakeBackend) Poll(dst []Msg) []Msg {
	dst = append(dst, f.next...)
	f.next = f.next[:0]
	return dst
}

// testGame is a State driven by a script, as the game drives it.
type testGame struct {
	*State
	script *Runner
}

func newTestGame(t *testing.T, script string) (*testGame, *fakeBackend, *bytes.Buffer) {
	t.Helper()
	m, w, err := LoadMap(world.FS())
	if err != nil {
		t.Fatal(err)
	}
	steps, err := ParseScript(script)
	if err != nil {
		t.Fatal(err)
	}
	be := &fakeBackend{offer: protocol.QuestInfo{ID: "q1", Title: "Ford Brown", Dialogue: "Bring me six bundles.",
		Objectives: []protocol.QuestObjective{
			{Action: "gather", Targets: []string{"ford-brown"}, Count: 6, Location: "tipped-kettle"},
			{Action: "goto", Count: 1, Location: "kettle-green"},
		}}}
	var out bytes.Buffer
	g := &testGame{NewState(m, w, be, Config{Player: "p1", Level: 3, Out: &out}), NewRunner(steps)}
	return g, be, &out
}

// step runs one tick the way the game's Update does, and reports whether
// the script has ended.
func (g *testGame) step() bool {
	in, shot := g.script.Next(g.State)
	if shot != "" {
		g.ShotTaken(shot, shot+".png")
	}
	if g.script.Done() {
		return true
	}
	g.Step(in)
	return false
}

// play plays the script headless to its end.
func play(t *testing.T, g *testGame, maxTicks int) {
	t.Helper()
	for range maxTicks {
		if g.step() {
			if err := g.script.Err(); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatalf("the script did not end in %d ticks", maxTicks)
}

func TestGameTalkQuestAndObjectives(t *testing.T) {
	g, be, out := newTestGame(t, `walkto hobb-fairweather
press e; type Hello!; press enter; waitreply
type /quest; press enter; waitquest; press y; wait 2
press esc; press f; wait 2`)
	play(t, g, 5000)
	if be.refresh == 0 {
		t.Error("the quest log was never fetched")
	}
	if len(be.talks) != 1 || be.talks[0] != "hobb-fairweather: Hello!" {
		t.Fatalf("talks %q", be.talks)
	}
	if !strings.Contains(out.String(), "reply\thobb-fairweather\ttemplate\t0.500 ms\tWell met, traveller.\n") {
		t.Fatalf("stdout lacks the reply line:\n%s", out.String())
	}
	if g.Replies() != 1 || g.Offers() != 1 || len(be.accepted) != 1 || be.accepted[0] != "q1" {
		t.Fatalf("replies %d, offers %d, accepted %v", g.Replies(), g.Offers(), be.accepted)
	}
	if len(be.quests) != 1 || be.quests[0] != "hobb-fairweather@tipped-kettle" {
		t.Fatalf("quest requests %q, want Hobb's, at the Tipped Kettle", be.quests)
	}
	// Walking into the Tipped Kettle's yard, talking to Hobb and acting
	// out the gather objective there were all reported.
	var kinds []string
	for _, ev := range be.events {
		kinds = append(kinds, string(ev.Kind)+":"+ev.Target+"@"+ev.Location)
	}
	want := []string{"arrive:@tipped-kettle", "talk:hobb-fairweather@tipped-kettle", "collect:ford-brown@tipped-kettle"}
	for _, w := range want {
		found := false
		for _, k := range kinds {
			found = found || k == w
		}
		if !found {
			t.Errorf("event %s not reported; got %q", w, kinds)
		}
	}
	for _, ev := range be.events {
		if ev.Kind == quest.EventCollect && ev.Count != 6 {
			t.Errorf("collect count %d, want the objective's 6", ev.Count)
		}
	}
	if len(g.Log) != 1 || !g.ShowLog {
		t.Fatalf("quest log %+v", g.Log)
	}
	if lines := QuestLogLines(g.Log, g.Name); len(lines) != 3 || lines[1].Text != "Gather 6 Ford Brown at The Tipped Kettle (0/6)" {
		t.Fatalf("log view %+v", lines)
	}
}

func TestGameWalkingAwayEndsTheConversation(t *testing.T) {
	g, _, _ := newTestGame(t, "walkto hobb-fairweather; press e; walkto orla-fenn")
	play(t, g, 5000)
	if g.Dlg.Open {
		t.Fatal("the conversation stayed open after walking away")
	}
	g2, _, _ := newTestGame(t, "press e; press l")
	play(t, g2, 10)
	if g2.Dlg.Open || g2.ShowLog {
		t.Fatalf("E with nobody near opened a conversation (%v), or L did not hide the log (%v)", g2.Dlg.Open, g2.ShowLog)
	}
}

func TestGameScriptFailureEndsTheGame(t *testing.T) {
	g, _, _ := newTestGame(t, "waitreply 3; shot never")
	ended := false
	for range 10 {
		if ended = g.step(); ended {
			break
		}
	}
	if !ended || g.script.Err() == nil || g.Shots() != 0 {
		t.Fatalf("a wait that ran out did not end the script with an error: %v", g.script.Err())
	}
}

func TestMeter(t *testing.T) {
	m := Meter{Warmup: 2}
	if s := m.Stats(); s.Ticks != 0 {
		t.Fatalf("empty meter: %+v", s)
	}
	t0 := time.Unix(1000, 0)
	for i := range 62 {
		start := t0.Add(time.Duration(i) * time.Second / 60)
		d := time.Millisecond
		if i == 61 {
			d = 5 * time.Millisecond
		}
		m.Record(start, start.Add(d))
	}
	s := m.Stats()
	if s.Ticks != 60 || s.P50 < 999*time.Microsecond || s.P50 > 1001*time.Microsecond || s.Max < 4990*time.Microsecond {
		t.Fatalf("stats %+v", s)
	}
	if s.TPS < 59 || s.TPS > 62 {
		t.Fatalf("TPS %.2f, want about 60", s.TPS)
	}
}

// TestEmbeddedBackend runs the real runtime in memory through the Backend
// interface: a reply streams in at ticks, a quest is offered, accepted and
// advanced, and the background load is counted. TestMain's leak check
// covers Close.
func TestEmbeddedBackend(t *testing.T) {
	be, err := OpenBackend(context.Background(), BackendConfig{Player: "p1", Name: "Aria", TickRate: 60, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	exerciseBackend(t, be)
}

// TestRemoteBackend does the same through the Go client against a server
// hosting the same stack.
func TestRemoteBackend(t *testing.T) {
	ctx := context.Background()
	st, err := middleware.OpenStack(ctx, middleware.StackConfig{World: world.FS(), WorldSource: world.Source,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(st.Runtime, server.Options{Quests: st.QuestLog, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Start(ln)
	defer h.Close(ctx)
	be, err := OpenBackend(ctx, BackendConfig{Server: h.URL(), Player: "p1", Name: "Aria"})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	if be.Name() != "server" {
		t.Fatalf("name %q", be.Name())
	}
	exerciseBackend(t, be)
}

// exerciseBackend talks, takes a quest, advances it and runs background
// load through be, as the game does.
func exerciseBackend(t *testing.T, be Backend) {
	t.Helper()
	// pending keeps what a poll brought besides the message it waited for.
	var msgs, pending []Msg
	poll := func(want MsgKind) Msg {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			pending = be.Poll(pending)
			for i, m := range pending {
				if m.Kind == MsgError {
					t.Fatalf("error: %v", m.Err)
				}
				if m.Kind == want {
					pending = append(pending[:i], pending[i+1:]...)
					return m
				}
			}
			time.Sleep(time.Second / 60)
		}
		t.Fatalf("no message of kind %d in 10 s; got %+v", want, pending)
		return Msg{}
	}
	be.RefreshLog()
	if l := poll(MsgLog); len(l.Log) != 0 {
		t.Fatalf("a fresh player has quests: %+v", l.Log)
	}
	if err := be.Talk("hobb-fairweather", "Hello!", 1); err != nil {
		t.Fatal(err)
	}
	r := poll(MsgReply)
	if r.Tag != 1 || r.NPC != "hobb-fairweather" || strings.TrimSpace(r.Text) == "" || r.Tier == "" {
		t.Fatalf("reply %+v", r)
	}
	if err := be.RequestQuest("hobb-fairweather", "tipped-kettle", 3, 2); err != nil {
		t.Fatal(err)
	}
	o := poll(MsgOffer)
	if o.Tag != 2 || o.Quest.ID == "" || len(o.Quest.Objectives) == 0 {
		t.Fatalf("offer %+v", o)
	}
	be.AcceptQuest(o.Quest, 3)
	if u := poll(MsgUpdates); u.Updates[0].Kind != protocol.QuestUpdateAccepted {
		t.Fatalf("updates %+v", u.Updates)
	}
	l := poll(MsgLog)
	if len(l.Log) != 1 || l.Log[0].State != protocol.QuestStateActive {
		t.Fatalf("log %+v", l.Log)
	}
	// Act out the first objective the way the game does.
	_, w, err := LoadMap(world.FS())
	if err != nil {
		t.Fatal(err)
	}
	ev := w.EventFor("p1", objective(o.Quest.Objectives[0]))
	be.Report(ev)
	if u := poll(MsgUpdates); len(u.Updates) == 0 || u.Updates[0].QuestID != o.Quest.ID {
		t.Fatalf("updates after %+v: %+v", ev, u.Updates)
	}
	be.StartLoad(4, []string{"hobb-fairweather", "marta-vell"}, 1)
	deadline := time.Now().Add(10 * time.Second)
	for done, _ := be.LoadStats(); done < 20; done, _ = be.LoadStats() {
		if time.Now().After(deadline) {
			t.Fatalf("only %d background replies in 10 s", done)
		}
		msgs = be.Poll(msgs[:0])
		for _, m := range msgs {
			if m.Tag&loadTag != 0 {
				t.Fatal("a background reply reached the game")
			}
		}
		time.Sleep(time.Second / 60)
	}
	if _, failed := be.LoadStats(); failed != 0 {
		t.Fatalf("%d background conversations failed", failed)
	}
}

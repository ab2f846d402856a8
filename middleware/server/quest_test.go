package server_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/middleware/server"
	"github.com/hearth-ai/hearth/quest"
)

// eventsFor returns the world events that fulfil obj, as a game would
// report them (as quest/tracker_test.go's eventsFor does).
func eventsFor(w *quest.World, obj protocol.QuestObjective) []protocol.WorldEvent {
	qe := w.EventFor("", quest.Objective{Action: quest.Action(obj.Action), Targets: obj.Targets,
		Count: int(obj.Count), Location: obj.Location})
	ev := protocol.WorldEvent{Kind: string(qe.Kind), Target: qe.Target, Item: qe.Item,
		Location: qe.Location, Count: uint32(qe.Count)}
	// Split counted objectives so that progress shows before completion.
	if ev.Count > 1 && ev.Kind != protocol.WorldEventArrive {
		first := ev
		first.Count = 1
		ev.Count--
		return []protocol.WorldEvent{first, ev}
	}
	return []protocol.WorldEvent{ev}
}

// updates collects the unsolicited quest updates of a client.
type updates struct {
	mu  sync.Mutex
	got []protocol.QuestUpdate
}

func (u *updates) add(q protocol.QuestUpdate) {
	u.mu.Lock()
	u.got = append(u.got, q)
	u.mu.Unlock()
}

// wait returns the updates once there are n of them.
func (u *updates) wait(t *testing.T, n int) []protocol.QuestUpdate {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		u.mu.Lock()
		got := append([]protocol.QuestUpdate(nil), u.got...)
		u.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d unsolicited updates, want %d: %+v", len(got), n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wantCode(t *testing.T, err error, code string, mentions ...string) {
	t.Helper()
	var pe *protocol.Error
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
	for _, m := range mentions {
		if !strings.Contains(pe.Message, m) {
			t.Fatalf("error %q does not mention %q", pe.Message, m)
		}
	}
}

func TestQuestsOverWebSocket(t *testing.T) {
	dir := t.TempDir()
	ts := launch(t, dir, server.Options{}, true)
	w := ts.st.QuestWorld
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	c1, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "aria", PlayerName: "Aria"})
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	// A second connection of the same player, on JSON, sees every change.
	var other updates
	c2, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "aria", Subprotocol: protocol.SubprotocolJSON, OnQuestUpdate: other.add})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	// Another player's connection sees none of them.
	var stranger updates
	c3, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "bryn", OnQuestUpdate: stranger.add})
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()

	// Ask until a quest has a counted objective, to see progress updates.
	var offer protocol.QuestOffer
	for seed := uint64(1); ; seed++ {
		o, err := c1.RequestQuest(ctx, protocol.QuestRequest{Level: 3, Location: "kettle-green", Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		q := o.Quest
		if q.ID == "" || q.Title == "" || len(q.Objectives) < 1 || len(q.Objectives) > protocol.MaxQuestObjectives ||
			q.Level.Min > 3 || q.Level.Max < 3 || q.Reward.XP == 0 || o.Ticket == 0 || o.BudgetMS == 0 || q.Seed != seed {
			t.Fatalf("offer %+v", o)
		}
		for _, obj := range q.Objectives {
			if obj.Count > 1 {
				offer = o
			}
		}
		if offer.Quest.ID != "" {
			break
		}
		if seed == 20 {
			t.Fatal("no quest with a counted objective in 20 seeds")
		}
	}
	q := offer.Quest

	// Only quests offered on this connection can be accepted.
	_, err = c1.AcceptQuest(ctx, "kettleford-q0000000000000000")
	wantCode(t, err, protocol.CodeUnknownQuest, "kettleford-q0000000000000000")
	_, err = c2.AcceptQuest(ctx, q.ID)
	wantCode(t, err, protocol.CodeUnknownQuest)

	up, err := c1.AcceptQuest(ctx, q.ID)
	if err != nil || up.Kind != protocol.QuestUpdateAccepted || up.QuestID != q.ID || up.Count != max(q.Objectives[0].Count, 1) {
		t.Fatalf("accept: %+v %v", up, err)
	}
	_, err = c1.AcceptQuest(ctx, q.ID)
	wantCode(t, err, protocol.CodeBadRequest, "already")

	// An event that concerns no quest makes no update, but is acknowledged.
	ups, err := c1.ReportEvent(ctx, protocol.WorldEvent{Kind: protocol.WorldEventTalk, Target: "nobody"})
	if err != nil || len(ups) != 0 {
		t.Fatalf("unrelated event: %+v %v", ups, err)
	}

	mine := []protocol.QuestUpdate{up}
	for i, obj := range q.Objectives {
		evs := eventsFor(w, obj)
		for j, ev := range evs {
			ups, err := c1.ReportEvent(ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if len(ups) == 0 {
				t.Fatalf("objective %d %+v: event %+v advanced nothing", i, obj, ev)
			}
			for _, u := range ups {
				if u.QuestID != q.ID || u.Objective != uint32(i) {
					t.Fatalf("objective %d: update %+v", i, u)
				}
			}
			last := j == len(evs)-1
			switch {
			case !last && (len(ups) != 1 || ups[0].Kind != protocol.QuestUpdateProgress || ups[0].Progress != 1 || ups[0].Count != obj.Count):
				t.Fatalf("objective %d: first of %d: %+v, want progress 1/%d", i, obj.Count, ups, obj.Count)
			case last && ups[0].Kind != protocol.QuestUpdateObjective:
				t.Fatalf("objective %d: %+v, want it completed", i, ups)
			}
			mine = append(mine, ups...)
		}
	}
	done := mine[len(mine)-1]
	if done.Kind != protocol.QuestUpdateCompleted || done.Reward == nil || done.Reward.XP != q.Reward.XP ||
		done.Reward.Gold != q.Reward.Gold || len(done.Reward.Items) != len(q.Reward.Items) {
		t.Fatalf("last update %+v, want completion with the reward %+v", done, q.Reward)
	}

	// The player's other connection received the same updates, unsolicited.
	theirs := other.wait(t, len(mine))
	if len(theirs) != len(mine) {
		t.Fatalf("other connection: %d updates, want %d", len(theirs), len(mine))
	}
	for i := range mine {
		if mine[i].Kind != theirs[i].Kind || mine[i].Progress != theirs[i].Progress || mine[i].QuestID != theirs[i].QuestID {
			t.Fatalf("other connection update %d: %+v, want %+v", i, theirs[i], mine[i])
		}
	}

	// Bad requests name the problem.
	_, err = c1.RequestQuest(ctx, protocol.QuestRequest{Level: 3, Location: "kettle-gren"})
	wantCode(t, err, protocol.CodeBadRequest, "kettle-gren", "kettle-green")
	_, err = c1.RequestQuest(ctx, protocol.QuestRequest{Level: 99, Location: "kettle-green"})
	wantCode(t, err, protocol.CodeBadRequest, "level", "99")
	_, err = c1.RequestQuest(ctx, protocol.QuestRequest{Level: 3, Location: "kettle-green", Giver: "nobody"})
	wantCode(t, err, protocol.CodeBadRequest, "nobody")
	_, err = c1.RequestQuest(ctx, protocol.QuestRequest{Level: 0, Location: "kettle-green"})
	wantCode(t, err, protocol.CodeBadRequest, "level") // refused before sending

	// A follow-up needs its predecessor completed: this one's is.
	next, err := c1.RequestQuest(ctx, protocol.QuestRequest{Level: 3, Location: "kettle-green", Seed: 100, After: q.ID})
	if err != nil || len(next.Quest.Prerequisites) != 1 || next.Quest.Prerequisites[0] != q.ID {
		t.Fatalf("follow-up: %+v %v", next.Quest, err)
	}
	if _, err := c1.AcceptQuest(ctx, next.Quest.ID); err != nil {
		t.Fatal(err)
	}
	up, err = c1.AbandonQuest(ctx, next.Quest.ID)
	if err != nil || up.Kind != protocol.QuestUpdateAbandoned || up.QuestID != next.Quest.ID || up.Reason == "" {
		t.Fatalf("abandon: %+v %v", up, err)
	}
	_, err = c1.AbandonQuest(ctx, next.Quest.ID)
	wantCode(t, err, protocol.CodeBadRequest)
	_, err = c1.AbandonQuest(ctx, "kettleford-q0000000000000000")
	wantCode(t, err, protocol.CodeUnknownQuest)

	// A chain whose predecessor is not completed cannot be accepted.
	orphan, err := c1.RequestQuest(ctx, protocol.QuestRequest{Level: 3, Location: "kettle-green", Seed: 101, After: next.Quest.ID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c1.AcceptQuest(ctx, orphan.Quest.ID)
	wantCode(t, err, protocol.CodeBadRequest, "prerequisites")

	// The giver's death fails an active quest, reported by any player.
	doomed, err := c1.RequestQuest(ctx, protocol.QuestRequest{Level: 3, Location: "kettle-green", Seed: 102})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c1.AcceptQuest(ctx, doomed.Quest.ID); err != nil {
		t.Fatal(err)
	}
	ups, err = c3.ReportEvent(ctx, protocol.WorldEvent{Kind: protocol.WorldEventDied, Target: doomed.Quest.Giver})
	if err != nil || len(ups) != 0 {
		t.Fatalf("died, reported by another player: %+v %v (bryn has no quests)", ups, err)
	}
	theirs = other.wait(t, len(mine)+4) // accepted, abandoned, accepted, failed
	if f := theirs[len(theirs)-1]; f.Kind != protocol.QuestUpdateFailed || f.QuestID != doomed.Quest.ID || f.Reason == "" {
		t.Fatalf("after the giver died: %+v", f)
	}
	if got := stranger.wait(t, 0); len(got) != 0 {
		t.Fatalf("another player received %+v", got)
	}

	// The log lists them, most recent first.
	log, err := c1.QuestLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, e := range log.Entries {
		states[e.Quest.ID] = e.State
		if e.Quest.ID == q.ID && (len(e.Progress) != len(q.Objectives) || e.Quest.Title != q.Title) {
			t.Fatalf("completed entry %+v", e)
		}
	}
	if log.Total != 3 || len(log.Entries) != 3 || log.Entries[0].Quest.ID != doomed.Quest.ID ||
		states[q.ID] != protocol.QuestStateCompleted || states[next.Quest.ID] != protocol.QuestStateAbandoned ||
		states[doomed.Quest.ID] != protocol.QuestStateFailed {
		t.Fatalf("log: %+v", states)
	}
	c1.Close()
	c2.Close()
	c3.Close()

	// The log survives a restart on the same data directory.
	ts.stop()
	ts = launch(t, dir, server.Options{}, true)
	c4, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "aria"})
	if err != nil {
		t.Fatal(err)
	}
	defer c4.Close()
	log, err = c4.QuestLog(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range log.Entries {
		if e.Quest.ID == q.ID {
			found = e.State == protocol.QuestStateCompleted && len(e.Quest.Objectives) == len(q.Objectives)
		}
	}
	if !found || log.Total != 3 {
		t.Fatalf("after a restart the log is %+v", log)
	}
}

// TestQuestProtocolErrors covers the quest messages' errors on a raw
// connection: before hello, invalid payloads, and a server without quests.
func TestQuestProtocolErrors(t *testing.T) {
	wsURL, _ := startServer(t, server.Options{})
	r := dialRaw(t, wsURL, protocol.SubprotocolMsgpack)
	r.send(1, protocol.QuestLog{})
	r.wantError(1, protocol.CodeNotHello)
	r.send(2, protocol.QuestRequest{Level: 3, Location: "kettle-green"})
	r.wantError(2, protocol.CodeNotHello)
	r.send(3, protocol.Hello{PlayerID: "raw"})
	r.next()
	r.send(4, protocol.QuestRequest{Level: 0, Location: "kettle-green"})
	r.wantError(4, protocol.CodeBadRequest)
	r.send(5, protocol.QuestRequest{Level: 3, Location: "kettle-green", Motivation: "greed"})
	r.wantError(5, protocol.CodeBadRequest)
	r.send(6, protocol.WorldEvent{Kind: "dance"})
	r.wantError(6, protocol.CodeBadRequest)
	r.send(7, protocol.QuestOffer{})
	r.wantError(7, protocol.CodeUnknownType)
	r.send(8, protocol.QuestLog{})
	if h, m := r.next(); h.ID != 8 || h.Type != protocol.TypeQuestLog || len(m.(protocol.QuestLog).Entries) != 0 {
		t.Fatalf("empty log: %s %+v", h.Type, m)
	}
	r.send(9, protocol.QuestRequest{Level: 3, Location: "kettle-green"})
	if h, m := r.next(); h.ID != 9 || m.(protocol.QuestOffer).Quest.ID == "" {
		t.Fatalf("offer: %s %+v", h.Type, m)
	}
	r.wantAlive()

	ts := launch(t, t.TempDir(), server.Options{}, false)
	c, err := client.Dial(context.Background(), ts.wsURL, client.Options{PlayerID: "p"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	_, err = c.RequestQuest(ctx, protocol.QuestRequest{Level: 3, Location: "kettle-green"})
	wantCode(t, err, protocol.CodeQuestsUnavailable)
	_, err = c.QuestLog(ctx)
	wantCode(t, err, protocol.CodeQuestsUnavailable)
	_, err = c.ReportEvent(ctx, protocol.WorldEvent{Kind: protocol.WorldEventKill, Target: "wolf"})
	wantCode(t, err, protocol.CodeQuestsUnavailable)
	if _, err := c.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestQuestLogFitsInAFrame fills a log with more quests than a quest.log
// frame holds and checks the answer: the newest entries, within
// MaxFrameBytes, with the log's total.
func TestQuestLogFitsInAFrame(t *testing.T) {
	ts := launch(t, t.TempDir(), server.Options{}, true)
	ctx := context.Background()
	var ids []string
	seen := map[string]bool{}
	now := time.Unix(1_000_000, 0)
	for seed := uint64(1); len(ids) < protocol.MaxQuestLogEntries+6; seed++ {
		if seed > 2000 {
			t.Fatalf("only %d distinct quests", len(ids))
		}
		level := 1 + int(seed%10)
		loc := ts.st.QuestWorld.Places()[int(seed/10)%len(ts.st.QuestWorld.Places())]
		q, err := ts.st.Quests.Generate(ctx, quest.Request{PlayerID: "hoarder", Level: level, Location: loc, Seed: seed})
		if err != nil || seen[q.ID] || len(q.Prerequisites) > 0 {
			continue
		}
		if _, err := ts.st.QuestLog.Accept("hoarder", level, q, now.Add(time.Duration(len(ids))*time.Second)); err != nil {
			continue
		}
		seen[q.ID] = true
		ids = append(ids, q.ID)
	}
	for _, sub := range []string{protocol.SubprotocolMsgpack, protocol.SubprotocolJSON} {
		r := dialRaw(t, ts.wsURL, sub)
		r.send(1, protocol.Hello{PlayerID: "hoarder"})
		r.next()
		r.send(2, protocol.QuestLog{})
		r.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := r.ws.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > protocol.MaxFrameBytes {
			t.Fatalf("%s: quest.log frame of %d bytes", sub, len(b))
		}
		f, err := r.codec.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.Message()
		if err != nil {
			t.Fatal(err)
		}
		l := m.(protocol.QuestLog)
		if int(l.Total) != len(ids) || len(l.Entries) == 0 || len(l.Entries) > protocol.MaxQuestLogEntries {
			t.Fatalf("%s: total %d, %d entries; the log has %d", sub, l.Total, len(l.Entries), len(ids))
		}
		for i, e := range l.Entries {
			if want := ids[len(ids)-1-i]; e.Quest.ID != want || e.State != protocol.QuestStateActive {
				t.Fatalf("%s: entry %d is %s (%s), want %s: newest first", sub, i, e.Quest.ID, e.State, want)
			}
		}
		t.Logf("%s: %d of %d entries in %d bytes", sub, len(l.Entries), l.Total, len(b))
	}
}

// TestTimedQuestFailsWhenTimeRunsOut: the server's expiry loop fails a
// timed quest and tells the player's connections.
func TestTimedQuestFailsWhenTimeRunsOut(t *testing.T) {
	ts := launch(t, t.TempDir(), server.Options{}, true)
	var got updates
	c, err := client.Dial(context.Background(), ts.wsURL, client.Options{PlayerID: "timed", OnQuestUpdate: got.add})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q, err := ts.st.Quests.Generate(context.Background(), quest.Request{PlayerID: "timed", Level: 2, Location: "kettle-green", Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	q.TimeLimit = time.Millisecond // the generator sets none today; a host may
	if _, err := ts.st.QuestLog.Accept("timed", 2, q, time.Now()); err != nil {
		t.Fatal(err)
	}
	u := got.wait(t, 1)[0]
	if u.QuestID != q.ID || u.Kind != string(quest.UpdateFailed) || u.Reason == "" {
		t.Fatalf("want the timed quest to fail with a reason, got %+v", u)
	}
}

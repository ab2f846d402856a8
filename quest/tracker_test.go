package quest_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/quest"
)

func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(store.DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// eventsFor returns the world events that fulfil obj, as a game would
// report them.
func eventsFor(w *quest.World, player string, obj quest.Objective) []quest.Event {
	return []quest.Event{w.EventFor(player, obj)}
}

func generate(t *testing.T, g *quest.Generator, req quest.Request) quest.Quest {
	t.Helper()
	q, err := g.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestTrackerCompletesQuestsAndPersistsLogs(t *testing.T) {
	w := demoWorld(t)
	g, err := quest.NewGenerator(w, quest.GeneratorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st := openStore(t, dir)
	tr := quest.NewTracker(w, st)
	now := time.Unix(10_000, 0)
	completed := 0
	for seed := uint64(1); seed <= 40; seed++ {
		q := generate(t, g, quest.Request{PlayerID: "aria", Level: 3, Location: "kettle-green", Seed: seed})
		if _, err := tr.Accept("aria", 3, q, now); err != nil {
			if errors.Is(err, quest.ErrAlreadyAccepted) {
				continue // the same quest twice from different seeds
			}
			t.Fatal(err)
		}
		if _, err := tr.Accept("aria", 3, q, now); !errors.Is(err, quest.ErrAlreadyAccepted) {
			t.Fatalf("accepting twice: %v", err)
		}
		var last quest.Update
		for i, obj := range q.Objectives {
			// An unrelated event changes nothing.
			if ups, err := tr.Apply(quest.Event{Kind: quest.EventTalk, PlayerID: "aria", Target: "nobody"}); err != nil || len(ups) != 0 {
				t.Fatalf("unrelated event: %v %v", ups, err)
			}
			for _, ev := range eventsFor(w, "aria", obj) {
				ups, err := tr.Apply(ev)
				if err != nil {
					t.Fatal(err)
				}
				if len(ups) == 0 {
					t.Fatalf("quest %s objective %d (%+v): event %+v advanced nothing", q.ID, i, obj, ev)
				}
				last = ups[len(ups)-1]
			}
		}
		if last.Kind != quest.UpdateCompleted || last.QuestID != q.ID || last.Reward.XP != q.Reward.XP {
			t.Fatalf("quest %s: last update %+v, want completion with its reward", q.ID, last)
		}
		completed++
	}
	if completed < 20 {
		t.Fatalf("only %d distinct quests completed", completed)
	}
	// Finished entries are kept slim in RAM (a long session finishes
	// thousands); Log still returns them whole, from the store.
	whole, err := tr.Log("aria")
	if err != nil || len(whole) != completed {
		t.Fatalf("log: %d entries, %v; want %d", len(whole), err, completed)
	}
	for _, e := range whole {
		if e.State != quest.Completed || e.Quest.Title == "" || len(e.Progress) != len(e.Quest.Objectives) {
			t.Fatalf("entry before restart: %+v", e)
		}
	}
	st.Close()

	// After a restart the log is read back from Badger.
	st2 := openStore(t, dir)
	defer st2.Close()
	log, err := quest.NewTracker(w, st2).Log("aria")
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != completed {
		t.Fatalf("log after restart has %d entries, want %d", len(log), completed)
	}
	for _, e := range log {
		if e.State != quest.Completed || e.Quest.Title == "" || len(e.Progress) != len(e.Quest.Objectives) {
			t.Fatalf("entry after restart: %+v", e)
		}
	}
}

func TestTrackerChainsAbandonFailureAndExpiry(t *testing.T) {
	w := demoWorld(t)
	g, err := quest.NewGenerator(w, quest.GeneratorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	st := openStore(t, dir)
	tr := quest.NewTracker(w, st)
	now := time.Unix(10_000, 0)
	first := generate(t, g, quest.Request{PlayerID: "p", Level: 2, Location: "kettle-green", Seed: 7})
	next := generate(t, g, quest.Request{PlayerID: "p", Level: 2, Location: "kettle-green", Seed: 8, After: first.ID})
	if len(next.Prerequisites) != 1 || next.Prerequisites[0] != first.ID {
		t.Fatalf("follow-up prerequisites %v, want [%s]", next.Prerequisites, first.ID)
	}
	if _, err := tr.Accept("p", 2, next, now); !errors.Is(err, quest.ErrPrerequisites) {
		t.Fatalf("accepting a follow-up first: %v, want ErrPrerequisites", err)
	}
	if _, err := tr.Accept("p", 2, first, now); err != nil {
		t.Fatal(err)
	}
	for _, obj := range first.Objectives {
		for _, ev := range eventsFor(w, "p", obj) {
			if _, err := tr.Apply(ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := tr.Accept("p", 2, next, now); err != nil {
		t.Fatalf("follow-up after completing the first: %v", err)
	}
	u, err := tr.Abandon("p", next.ID, now)
	if err != nil || u.Kind != quest.UpdateAbandoned {
		t.Fatalf("abandon: %+v %v", u, err)
	}
	if _, err := tr.Abandon("p", next.ID, now); !errors.Is(err, quest.ErrNotActive) {
		t.Fatalf("abandoning twice: %v", err)
	}

	// A timed quest fails when its time runs out.
	timed := generate(t, g, quest.Request{PlayerID: "p", Level: 2, Location: "kettle-green", Seed: 21})
	timed.TimeLimit = time.Hour
	if _, err := tr.Accept("p", 2, timed, now); err != nil {
		t.Fatal(err)
	}
	if ups, _ := tr.Expire(now.Add(30 * time.Minute)); len(ups) != 0 {
		t.Fatalf("expired early: %+v", ups)
	}
	ups, err := tr.Expire(now.Add(2 * time.Hour))
	if err != nil || len(ups) != 1 || ups[0].Kind != quest.UpdateFailed || ups[0].QuestID != timed.ID {
		t.Fatalf("expiry: %+v %v", ups, err)
	}

	// A quest fails when its giver dies, even for a player whose log is
	// not loaded after a restart.
	giverQuest := generate(t, g, quest.Request{PlayerID: "q", Level: 2, Location: "kettle-green", Seed: 33})
	if _, err := tr.Accept("q", 2, giverQuest, now); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st2 := openStore(t, dir)
	defer st2.Close()
	tr2 := quest.NewTracker(w, st2)
	ups, err = tr2.Apply(quest.Event{Kind: quest.EventDied, Target: giverQuest.Giver, Time: now})
	if err != nil {
		t.Fatal(err)
	}
	failed := false
	for _, u := range ups {
		if u.PlayerID == "q" && u.QuestID == giverQuest.ID && u.Kind == quest.UpdateFailed {
			failed = true
		}
	}
	if !failed {
		t.Fatalf("giver %s died but the quest did not fail: %+v", giverQuest.Giver, ups)
	}
}

func TestTrackerRefusesInvalidQuests(t *testing.T) {
	w := demoWorld(t)
	st := openStore(t, "")
	defer st.Close()
	tr := quest.NewTracker(w, st)
	bad := quest.Quest{ID: "bad", World: w.Name, Title: "Kill the raven", Giver: "agathe-nettle", Motivation: quest.Conquest,
		Objectives: []quest.Objective{{Action: quest.Kill, Targets: []string{"magistrate"}, Count: 1, Location: "nettle-hollow"}},
		Level:      quest.LevelRange{Min: 1, Max: 3}, Description: "Kill the raven.", Dialogue: "Kill it.", Reward: quest.Reward{XP: 10, Gold: 10}}
	_, err := tr.Accept("p", 2, bad, time.Now())
	if !errors.Is(err, quest.ErrInvalidForPlayer) {
		t.Fatalf("a quest against a tame creature was accepted: %v", err)
	}
	probs := quest.Validate(w, bad, 2)
	found := false
	for _, p := range probs {
		if p.Field == "objectives[0].targets[0]" {
			found = true
		}
	}
	if !found {
		t.Fatalf("validator did not flag the tame target: %v", probs)
	}
}

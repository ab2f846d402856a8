package middleware_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/npc"
)

const wolves = "Aria slew the wolves of the Sallow Fens."

var wolvesAt = time.Date(1900, 5, 1, 8, 0, 0, 0, time.UTC)

func wolvesObservation() middleware.Observation {
	return middleware.Observation{Text: wolves, GameTime: wolvesAt, Importance: 9,
		Region: "sallow-fens", Tags: []string{"creatures", "rumours"}}
}

// heard reports whether NPC id of roster r recalls the wolves as gossip.
func heard(t *testing.T, r *npc.Roster, id string) bool {
	t.Helper()
	a, err := r.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range a.Recall("", "the wolves of the fens", wolvesAt.Add(48*time.Hour), 5) {
		if strings.HasPrefix(m.Text, "Heard from ") && strings.HasSuffix(m.Text, wolves) {
			return true
		}
	}
	return false
}

// TestGossipReachesTheVillage: the host tells the innkeeper that Aria slew
// the wolves of the Sallow Fens; the demo world's ten NPCs gather at the
// inn and gossip in rounds. Everyone whose knowledge scope takes in the
// fens' creatures or rumours hears of it within a few rounds; the four
// whose scope does not (Bram, Hesper, Marta and Pip) never do.
func TestGossipReachesTheVillage(t *testing.T) {
	st := openStack(t, middleware.Options{})
	rt := st.Runtime
	if err := rt.Observe("hobb-fairweather", wolvesObservation()); err != nil {
		t.Fatal(err)
	}
	rt.Settle()
	for _, d := range st.Roster.Definitions() {
		if err := rt.Locate("", d.ID, "tipped-kettle"); err != nil {
			t.Fatal(err)
		}
	}
	allowed := []string{"agathe-nettle", "aurel-finch", "odile-marrow", "orla-fenn", "wendel-crisp"}
	never := []string{"bram-tolley", "hesper-lowe", "marta-vell", "pip-tolley"}
	rounds, told := 0, 0
	for ; rounds < 12; rounds++ {
		all := true
		for _, id := range allowed {
			all = all && heard(t, st.Roster, id)
		}
		if all {
			break
		}
		rep, err := rt.Gossip(context.Background(), "", wolvesAt.Add(time.Duration(rounds+1)*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if rep.Places != 1 || rep.Meetings != 5 {
			t.Fatalf("round %d: %+v; want 5 meetings at one place", rounds, rep)
		}
		told += rep.Told
	}
	for _, id := range allowed {
		if !heard(t, st.Roster, id) {
			t.Errorf("%s has not heard of the wolves after %d rounds", id, rounds)
		}
	}
	for _, id := range never {
		if heard(t, st.Roster, id) {
			t.Errorf("%s heard of the wolves outside its knowledge scope", id)
		}
	}
	t.Logf("the rumour reached %d NPCs in %d rounds (%d tellings)", len(allowed), rounds, told)
	// Once everyone who may know does, more rounds tell nothing.
	for i := 0; i < 3; i++ {
		rep, err := rt.Gossip(context.Background(), "", wolvesAt.Add(time.Duration(100+i)*time.Hour))
		if err != nil || rep.Told != 0 {
			t.Fatalf("a round after the spread: %+v, %v", rep, err)
		}
	}
}

// TestMeetIsQueuedAndTenantsAreApart: Meet returns at once and Settle
// waits for the telling; what one tenant's NPCs say never reaches
// another tenant's, by Meet or by Gossip.
func TestMeetIsQueuedAndTenantsAreApart(t *testing.T) {
	st := openStack(t, middleware.Options{})
	rt := st.Runtime
	if err := rt.ObserveTenant("a", "hobb-fairweather", wolvesObservation()); err != nil {
		t.Fatal(err)
	}
	if err := rt.Meet("a", "hobb-fairweather", "wendel-crisp", wolvesAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	rt.Settle()
	if !heard(t, st.Roster.Tenant("a"), "wendel-crisp") {
		t.Fatal("tenant a's miller did not hear it")
	}
	if err := rt.Meet("", "hobb-fairweather", "wendel-crisp", wolvesAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, d := range st.Roster.Definitions() {
		if err := rt.Locate("b", d.ID, "square"); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 4; i++ {
		rep, err := rt.Gossip(context.Background(), "b", wolvesAt.Add(time.Duration(i+2)*time.Hour))
		if err != nil || rep.Told != 0 || rep.Meetings != 5 {
			t.Fatalf("tenant b's round %d: %+v, %v", i, rep, err)
		}
	}
	rt.Settle()
	for _, tenant := range []string{"", "b"} {
		for _, d := range st.Roster.Definitions() {
			if heard(t, st.Roster.Tenant(tenant), d.ID) {
				t.Errorf("tenant %q's %s heard tenant a's news", tenant, d.ID)
			}
		}
	}
}

func TestMeetAndLocateValidate(t *testing.T) {
	st := openStack(t, middleware.Options{})
	rt := st.Runtime
	if err := rt.Meet("", "hobb-fairweather", "hobb-fairweather", time.Time{}); err == nil {
		t.Error("an NPC met itself")
	}
	if err := rt.Meet("", "hobb-fairweather", "nobody", time.Time{}); !errors.Is(err, npc.ErrUnknownNPC) {
		t.Errorf("unknown npc: %v", err)
	}
	if err := rt.Locate("", "nobody", "inn"); !errors.Is(err, npc.ErrUnknownNPC) {
		t.Errorf("locate unknown npc: %v", err)
	}
	if err := rt.Locate("", "hobb-fairweather", "a \xff"); err == nil {
		t.Error("a place that is not UTF-8 was accepted")
	}
	if err := rt.Observe("hobb-fairweather", middleware.Observation{Text: "x", Secrecy: -1}); err == nil {
		t.Error("a negative secrecy was accepted")
	}
	if err := rt.Observe("hobb-fairweather", middleware.Observation{Text: "x", Tags: []string{"\xff"}}); err == nil {
		t.Error("a tag that is not UTF-8 was accepted")
	}
	// Homes: in the demo world only the forge and the shrine house two
	// NPCs each, so a round makes two meetings.
	rep, err := rt.Gossip(context.Background(), "", wolvesAt)
	if err != nil || rep.Places != 2 || rep.Meetings != 2 {
		t.Fatalf("gossip at home: %+v, %v", rep, err)
	}
	rt.Close()
	if err := rt.Meet("", "hobb-fairweather", "wendel-crisp", time.Time{}); !errors.Is(err, middleware.ErrClosed) {
		t.Errorf("meet after close: %v", err)
	}
}

package npc

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
)

// gossipDefs is a small village: who may know of the fens and of creatures.
func gossipDefs() []Definition {
	k := func(regions, tags []string) Knowledge {
		return Knowledge{Sources: []string{"village"}, Regions: regions, Tags: tags, MaxSecrecy: 1}
	}
	return []Definition{
		{ID: "hobb", Name: "Hobb Fairweather", Role: "innkeeper", Knowledge: k(nil, []string{"rumours", "creatures", "village"}),
			Secrets: []string{"I hid the stolen silver in the well under the old mill."}},
		{ID: "wendel", Name: "Wendel Crisp", Role: "miller", Knowledge: k([]string{"kettleford", "sallow-fens"}, []string{"rumours", "river"})},
		{ID: "orla", Name: "Orla Fenn", Role: "headwoman", Knowledge: k([]string{"sallow-fens"}, []string{"fens", "creatures"})},
		{ID: "odile", Name: "Odile Marrow", Role: "captain", Knowledge: k(nil, []string{"creatures", "law"})},
		{ID: "agathe", Name: "Agathe Nettle", Role: "hedge-witch", Knowledge: k(nil, nil)},
		// Pip knows Kettleford only, Marta smithing only: neither may hear
		// of wolves in the fens.
		{ID: "pip", Name: "Pip Tolley", Role: "bellows-boy", Knowledge: k([]string{"kettleford"}, []string{"village", "rumours"})},
		{ID: "marta", Name: "Marta Vell", Role: "coppersmith", Knowledge: k(nil, []string{"smithing"})},
	}
}

var gossipT0 = time.Date(1900, 5, 1, 8, 0, 0, 0, time.UTC)

const wolves = "Aria slew the wolves of the Sallow Fens."

func wolvesObservation() Observation {
	return Observation{Text: wolves, GameTime: gossipT0, Importance: 9,
		Region: "sallow-fens", Tags: []string{"creatures", "rumours"}}
}

// heardOf returns the NPC's world memories about origin text story.
func heardOf(t *testing.T, a *Agent, story string) []store.MemoryRecord {
	t.Helper()
	if err := a.memory.load(); err != nil {
		t.Fatal(err)
	}
	a.memory.mu.RLock()
	defer a.memory.mu.RUnlock()
	var out []store.MemoryRecord
	for _, m := range a.memory.buckets[""] {
		if storyOf(m.rec) == story {
			out = append(out, m.rec)
		}
	}
	return out
}

func meet(t *testing.T, a, b *Agent, hour int) MeetReport {
	t.Helper()
	rep, err := Meet(a, b, gossipT0.Add(time.Duration(hour)*time.Hour), GossipOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestGossipSpreadsWithDecayWithinKnowledge: the wolves rumour goes from
// Hobb, who saw it done, to Wendel, Orla and Odile, losing 0.7 of its
// importance at each telling, and stops after three tellings; Pip (whose
// scope is Kettleford) and Marta (smithing) never hear of it, though they
// meet NPCs who know.
func TestGossipSpreadsWithDecayWithinKnowledge(t *testing.T) {
	r := streamRoster(t, openStore(t), MemoryOptions{}, gossipDefs()...)
	hobb, wendel, orla, odile := agent(t, r, "hobb"), agent(t, r, "wendel"), agent(t, r, "orla"), agent(t, r, "odile")
	agathe, pip, marta := agent(t, r, "agathe"), agent(t, r, "pip"), agent(t, r, "marta")
	if err := hobb.Observe(wolvesObservation()); err != nil {
		t.Fatal(err)
	}
	for i, p := range [][2]*Agent{{hobb, pip}, {hobb, marta}, {hobb, wendel}, {wendel, pip}, {wendel, orla},
		{orla, odile}, {odile, agathe}, {odile, pip}, {orla, marta}} {
		meet(t, p[0], p[1], i+1)
	}
	want := map[*Agent]struct {
		imp  float64
		hops int
		from string
	}{wendel: {6.3, 1, "Hobb Fairweather"}, orla: {4.41, 2, "Wendel Crisp"}, odile: {3.087, 3, "Orla Fenn"}}
	for a, w := range want {
		got := heardOf(t, a, wolves)
		if len(got) != 1 {
			t.Fatalf("%s holds %d memories of the wolves, want 1", a.def.ID, len(got))
		}
		g := got[0]
		if g.Kind != KindGossip || g.Hops != w.hops || math.Abs(g.Importance-w.imp) > 1e-9 ||
			g.Text != "Heard from "+w.from+": "+wolves || g.Region != "sallow-fens" || len(g.Tags) != 2 {
			t.Errorf("%s: %+v; want importance %v, hops %d, heard from %s", a.def.ID, g, w.imp, w.hops, w.from)
		}
		// Recall finds it as world knowledge, for any player's question.
		rec := a.Recall("some-player", "what about the wolves?", gossipT0.Add(24*time.Hour), 3)
		if len(rec) == 0 || !strings.Contains(rec[len(rec)-1].Text, wolves) {
			t.Errorf("%s recalls %+v", a.def.ID, rec)
		}
	}
	// Three tellings is as far as it goes: Odile holds it at hop 3 and
	// does not pass it on.
	if got := heardOf(t, agathe, wolves); len(got) != 0 {
		t.Errorf("agathe heard it at hop 4: %+v", got)
	}
	for _, a := range []*Agent{pip, marta} {
		if got := heardOf(t, a, wolves); len(got) != 0 {
			t.Errorf("%s heard of the wolves outside its knowledge scope: %+v", a.def.ID, got)
		}
	}
}

// TestGossipFloorAndPerMeeting: a meeting tells at most three things, the
// most important first; something whose told importance would fall under
// the floor is not told.
func TestGossipFloorAndPerMeeting(t *testing.T) {
	r := streamRoster(t, openStore(t), MemoryOptions{}, gossipDefs()...)
	hobb, agathe := agent(t, r, "hobb"), agent(t, r, "agathe")
	texts := []string{"The ferry sank.", "A comet was seen.", "The well ran dry.", "Bread went up a penny.", "A cat had kittens."}
	for i, txt := range texts {
		if err := hobb.Observe(Observation{Text: txt, GameTime: gossipT0, Importance: float64(9 - i)}); err != nil {
			t.Fatal(err)
		}
	}
	rep := meet(t, hobb, agathe, 1)
	if len(rep.Told) != 3 {
		t.Fatalf("told %d things, want 3: %+v", len(rep.Told), rep.Told)
	}
	for i, ru := range rep.Told {
		if !strings.HasSuffix(ru.Text, texts[i]) || ru.Teller != "hobb" || ru.Listener != "agathe" {
			t.Errorf("told[%d] = %+v, want %q", i, ru, texts[i])
		}
	}
	// The next meeting tells the fourth (6 × 0.7 = 4.2); the fifth (5 ×
	// 0.7 = 3.5) still passes the floor of 3, but not with a floor of 4.
	rep, err := Meet(hobb, agathe, gossipT0.Add(2*time.Hour), GossipOptions{Floor: 4})
	if err != nil || len(rep.Told) != 1 || !strings.HasSuffix(rep.Told[0].Text, texts[3]) {
		t.Fatalf("second meeting told %+v, %v; want only %q", rep.Told, err, texts[3])
	}
}

// TestGossipKeepsSecrets: what states one of the teller's secrets is never
// told, and neither is dialogue nor anything about one player.
func TestGossipKeepsSecrets(t *testing.T) {
	r := streamRoster(t, openStore(t), MemoryOptions{}, gossipDefs()...)
	hobb, agathe := agent(t, r, "hobb"), agent(t, r, "agathe")
	secret := "The stolen silver lies in the well under the old mill."
	for _, o := range []Observation{
		{Text: secret, GameTime: gossipT0, Importance: 10},
		{Text: "The player told Hobb their mother is ill.", PlayerID: "p1", GameTime: gossipT0, Importance: 10},
		{Text: "The fair is on Sunday.", GameTime: gossipT0, Importance: 6},
	} {
		if err := hobb.Observe(o); err != nil {
			t.Fatal(err)
		}
	}
	if err := hobb.Remember(Turn{PlayerID: "p2", Text: "The dragon is dead!", GameTime: gossipT0}, Reply{}); err != nil {
		t.Fatal(err)
	}
	rep := meet(t, hobb, agathe, 1)
	if len(rep.Told) != 1 || !strings.HasSuffix(rep.Told[0].Text, "The fair is on Sunday.") {
		t.Fatalf("told %+v; want only the fair", rep.Told)
	}
	// The secret stays kept with the reply guardrails off too.
	r2 := streamRoster(t, openStore(t), MemoryOptions{}, gossipDefs()...)
	r2h := agent(t, r2, "hobb")
	r2h.guard = newAgentGuard(r2h.def, Guardrails{Off: true}, nil)
	if err := r2h.Observe(Observation{Text: secret, GameTime: gossipT0, Importance: 10}); err != nil {
		t.Fatal(err)
	}
	if rep := meet(t, r2h, agent(t, r2, "agathe"), 1); len(rep.Told) != 0 {
		t.Fatalf("guardrails off: told %+v", rep.Told)
	}
}

// TestGossipNoDuplicates: meeting again tells nothing new; the witness is
// not told its own news back; two witnesses of one named event tell each
// other nothing, and a listener who hears of it from both keeps one memory.
func TestGossipNoDuplicates(t *testing.T) {
	r := streamRoster(t, openStore(t), MemoryOptions{}, gossipDefs()...)
	hobb, wendel, orla, agathe := agent(t, r, "hobb"), agent(t, r, "wendel"), agent(t, r, "orla"), agent(t, r, "agathe")
	if err := hobb.Observe(wolvesObservation()); err != nil {
		t.Fatal(err)
	}
	meet(t, hobb, wendel, 1)
	for i := 0; i < 3; i++ {
		if rep := meet(t, wendel, hobb, 2+i); len(rep.Told) != 0 {
			t.Fatalf("meeting again told %+v", rep.Told)
		}
	}
	if n := len(heardOf(t, wendel, wolves)); n != 1 {
		t.Fatalf("wendel holds %d memories of it", n)
	}
	if n := len(heardOf(t, hobb, wolves)); n != 1 {
		t.Fatalf("hobb holds %d memories of it", n)
	}
	// Orla hears it from Wendel, then from Hobb: one memory.
	meet(t, wendel, orla, 6)
	meet(t, hobb, orla, 7)
	if n := len(heardOf(t, orla, wolves)); n != 1 {
		t.Fatalf("orla holds %d memories of it", n)
	}
	// A named event two NPCs witnessed.
	ev := Observation{Text: "The mill burned down.", GameTime: gossipT0, Importance: 8, Event: "mill-fire"}
	for _, a := range []*Agent{agathe, orla} {
		if err := a.Observe(ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, ru := range meet(t, agathe, orla, 8).Told {
		if ru.Origin == "mill-fire" {
			t.Fatalf("two witnesses told each other %+v", ru)
		}
	}
	meet(t, agathe, wendel, 9)
	meet(t, orla, wendel, 10)
	if n := len(heardOf(t, wendel, "The mill burned down.")); n != 1 {
		t.Fatalf("wendel holds %d memories of the fire", n)
	}
}

// TestGossipTrustWeighsBelief: a listener who trusts the teller holds the
// rumour higher than a stranger would, and one who distrusts it lower.
func TestGossipTrustWeighsBelief(t *testing.T) {
	r := streamRoster(t, openStore(t), MemoryOptions{}, gossipDefs()...)
	hobb, wendel, orla := agent(t, r, "hobb"), agent(t, r, "wendel"), agent(t, r, "orla")
	if err := hobb.Observe(wolvesObservation()); err != nil {
		t.Fatal(err)
	}
	if _, err := wendel.Witness(Deed{Kind: DeedHelp, Actor: "hobb", Magnitude: 3, GameTime: gossipT0}); err != nil {
		t.Fatal(err)
	}
	if _, err := orla.Witness(Deed{Kind: DeedTheft, Actor: "hobb", GameTime: gossipT0}); err != nil {
		t.Fatal(err)
	}
	meet(t, hobb, wendel, 1)
	meet(t, hobb, orla, 1)
	w, o := heardOf(t, wendel, wolves), heardOf(t, orla, wolves)
	if len(w) != 1 || len(o) != 1 {
		t.Fatalf("wendel %+v, orla %+v", w, o)
	}
	if !(w[0].Importance > 6.3 && w[0].Importance <= 9 && o[0].Importance < 6.3) {
		t.Fatalf("trusting %v, distrustful %v; want above and below a stranger's 6.3", w[0].Importance, o[0].Importance)
	}
}

// TestGossipTenantsAndPersistence: gossip in one tenant never reaches
// another, agents of two tenants cannot meet, and what was heard survives
// a restart, origins included (no duplicate after it).
func TestGossipTenantsAndPersistence(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(store.DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	r := streamRoster(t, st, MemoryOptions{}, gossipDefs()...)
	b := r.Tenant("b")
	if err := agent(t, r, "hobb").Observe(wolvesObservation()); err != nil {
		t.Fatal(err)
	}
	meet(t, agent(t, r, "hobb"), agent(t, r, "wendel"), 1)
	if rep := meet(t, agent(t, b, "hobb"), agent(t, b, "wendel"), 1); len(rep.Told) != 0 {
		t.Fatalf("tenant b told %+v", rep.Told)
	}
	if _, err := Meet(agent(t, r, "hobb"), agent(t, b, "wendel"), gossipT0, GossipOptions{}); !errors.Is(err, ErrGossipTenants) {
		t.Fatalf("meeting across tenants: %v", err)
	}
	if _, err := Meet(agent(t, r, "hobb"), agent(t, r, "hobb"), gossipT0, GossipOptions{}); err == nil {
		t.Fatal("an NPC met itself")
	}
	if n := len(heardOf(t, agent(t, b, "wendel"), wolves)); n != 0 {
		t.Fatalf("tenant b's wendel knows of the wolves")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = store.Open(store.DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r = streamRoster(t, st, MemoryOptions{}, gossipDefs()...)
	got := heardOf(t, agent(t, r, "wendel"), wolves)
	if len(got) != 1 || got[0].Teller != "hobb" || got[0].Hops != 1 || got[0].Origin == "" {
		t.Fatalf("after reopening, wendel holds %+v", got)
	}
	if rep := meet(t, agent(t, r, "hobb"), agent(t, r, "wendel"), 2); len(rep.Told) != 0 {
		t.Fatalf("after reopening, meeting again told %+v", rep.Told)
	}
	if n := len(heardOf(t, agent(t, r.Tenant("b"), "wendel"), wolves)); n != 0 {
		t.Fatalf("after reopening, tenant b's wendel knows of the wolves")
	}
}

// TestMemoryRecordWithoutScopeIsCommonKnowledge: a record written before
// the scope fields existed decodes as common knowledge, which every
// knowledge filter allows.
func TestMemoryRecordWithoutScopeIsCommonKnowledge(t *testing.T) {
	old := struct {
		NPCID      string  `msgpack:"n"`
		PlayerID   string  `msgpack:"p"`
		Kind       string  `msgpack:"k"`
		Text       string  `msgpack:"t"`
		Importance float64 `msgpack:"i"`
		GameTime   int64   `msgpack:"g"`
		WallTime   int64   `msgpack:"w"`
	}{"hobb", "", KindObservation, "Wolves howled.", 7, 1, 2}
	b, err := msgpack.Marshal(&old)
	if err != nil {
		t.Fatal(err)
	}
	var r store.MemoryRecord
	if err := msgpack.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.Region != "" || r.Tags != nil || r.Secrecy != 0 || r.Origin != "" || r.Hops != 0 || r.Text != old.Text {
		t.Fatalf("decoded %+v", r)
	}
	f := lore.Filter{Regions: []string{"kettleford"}, Tags: []string{"smithing"}}
	if !f.Allows(&lore.Chunk{Region: r.Region, Tags: r.Tags, Secrecy: r.Secrecy}) {
		t.Fatal("a filter refuses common knowledge")
	}
	// And a new record does not grow for the empty fields.
	nb, err := msgpack.Marshal(&store.MemoryRecord{NPCID: "hobb", Kind: KindObservation, Text: "Wolves howled.", Importance: 7, GameTime: 1, WallTime: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(nb) > len(b)+8 { // pn and s were omitempty before too; the old struct lacks only them
		t.Fatalf("new record %d bytes, old %d", len(nb), len(b))
	}
}

// TestGossipConcurrentMeetingsStoreOnce: meetings sharing NPCs, run at
// once, never store one event twice in an NPC.
func TestGossipConcurrentMeetingsStoreOnce(t *testing.T) {
	r := streamRoster(t, openStore(t), MemoryOptions{}, gossipDefs()...)
	ids := []string{"hobb", "wendel", "orla", "odile", "agathe"}
	for _, id := range []string{"hobb", "agathe"} {
		if err := agent(t, r, id).Observe(Observation{Text: "The bridge fell at " + id + "'s end.", GameTime: gossipT0, Importance: 9}); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 64)
	var wg sync.WaitGroup
	for round := 0; round < 4; round++ {
		for i := range ids {
			for j := i + 1; j < len(ids); j++ {
				wg.Add(1)
				go func(a, b *Agent) {
					defer wg.Done()
					if _, err := Meet(a, b, gossipT0.Add(time.Hour), GossipOptions{}); err != nil {
						errs <- err
					}
				}(agent(t, r, ids[i]), agent(t, r, ids[j]))
			}
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, id := range ids {
		for _, end := range []string{"hobb", "agathe"} {
			if n := len(heardOf(t, agent(t, r, id), "The bridge fell at "+end+"'s end.")); n != 1 {
				t.Errorf("%s holds %d memories of the bridge at %s's end", id, n, end)
			}
		}
	}
}

// TestGossipNotRetoldAfterCompaction: a rumour an NPC heard and then
// summarised away (compaction) is still known: meeting the teller again
// does not tell it twice.
func TestGossipNotRetoldAfterCompaction(t *testing.T) {
	r := streamRoster(t, openStore(t), MemoryOptions{Cap: 8}, gossipDefs()...)
	hobb, wendel := agent(t, r, "hobb"), agent(t, r, "wendel")
	if err := hobb.Observe(wolvesObservation()); err != nil {
		t.Fatal(err)
	}
	meet(t, hobb, wendel, 1)
	if n := len(heardOf(t, wendel, wolves)); n != 1 {
		t.Fatalf("wendel holds %d memories of it", n)
	}
	// Weightier news crowds the rumour out of Wendel's stream: compaction
	// folds the least important memories into summaries.
	for i := 0; i < 12; i++ {
		if err := wendel.Observe(Observation{Text: fmt.Sprintf("A barge of copper number %d sank at the ford.", i),
			GameTime: gossipT0.Add(time.Duration(i) * time.Minute), Importance: 10}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := wendel.Maintain(context.Background(), gossipT0.Add(3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(heardOf(t, wendel, wolves)); n != 0 {
		t.Fatalf("the test needs the rumour folded away; wendel still holds %d memories of it", n)
	}
	for _, ru := range meet(t, hobb, wendel, 4).Told {
		if ru.Listener == "wendel" && strings.HasSuffix(ru.Text, wolves) {
			t.Fatalf("hobb told wendel again what wendel had summarised: %+v", ru)
		}
	}
}

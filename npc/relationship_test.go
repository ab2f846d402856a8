package npc_test

import (
	"bufio"
	"context"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/npc"
)

// readLabeled reads a label<TAB>line file of testdata.
func readLabeled(t *testing.T, path string) [][2]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][2]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ln := sc.Text()
		if ln == "" || strings.HasPrefix(ln, "#") {
			continue
		}
		label, line, ok := strings.Cut(ln, "\t")
		if !ok {
			t.Fatalf("%s: no tab in %q", path, ln)
		}
		out = append(out, [2]string{label, line})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestClassifyLineLabeledSet measures ClassifyLine on the labeled lines of
// testdata and logs the accuracy (go test -v -run TestClassifyLineLabeledSet).
// The main set is the one the lexicon was written against: it must stay
// at 0.95 or better. The held-out set was never used for tuning; its
// floor is loose (0.6), it is there to be reported.
func TestClassifyLineLabeledSet(t *testing.T) {
	for _, c := range []struct {
		path  string
		floor float64
	}{
		{"testdata/said_lines.tsv", 0.95},
		{"testdata/said_lines_heldout.tsv", 0.6},
	} {
		set := readLabeled(t, c.path)
		if c.floor > 0.9 && len(set) < 40 {
			t.Fatalf("%s: %d lines, want at least 40", c.path, len(set))
		}
		right := 0
		confusion := map[string]int{}
		for _, l := range set {
			got := npc.ClassifyLine(l[1])
			if string(got) == l[0] {
				right++
				continue
			}
			confusion[l[0]+"→"+string(got)]++
			t.Logf("%s: %q: got %s, want %s", c.path, l[1], got, l[0])
		}
		acc := float64(right) / float64(len(set))
		t.Logf("%s: accuracy %d/%d = %.2f; confusions %v", c.path, right, len(set), acc, confusion)
		if acc < c.floor {
			t.Errorf("%s: accuracy %.2f below %.2f", c.path, acc, c.floor)
		}
	}
}

func TestClassifyLineIsDeterministicAndFoldsText(t *testing.T) {
	for text, want := range map[string]npc.Said{
		"":                                  npc.SaidNeutral,
		"I'LL KILL YOU":                     npc.SaidThreat,
		"1'll k1ll y0u":                     npc.SaidThreat, // leetspeak is undone by guard.Normalize
		"I don't care, you're a fool":       npc.SaidInsult, // negation stops at the comma
		"What kind of sword is this?":       npc.SaidNeutral,
		"Can you tell me about the mill?":   npc.SaidNeutral, // asks for information
		"Thanks for the help yesterday!":    npc.SaidPraise,
		"Help! Wolves!":                     npc.SaidHelp,
		"thank you, but you are a coward!!": npc.SaidInsult, // tie: insult outranks praise
	} {
		for range 3 {
			if got := npc.ClassifyLine(text); got != want {
				t.Errorf("ClassifyLine(%q) = %s, want %s", text, got, want)
			}
		}
	}
}

// gameStart is before 1970, so game times are negative Unix ns (valid from
// 1678): nothing may take 0 for "unset".
var gameStart = time.Date(1850, 5, 1, 8, 0, 0, 0, time.UTC)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestDeedsMoveFeelings: a gift raises affinity, a threat lowers affinity,
// trust and mood, by the documented amounts; gains diminish near 1; the
// deed is remembered as an observation about the actor.
func TestDeedsMoveFeelings(t *testing.T) {
	f := newFixture(t, "")
	a, _ := f.roster.Get("marta-vell") // baseline mood 0
	r, err := a.Witness(npc.Deed{Kind: npc.DeedGift, Actor: "p1", ActorName: "Aria", GameTime: gameStart})
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.Affinity, 0.15) || !near(r.Trust, 0.05) || r.Interactions != 1 || r.Last != "gift" || !r.GameTime.Equal(gameStart) {
		t.Fatalf("after a gift: %+v", r)
	}
	// A second gift from 0.15 moves affinity by 0.15·(1-0.15).
	r, _ = a.Witness(npc.Deed{Kind: npc.DeedGift, Actor: "p1", GameTime: gameStart})
	if !near(r.Affinity, 0.15+0.15*0.85) {
		t.Fatalf("second gift: affinity %v", r.Affinity)
	}
	prev, gain := r.Affinity, 1.0
	for i := range 30 {
		r, _ = a.Witness(npc.Deed{Kind: npc.DeedGift, Actor: "p1", Magnitude: 2, GameTime: gameStart})
		g := r.Affinity - prev
		if g <= 0 || g >= gain || r.Affinity > 1 {
			t.Fatalf("gift %d: affinity %v → %v: want a smaller positive gain, at most 1", i, prev, r.Affinity)
		}
		prev, gain = r.Affinity, g
	}
	mems := a.Recall("p1", "gift", gameStart, 3)
	if len(mems) == 0 || !strings.Contains(mems[len(mems)-1].Text, "gave me a gift") {
		t.Fatalf("the gift is not remembered: %+v", mems)
	}

	glad, _ := a.Mood(gameStart)
	r, err = a.Witness(npc.Deed{Kind: npc.DeedThreat, Actor: "p2", ActorName: "Bo", GameTime: gameStart, Text: "Bo drew a knife on me."})
	if err != nil {
		t.Fatal(err)
	}
	if !near(r.Affinity, -0.15) || !near(r.Trust, -0.25) {
		t.Fatalf("after a threat: %+v", r)
	}
	m, err := a.Mood(gameStart)
	// Mood is the NPC's, not the pair's: the gifts made her glad, the
	// threat took 0.25·(1-0) off it (no diminishing returns downward).
	if err != nil || m.Baseline != 0 || glad.Valence < 0.9 || !near(m.Valence, glad.Valence-0.25) {
		t.Fatalf("mood %+v after gifts, %+v after a threat, %v", glad, m, err)
	}
	if mems := a.Recall("p2", "knife", gameStart, 1); len(mems) != 1 || mems[0].Text != "Bo drew a knife on me." {
		t.Fatalf("the threat is not remembered in the host's words: %+v", mems)
	}
	// Mood decays half way to the baseline every MoodHalfLife game hours.
	later, _ := a.Mood(gameStart.Add(time.Duration(npc.MoodHalfLife * float64(time.Hour))))
	if !near(later.Valence, m.Valence/2) {
		t.Fatalf("mood after a half-life: %v, want %v", later.Valence, m.Valence/2)
	}
	// The stranger p3 is neutral, and p1's feelings are p1's alone.
	if r, err := a.Relationship("p3"); err != nil || r.Affinity != 0 || r.Trust != 0 || r.Interactions != 0 {
		t.Fatalf("stranger: %+v, %v", r, err)
	}

	for _, bad := range []npc.Deed{
		{Kind: "hug", Actor: "p1"},
		{Kind: npc.DeedGift},
		{Kind: npc.DeedGift, Actor: "marta-vell"},
		{Kind: npc.DeedGift, Actor: "p1", Magnitude: -1},
		{Kind: npc.DeedGift, Actor: "p1", Magnitude: math.NaN()},
		{Kind: npc.DeedGift, Actor: "p1", Magnitude: npc.MaxDeedMagnitude + 1},
	} {
		if _, err := a.Witness(bad); err == nil {
			t.Errorf("Witness(%+v) succeeded", bad)
		}
	}
}

// TestSpokenLinesMoveFeelingsAndShowInPrompt: a threatened NPC's prompt
// says how it feels, the reply carries the state after the line, and
// Remember writes it; cache keys differ with the feelings.
func TestSpokenLinesMoveFeelingsAndShowInPrompt(t *testing.T) {
	f := newFixture(t, "")
	a, _ := f.roster.Get("marta-vell")
	ctx := context.Background()
	calm := npc.Turn{PlayerID: "p1", PlayerName: "Aria", Text: "How much for the iron sword?", Seed: 1, GameTime: gameStart}
	req, _, err := a.Prepare(ctx, calm)
	if err != nil {
		t.Fatal(err)
	}
	if req.Relationship != nil || strings.Contains(req.Prompt, "How you feel") || strings.Contains(req.Prompt, "Your mood") {
		t.Fatalf("a stranger's neutral line shows feelings: %+v\n%s", req.Relationship, req.Prompt)
	}
	calmKey := inference.ExactKey(req)

	if _, err := a.Witness(npc.Deed{Kind: npc.DeedAttack, Actor: "p1", ActorName: "Aria", GameTime: gameStart}); err != nil {
		t.Fatal(err)
	}
	req, _, err = a.Prepare(ctx, calm)
	if err != nil {
		t.Fatal(err)
	}
	// The line does not bear on their past, so the request is shared
	// between players who stand the same with her: no name.
	const want = "How you feel about this traveller: wary, distrustful (affinity -0.4, trust -0.5)."
	if !strings.Contains(req.Prompt, want) || !strings.Contains(req.Prompt, "Your mood: uneasy.") || req.CacheKey == "" {
		t.Fatalf("prompt lacks %q and the mood:\n%s", want, req.Prompt)
	}
	past, _, err := a.Prepare(ctx, npc.Turn{PlayerID: "p1", Text: "Do you remember me?", GameTime: gameStart})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(past.Prompt, "How you feel about Aria: wary, distrustful (affinity -0.4, trust -0.5).") {
		t.Fatalf("a question about the past does not name her:\n%s", past.Prompt)
	}
	if i := strings.Index(req.Prompt, "How you feel"); i < req.PrefixBytes {
		t.Fatalf("the feeling line (at %d) is inside the stable prefix (%d bytes)", i, req.PrefixBytes)
	}
	if inference.ExactKey(req) == calmKey {
		t.Fatal("the cache key ignores the feelings")
	}

	threat := npc.Turn{PlayerID: "p1", PlayerName: "Aria", Text: "Watch your back tonight, smith.", Seed: 2, GameTime: gameStart}
	before, _ := a.Relationship("p1")
	reply, err := a.Respond(ctx, threat, nil)
	if err != nil {
		t.Fatal(err)
	}
	after := reply.Relationship
	if after == nil || after.Trust >= before.Trust || after.Affinity >= before.Affinity || after.Last != "threat" {
		t.Fatalf("reply relationship %+v, before %+v: want lower trust and affinity", after, before)
	}
	if now, _ := a.Relationship("p1"); now != before {
		t.Fatalf("Respond wrote the relationship: %+v", now)
	}
	if err := a.Remember(threat, reply); err != nil {
		t.Fatal(err)
	}
	if now, _ := a.Relationship("p1"); now != *after {
		t.Fatalf("after Remember: %+v, want what the reply carried %+v", now, *after)
	}
	// The floor reads RAM only, and agrees.
	if fl := a.Floor(threat); fl.Relationship == nil || fl.Relationship.Trust >= after.Trust {
		t.Fatalf("floor relationship %+v", fl.Relationship)
	}

	// Praise and thanks mend it a little; Hear works between NPCs too.
	said, r, err := a.Hear("p1", "Thank you, that was very kind of you.", gameStart)
	if err != nil || said != npc.SaidPraise || r.Affinity <= after.Affinity {
		t.Fatalf("Hear(praise) = %s, %+v, %v", said, r, err)
	}
}

// TestRelationshipsPersistAndStayInTheirTenant: relationships and mood
// survive a reopen, and the same NPC and player ids in another tenant
// share nothing.
func TestRelationshipsPersistAndStayInTheirTenant(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, dir)
	a, _ := f.roster.Get("marta-vell")
	acme, _ := f.roster.Tenant("acme").Get("marta-vell")
	if _, err := a.Witness(npc.Deed{Kind: npc.DeedTheft, Actor: "p1", GameTime: gameStart}); err != nil {
		t.Fatal(err)
	}
	if _, err := acme.Witness(npc.Deed{Kind: npc.DeedHelp, Actor: "p1", GameTime: gameStart}); err != nil {
		t.Fatal(err)
	}
	want, _ := a.Relationship("p1")
	wantAcme, _ := acme.Relationship("p1")
	wantMood, _ := a.Mood(gameStart)
	if want.Trust >= 0 || wantAcme.Trust <= 0 {
		t.Fatalf("default %+v, acme %+v: a theft and help should disagree", want, wantAcme)
	}
	if err := f.st.Close(); err != nil {
		t.Fatal(err)
	}

	f = newFixture(t, dir)
	a, _ = f.roster.Get("marta-vell")
	acme, _ = f.roster.Tenant("acme").Get("marta-vell")
	globex, _ := f.roster.Tenant("globex").Get("marta-vell")
	if got, err := a.Relationship("p1"); err != nil || got != want {
		t.Fatalf("after reopen: %+v, %v; want %+v", got, err, want)
	}
	if got, _ := acme.Relationship("p1"); got != wantAcme {
		t.Fatalf("acme after reopen: %+v; want %+v", got, wantAcme)
	}
	if got, _ := globex.Relationship("p1"); got.Interactions != 0 || got.Affinity != 0 {
		t.Fatalf("an unused tenant sees %+v", got)
	}
	if got, _ := a.Mood(gameStart); !near(got.Valence, wantMood.Valence) {
		t.Fatalf("mood after reopen %+v, want %+v", got, wantMood)
	}
	if got, _ := globex.Mood(gameStart); got.Valence != got.Baseline {
		t.Fatalf("globex's mood moved: %+v", got)
	}
}

// TestNPCPairsAreDirected: an NPC's deed to another NPC moves only the
// victim's feelings about the actor.
func TestNPCPairsAreDirected(t *testing.T) {
	f := newFixture(t, "")
	marta, _ := f.roster.Get("marta-vell")
	hobb, _ := f.roster.Get("hobb-fairweather")
	r, err := marta.Witness(npc.Deed{Kind: npc.DeedInsult, Actor: "hobb-fairweather", ActorName: "Hobb", GameTime: gameStart})
	if err != nil || r.OtherID != "hobb-fairweather" || r.Affinity >= 0 {
		t.Fatalf("marta about hobb: %+v, %v", r, err)
	}
	if back, _ := hobb.Relationship("marta-vell"); back.Interactions != 0 {
		t.Fatalf("hobb's feelings moved by marta's: %+v", back)
	}
	if _, r, _ := hobb.Hear("marta-vell", "You useless oaf.", gameStart); r.Affinity >= 0 || r.NPCID != "hobb-fairweather" {
		t.Fatalf("hobb hearing an insult: %+v", r)
	}
	// Hobb is jovial and warm-hearted: his resting mood is cheerful.
	if m, _ := hobb.Mood(gameStart.Add(72 * time.Hour)); !near(m.Baseline, 0.2) || m.Word() != "cheerful" {
		t.Fatalf("hobb's mood three days later: %+v (%q)", m, m.Word())
	}
}

func TestFeelingWordsBands(t *testing.T) {
	for _, c := range []struct {
		a, t float64
		want string
	}{
		{0, 0, "indifferent, unsure of them"},
		{-0.4, -0.6, "wary, deeply distrustful"},
		{-0.61, -0.25, "hostile, distrustful"},
		{0.3, 0.2, "friendly, trusting"},
		{0.96, 0.64, "fond, trusts them completely"},
		{0.149, -0.149, "indifferent, unsure of them"},
	} {
		if got := npc.FeelingWords(c.a, c.t); got != c.want {
			t.Errorf("FeelingWords(%v, %v) = %q, want %q", c.a, c.t, got, c.want)
		}
	}
	if npc.MoodWord(0.1) != "" || npc.MoodWord(-0.7) != "shaken and angry" || npc.MoodWord(0.6) != "elated" {
		t.Error("MoodWord bands")
	}
}

// TestConcurrentFeelings: deeds, lines and reads on one pair from many
// goroutines lose no change (writes are serialised per NPC) and keep the
// scores in range. Run it with -race.
func TestConcurrentFeelings(t *testing.T) {
	f := newFixture(t, "")
	a, _ := f.roster.Get("marta-vell")
	ctx := context.Background()
	const workers, each = 8, 10
	done := make(chan error, workers)
	for w := range workers {
		go func() {
			var err error
			for i := range each {
				switch (w + i) % 3 {
				case 0:
					_, err = a.Witness(npc.Deed{Kind: npc.DeedGift, Actor: "p1", GameTime: gameStart})
				case 1:
					_, _, err = a.Hear("p1", "You useless oaf.", gameStart)
				default:
					_, err = a.Witness(npc.Deed{Kind: npc.DeedThreat, Actor: "p1", GameTime: gameStart})
				}
				if err != nil {
					break
				}
				if _, _, err = a.Prepare(ctx, npc.Turn{PlayerID: "p1", Text: "Well?", GameTime: gameStart}); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range workers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	r, err := a.Relationship("p1")
	if err != nil || r.Interactions != workers*each || math.Abs(r.Affinity) > 1 || math.Abs(r.Trust) > 1 {
		t.Fatalf("after %d changes: %+v, %v", workers*each, r, err)
	}
	stored, err := f.st.Relationship("marta-vell", "p1")
	if err != nil || stored.Count != r.Interactions || stored.Affinity != r.Affinity || stored.Trust != r.Trust {
		t.Fatalf("store %+v, %v; RAM %+v", stored, err, r)
	}
}

// BenchmarkClassifyLine: the classifier runs on a turn's path (Prepare,
// the floor, Remember), so it must stay in microseconds.
func BenchmarkClassifyLine(b *testing.B) {
	lines := []string{"Hand over the key or I'll burn your shop to the ground.", "What can you tell me about Kettleford?",
		"Thank you, that was very kind of you.", strings.Repeat("Tell me more about the mill and the river. ", 10)}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		npc.ClassifyLine(lines[i%len(lines)])
	}
}

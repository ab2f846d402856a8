package quest_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/internal/shareddata"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/quest"
	"github.com/hearth-ai/hearth/sim/world"
)

// genValeSpec is a small hand-made world: a village hub with a farm, a
// forest, a river and a cave system, and an island no path reaches.
func genValeSpec() quest.WorldSpec {
	return quest.WorldSpec{
		Name: "testvale", MinLevel: 1, MaxLevel: 10,
		Places: []quest.Place{
			{ID: "village", Name: "Ashvale", Aliases: []string{"the village"}, Neighbors: []string{"farm", "forest", "river"}},
			{ID: "farm", Name: "Brook Farm", Neighbors: []string{"village"}},
			{ID: "forest", Name: "The Tanglewood", Aliases: []string{"the woods"}, Neighbors: []string{"village", "cave"}},
			{ID: "river", Name: "The Silverrun", Neighbors: []string{"village", "marsh"}},
			{ID: "marsh", Name: "Cold Marsh", Neighbors: []string{"river"}},
			{ID: "cave", Name: "Deep Cave", Neighbors: []string{"forest", "deepcave"}},
			{ID: "deepcave", Name: "The Underhall", Neighbors: []string{"cave"}},
			{ID: "island", Name: "Lone Isle"},
		},
		Creatures: []quest.Creature{
			{ID: "rats", Name: "Giant Rats", Aliases: []string{"giant rat"}, Type: "beast", Challenge: 0.125, Habitats: []string{"farm", "cave"}},
			{ID: "wolf", Name: "Grey Wolf", Aliases: []string{"grey wolves"}, Type: "beast", Challenge: 0.25, Habitats: []string{"forest", "marsh"}},
			{ID: "ogre", Name: "Ogre", Type: "giant", Challenge: 2, Habitats: []string{"cave"}},
			{ID: "tusk", Name: "Old Tusk", Aliases: []string{"the old boar"}, Type: "beast", Challenge: 1, Habitats: []string{"forest"}},
			{ID: "dragon", Name: "Red Dragon", Type: "dragon", Challenge: 17, Habitats: []string{"deepcave"}},
		},
		Items: []quest.Item{
			{ID: "moonleaf", Name: "Moonleaf", Value: 2, Rarity: "common", Places: []string{"forest", "farm"}},
			{ID: "ore", Name: "Iron Ore", Value: 1, Rarity: "common", Places: []string{"cave"}},
			{ID: "potion", Name: "Healing Draught", Value: 50, Rarity: "common", Reward: true},
			{ID: "ring", Name: "Ring of Warding", Value: 4000, Rarity: "rare", Reward: true},
			{ID: "crown", Name: "Sunken Crown", Value: 50000, Rarity: "legendary", Reward: true},
			{ID: "charter", Name: "Village Charter", Value: 0, Rarity: "common"},
		},
		NPCs: []quest.NPC{
			{ID: "mara", Name: "Mara Quill", Aliases: []string{"Mara"}, Home: "village", Faction: "wardens", Alive: true},
			{ID: "tom", Name: "Tom Reed", Home: "farm", Alive: true, Motivations: []quest.Motivation{quest.Comfort, quest.Wealth}},
			{ID: "hilda", Name: "Hilda Marsh", Home: "marsh", Alive: true, Motivations: []quest.Motivation{quest.Protection, quest.Conquest}},
			{ID: "ned", Name: "Ned Ash", Home: "village", Alive: false},
			{ID: "isla", Name: "Isla Grey", Home: "island", Alive: true},
		},
		Others: map[string][]string{"wardens": {"The Valewardens", "the wardens"}},
	}
}

func genValeWorld(t testing.TB) *quest.World {
	t.Helper()
	w, err := quest.NewWorld(genValeSpec())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// demoWorld loads Kettleford from sim/world/quest.yaml, the way callers
// do; every test of the package uses it.
func demoWorld(t testing.TB) *quest.World {
	t.Helper()
	data, err := fs.ReadFile(world.FS(), "quest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w, err := quest.LoadWorld("kettleford", data)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// genSRDWorld builds the SRD world from the shared corpus; the test is
// skipped without it.
func genSRDWorld(t testing.TB) *quest.World {
	t.Helper()
	w, err := quest.SRDWorld(shareddata.SRDDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func genNew(t testing.TB, w *quest.World, opts quest.GeneratorOptions) *quest.Generator {
	t.Helper()
	if opts.Budget == 0 {
		// Tests compare quests: a 50 ms budget running out on a loaded CI
		// machine would legitimately change the answer. Tests of the budget
		// set their own.
		opts.Budget = time.Minute
	}
	g, err := quest.NewGenerator(w, opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// requests spreads n requests over w's levels, places and motivations (and
// "any"), with seeds 1..n.
func genRequests(w *quest.World, n int) []quest.Request {
	places := w.Places()
	levels := w.MaxLevel - w.MinLevel + 1
	out := make([]quest.Request, n)
	for i := range out {
		m := quest.Motivation("")
		if i%10 != 9 {
			m = quest.Motivations[i%10%len(quest.Motivations)]
		}
		out[i] = quest.Request{Level: w.MinLevel + (i*7)%levels, Location: places[(i*13)%len(places)], Motivation: m, Seed: uint64(i + 1)}
	}
	return out
}

func TestGenerateDeterministic(t *testing.T) {
	w := demoWorld(t)
	for _, req := range genRequests(w, 50) {
		a, err := genNew(t, w, quest.GeneratorOptions{CacheSize: -1}).Generate(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := genNew(t, w, quest.GeneratorOptions{CacheSize: -1}).Generate(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("same request %+v, two quests:\n%+v\n%+v", req, a, b)
		}
		if a.Seed != req.Seed || a.Tier != inference.TierTemplate || a.World != "kettleford" || !strings.HasPrefix(a.ID, "kettleford-q") {
			t.Errorf("seed %d tier %q world %q id %q", a.Seed, a.Tier, a.World, a.ID)
		}
	}
	// Seeds matter.
	g := genNew(t, w, quest.GeneratorOptions{CacheSize: -1})
	seen := map[string]bool{}
	for seed := uint64(1); seed <= 20; seed++ {
		q, err := g.Generate(context.Background(), quest.Request{Level: 3, Location: "kettleford", Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		seen[q.Description] = true
	}
	if len(seen) < 15 {
		t.Errorf("20 seeds gave %d distinct descriptions", len(seen))
	}
}

func TestEveryMotivationOnDemoWorld(t *testing.T) {
	w := demoWorld(t)
	g := genNew(t, w, quest.GeneratorOptions{})
	structures := map[string]bool{}
	for _, m := range quest.Motivations {
		made := 0
		for i, loc := range w.Places() {
			req := quest.Request{Level: 1 + i%10, Location: loc, Motivation: m, Seed: uint64(i)}
			q, info, err := g.GenerateInfo(context.Background(), req)
			if err != nil {
				t.Fatalf("%s at %s: %v", m, loc, err)
			}
			if info.Fallback {
				continue
			}
			if q.Motivation != m {
				t.Fatalf("asked for %s, got %s", m, q.Motivation)
			}
			made++
			structures[fmt.Sprint(m, genActions(q))] = true
		}
		if made == 0 {
			t.Errorf("no %s quest anywhere in the demo world", m)
		}
	}
	t.Logf("%d of %d structures seen", len(structures), len(quest.Grammar()))
}

func genActions(q quest.Quest) []quest.Action {
	out := make([]quest.Action, len(q.Objectives))
	for i, o := range q.Objectives {
		out[i] = o.Action
	}
	return out
}

// TestNeverInvalid is a property test: whatever the request, a quest that
// comes back passes Validate and names no unknown proper noun.
func TestNeverInvalid(t *testing.T) {
	worlds := map[string]func(testing.TB) *quest.World{"vale": genValeWorld, "demo": demoWorld, "srd": genSRDWorld}
	for name, load := range worlds {
		t.Run(name, func(t *testing.T) {
			w := load(t)
			g := genNew(t, w, quest.GeneratorOptions{CacheSize: -1})
			n := 1500
			if testing.Short() {
				n = 300
			}
			errs := 0
			for _, req := range genRequests(w, n) {
				if req.Seed%7 == 0 {
					req.RecentActions = []string{"kill:sallow-wolves", "arrive:gloamwood"}
				}
				if req.Seed%11 == 0 {
					req.After = "some-earlier-quest"
				}
				q, err := g.Generate(context.Background(), req)
				if err != nil {
					if !errors.Is(err, quest.ErrNoSuitableQuest) {
						t.Fatalf("%+v: %v", req, err)
					}
					errs++
					continue
				}
				if ps := quest.Validate(w, q, req.Level); len(ps) > 0 {
					t.Fatalf("%+v: invalid quest %+v: %v", req, q, ps)
				}
				for _, text := range []string{q.Title, q.Description, q.Dialogue} {
					if u := quest.UnknownProperNouns(w, text); len(u) > 0 {
						t.Fatalf("unknown %v in %q", u, text)
					}
				}
				if req.After != "" && !slices.Equal(q.Prerequisites, []string{req.After}) {
					t.Fatalf("After %q: prerequisites %v", req.After, q.Prerequisites)
				}
			}
			if name != "vale" && errs > 0 {
				t.Errorf("%d requests got ErrNoSuitableQuest", errs)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	w := genValeWorld(t)
	g := genNew(t, w, quest.GeneratorOptions{})
	ctx := context.Background()
	cases := []struct {
		name string
		req  quest.Request
		want error
		hint string
	}{
		{"unknown location", quest.Request{Level: 3, Location: "forrest"}, quest.ErrUnknownLocation, "forest"},
		{"empty location", quest.Request{Level: 3}, quest.ErrUnknownLocation, "required"},
		{"level too low", quest.Request{Level: 0, Location: "village"}, quest.ErrLevelOutOfRange, "1 to 10"},
		{"level too high", quest.Request{Level: 11, Location: "village"}, quest.ErrLevelOutOfRange, "1 to 10"},
		{"unknown giver", quest.Request{Level: 3, Location: "village", Giver: "marra"}, quest.ErrUnknownGiver, "mara"},
		{"dead giver", quest.Request{Level: 3, Location: "village", Giver: "ned"}, quest.ErrUnknownGiver, "dead"},
		{"unknown motivation", quest.Request{Level: 3, Location: "village", Motivation: "glory"}, quest.ErrUnknownMotivation, "knowledge"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := g.Generate(ctx, c.req)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			var re *quest.RequestError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), c.hint) {
				t.Errorf("error %q: want a *RequestError mentioning %q", err, c.hint)
			}
		})
	}
	// A cancelled context is reported, not papered over.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.Generate(cctx, quest.Request{Level: 3, Location: "village"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestNoSuitableCreatures(t *testing.T) {
	spec := genValeSpec()
	spec.Creatures = nil
	w, err := quest.NewWorld(spec)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, m := range []quest.Motivation{quest.Conquest, quest.Protection} {
		// Conquest needs a fight, so it falls back; protection can escort.
		q, info, err := genNew(t, w, quest.GeneratorOptions{}).GenerateInfo(ctx, quest.Request{Level: 2, Location: "marsh", Motivation: m, Seed: 4})
		if err != nil {
			t.Fatal(err)
		}
		if ps := quest.Validate(w, q, 2); len(ps) > 0 {
			t.Fatalf("%s: invalid %v", m, ps)
		}
		if m == quest.Conquest && (!info.Fallback || q.Motivation != quest.Knowledge || info.FallbackReason == "") {
			t.Errorf("conquest without creatures: want the knowledge fallback, got %s %v (%+v)", q.Motivation, genActions(q), info)
		}
		if m == quest.Protection && (info.Fallback || q.Motivation != quest.Protection) {
			t.Errorf("protection without creatures: want an escort or a treatment, got %s %v", q.Motivation, genActions(q))
		}
	}
	_, err = genNew(t, w, quest.GeneratorOptions{NoFallback: true}).Generate(ctx, quest.Request{Level: 2, Location: "marsh", Motivation: quest.Conquest})
	if !errors.Is(err, quest.ErrNoSuitableQuest) {
		t.Errorf("NoFallback: %v, want ErrNoSuitableQuest", err)
	}
	// Creatures all too strong for level 1: the same.
	spec = genValeSpec()
	for i := range spec.Creatures {
		spec.Creatures[i].Challenge = 12
	}
	w, _ = quest.NewWorld(spec)
	q, info, err := genNew(t, w, quest.GeneratorOptions{}).GenerateInfo(ctx, quest.Request{Level: 1, Location: "cave", Motivation: quest.Conquest})
	if err != nil || !info.Fallback || len(quest.Validate(w, q, 1)) > 0 {
		t.Errorf("creatures too strong: %v %+v %+v", err, info, q)
	}
	// Nobody alive who can reach the player: no quest at all.
	_, err = genNew(t, genValeWorld(t), quest.GeneratorOptions{}).Generate(ctx, quest.Request{Level: 1, Location: "island", Giver: "mara"})
	if !errors.Is(err, quest.ErrNoSuitableQuest) {
		t.Errorf("unreachable giver: %v, want ErrNoSuitableQuest", err)
	}
	// The hermit on the island can only send the player around the island.
	q, info, err = genNew(t, genValeWorld(t), quest.GeneratorOptions{}).GenerateInfo(ctx, quest.Request{Level: 1, Location: "island", Motivation: quest.Protection})
	if err != nil || !info.Fallback || q.Giver != "isla" || len(quest.Validate(genValeWorld(t), q, 1)) > 0 {
		t.Errorf("island: %v %+v %+v", err, info, q)
	}
}

func TestCache(t *testing.T) {
	w := genValeWorld(t)
	g := genNew(t, w, quest.GeneratorOptions{CacheSize: 2})
	ctx := context.Background()
	req := quest.Request{Level: 4, Location: "village", Seed: 9}
	a, info, err := g.GenerateInfo(ctx, req)
	if err != nil || info.CacheHit {
		t.Fatal(err, info)
	}
	a.Objectives[0].Targets = append(a.Objectives[0].Targets, "scribble") // must not reach the cache
	b, info, err := g.GenerateInfo(ctx, req)
	if err != nil || !info.CacheHit {
		t.Fatalf("second call: %v %+v", err, info)
	}
	c, _ := genNew(t, w, quest.GeneratorOptions{CacheSize: -1}).Generate(ctx, req)
	if !reflect.DeepEqual(b, c) {
		t.Errorf("cache hit differs from a fresh quest:\n%+v\n%+v", b, c)
	}
	// Bounded: a third key evicts the least recently used.
	for seed := uint64(10); seed < 13; seed++ {
		if _, err := g.Generate(ctx, quest.Request{Level: 4, Location: "village", Seed: seed}); err != nil {
			t.Fatal(err)
		}
	}
	if n := g.CacheLen(); n != 2 {
		t.Errorf("cache holds %d, want 2", n)
	}
	if _, info, _ := g.GenerateInfo(ctx, req); info.CacheHit {
		t.Error("evicted request still hit")
	}
}

func TestRepairFixesWrongTarget(t *testing.T) {
	w := genValeWorld(t)
	g := genNew(t, w, quest.GeneratorOptions{})
	ctx := context.Background()
	q := genValidQuest(t, w)
	req := quest.Request{Level: 5, Location: "village", Seed: 1}

	broken := q
	broken.Objectives = slices.Clone(q.Objectives)
	broken.Objectives[1] = quest.Objective{Action: quest.Kill, Targets: []string{"potion"}, Count: 1, Location: "cave"}
	if len(quest.Validate(w, broken, 5)) == 0 {
		t.Fatal("the broken quest validates")
	}
	fixed, err := g.Repair(ctx, broken, req)
	if err != nil {
		t.Fatal(err)
	}
	if ps := quest.Validate(w, fixed, 5); len(ps) > 0 {
		t.Fatalf("repaired quest still invalid: %v", ps)
	}
	if o := fixed.Objectives[1]; o.Action != quest.Kill || o.Targets[0] == "potion" || w.Kind(o.Targets[0]) != quest.KindCreature {
		t.Errorf("objective 1 after repair: %+v", o)
	}
	if fixed.Giver != q.Giver || fixed.Motivation != q.Motivation {
		t.Errorf("repair changed what was fine: giver %s motivation %s", fixed.Giver, fixed.Motivation)
	}

	// Text naming someone the world does not know is rewritten.
	broken = q
	broken.Description = "Lord Vexmoor wants the Ogre dead."
	fixed, err = g.Repair(ctx, broken, req)
	if err != nil || len(quest.Validate(w, fixed, 5)) > 0 || strings.Contains(fixed.Description, "Vexmoor") {
		t.Errorf("text repair: %v %q", err, fixed.Description)
	}

	// Everything wrong at once.
	broken = quest.Quest{World: "elsewhere", Giver: "ned", Motivation: "glory", Objectives: []quest.Objective{{Action: quest.Kill, Targets: []string{"dragon"}, Count: 40, Location: "island"}},
		Reward: quest.Reward{XP: -1, Items: []string{"charter"}}, Level: quest.LevelRange{Min: 9, Max: 3}}
	fixed, err = g.Repair(ctx, broken, req)
	if err != nil {
		t.Fatal(err)
	}
	if ps := quest.Validate(w, fixed, 5); len(ps) > 0 {
		t.Errorf("still invalid: %v", ps)
	}
	// A valid quest comes back as it was.
	same, err := g.Repair(ctx, q, req)
	if err != nil || !reflect.DeepEqual(same, q) {
		t.Errorf("valid quest changed by repair: %v\n%+v\n%+v", err, same, q)
	}
}

func TestBudget(t *testing.T) {
	w := demoWorld(t)
	g := genNew(t, w, quest.GeneratorOptions{CacheSize: -1})
	// A budget too small to plan gives the fallback: still a valid quest,
	// at once, and it is not cached.
	req := quest.Request{Level: 3, Location: "kettleford", Motivation: quest.Conquest, Budget: time.Nanosecond, Seed: 2}
	q, info, err := g.GenerateInfo(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Fallback || len(quest.Validate(w, q, 3)) > 0 {
		t.Errorf("tiny budget: %+v %+v", info, q)
	}
}

func TestChain(t *testing.T) {
	w := demoWorld(t)
	g := genNew(t, w, quest.GeneratorOptions{})
	first, err := g.Generate(context.Background(), quest.Request{Level: 2, Location: "kettleford", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	next, err := g.Generate(context.Background(), quest.Request{Level: 2, Location: "kettleford", Seed: 1, After: first.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(next.Prerequisites, []string{first.ID}) || next.ID == first.ID {
		t.Errorf("chain: %v (first %s, next %s)", next.Prerequisites, first.ID, next.ID)
	}
}

// genFakeFiller stands in for a model in tests of the Filler seam: it
// rewrites the text with fixed words.
type genFakeFiller struct {
	text  string // description and dialogue to write
	delay time.Duration
}

func (f genFakeFiller) Fill(ctx context.Context, draft quest.Quest, schema string) (quest.Quest, error) {
	if !strings.Contains(schema, `"objectives"`) {
		return draft, errors.New("no schema")
	}
	select {
	case <-time.After(f.delay):
	case <-ctx.Done():
		return draft, ctx.Err()
	}
	draft.Title = "A model's title"
	draft.Description, draft.Dialogue = f.text, f.text
	return draft, nil
}

func (genFakeFiller) Tier() inference.Tier { return inference.TierEmbedded }

func TestFillerSeam(t *testing.T) {
	w := genValeWorld(t)
	ctx := context.Background()
	req := quest.Request{Level: 3, Location: "village", Seed: 5, Budget: time.Second}
	cases := []struct {
		name   string
		filler genFakeFiller
		filled bool
	}{
		{"valid text is used", genFakeFiller{text: "Mara Quill needs help. Go and see to it."}, true},
		{"an invented name is rejected", genFakeFiller{text: "Lord Vexmoor needs help."}, false},
		{"a late answer is dropped", genFakeFiller{text: "Mara Quill needs help.", delay: 5 * time.Second}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.filler.delay > 0 {
				req.Budget = 50 * time.Millisecond
			}
			g := genNew(t, w, quest.GeneratorOptions{Filler: c.filler, FillerMinBudget: time.Millisecond, CacheSize: -1})
			q, info, err := g.GenerateInfo(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if ps := quest.Validate(w, q, req.Level); len(ps) > 0 {
				t.Fatalf("invalid: %v", ps)
			}
			if info.Filled != c.filled || (q.Tier == inference.TierEmbedded) != c.filled {
				t.Errorf("filled %v tier %s, want filled %v (%v)", info.Filled, q.Tier, c.filled, info.FillerError)
			}
			if !c.filled && info.FillerError == nil {
				t.Error("no FillerError for a rejected fill")
			}
		})
	}
}

func TestNewGeneratorOptions(t *testing.T) {
	w := genValeWorld(t)
	for _, o := range []quest.GeneratorOptions{{MaxHops: -1}, {Budget: -1}, {FillerMinBudget: -1}} {
		if _, err := quest.NewGenerator(w, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	if _, err := quest.NewGenerator(nil, quest.GeneratorOptions{}); err == nil {
		t.Error("nil world: no error")
	}
}

// TestLatency checks the floor promise of DESIGN §1 on both worlds: p99
// well under the 50 ms budget.
func TestLatency(t *testing.T) {
	for name, load := range map[string]func(testing.TB) *quest.World{"demo": demoWorld, "srd": genSRDWorld} {
		t.Run(name, func(t *testing.T) {
			w := load(t)
			g := genNew(t, w, quest.GeneratorOptions{CacheSize: -1})
			reqs := genRequests(w, 500)
			ds := make([]time.Duration, len(reqs))
			for i, req := range reqs {
				start := time.Now()
				if _, err := g.Generate(context.Background(), req); err != nil {
					t.Fatal(err)
				}
				ds[i] = time.Since(start)
			}
			slices.Sort(ds)
			p99 := ds[len(ds)*99/100]
			t.Logf("p50 %v p99 %v max %v", ds[len(ds)/2], p99, ds[len(ds)-1])
			if p99 > 10*time.Millisecond {
				t.Errorf("p99 %v: want well under the 50 ms budget", p99)
			}
		})
	}
}

func BenchmarkGenerate(b *testing.B) {
	for name, load := range map[string]func(testing.TB) *quest.World{"demo": demoWorld, "srd": genSRDWorld} {
		b.Run(name, func(b *testing.B) {
			w := load(b)
			g := genNew(b, w, quest.GeneratorOptions{CacheSize: -1})
			reqs := genRequests(w, 1000)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := g.Generate(ctx, reqs[i%len(reqs)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	w := demoWorld(b)
	g := genNew(b, w, quest.GeneratorOptions{CacheSize: -1})
	reqs := genRequests(w, 100)
	qs := make([]quest.Quest, len(reqs))
	for i, r := range reqs {
		qs[i], _ = g.Generate(context.Background(), r)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		quest.Validate(w, qs[i%len(qs)], reqs[i%len(reqs)].Level)
	}
}

func ExampleGenerator() {
	data, _ := fs.ReadFile(world.FS(), "quest.yaml")
	w, _ := quest.LoadWorld("kettleford", data)
	g, _ := quest.NewGenerator(w, quest.GeneratorOptions{})
	q, err := g.Generate(context.Background(), quest.Request{
		PlayerID: "p1", Level: 3, Location: "kettle-green", Motivation: quest.Protection, Seed: 7,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q.Motivation, len(quest.Validate(w, q, 3)) == 0)
	// Output: protection true
}

// TestConcurrentGenerate shares one Generator (and its cache) between
// goroutines; run with -race.
func TestConcurrentGenerate(t *testing.T) {
	w := demoWorld(t)
	g := genNew(t, w, quest.GeneratorOptions{CacheSize: 16})
	reqs := genRequests(w, 40)
	want := make([]quest.Quest, len(reqs))
	for i, r := range reqs {
		q, err := genNew(t, w, quest.GeneratorOptions{CacheSize: -1}).Generate(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = q
	}
	errs := make(chan error, 4)
	for k := range 4 {
		go func() {
			for j := range 3 * len(reqs) {
				i := (j + k*7) % len(reqs)
				q, err := g.Generate(context.Background(), reqs[i])
				if err == nil && !reflect.DeepEqual(q, want[i]) {
					err = fmt.Errorf("request %d: a different quest under concurrency", i)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestRecentActionsAvoided: a creature the player just hunted is not asked
// for again when another fits.
func TestRecentActionsAvoided(t *testing.T) {
	w := demoWorld(t)
	g := genNew(t, w, quest.GeneratorOptions{CacheSize: -1})
	count := func(recent []string) int {
		n := 0
		for seed := uint64(1); seed <= 40; seed++ {
			q, err := g.Generate(context.Background(), quest.Request{Level: 4, Location: "gloamwood", Motivation: quest.Conquest, Seed: seed, RecentActions: recent})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range q.Objectives {
				if o.Action == quest.Kill && o.Targets[0] == "sallow-wolves" {
					n++
				}
			}
		}
		return n
	}
	before, after := count(nil), count([]string{"kill:sallow-wolves"})
	if before == 0 || after != 0 {
		t.Errorf("sallow wolves asked for %d times, %d after hunting them", before, after)
	}
}

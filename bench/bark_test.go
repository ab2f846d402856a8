package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/bench"
	"github.com/hearth-ai/hearth/inference/template"
	"github.com/hearth-ai/hearth/npc"
)

// TestBarkScenarioSendsBarks checks that the bark kind is a real bark on
// every transport: after the first line per NPC and trigger the response
// cache answers (a bark is the same for every player), and no NPC
// remembers a player it only barked at.
func TestBarkScenarioSendsBarks(t *testing.T) {
	const rate, d = 200.0, time.Second
	cfg := bench.OpenConfig{Scenario: bench.ScenarioBark, Rate: rate, Duration: d, Seed: 7}
	check := func(rep bench.OpenReport) {
		t.Helper()
		ks := rep.ByKind[bench.KindBark]
		if ks == nil || ks.Replies == 0 || ks.Replies != ks.Requests || ks.Tiers["cache"] == 0 {
			t.Fatalf("%s: bark replies without cache hits:\n%s", rep.Transport, toJSON(rep))
		}
	}

	st := openStack(t)
	tr := bench.NewInProcess(st.Runtime, 16)
	rep, err := bench.RunOpen(context.Background(), tr, cfg)
	tr.Close()
	if err != nil {
		t.Fatal(err)
	}
	checkOpen(t, rep, rate, d)
	check(rep)
	st.Runtime.Settle()
	for _, def := range st.Roster.Definitions() {
		a, _ := st.Roster.Get(def.ID)
		req, _, err := a.Prepare(context.Background(), npc.Turn{PlayerID: "bench-0", Text: "Hello!"})
		if err != nil {
			t.Fatal(err)
		}
		if req.Returning {
			t.Fatalf("%s remembers bench-0 after barks only", def.ID)
		}
	}

	ws, err := bench.DialWebSocket(context.Background(), startServer(t), 8, "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	rep, err = bench.RunOpen(context.Background(), ws, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkOpen(t, rep, rate, d)
	check(rep)

	// The no-stack baseline renders the same bark prompt.
	direct := bench.NewDirect(template.New(), st.Roster, "kettleford", bench.QuestPlaces(), 50*time.Millisecond, 4)
	rep, err = bench.RunOpen(context.Background(), direct, bench.OpenConfig{Scenario: bench.ScenarioBark, Rate: 50, Duration: 200 * time.Millisecond, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if ks := rep.ByKind[bench.KindBark]; ks == nil || ks.Replies == 0 || rep.Errors != 0 {
		t.Fatalf("direct barks:\n%s", toJSON(rep))
	}
}

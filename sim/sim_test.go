package sim_test

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/server"
	"github.com/hearth-ai/hearth/sim"
	"github.com/hearth-ai/hearth/sim/world"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func runInProcess(t *testing.T, npcs int, cfg sim.Config) (sim.Result, string) {
	t.Helper()
	var log strings.Builder
	cfg.Log = &log
	res, err := sim.RunInProcess(context.Background(), npcs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res, log.String()
}

func TestSameSeedSameLog(t *testing.T) {
	cfg := sim.Config{Players: 8, Ticks: 150, Seed: 7}
	a, logA := runInProcess(t, 0, cfg)
	b, logB := runInProcess(t, 0, cfg)
	if a.Hash != b.Hash || logA != logB {
		la, lb := strings.Split(logA, "\n"), strings.Split(logB, "\n")
		for i := range min(len(la), len(lb)) {
			if la[i] != lb[i] {
				t.Fatalf("logs differ at line %d:\n%s\n%s", i+1, la[i], lb[i])
			}
		}
		t.Fatalf("hashes differ: %s vs %s (%d vs %d lines)", a.Hash, b.Hash, len(la), len(lb))
	}
	if a.Lines == 0 || a.Replies["template"] == 0 || a.QuestsOffered == 0 {
		t.Fatalf("run did too little: %+v", a)
	}
	for _, kind := range []string{"walk", "greet", "lore", "quest", "accept"} {
		if a.Actions[kind] == 0 {
			t.Errorf("no %s action in %v", kind, a.Actions)
		}
	}
	if !strings.Contains(logA, "What do you know about") && !strings.Contains(logA, "Tell me about") &&
		!strings.Contains(logA, "heard anything of") && !strings.Contains(logA, "what they say about") {
		t.Error("no lore question in the log")
	}
	c, _ := runInProcess(t, 0, sim.Config{Players: 8, Ticks: 150, Seed: 8})
	if c.Hash == a.Hash {
		t.Fatal("seeds 7 and 8 gave the same log")
	}
	t.Logf("seed 7: %d lines, hash %s, actions %v, replies %v", a.Lines, a.Hash, a.Actions, a.Replies)
}

func TestQuestsCompleted(t *testing.T) {
	const ticks = 300
	res, log := runInProcess(t, 0, sim.Config{Players: 10, Ticks: ticks, Seed: 3})
	if res.QuestsCompleted == 0 {
		t.Fatalf("no quest completed in %d ticks: offered %d, accepted %d\n%s", ticks, res.QuestsOffered,
			res.QuestsAccepted, tail(log, 60))
	}
	if !strings.Contains(log, " completed ") {
		t.Error("the log has no completed update")
	}
	t.Logf("offered %d, accepted %d, completed %d (first at tick %d)", res.QuestsOffered, res.QuestsAccepted,
		res.QuestsCompleted, res.FirstCompletion)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func TestScale(t *testing.T) {
	res, _ := runInProcess(t, 2000, sim.Config{Players: 100, Ticks: 50, Seed: 1})
	if res.NPCs != 2000 {
		t.Fatalf("NPCs = %d, want 2000", res.NPCs)
	}
	if res.Replies["template"] == 0 {
		t.Fatalf("no replies: %+v", res)
	}
	t.Logf("2000 NPCs, 100 players, 50 ticks: %.0f ticks/s, %d lines, heap %d MiB", res.TicksPerSecond(),
		res.Lines, res.HeapAlloc>>20)
}

func TestGeneratedNPCs(t *testing.T) {
	w, err := sim.DemoWorld()
	if err != nil {
		t.Fatal(err)
	}
	a, b := sim.GenerateNPCs(w, 50, 9), sim.GenerateNPCs(w, 50, 9)
	for i := range a {
		if err := a[i].Validate(); err != nil {
			t.Fatal(err)
		}
		if a[i].ID != b[i].ID || a[i].Name != b[i].Name || a[i].Home != b[i].Home {
			t.Fatalf("villager %d differs between runs", i)
		}
		if _, ok := w.Place(a[i].Home); !ok {
			t.Fatalf("villager %s lives at %q, not a place", a[i].ID, a[i].Home)
		}
	}
}

func TestMapSchedule(t *testing.T) {
	w, err := sim.DemoWorld()
	if err != nil {
		t.Fatal(err)
	}
	m, err := sim.NewMap(w, []sim.NPCInfo{{ID: "marta-vell", Name: "Marta Vell", Home: "tipped-kettle"}})
	if err != nil {
		t.Fatal(err)
	}
	for h := 0; h < 24; h++ {
		at, ok := m.NPCAt("marta-vell", h)
		if !ok {
			t.Fatal("marta-vell not scheduled")
		}
		if at != "tipped-kettle" && w.Distance("tipped-kettle", at) != 1 {
			t.Errorf("hour %d: at %s, not home or a neighbour", h, at)
		}
		if (h < 8 || h >= 21) && at != "tipped-kettle" {
			t.Errorf("hour %d: at %s, want home at night", h, at)
		}
	}
	for _, from := range m.Places() {
		for _, to := range m.Places() {
			if d := w.Distance(from, to); d > 0 {
				if next := m.NextHop(from, to); w.Distance(next, to) != d-1 {
					t.Fatalf("NextHop(%s, %s) = %s: not on a shortest path", from, to, next)
				}
			}
		}
	}
}

// launch starts a fresh server on the demo world, ticking, and returns its
// URL and a stop function.
func launch(t *testing.T) (string, func()) {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := middleware.OpenStack(context.Background(), middleware.StackConfig{World: world.FS(),
		Runtime: middleware.Options{Budget: time.Second}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(st.Runtime, server.Options{Quests: st.QuestLog, Logger: quiet})
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	h := srv.Start(ln)
	var once sync.Once
	stop := func() {
		once.Do(func() {
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			if err := h.Close(sctx); err != nil {
				t.Error(err)
			}
			st.Close()
		})
	}
	t.Cleanup(stop)
	return h.URL(), stop
}

func TestWebSocketDeterministic(t *testing.T) {
	w, err := sim.DemoWorld()
	if err != nil {
		t.Fatal(err)
	}
	run := func(concurrent bool) (sim.Result, string) {
		url, stop := launch(t)
		defer stop()
		ctx := context.Background()
		tr, err := sim.NewWebSocket(ctx, sim.WebSocketConfig{URL: url, Players: 4, Concurrent: concurrent})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		var log strings.Builder
		res, err := sim.Run(ctx, tr, w, sim.Config{Players: 4, Ticks: 60, Seed: 5, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		return res, log.String()
	}
	a, logA := run(false)
	b, logB := run(false)
	if a.Hash != b.Hash {
		la, lb := strings.Split(logA, "\n"), strings.Split(logB, "\n")
		for i := range min(len(la), len(lb)) {
			if la[i] != lb[i] {
				t.Fatalf("logs differ at line %d:\n%s\n%s", i+1, la[i], lb[i])
			}
		}
		t.Fatalf("hashes differ: %s vs %s", a.Hash, b.Hash)
	}
	if a.Lines == 0 || a.Answered == 0 {
		t.Fatalf("run did too little: %+v", a)
	}
	// Concurrent sending changes reply texts (tickets follow the network),
	// never what the players do.
	c, _ := run(true)
	if !maps.Equal(a.Actions, c.Actions) || a.QuestsCompleted != c.QuestsCompleted {
		t.Errorf("concurrent run: actions %v, %d completed; sequential: %v, %d", c.Actions, c.QuestsCompleted,
			a.Actions, a.QuestsCompleted)
	}
	t.Logf("websocket: %d lines, %d answered, actions %v, %.1f ticks/s", a.Lines, a.Answered, a.Actions, a.TicksPerSecond())
}

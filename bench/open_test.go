package bench_test

import (
	"bytes"
	"context"
	"image/png"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/bench"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/server"
	"github.com/hearth-ai/hearth/sim/world"
)

func TestArrivalsArePoisson(t *testing.T) {
	const rate, n = 2000.0, 200_000
	a, b := bench.NewArrivals(rate, 42), bench.NewArrivals(rate, 42)
	var sum, sumSq float64
	for i := 0; i < n; i++ {
		d := a.Next()
		if d != b.Next() {
			t.Fatalf("arrival %d differs between two schedules with the same seed", i)
		}
		if d < 0 {
			t.Fatalf("negative inter-arrival time %v", d)
		}
		s := d.Seconds()
		sum += s
		sumSq += s * s
	}
	mean := sum / n
	if want := 1 / rate; math.Abs(mean-want)/want > 0.01 {
		t.Fatalf("mean inter-arrival %.6f s, want %.6f s ± 1 %%", mean, want)
	}
	// Exponential: the standard deviation equals the mean.
	sd := math.Sqrt(sumSq/n - mean*mean)
	if math.Abs(sd-mean)/mean > 0.02 {
		t.Fatalf("inter-arrival standard deviation %.6f s, want ≈ the mean %.6f s", sd, mean)
	}
	if bench.NewArrivals(rate, 43).Next() == bench.NewArrivals(rate, 42).Next() {
		t.Fatal("different seeds gave the same first arrival")
	}
}

func openStack(t *testing.T) *middleware.Stack {
	t.Helper()
	st, err := middleware.OpenStack(context.Background(), middleware.StackConfig{World: world.FS()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// startServer serves a stack's runtime on loopback and returns its URL.
func startServer(t *testing.T) string {
	t.Helper()
	st := openStack(t)
	srv, err := server.New(st.Runtime, server.Options{Quests: st.QuestLog})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Start(ln)
	t.Cleanup(func() { h.Close(context.Background()) })
	return h.URL()
}

// checkOpen checks the counts of a short open-loop run.
func checkOpen(t *testing.T, rep bench.OpenReport, rate float64, d time.Duration) {
	t.Helper()
	want := rate * d.Seconds()
	if float64(rep.Requests) < want/2 || float64(rep.Requests) > want*2 {
		t.Fatalf("%s: %d requests for %g/s over %v:\n%s", rep.Scenario, rep.Requests, rate, d, toJSON(rep))
	}
	if rep.Replies+rep.Errors != rep.Requests || rep.Replies == 0 || rep.OnTime+rep.Late != rep.Replies {
		t.Fatalf("%s: inconsistent counts:\n%s", rep.Scenario, toJSON(rep))
	}
	// Nothing fails at a light load (quests included: a quest dequeued
	// after its deadline gets the planner's answer).
	if rep.Errors != 0 {
		t.Fatalf("%s: %d errors at a light load:\n%s", rep.Scenario, rep.Errors, toJSON(rep))
	}
	var tiers, kinds int64
	for _, n := range rep.Tiers {
		tiers += n
	}
	for _, ks := range rep.ByKind {
		kinds += ks.Requests
	}
	if tiers != rep.Replies || kinds != rep.Requests || rep.Ready.Max <= 0 || rep.RoundTrip.P50 < rep.Ready.P50 ||
		rep.BudgetMS != 50 || rep.OnTimeShare <= 0.9 {
		t.Fatalf("%s: inconsistent report:\n%s", rep.Scenario, toJSON(rep))
	}
}

func toJSON(r bench.OpenReport) string { return (&bench.Suite{Runs: []*bench.OpenReport{&r}}).JSON() }

func TestRunOpenWebSocketScenarios(t *testing.T) {
	url := startServer(t)
	tr, err := bench.DialWebSocket(context.Background(), url, 8, "")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	const rate, d = 200.0, time.Second
	for _, sc := range bench.Scenarios {
		rep, err := bench.RunOpen(context.Background(), tr, bench.OpenConfig{Scenario: sc, Rate: rate, Duration: d, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		checkOpen(t, rep, rate, d)
		if sc == bench.ScenarioMixed && len(rep.ByKind) != 3 {
			t.Fatalf("mixed run lacks a kind:\n%s", toJSON(rep))
		}
	}
}

func TestRunOpenInProcess(t *testing.T) {
	st := openStack(t)
	tr := bench.NewInProcess(st.Runtime, 16)
	defer tr.Close()
	const rate, d = 300.0, time.Second
	for _, sc := range bench.Scenarios {
		rep, err := bench.RunOpen(context.Background(), tr, bench.OpenConfig{Scenario: sc, Rate: rate, Duration: d, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		checkOpen(t, rep, rate, d)
		if rep.Transport != "inproc" || rep.Connections != 16 {
			t.Fatalf("report names the wrong transport:\n%s", toJSON(rep))
		}
	}
}

func TestRunOpenRejectsBadConfig(t *testing.T) {
	st := openStack(t)
	tr := bench.NewInProcess(st.Runtime, 1)
	defer tr.Close()
	for _, cfg := range []bench.OpenConfig{{Rate: 0, Duration: time.Second}, {Rate: 10},
		{Rate: 10, Duration: time.Second, Scenario: "gossip"}} {
		if _, err := bench.RunOpen(context.Background(), tr, cfg); err == nil {
			t.Fatalf("RunOpen(%+v) accepted a bad config", cfg)
		}
	}
}

func TestSuiteWriteDirWritesPNGs(t *testing.T) {
	mk := func(sc string, rate, p99 float64, tiers map[string]float64) *bench.OpenReport {
		return &bench.OpenReport{Scenario: sc, Transport: "inproc", OfferedRate: rate, SentRate: rate, AchievedRate: rate,
			Requests: 100, Replies: 100, OnTime: 100, OnTimeShare: 1, BudgetMS: 50, FloorShare: 0.05,
			Ready:     bench.Stats{P50: p99 / 4, P99: p99, Max: p99 * 2},
			RoundTrip: bench.Stats{P50: p99, P99: p99 * 2, Max: p99 * 3}, TierShare: tiers,
			ByKind: map[bench.Kind]*bench.KindStats{bench.KindDialogue: {Requests: 100, Replies: 100}}}
	}
	s := &bench.Suite{Command: "hearth bench -mode open", Machine: "test"}
	for _, rate := range []float64{500, 1000, 2000} {
		s.Runs = append(s.Runs, mk("dialogue", rate, rate/50, map[string]float64{"template": 1}),
			mk("mixed", rate, rate/40, map[string]float64{"template": 0.9, "cache": 0.1}))
	}
	dir := t.TempDir()
	paths, err := s.WriteDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"report.json", "report.md", "latency-dialogue.png", "latency-mixed.png", "tier-mix.png"}
	for _, name := range want {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("%s not written (wrote %v): %v", name, paths, err)
		}
		if strings.HasSuffix(name, ".png") {
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s: not a PNG: %v", name, err)
			}
			if b := img.Bounds(); b.Dx() < 100 || b.Dy() < 100 {
				t.Fatalf("%s: %v is too small", name, b)
			}
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	if !strings.Contains(string(md), "| mixed | inproc |") {
		t.Fatalf("report.md lacks the runs:\n%s", md)
	}
}

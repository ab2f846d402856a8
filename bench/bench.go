// Package bench measures Hearth the way a game sees it: many players
// talking to NPCs and asking for quests at once, with every reply's latency
// recorded in HDR histograms (DESIGN §10).
//
// Two load generators:
//
//   - Run is closed-loop per client: each WebSocket client sends its next
//     line as soon as the previous reply arrives, which is how one
//     conversation works (`hearth bench`, `make bench`).
//   - RunOpen is open-loop: requests arrive as a Poisson process at a set
//     rate (Arrivals), each on one of many connections, whether or not
//     earlier ones were answered, so a slow server cannot slow the load
//     down; round trips are measured from each request's scheduled send
//     time, which avoids coordinated omission. Scenarios (dialogue, quest,
//     bark, mixed) and transports (InProcess, WebSocket) combine freely;
//     a Suite of runs, e.g. a sweep over rates, is written as JSON,
//     Markdown and PNG plots (`hearth bench -mode open`).
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
)

// Config describes one benchmark run.
type Config struct {
	URL         string        // ws://host:port/v1/ws
	Clients     int           // concurrent connections, each one player
	Duration    time.Duration // how long clients keep talking
	Subprotocol string        // default protocol.SubprotocolMsgpack
	Seed        uint64        // picks each client's NPCs and lines
	Lines       []string      // what players say; default DefaultLines
}

// DefaultLines mixes greetings and lore questions about the demo world and
// common topics, so replies exercise recall, retrieval and the floor.
var DefaultLines = []string{
	"Hello there!",
	"Good morning.",
	"What can you tell me about this village?",
	"Who runs the inn?",
	"Is it safe to travel the road at night?",
	"What creatures live in the forest?",
	"Tell me about the old mill.",
	"What happened during the flood?",
	"Where can I buy a good sword?",
	"Have you heard any rumours lately?",
	"Who are the smugglers?",
	"What is the aboleth's armor class?",
	"Farewell, friend.",
}

// Stats summarises a latency distribution in milliseconds.
type Stats struct {
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P99  float64 `json:"p99_ms"`
	P999 float64 `json:"p999_ms"`
	Max  float64 `json:"max_ms"`
	Mean float64 `json:"mean_ms"`
}

// Report is the result of a run.
type Report struct {
	Clients     int            `json:"clients"`
	DurationS   float64        `json:"duration_s"`
	GOMAXPROCS  int            `json:"gomaxprocs"`
	Replies     int64          `json:"replies"`
	Errors      int64          `json:"errors"`
	ErrorCodes  map[string]int `json:"error_codes,omitempty"`
	RepliesPerS float64        `json:"replies_per_s"`
	OnTime      int64          `json:"on_time"`
	Late        int64          `json:"late"`
	OverBudget  int64          `json:"over_budget"` // ready latency above the reply's budget_ms
	Floor       int64          `json:"floor"`
	Tiers       map[string]int `json:"tiers"`
	// Ready is latency_ms as the server reports it: submission to ready.
	Ready Stats `json:"ready"`
	// RoundTrip is what the client saw, from sending talk to receiving
	// dialogue.done: Ready plus the wait for the delivering tick boundary
	// plus the network.
	RoundTrip Stats `json:"round_trip"`
}

// Run connects cfg.Clients clients and has them talk until cfg.Duration
// passes or ctx ends. It fails when no client can connect; individual
// talk errors are counted in the report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if cfg.Clients <= 0 {
		return Report{}, errors.New("bench: Clients must be positive")
	}
	if cfg.Duration <= 0 {
		return Report{}, errors.New("bench: Duration must be positive")
	}
	if cfg.Subprotocol == "" {
		cfg.Subprotocol = protocol.SubprotocolMsgpack
	}
	if len(cfg.Lines) == 0 {
		cfg.Lines = DefaultLines
	}
	// Connect everyone first, so the measured window has the full load.
	clients := make([]*client.Client, cfg.Clients)
	var dialWG sync.WaitGroup
	dialErrs := make([]error, cfg.Clients)
	sem := make(chan struct{}, 32)
	for i := range clients {
		dialWG.Add(1)
		sem <- struct{}{}
		go func() {
			defer dialWG.Done()
			defer func() { <-sem }()
			dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			clients[i], dialErrs[i] = client.Dial(dctx, cfg.URL, client.Options{
				Subprotocol: cfg.Subprotocol, PlayerID: fmt.Sprintf("bench-%d", i),
				PlayerName: fmt.Sprintf("Bencher %d", i), ClientName: "hearth-bench"})
		}()
	}
	dialWG.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	if err := errors.Join(dialErrs...); err != nil {
		return Report{}, fmt.Errorf("bench: connect: %w", err)
	}
	npcs := clients[0].Welcome().NPCs
	if len(npcs) == 0 {
		return Report{}, errors.New("bench: the server lists no NPCs")
	}

	var (
		mu        sync.Mutex
		ready     = hdrhistogram.New(1, 60_000_000, 3) // µs, 1 µs .. 60 s
		roundTrip = hdrhistogram.New(1, 60_000_000, 3)
		rep       = Report{Clients: cfg.Clients, GOMAXPROCS: runtime.GOMAXPROCS(0),
			Tiers: map[string]int{}, ErrorCodes: map[string]int{}}
	)
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(cfg.Seed, uint64(i)))
			for runCtx.Err() == nil {
				n := npcs[rng.IntN(len(npcs))]
				line := cfg.Lines[rng.IntN(len(cfg.Lines))]
				t0 := time.Now()
				// A talk already sent is waited for even when the window
				// closes, so no reply is cut off and miscounted.
				tctx, tcancel := context.WithTimeout(context.Background(), 10*time.Second)
				r, err := c.Talk(tctx, n.ID, line, 0, nil)
				tcancel()
				rtt := time.Since(t0)
				mu.Lock()
				if err != nil {
					rep.Errors++
					var pe *protocol.Error
					if errors.As(err, &pe) {
						rep.ErrorCodes[pe.Code]++
					} else {
						rep.ErrorCodes["transport"]++
					}
					mu.Unlock()
					if !errors.As(err, &pe) {
						return // the connection is gone
					}
					continue
				}
				rep.Replies++
				rep.Tiers[r.Tier]++
				if r.OnTime {
					rep.OnTime++
				} else {
					rep.Late++
				}
				if r.Floor {
					rep.Floor++
				}
				if r.LatencyMS > float64(r.BudgetMS) {
					rep.OverBudget++
				}
				ready.RecordValue(max(1, int64(r.LatencyMS*1000)))
				roundTrip.RecordValue(max(1, rtt.Microseconds()))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	rep.DurationS = time.Since(start).Seconds()
	rep.RepliesPerS = float64(rep.Replies) / rep.DurationS
	rep.Ready = stats(ready)
	rep.RoundTrip = stats(roundTrip)
	if len(rep.ErrorCodes) == 0 {
		rep.ErrorCodes = nil
	}
	return rep, nil
}

func stats(h *hdrhistogram.Histogram) Stats {
	ms := func(us int64) float64 { return float64(us) / 1000 }
	return Stats{P50: ms(h.ValueAtQuantile(50)), P90: ms(h.ValueAtQuantile(90)), P99: ms(h.ValueAtQuantile(99)),
		P999: ms(h.ValueAtQuantile(99.9)), Max: ms(h.Max()), Mean: h.Mean() / 1000}
}

// JSON returns the report as indented JSON.
func (r Report) JSON() string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

// Markdown returns the report as a Markdown table.
func (r Report) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d clients, %.1f s, GOMAXPROCS %d: %d replies (%.0f/s), %d errors, %d on time, %d late, %d over budget, %d floor\n\n",
		r.Clients, r.DurationS, r.GOMAXPROCS, r.Replies, r.RepliesPerS, r.Errors, r.OnTime, r.Late, r.OverBudget, r.Floor)
	b.WriteString("| latency (ms) | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|\n")
	for _, row := range []struct {
		name string
		s    Stats
	}{{"ready (server: submit → ready)", r.Ready}, {"round trip (client: talk → done)", r.RoundTrip}} {
		fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f | %.2f | %.2f |\n", row.name, row.s.P50, row.s.P90, row.s.P99, row.s.P999, row.s.Max)
	}
	tiers := make([]string, 0, len(r.Tiers))
	for t := range r.Tiers {
		tiers = append(tiers, t)
	}
	sort.Strings(tiers)
	b.WriteString("\n| tier | replies | share |\n|---|---|---|\n")
	for _, t := range tiers {
		fmt.Fprintf(&b, "| %s | %d | %.1f %% |\n", t, r.Tiers[t], 100*float64(r.Tiers[t])/float64(max(1, r.Replies)))
	}
	return b.String()
}

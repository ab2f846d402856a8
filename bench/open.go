package bench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/quest"
	"github.com/hearth-ai/hearth/sim/world"
)

// Kind is the kind of one request of an open-loop load.
type Kind string

// The kinds of request a scenario is made of.
const (
	// KindDialogue is a talk: a greeting or a lore question (DefaultLines).
	KindDialogue Kind = "dialogue"
	// KindQuest is a quest.request at a level and place of the demo world.
	KindQuest Kind = "quest"
	// KindBark is an NPC's ambient one-liner asked for by the game
	// (Runtime.SubmitBark, the bark message) on a trigger drawn from
	// OpenConfig.Triggers: no player line, nothing remembered, shared by
	// every player through the response cache.
	KindBark Kind = "bark"
)

// Scenario names accepted by OpenConfig.Scenario.
const (
	ScenarioDialogue = "dialogue" // only KindDialogue
	ScenarioQuest    = "quest"    // only KindQuest
	ScenarioBark     = "bark"     // only KindBark
	ScenarioMixed    = "mixed"    // KindDialogue, KindBark and KindQuest weighted by OpenConfig.Mix
)

// Scenarios lists the scenario names, in the order reports show them.
var Scenarios = []string{ScenarioDialogue, ScenarioQuest, ScenarioBark, ScenarioMixed}

// DefaultMix is the weight of each kind in the mixed scenario: mostly
// conversation, a fair share of barks, and a quest now and then.
var DefaultMix = map[Kind]int{KindDialogue: 6, KindBark: 3, KindQuest: 1}

// DefaultTriggers are the bark triggers of the bark scenario: a player
// came near, or the NPC's schedule called for a line.
var DefaultTriggers = []string{"proximity", "schedule"}

// Request is one request of an open-loop load, for a Transport to send.
type Request struct {
	Kind    Kind
	Player  int    // index of the connection (player) that sends it, 0..Players()-1
	NPCID   string // dialogue and bark
	Text    string // dialogue: the player's line
	Trigger string // bark: what set it off (OpenConfig.Triggers)
	Level   int    // quest: the player's level
	Place   string // quest: the place id where the player is
}

// Result is the server's answer to a Request.
type Result struct {
	// Ready is the server-reported time from submission to ready
	// (latency_ms on the wire, Event.Latency in process).
	Ready  time.Duration
	Budget time.Duration // the budget applied
	Tier   string        // tier that answered
	OnTime bool          // delivered at its deadline (DESIGN §1)
	Floor  bool          // the floor answered
	Cost   float64       // US dollars the answering backend charged
}

// Transport carries an open-loop load to a Hearth runtime. Send must not
// wait for the answer: it hands the request over and returns, and calls
// done exactly once, from any goroutine, with the result or an error
// (ErrorCode classifies it). Requests outstanding when ctx ends are
// abandoned; done may then report ctx's error, or never be called.
type Transport interface {
	// Name names the transport in reports ("inproc", "websocket").
	Name() string
	// Players is the number of connections (players) requests are spread on.
	Players() int
	// NPCs lists the NPC ids requests may address.
	NPCs() []string
	// Send sends req and returns at once; done receives the answer.
	Send(ctx context.Context, req Request, done func(Result, error))
	// Close ends the transport's connections and goroutines.
	Close() error
}

// OpenConfig describes one open-loop run.
type OpenConfig struct {
	// Scenario is one of Scenarios. Default ScenarioMixed.
	Scenario string
	// Rate is the offered load in requests per second (required).
	Rate float64
	// Duration is how long requests are scheduled (required).
	Duration time.Duration
	// Seed seeds the arrival schedule and the choice of player, kind, NPC
	// and line: the same seed gives the same sequence of requests.
	Seed uint64
	// Mix weighs the kinds of the mixed scenario; default DefaultMix.
	Mix map[Kind]int
	// Lines are the dialogue lines (default DefaultLines).
	Lines []string
	// Triggers are the bark triggers (default DefaultTriggers).
	Triggers []string
	// Places and Levels are where and at which level quests are requested;
	// default QuestPlaces() and levels 1..5.
	Places []string
	Levels []int
	// MaxOutstanding caps the requests in flight; an arrival beyond it is
	// not sent and counts as an error with code "client_backlog", so a
	// server that stops answering cannot exhaust the load generator's
	// memory. Default 100,000.
	MaxOutstanding int
	// Drain is how long to wait for outstanding answers after the last
	// arrival; those still missing then count as "timeout". Default 10 s.
	Drain time.Duration
	// Budget is the latency budget the run is judged against (the server's
	// default budget); 0 takes it from the replies.
	Budget time.Duration
}

// KindStats is the part of an OpenReport about one kind of request.
type KindStats struct {
	Requests int64            `json:"requests"`
	Replies  int64            `json:"replies"`
	Errors   int64            `json:"errors"`
	OnTime   int64            `json:"on_time"`
	Floor    int64            `json:"floor"`
	Tiers    map[string]int64 `json:"tiers"`
	Ready    Stats            `json:"ready"`
	CostUSD  float64          `json:"cost_usd"` // what the answering backends charged, in total
}

// OpenReport is the result of an open-loop run.
type OpenReport struct {
	Scenario    string  `json:"scenario"`
	Transport   string  `json:"transport"`
	Connections int     `json:"connections"`
	GOMAXPROCS  int     `json:"gomaxprocs"`
	NumCPU      int     `json:"num_cpu"`
	Seed        uint64  `json:"seed"`
	BudgetMS    float64 `json:"budget_ms"`
	// OfferedRate is the configured arrival rate (requests/s).
	OfferedRate float64 `json:"offered_rate_per_s"`
	// SentRate is the arrivals actually scheduled in the window per second
	// (Poisson noise around OfferedRate).
	SentRate float64 `json:"sent_rate_per_s"`
	// AchievedRate is the replies per second of the window.
	AchievedRate float64 `json:"achieved_rate_per_s"`
	DurationS    float64 `json:"duration_s"`
	Requests     int64   `json:"requests"`
	Replies      int64   `json:"replies"`
	Errors       int64   `json:"errors"`
	// ErrorCodes counts errors by protocol code (overloaded, no_quest, ...),
	// plus "timeout" (no answer by the end of the drain), "client_backlog"
	// (MaxOutstanding reached) and "transport" (the connection failed).
	ErrorCodes map[string]int64 `json:"error_codes,omitempty"`
	// ErrorExamples holds the first error message seen for each code.
	ErrorExamples map[string]string `json:"error_examples,omitempty"`
	OnTime        int64             `json:"on_time"`
	Late          int64             `json:"late"`
	OverBudget    int64             `json:"over_budget"` // ready latency above the budget
	Floor         int64             `json:"floor"`
	// OnTimeShare is OnTime / Requests: an error counts as not on time.
	OnTimeShare float64 `json:"on_time_share"`
	// FloorShare is Floor / Replies.
	FloorShare float64 `json:"floor_share"`
	// MaxOutstanding is the most requests in flight at once.
	MaxOutstanding int64            `json:"max_outstanding"`
	Tiers          map[string]int64 `json:"tiers"`
	// TierShare is each tier's share of the replies.
	TierShare map[string]float64 `json:"tier_share"`
	// Ready is the server-reported submission → ready latency.
	Ready Stats `json:"ready"`
	// RoundTrip is from the request's scheduled send time to its answer
	// reaching the load generator: measuring from the schedule, not the
	// actual send, keeps a stalled generator from hiding latency
	// (coordinated omission).
	RoundTrip Stats `json:"round_trip"`
	// SendLag is how late the generator sent each request after its
	// scheduled time: large values mean the load generator itself was
	// starved of CPU.
	SendLag Stats `json:"send_lag"`
	// CostUSD is what the answering backends charged for the run.
	CostUSD float64 `json:"cost_usd"`
	// ByKind breaks the run down by kind of request.
	ByKind map[Kind]*KindStats `json:"by_kind"`
}

// QuestPlaces returns the place ids of the demo world (sim/world's
// quest.yaml), where the quest scenario requests quests.
func QuestPlaces() []string {
	data, err := fs.ReadFile(world.FS(), "quest.yaml")
	if err != nil {
		return nil
	}
	w, err := quest.LoadWorld("", data)
	if err != nil {
		return nil
	}
	return append([]string(nil), w.Places()...)
}

func (cfg *OpenConfig) fill() error {
	if cfg.Scenario == "" {
		cfg.Scenario = ScenarioMixed
	}
	switch {
	case cfg.Rate <= 0:
		return fmt.Errorf("bench: open loop: Rate %g: must be positive", cfg.Rate)
	case cfg.Duration <= 0:
		return fmt.Errorf("bench: open loop: Duration %v: must be positive", cfg.Duration)
	}
	if cfg.Mix == nil {
		cfg.Mix = DefaultMix
	}
	if len(cfg.Lines) == 0 {
		cfg.Lines = DefaultLines
	}
	if len(cfg.Triggers) == 0 {
		cfg.Triggers = DefaultTriggers
	}
	if len(cfg.Places) == 0 {
		cfg.Places = QuestPlaces()
	}
	if len(cfg.Levels) == 0 {
		cfg.Levels = []int{1, 2, 3, 4, 5}
	}
	if cfg.MaxOutstanding <= 0 {
		cfg.MaxOutstanding = 100_000
	}
	if cfg.Drain <= 0 {
		cfg.Drain = 10 * time.Second
	}
	return nil
}

// kindPicker draws the kind of each request of a scenario.
type kindPicker struct {
	kinds   []Kind
	cumul   []int
	total   int
	quested bool
}

func newKindPicker(scenario string, mix map[Kind]int) (kindPicker, error) {
	var p kindPicker
	switch scenario {
	case ScenarioDialogue:
		mix = map[Kind]int{KindDialogue: 1}
	case ScenarioQuest:
		mix = map[Kind]int{KindQuest: 1}
	case ScenarioBark:
		mix = map[Kind]int{KindBark: 1}
	case ScenarioMixed:
	default:
		return p, fmt.Errorf("bench: scenario %q: want one of %v", scenario, Scenarios)
	}
	for _, k := range []Kind{KindDialogue, KindQuest, KindBark} {
		if w := mix[k]; w > 0 {
			p.total += w
			p.kinds = append(p.kinds, k)
			p.cumul = append(p.cumul, p.total)
			p.quested = p.quested || k == KindQuest
		}
	}
	if p.total == 0 {
		return p, errors.New("bench: the mix gives no kind a positive weight")
	}
	return p, nil
}

func (p kindPicker) pick(rng *rand.Rand) Kind {
	n := rng.IntN(p.total)
	for i, c := range p.cumul {
		if n < c {
			return p.kinds[i]
		}
	}
	return p.kinds[len(p.kinds)-1]
}

// recorder accumulates the answers of one run.
type recorder struct {
	mu                  sync.Mutex
	closed              bool
	rep                 *OpenReport
	ready, rtt, lag     *hdrhistogram.Histogram
	kindReady           map[Kind]*hdrhistogram.Histogram
	outstanding, maxOut int64
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, 600_000_000, 3) } // µs, up to 10 min

func (r *recorder) sent(k Kind, lag time.Duration) {
	r.mu.Lock()
	r.rep.Requests++
	r.rep.ByKind[k].Requests++
	r.lag.RecordValue(max(1, lag.Microseconds()))
	r.outstanding++
	r.maxOut = max(r.maxOut, r.outstanding)
	r.mu.Unlock()
}

func (r *recorder) errorLocked(k Kind, code, msg string) {
	r.rep.Errors++
	r.rep.ErrorCodes[code]++
	if _, ok := r.rep.ErrorExamples[code]; !ok {
		r.rep.ErrorExamples[code] = msg
	}
	r.rep.ByKind[k].Errors++
}

func (r *recorder) done(k Kind, scheduled time.Time, res Result, err error) {
	rtt := time.Since(scheduled)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return // answered after the drain: already counted as a timeout
	}
	r.outstanding--
	ks := r.rep.ByKind[k]
	if err != nil {
		r.errorLocked(k, ErrorCode(err), err.Error())
		return
	}
	r.rep.Replies++
	ks.Replies++
	r.rep.CostUSD += res.Cost
	ks.CostUSD += res.Cost
	r.rep.Tiers[res.Tier]++
	ks.Tiers[res.Tier]++
	if res.OnTime {
		r.rep.OnTime++
		ks.OnTime++
	} else {
		r.rep.Late++
	}
	if res.Floor {
		r.rep.Floor++
		ks.Floor++
	}
	if res.Budget > 0 && res.Ready > res.Budget {
		r.rep.OverBudget++
	}
	if r.rep.BudgetMS == 0 && res.Budget > 0 {
		r.rep.BudgetMS = float64(res.Budget) / 1e6
	}
	us := max(1, res.Ready.Microseconds())
	r.ready.RecordValue(us)
	r.kindReady[k].RecordValue(us)
	r.rtt.RecordValue(max(1, rtt.Microseconds()))
}

// RunOpen offers tr an open-loop load: requests arrive as a Poisson process
// at cfg.Rate for cfg.Duration, each on a random connection, and are sent
// at their scheduled time whether or not earlier ones were answered. It
// then waits up to cfg.Drain for the outstanding answers. Errors from the
// server (overloaded, ...) are counted in the report, not returned; RunOpen
// fails only on a bad config or a transport with no NPCs.
func RunOpen(ctx context.Context, tr Transport, cfg OpenConfig) (OpenReport, error) {
	if err := cfg.fill(); err != nil {
		return OpenReport{}, err
	}
	picker, err := newKindPicker(cfg.Scenario, cfg.Mix)
	if err != nil {
		return OpenReport{}, err
	}
	npcs := tr.NPCs()
	players := tr.Players()
	switch {
	case len(npcs) == 0:
		return OpenReport{}, errors.New("bench: the transport lists no NPCs")
	case players <= 0:
		return OpenReport{}, errors.New("bench: the transport has no connections")
	case picker.quested && len(cfg.Places) == 0:
		return OpenReport{}, errors.New("bench: the quest scenario needs places (OpenConfig.Places)")
	}
	rep := &OpenReport{Scenario: cfg.Scenario, Transport: tr.Name(), Connections: players,
		GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), Seed: cfg.Seed,
		BudgetMS: float64(cfg.Budget) / 1e6, OfferedRate: cfg.Rate,
		ErrorCodes: map[string]int64{}, ErrorExamples: map[string]string{}, Tiers: map[string]int64{}, ByKind: map[Kind]*KindStats{}}
	rec := &recorder{rep: rep, ready: newHist(), rtt: newHist(), lag: newHist(),
		kindReady: map[Kind]*hdrhistogram.Histogram{}}
	for _, k := range picker.kinds {
		rep.ByKind[k] = &KindStats{Tiers: map[string]int64{}}
		rec.kindReady[k] = newHist()
	}

	arrivals := NewArrivals(cfg.Rate, cfg.Seed)
	rng := rand.New(rand.NewPCG(cfg.Seed, 0xc0_7e_47))
	sendCtx, cancelSends := context.WithCancel(ctx)
	defer cancelSends()
	start := time.Now()
	end := start.Add(cfg.Duration)
	next := start
	timer := time.NewTimer(0)
	<-timer.C
	for ctx.Err() == nil {
		next = next.Add(arrivals.Next())
		if !next.Before(end) {
			break
		}
		if wait := time.Until(next); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
			}
			if ctx.Err() != nil {
				break
			}
		}
		req := Request{Kind: picker.pick(rng), Player: rng.IntN(players)}
		switch req.Kind {
		case KindQuest:
			req.Level = cfg.Levels[rng.IntN(len(cfg.Levels))]
			req.Place = cfg.Places[rng.IntN(len(cfg.Places))]
		case KindBark:
			req.NPCID, req.Trigger = npcs[rng.IntN(len(npcs))], cfg.Triggers[rng.IntN(len(cfg.Triggers))]
		default:
			req.NPCID, req.Text = npcs[rng.IntN(len(npcs))], cfg.Lines[rng.IntN(len(cfg.Lines))]
		}
		scheduled := next
		rec.mu.Lock()
		full := rec.outstanding >= int64(cfg.MaxOutstanding)
		if full {
			rep.Requests++
			rep.ByKind[req.Kind].Requests++
			rec.errorLocked(req.Kind, "client_backlog", "MaxOutstanding requests in flight")
		}
		rec.mu.Unlock()
		if full {
			continue
		}
		rec.sent(req.Kind, time.Since(scheduled))
		k := req.Kind
		tr.Send(sendCtx, req, func(res Result, err error) { rec.done(k, scheduled, res, err) })
	}
	window := time.Since(start)
	if window > cfg.Duration {
		window = cfg.Duration
	}
	// Drain: wait for the answers still outstanding.
	drainEnd := time.Now().Add(cfg.Drain)
	for {
		rec.mu.Lock()
		out := rec.outstanding
		rec.mu.Unlock()
		if out == 0 || time.Now().After(drainEnd) || ctx.Err() != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	rec.mu.Lock()
	rec.closed = true
	if rec.outstanding > 0 {
		rep.Errors += rec.outstanding
		rep.ErrorCodes["timeout"] += rec.outstanding
		rep.ErrorExamples["timeout"] = "no answer by the end of the drain"
		// Which kinds timed out is not tracked; the total stays consistent.
	}
	rep.MaxOutstanding = rec.maxOut
	rec.mu.Unlock()
	cancelSends()

	rep.DurationS = window.Seconds()
	rep.SentRate = float64(rep.Requests) / rep.DurationS
	rep.AchievedRate = float64(rep.Replies) / rep.DurationS
	rep.OnTimeShare = float64(rep.OnTime) / float64(max(1, rep.Requests))
	rep.FloorShare = float64(rep.Floor) / float64(max(1, rep.Replies))
	rep.TierShare = map[string]float64{}
	for t, n := range rep.Tiers {
		rep.TierShare[t] = float64(n) / float64(max(1, rep.Replies))
	}
	rep.Ready, rep.RoundTrip, rep.SendLag = stats(rec.ready), stats(rec.rtt), stats(rec.lag)
	for k, ks := range rep.ByKind {
		ks.Ready = stats(rec.kindReady[k])
	}
	if len(rep.ErrorCodes) == 0 {
		rep.ErrorCodes, rep.ErrorExamples = nil, nil
	}
	return *rep, nil
}

// ErrorCode classifies an error of a Transport for OpenReport.ErrorCodes:
// the protocol error code when it carries one (overloaded, unknown_npc,
// no_quest, ...), "timeout" for a context that ended, "transport" for
// anything else.
func ErrorCode(err error) string {
	var pe *protocol.Error
	switch {
	case errors.As(err, &pe):
		return pe.Code
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "timeout"
	}
	return "transport"
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

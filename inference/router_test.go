package inference_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testModel is a configurable backend that honours ctx like a real one:
// it waits delay before its first word and perWord between words, streams
// its words, and can fail at a chosen point.
type testModel struct {
	info      inference.Info
	delay     time.Duration
	perWord   time.Duration
	words     []string // streamed, each followed by a space except the last
	text      string   // returned Text; default the words joined
	err       error    // returned at once
	breakAt   int      // > 0: fail after streaming this many words
	ignoreCtx bool     // misbehave: sleep through cancellation
	raw       bool     // stream words as given, without spaces
	calls     atomic.Int64
}

func (m *testModel) Info() inference.Info { return m.info }

func (m *testModel) Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	m.calls.Add(1)
	if m.err != nil {
		return inference.Result{}, m.err
	}
	if err := m.sleep(ctx, m.delay); err != nil {
		return inference.Result{}, err
	}
	for i, w := range m.words {
		if m.breakAt > 0 && i == m.breakAt {
			return inference.Result{}, errors.New("stream broke")
		}
		if i < len(m.words)-1 && !m.raw {
			w += " "
		}
		if sink != nil {
			sink(inference.Delta{Text: w})
		}
		if err := m.sleep(ctx, m.perWord); err != nil {
			return inference.Result{}, err
		}
	}
	text := m.text
	if text == "" {
		text = strings.Join(m.words, " ")
	}
	return inference.Result{Text: text, Tokens: len(m.words)}, nil
}

func (m *testModel) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	if m.ignoreCtx {
		time.Sleep(d)
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", m.info.Name, ctx.Err())
	}
}

func model(name string, quality int, ttft time.Duration, words ...string) *testModel {
	return &testModel{
		info: inference.Info{Name: name, Tier: inference.TierLocal, Quality: quality,
			ExpectedTTFT: ttft, ExpectedTokensPerSecond: 1e5},
		words: words,
	}
}

// recorder is a Sink that records deltas and checks none arrive after the
// test marks Generate as returned.
type recorder struct {
	mu     sync.Mutex
	deltas []inference.Delta
	closed bool
	late   int
}

func (r *recorder) sink(d inference.Delta) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.late++
	}
	r.deltas = append(r.deltas, d)
}

func (r *recorder) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

// text replays the deltas as a receiver must: Reset discards.
func (r *recorder) text() (string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	resets := 0
	for _, d := range r.deltas {
		if d.Reset {
			b.Reset()
			resets++
		}
		b.WriteString(d.Text)
	}
	return b.String(), resets
}

var dialogue = &inference.Request{
	Intent:   inference.IntentDialogue,
	Persona:  inference.Persona{Name: "Brenna", Traits: []string{"gruff"}},
	UserText: "hello",
	Seed:     1,
}

func newRouter(t testing.TB, backends ...inference.Model) *inference.Router {
	t.Helper()
	r, err := inference.NewRouter(template.New(), backends, inference.RouterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func generate(t *testing.T, r *inference.Router, budget time.Duration) (inference.Result, *recorder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	rec := &recorder{}
	res, err := r.Generate(ctx, dialogue, rec.sink)
	rec.close()
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	if got, _ := rec.text(); got != res.Text {
		t.Fatalf("streamed %q, result %q", got, res.Text)
	}
	return res, rec
}

func stats(r *inference.Router, name string) inference.BackendStats {
	for _, s := range r.Stats() {
		if s.Name == name {
			return s
		}
	}
	panic("no backend " + name)
}

func TestNewRouterValidates(t *testing.T) {
	fl := template.New()
	cases := []struct {
		name     string
		floor    inference.Model
		backends []inference.Model
		opts     inference.RouterOptions
	}{
		{"nil floor", nil, nil, inference.RouterOptions{}},
		{"nil backend", fl, []inference.Model{nil}, inference.RouterOptions{}},
		{"duplicate", fl, []inference.Model{model("a", 1, 0, "x"), model("a", 2, 0, "y")}, inference.RouterOptions{}},
		{"floor name", fl, []inference.Model{model("template", 1, 0, "x")}, inference.RouterOptions{}},
		{"negative reserve", fl, nil, inference.RouterOptions{FloorReserve: -1}},
		{"quantile", fl, nil, inference.RouterOptions{FitQuantile: 1}},
	}
	for _, c := range cases {
		if _, err := inference.NewRouter(c.floor, c.backends, c.opts); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestBackendsOrderedByQuality(t *testing.T) {
	r := newRouter(t, model("low", 1, 0, "low"), model("high", 3, 0, "high"), model("mid", 2, 0, "mid"))
	var names []string
	for _, inf := range r.Backends() {
		names = append(names, inf.Name)
	}
	if got := strings.Join(names, ","); got != "high,mid,low,template" {
		t.Fatalf("Backends = %s", got)
	}
	res, _ := generate(t, r, time.Second)
	if res.Backend != "high" {
		t.Fatalf("answered by %q, want the highest quality", res.Backend)
	}
}

func TestFastPath(t *testing.T) {
	fast := model("fast", 1, time.Millisecond, "Well", "met,", "traveler.")
	r := newRouter(t, fast)
	res, rec := generate(t, r, time.Second)
	if res.Text != "Well met, traveler." || res.Backend != "fast" || res.Tier != inference.TierLocal ||
		res.Floor || res.FallbackFrom != "" {
		t.Fatalf("result %+v", res)
	}
	if len(rec.deltas) != 3 {
		t.Fatalf("deltas %v", rec.deltas)
	}
	if res.Latency <= 0 || res.TTFT <= 0 || res.TTFT > res.Latency {
		t.Fatalf("TTFT %v latency %v", res.TTFT, res.Latency)
	}
	if s := stats(r, "fast"); s.Calls != 1 || s.Errors+s.Timeouts+s.FloorFallbacks != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFloorOnlyRouter(t *testing.T) {
	r := newRouter(t)
	res, _ := generate(t, r, time.Second)
	if res.Tier != inference.TierTemplate || res.Backend != "template" || res.Floor || res.Text == "" {
		t.Fatalf("floor-only router: %+v", res)
	}
}

func TestSlowBackendFallsBackToFloorOnTime(t *testing.T) {
	slow := model("slow", 2, time.Millisecond, "too", "late")
	slow.delay = 10 * time.Second
	r := newRouter(t, slow)
	const budget = 40 * time.Millisecond
	start := time.Now()
	res, rec := generate(t, r, budget)
	elapsed := time.Since(start)
	if !res.Floor || res.Tier != inference.TierTemplate || res.FallbackFrom != "slow" {
		t.Fatalf("want the floor after slow, got %+v", res)
	}
	if elapsed > budget+time.Second { // generous: assert on-time-ish, not tight timing
		t.Fatalf("Generate took %v with a %v budget", elapsed, budget)
	}
	if _, resets := rec.text(); resets != 0 {
		t.Fatalf("reset sent although nothing streamed")
	}
	s := stats(r, "slow")
	if s.Calls != 1 || s.Timeouts != 1 || s.FloorFallbacks != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestDefaultBudgetWithoutDeadline(t *testing.T) {
	slow := model("slow", 2, time.Millisecond, "too", "late")
	slow.delay = 10 * time.Second
	r := newRouter(t, slow)
	start := time.Now()
	res, err := r.Generate(context.Background(), dialogue, nil)
	if err != nil || !res.Floor || res.FallbackFrom != "slow" {
		t.Fatalf("res %+v err %v", res, err)
	}
	if elapsed := time.Since(start); elapsed > inference.DefaultBudget+time.Second {
		t.Fatalf("took %v without a deadline", elapsed)
	}
}

func TestEstimatesLearn(t *testing.T) {
	// slow claims 1ms but takes 30ms; fast is worse but quick.
	slow := model("slow", 2, time.Millisecond, "slow", "answer")
	slow.delay = 30 * time.Millisecond
	fast := model("fast", 1, time.Millisecond, "fast", "answer")
	r := newRouter(t, slow, fast)

	// With a long budget slow fits and answers; the router observes it.
	for range 8 {
		res, _ := generate(t, r, 2*time.Second)
		if res.Backend != "slow" {
			t.Fatalf("long budget answered by %q", res.Backend)
		}
	}
	if s := stats(r, "slow"); s.TTFTP50 < 20*time.Millisecond {
		t.Fatalf("TTFT p50 %v after observing ~30ms", s.TTFTP50)
	}
	calls := slow.calls.Load()

	// With a 15ms budget it is predicted not to fit and is not tried.
	res, _ := generate(t, r, 15*time.Millisecond)
	if res.FallbackFrom == "slow" || res.Backend == "slow" {
		t.Fatalf("short budget: %+v", res)
	}
	if res.Backend != "fast" && !(res.Floor && res.FallbackFrom == "fast") { // the floor only if this host stalled
		t.Fatalf("short budget: %+v", res)
	}
	if slow.calls.Load() != calls {
		t.Fatalf("slow was tried although predicted not to fit")
	}
	if s := stats(r, "slow"); s.Skips != 1 || s.Timeouts != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestEstimatesLearnFromTimeouts(t *testing.T) {
	slow := model("slow", 2, time.Millisecond, "slow")
	slow.delay = 10 * time.Second
	r := newRouter(t, slow)
	// Each timeout is a censored observation (at least the budget); after
	// a few the router stops trying slow within that budget.
	for range 10 {
		generate(t, r, 20*time.Millisecond)
	}
	s := stats(r, "slow")
	if s.Skips == 0 || s.Timeouts == 0 || s.Timeouts+s.Skips != 10 {
		t.Fatalf("stats %+v", s)
	}
}

func TestResetOnMidStreamFailure(t *testing.T) {
	breaker := model("breaker", 3, time.Millisecond, "The", "aboleth", "has", "ARMOR")
	breaker.breakAt = 3
	good := model("good", 2, time.Millisecond, "Armor", "Class", "17.")
	r := newRouter(t, breaker, good)
	res, rec := generate(t, r, time.Second)
	if res.Backend != "good" || res.FallbackFrom != "breaker" || res.Floor {
		t.Fatalf("result %+v", res)
	}
	var seq []string
	for _, d := range rec.deltas {
		if d.Reset {
			seq = append(seq, "RESET")
		} else {
			seq = append(seq, d.Text)
		}
	}
	if got := strings.Join(seq, "|"); got != "The |aboleth |has |RESET|Armor |Class |17." {
		t.Fatalf("deltas %s", got)
	}
	if s := stats(r, "breaker"); s.Errors != 1 {
		t.Fatalf("stats %+v", s)
	}

	// Breaking mid-stream with only the floor left: reset, then the floor.
	r = newRouter(t, breaker)
	res, rec = generate(t, r, time.Second)
	if !res.Floor || res.FallbackFrom != "breaker" {
		t.Fatalf("result %+v", res)
	}
	if _, resets := rec.text(); resets != 1 || !rec.deltas[3].Reset {
		t.Fatalf("deltas %v", rec.deltas)
	}
}

func TestMalformedOutputIsAFailure(t *testing.T) {
	invalid := model("invalid", 2, time.Millisecond)
	invalid.text = "caf\xff"
	midStream := model("midstream", 3, time.Millisecond, "ok", "\xff\xfe", "more")
	empty := model("empty", 4, time.Millisecond)
	empty.text = "   "
	r := newRouter(t, invalid, midStream, empty)
	res, rec := generate(t, r, time.Second)
	if !res.Floor || res.FallbackFrom != "empty" || !utf8.ValidString(res.Text) {
		t.Fatalf("result %+v", res)
	}
	for _, name := range []string{"invalid", "midstream", "empty"} {
		if s := stats(r, name); s.Errors != 1 || s.Calls != 1 {
			t.Errorf("%s: %+v", name, s)
		}
	}
	for _, d := range rec.deltas {
		if !utf8.ValidString(d.Text) {
			t.Fatalf("invalid UTF-8 reached the sink: %q", d.Text)
		}
	}
}

func TestRuneSplitAcrossDeltas(t *testing.T) {
	split := model("split", 1, time.Millisecond, "caf\xc3", "\xa9 au", " lait")
	split.raw = true
	split.text = "café au lait"
	r := newRouter(t, split)
	res, rec := generate(t, r, time.Second)
	if res.Backend != "split" || res.Text != "café au lait" {
		t.Fatalf("result %+v", res)
	}
	for _, d := range rec.deltas {
		if !utf8.ValidString(d.Text) {
			t.Fatalf("delta %q", d.Text)
		}
	}
}

func TestNonStreamingBackendSendsOneDelta(t *testing.T) {
	quiet := model("quiet", 1, time.Millisecond)
	quiet.text = "Aye."
	r := newRouter(t, quiet)
	res, rec := generate(t, r, time.Second)
	if res.Text != "Aye." || len(rec.deltas) != 1 {
		t.Fatalf("result %+v deltas %v", res, rec.deltas)
	}
}

func TestFailingBackendFallsThrough(t *testing.T) {
	failing := model("failing", 3, time.Millisecond)
	failing.err = errors.New("connection refused")
	good := model("good", 1, time.Millisecond, "fine")
	r := newRouter(t, failing, good)
	res, _ := generate(t, r, time.Second)
	if res.Backend != "good" || res.FallbackFrom != "failing" || res.Floor {
		t.Fatalf("result %+v", res)
	}
	if s := stats(r, "failing"); s.Errors != 1 || s.FloorFallbacks != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCancelledContextStillAnswers(t *testing.T) {
	slow := model("slow", 2, time.Millisecond, "x")
	slow.delay = 10 * time.Second
	r := newRouter(t, slow)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := r.Generate(ctx, dialogue, nil)
	if err != nil || res.Tier != inference.TierTemplate || res.Text == "" {
		t.Fatalf("res %+v err %v", res, err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	res, err = r.Generate(ctx, dialogue, nil)
	if err != nil || !res.Floor || res.FallbackFrom != "slow" {
		t.Fatalf("res %+v err %v", res, err)
	}
	if s := stats(r, "slow"); s.Errors != 0 || s.Timeouts != 0 {
		t.Fatalf("caller cancellation counted against the backend: %+v", s)
	}
}

func TestNoDeltaAfterReturnFromMisbehavingBackend(t *testing.T) {
	rude := model("rude", 2, time.Millisecond, "late", "words")
	rude.delay = time.Second
	rude.ignoreCtx = true
	r := newRouter(t, rude)
	res, rec := generate(t, r, 20*time.Millisecond)
	if !res.Floor {
		t.Fatalf("result %+v", res)
	}
	// Wait for the misbehaving goroutine to finish, then check it could
	// not reach the sink.
	deadline := time.Now().Add(5 * time.Second)
	for stats(r, "rude").InFlight != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if rec.late != 0 {
		t.Fatalf("%d deltas after Generate returned", rec.late)
	}
}

func TestFloorMethod(t *testing.T) {
	r := newRouter(t, model("x", 1, time.Millisecond, "x"))
	res := r.Floor(dialogue)
	if !res.Floor || res.Tier != inference.TierTemplate || res.Text == "" {
		t.Fatalf("Floor: %+v", res)
	}
	if s := stats(r, "template"); !s.Floor || s.Calls != 1 {
		t.Fatalf("floor stats %+v", s)
	}
}

func TestConcurrentUse(t *testing.T) {
	slow := model("slow", 3, time.Millisecond, "slow", "words")
	slow.delay = 5 * time.Millisecond
	breaker := model("breaker", 2, time.Millisecond, "a", "b", "c")
	breaker.breakAt = 2
	fast := model("fast", 1, time.Millisecond, "fast")
	r := newRouter(t, slow, breaker, fast)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				budget := time.Duration(1+(g*7+i)%20) * time.Millisecond
				ctx, cancel := context.WithTimeout(context.Background(), budget)
				rec := &recorder{}
				res, err := r.Generate(ctx, dialogue, rec.sink)
				cancel()
				rec.close()
				if err != nil || res.Text == "" {
					t.Errorf("res %+v err %v", res, err)
					return
				}
				if got, _ := rec.text(); got != res.Text {
					t.Errorf("streamed %q, result %q", got, res.Text)
					return
				}
				_ = r.Stats()
			}
		})
	}
	wg.Wait()
}

func BenchmarkRouterFloorOnly(b *testing.B) {
	r := newRouter(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Generate(ctx, dialogue, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRouterFastBackend(b *testing.B) {
	r := newRouter(b, model("fast", 1, time.Microsecond, "Well", "met."))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Generate(ctx, dialogue, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestStallWatchdog: a stream is abandoned when it goes silent for
// StallTimeout after it began, and the next backend answers; a slow but
// steady stream whose whole reply takes several StallTimeouts is not,
// because every token pushes the watchdog back.
func TestStallWatchdog(t *testing.T) {
	const stall = 60 * time.Millisecond
	newStallRouter := func(backends ...inference.Model) *inference.Router {
		r, err := inference.NewRouter(template.New(), backends, inference.RouterOptions{StallTimeout: stall, NoHedging: true})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	steady := model("steady", 100, time.Millisecond, "one", "word", "at", "a", "time", "and", "still", "on", "time.")
	steady.perWord = stall / 3 // 9 words: 180 ms, three StallTimeouts
	r := newStallRouter(steady)
	res, rec := generate(t, r, 2*time.Second)
	if text, _ := rec.text(); res.Backend != "steady" || text != "one word at a time and still on time." {
		t.Fatalf("steady stream: answered by %q (%s), streamed %q; want the whole stream", res.Backend, res.Reason, text)
	}
	if st := r.Stats(); st[0].Stalls != 0 {
		t.Fatalf("steady stream counted %d stalls", st[0].Stalls)
	}

	silent := model("silent", 100, time.Millisecond, "I", "was", "saying")
	silent.perWord = 10 * time.Second // one word, then nothing
	next := model("next", 50, time.Millisecond, "Quick.")
	r = newStallRouter(silent, next)
	start := time.Now()
	res, rec = generate(t, r, 5*time.Second)
	took := time.Since(start)
	text, resets := rec.text()
	if res.Backend != "next" || text != "Quick." || resets != 1 {
		t.Fatalf("stalled stream: answered by %q, streamed %q with %d resets; want next's answer after one reset", res.Backend, text, resets)
	}
	if took >= 5*time.Second-time.Second {
		t.Fatalf("stalled stream fell back after %v: want about the stall timeout, well before the 5 s deadline", took)
	}
	if st := r.Stats(); st[0].Stalls != 1 || st[0].Timeouts != 1 {
		t.Fatalf("silent backend: %d stalls, %d timeouts; want 1 and 1", st[0].Stalls, st[0].Timeouts)
	}
}

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	dto "github.com/prometheus/client_model/go"

	"github.com/hearth-ai/hearth/inference/faultproxy"
	"github.com/hearth-ai/hearth/inference/openai/llmsim"
	"github.com/hearth-ai/hearth/sim"
)

// Soak tolerances (issue 9: "heap and goroutine counts stay flat"). The
// run fails when the median of the last 10 % of the samples exceeds the
// median just after warm-up (samples from 10 % to 20 % of the run) by
// more than soakGrowth plus a fixed slack:
//
//   - goroutines: 25 % + 50. The count moves with the requests in flight
//     (each remote attempt holds a goroutine on the server and two for
//     its HTTP connection, more while a stall runs to its deadline), so
//     two samples at the same load differ by tens; a leak of one
//     goroutine per request grows by thousands over 10 minutes.
//   - heap: 25 % + 16 MiB on the live heap (go_gc_heap_live_bytes: what
//     the last collection kept). hearth serve runs with GOGC 400, so the
//     heap in use is a sawtooth up to 5× the live heap, and the heap goal
//     follows the live heap ×5: both are reported, not gated, because
//     their swings are the collector's pacing, not growth. NPC memories
//     fill to their cap (npc.DefaultMemoryCap per NPC) and quest logs
//     grow with a long session by design: that is what the slack absorbs.
const (
	soakGrowth          = 0.25
	soakGoroutineSlack  = 50
	soakHeapSlackBytes  = 16 << 20
	soakWarmupShare     = 0.10
	soakChildStopWait   = 30 * time.Second
	soakChildStartWait  = 120 * time.Second
	soakScrapeTimeout   = 5 * time.Second
	soakIdleSettleLimit = 15 * time.Second
)

// errSoakGrew is the verdict of a soak whose goroutines or heap grew
// beyond the tolerances.
var errSoakGrew = errors.New("soak: grew beyond the tolerance")

// soakSample is one scrape of the child's /metrics.
type soakSample struct {
	at                                       time.Duration // since the sim started
	goroutines                               float64
	heapLive, heapInuse, heapAlloc, heapGoal float64 // bytes
	rss                                      float64 // bytes
	replies, onTime, floor                   float64 // hearth_runtime_replies_total
	remoteReplies                            float64 // of which tier remote
	attempts, bErrors, timeouts, rejct       float64 // hearth_router_*_total, all backends
	skips                                    float64
	conns                                    float64
	proxyReqs, faults                        uint64 // the fault proxy's, read in this process
}

// cmdSoak runs issue 9's soak test: the headless sim against a real
// `hearth serve` child process whose remote backend (llmsim behind
// faultproxy) misbehaves in every way the proxy knows, for -duration,
// sampling the child's goroutines, heap and counters from /metrics. It
// fails when goroutines or heap grow beyond the tolerances above.
func cmdSoak(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("hearth soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	duration := fs.Duration("duration", 10*time.Minute, "how long the sim runs against the server")
	sample := fs.Duration("sample", 10*time.Second, "interval between /metrics scrapes")
	players := fs.Int("players", 20, "simulated players, one WebSocket connection each, sending concurrently")
	budget := fs.Duration("budget", 3*time.Second, "budget of every talk and quest request: long enough for the remote model, so that it is used")
	seed := fs.Uint64("seed", 1, "seed of the players, the simulated model and the fault decisions")
	ttft := fs.Duration("ttft", 300*time.Millisecond, "the simulated remote model's median time to first token (log-normal, sigma 0.35)")
	tps := fs.Float64("tps", 100, "the simulated remote model's decode rate, tokens/s")
	errRate := fs.Float64("error-rate", 0.10, "share of remote requests answered 429, 500 or 503 (with Retry-After)")
	stallRate := fs.Float64("stall-rate", 0.05, "share of remote streams that stall after 2 events until the caller gives up")
	badRate := fs.Float64("malformed-rate", 0.05, "share of remote streams given a malformed chunk after 2 events")
	resetRate := fs.Float64("reset-rate", 0.05, "share of remote requests whose TCP connection is reset")
	latency := fs.Duration("latency", 20*time.Millisecond, "median extra network latency per remote request (log-normal, sigma 0.5)")
	bin := fs.String("bin", "", "hearth binary to run as the server (default: this one)")
	serveArgs := fs.String("serve-args", "", `more flags for the server, space-separated, e.g. "-no-cache" (to tell its growth from the response cache's); the server runs with -model off (the soak is of the remote path) unless they say "-model shipped"`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *duration <= 0 || *sample <= 0 || *sample > *duration:
		return fmt.Errorf("-duration %v, -sample %v: want 0 < sample <= duration", *duration, *sample)
	case *players <= 0:
		return fmt.Errorf("-players %d: must be positive", *players)
	case *budget <= 0 || *budget > 10*time.Second:
		return fmt.Errorf("-budget %v: want 0 < budget <= 10s (the server's cap)", *budget)
	case *ttft <= 0 || *tps <= 0:
		return fmt.Errorf("-ttft %v, -tps %g: both must be positive", *ttft, *tps)
	}
	if *bin == "" {
		if *bin, err = os.Executable(); err != nil {
			return fmt.Errorf("-bin: %w", err)
		}
	}

	llm, err := llmsim.Start(llmsim.Profile{TTFTMedian: *ttft, TokensPerSecond: *tps, Seed: *seed})
	if err != nil {
		return err
	}
	defer llm.Close()
	pcfg := faultproxy.Config{Seed: *seed, LatencyMedian: *latency, LatencySigma: 0.5,
		ErrorRate: *errRate, StallRate: *stallRate, MalformedRate: *badRate, ResetRate: *resetRate}
	proxy, err := faultproxy.Start(strings.TrimSuffix(llm.BaseURL(), "/v1"), pcfg)
	if err != nil {
		return err
	}
	// Deferred before the child's stop (below), so it runs after it: the
	// proxy closes once the server has stopped calling it.
	defer proxy.Close()

	tmp, err := os.MkdirTemp("", "hearth-soak")
	if err != nil {
		return err
	}
	defer func() {
		// Keep the server's log and data when something broke (not for
		// a verdict on growth, whose numbers are all printed, nor for an
		// interrupted run).
		if err != nil && !errors.Is(err, errSoakGrew) && ctx.Err() == nil {
			fmt.Fprintf(stderr, "hearth soak: kept the server's log and data in %s\n", tmp)
			return
		}
		os.RemoveAll(tmp)
	}()
	childArgs := append([]string{"serve", "-addr", "127.0.0.1:0", "-data", filepath.Join(tmp, "data"),
		"-remote", proxy.URL() + "/v1", "-remote-model", "llmsim", "-log", "warn", "-model", "off"}, strings.Fields(*serveArgs)...)
	child, err := startSoakChild(ctx, *bin, filepath.Join(tmp, "server.log"), childArgs...)
	if err != nil {
		return err
	}
	defer func() {
		if serr := child.stop(); serr != nil {
			err = errors.Join(err, serr)
		}
	}()
	metricsURL := "http" + strings.TrimSuffix(strings.TrimPrefix(child.url, "ws"), "/v1/ws") + "/metrics"

	fmt.Fprintf(stdout, "hearth soak: %v, %d players (concurrent), budget %v, samples every %v\n", *duration, *players, *budget, *sample)
	fmt.Fprintf(stdout, "  server:  %s (pid %d) on %s, log %s\n", strings.Join(append([]string{*bin}, childArgs...), " "),
		child.cmd.Process.Pid, child.url, child.logPath)
	fmt.Fprintf(stdout, "  remote:  llmsim (TTFT median %v, sigma 0.35, %g tokens/s) behind faultproxy %s:\n", *ttft, *tps, proxy.URL())
	fmt.Fprintf(stdout, "           errors %.0f %% (429/500/503, Retry-After 1 s), stalls %.0f %%, malformed chunks %.0f %%, resets %.0f %%, latency median %v sigma 0.5\n\n",
		100**errRate, 100**stallRate, 100**badRate, 100**resetRate, *latency)

	scrape := func(at time.Duration) (soakSample, error) {
		sctx, cancel := context.WithTimeout(ctx, soakScrapeTimeout)
		defer cancel()
		s, err := scrapeSoak(sctx, metricsURL)
		ps := proxy.Stats()
		s.at, s.proxyReqs, s.faults = at, ps.Requests, ps.Injected()
		return s, err
	}
	idleBefore, err := scrape(0)
	if err != nil {
		return err
	}

	w, err := sim.DemoWorld()
	if err != nil {
		return err
	}
	simCtx, stopSim := context.WithTimeout(ctx, *duration)
	defer stopSim()
	tr, err := sim.NewWebSocket(simCtx, sim.WebSocketConfig{URL: child.url, Players: *players, Concurrent: true,
		BudgetMS: uint32(budget.Milliseconds())})
	if err != nil {
		return err
	}
	type simDone struct {
		res sim.Result
		err error
	}
	done := make(chan simDone, 1)
	start := time.Now()
	go func() {
		// Ticks without end: the run ends with simCtx, at -duration.
		res, err := sim.Run(simCtx, tr, w, sim.Config{Players: *players, Ticks: math.MaxInt32, Seed: *seed})
		done <- simDone{res, err}
	}()

	printSoakHeader(stdout)
	var samples []soakSample
	tick := time.NewTicker(*sample)
	defer tick.Stop()
	var simRes simDone
	for running := true; running; {
		select {
		case <-tick.C:
			s, err := scrape(time.Since(start))
			if err != nil {
				fmt.Fprintf(stdout, "  scrape at %v: %v\n", time.Since(start).Round(time.Second), err)
				continue
			}
			samples = append(samples, s)
			printSoakRow(stdout, s)
		case simRes = <-done:
			running = false
		case <-child.done:
			stopSim()
			simRes = <-done
			tr.Close()
			return fmt.Errorf("the server exited during the soak:\n%s", child.tail())
		}
	}
	elapsed := time.Since(start)
	tr.Close()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// The run ends by its own deadline: an error is expected then, a
	// failure only before it.
	if simRes.err != nil && !errors.Is(simRes.err, context.DeadlineExceeded) {
		return fmt.Errorf("sim: %w", simRes.err)
	}
	// After the players leave, the server should drop back to about its
	// idle goroutine count once the attempts abandoned at the deadline
	// have returned: report where it settles.
	idleAfter := idleBefore
	for t0 := time.Now(); ; {
		s, err := scrape(time.Since(start))
		if err != nil {
			return err
		}
		idleAfter = s
		if s.goroutines <= idleBefore.goroutines+soakGoroutineSlack || time.Since(t0) > soakIdleSettleLimit {
			break
		}
		time.Sleep(time.Second)
	}
	rep := soakReport{duration: *duration, elapsed: elapsed, samples: samples, idleBefore: idleBefore, idleAfter: idleAfter,
		sim: simRes.res, proxy: proxy.Stats(), llm: llm.Requests()}
	return rep.write(stdout)
}

func printSoakHeader(w io.Writer) {
	fmt.Fprintf(w, "%8s %10s %9s %9s %9s %9s %8s %8s %8s %8s %8s %8s %8s %8s %8s %8s\n", "t", "goroutine", "live MiB", "heap MiB", "goal MiB", "RSS MiB",
		"replies", "on time", "remote", "floor", "attempts", "b.errors", "timeouts", "rejects", "skips", "faults")
}

func printSoakRow(w io.Writer, s soakSample) {
	fmt.Fprintf(w, "%8s %10.0f %9.1f %9.1f %9.1f %9.1f %8.0f %7.2f%% %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %8.0f %8d\n",
		s.at.Round(time.Second), s.goroutines, s.heapLive/(1<<20), s.heapInuse/(1<<20), s.heapGoal/(1<<20), s.rss/(1<<20),
		s.replies, 100*share(s.onTime, s.replies), s.remoteReplies, s.floor, s.attempts, s.bErrors, s.timeouts, s.rejct, s.skips, s.faults)
}

func share(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// scrapeSoak reads the child's /metrics (Prometheus text format).
func scrapeSoak(ctx context.Context, url string) (soakSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return soakSample{}, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return soakSample{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return soakSample{}, fmt.Errorf("scrape %s: %s", url, res.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		return soakSample{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	// sum adds a family's samples whose labels match every given pair.
	sum := func(name string, match ...string) float64 {
		f := fams[name]
		if f == nil {
			return 0
		}
		total := 0.0
	next:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(match); i += 2 {
				if label(m, match[i]) != match[i+1] {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				total += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				total += m.GetGauge().GetValue()
			case m.GetUntyped() != nil:
				total += m.GetUntyped().GetValue()
			}
		}
		return total
	}
	s := soakSample{
		goroutines:    sum("go_goroutines"),
		heapLive:      sum("go_gc_heap_live_bytes"),
		heapInuse:     sum("go_memstats_heap_inuse_bytes"),
		heapAlloc:     sum("go_memstats_heap_alloc_bytes"),
		heapGoal:      sum("go_memstats_next_gc_bytes"),
		rss:           sum("process_resident_memory_bytes"),
		replies:       sum("hearth_runtime_replies_total"),
		onTime:        sum("hearth_runtime_replies_total", "on_time", "true"),
		floor:         sum("hearth_runtime_replies_total", "floor", "true"),
		remoteReplies: sum("hearth_runtime_replies_total", "tier", "remote"),
		attempts:      sum("hearth_router_attempts_total"),
		bErrors:       sum("hearth_router_errors_total"),
		timeouts:      sum("hearth_router_timeouts_total"),
		rejct:         sum("hearth_router_rejects_total"),
		skips:         sum("hearth_router_skips_total"),
		conns:         sum("hearth_server_connections"),
	}
	if fams["go_goroutines"] == nil || fams["go_gc_heap_live_bytes"] == nil {
		return s, fmt.Errorf("scrape %s: no go_goroutines or go_gc_heap_live_bytes (a hearth serve older than the soak?)", url)
	}
	return s, nil
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// soakReport is the summary of a run.
type soakReport struct {
	duration, elapsed     time.Duration
	samples               []soakSample
	idleBefore, idleAfter soakSample
	sim                   sim.Result
	proxy                 faultproxy.Stats
	llm                   int64
}

// trend summarises one series after warm-up: the medians of the start
// window (10–20 % of the run) and of the last 10 %, and the least-squares
// slope per minute over every sample after warm-up.
type trend struct {
	start, end, slope float64
	n                 int
}

func (r *soakReport) trend(v func(soakSample) float64) trend {
	warm := time.Duration(soakWarmupShare * float64(r.duration))
	var startW, endW, xs, ys []float64
	for _, s := range r.samples {
		if s.at < warm {
			continue
		}
		x, y := s.at.Minutes(), v(s)
		xs, ys = append(xs, x), append(ys, y)
		if s.at < 2*warm {
			startW = append(startW, y)
		}
		if s.at >= r.duration-warm {
			endW = append(endW, y)
		}
	}
	t := trend{start: median(startW), end: median(endW), n: len(xs)}
	if len(startW) == 0 && len(ys) > 0 {
		t.start = ys[0]
	}
	if len(endW) == 0 && len(ys) > 0 {
		t.end = ys[len(ys)-1]
	}
	t.slope = slope(xs, ys)
	return t
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// slope is the least-squares slope of ys over xs (0 with fewer than two
// distinct xs).
func slope(xs, ys []float64) float64 {
	n := float64(len(xs))
	if n < 2 {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
		sxx += xs[i] * xs[i]
		sxy += xs[i] * ys[i]
	}
	d := n*sxx - sx*sx
	if d == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / d
}

// write prints the summary and returns an error when a tolerance is
// exceeded.
func (r *soakReport) write(w io.Writer) error {
	const mib = 1 << 20
	last := r.idleAfter
	if len(r.samples) > 0 {
		last = r.samples[len(r.samples)-1]
	}
	fmt.Fprintf(w, "\nsummary: %v of load (%d samples; warm-up: the first %.0f %%, start: %.0f–%.0f %%, end: the last %.0f %%)\n",
		r.elapsed.Round(time.Second), len(r.samples), 100*soakWarmupShare, 100*soakWarmupShare, 200*soakWarmupShare, 100*soakWarmupShare)
	var failures []string
	check := func(name, unit string, scale float64, v func(soakSample) float64, slack float64, gate bool) {
		t := r.trend(v)
		limit := t.start*(1+soakGrowth) + slack
		verdict := "ok"
		switch {
		case t.n < 2:
			verdict = "too few samples to judge"
			if gate {
				failures = append(failures, name+": too few samples after warm-up")
			}
		case t.end > limit:
			verdict = "GREW"
			if gate {
				failures = append(failures, fmt.Sprintf("%s: end median %.1f%s > limit %.1f%s", name, t.end/scale, unit, limit/scale, unit))
			}
		}
		if !gate && verdict == "GREW" {
			verdict = "grew (reported, not gated)"
		}
		fmt.Fprintf(w, "  %-12s idle %8.1f%s → start %8.1f%s → end %8.1f%s (limit %.1f%s), slope %+.2f%s/min, idle after %.1f%s: %s\n",
			name, v(r.idleBefore)/scale, unit, t.start/scale, unit, t.end/scale, unit, limit/scale, unit, t.slope/scale, unit,
			v(r.idleAfter)/scale, unit, verdict)
	}
	check("goroutines", "", 1, func(s soakSample) float64 { return s.goroutines }, soakGoroutineSlack, true)
	check("live heap", " MiB", mib, func(s soakSample) float64 { return s.heapLive }, soakHeapSlackBytes, true)
	check("heap in use", " MiB", mib, func(s soakSample) float64 { return s.heapInuse }, soakHeapSlackBytes, false)
	check("heap goal", " MiB", mib, func(s soakSample) float64 { return s.heapGoal }, soakHeapSlackBytes, false)
	check("RSS", " MiB", mib, func(s soakSample) float64 { return s.rss }, soakHeapSlackBytes, false)

	fmt.Fprintf(w, "  (start and end are medians of their samples; idle: before the players came and after they left; only goroutines and the live heap are gated)\n")
	fmt.Fprintf(w, "  server:      %.0f replies, %.2f %% on time, %.0f from the remote model, %.0f from the floor in its place (failure, timeout or skip)\n",
		last.replies, 100*share(last.onTime, last.replies), last.remoteReplies, last.floor)
	fmt.Fprintf(w, "  router:      %.0f remote attempts: %.0f errors, %.0f timeouts, %.0f rejected (circuit open), %.0f skipped (predicted too slow)\n",
		last.attempts, last.bErrors, last.timeouts, last.rejct, last.skips)
	fmt.Fprintf(w, "  sim:         (its count includes quest offers, which the server counts apart)\n")
	fmt.Fprintf(w, "  sim:         %d ticks, %d answered, %.2f %% on time, %d errors, replies by tier: %s; quests offered %d, completed %d\n",
		r.simTicks(), r.sim.Answered, 100*r.sim.OnTimeShare(), r.sim.Errors, countList(r.sim.Replies), r.sim.QuestsOffered, r.sim.QuestsCompleted)
	ps := r.proxy
	fmt.Fprintf(w, "  faults:      %d of %d remote requests: 429 ×%d, 500 ×%d, 503 ×%d, stalls %d, malformed %d, resets %d; latency added to %d (mean %v); %d reached the model\n",
		ps.Injected(), ps.Requests, ps.Errors[429], ps.Errors[500], ps.Errors[503], ps.Stalls, ps.Malformed, ps.Resets,
		ps.Delayed, meanDur(ps.DelayTotal, ps.Delayed), r.llm)
	if len(failures) > 0 {
		fmt.Fprintf(w, "result: FAIL\n")
		return fmt.Errorf("%w: %s", errSoakGrew, strings.Join(failures, "; "))
	}
	fmt.Fprintf(w, "result: PASS (goroutines and heap within %.0f %% + slack of their post-warm-up level)\n", 100*soakGrowth)
	return nil
}

func (r *soakReport) simTicks() int {
	// A run cut off by its deadline leaves Result.Ticks unset; the log
	// lines still count what happened.
	if r.sim.Ticks > 0 {
		return r.sim.Ticks
	}
	n := 0
	for _, v := range r.sim.Actions {
		n += v
	}
	return n / max(r.sim.Players, 1)
}

func meanDur(total time.Duration, n uint64) time.Duration {
	if n == 0 {
		return 0
	}
	return (total / time.Duration(n)).Round(time.Millisecond)
}

// servingLine matches the line serve prints once it listens (serve.go):
// the NPC count and the WebSocket URL. Tests read it too.
var servingLine = regexp.MustCompile(`serving (\d+) NPCs on (ws://\S+)`)

// soakChild is the hearth serve process of a soak, started like the
// end-to-end tests start theirs: its own process group (a Ctrl-C at the
// terminal reaches the soak, which stops it in order), stdout scanned for
// the serving line, stderr to a log file.
type soakChild struct {
	cmd     *exec.Cmd
	url     string
	logPath string
	done    chan struct{} // closed when the process has exited
}

func startSoakChild(ctx context.Context, bin, logPath string, args ...string) (*soakChild, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	c := &soakChild{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		defer close(c.done)
		defer logf.Close()
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := servingLine.FindStringSubmatch(sc.Text()); m != nil {
				select { // the first; later lines must not block the drain
				case urls <- m[2]:
				default:
				}
			}
		}
		cmd.Wait()
	}()
	wait := time.NewTimer(soakChildStartWait)
	defer wait.Stop()
	select {
	case c.url = <-urls:
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("%s serve exited before serving:\n%s", bin, c.tail())
	case <-wait.C:
		err = fmt.Errorf("%s serve did not start serving within %v", bin, soakChildStartWait)
	case <-ctx.Done():
		err = ctx.Err()
	}
	return nil, errors.Join(err, c.stop())
}

// stop interrupts the server (SIGINT, its clean shutdown), waits for it,
// and kills its process group if it has not exited in soakChildStopWait.
// It reports a server that had to be killed or exited with an error.
func (c *soakChild) stop() error {
	select {
	case <-c.done:
	default:
		c.cmd.Process.Signal(os.Interrupt)
		t := time.NewTimer(soakChildStopWait)
		defer t.Stop()
		select {
		case <-c.done:
		case <-t.C:
			syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
			<-c.done
			return fmt.Errorf("the server ignored SIGINT for %v and was killed:\n%s", soakChildStopWait, c.tail())
		}
	}
	if st := c.cmd.ProcessState; st != nil && !st.Success() {
		return fmt.Errorf("the server exited with %v:\n%s", st, c.tail())
	}
	return nil
}

// tail is the end of the server's log.
func (c *soakChild) tail() string {
	b, _ := os.ReadFile(c.logPath)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

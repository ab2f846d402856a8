package inference

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// DefaultBudget is the time the Router allows a request whose context has no
// deadline: the 50 ms player-facing budget of DESIGN §1 (the latency
// contract). Callers that want a different budget set a deadline on ctx.
const DefaultBudget = 50 * time.Millisecond

// DefaultFloorReserve is RouterOptions.FloorReserve's default: the time kept
// before the deadline to run the floor. The template floor needs tens of
// microseconds; 2 ms also covers a goroutine being descheduled once on a
// loaded host.
const DefaultFloorReserve = 2 * time.Millisecond

// DefaultFitQuantile is RouterOptions.FitQuantile's default. A backend is
// tried only when it is predicted to finish in time 9 times in 10; the floor
// answers the tenth.
const DefaultFitQuantile = 0.9

// DefaultPredictTokens is the reply length, in tokens, the Router assumes
// when predicting the completion time of a request whose MaxTokens is 0:
// about one spoken NPC line.
const DefaultPredictTokens = 64

// RouterOptions configures a Router. The zero value is valid: every field
// has a documented default.
type RouterOptions struct {
	// FloorReserve is the time kept before the deadline to run the floor:
	// backends run with a deadline FloorReserve before the request's.
	// Default DefaultFloorReserve (2 ms); must not be negative.
	FloorReserve time.Duration

	// FitQuantile is the quantile of a backend's observed time to first
	// token and time per token that predicts its completion time. Higher is
	// more conservative: fewer attempts that run out of time, more floor
	// answers. Default DefaultFitQuantile (0.9); must be in (0, 1).
	FitQuantile float64

	// Cache, when set, is consulted before any backend for requests with
	// a Request.CacheKey, and filled with their answers (DESIGN §4: the
	// response cache is the fastest tier). Nil disables caching.
	Cache *ResponseCache
	// Semantic, when set with Cache, is consulted after an exact-cache
	// miss and filled alongside it (SemanticCache). Nil: none.
	Semantic *SemanticCache

	// BreakerFailures consecutive failed attempts (errors, malformed
	// output, timeouts) open a backend's circuit: it gets no calls until
	// BreakerCooldown has passed, then one probe at a time; a probe that
	// fails doubles the cooldown, up to BreakerMaxCooldown. Defaults
	// DefaultBreakerFailures, DefaultBreakerCooldown and
	// DefaultBreakerMaxCooldown; negative values are invalid.
	BreakerFailures    int
	BreakerCooldown    time.Duration
	BreakerMaxCooldown time.Duration

	// RelaxInterval: a backend skipped because it was predicted too slow,
	// and neither tried nor relaxed for this long, has its estimates moved
	// one step back toward their seeds (Info.Expected*) on the next skip.
	// Without it a backend whose estimates one stalled stream poisoned is
	// never tried again, so they never recover (issue 9's soak found
	// this). With the default estimator decay a single outlier stops
	// blocking after about ten steps. Default DefaultRelaxInterval;
	// negative values are invalid.
	RelaxInterval time.Duration

	// MaxHedgeShare caps the share of requests that are hedged: when the
	// backend tried first has not sent its first token by its expected
	// time (the 0.9 quantile of its observed time to first token), the
	// next backend that fits the time left is started beside it, its
	// answer buffered. The first backend keeps the reply if it answers
	// by the deadline (it is the better one); the hedge's answer stands
	// in when it fails or runs out of time, where otherwise there would
	// be no time left for any tier but the floor. A hedge costs a second call,
	// so at most this share of requests get one, over time (a token
	// bucket with a burst of DefaultHedgeBurst). Default
	// DefaultMaxHedgeShare; must be in [0, 1]; NoHedging turns hedging
	// off.
	MaxHedgeShare float64
	NoHedging     bool

	// DailySpendCapUSD caps what billed backends (with Info.Prices) may charge,
	// in US dollars per UTC day, over every request: once the day's spend
	// (the sum of Result.CostUSD of their replies, refinements and hedges
	// included) reaches it, the Router stops calling them until 00:00 UTC
	// and answers from the cache, in-process tiers and the floor; counted
	// in BackendStats.SpendCapped. Per-player caps live in the server
	// (server.Limits.Daily). 0: no cap; negative values are invalid.
	DailySpendCapUSD float64

	// StallTimeout: a stream that has started and then sends nothing for
	// this long is abandoned as stalled, counted as a timeout of its
	// backend (BackendStats.Stalls), and the request falls back to the
	// next tier that fits the time left, like any other failure, instead
	// of waiting out its deadline. Default DefaultStallTimeout; negative
	// values are invalid.
	StallTimeout time.Duration

	// MaxRequestCostUSD caps what one request may cost, in US dollars: a
	// backend whose predicted cost (PredictCost: its Info.Prices over the
	// prompt's estimated tokens and the reply's MaxTokens) is above the
	// cap is passed over like one that does not fit the budget
	// (BackendStats.CostSkips). Request.MaxCostUSD overrides it per
	// request. 0: no cap; negative values are invalid.
	MaxRequestCostUSD float64
}

// DefaultStallTimeout is RouterOptions.StallTimeout's default: about 30
// tokens' time at a remote model's 60 tokens/s, far beyond the gaps of a
// healthy stream.
const DefaultStallTimeout = 500 * time.Millisecond

// Hedging defaults (RouterOptions.MaxHedgeShare).
const (
	DefaultMaxHedgeShare = 0.1
	// DefaultHedgeBurst is how many hedges may run back to back before
	// the share applies: a burst of slow first tokens is hedged whole.
	DefaultHedgeBurst = 5
)

// DefaultRelaxInterval is RouterOptions.RelaxInterval's default: a
// backend that was poisoned by one stalled stream is tried again within
// about 20 s of requests that skip it.
const DefaultRelaxInterval = 2 * time.Second

// BackendStats is a snapshot of what the Router knows about one backend.
type BackendStats struct {
	Name    string
	Tier    Tier
	Quality int
	Floor   bool // this entry is the floor

	// Latency estimates: decaying quantiles of observed behaviour, seeded
	// from Info.ExpectedTTFT and Info.ExpectedTokensPerSecond. The floor's
	// estimates stay at its seeds (the floor is never predicted, it always
	// runs).
	TTFTP50         time.Duration
	TTFTP90         time.Duration
	TokensPerSecond float64 // from the median time per token

	Calls          uint64 // attempts started (for the floor: floor answers)
	Errors         uint64 // attempts that failed: error, malformed or empty output
	Timeouts       uint64 // attempts cut off by the deadline
	Skips          uint64 // requests where it was not tried: predicted not to fit
	Relaxed        uint64 // steps its estimates took back toward their seeds while it was skipped (RouterOptions.RelaxInterval)
	Hedged         uint64 // requests where it was slow to start and the next backend was started beside it
	HedgeWins      uint64 // hedges on this backend whose reply was used (the first backend failed or ran out of time)
	FloorFallbacks uint64 // requests where it was tried first and the floor answered
	InFlight       int64  // attempts running now, including abandoned ones not yet returned

	Circuit      string // CircuitClosed, CircuitOpen or CircuitHalfOpen
	CircuitOpens uint64 // times the circuit has opened
	Rejects      uint64 // requests where it was not tried: circuit open or Info.MaxInFlight reached
	SpendCapped  uint64 // requests where it was not tried: it bills and RouterOptions.DailySpendCapUSD was reached
	Stalls       uint64 // streams abandoned after RouterOptions.StallTimeout without a token (counted in Timeouts too)
	CostSkips    uint64 // requests where it was not tried: its predicted cost was above the request's cost cap
}

// Router answers every request inside its deadline by choosing, per
// request, the highest-quality backend predicted to finish in time, falling
// back to the next one that still fits on failure, and finally to the floor
// (DESIGN §4). It is safe for concurrent use.
//
// Backends run on their own goroutine so that a backend that overruns can
// never delay the floor answer. When an attempt is abandoned its context is
// cancelled and its sink is disconnected; its goroutine ends when the
// backend's Generate returns, so every Model must honour ctx (see Model).
type Router struct {
	floor      Model
	floorInf   Info
	floorSt    *backend
	backends   []*backend // Quality descending
	reserve    time.Duration
	cache      *ResponseCache
	sem        *SemanticCache
	iP50       int // indices into the estimators' quantiles
	iP90       int
	iFit       int
	relaxEvery time.Duration // RouterOptions.RelaxInterval
	spend      *spendBook    // nil: no daily spend cap
	stallAfter time.Duration // RouterOptions.StallTimeout
	maxCost    float64       // RouterOptions.MaxRequestCostUSD

	// Hedging: a token bucket of hedges (RouterOptions.MaxHedgeShare).
	hedgeOn    bool
	hedgeShare float64
	hedgeReqs  atomic.Uint64 // requests that could be hedged, counted lock-free
	hedgeMu    sync.Mutex    // guards the rest, taken only when a hedge is due
	hedgeSeen  uint64        // hedgeReqs already turned into credit
	hedgeCred  float64

	decided decisions // requests answered, by Reason (trace.go)
}

type backend struct {
	m    Model
	info Info
	ttft *quantileEstimator // nanoseconds
	tok  *quantileEstimator // nanoseconds per token

	calls, errors, timeouts, skips, floorFallbacks, rejects atomic.Uint64
	hedged, hedgeWins                                       atomic.Uint64
	spendCapped                                             atomic.Uint64 // not called: the daily spend cap was reached
	stalls                                                  atomic.Uint64 // streams abandoned as stalled (also timeouts)
	costSkips                                               atomic.Uint64 // passed over: predicted cost above the request's cap
	billed                                                  atomic.Bool   // a reply of it carried a cost
	inFlight                                                atomic.Int64
	breaker                                                 *breaker
	// lastSeen is when the backend was last tried or relaxed (Unix ns).
	lastSeen atomic.Int64
	relaxed  atomic.Uint64   // relax steps taken (BackendStats.Relaxed)
	pred     predictionStats // actual over predicted completion time (trace.go)
}

// NewRouter returns a Router over backends with floor as the last resort.
// floor is required and must answer in microseconds without failing (the
// template floor does). Backends are tried in order of Info().Quality,
// highest first; ties keep the given order. It returns an error for a nil
// floor or backend, a duplicate backend name, or an invalid option.
func NewRouter(floor Model, backends []Model, opts RouterOptions) (*Router, error) {
	if floor == nil {
		return nil, errors.New("inference: NewRouter: floor is nil; a Router needs a floor (e.g. template.New())")
	}
	if opts.FloorReserve < 0 {
		return nil, fmt.Errorf("inference: NewRouter: RouterOptions.FloorReserve is %v; it must not be negative", opts.FloorReserve)
	}
	if opts.FloorReserve == 0 {
		opts.FloorReserve = DefaultFloorReserve
	}
	if opts.FitQuantile == 0 {
		opts.FitQuantile = DefaultFitQuantile
	}
	if !(opts.FitQuantile > 0 && opts.FitQuantile < 1) {
		return nil, fmt.Errorf("inference: NewRouter: RouterOptions.FitQuantile is %v; it must be in (0, 1)", opts.FitQuantile)
	}
	switch {
	case opts.RelaxInterval < 0:
		return nil, fmt.Errorf("inference: NewRouter: RouterOptions.RelaxInterval is %v; it must not be negative", opts.RelaxInterval)
	case opts.RelaxInterval == 0:
		opts.RelaxInterval = DefaultRelaxInterval
	}
	switch {
	case !(opts.MaxHedgeShare >= 0 && opts.MaxHedgeShare <= 1):
		return nil, fmt.Errorf("inference: NewRouter: RouterOptions.MaxHedgeShare is %v; it must be in [0, 1]", opts.MaxHedgeShare)
	case opts.MaxHedgeShare == 0:
		opts.MaxHedgeShare = DefaultMaxHedgeShare
	}
	switch {
	case opts.StallTimeout < 0:
		return nil, fmt.Errorf("inference: NewRouter: RouterOptions.StallTimeout is %v; it must not be negative", opts.StallTimeout)
	case opts.StallTimeout == 0:
		opts.StallTimeout = DefaultStallTimeout
	}
	if opts.MaxRequestCostUSD < 0 {
		return nil, fmt.Errorf("inference: NewRouter: RouterOptions.MaxRequestCostUSD is %v; it must be 0 (no cap) or positive", opts.MaxRequestCostUSD)
	}
	if opts.DailySpendCapUSD < 0 {
		return nil, fmt.Errorf("inference: NewRouter: RouterOptions.DailySpendCapUSD is %v; it must be 0 (no cap) or positive", opts.DailySpendCapUSD)
	}
	if opts.BreakerFailures < 0 || opts.BreakerCooldown < 0 || opts.BreakerMaxCooldown < 0 {
		return nil, fmt.Errorf("inference: NewRouter: breaker options (%d failures, cooldown %v, max %v) must not be negative",
			opts.BreakerFailures, opts.BreakerCooldown, opts.BreakerMaxCooldown)
	}
	if opts.BreakerFailures == 0 {
		opts.BreakerFailures = DefaultBreakerFailures
	}
	if opts.BreakerCooldown == 0 {
		opts.BreakerCooldown = DefaultBreakerCooldown
	}
	if opts.BreakerMaxCooldown == 0 {
		opts.BreakerMaxCooldown = max(DefaultBreakerMaxCooldown, opts.BreakerCooldown)
	}
	qs := []float64{0.5, 0.9, opts.FitQuantile}
	slices.Sort(qs)
	qs = slices.Compact(qs)
	r := &Router{
		floor:      floor,
		floorInf:   floor.Info(),
		reserve:    opts.FloorReserve,
		cache:      opts.Cache,
		sem:        opts.Semantic,
		iP50:       slices.Index(qs, 0.5),
		iP90:       slices.Index(qs, 0.9),
		iFit:       slices.Index(qs, opts.FitQuantile),
		relaxEvery: opts.RelaxInterval,
		spend:      newSpendBook(opts.DailySpendCapUSD),
		stallAfter: opts.StallTimeout,
		maxCost:    opts.MaxRequestCostUSD,
		hedgeOn:    !opts.NoHedging && len(backends) > 1,
		hedgeShare: opts.MaxHedgeShare,
		hedgeCred:  DefaultHedgeBurst,
	}
	r.floorSt = newBackend(floor, r.floorInf, qs)
	seen := map[string]bool{r.floorInf.Name: true}
	for i, m := range backends {
		if m == nil {
			return nil, fmt.Errorf("inference: NewRouter: backends[%d] is nil", i)
		}
		inf := m.Info()
		if seen[inf.Name] {
			return nil, fmt.Errorf("inference: NewRouter: backends[%d]: duplicate backend name %q", i, inf.Name)
		}
		seen[inf.Name] = true
		b := newBackend(m, inf, qs)
		b.breaker = newBreaker(opts.BreakerFailures, opts.BreakerCooldown, opts.BreakerMaxCooldown)
		r.backends = append(r.backends, b)
	}
	slices.SortStableFunc(r.backends, func(a, b *backend) int { return b.info.Quality - a.info.Quality })
	return r, nil
}

func newBackend(m Model, inf Info, qs []float64) *backend {
	perTok := 0.0
	if inf.ExpectedTokensPerSecond > 0 {
		perTok = float64(time.Second) / inf.ExpectedTokensPerSecond
	}
	b := &backend{
		m:    m,
		info: inf,
		ttft: newQuantileEstimator(float64(inf.ExpectedTTFT), qs...),
		tok:  newQuantileEstimator(perTok, qs...),
	}
	b.lastSeen.Store(time.Now().UnixNano())
	return b
}

// Backends describes the backends in the order the Router prefers them,
// followed by the floor.
func (r *Router) Backends() []Info {
	out := make([]Info, 0, len(r.backends)+1)
	for _, b := range r.backends {
		out = append(out, b.info)
	}
	return append(out, r.floorInf)
}

// Stats returns a snapshot per backend, in the order of Backends (the floor
// last).
func (r *Router) Stats() []BackendStats {
	out := make([]BackendStats, 0, len(r.backends)+1)
	for _, b := range r.backends {
		out = append(out, r.stats(b))
	}
	st := r.stats(r.floorSt)
	st.Floor = true
	return append(out, st)
}

func (r *Router) stats(b *backend) BackendStats {
	st := BackendStats{
		Name:           b.info.Name,
		Tier:           b.info.Tier,
		Quality:        b.info.Quality,
		TTFTP50:        time.Duration(b.ttft.quantile(r.iP50)),
		TTFTP90:        time.Duration(b.ttft.quantile(r.iP90)),
		Calls:          b.calls.Load(),
		Errors:         b.errors.Load(),
		Timeouts:       b.timeouts.Load(),
		Skips:          b.skips.Load(),
		Relaxed:        b.relaxed.Load(),
		Hedged:         b.hedged.Load(),
		HedgeWins:      b.hedgeWins.Load(),
		FloorFallbacks: b.floorFallbacks.Load(),
		InFlight:       b.inFlight.Load(),
		Rejects:        b.rejects.Load(),
		SpendCapped:    b.spendCapped.Load(),
		Stalls:         b.stalls.Load(),
		CostSkips:      b.costSkips.Load(),
		Circuit:        CircuitClosed,
	}
	if b.breaker != nil {
		st.Circuit, st.CircuitOpens = b.breaker.snapshot()
	}
	if perTok := b.tok.quantile(r.iP50); perTok > 0 {
		st.TokensPerSecond = float64(time.Second) / perTok
	}
	return st
}

// Caches reports whether the Router has a response cache
// (RouterOptions.Cache).
func (r *Router) Caches() bool { return r.cache != nil }

// relax moves a skipped backend's estimates one step toward their seeds
// when it has been neither tried nor relaxed for RelaxInterval (see
// RouterOptions.RelaxInterval). Concurrent skips relax it once.
func (r *Router) relax(b *backend) {
	now := time.Now().UnixNano()
	last := b.lastSeen.Load()
	if now-last < int64(r.relaxEvery) || !b.lastSeen.CompareAndSwap(last, now) {
		return
	}
	b.ttft.relax()
	b.tok.relax()
	b.relaxed.Add(1)
}

// predict returns the predicted completion time of req on b.
func (r *Router) predict(b *backend, req *Request) time.Duration {
	n := req.MaxTokens
	if n <= 0 {
		n = DefaultPredictTokens
	}
	return time.Duration(b.ttft.quantile(r.iFit) + float64(n)*b.tok.quantile(r.iFit))
}

// Floor runs the floor synchronously, ignoring any deadline, and returns its
// answer. The runtime calls it when its own deadline fires before Generate
// returns. Result.Floor is set when the Router has backends (something
// better could have answered). A floor that fails returns its partial
// Result; the template floor never fails.
func (r *Router) Floor(req *Request) Result {
	res, _ := r.runFloor(req, nil)
	res.Floor = len(r.backends) > 0
	res.Reason = ReasonFloorDeadline
	return res
}

func (r *Router) runFloor(req *Request, sink Sink) (Result, error) {
	r.floorSt.calls.Add(1)
	res, err := r.floor.Generate(context.Background(), req, sink)
	res.stamp(r.floorInf)
	if err != nil {
		r.floorSt.errors.Add(1)
		err = fmt.Errorf("%w: floor %q failed: %w", ErrNoBackend, r.floorInf.Name, err)
	}
	return res, err
}

// Generate answers req before ctx's deadline (DefaultBudget from now when
// ctx has none), streaming the answering backend's text to sink (which may
// be nil).
//
// It tries, best Quality first, each backend predicted to finish by the
// deadline minus FloorReserve, giving it a context with that deadline. A
// backend that errors, runs out of time, or returns malformed output
// (invalid UTF-8, empty text, an invalid UTF-8 chunk mid-stream) is a
// failure; the Router then tries the next backend that still fits and
// finally the floor, which always runs, even once ctx is done. If text from
// a failed attempt had reached sink, sink receives Delta{Reset: true} before
// the next attempt's text. A backend that returns without streaming has its
// text sent to sink as one delta. Sink is never called after Generate
// returns.
//
// The Result names the answering tier and backend; Floor is set when the
// floor answered although the Router has better backends, and FallbackFrom
// names the first backend that was tried and failed. Latency and TTFT are
// measured from the call to Generate. The error is non-nil (wrapping
// ErrNoBackend) only if the floor itself fails.
func (r *Router) Generate(ctx context.Context, req *Request, sink Sink) (Result, error) {
	var res Result
	var err error
	if ctx, span := StartSpan(ctx, SpanRoute); span.IsRecording() {
		res, err = r.generateTraced(ctx, span, req, sink)
	} else {
		res, err = r.generate(ctx, req, sink)
	}
	r.decided.count(res.Reason)
	return res, err
}

// generate is Generate without its span and count (trace.go).
func (r *Router) generate(ctx context.Context, req *Request, sink Sink) (Result, error) {
	start := time.Now()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = start.Add(DefaultBudget)
	}
	attemptDeadline := deadline.Add(-r.reserve)

	if req.CacheKey != "" {
		// Every request with this key generates the same text, cache or
		// no cache, so what a cache returns later is what this request
		// would have said.
		req.Seed = keySeed(req.CacheKey)
	}
	cacheable := r.cache != nil && req.CacheKey != ""
	var sk SemanticKey // the semantic cache's key, from its lookup (semcache.go)
	var fit int        // quality of the best backend that fits, when a cache or a refinement needs it
	if cacheable || req.Refine != nil {
		fit = r.bestFit(req, attemptDeadline)
	}
	if cacheable {
		// A cached answer serves if it is as good as the best backend
		// that could answer in the time left: an answer the floor gave a
		// 50 ms request does not stand in for the large model when a
		// caller with a 5 s budget asks the same.
		if c, ok := r.cacheGet(ctx, req, fit, &sk); ok {
			traceCache(ctx, start, true)
			res := c.Result
			res.Reason, res.Predicted = ReasonCache, 0
			// A cached answer is refined only by a better backend than
			// the one that wrote it.
			ref := r.startRefine(req, sk, c.Quality, start)
			if sink != nil {
				sink(Delta{Text: res.Text})
			}
			res.Backend = "cache:" + res.Backend
			res.Tier, res.Floor, res.FallbackFrom = TierCache, false, ""
			res.TTFT, res.Latency, res.CostUSD = 0, 0, 0
			res.Refining = ref.release()
			return r.finish(res, start), nil
		}
		traceCache(ctx, start, false)
	}
	var ref *refiner
	if req.Refine != nil {
		ref = r.startRefine(req, sk, fit, start)
	}

	r.earnHedge()
	var first *backend // first backend tried
	var hedge *backend // a backend already tried as a hedge
	rejected := false  // a backend that fitted refused the request
	for i, b := range r.backends {
		if ctx.Err() != nil {
			break
		}
		if b == hedge {
			continue
		}
		remaining := time.Until(attemptDeadline)
		if remaining <= 0 {
			break
		}
		if r.predict(b, req) > remaining {
			b.skips.Add(1)
			r.relax(b)
			continue
		}
		if r.capped(b, req, time.Now()) {
			continue // like a backend too slow for the budget: floor_no_fit
		}
		if !r.admit(b, time.Now()) {
			rejected = true
			continue
		}
		if first == nil {
			first = b
		}
		res, ok, by, h := r.attemptHedged(ctx, b, r.backends[i+1:], attemptDeadline, req, sink)
		if h != nil {
			hedge = h
		}
		if ok {
			res.stamp(by.info)
			res.Floor = false
			if first != by {
				res.FallbackFrom = first.info.Name
			}
			switch {
			case res.Hedged:
				res.Reason = ReasonHedge
			case first != by:
				res.Reason = ReasonFallback
			default:
				res.Reason = ReasonFit
			}
			if cacheable {
				r.cachePut(req, sk, res, by.info.Quality)
			}
			res.Refining = ref.release()
			return r.finish(res, start), nil
		}
	}

	_, floorSpan := StartSpan(ctx, SpanFloor)
	res, err := r.runFloor(req, sink)
	floorSpan.End()
	switch {
	case len(r.backends) == 0:
		res.Reason = ReasonFloorOnly
	case first != nil:
		res.Reason = ReasonFloorAfterFailure
	case rejected:
		res.Reason = ReasonFloorUnavailable
	default:
		res.Reason = ReasonFloorNoFit
	}
	if len(r.backends) > 0 {
		res.Floor = true
	}
	if cacheable && err == nil && first == nil {
		// No backend could have answered in this budget, so the floor is
		// the best answer there is at it and worth keeping (at the floor's
		// quality). A floor answer after a backend failed or ran out of
		// time is not: next time the backend may make it.
		r.cachePut(req, sk, res, r.floorInf.Quality)
	}
	if first != nil {
		res.FallbackFrom = first.info.Name
		first.floorFallbacks.Add(1)
	}
	res.Refining = ref.release()
	return r.finish(res, start), err
}

// stamp names the backend described by inf on a reply that did not name
// its tier or backend itself.
func (res *Result) stamp(inf Info) {
	if res.Tier == "" {
		res.Tier = inf.Tier
	}
	if res.Backend == "" {
		res.Backend = inf.Name
	}
}

// capped reports whether b may not be called for req at now because of a
// cost cap: a billed backend once the day's spend has reached the daily
// cap (counted in SpendCapped), or any backend whose predicted cost for
// req is above req's cap (CostSkips). Like a backend too slow for the
// budget, a capped one is passed over, not counted as a refusal.
func (r *Router) capped(b *backend, req *Request, now time.Time) bool {
	switch {
	case r.spend.stops(b, now):
		b.spendCapped.Add(1)
	case r.tooCostly(b, req):
		b.costSkips.Add(1)
	default:
		return false
	}
	return true
}

// admit is b.admit, counting a refusal in Rejects.
func (r *Router) admit(b *backend, now time.Time) bool {
	if !b.admit(now) {
		b.rejects.Add(1)
		return false
	}
	return true
}

// admit reserves an attempt on b: it refuses when b already runs
// Info.MaxInFlight attempts (abandoned ones included, so a server that
// hangs fills its slots) or its circuit is open. An admitted attempt is
// counted in flight; the attempt's goroutine releases it.
func (b *backend) admit(now time.Time) bool {
	for limit := int64(b.info.MaxInFlight); ; {
		n := b.inFlight.Load()
		if limit > 0 && n >= limit {
			return false
		}
		if b.inFlight.CompareAndSwap(n, n+1) {
			break
		}
	}
	if !b.breaker.allow(now) {
		b.inFlight.Add(-1)
		return false
	}
	return true
}

// bestFit is the quality of the best backend predicted to answer req
// before deadline whose circuit is not open, or the floor's when none is.
func (r *Router) bestFit(req *Request, deadline time.Time) int {
	now := time.Now()
	remaining := deadline.Sub(now)
	for _, b := range r.backends {
		if r.predict(b, req) <= remaining && !b.breaker.closedTo(now) && !r.spend.stops(b, now) && !r.tooCostly(b, req) {
			return b.info.Quality
		}
	}
	return r.floorInf.Quality
}

// finish rebases TTFT and Latency onto the Generate call.
func (r *Router) finish(res Result, start time.Time) Result {
	now := time.Now()
	total := now.Sub(start)
	if res.Latency > 0 && res.Latency <= total {
		res.TTFT += total - res.Latency
	} else if res.TTFT == 0 {
		res.TTFT = total
	}
	res.Latency = total
	return res
}

// earnHedge adds one request's share to the hedge bucket.
// It is one atomic add per request; pickHedge turns the count into credit
// when a hedge is due (adding k shares with the cap applied once equals
// adding them one at a time, since the bucket only fills between hedges).
func (r *Router) earnHedge() {
	if r.hedgeOn {
		r.hedgeReqs.Add(1)
	}
}

// pickHedge returns the first of rest that fits the time left before
// deadline and admits an attempt, having taken a hedge from the bucket,
// or nil (no credit, or no backend fits).
func (r *Router) pickHedge(rest []*backend, req *Request, deadline time.Time) *backend {
	r.hedgeMu.Lock()
	defer r.hedgeMu.Unlock()
	n := r.hedgeReqs.Load()
	r.hedgeCred = min(r.hedgeCred+r.hedgeShare*float64(n-r.hedgeSeen), DefaultHedgeBurst)
	r.hedgeSeen = n
	if r.hedgeCred < 1 {
		return nil
	}
	remaining := time.Until(deadline)
	for _, h := range rest {
		if r.predict(h, req) <= remaining && !r.capped(h, req, time.Now()) && r.admit(h, time.Now()) {
			r.hedgeCred--
			return h
		}
	}
	return nil
}

// attemptHedged runs b like attempt, hedging it (see
// RouterOptions.MaxHedgeShare) with the first of rest that fits when b has
// sent nothing by its expected time to first token. It returns the reply,
// whether there is one, the backend that gave it, and the hedge backend
// it started (nil if none), which the caller does not try again. The
// hedge's text is buffered and reaches sink only if the hedge wins.
func (r *Router) attemptHedged(ctx context.Context, b *backend, rest []*backend, deadline time.Time, req *Request, sink Sink) (Result, bool, *backend, *backend) {
	a := r.launch(ctx, b, deadline, req, sink)
	var h *backend
	if r.hedgeOn && len(rest) > 0 && !b.info.Inline { // an inline attempt has returned: nothing to hedge
		timer := time.NewTimer(time.Until(a.start.Add(time.Duration(b.ttft.quantile(r.iP90)))))
		select {
		case <-timer.C: // nothing yet by its expected time: hedge if a tier fits
			select { // unless it answered or began just now (select picks among ready cases at random)
			case <-a.done:
			case <-a.firstCh:
			default:
				h = r.pickHedge(rest, req, deadline)
			}
		case <-a.done:
		case <-a.firstCh: // streaming: no hedge
		case <-a.ctx.Done():
		}
		timer.Stop()
	}
	if h == nil {
		res, ok := r.settle(ctx, b, a, a.wait())
		return res, ok, b, nil
	}
	b.hedged.Add(1)
	ha := r.launch(ctx, h, deadline, req, nil)
	ha.markHedge()
	select {
	case <-a.firstCh:
		// The first backend started after all: it keeps the reply.
		r.abandon(h, ha)
		res, ok := r.settle(ctx, b, a, a.wait())
		return res, ok, b, h
	case <-ha.done:
		// The hedge is insurance, not a race: the first backend is the
		// better one, so it keeps its chance until the deadline, and the
		// hedge's answer stands in only if it fails or runs out of time
		// (where the floor would have answered otherwise).
		hres, hok := r.settle(ctx, h, ha, true)
		if res, ok := r.settle(ctx, b, a, a.wait()); ok {
			return res, true, b, h
		}
		return r.hedgeWon(hres, hok, h, sink)
	case <-a.done:
	case <-a.ctx.Done():
	}
	// The first backend returned or ran out of time before the hedge did.
	if res, ok := r.settle(ctx, b, a, a.wait()); ok {
		r.abandon(h, ha)
		return res, true, b, h
	}
	res, ok := r.settle(ctx, h, ha, ha.wait())
	return r.hedgeWon(res, ok, h, sink)
}

// abandon ends a hedge the first backend's reply made unneeded: it is
// cancelled and its late deltas dropped (its sink is nil: nothing was
// streamed), and it counts as no failure of h and teaches nothing.
func (r *Router) abandon(h *backend, a *attempt) {
	a.cancel()
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	h.breaker.abandon()
	a.endAttempt(outcomeAbandoned, 0)
}

// hedgeWon hands a hedge's buffered reply to sink and counts the win.
func (r *Router) hedgeWon(res Result, ok bool, h *backend, sink Sink) (Result, bool, *backend, *backend) {
	if ok {
		h.hedgeWins.Add(1)
		res.Hedged = true
		if sink != nil {
			sink(Delta{Text: res.Text})
		}
	}
	return res, ok, h, h
}

// attempt runs b under a child context with the given deadline and reports
// whether it produced a usable answer. Failures are counted, estimates are
// updated, and a Reset is sent if text had been forwarded.
func (r *Router) attempt(ctx context.Context, b *backend, deadline time.Time, req *Request, sink Sink) (Result, bool) {
	a := r.launch(ctx, b, deadline, req, sink)
	return r.settle(ctx, b, a, a.wait())
}

// launch starts b's attempt under a child context with the given deadline;
// its deltas go to sink (nil: buffered in the Result only, for a hedge).
// admit has counted it in flight.
func (r *Router) launch(ctx context.Context, b *backend, deadline time.Time, req *Request, sink Sink) *attempt {
	predicted := r.predict(b, req)
	actx, cancel := context.WithDeadline(startAttempt(ctx, b, predicted), deadline)
	a := &attempt{ctx: actx, sink: sink, cancel: cancel, start: time.Now()}
	a.predicted = predicted
	b.calls.Add(1)
	b.lastSeen.Store(a.start.UnixNano())
	if b.info.Inline {
		// In-process and bound by ctx (Info.Inline): run on the caller's
		// goroutine, saving two goroutine hand-offs; it has returned, so
		// there is nothing to hedge or to watch for stalls.
		a.res, a.err = b.m.Generate(actx, req, a.deliver)
		b.inFlight.Add(-1)
		a.done = returned // and no firstCh: nobody waits for a first token
		return a
	}
	a.done, a.firstCh = make(chan struct{}), make(chan struct{})
	a.stallAfter = r.stallAfter
	go func() {
		defer close(a.done)
		defer b.inFlight.Add(-1)
		a.res, a.err = b.m.Generate(actx, req, a.deliver)
	}()
	return a
}

// returned is the done channel of an inline attempt: closed, as the
// attempt has returned when launch hands it over (saving two channels per
// call).
var returned = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// wait blocks until the attempt returns or its context ends (its
// deadline, or a stall), and reports whether it returned.
//
// It is also the stall watchdog (RouterOptions.StallTimeout): once the
// attempt streams, a stream silent for stallAfter is cancelled and marked
// stalled, and settle counts it. The watchdog runs here, on the waiting
// caller, rather than as a timer armed by the first delta: an attempt that
// answers before its caller wakes (a fast backend) then costs no timer,
// which was a quarter of the Router's CPU on that path
// (BenchmarkRouterOverhead), and deltas only note their time.
func (a *attempt) wait() bool {
	if a.stallAfter <= 0 {
		select {
		case <-a.done:
			return true
		case <-a.ctx.Done():
			return a.raced()
		}
	}
	select {
	case <-a.done:
		return true
	case <-a.ctx.Done():
		return a.raced()
	case <-a.firstCh:
	}
	if a.raced() {
		return true // it began and answered before this caller woke
	}
	watch := time.NewTimer(a.stallAfter)
	defer watch.Stop()
	for {
		select {
		case <-a.done:
			return true
		case <-a.ctx.Done():
			return a.raced()
		case <-watch.C:
		}
		a.mu.Lock()
		silent := time.Since(a.last)
		if silent >= a.stallAfter {
			a.stalled = true
			a.mu.Unlock()
			a.cancel()
			return a.raced()
		}
		a.mu.Unlock()
		watch.Reset(a.stallAfter - silent)
	}
}

// raced reports whether an attempt whose context ended has returned all
// the same: an answer that raced the deadline still counts.
func (a *attempt) raced() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// settle ends an attempt that has returned (finished) or run out of time:
// it counts the outcome, updates b's estimates and breaker, and sends a
// Reset if text had been forwarded and the attempt failed.
func (r *Router) settle(ctx context.Context, b *backend, a *attempt, finished bool) (Result, bool) {
	actx, sink := a.ctx, a.sink
	a.cancel()
	now := time.Now()

	a.mu.Lock()
	a.closed = true // no more deltas reach sink from this attempt
	forwarded, deltas, firstAt, bad, partial, stalled := a.forwarded, a.deltas, a.first, a.bad, a.partial, a.stalled
	a.mu.Unlock()

	if finished && a.err == nil && !bad && partial == "" && validText(a.res.Text) {
		res := a.res
		if sink != nil && !forwarded {
			sink(Delta{Text: res.Text})
		}
		// Observe: time to first token and time per token.
		tokens := res.Tokens
		if tokens <= 0 {
			tokens = deltas
		}
		if deltas > 0 {
			b.ttft.observe(float64(firstAt.Sub(a.start)))
			if tokens > 1 {
				b.tok.observe(float64(now.Sub(firstAt)) / float64(tokens-1))
			}
		} else {
			b.ttft.observe(float64(now.Sub(a.start)))
		}
		res.Latency = now.Sub(a.start)
		if deltas > 0 {
			res.TTFT = firstAt.Sub(a.start)
		} else {
			res.TTFT = res.Latency
		}
		b.breaker.success()
		if res.CostUSD > 0 {
			b.billed.Store(true)
			r.spend.add(res.CostUSD, now)
		}
		res.Predicted = a.predicted
		b.pred.observe(res.Latency, a.predicted)
		a.endAttempt(outcomeOK, res.TTFT)
		return res, true
	}

	unsuitable := finished && errors.Is(a.err, ErrUnsuitable)
	if ctx.Err() == context.Canceled || unsuitable {
		b.breaker.abandon()
	} else {
		b.breaker.failure(now)
	}
	switch {
	case ctx.Err() == context.Canceled, unsuitable:
		// The caller gave up, or the request did not suit a healthy
		// backend: not the backend's fault, nothing learned.
	case bad:
		// A malformed chunk cancelled the attempt itself: a failure, even
		// when the backend had not returned yet (under load it often has
		// not), never a timeout.
		b.errors.Add(1)
	case stalled || !finished || errors.Is(actx.Err(), context.DeadlineExceeded) && a.err != nil:
		if stalled { // the watchdog cancelled it, whatever the backend said after
			b.stalls.Add(1)
		}
		b.timeouts.Add(1)
		b.pred.observe(now.Sub(a.start), a.predicted) // a lower bound
		// Censored observation: the backend took at least this long.
		if deltas == 0 {
			b.ttft.observe(float64(now.Sub(a.start)))
		} else if deltas > 1 {
			b.tok.observe(float64(now.Sub(firstAt)) / float64(deltas-1))
		} else {
			b.tok.observe(float64(now.Sub(firstAt)))
		}
	default:
		b.errors.Add(1)
	}
	a.endFailed(ctx, actx, finished, bad, unsuitable, stalled, ttftOf(deltas, firstAt, a.start))
	if forwarded && sink != nil {
		sink(Delta{Reset: true})
	}
	return Result{}, false
}

func validText(s string) bool {
	return utf8.ValidString(s) && strings.TrimSpace(s) != ""
}

// attempt is the state of one backend call shared between the Router and
// the backend's goroutine.
type attempt struct {
	ctx    context.Context // the attempt's own, with its deadline
	sink   Sink
	cancel context.CancelFunc
	start  time.Time
	done   chan struct{}
	// firstCh is closed when the first non-empty delta arrives (a hedge
	// is not started once the primary is streaming); nil for an inline
	// attempt, which has returned before anyone could wait for it.
	firstCh chan struct{}
	res     Result // written by the goroutine before done is closed
	err     error

	mu        sync.Mutex
	closed    bool      // abandoned or finished: drop further deltas
	bad       bool      // a malformed chunk arrived
	forwarded bool      // some text reached sink
	deltas    int       // non-empty deltas received
	first     time.Time // when the first non-empty delta arrived
	last      time.Time // when the latest non-empty delta arrived (the stall watchdog: wait)
	partial   string    // an incomplete UTF-8 sequence held back from sink
	stalled   bool      // abandoned: nothing streamed for stallAfter

	stallAfter time.Duration // RouterOptions.StallTimeout; 0: no watchdog (inline attempts)

	// predicted is the Router's prediction of its completion time when it
	// chose the backend. Its inference.attempt span, when traced, is in
	// ctx (trace.go): a field would have moved attempt up a size class.
	predicted time.Duration
}

// deliver is the Sink handed to the backend. It forwards complete UTF-8 text
// to the caller's sink, holding back a rune split across deltas, and fails
// the attempt on invalid UTF-8. The caller's sink is called under a.mu, so
// once the Router marks the attempt closed no delta can follow.
func (a *attempt) deliver(d Delta) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed || a.bad {
		return
	}
	if d.Reset {
		a.partial = ""
		if a.forwarded && a.sink != nil {
			a.sink(Delta{Reset: true})
		}
		a.forwarded = false
	}
	if d.Text == "" {
		return
	}
	if a.deltas == 0 {
		a.first = time.Now()
		a.last = a.first
		if a.firstCh != nil {
			close(a.firstCh)
		}
	} else if a.stallAfter > 0 {
		a.last = time.Now()
	}
	a.deltas++
	s := d.Text
	if a.partial != "" {
		s = a.partial + s
		a.partial = ""
	}
	if !utf8.ValidString(s) {
		n := incompleteTail(s)
		cut := len(s) - n
		if n == 0 || !utf8.ValidString(s[:cut]) {
			a.bad = true
			a.cancel()
			return
		}
		s, a.partial = s[:cut], s[cut:]
	}
	if s != "" && a.sink != nil {
		a.sink(Delta{Text: s})
		a.forwarded = true
	}
}

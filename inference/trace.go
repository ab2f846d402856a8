package inference

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Reason says why the Router chose the backend that answered a request
// (Result.Reason): one short code per decision, counted by
// hearth_router_decisions_total and reported, as its String, in the
// event and in dialogue.done. It is a small integer, not a string, so
// that Result stays small: backends' goroutines start on 2 KiB stacks,
// and 16 more bytes in every Result copied through them made a fast
// backend's attempt grow its stack (BenchmarkRouterFastBackend).
type Reason uint8

// Decision reasons.
const (
	// ReasonNone: no Router decided (the zero value; String is "").
	ReasonNone Reason = iota
	// ReasonCache: the response cache held an answer as good as the best
	// backend that fitted the time left.
	ReasonCache
	// ReasonFit: the best backend predicted to finish in time answered.
	ReasonFit
	// ReasonHedge: the first backend was slow to start, a hedge was
	// started beside it (RouterOptions.MaxHedgeShare), and the hedge's
	// reply stood in when the first failed or ran out of time.
	ReasonHedge
	// ReasonFallback: an earlier backend failed or ran out of time and a
	// later one that still fitted answered (FallbackFrom names the first).
	ReasonFallback
	// ReasonFloorNoFit: the floor answered because no backend was
	// predicted to finish in time.
	ReasonFloorNoFit
	// ReasonFloorUnavailable: the floor answered because the backends
	// that fitted refused the request (circuit open or Info.MaxInFlight
	// reached) and none was tried.
	ReasonFloorUnavailable
	// ReasonFloorAfterFailure: the floor answered after a backend was
	// tried and failed or ran out of time.
	ReasonFloorAfterFailure
	// ReasonFloorOnly: the Router has no backend above the floor.
	ReasonFloorOnly
	// ReasonFloorDeadline: the caller's deadline came before Generate
	// returned and the caller asked for the floor (Router.Floor; the
	// runtime does this when a worker is late). hearth_router_decisions_total
	// does not count it: the Generate that overran counts its own.
	ReasonFloorDeadline

	numReasons
)

// reasonNames are the Reasons' codes, indexed by Reason.
var reasonNames = [numReasons]string{"", "cache", "fit", "hedge", "fallback",
	"floor_no_fit", "floor_unavailable", "floor_after_failure", "floor_only", "floor_deadline"}

// String returns the reason's code, e.g. "fit" or "floor_no_fit"; ""
// for ReasonNone.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return "unknown"
}

// MarshalText encodes the reason as its code (JSON, logs).
func (r Reason) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// decisions counts the Router's decisions by reason, lock-free.
type decisions [numReasons]atomic.Uint64

func (d *decisions) count(r Reason) {
	if r < numReasons {
		d[r].Add(1)
	}
}

// LatencyRatioBuckets are the upper bounds of the
// hearth_router_latency_ratio histogram: an attempt's actual completion
// time over the completion time the Router predicted for it when it chose
// the backend (1 is a perfect prediction; above 1 the backend was slower).
var LatencyRatioBuckets = [...]float64{0.25, 0.5, 0.75, 0.9, 1, 1.1, 1.25, 1.5, 2, 3, 5, 10}

// predictionStats is a per-backend histogram of actual over predicted
// completion time, updated with atomic adds (no lock on the request path).
type predictionStats struct {
	buckets [len(LatencyRatioBuckets) + 1]atomic.Uint64 // the last is +Inf
	sumPPM  atomic.Uint64                               // sum of ratios, in millionths
	errSum  atomic.Int64                                // sum of actual − predicted, ns
}

// observe records one attempt that took actual against a prediction of
// predicted. A prediction of 0 (an unseeded backend) has no ratio and is
// not recorded.
func (p *predictionStats) observe(actual, predicted time.Duration) {
	if p == nil || predicted <= 0 {
		return
	}
	ratio := float64(actual) / float64(predicted)
	i := 0
	for i < len(LatencyRatioBuckets) && ratio > LatencyRatioBuckets[i] {
		i++
	}
	p.buckets[i].Add(1)
	p.sumPPM.Add(uint64(math.Round(ratio * 1e6)))
	p.errSum.Add(int64(actual - predicted))
}

// snapshot returns the histogram in Prometheus' cumulative form.
func (p *predictionStats) snapshot() (count uint64, sum float64, cum map[float64]uint64, errSum time.Duration) {
	cum = make(map[float64]uint64, len(LatencyRatioBuckets))
	for i, le := range LatencyRatioBuckets {
		count += p.buckets[i].Load()
		cum[le] = count
	}
	count += p.buckets[len(LatencyRatioBuckets)].Load()
	return count, float64(p.sumPPM.Load()) / 1e6, cum, time.Duration(p.errSum.Load())
}

// decisionDescs are the Collector's metrics of the Router's decisions.
type decisionDescs struct {
	decisions, ratio, predErr *prometheus.Desc
}

func newDecisionDescs() decisionDescs {
	b := []string{"backend", "tier"}
	return decisionDescs{
		decisions: prometheus.NewDesc("hearth_router_decisions_total",
			"Requests the Router answered, by why it chose the answering backend (cache, fit, hedge, fallback, floor_no_fit, floor_unavailable, floor_after_failure, floor_only, floor_deadline).",
			[]string{"reason"}, nil),
		ratio: prometheus.NewDesc("hearth_router_latency_ratio",
			"Attempts' actual completion time over the Router's prediction when it chose the backend (1 = exact; an attempt cut off by the deadline counts the time it ran, a lower bound).",
			b, nil),
		predErr: prometheus.NewDesc("hearth_router_prediction_error_seconds_total",
			"Sum over attempts of actual minus predicted completion time, seconds (divide by the ratio histogram's count for the mean error; negative: the backend was faster than predicted).",
			b, nil),
	}
}

func (d decisionDescs) describe(ch chan<- *prometheus.Desc) {
	ch <- d.decisions
	ch <- d.ratio
	ch <- d.predErr
}

// collect reports r's decisions and prediction histograms.
func (d decisionDescs) collect(r *Router, ch chan<- prometheus.Metric) {
	for reason := ReasonCache; reason < numReasons; reason++ {
		ch <- prometheus.MustNewConstMetric(d.decisions, prometheus.CounterValue, float64(r.decided[reason].Load()), reason.String())
	}
	for _, b := range r.backends {
		n, sum, cum, errSum := b.pred.snapshot()
		l := []string{b.info.Name, string(b.info.Tier)}
		ch <- prometheus.MustNewConstHistogram(d.ratio, n, sum, cum, l...)
		ch <- prometheus.MustNewConstMetric(d.predErr, prometheus.CounterValue, errSum.Seconds(), l...)
	}
}

// TracerName is the instrumentation scope of Hearth's OpenTelemetry spans.
const TracerName = "github.com/hearth-ai/hearth"

// Span names of the inference stage. The runtime's are in package
// middleware.
const (
	SpanRoute   = "inference.route"   // one Router.Generate
	SpanCache   = "inference.cache"   // the response cache lookup
	SpanAttempt = "inference.attempt" // one backend call (a hedge is one too)
	SpanFloor   = "inference.floor"   // the floor's answer

	// The agent's stages (package npc).
	SpanPrepare = "npc.prepare" // building the request: the three below
	SpanRecall  = "npc.recall"  // recent turns and recalled memories
	SpanLore    = "lore.search" // knowledge-filtered lore retrieval
	SpanRender  = "npc.render"  // prompt templates rendered
)

// noSpan is what StartSpan returns when nothing is traced.
var noSpan trace.Span = noop.Span{}

// StartSpan starts a span called name as a child of the span in ctx, with
// that span's TracerProvider, when that span is recording; otherwise it
// returns ctx and a no-op span without allocating. Hearth starts a
// request's root span where the request enters (the runtime's Submit), so
// a request nobody traces costs one context lookup per stage. End the
// span it returns.
func StartSpan(ctx context.Context, name string) (context.Context, trace.Span) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return ctx, noSpan
	}
	return parent.TracerProvider().Tracer(TracerName).Start(ctx, name)
}

// Span attribute keys shared by the stages. Player text never goes into
// an attribute (docs/architecture.md, "Observability").
const (
	AttrBackend     = attribute.Key("hearth.backend")
	AttrTier        = attribute.Key("hearth.tier")
	AttrReason      = attribute.Key("hearth.reason")
	AttrPredictedMS = attribute.Key("hearth.predicted_ms")
	AttrLatencyMS   = attribute.Key("hearth.latency_ms")
	AttrTTFTMS      = attribute.Key("hearth.ttft_ms")
	AttrOutcome     = attribute.Key("hearth.outcome")
	AttrFloor       = attribute.Key("hearth.floor")
	AttrIntent      = attribute.Key("hearth.intent")
)

// Attempt outcomes (the hearth.outcome attribute of an inference.attempt span).
const (
	outcomeOK         = "ok"
	outcomeError      = "error"
	outcomeMalformed  = "malformed"
	outcomeTimeout    = "timeout"
	outcomeUnsuitable = "unsuitable"
	outcomeCancelled  = "cancelled"
	outcomeAbandoned  = "abandoned" // a hedge the first backend's reply made unneeded
)

// ms converts d to float milliseconds for an attribute.
func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// maxErrAttr bounds an error message recorded on a span, bytes: a
// backend's error may quote its server's reply.
const maxErrAttr = 200

// generateTraced is Generate under an inference.route span; span records.
func (r *Router) generateTraced(ctx context.Context, span trace.Span, req *Request, sink Sink) (Result, error) {
	span.SetAttributes(AttrIntent.String(string(req.Intent)),
		attribute.Float64("hearth.budget_ms", req.BudgetMS),
		attribute.Int("hearth.max_tokens", req.MaxTokens),
		attribute.Bool("hearth.cacheable", r.cache != nil && req.CacheKey != ""))
	res, err := r.generate(ctx, req, sink)
	span.SetAttributes(AttrBackend.String(res.Backend), AttrTier.String(string(res.Tier)),
		AttrReason.String(res.Reason.String()), AttrFloor.Bool(res.Floor),
		AttrPredictedMS.Float64(ms(res.Predicted)), AttrLatencyMS.Float64(ms(res.Latency)),
		AttrTTFTMS.Float64(ms(res.TTFT)))
	if res.FallbackFrom != "" {
		span.SetAttributes(attribute.String("hearth.fallback_from", res.FallbackFrom))
	}
	if err != nil {
		span.SetStatus(codes.Error, truncate(err.Error()))
	}
	span.End()
	return res, err
}

// startAttempt opens an inference.attempt span on b under ctx's span and
// returns ctx carrying it, so that the attempt's context (and whatever
// the backend traces under it) holds the span; ctx itself when untraced.
func startAttempt(ctx context.Context, b *backend, predicted time.Duration) context.Context {
	ctx, span := StartSpan(ctx, SpanAttempt)
	if span.IsRecording() {
		span.SetAttributes(AttrBackend.String(b.info.Name), AttrTier.String(string(b.info.Tier)),
			AttrPredictedMS.Float64(ms(predicted)))
	}
	return ctx
}

// markHedge notes on a's span that it is a hedge.
func (a *attempt) markHedge() {
	if span := trace.SpanFromContext(a.ctx); span.IsRecording() {
		span.SetAttributes(attribute.Bool("hearth.hedge", true))
	}
}

// endAttempt closes a's span with its outcome; ttft is 0 when no text
// came.
func (a *attempt) endAttempt(outcome string, ttft time.Duration) {
	a.endSpan(outcome, ttft, nil)
}

// endFailed closes the span of an attempt that failed; a.err is read only
// when the backend returned (finished), since its goroutine may still be
// running otherwise.
func (a *attempt) endFailed(ctx, actx context.Context, finished, bad, unsuitable, stalled bool, ttft time.Duration) {
	if !trace.SpanFromContext(a.ctx).IsRecording() {
		return
	}
	var err error
	if finished {
		err = a.err
	}
	a.endSpan(failOutcome(ctx, actx, err, finished, bad, unsuitable, stalled), ttft, err)
}

// endSpan closes a's span with its outcome and the backend's error (nil
// when there is none or it may not be read).
func (a *attempt) endSpan(outcome string, ttft time.Duration, err error) {
	span := trace.SpanFromContext(a.ctx) // the attempt's own once traced
	if !span.IsRecording() {
		return // untraced, or ended already
	}
	span.SetAttributes(AttrOutcome.String(outcome), AttrLatencyMS.Float64(ms(time.Since(a.start))))
	if ttft > 0 {
		span.SetAttributes(AttrTTFTMS.Float64(ms(ttft)))
	}
	if outcome != outcomeOK && outcome != outcomeAbandoned {
		msg := outcome
		if err != nil && outcome != outcomeTimeout {
			msg = truncate(err.Error())
		}
		span.SetStatus(codes.Error, msg)
	}
	span.End()
}

// traceCache records a cache lookup, hit or miss, as an inference.cache
// span under ctx's span.
func traceCache(ctx context.Context, start time.Time, hit bool) {
	parent := trace.SpanFromContext(ctx)
	if !parent.IsRecording() {
		return
	}
	_, s := parent.TracerProvider().Tracer(TracerName).Start(ctx, SpanCache, trace.WithTimestamp(start))
	s.SetAttributes(attribute.Bool("hearth.cache.hit", hit))
	s.End()
}

func truncate(s string) string {
	if len(s) <= maxErrAttr {
		return s
	}
	return s[:maxErrAttr] + "…"
}

// TracePrepared sets what a prepared request holds on span (an npc.prepare
// span): intent, prompt template, how many memories and facts it carries
// and its prompt's size. It records nothing the player said.
func TracePrepared(span trace.Span, req *Request) {
	if !span.IsRecording() || req == nil {
		return
	}
	span.SetAttributes(AttrIntent.String(string(req.Intent)),
		attribute.String("hearth.prompt", req.PromptName),
		attribute.Int("hearth.memories", len(req.Memories)),
		attribute.Int("hearth.facts", len(req.Facts)),
		attribute.Int("hearth.prompt_bytes", len(req.Prompt)),
		attribute.Bool("hearth.cacheable", req.CacheKey != ""))
}

// failOutcome names how a failed attempt ended, in the order settle
// classifies it.
func failOutcome(ctx, actx context.Context, err error, finished, bad, unsuitable, stalled bool) string {
	switch {
	case ctx.Err() == context.Canceled:
		return outcomeCancelled
	case unsuitable:
		return outcomeUnsuitable
	case bad:
		return outcomeMalformed
	case stalled || !finished || errors.Is(actx.Err(), context.DeadlineExceeded) && err != nil:
		return outcomeTimeout
	}
	return outcomeError
}

// ttftOf is the time to first token of an attempt started at start whose
// first text came at first, or 0 when none came.
func ttftOf(deltas int, first, start time.Time) time.Duration {
	if deltas == 0 {
		return 0
	}
	return first.Sub(start)
}

package inference_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

// TestDecisionReasons: every way the Router picks an answer is named on
// the Result, with the prediction of the attempt that answered, and
// counted by hearth_router_decisions_total.
func TestDecisionReasons(t *testing.T) {
	// Seeds: 1 ms to first token, 1e5 tokens/s, 64 tokens assumed: the
	// prediction is about 1 ms + 64 × 10 µs (the 0.9 quantile of
	// estimators seeded there).
	const predicted = 1640 * time.Microsecond
	failing := func(name string, q int) *testModel {
		m := model(name, q, time.Millisecond)
		m.err = errors.New("connection refused")
		return m
	}
	slow := model("slow", 2, 10*time.Second, "late")

	breaker, err := inference.NewRouter(template.New(), []inference.Model{failing("flaky", 2)},
		inference.RouterOptions{BreakerFailures: 1, BreakerCooldown: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t, inference.CacheOptions{})
	cached := cachedRouter(t, c, model("gpu", 2, time.Millisecond, "The", "inn."))

	cases := []struct {
		name      string
		r         *inference.Router
		req       *inference.Request
		want      inference.Reason
		backend   string
		predicted time.Duration
	}{
		{"floor only", newRouter(t), dialogue, inference.ReasonFloorOnly, "template", 0},
		{"fit", newRouter(t, model("fast", 1, time.Millisecond, "Well", "met.")), dialogue, inference.ReasonFit, "fast", predicted},
		{"fallback", newRouter(t, failing("down", 3), model("good", 1, time.Millisecond, "fine")), dialogue, inference.ReasonFallback, "good", predicted},
		{"floor after failure", newRouter(t, failing("down", 3)), dialogue, inference.ReasonFloorAfterFailure, "template", 0},
		{"floor no fit", newRouter(t, slow), dialogue, inference.ReasonFloorNoFit, "template", 0},
		{"breaker opens", breaker, dialogue, inference.ReasonFloorAfterFailure, "template", 0},
		{"circuit open", breaker, dialogue, inference.ReasonFloorUnavailable, "template", 0},
		{"cache miss", cached, lore("Mara keeps the inn."), inference.ReasonFit, "gpu", predicted},
		{"cache hit", cached, lore("Mara keeps the inn."), inference.ReasonCache, "cache:gpu", 0},
	}
	for _, tc := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		res, err := tc.r.Generate(ctx, tc.req, nil)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if res.Reason != tc.want || res.Backend != tc.backend || (res.Predicted == 0) != (tc.predicted == 0) ||
			res.Predicted > 0 && (res.Predicted < tc.predicted || res.Predicted > 2*tc.predicted) {
			t.Errorf("%s: reason %q backend %q predicted %v; want %q %q %v", tc.name, res.Reason, res.Backend, res.Predicted,
				tc.want, tc.backend, tc.predicted)
		}
	}
	if res := newRouter(t, slow).Floor(dialogue); res.Reason != inference.ReasonFloorDeadline {
		t.Errorf("Floor: reason %q, want %q", res.Reason, inference.ReasonFloorDeadline)
	}

	// The cached Router's scrape: one decision of each kind, and one
	// observation of actual over predicted time for the backend that ran.
	reg := prometheus.NewRegistry()
	reg.MustRegister(inference.NewCollector(cached, c))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	decided := map[string]float64{}
	var ratioCount uint64
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "hearth_router_decisions_total":
				decided[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			case "hearth_router_latency_ratio":
				ratioCount += m.GetHistogram().GetSampleCount()
			}
		}
	}
	if decided["fit"] != 1 || decided["cache"] != 1 || decided["fallback"] != 0 || len(decided) != 9 {
		t.Errorf("decisions %v; want one fit, one cache, all nine reasons reported", decided)
	}
	if ratioCount != 1 {
		t.Errorf("latency ratio histogram holds %d observations, want 1", ratioCount)
	}
}

// tracer returns a TracerProvider recording into memory, shut down when
// the test ends.
func tracer(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

// attrs flattens a span's attributes.
func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

// TestRouteSpansOnFallback: under a recording parent, a fallback shows as
// inference.route with one inference.attempt per backend tried: the
// failed one with its error, the one that answered with its prediction.
func TestRouteSpansOnFallback(t *testing.T) {
	tp, exp := tracer(t)
	down := model("down", 3, time.Millisecond)
	down.err = errors.New("connection refused")
	r := newRouter(t, down, model("good", 1, time.Millisecond, "fine"))

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	ctx, root := tp.Tracer("test").Start(ctx, "hearth.talk")
	res, err := r.Generate(ctx, dialogue, nil)
	root.End()
	if err != nil || res.Reason != inference.ReasonFallback {
		t.Fatalf("res %+v err %v", res, err)
	}

	spans := exp.GetSpans()
	byName := map[string][]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = append(byName[s.Name], s)
	}
	if len(byName[inference.SpanRoute]) != 1 || len(byName[inference.SpanAttempt]) != 2 || len(byName[inference.SpanFloor]) != 0 {
		t.Fatalf("spans %v; want one route, two attempts, no floor", names(spans))
	}
	route := byName[inference.SpanRoute][0]
	if route.Parent.SpanID() != root.SpanContext().SpanID() {
		t.Fatalf("route's parent %v, want the root %v", route.Parent.SpanID(), root.SpanContext().SpanID())
	}
	ra := attrs(route)
	if ra[inference.AttrReason].AsString() != "fallback" || ra[inference.AttrBackend].AsString() != "good" ||
		ra["hearth.fallback_from"].AsString() != "down" || ra[inference.AttrPredictedMS].AsFloat64() != float64(res.Predicted)/1e6 {
		t.Errorf("route attributes %v", route.Attributes)
	}
	for _, a := range byName[inference.SpanAttempt] {
		if a.Parent.SpanID() != route.SpanContext.SpanID() {
			t.Errorf("attempt %v is not under the route", a.Attributes)
		}
		aa := attrs(a)
		switch aa[inference.AttrBackend].AsString() {
		case "down":
			if aa[inference.AttrOutcome].AsString() != "error" || a.Status.Code != codes.Error || a.Status.Description != "connection refused" {
				t.Errorf("failed attempt: %v %v", a.Attributes, a.Status)
			}
		case "good":
			if aa[inference.AttrOutcome].AsString() != "ok" || a.Status.Code == codes.Error || aa[inference.AttrPredictedMS].AsFloat64() != float64(res.Predicted)/1e6 {
				t.Errorf("answering attempt: %v %v", a.Attributes, a.Status)
			}
		default:
			t.Errorf("attempt on %v", a.Attributes)
		}
	}
}

// TestRouteSpansOnTimeout: a backend that runs out of time is an attempt
// with outcome timeout, and the floor that answers has its own span.
func TestRouteSpansOnTimeout(t *testing.T) {
	tp, exp := tracer(t)
	slow := model("slow", 2, time.Millisecond, "too", "late")
	slow.delay = 10 * time.Second
	r := newRouter(t, slow)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Millisecond)
	defer cancel()
	ctx, root := tp.Tracer("test").Start(ctx, "hearth.talk")
	res, err := r.Generate(ctx, dialogue, nil)
	root.End()
	if err != nil || res.Reason != inference.ReasonFloorAfterFailure {
		t.Fatalf("res %+v err %v", res, err)
	}
	var outcome string
	floors := 0
	for _, s := range exp.GetSpans() {
		switch s.Name {
		case inference.SpanAttempt:
			outcome = attrs(s)[inference.AttrOutcome].AsString()
		case inference.SpanFloor:
			floors++
		}
	}
	if outcome != "timeout" || floors != 1 {
		t.Fatalf("attempt outcome %q, %d floor spans; want timeout and one", outcome, floors)
	}
}

// TestNoSpansWithoutARecordingParent: a request whose context carries no
// recording span costs no span, even with an SDK provider installed.
func TestNoSpansWithoutARecordingParent(t *testing.T) {
	_, exp := tracer(t)
	r := newRouter(t, model("fast", 1, time.Millisecond, "hi"))
	ctx := trace.ContextWithSpanContext(context.Background(), trace.SpanContext{})
	if _, err := r.Generate(ctx, dialogue, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("%d spans exported, want 0", n)
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// BenchmarkRouterTraced is BenchmarkRouterFastBackend under a recording
// root span (an SDK provider that samples everything and exports
// nowhere): what tracing costs when it is on. Compare
// BenchmarkRouterFastBackend for tracing off.
func BenchmarkRouterTraced(b *testing.B) {
	tp := sdktrace.NewTracerProvider()
	defer tp.Shutdown(context.Background())
	r := newRouter(b, model("fast", 1, time.Microsecond, "Well", "met."))
	ctx, root := tp.Tracer("bench").Start(context.Background(), "hearth.talk")
	defer root.End()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Generate(ctx, dialogue, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHedgeIsTraced: when a hedge stands in for a stalled backend the
// reason is hedge, and the route has two attempts: the stalled one timed
// out, the hedge (marked) answered.
func TestHedgeIsTraced(t *testing.T) {
	tp, exp := tracer(t)
	big := model("big", 5, 5*time.Millisecond, "never")
	big.delay = 10 * time.Second
	r := hedgeRouter(t, inference.RouterOptions{}, big, model("small", 2, time.Millisecond, "Well", "met."))
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	ctx, root := tp.Tracer("test").Start(ctx, "hearth.talk")
	res, err := r.Generate(ctx, dialogue, nil)
	root.End()
	if err != nil || res.Reason != inference.ReasonHedge || res.Backend != "small" || res.Predicted == 0 {
		t.Fatalf("res %+v err %v; want small's answer as a hedge, with its prediction", res, err)
	}
	outcomes := map[string]string{}
	for _, s := range exp.GetSpans() {
		if s.Name != inference.SpanAttempt {
			continue
		}
		a := attrs(s)
		outcomes[a[inference.AttrBackend].AsString()] = a[inference.AttrOutcome].AsString()
		if hedge := a["hearth.hedge"].AsBool(); hedge != (a[inference.AttrBackend].AsString() == "small") {
			t.Errorf("attempt %v: hedge mark %v", a[inference.AttrBackend].AsString(), hedge)
		}
	}
	if outcomes["big"] != "timeout" || outcomes["small"] != "ok" || len(outcomes) != 2 {
		t.Fatalf("attempt outcomes %v; want big timeout, small ok", outcomes)
	}
}

package middleware

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/npc"
)

// Span names of the runtime's stages (docs/architecture.md,
// "Observability"). Each request has one root span, named for its kind;
// the stages are its children: runtime.queue (Submit to a worker taking
// it), npc.prepare (recall, lore search, prompt render), inference.route
// (the Router: cache lookup, each backend attempt, the floor) and
// runtime.deliver (the reply ready to the Tick that hands it to the game).
const (
	SpanTalk    = "hearth.talk"
	SpanBark    = "hearth.bark"
	SpanQuest   = "hearth.quest"
	SpanQueue   = "runtime.queue"
	SpanDeliver = "runtime.deliver"
)

// Root span attribute keys. The player's text is never recorded: a
// player id is, so that a trace can be found from a complaint.
const (
	attrTenant   = attribute.Key("hearth.tenant")
	attrNPC      = attribute.Key("hearth.npc")
	attrPlayer   = attribute.Key("hearth.player")
	attrBudgetMS = attribute.Key("hearth.budget_ms")
	attrOnTime   = attribute.Key("hearth.on_time")
	attrTicket   = attribute.Key("hearth.ticket")
	attrPriority = attribute.Key("hearth.priority")
)

// tracerOf is the runtime's tracer from Options.TracerProvider, or from
// OpenTelemetry's global provider when that is nil.
func tracerOf(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(inference.TracerName)
}

// defaultProvider is OpenTelemetry's global provider before anyone installs
// one (otel.SetTracerProvider replaces it): package initialisation runs
// before any main can.
var defaultProvider = otel.GetTracerProvider()

// reqTrace is one traced request's spans; a request nobody traces has
// none (nil), and every method is a no-op on nil.
type reqTrace struct {
	ctx     context.Context // carries root, parents the worker's stages
	root    trace.Span
	queue   trace.Span
	deliver trace.Span   // set by deliver, ended by Tick
	tracer  trace.Tracer // the runtime's, for the deliver stage
}

// startTrace opens the root span name and its runtime.queue child for a
// request submitted now, or returns nil when the runtime's tracer does
// not record (the default: OpenTelemetry's global provider, a no-op
// until one is installed).
func (rt *Runtime) startTrace(name string, t *Talk, budget time.Duration) *reqTrace {
	if rt.opts.TracerProvider == nil && otel.GetTracerProvider() == defaultProvider {
		return nil // nothing installed: not even a no-op span (two allocations)
	}
	ctx, root := rt.tracer.Start(context.Background(), name)
	if !root.IsRecording() {
		return nil
	}
	root.SetAttributes(attrTenant.String(t.Tenant), attrNPC.String(t.NPCID), attrPlayer.String(t.PlayerID),
		attrBudgetMS.Float64(float64(budget)/1e6), attrPriority.String(t.Priority.String()))
	switch name { // a talk's intent is classified by the worker (dequeued), off the game's thread
	case SpanBark:
		root.SetAttributes(inference.AttrIntent.String(string(inference.IntentBark)))
	case SpanQuest:
		root.SetAttributes(inference.AttrIntent.String("quest"))
	}
	tr := &reqTrace{ctx: ctx, root: root, tracer: rt.tracer}
	_, tr.queue = rt.tracer.Start(ctx, SpanQueue)
	return tr
}

// context is the context a worker's stages run under.
func (tr *reqTrace) context() context.Context {
	if tr == nil {
		return context.Background()
	}
	return tr.ctx
}

// accepted records the ticket once the request is queued.
func (tr *reqTrace) accepted(ticket Ticket) {
	if tr != nil {
		tr.root.SetAttributes(attrTicket.Int64(int64(ticket)))
	}
}

// refused ends the spans of a request Submit did not accept.
func (tr *reqTrace) refused(err error) {
	if tr == nil {
		return
	}
	tr.queue.End()
	tr.root.SetStatus(codes.Error, err.Error())
	tr.root.End()
}

// dequeued ends the queue stage: a worker took the request.
func (tr *reqTrace) dequeued(t *Talk, isTalk bool) {
	if tr == nil {
		return
	}
	tr.queue.End()
	if isTalk {
		tr.root.SetAttributes(inference.AttrIntent.String(string(npc.ClassifyIntent(t.Text)))) // the agent's classification
	}
}

// delivering records the decision on the root span and opens the
// runtime.deliver stage, which Tick ends.
func (tr *reqTrace) delivering(ev *Event) {
	if tr == nil {
		return
	}
	tr.root.SetAttributes(inference.AttrBackend.String(ev.Backend), inference.AttrTier.String(string(ev.Tier)),
		inference.AttrReason.String(ev.Reason.String()), inference.AttrFloor.Bool(ev.Floor),
		inference.AttrPredictedMS.Float64(float64(ev.Predicted)/1e6), inference.AttrLatencyMS.Float64(float64(ev.Latency)/1e6))
	if ev.Guard != "" {
		tr.root.SetAttributes(attribute.String("hearth.guard", ev.Guard))
	}
	if ev.Kind == EventQuest {
		tr.root.SetAttributes(attrNPC.String(ev.NPCID)) // the giver, known now
	}
	_, tr.deliver = tr.tracer.Start(tr.ctx, SpanDeliver)
	ev.tr = tr
}

// failed ends a request that errored: no deliver stage follows.
func (tr *reqTrace) failed(err error) {
	if tr == nil {
		return
	}
	tr.root.SetStatus(codes.Error, err.Error())
	tr.root.End()
}

// handed ends the deliver stage and the root: Tick handed the event to the
// game, on time or not.
func (tr *reqTrace) handed(onTime bool) {
	tr.deliver.End()
	tr.root.SetAttributes(attrOnTime.Bool(onTime))
	tr.root.End()
}

// TracingOptions configures the export of Hearth's spans over OTLP/HTTP
// (NewTracerProvider).
type TracingOptions struct {
	// Endpoint is the OTLP/HTTP receiver's base URL, e.g.
	// http://127.0.0.1:4318 (an OpenTelemetry Collector, Jaeger, Tempo…);
	// spans are POSTed to its /v1/traces unless the URL has a path. ""
	// uses the standard environment variables
	// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT,
	// which the exporter reads with the rest of OTEL_EXPORTER_OTLP_*
	// (headers, timeout, compression, certificates).
	Endpoint string
	// ServiceName is the service.name resource attribute; default "hearth".
	ServiceName string
	// SampleRatio is the share of requests traced, in (0, 1]; 0 means 1
	// (every request). A request's stages follow its root's decision.
	SampleRatio float64
}

// Environment variables that name an OTLP receiver (OpenTelemetry
// specification, "OpenTelemetry Protocol Exporter").
const (
	EnvOTLPEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvOTLPTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
)

// NewTracerProvider returns a TracerProvider that exports spans over
// OTLP/HTTP (protobuf) through a batch span processor, or nil when
// neither opts.Endpoint nor the environment (read with getenv, os.Getenv
// in production) names a receiver: tracing is then off and costs a no-op
// span per request. Pass it as Options.TracerProvider or install it with
// otel.SetTracerProvider, and call its Shutdown on exit: it flushes the
// spans still queued and stops the processor's goroutine. It returns an
// error for an endpoint that is not an http(s) URL with a host, or a
// SampleRatio outside (0, 1]. Nothing is dialled until spans are sent.
func NewTracerProvider(ctx context.Context, opts TracingOptions, getenv func(string) string) (*sdktrace.TracerProvider, error) {
	if !(opts.SampleRatio >= 0 && opts.SampleRatio <= 1) {
		return nil, fmt.Errorf("hearth: tracing: sample ratio %v: want a share in (0, 1]", opts.SampleRatio)
	}
	var xopts []otlptracehttp.Option
	switch {
	case opts.Endpoint != "":
		u, err := url.Parse(opts.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("hearth: tracing: OTLP endpoint %q: want an http(s) URL with a host, e.g. http://127.0.0.1:4318", opts.Endpoint)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/v1/traces" // as for OTEL_EXPORTER_OTLP_ENDPOINT
		}
		xopts = append(xopts, otlptracehttp.WithEndpointURL(u.String()))
	case getenv(EnvOTLPTracesEndpoint) == "" && getenv(EnvOTLPEndpoint) == "":
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx, xopts...)
	if err != nil {
		return nil, fmt.Errorf("hearth: tracing: OTLP exporter: %w", err)
	}
	name := opts.ServiceName
	if name == "" {
		name = "hearth"
	}
	ratio := opts.SampleRatio
	if ratio == 0 {
		ratio = 1
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", name))),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	), nil
}

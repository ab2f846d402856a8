package middleware_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/quest"
)

// secretLine is a player's line no span may carry (privacy).
const secretLine = "Where is the old mill, smith? My secret name is Zanzibar."

// TestTalkSpanTree: a talk through a real Runtime on the demo world makes
// one trace: hearth.talk with the request's attributes, and under it
// runtime.queue, npc.prepare (recall, lore search, render),
// inference.route (the floor, the demo's only tier) and runtime.deliver,
// which ends at the Tick that hands the reply over. No attribute holds the
// player's text. A bark makes a hearth.bark trace.
func TestTalkSpanTree(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(context.Background())
	st := openStack(t, middleware.Options{TracerProvider: tp, Budget: 2 * time.Second})
	id := firstNPC(t, st).ID
	tk, err := st.Runtime.Submit(middleware.Talk{NPCID: id, PlayerID: "p-7", Text: secretLine})
	if err != nil {
		t.Fatal(err)
	}
	var reply middleware.Event
	for _, ev := range collect(t, st.Runtime, map[middleware.Ticket]bool{tk: true}) {
		if ev.Kind == middleware.EventReply {
			reply = ev
		}
	}
	st.Runtime.Settle()
	if reply.Reason != inference.ReasonFloorOnly {
		t.Fatalf("reply reason %q (backend %q), want %q", reply.Reason, reply.Backend, inference.ReasonFloorOnly)
	}

	spans := exp.GetSpans()
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		if _, dup := byName[s.Name]; dup {
			t.Fatalf("two %s spans: %v", s.Name, spanNames(spans))
		}
		byName[s.Name] = s
		for _, kv := range s.Attributes {
			if strings.Contains(kv.Value.Emit(), "Zanzibar") {
				t.Errorf("span %s attribute %s holds the player's text", s.Name, kv.Key)
			}
		}
	}
	root, ok := byName[middleware.SpanTalk]
	if !ok || root.Parent.IsValid() {
		t.Fatalf("no root %s span: %v", middleware.SpanTalk, spanNames(spans))
	}
	parentOf := map[string]string{
		middleware.SpanQueue:   middleware.SpanTalk,
		inference.SpanPrepare:  middleware.SpanTalk,
		inference.SpanRecall:   inference.SpanPrepare,
		inference.SpanLore:     inference.SpanPrepare,
		inference.SpanRender:   inference.SpanPrepare,
		inference.SpanRoute:    middleware.SpanTalk,
		inference.SpanFloor:    inference.SpanRoute,
		middleware.SpanDeliver: middleware.SpanTalk,
	}
	for child, parent := range parentOf {
		c, ok := byName[child]
		if !ok {
			t.Errorf("no %s span: %v", child, spanNames(spans))
			continue
		}
		if c.Parent.SpanID() != byName[parent].SpanContext.SpanID() || c.SpanContext.TraceID() != root.SpanContext.TraceID() {
			t.Errorf("%s is not a child of %s", child, parent)
		}
	}
	got := map[attribute.Key]string{}
	for _, kv := range root.Attributes {
		got[kv.Key] = kv.Value.Emit()
	}
	for k, want := range map[attribute.Key]string{
		"hearth.npc": id, "hearth.player": "p-7", "hearth.tenant": "", "hearth.intent": "dialogue",
		"hearth.budget_ms": "2000", "hearth.on_time": "true", "hearth.reason": "floor_only",
		"hearth.backend": "template", "hearth.tier": "template", "hearth.ticket": "1",
	} {
		if got[k] != want {
			t.Errorf("root %s = %q, want %q (all: %v)", k, got[k], want, got)
		}
	}
	if d := byName[middleware.SpanDeliver]; d.EndTime.After(root.EndTime) {
		t.Errorf("deliver ends after the root")
	}

	exp.Reset()
	bk, err := st.Runtime.SubmitBark(middleware.Bark{NPCID: id, Trigger: "dawn"})
	if err != nil {
		t.Fatal(err)
	}
	collect(t, st.Runtime, map[middleware.Ticket]bool{bk: true})
	st.Runtime.Settle()
	var barkRoot bool
	for _, s := range exp.GetSpans() {
		if s.Name == middleware.SpanBark && !s.Parent.IsValid() {
			barkRoot = true
		}
	}
	if !barkRoot {
		t.Errorf("no %s root span: %v", middleware.SpanBark, spanNames(exp.GetSpans()))
	}

	exp.Reset()
	qk, err := st.Runtime.SubmitQuest(middleware.QuestRequest{Request: quest.Request{PlayerID: "p-7", Level: 3, Location: "kettle-green"}})
	if err != nil {
		t.Fatal(err)
	}
	collect(t, st.Runtime, map[middleware.Ticket]bool{qk: true})
	st.Runtime.Settle()
	qspans := map[string]tracetest.SpanStub{}
	for _, s := range exp.GetSpans() {
		qspans[s.Name] = s
	}
	qroot, ok := qspans[middleware.SpanQuest]
	if !ok || qroot.Parent.IsValid() {
		t.Fatalf("no %s root span: %v", middleware.SpanQuest, spanNames(exp.GetSpans()))
	}
	for _, stage := range []string{middleware.SpanQueue, middleware.SpanDeliver} {
		if s, ok := qspans[stage]; !ok || s.Parent.SpanID() != qroot.SpanContext.SpanID() {
			t.Errorf("quest: no %s under the root: %v", stage, spanNames(exp.GetSpans()))
		}
	}
}

func spanNames(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}

// otlpReceiver is an OTLP/HTTP trace receiver on loopback: it decodes each
// ExportTraceServiceRequest (protobuf, gzip or not) and keeps its spans'
// names, and the service.name of their resource.
type otlpReceiver struct {
	mu       sync.Mutex
	names    []string
	services map[string]bool
	bad      []string
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		o.mu.Lock()
		o.bad = append(o.bad, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type"))
		o.mu.Unlock()
		http.Error(w, "want POST /v1/traces, protobuf", http.StatusBadRequest)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	var req coltracepb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(data, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	o.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				o.services[kv.GetValue().GetStringValue()] = true
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				o.names = append(o.names, s.GetName())
			}
		}
	}
	o.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

// TestOTLPExport: with NewTracerProvider pointed at a real OTLP/HTTP
// receiver on loopback, a talk's spans reach it through the real exporter
// and batch processor once the provider shuts down.
func TestOTLPExport(t *testing.T) {
	recv := &otlpReceiver{services: map[string]bool{}}
	srv := httptest.NewServer(recv)
	defer srv.Close()
	ctx := context.Background()
	tp, err := middleware.NewTracerProvider(ctx, middleware.TracingOptions{Endpoint: srv.URL, ServiceName: "hearth-test"}, noEnv)
	if err != nil || tp == nil {
		t.Fatalf("NewTracerProvider: %v, %v", tp, err)
	}
	st := openStack(t, middleware.Options{TracerProvider: tp, Budget: 2 * time.Second})
	tk, err := st.Runtime.Submit(middleware.Talk{NPCID: firstNPC(t, st).ID, PlayerID: "p-1", Text: "Good morning!"})
	if err != nil {
		t.Fatal(err)
	}
	collect(t, st.Runtime, map[middleware.Ticket]bool{tk: true})
	st.Runtime.Settle()
	if err := tp.Shutdown(ctx); err != nil { // flushes the batch
		t.Fatal(err)
	}
	recv.mu.Lock()
	defer recv.mu.Unlock()
	if len(recv.bad) > 0 {
		t.Fatalf("receiver refused: %v", recv.bad)
	}
	seen := map[string]bool{}
	for _, n := range recv.names {
		seen[n] = true
	}
	for _, want := range []string{middleware.SpanTalk, middleware.SpanQueue, inference.SpanPrepare, inference.SpanRoute, middleware.SpanDeliver} {
		if !seen[want] {
			t.Errorf("receiver got no %s span: %v", want, recv.names)
		}
	}
	if !recv.services["hearth-test"] {
		t.Errorf("service names %v, want hearth-test", recv.services)
	}
}

func noEnv(string) string { return "" }

// TestNewTracerProviderOptions: no endpoint and no environment is tracing
// off (nil); the environment variable turns it on; bad input is an error.
func TestNewTracerProviderOptions(t *testing.T) {
	ctx := context.Background()
	if tp, err := middleware.NewTracerProvider(ctx, middleware.TracingOptions{}, noEnv); tp != nil || err != nil {
		t.Fatalf("unconfigured: %v, %v; want nil, nil", tp, err)
	}
	env := func(k string) string {
		if k == middleware.EnvOTLPEndpoint {
			return "http://127.0.0.1:4318"
		}
		return ""
	}
	tp, err := middleware.NewTracerProvider(ctx, middleware.TracingOptions{}, env)
	if err != nil || tp == nil {
		t.Fatalf("from the environment: %v, %v", tp, err)
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []middleware.TracingOptions{
		{Endpoint: "127.0.0.1:4318"}, {Endpoint: "ftp://host:4318"}, {Endpoint: "http://"},
		{Endpoint: "http://127.0.0.1:4318", SampleRatio: 1.5}, {Endpoint: "http://127.0.0.1:4318", SampleRatio: -1},
	} {
		if _, err := middleware.NewTracerProvider(ctx, bad, noEnv); err == nil {
			t.Errorf("%+v: no error", bad)
		}
	}
}

package middleware

import (
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// TestUntracedSubmitAllocatesNothing: with no TracerProvider in the
// options and none installed globally, a request gets no spans and
// startTrace allocates nothing; with one, it gets its root.
func TestUntracedSubmitAllocatesNothing(t *testing.T) {
	rt := &Runtime{tracer: tracerOf(nil)}
	talk := &Talk{NPCID: "smith", PlayerID: "p", Text: "Hello there!"}
	allocs := testing.AllocsPerRun(100, func() {
		if rt.startTrace(SpanTalk, talk, time.Second) != nil {
			t.Fatal("a trace without a provider")
		}
	})
	if allocs != 0 {
		t.Fatalf("startTrace allocates %v times per request with tracing off, want 0", allocs)
	}

	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer tp.Shutdown(t.Context())
	rt = &Runtime{opts: Options{TracerProvider: tp}, tracer: tracerOf(tp)}
	tr := rt.startTrace(SpanTalk, talk, time.Second)
	if tr == nil {
		t.Fatal("no trace with a provider")
	}
	tr.dequeued(talk, true)
	tr.failed(ErrClosed)
	if n := len(exp.GetSpans()); n != 2 {
		t.Fatalf("%d spans, want the root and its queue stage", n)
	}
}

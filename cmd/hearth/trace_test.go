package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// TestServeExportsSpans: hearth serve -otlp-endpoint sends a talk's spans
// to a real OTLP/HTTP receiver on loopback, flushed when it stops; the
// reply's dialogue.done says why the floor answered.
func TestServeExportsSpans(t *testing.T) {
	var mu sync.Mutex
	var names []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err == nil {
			err = proto.Unmarshal(data, &req)
		}
		if err != nil || r.URL.Path != "/v1/traces" {
			http.Error(w, "want an ExportTraceServiceRequest on /v1/traces", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, s := range ss.GetSpans() {
					names = append(names, s.GetName())
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer srv.Close()

	p := serveProc(t, t.TempDir(), "-otlp-endpoint", srv.URL)
	c := dial(t, p.url, "trace-player", "Aria")
	if r := talk(t, c, c.Welcome().NPCs[0].ID, "Good morning!"); r.Reason != "floor_only" || r.PredictedMS != 0 {
		t.Errorf("dialogue.done reason %q predicted %v ms; want floor_only (no model above the floor), 0", r.Reason, r.PredictedMS)
	}
	c.Close()
	p.stop(t) // SIGTERM: serve shuts the tracer provider down, flushing
	mu.Lock()
	defer mu.Unlock()
	got := strings.Join(names, " ")
	for _, want := range []string{"hearth.talk", "runtime.queue", "npc.prepare", "inference.route", "runtime.deliver"} {
		if !strings.Contains(got, want) {
			t.Errorf("receiver got spans %q; no %s", got, want)
		}
	}
}

// TestServeOTLPEndpointChecked: a malformed endpoint fails serve at once.
func TestServeOTLPEndpointChecked(t *testing.T) {
	for _, args := range [][]string{
		{"-otlp-endpoint", "127.0.0.1:4318"},
		{"-otlp-endpoint", "http://127.0.0.1:4318", "-openai"},
	} {
		var errOut strings.Builder
		full := append([]string{"serve", "-addr", "127.0.0.1:0", "-data", ""}, args...)
		if code := run(context.Background(), full, strings.NewReader(""), io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), "-otlp-endpoint") {
			t.Errorf("%v: exit %d, stderr %q; want 1 naming -otlp-endpoint", args, code, errOut.String())
		}
	}
}

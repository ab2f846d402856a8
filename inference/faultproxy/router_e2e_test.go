package faultproxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/faultproxy"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/inference/template"
)

// named is the real OpenAI backend on baseURL under a name and quality.
func named(t *testing.T, name, baseURL string, quality int) *openai.Backend {
	t.Helper()
	b, err := openai.New(openai.Config{Name: name, BaseURL: baseURL, Model: "llmsim", HTTPClient: httpClient(t), Quality: quality,
		ExpectedTTFT: 10 * time.Millisecond, ExpectedTokensPerSecond: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFallbackMidStream (issue 4): the better backend's stream starts,
// then stalls or sends a malformed chunk (the fault proxy, over real HTTP);
// the Router resets what it streamed and the next backend answers, well
// inside a 3 s budget: the stall is detected after StallTimeout, not at
// the deadline.
func TestFallbackMidStream(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  faultproxy.Config
	}{
		{"stall", faultproxy.Config{StallRate: 1, StallAfterEvents: 3}},
		{"malformed", faultproxy.Config{MalformedRate: 1, MalformedAfterEvents: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := fastSim(t)
			p := start(t, root(s), tc.cfg)
			first := named(t, "first", p.URL()+"/v1", 20)
			second := named(t, "second", s.BaseURL(), 10)
			r, err := inference.NewRouter(template.New(), []inference.Model{first, second},
				inference.RouterOptions{StallTimeout: 100 * time.Millisecond, NoHedging: true})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			var got collect
			resets := 0
			sink := func(d inference.Delta) {
				if d.Reset {
					got.mu.Lock()
					got.b.Reset()
					resets++
					got.mu.Unlock()
				}
				got.sink(d)
			}
			res, err := r.Generate(ctx, request(), sink)
			if err != nil {
				t.Fatal(err)
			}
			if res.Backend != "second" || res.FallbackFrom != "first" || res.Floor {
				t.Fatalf("answered by %q (fallback from %q, floor %v); want the second backend after the first broke mid-stream", res.Backend, res.FallbackFrom, res.Floor)
			}
			if resets != 1 || got.String() != res.Text {
				t.Fatalf("%d resets, streamed %q, reply %q; want one reset, then exactly the second backend's text", resets, got.String(), res.Text)
			}
			st := r.Stats()[0]
			switch tc.name {
			case "stall":
				if st.Stalls != 1 || st.Timeouts != 1 {
					t.Fatalf("first backend: %d stalls, %d timeouts; want one stall counted as a timeout", st.Stalls, st.Timeouts)
				}
			case "malformed":
				if st.Errors != 1 {
					t.Fatalf("first backend: %d errors; want the malformed chunk counted", st.Errors)
				}
			}
			cancel()
			waitIdle(t, p)
		})
	}
}

// healable is a small real model server for the breaker test: while
// broken it answers every request 503; healed, it forwards to llmsim.
type healable struct {
	broken atomic.Bool
	hits   atomic.Int64
	next   http.Handler
}

func (h *healable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.hits.Add(1)
	if h.broken.Load() {
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"error":{"message":"overloaded","type":"server_error"}}`, http.StatusServiceUnavailable)
		return
	}
	h.next.ServeHTTP(w, r)
}

// TestCircuitBreaksAFailingServerAndRecovers (issue 4): a model server
// failing every request is circuit-broken within a handful of requests
// (BreakerFailures, 5 by default), after which the Router stops calling it
// and answers from the floor at once; once the server heals, a half-open
// probe after the cooldown closes the circuit and it answers again.
func TestCircuitBreaksAFailingServerAndRecovers(t *testing.T) {
	s := fastSim(t)
	target, err := url.Parse(root(s))
	if err != nil {
		t.Fatal(err)
	}
	h := &healable{next: httputil.NewSingleHostReverseProxy(target)}
	h.broken.Store(true)
	srv := httptest.NewServer(h)
	defer srv.Close()
	b := named(t, "flaky", srv.URL+"/v1", 10)
	r, err := inference.NewRouter(template.New(), []inference.Model{b},
		inference.RouterOptions{BreakerCooldown: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ask := func() inference.Result {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		res, err := r.Generate(ctx, request(), nil)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for range 20 {
		if res := ask(); !res.Floor {
			t.Fatalf("a broken server answered: %+v", res)
		}
	}
	st := r.Stats()[0]
	if st.Circuit != inference.CircuitOpen || h.hits.Load() > 6 {
		t.Fatalf("after 20 requests: circuit %s, server hit %d times; want open within a handful (5 failures)", st.Circuit, h.hits.Load())
	}
	t.Logf("broken: 20 requests, the server saw %d, circuit %s after %d opens", h.hits.Load(), st.Circuit, st.CircuitOpens)

	h.broken.Store(false)
	healedAt := time.Now()
	for i := 0; ; i++ {
		if res := ask(); !res.Floor && res.Backend == "flaky" {
			t.Logf("healed: answered again after %d requests, %v", i+1, time.Since(healedAt).Round(time.Millisecond))
			break
		}
		if time.Since(healedAt) > 10*time.Second {
			t.Fatalf("the healed server was not tried again in 10 s: %+v", r.Stats()[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := r.Stats()[0]; st.Circuit != inference.CircuitClosed {
		t.Fatalf("after a good answer the circuit is %s; want closed", st.Circuit)
	}
}

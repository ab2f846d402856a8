package faultproxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/faultproxy"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/inference/openai/llmsim"
	"github.com/hearth-ai/hearth/inference/template"
)

// Every test ends with its proxies, simulated models and clients closed;
// goleak then proves that no stalled stream, delay or connection of the
// proxy outlived them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const prompt = "You are Brenna.\n\nLore you know:\n- [The Tipped Kettle] Mara Kettle keeps the inn on the green.\n\nA stranger says: Who runs the inn?\nBrenna:"

// fastSim is a real llmsim server whose timing does not matter to the
// tests: a few milliseconds to the first token, 12 tokens.
func fastSim(t *testing.T) *llmsim.Server {
	t.Helper()
	s, err := llmsim.Start(llmsim.Profile{TTFTMedian: 2 * time.Millisecond, TokensPerSecond: 5000, ReplyTokens: 12, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// root is llmsim's address without the /v1 the proxy passes through.
func root(s *llmsim.Server) string { return strings.TrimSuffix(s.BaseURL(), "/v1") }

func start(t *testing.T, target string, cfg faultproxy.Config) *faultproxy.Proxy {
	t.Helper()
	p, err := faultproxy.Start(target, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// httpClient is closed with the test so that no keep-alive goroutine
// outlives it.
func httpClient(t *testing.T) *http.Client {
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	return hc
}

// backend is the real OpenAI backend (retries off) on baseURL.
func backend(t *testing.T, baseURL string) *openai.Backend {
	t.Helper()
	b, err := openai.New(openai.Config{BaseURL: baseURL, Model: "llmsim", HTTPClient: httpClient(t), Quality: 10,
		ExpectedTTFT: 10 * time.Millisecond, ExpectedTokensPerSecond: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func request() *inference.Request {
	return &inference.Request{Intent: inference.IntentDialogue, Persona: inference.Persona{Name: "Brenna"},
		UserText: "Who runs the inn?", Prompt: prompt, MaxTokens: 10}
}

// collect is a Sink that keeps the streamed text; the backend may call it
// from its own goroutine.
type collect struct {
	mu sync.Mutex
	b  strings.Builder
}

func (c *collect) sink(d inference.Delta) {
	c.mu.Lock()
	c.b.WriteString(d.Text)
	c.mu.Unlock()
}

func (c *collect) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.b.String()
}

// TestZeroRatesAreTransparent: with no fault configured, the OpenAI client
// gets through the proxy exactly the reply (text and token usage) it gets
// from the server directly, and raw responses are byte-identical.
func TestZeroRatesAreTransparent(t *testing.T) {
	s := fastSim(t)
	p := start(t, root(s), faultproxy.Config{Seed: 7})
	direct, err := backend(t, s.BaseURL()).Generate(context.Background(), request(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var streamed collect
	via, err := backend(t, p.URL()+"/v1").Generate(context.Background(), request(), streamed.sink)
	if err != nil {
		t.Fatal(err)
	}
	if via.Text != direct.Text || via.Tokens != direct.Tokens || via.PromptTokens != direct.PromptTokens || streamed.String() != direct.Text {
		t.Fatalf("through the proxy %q (%d+%d tokens, streamed %q); directly %q (%d+%d)",
			via.Text, via.PromptTokens, via.Tokens, streamed.String(), direct.Text, direct.PromptTokens, direct.Tokens)
	}
	hc := httpClient(t)
	get := func(url string) (int, string, string) {
		res, err := hc.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	c1, t1, b1 := get(s.BaseURL() + "/models")
	c2, t2, b2 := get(p.URL() + "/v1/models")
	if c1 != c2 || t1 != t2 || b1 != b2 {
		t.Fatalf("GET /v1/models directly %d %s %q, through the proxy %d %s %q", c1, t1, b1, c2, t2, b2)
	}
	st := p.Stats()
	if st.Requests != 2 || st.Forwarded != 2 || st.Injected() != 0 || st.Delayed != 0 || st.UpstreamErrors != 0 {
		t.Fatalf("stats %+v: want 2 requests forwarded, nothing injected", st)
	}
}

// fault is one fault kind at probability 1, and how a client sees it.
type fault struct {
	name  string
	cfg   faultproxy.Config
	check func(t *testing.T, err error, streamed string, st faultproxy.Stats)
}

func faults() []fault {
	var out []fault
	for _, code := range []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable} {
		out = append(out, fault{
			name: fmt.Sprintf("status %d", code),
			cfg:  faultproxy.Config{ErrorRate: 1, ErrorStatuses: []int{code}},
			check: func(t *testing.T, err error, _ string, st faultproxy.Stats) {
				if err == nil || !strings.Contains(err.Error(), fmt.Sprint(code)) {
					t.Fatalf("err = %v, want the %d", err, code)
				}
				if st.Errors[code] != 1 || st.Forwarded != 0 {
					t.Fatalf("stats %+v: want one %d, nothing forwarded", st, code)
				}
			},
		})
	}
	out = append(out,
		fault{
			name: "reset",
			cfg:  faultproxy.Config{ResetRate: 1},
			check: func(t *testing.T, err error, _ string, st faultproxy.Stats) {
				if err == nil {
					t.Fatal("a reset connection gave no error")
				}
				if st.Resets != 1 || st.Forwarded != 0 {
					t.Fatalf("stats %+v: want one reset, nothing forwarded", st)
				}
			},
		},
		fault{
			name: "malformed chunk",
			cfg:  faultproxy.Config{MalformedRate: 1},
			check: func(t *testing.T, err error, streamed string, st faultproxy.Stats) {
				if err == nil || errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err = %v, want the stream's parse error", err)
				}
				// The fault comes mid-way: the first events' text got
				// through before it.
				if streamed == "" || st.Malformed != 1 {
					t.Fatalf("streamed %q, stats %+v: want text before the bad chunk, one injected", streamed, st)
				}
			},
		},
		fault{
			name: "stall",
			cfg:  faultproxy.Config{StallRate: 1},
			check: func(t *testing.T, err error, streamed string, st faultproxy.Stats) {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err = %v, want the client's deadline", err)
				}
				if streamed == "" || st.Stalls != 1 {
					t.Fatalf("streamed %q, stats %+v: want text before the stall, one stall", streamed, st)
				}
			},
		},
	)
	return out
}

// TestEveryFaultIsAnErrorAtTheClient: the real OpenAI backend, retries off,
// returns an error for every injected fault; a stall ends at the client's
// deadline, never on its own. Once the client has given up, the proxy's
// handler is gone too (Active drops to 0 before Close).
func TestEveryFaultIsAnErrorAtTheClient(t *testing.T) {
	for _, f := range faults() {
		t.Run(f.name, func(t *testing.T) {
			s := fastSim(t)
			p := start(t, root(s), f.cfg)
			b := backend(t, p.URL()+"/v1")
			// Long enough for every fault but the stall to show itself
			// first; the stall is ended by it.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			var streamed collect
			_, err := b.Generate(ctx, request(), streamed.sink)
			f.check(t, err, streamed.String(), p.Stats())
			waitIdle(t, p)
		})
	}
}

// waitIdle waits for the proxy to have no request in hand: a handler that
// never ended would fail here (and goleak at the end).
func waitIdle(t *testing.T, p *faultproxy.Proxy) {
	t.Helper()
	for i := 0; p.Stats().Active != 0; i++ {
		if i == 2000 {
			t.Fatalf("the proxy still handles %d requests 10 s after its clients gave up", p.Stats().Active)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestErrorsCarryRetryAfter and a reset is a real RST, seen as
// ECONNRESET by a plain HTTP client, not as a clean end of stream.
func TestErrorsCarryRetryAfterAndResetsAreRST(t *testing.T) {
	s := fastSim(t)
	hc := httpClient(t)
	p := start(t, root(s), faultproxy.Config{ErrorRate: 1, RetryAfter: 1500 * time.Millisecond})
	res, err := hc.Post(p.URL()+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"llmsim"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode < 400 || res.Header.Get("Retry-After") != "2" || !strings.Contains(string(body), `"error"`) {
		t.Fatalf("status %d, Retry-After %q, body %q: want an error with Retry-After 2 (1.5 s rounded up)",
			res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	r := start(t, root(s), faultproxy.Config{ResetRate: 1})
	_, err = hc.Post(r.URL()+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"llmsim"}`))
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("err = %v, want ECONNRESET", err)
	}
}

// TestRouterFallsBackToTheFloorOnEveryFault: with the faulty backend as
// its only backend, the Router answers every request from the template
// floor, names the backend it fell back from, and counts the failure (a
// timeout for the stall, an error otherwise).
func TestRouterFallsBackToTheFloorOnEveryFault(t *testing.T) {
	for _, f := range faults() {
		t.Run(f.name, func(t *testing.T) {
			s := fastSim(t)
			p := start(t, root(s), f.cfg)
			b := backend(t, p.URL()+"/v1")
			r, err := inference.NewRouter(template.New(), []inference.Model{b}, inference.RouterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			res, err := r.Generate(ctx, request(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.Tier != inference.TierTemplate || !res.Floor || res.FallbackFrom != b.Info().Name || strings.TrimSpace(res.Text) == "" {
				t.Fatalf("result %+v: want the floor's answer, fallen back from %s", res, b.Info().Name)
			}
			st := r.Stats()[0]
			if st.Calls != 1 || st.Errors+st.Timeouts != 1 || st.FloorFallbacks != 1 {
				t.Fatalf("router stats %+v: want one attempt, failed, answered by the floor", st)
			}
			if f.name == "stall" && st.Timeouts != 1 {
				t.Fatalf("router stats %+v: a stall is a timeout", st)
			}
			if p.Stats().Injected() != 1 {
				t.Fatalf("proxy stats %+v: want the one fault injected", p.Stats())
			}
			waitIdle(t, p)
		})
	}
	// Control: the same Router set-up without faults answers from the
	// model, so the floor answers above are the faults' doing.
	s := fastSim(t)
	p := start(t, root(s), faultproxy.Config{})
	r, err := inference.NewRouter(template.New(), []inference.Model{backend(t, p.URL()+"/v1")}, inference.RouterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if res, err := r.Generate(ctx, request(), nil); err != nil || res.Tier != inference.TierRemote || res.Floor {
		t.Fatalf("without faults: %+v, %v; want the remote model", res, err)
	}
}

// TestCloseEndsAStalledStream: a client without a deadline stuck on a
// stall is released by Close, which returns only after the handler has.
func TestCloseEndsAStalledStream(t *testing.T) {
	s := fastSim(t)
	p := start(t, root(s), faultproxy.Config{StallRate: 1})
	b := backend(t, p.URL()+"/v1")
	errc := make(chan error, 1)
	go func() {
		_, err := b.Generate(context.Background(), request(), nil)
		errc <- err
	}()
	for i := 0; p.Stats().Stalls == 0; i++ {
		if i == 2000 {
			t.Fatal("the stream did not stall within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Active != 0 {
		t.Fatalf("Close returned with %d requests still in hand", st.Active)
	}
	if err := <-errc; err == nil {
		t.Fatal("the stalled client got no error when the proxy closed")
	}
}

// TestLatencyIsAddedBeforeForwarding: with a fixed 20 ms (sigma 0) every
// request waits at least that long in the proxy.
func TestLatencyIsAddedBeforeForwarding(t *testing.T) {
	s := fastSim(t)
	p := start(t, root(s), faultproxy.Config{LatencyMedian: 20 * time.Millisecond})
	if _, err := backend(t, p.URL()+"/v1").Generate(context.Background(), request(), nil); err != nil {
		t.Fatal(err)
	}
	if st := p.Stats(); st.Delayed != 1 || st.DelayTotal < 20*time.Millisecond || st.Forwarded != 1 {
		t.Fatalf("stats %+v: want one request delayed by 20 ms, then forwarded", st)
	}
}

// TestSameSeedSameDecisions: two proxies with the same seed inject the
// same faults into the same sequence of requests; another seed does not.
func TestSameSeedSameDecisions(t *testing.T) {
	s := fastSim(t)
	outcomes := func(seed uint64) string {
		p := start(t, root(s), faultproxy.Config{Seed: seed, ErrorRate: 0.3, ResetRate: 0.2})
		// A fresh connection per request: net/http retries an idempotent
		// request that fails on a reused one, which would draw twice.
		hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		var out []string
		for range 40 {
			res, err := hc.Get(p.URL() + "/v1/models")
			if err != nil {
				out = append(out, "reset")
				continue
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			out = append(out, fmt.Sprint(res.StatusCode))
		}
		st := p.Stats()
		if st.Requests != 40 || st.Resets == 0 || len(st.Errors) == 0 {
			t.Fatalf("seed %d: stats %+v: want 40 requests with resets and errors among them", seed, st)
		}
		return strings.Join(out, " ")
	}
	a, b, c := outcomes(3), outcomes(3), outcomes(4)
	if a != b {
		t.Fatalf("seed 3 twice:\n%s\n%s", a, b)
	}
	if a == c {
		t.Fatalf("seeds 3 and 4 gave the same 40 outcomes: %s", a)
	}
}

func TestStartRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		target string
		cfg    faultproxy.Config
	}{
		{"127.0.0.1:8080", faultproxy.Config{}},
		{"http://127.0.0.1:1", faultproxy.Config{ErrorRate: 1.5}},
		{"http://127.0.0.1:1", faultproxy.Config{ErrorRate: 0.6, ResetRate: 0.6}},
		{"http://127.0.0.1:1", faultproxy.Config{StallRate: -0.1}},
		{"http://127.0.0.1:1", faultproxy.Config{LatencyMedian: -time.Second}},
		{"http://127.0.0.1:1", faultproxy.Config{ErrorStatuses: []int{200}}},
	} {
		if p, err := faultproxy.Start(tc.target, tc.cfg); err == nil {
			p.Close()
			t.Errorf("Start(%q, %+v) accepted", tc.target, tc.cfg)
		}
	}
}

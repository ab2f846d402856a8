package openai_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/inference/openai/llmsim"
	"github.com/hearth-ai/hearth/inference/template"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// backend returns a Backend on baseURL whose HTTP client is closed with
// the test, so no keep-alive goroutine outlives it.
func backend(t *testing.T, baseURL string, cfg openai.Config) *openai.Backend {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	cfg.BaseURL, cfg.HTTPClient = baseURL, hc
	if cfg.Model == "" {
		cfg.Model = "llmsim"
	}
	b, err := openai.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sim(t *testing.T, p llmsim.Profile) *llmsim.Server {
	t.Helper()
	s, err := llmsim.Start(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const prompt = "You are Brenna.\n\nLore you know:\n- [The Tipped Kettle] Mara Kettle keeps the inn on the green.\n\nA stranger says: Who runs the inn?\nBrenna:"

func TestGenerateStreamsTextUsageAndCost(t *testing.T) {
	s := sim(t, llmsim.Profile{TTFTMedian: 5 * time.Millisecond, TokensPerSecond: 5000, ReplyTokens: 12, Seed: 1})
	b := backend(t, s.BaseURL(), openai.Config{Prices: inference.Prices{InputPerMTok: 2.5, OutputPerMTok: 10}})
	var streamed strings.Builder
	res, err := b.Generate(context.Background(), &inference.Request{Prompt: prompt, MaxTokens: 8},
		func(d inference.Delta) { streamed.WriteString(d.Text) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != streamed.String() || !strings.HasPrefix(res.Text, "Mara Kettle keeps the inn") {
		t.Fatalf("text %q, streamed %q", res.Text, streamed.String())
	}
	if res.Tokens != 8 || res.PromptTokens == 0 || res.Tier != inference.TierRemote || res.Backend != "openai:llmsim" {
		t.Fatalf("result %+v: want 8 output tokens (max_tokens), prompt tokens, remote tier", res)
	}
	want := (float64(res.PromptTokens)*2.5 + 8*10) / 1e6
	if res.CostUSD != want || res.TTFT <= 0 || res.Latency < res.TTFT {
		t.Fatalf("cost %v (want %v), ttft %v, latency %v", res.CostUSD, want, res.TTFT, res.Latency)
	}
	if s.Requests() != 1 {
		t.Fatalf("server saw %d requests, want 1 (retries are off)", s.Requests())
	}
}

func TestDeadlineEndsTheCall(t *testing.T) {
	s := sim(t, llmsim.Profile{TTFTMedian: 10 * time.Second, Seed: 1})
	b := backend(t, s.BaseURL(), openai.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := b.Generate(ctx, &inference.Request{Prompt: prompt}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
}

func TestServerErrorsAreErrorsWithoutRetry(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"error":{"message":"overloaded","type":"server_error"}}`))
	}))
	defer srv.Close()
	b := backend(t, srv.URL+"/v1", openai.Config{})
	if _, err := b.Generate(context.Background(), &inference.Request{Prompt: prompt}, nil); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v, want the 503", err)
	}
	if calls != 1 {
		t.Fatalf("%d calls; the SDK retried", calls)
	}
}

func TestEmptyStreamIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write([]byte("data: [DONE]\n\n"))
	}))
	defer srv.Close()
	b := backend(t, srv.URL+"/v1", openai.Config{})
	if _, err := b.Generate(context.Background(), &inference.Request{Prompt: prompt}, nil); err == nil {
		t.Fatal("a stream without text was accepted")
	}
}

// TestRouterKeepsTheLargeModelOffTheBlockingPath: with a 50 ms budget the
// Router does not even try a model whose time to first token is 600 ms
// (DESIGN §1); with a 5 s budget it uses it.
func TestRouterKeepsTheLargeModelOffTheBlockingPath(t *testing.T) {
	s := sim(t, llmsim.Profile{TTFTMedian: 100 * time.Millisecond, TokensPerSecond: 2000, ReplyTokens: 10, Seed: 1})
	b := backend(t, s.BaseURL(), openai.Config{Quality: 10, ExpectedTTFT: 600 * time.Millisecond, ExpectedTokensPerSecond: 60})
	r, err := inference.NewRouter(template.New(), []inference.Model{b}, inference.RouterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	req := func() *inference.Request {
		return &inference.Request{Intent: inference.IntentDialogue, Persona: inference.Persona{Name: "Brenna"},
			UserText: "Who runs the inn?", Prompt: prompt, MaxTokens: 10}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	res, err := r.Generate(ctx, req(), nil)
	cancel()
	if err != nil || res.Tier != inference.TierTemplate || s.Requests() != 0 {
		t.Fatalf("50 ms budget: %+v, %v, %d model calls; want the floor and no call", res, err, s.Requests())
	}
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	res, err = r.Generate(ctx, req(), nil)
	cancel()
	if err != nil || res.Tier != inference.TierRemote || res.CostUSD != 0 && res.Tokens == 0 {
		t.Fatalf("5 s budget: %+v, %v; want the remote model", res, err)
	}
}

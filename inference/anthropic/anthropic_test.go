package anthropic_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/anthropic"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// messagesServer is a loopback server speaking the Messages API's SSE
// stream (message_start, content_block_delta…, message_delta,
// message_stop). It records each request body.
type messagesServer struct {
	*httptest.Server
	calls  atomic.Int64
	bodies chan map[string]any
	status int           // non-zero: answer with this status and an error body
	delay  time.Duration // before the first event
	words  []string
}

func newMessagesServer(t *testing.T, words ...string) *messagesServer {
	s := &messagesServer{bodies: make(chan map[string]any, 16), words: words}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		s.bodies <- body
		if s.status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(s.status)
			io.WriteString(w, `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`)
			return
		}
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		f := w.(http.Flusher)
		event := func(name, data string) {
			fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
			f.Flush()
		}
		event("message_start", `{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"test","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":40,"cache_read_input_tokens":100,"cache_creation_input_tokens":0,"output_tokens":1}}}`)
		event("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
		for i, w := range s.words {
			if i > 0 {
				w = " " + w
			}
			b, _ := json.Marshal(w)
			event("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+string(b)+`}}`)
		}
		event("content_block_stop", `{"type":"content_block_stop","index":0}`)
		event("message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, len(s.words)))
		event("message_stop", `{"type":"message_stop"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func backend(t *testing.T, url string, cfg anthropic.Config) *anthropic.Backend {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(hc.CloseIdleConnections)
	cfg.BaseURL, cfg.HTTPClient = url, hc
	if cfg.Model == "" {
		cfg.Model = "claude-test"
	}
	b, err := anthropic.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const prompt = "You are Brenna, blacksmith.\nRules: stay in character.\n\nLore you know:\n- Mara keeps the inn.\n\nA stranger says: Who runs the inn?\nBrenna:"

func TestGenerateStreamsWithPromptCaching(t *testing.T) {
	s := newMessagesServer(t, "Mara", "keeps", "the", "inn.")
	b := backend(t, s.URL, anthropic.Config{Prices: inference.Prices{InputPerMTok: 1, CacheReadPerMTok: 0.1, OutputPerMTok: 5}})
	var streamed strings.Builder
	req := &inference.Request{Prompt: prompt, PrefixBytes: strings.Index(prompt, "\n\n"), MaxTokens: 60}
	res, err := b.Generate(context.Background(), req, func(d inference.Delta) { streamed.WriteString(d.Text) })
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "Mara keeps the inn." || streamed.String() != res.Text || res.Tier != inference.TierRemote {
		t.Fatalf("result %+v, streamed %q", res, streamed.String())
	}
	if res.Tokens != 4 || res.PromptTokens != 140 {
		t.Fatalf("tokens %d out / %d in, want 4 / 140 (40 + 100 read from the cache)", res.Tokens, res.PromptTokens)
	}
	if want := (40*1 + 100*0.1 + 4*5) / 1e6; res.CostUSD != want {
		t.Fatalf("cost %v, want %v", res.CostUSD, want)
	}
	body := <-s.bodies
	system, _ := body["system"].([]any)
	if len(system) != 1 {
		t.Fatalf("system %v: want the stable prefix as one block", body["system"])
	}
	block := system[0].(map[string]any)
	cc, _ := block["cache_control"].(map[string]any)
	if block["text"] != "You are Brenna, blacksmith.\nRules: stay in character." || cc["type"] != "ephemeral" {
		t.Fatalf("system block %v: want the persona with cache_control ephemeral", block)
	}
	msgs := body["messages"].([]any)
	content := msgs[0].(map[string]any)["content"].([]any)[0].(map[string]any)
	if !strings.HasPrefix(content["text"].(string), "Lore you know:") || body["max_tokens"] != 60.0 {
		t.Fatalf("user message %v, max_tokens %v", content, body["max_tokens"])
	}
}

func TestNoPrefixSendsNoSystem(t *testing.T) {
	s := newMessagesServer(t, "Hm.")
	b := backend(t, s.URL, anthropic.Config{})
	if _, err := b.Generate(context.Background(), &inference.Request{Prompt: "Hello"}, nil); err != nil {
		t.Fatal(err)
	}
	if body := <-s.bodies; body["system"] != nil || body["max_tokens"] != float64(anthropic.DefaultMaxTokens) {
		t.Fatalf("body %v", body)
	}
}

func TestOverloadedIsAnErrorWithoutRetry(t *testing.T) {
	s := newMessagesServer(t, "x")
	s.status = 529
	b := backend(t, s.URL, anthropic.Config{})
	if _, err := b.Generate(context.Background(), &inference.Request{Prompt: prompt}, nil); err == nil || !strings.Contains(err.Error(), "529") {
		t.Fatalf("err = %v, want the 529", err)
	}
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("%d calls: the SDK retried", n)
	}
}

func TestDeadlineEndsTheCall(t *testing.T) {
	s := newMessagesServer(t, "late")
	s.delay = 10 * time.Second
	b := backend(t, s.URL, anthropic.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := b.Generate(ctx, &inference.Request{Prompt: prompt}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
}

func TestEmptyStreamIsAnError(t *testing.T) {
	s := newMessagesServer(t)
	b := backend(t, s.URL, anthropic.Config{})
	if _, err := b.Generate(context.Background(), &inference.Request{Prompt: prompt}, nil); err == nil {
		t.Fatal("a stream without text was accepted")
	}
}

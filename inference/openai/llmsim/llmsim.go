// Package llmsim is a stand-in for a remote large model in load tests: a
// real HTTP server speaking the OpenAI chat completions API (JSON and SSE
// streaming, token usage) whose timing follows a configurable latency
// profile. Hearth cannot reach a hosted model from its test machines, so
// benchmarks that compare "every request to the large model" with "the
// stack" run the real SDK, the real network stack on loopback and the
// real streaming protocol against this server, and only the model's
// thinking time is simulated.
//
// The text is not a language model's: a reply copies words from the first
// lore line of the prompt (the npc prompt's "Lore you know:" list), so it
// is grounded but plain. Use it for latency, throughput, tokens and cost;
// quality comparisons need a real model (point the openai backend's
// BaseURL at one).
package llmsim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Profile is the simulated model's timing.
type Profile struct {
	// TTFTMedian and TTFTSigma shape the time to first token: log-normal
	// with this median and log-space standard deviation. Defaults 600 ms
	// and 0.35 (a p99 about 2.3× the median).
	TTFTMedian time.Duration
	TTFTSigma  float64
	// TokensPerSecond is the decode rate after the first token. Default 60.
	TokensPerSecond float64
	// ReplyTokens is the reply length when the request sets no
	// max_tokens; a request's max_tokens caps it. Default 60.
	ReplyTokens int
	// Seed makes the latency draws reproducible.
	Seed uint64
	// Addr is the address to listen on. Default "127.0.0.1:0" (a free
	// loopback port; BaseURL names it).
	Addr string
}

func (p *Profile) fill() {
	if p.TTFTMedian <= 0 {
		p.TTFTMedian = 600 * time.Millisecond
	}
	if p.TTFTSigma <= 0 {
		p.TTFTSigma = 0.35
	}
	if p.TokensPerSecond <= 0 {
		p.TokensPerSecond = 60
	}
	if p.ReplyTokens <= 0 {
		p.ReplyTokens = 60
	}
}

// Server is a running simulated model on loopback. Close it once.
type Server struct {
	prof     Profile
	srv      *http.Server
	ln       net.Listener
	done     chan struct{}
	mu       sync.Mutex
	rng      *rand.Rand
	inFlight atomic.Int64
	maxIn    atomic.Int64
	requests atomic.Int64
}

// Start listens on p.Addr (a free loopback port by default) and serves
// the API under /v1.
func Start(p Profile) (*Server, error) {
	p.fill()
	if p.Addr == "" {
		p.Addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", p.Addr)
	if err != nil {
		return nil, fmt.Errorf("llmsim: %w", err)
	}
	s := &Server{prof: p, ln: ln, done: make(chan struct{}), rng: rand.New(rand.NewPCG(p.Seed, 0x11f5))}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.chat)
	mux.HandleFunc("GET /v1/models", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"object":"list","data":[{"id":"llmsim","object":"model","owned_by":"hearth"}]}`)
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(s.done)
		s.srv.Serve(ln)
	}()
	return s, nil
}

// BaseURL is the API root to give an OpenAI client, e.g.
// "http://127.0.0.1:41234/v1".
func (s *Server) BaseURL() string { return "http://" + s.ln.Addr().String() + "/v1" }

// Requests is how many chat completions the server has started.
func (s *Server) Requests() int64 { return s.requests.Load() }

// MaxInFlight is the most chat completions it has served at once: the
// concurrency a caller had to hold open against the model. A completion
// counts from its start until just before its last bytes are written, so
// a caller that starts a request only after reading the end of another
// is never counted twice.
func (s *Server) MaxInFlight() int64 { return s.maxIn.Load() }

// Close stops the server, cutting open streams.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	return err
}

type chatRequest struct {
	Model     string `json:"model"`
	Stream    bool   `json:"stream"`
	MaxTokens int    `json:"max_tokens"`
	Messages  []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

func (s *Server) ttft() time.Duration {
	s.mu.Lock()
	z := s.rng.NormFloat64()
	s.mu.Unlock()
	return time.Duration(float64(s.prof.TTFTMedian) * math.Exp(s.prof.TTFTSigma*z))
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		http.Error(w, `{"error":{"message":"bad request body","type":"invalid_request_error"}}`, http.StatusBadRequest)
		return
	}
	s.requests.Add(1)
	n := s.inFlight.Add(1)
	// A completion stops counting before its last bytes go out: a caller
	// that reads the end of one reply and then starts another must not
	// find both counted (the handler returns only after the write).
	finished := sync.OnceFunc(func() { s.inFlight.Add(-1) })
	defer finished()
	for {
		m := s.maxIn.Load()
		if n <= m || s.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	prompt := ""
	for _, m := range req.Messages {
		prompt += m.Content + "\n"
	}
	tokens := s.prof.ReplyTokens
	if req.MaxTokens > 0 && req.MaxTokens < tokens {
		tokens = req.MaxTokens
	}
	words := replyWords(prompt, tokens)
	promptTokens := approxTokens(prompt)
	perToken := time.Duration(float64(time.Second) / s.prof.TokensPerSecond)
	ctx := r.Context()
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if !wait(s.ttft()) {
		return
	}
	model := req.Model
	if !req.Stream {
		if !wait(time.Duration(len(words)-1) * perToken) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		finished()
		json.NewEncoder(w).Encode(map[string]any{
			"id": "chatcmpl-sim", "object": "chat.completion", "created": time.Now().Unix(), "model": model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": strings.Join(words, " ")}}},
			"usage": usage(promptTokens, len(words)),
		})
		return
	}
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	send := func(v any) bool {
		b, _ := json.Marshal(v)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	for i, word := range words {
		if i > 0 {
			word = " " + word
			if !wait(perToken) {
				return
			}
		}
		if !send(map[string]any{"id": "chatcmpl-sim", "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": model,
			"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"role": "assistant", "content": word}, "finish_reason": nil}}}) {
			return
		}
	}
	finished()
	send(map[string]any{"id": "chatcmpl-sim", "object": "chat.completion.chunk", "created": time.Now().Unix(), "model": model,
		"choices": []any{}, "usage": usage(promptTokens, len(words))})
	fmt.Fprint(w, "data: [DONE]\n\n")
	if flusher != nil {
		flusher.Flush()
	}
}

func usage(prompt, completion int) map[string]int {
	return map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
}

// approxTokens estimates a BPE token count as one token per four bytes,
// the usual rule of thumb for English with OpenAI's tokenizers.
func approxTokens(s string) int { return (len(s) + 3) / 4 }

// replyWords builds a reply of n words (one word stands for one token
// here) from the prompt's first lore line, or a stock line without lore.
func replyWords(prompt string, n int) []string {
	source := "I cannot say much about that, traveller, but ask around the village and someone will know more than I do."
	if _, after, ok := strings.Cut(prompt, "Lore you know:\n- "); ok {
		line, _, _ := strings.Cut(after, "\n")
		if _, text, ok := strings.Cut(line, "] "); ok {
			line = text
		}
		source = line
	}
	src := strings.Fields(source)
	if len(src) == 0 {
		src = []string{"Hm."}
	}
	out := make([]string, 0, n)
	for len(out) < n {
		out = append(out, src[len(out)%len(src)])
	}
	return out
}

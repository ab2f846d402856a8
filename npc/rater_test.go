package npc_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/inference/openaiserve"
	"github.com/hearth-ai/hearth/inference/template"
	"github.com/hearth-ai/hearth/npc"
)

// rating answers every request with the next of its replies (or its
// error), and can hang until the caller gives up.
type rating struct {
	replies []string
	fail    error
	hang    bool
	calls   atomic.Int64
	last    atomic.Pointer[inference.Request]
}

func (s *rating) Info() inference.Info {
	return inference.Info{Name: "rating", Tier: inference.TierLocal, Quality: 5, ExpectedTTFT: time.Millisecond, ExpectedTokensPerSecond: 1000}
}

func (s *rating) Generate(ctx context.Context, req *inference.Request, _ inference.Sink) (inference.Result, error) {
	n := s.calls.Add(1)
	s.last.Store(req)
	if s.hang {
		<-ctx.Done()
		return inference.Result{}, ctx.Err()
	}
	if s.fail != nil {
		return inference.Result{}, s.fail
	}
	return inference.Result{Text: s.replies[int(n-1)%len(s.replies)], Tier: inference.TierLocal, Backend: "rating"}, nil
}

// overHTTP serves m on the OpenAI API on loopback and returns the openai
// backend (official SDK) that reaches it: a real model server, as a GPU
// host's llama.cpp would be.
func overHTTP(t *testing.T, m inference.Model) inference.Model {
	t.Helper()
	srv, err := openaiserve.New(m, openaiserve.Options{ModelID: "rater"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })
	b, err := openai.New(openai.Config{BaseURL: "http://" + ln.Addr().String() + "/v1", Model: "rater", Tier: inference.TierLocal,
		Quality: 5, ExpectedTTFT: 5 * time.Millisecond, ExpectedTokensPerSecond: 500})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestModelRater(t *testing.T) {
	const text = "The player burned down the mill."
	heuristic := npc.HeuristicRater{}.Rate(npc.KindObservation, text)
	for _, tc := range []struct {
		name string
		m    *rating
		want float64 // 0: the heuristic's
	}{
		{"json", &rating{replies: []string{`{"rating": 8}`}}, 8},
		{"prose", &rating{replies: []string{"I would say 7 out of 10."}}, 7},
		{"out of range", &rating{replies: []string{`{"rating": 42}`}}, 0},
		{"no number", &rating{replies: []string{"Quite poignant, I think."}}, 0},
		{"server error", &rating{fail: errors.New("boom")}, 0},
		{"hangs", &rating{hang: true}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := npc.ModelRater{Model: overHTTP(t, tc.m), Timeout: 300 * time.Millisecond, NPC: "a miller"}
			start := time.Now()
			got := r.Rate(npc.KindObservation, text)
			want := tc.want
			if want == 0 {
				want = heuristic
			}
			if got != want {
				t.Fatalf("Rate = %v, want %v", got, want)
			}
			if tc.m.calls.Load() != 1 {
				t.Fatalf("the model was asked %d times", tc.m.calls.Load())
			}
			// The prompt reached the server whole, with the schema.
			if req := tc.m.last.Load(); req == nil || req.MaxTokens == 0 {
				t.Fatalf("the server saw %+v", req)
			}
			if time.Since(start) > 10*time.Second {
				t.Fatal("the timeout did not bound the rating")
			}
		})
	}
	t.Run("floor only", func(t *testing.T) {
		router, err := inference.NewRouter(template.New(), nil, inference.RouterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (npc.ModelRater{Model: router}).RateWithModel(npc.KindObservation, text); err == nil {
			t.Fatal("a floor answer was taken for a rating")
		}
		if got := (npc.ModelRater{Model: router}).Rate(npc.KindObservation, text); got != heuristic {
			t.Fatalf("floor only: %v, want the heuristic %v", got, heuristic)
		}
	})
}

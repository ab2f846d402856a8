package inference_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

// refinement collects what a Refinement's Done receives and checks that it
// runs once, after Generate has returned.
type refinement struct {
	returned atomic.Bool // set by the test once Generate has returned
	early    atomic.Bool // Done ran before that
	calls    atomic.Int32
	got      chan refined
}

type refined struct {
	res inference.Result
	err error
}

func newRefinement() *refinement { return &refinement{got: make(chan refined, 4)} }

func (rf *refinement) spec(ctx context.Context) *inference.Refinement {
	return &inference.Refinement{Ctx: ctx, Done: func(res inference.Result, err error) {
		if !rf.returned.Load() {
			rf.early.Store(true)
		}
		rf.calls.Add(1)
		rf.got <- refined{res, err}
	}}
}

func (rf *refinement) wait(t *testing.T) refined {
	t.Helper()
	select {
	case r := <-rf.got:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("the refinement never arrived")
		return refined{}
	}
}

// generateRefined runs one request with a 50 ms budget and a 3 s refinement.
func generateRefined(t *testing.T, r *inference.Router, req inference.Request, rf *refinement) inference.Result {
	t.Helper()
	rctx, rcancel := context.WithTimeout(context.Background(), 3*time.Second)
	t.Cleanup(rcancel)
	req.Refine = rf.spec(rctx)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := r.Generate(ctx, &req, nil)
	rf.returned.Store(true)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestRefinementArrivesAfterTheOnTimeAnswer(t *testing.T) {
	remote := model("remote", 100, 300*time.Millisecond, "The", "long", "answer.")
	remote.delay = 300 * time.Millisecond
	local := model("local", 50, 5*time.Millisecond, "Short", "answer.")
	local.delay = 5 * time.Millisecond
	r := newRouter(t, remote, local)

	rf := newRefinement()
	res := generateRefined(t, r, *dialogue, rf)
	if res.Backend != "local" || !res.Refining {
		t.Fatalf("on-time answer from %q, refining %v; want local, refining", res.Backend, res.Refining)
	}
	got := rf.wait(t)
	if got.err != nil {
		t.Fatalf("refinement failed: %v", got.err)
	}
	if got.res.Backend != "remote" || got.res.Text != "The long answer." {
		t.Fatalf("refinement %q from %q; want the remote's", got.res.Text, got.res.Backend)
	}
	if got.res.Latency < 300*time.Millisecond {
		t.Fatalf("refinement latency %v; it is measured from Generate and the remote takes 300 ms", got.res.Latency)
	}
	if rf.early.Load() {
		t.Fatal("Done ran before Generate returned")
	}
	if n := remote.calls.Load(); n != 1 {
		t.Fatalf("remote called %d times; want once", n)
	}
}

func TestNoRefinementWhenTheBestBackendFits(t *testing.T) {
	local := model("local", 50, 5*time.Millisecond, "Short", "answer.")
	r := newRouter(t, local)
	rf := newRefinement()
	res := generateRefined(t, r, *dialogue, rf)
	if res.Refining {
		t.Fatal("refining although the best backend answered on time")
	}
	time.Sleep(50 * time.Millisecond)
	if rf.calls.Load() != 0 {
		t.Fatal("Done ran without a refinement")
	}
}

func TestFailedRefinementSaysWhy(t *testing.T) {
	remote := model("remote", 100, 200*time.Millisecond, "never")
	remote.err = errors.New("503 service unavailable")
	r := newRouter(t, remote)
	rf := newRefinement()
	res := generateRefined(t, r, *dialogue, rf)
	if !res.Floor || !res.Refining {
		t.Fatalf("floor %v refining %v; want the floor now and a refinement under way", res.Floor, res.Refining)
	}
	got := rf.wait(t)
	if !errors.Is(got.err, inference.ErrNoRefinement) {
		t.Fatalf("err %v; want ErrNoRefinement", got.err)
	}
}

func TestCancelledRefinementEnds(t *testing.T) {
	remote := model("remote", 100, 2*time.Second, "late")
	remote.delay = 2 * time.Second
	r := newRouter(t, remote)
	rf := newRefinement()
	rctx, rcancel := context.WithCancel(context.Background())
	req := *dialogue
	req.Refine = rf.spec(rctx)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, _ := r.Generate(ctx, &req, nil)
	rf.returned.Store(true)
	if !res.Refining {
		t.Fatal("no refinement started")
	}
	rcancel()
	got := rf.wait(t)
	if !errors.Is(got.err, inference.ErrNoRefinement) {
		t.Fatalf("err %v; want ErrNoRefinement after cancel", got.err)
	}
	// goleak (TestMain) checks that the refinement's goroutine ended.
}

// TestRefinementFillsTheCache: the remote's refinement is cached at its
// quality, so the next player asking the same thing on a 50 ms budget gets
// the remote's words at once, with nothing left to refine.
func TestRefinementFillsTheCache(t *testing.T) {
	remote := model("remote", 100, 100*time.Millisecond, "The", "long", "answer.")
	remote.delay = 100 * time.Millisecond
	cache, err := inference.NewResponseCache(inference.CacheOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close()
	r, err := inference.NewRouter(template.New(), []inference.Model{remote}, inference.RouterOptions{Cache: cache})
	if err != nil {
		t.Fatal(err)
	}
	req := *dialogue
	req.CacheKey = inference.ExactKey(&req)

	rf := newRefinement()
	if res := generateRefined(t, r, req, rf); !res.Floor || !res.Refining {
		t.Fatalf("first: floor %v refining %v", res.Floor, res.Refining)
	}
	if got := rf.wait(t); got.err != nil {
		t.Fatal(got.err)
	}
	rf2 := newRefinement()
	res := generateRefined(t, r, req, rf2)
	if res.Tier != inference.TierCache || res.Text != "The long answer." || res.Refining {
		t.Fatalf("second: %q from %s (refining %v); want the remote's answer from the cache", res.Text, res.Tier, res.Refining)
	}
}

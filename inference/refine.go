package inference

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Refinement asks the Router for "answer now, refine later" (issue 4): the
// request is answered inside its own deadline as usual (cache, a backend
// that fits, or the floor), and a better backend that does not fit that
// deadline is started at once beside it, so that its answer arrives later
// as a refinement the game may show in place of the first.
type Refinement struct {
	// Ctx bounds the refinement: its deadline is the refinement's budget
	// (DefaultRefineBudget from the call to Generate when it has none),
	// and cancelling it abandons the refinement (the Runtime cancels it
	// on Close). Required.
	Ctx context.Context
	// Done receives the refinement: exactly once when Generate returned a
	// Result with Refining set, never otherwise; never before Generate
	// has returned, so a refinement always follows its answer. On success
	// the Result is the better backend's reply (Latency measured from the
	// call to Generate); the error wraps ErrNoRefinement when no better
	// backend answered in time, with the reason. Done runs on the
	// refinement's goroutine and must not block for long.
	Done func(Result, error)
}

// DefaultRefineBudget is a refinement's budget when Refinement.Ctx has no
// deadline: long enough for a remote large model's p99 (DESIGN §4 budgets
// its p99 at 2 s) with room for one fallback.
const DefaultRefineBudget = 5 * time.Second

// ErrNoRefinement is wrapped by the error a Refinement's Done receives when
// no better backend answered before the refinement's deadline.
var ErrNoRefinement = errors.New("inference: no better backend answered the refinement")

// refiner runs one request's refinement on its own goroutine.
type refiner struct {
	r        *Router
	req      Request     // a copy: the caller may reuse its request once Generate returns
	sk       SemanticKey // the semantic cache's key from Generate's lookup
	spec     Refinement
	cands    []*backend // better than the on-time answer and predicted to fit, best first
	start    time.Time  // when Generate was called
	deadline time.Time
	mainDone chan struct{} // closed when Generate has returned
}

// startRefine starts the refinement of req if it asked for one and some
// backend of quality above the on-time answer's (above) is predicted to
// answer before the refinement's deadline. It returns nil when there is
// nothing to refine with; otherwise the caller must call release once its
// own answer is on its way.
func (r *Router) startRefine(req *Request, sk SemanticKey, above int, start time.Time) *refiner {
	spec := req.Refine
	if spec == nil || spec.Ctx == nil || spec.Done == nil || spec.Ctx.Err() != nil {
		return nil
	}
	deadline, ok := spec.Ctx.Deadline()
	if !ok {
		deadline = start.Add(DefaultRefineBudget)
	}
	now := time.Now()
	remaining := deadline.Sub(now) - r.reserve
	var cands []*backend
	for _, b := range r.backends {
		if b.info.Quality > above && r.predict(b, req) <= remaining && !b.breaker.closedTo(now) && !r.spend.stops(b, now) && !r.tooCostly(b, req) {
			cands = append(cands, b)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	rf := &refiner{r: r, req: *req, sk: sk, spec: *spec, cands: cands, start: start,
		deadline: deadline.Add(-r.reserve), mainDone: make(chan struct{})}
	rf.req.Refine = nil
	go rf.run()
	return rf
}

// release lets the refinement's Done run (the on-time answer has been
// returned) and reports whether a refinement is under way.
func (rf *refiner) release() bool {
	if rf == nil {
		return false
	}
	close(rf.mainDone)
	return true
}

// run tries the candidates best first, each under the refinement's
// deadline, falling back to the next on failure like Generate does; the
// winner fills the response cache at its quality, so the next request
// with the same key that can afford it is answered from the cache.
func (rf *refiner) run() {
	r, ctx, req := rf.r, rf.spec.Ctx, &rf.req
	var res Result
	var first *backend
	why := "every better backend was busy or its circuit open"
	ok := false
	for _, b := range rf.cands {
		if ctx.Err() != nil {
			why = "cancelled: " + ctx.Err().Error()
			break
		}
		remaining := time.Until(rf.deadline)
		if remaining <= 0 || r.predict(b, req) > remaining {
			why = "out of time"
			continue
		}
		if r.capped(b, req, time.Now()) || !r.admit(b, time.Now()) {
			continue
		}
		if first == nil {
			first = b
		}
		a := r.launch(ctx, b, rf.deadline, req, nil)
		finished := a.wait()
		if res, ok = r.settle(ctx, b, a, finished); ok {
			res.stamp(b.info)
			if first != b {
				res.FallbackFrom = first.info.Name
			}
			if r.cache != nil && req.CacheKey != "" {
				r.cachePut(req, rf.sk, res, b.info.Quality)
			}
			break
		}
		why = b.info.Name + " ran out of time"
		if finished && a.err != nil { // a.err is the goroutine's: read only once it returned
			why = b.info.Name + " failed: " + a.err.Error()
		}
	}
	<-rf.mainDone
	if !ok {
		rf.spec.Done(Result{}, fmt.Errorf("%w: %s", ErrNoRefinement, why))
		return
	}
	rf.spec.Done(r.finish(res, rf.start), nil)
}

package inference

import (
	"sync"
	"time"
)

// spendBook is the Router's global daily spend (RouterOptions.DailySpendCapUSD):
// what billed backends charged since 00:00 UTC, across every request,
// player and tenant. Past the cap the Router stops calling billed backends
// until the next UTC day: requests degrade to the cache, in-process tiers
// and the floor instead of failing.
type spendBook struct {
	cap float64 // US dollars per UTC day

	mu  sync.Mutex
	day int64   // Unix day of usd
	usd float64 // charged on day
}

func newSpendBook(capUSD float64) *spendBook {
	if capUSD <= 0 {
		return nil
	}
	return &spendBook{cap: capUSD}
}

// add records a charge at now. A nil book records nothing.
func (s *spendBook) add(usd float64, now time.Time) {
	if s == nil || usd <= 0 {
		return
	}
	s.mu.Lock()
	s.roll(now)
	s.usd += usd
	s.mu.Unlock()
}

// spent returns today's spend at now.
func (s *spendBook) spent(now time.Time) float64 {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roll(now)
	return s.usd
}

// stops reports whether b may not be called at now: it bills and today's
// spend has reached the cap.
func (s *spendBook) stops(b *backend, now time.Time) bool {
	return s != nil && (b.info.Prices != (Prices{}) || b.billed.Load()) && s.spent(now) >= s.cap
}

func (s *spendBook) roll(now time.Time) {
	if d := now.UTC().Unix() / 86400; d != s.day {
		s.day, s.usd = d, 0
	}
}

// SpentTodayUSD returns what billed backends charged since 00:00 UTC, in
// US dollars, when the Router has a daily spend cap
// (RouterOptions.DailySpendCapUSD); 0 without one.
func (r *Router) SpentTodayUSD() float64 { return r.spend.spent(time.Now()) }

// PredictCost is what a request is predicted to cost on a backend with
// these prices, in US dollars: the prompt's tokens estimated as one per 4
// bytes of Prompt (the usual English ratio of BPE tokenizers; an exact
// count would cost a tokenization per backend per request) and the
// reply's as MaxTokens (DefaultPredictTokens when 0).
func PredictCost(p Prices, req *Request) float64 {
	out := req.MaxTokens
	if out <= 0 {
		out = DefaultPredictTokens
	}
	return p.Cost((len(req.Prompt)+3)/4, out, 0, 0)
}

// tooCostly reports whether req's predicted cost on b is above its cap
// (Request.MaxCostUSD, else RouterOptions.MaxRequestCostUSD).
func (r *Router) tooCostly(b *backend, req *Request) bool {
	limit := req.MaxCostUSD
	if limit <= 0 {
		limit = r.maxCost
	}
	return limit > 0 && PredictCost(b.info.Prices, req) > limit
}

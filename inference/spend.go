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
	return s != nil && (b.info.Billed || b.billed.Load()) && s.spent(now) >= s.cap
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

package server

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/hearth-ai/hearth/middleware"
)

// DailyQuota caps what one player (a tenant and a player_id, over all its
// connections) may consume in a UTC day (issue 9: "tokens and spend per
// player per day"). Usage is what the model tiers reported on each reply
// the player received (middleware.Event): prompt plus output tokens of the
// embedded, local and remote tiers (the template floor and the response
// cache do no model work and count none) and CostUSD. A request is
// admitted while the player is under every cap, so the replies already in
// flight when a cap is reached (at most Limits.MaxInFlight per
// connection) may pass it by their own size; later ones are refused with
// protocol.CodeQuotaExceeded until 00:00 UTC.
//
// Usage is kept in the server's memory, not in the store: a restart
// forgets the day's usage (the cap then starts over for the rest of the
// day). It costs one map entry per player seen that day; the map is
// emptied when the day turns.
type DailyQuota struct {
	// Tokens is the prompt plus output tokens per player per day. 0: no cap.
	Tokens int64
	// SpendUSD is the spend per player per day, in US dollars, from the
	// backends' prices (inference.Prices). 0: no cap.
	SpendUSD float64
}

func (q DailyQuota) check() error {
	switch {
	case q.Tokens < 0:
		return fmt.Errorf("server: Limits.Daily.Tokens %d: must be 0 (no cap) or positive", q.Tokens)
	case q.SpendUSD < 0 || math.IsNaN(q.SpendUSD) || math.IsInf(q.SpendUSD, 0):
		return fmt.Errorf("server: Limits.Daily.SpendUSD %v: must be 0 (no cap) or a positive number of dollars", q.SpendUSD)
	}
	return nil
}

func (q DailyQuota) any() bool { return q.Tokens > 0 || q.SpendUSD > 0 }

// usage is one player's consumption in the current day.
type usage struct {
	tokens int64
	usd    float64
}

// quotaBook keeps each player's usage of the current UTC day.
type quotaBook struct {
	quota DailyQuota
	mu    sync.Mutex
	day   int64             // UTC day of used (days since the Unix epoch)
	used  map[string]*usage // playerKey → usage
}

// newQuotaBook returns the book of q. It keeps every player's usage even
// without caps: the admin usage list and /metrics report it.
func newQuotaBook(q DailyQuota) *quotaBook {
	return &quotaBook{quota: q, used: map[string]*usage{}}
}

func utcDay(t time.Time) int64 { return t.Unix() / 86400 }

// roll empties the book when now is on a later day. Call with b.mu held.
func (b *quotaBook) roll(now time.Time) {
	if d := utcDay(now); d != b.day {
		b.day = d
		clear(b.used)
	}
}

// admit returns "" when the player under key may make a request at now,
// else why not (the refusal's message).
func (b *quotaBook) admit(key string, now time.Time) string {
	if !b.quota.any() {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	u := b.used[key]
	if u == nil {
		return ""
	}
	reset := time.Unix((b.day+1)*86400, 0).UTC()
	in := reset.Sub(now).Round(time.Minute)
	switch {
	case b.quota.Tokens > 0 && u.tokens >= b.quota.Tokens:
		return fmt.Sprintf("this player has used %d of its %d tokens for today; the quota resets at %s (in %v)",
			u.tokens, b.quota.Tokens, reset.Format(time.RFC3339), in)
	case b.quota.SpendUSD > 0 && u.usd >= b.quota.SpendUSD:
		return fmt.Sprintf("this player has spent $%.4f of its $%.4f for today; the quota resets at %s (in %v)",
			u.usd, b.quota.SpendUSD, reset.Format(time.RFC3339), in)
	}
	return ""
}

// charge adds a delivered reply's usage to the player under key. It runs
// on the tick goroutine: a map update under a mutex.
func (b *quotaBook) charge(key string, ev *middleware.Event, now time.Time) {
	tokens := int64(modelTokens(ev, ev.PromptTokens)) + int64(modelTokens(ev, ev.Tokens))
	if tokens == 0 && ev.CostUSD == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.roll(now)
	u := b.used[key]
	if u == nil {
		u = &usage{}
		b.used[key] = u
	}
	u.tokens += tokens
	u.usd += ev.CostUSD
}

// modelTokens returns n, a token count of ev, when a model produced ev's
// reply, and 0 for the template floor (which counts words) and the cache
// (which did no work): what the daily quota and dialogue.done count.
func modelTokens(ev *middleware.Event, n int) uint32 {
	if !ev.Tier.IsModel() {
		return 0
	}
	return uint32(min(max(n, 0), math.MaxUint32))
}

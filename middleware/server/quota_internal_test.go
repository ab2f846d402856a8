package server

import (
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/middleware"
)

func TestQuotaBook(t *testing.T) {
	// No cap: usage is kept (the admin usage list reads it), nothing refused.
	free := newQuotaBook(DailyQuota{})
	free.charge(playerKey("acme", "p1"), &middleware.Event{Tier: inference.TierRemote, PromptTokens: 1e6, CostUSD: 100}, time.Now())
	if msg := free.admit(playerKey("acme", "p1"), time.Now()); msg != "" {
		t.Fatalf("no cap refused: %s", msg)
	}
	if l := free.usage(AllTenants, "", 10, time.Now()); l.Players != 1 || l.Top[0].Tokens != 1e6 || l.Top[0].CostUSD != 100 {
		t.Fatalf("usage without a cap: %+v", l)
	}
	b := newQuotaBook(DailyQuota{Tokens: 100, SpendUSD: 0.01})
	day := time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)
	p1, p2 := playerKey("acme", "p1"), playerKey("globex", "p1")
	remote := func(prompt, out int, usd float64) *middleware.Event {
		return &middleware.Event{Tier: inference.TierRemote, PromptTokens: prompt, Tokens: out, CostUSD: usd}
	}
	if msg := b.admit(p1, day); msg != "" {
		t.Fatalf("a new player is refused: %s", msg)
	}
	// The floor and the cache do no model work: they never use the quota.
	for i := 0; i < 1000; i++ {
		b.charge(p1, &middleware.Event{Tier: inference.TierTemplate, Tokens: 30}, day)
		b.charge(p1, &middleware.Event{Tier: inference.TierCache, Tokens: 30}, day)
	}
	if msg := b.admit(p1, day); msg != "" {
		t.Fatalf("floor and cache replies used the quota: %s", msg)
	}
	b.charge(p1, remote(60, 39, 0), day)
	if msg := b.admit(p1, day); msg != "" {
		t.Fatalf("99 of 100 tokens: refused: %s", msg)
	}
	b.charge(p1, remote(0, 1, 0), day)
	msg := b.admit(p1, day)
	for _, want := range []string{"100 of its 100 tokens", "2026-12-01T00:00:00Z", "1h0m0s"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("at the cap: %q, want it to say %q", msg, want)
		}
	}
	// Another tenant's player with the same id is another player.
	if msg := b.admit(p2, day); msg != "" {
		t.Fatalf("globex's p1 refused for acme's usage: %s", msg)
	}
	// Spend: embedded tiers cost nothing; a remote one crosses the cap.
	b.charge(p2, remote(1, 1, 0.004), day)
	b.charge(p2, remote(1, 1, 0.004), day)
	if msg := b.admit(p2, day); msg != "" {
		t.Fatalf("$0.008 of $0.01: refused: %s", msg)
	}
	b.charge(p2, remote(1, 1, 0.004), day)
	if msg := b.admit(p2, day); !strings.Contains(msg, "$0.0120 of its $0.0100") {
		t.Fatalf("over the spend cap: %q", msg)
	}
	// The next UTC day starts over.
	next := day.Add(time.Hour)
	if msg := b.admit(p1, next); msg != "" {
		t.Fatalf("the next day: %s", msg)
	}
	if len(b.used) != 0 {
		t.Fatalf("the book keeps %d players of yesterday", len(b.used))
	}
}

func TestDailyQuotaIsChecked(t *testing.T) {
	for _, q := range []DailyQuota{{Tokens: -1}, {SpendUSD: -0.5}} {
		l := Limits{Daily: q}
		if err := l.fill(); err == nil || !strings.Contains(err.Error(), "Limits.Daily") {
			t.Errorf("%+v: %v, want an error naming Limits.Daily", q, err)
		}
	}
}

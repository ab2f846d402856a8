package server

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-ai/hearth/middleware/protocol"
)

// AdminUsagePath (GET [?tenant=T][&player=ID][&top=N]) lists players'
// model usage of the current UTC day: tokens and US dollars, the
// refinements included, highest spend first (issue 4: totals per player).
const AdminUsagePath = "/v1/admin/usage"

// TopPlayersInMetrics is how many players /metrics reports by name
// (hearth_player_cost_usd_today and hearth_player_tokens_today): the
// day's biggest spenders. Per-player series for every player would grow
// Prometheus without bound; AdminUsagePath answers for any player.
const TopPlayersInMetrics = 20

// PlayerUsage is one player's model usage of the current UTC day: what the
// daily quotas (Limits.Daily) count.
type PlayerUsage struct {
	Tenant   string  `json:"tenant"`
	PlayerID string  `json:"player_id"`
	Tokens   int64   `json:"tokens"`   // prompt and output tokens models reported
	CostUSD  float64 `json:"cost_usd"` // from the backends' prices
}

// UsageList is the answer of AdminUsagePath.
type UsageList struct {
	Day     string        `json:"day"`     // the UTC day, YYYY-MM-DD
	Players int           `json:"players"` // players with any usage today (visible to the caller)
	Top     []PlayerUsage `json:"top"`     // highest spend first, then tokens
}

// Usage returns the day's usage of tenant's players (AllTenants: every
// tenant's), the n biggest spenders first; player, when not "", keeps that
// player only.
func (s *Server) Usage(tenant, player string, n int) UsageList {
	return s.quota.usage(tenant, player, n, time.Now())
}

func (b *quotaBook) usage(tenant, player string, n int, now time.Time) UsageList {
	b.mu.Lock()
	b.roll(now)
	l := UsageList{Day: time.Unix(b.day*86400, 0).UTC().Format(time.DateOnly)}
	var all []PlayerUsage
	for key, u := range b.used {
		t, p, _ := strings.Cut(key, "\x00")
		if tenant != AllTenants && t != tenant || player != "" && p != player {
			continue
		}
		all = append(all, PlayerUsage{Tenant: t, PlayerID: p, Tokens: u.tokens, CostUSD: u.usd})
	}
	b.mu.Unlock()
	l.Players = len(all)
	slices.SortFunc(all, func(a, b PlayerUsage) int {
		if c := cmp.Compare(b.CostUSD, a.CostUSD); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Tokens, a.Tokens); c != 0 {
			return c
		}
		return cmp.Or(strings.Compare(a.Tenant, b.Tenant), strings.Compare(a.PlayerID, b.PlayerID))
	})
	l.Top = all[:min(n, len(all))]
	if l.Top == nil {
		l.Top = []PlayerUsage{}
	}
	return l
}

func (s *Server) adminUsage(r *http.Request, p Principal) adminResult {
	q := r.URL.Query()
	tenant, denied := adminTenant(r, p, "read")
	if denied != nil {
		return *denied
	}
	n := 100
	if v := q.Get("top"); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 1 || k > 1000 {
			return adminResult{status: http.StatusBadRequest,
				body:   protocol.ErrorPayload{Code: protocol.CodeBadRequest, Message: "top: want a number from 1 to 1000"},
				result: "failed: bad top"}
		}
		n = k
	}
	l := s.Usage(tenant, q.Get("player"), n)
	return adminResult{status: http.StatusOK, body: l, result: fmt.Sprintf("ok: %d players", l.Players)}
}

// usageCollector exports the day's biggest spenders by name, and how
// many players used a model today, at scrape time.
type usageCollector struct {
	s                    *Server
	cost, tokens, people *prometheus.Desc
}

func newUsageCollector(s *Server) *usageCollector {
	l := []string{"tenant", "player"}
	return &usageCollector{s: s,
		cost: prometheus.NewDesc("hearth_player_cost_usd_today",
			"What models charged for the player's replies since 00:00 UTC, in US dollars; the day's top spenders only (server.TopPlayersInMetrics).", l, nil),
		tokens: prometheus.NewDesc("hearth_player_tokens_today",
			"Model tokens of the player's replies since 00:00 UTC; the same players as hearth_player_cost_usd_today.", l, nil),
		people: prometheus.NewDesc("hearth_players_with_usage_today", "Players whose replies used a model since 00:00 UTC.", nil, nil),
	}
}

func (c *usageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.cost
	ch <- c.tokens
	ch <- c.people
}

func (c *usageCollector) Collect(ch chan<- prometheus.Metric) {
	l := c.s.Usage(AllTenants, "", TopPlayersInMetrics)
	for _, u := range l.Top {
		ch <- prometheus.MustNewConstMetric(c.cost, prometheus.GaugeValue, u.CostUSD, u.Tenant, u.PlayerID)
		ch <- prometheus.MustNewConstMetric(c.tokens, prometheus.GaugeValue, float64(u.Tokens), u.Tenant, u.PlayerID)
	}
	ch <- prometheus.MustNewConstMetric(c.people, prometheus.GaugeValue, float64(l.Players))
}

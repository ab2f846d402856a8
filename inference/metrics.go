package inference

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports what the Router knows about its backends and the
// response cache as Prometheus metrics, read at scrape time (nothing is
// counted twice on the request path). Names are prefixed hearth_router_
// and hearth_cache_; register it with the server's registry
// (server.Options.Collectors).
type Collector struct {
	r     *Router
	cache *ResponseCache // may be nil

	calls, errors, timeouts, skips, rejects, floorFallbacks, opens *prometheus.Desc
	relaxed, hedged, hedgeWins, spendCapped, spentToday, stalls    *prometheus.Desc
	costSkips                                                      *prometheus.Desc
	inFlight, ttft, circuit                                        *prometheus.Desc
	hits, misses, entries, bytes                                   *prometheus.Desc
	more                                                           cacheDescs    // semcache.go
	decided                                                        decisionDescs // trace.go
}

// NewCollector returns a Collector over r and cache (nil when there is no
// cache).
func NewCollector(r *Router, cache *ResponseCache) *Collector {
	b := []string{"backend", "tier"}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &Collector{r: r, cache: cache,
		calls:          d("hearth_router_attempts_total", "Attempts started on a backend.", b...),
		errors:         d("hearth_router_errors_total", "Attempts that failed: an error, malformed or empty output.", b...),
		timeouts:       d("hearth_router_timeouts_total", "Attempts cut off by the deadline.", b...),
		skips:          d("hearth_router_skips_total", "Requests a backend was predicted not to finish in time for.", b...),
		rejects:        d("hearth_router_rejects_total", "Requests a backend refused: circuit open or in-flight limit reached.", b...),
		floorFallbacks: d("hearth_router_floor_fallbacks_total", "Requests first tried on a backend that the floor answered.", b...),
		opens:          d("hearth_router_circuit_opens_total", "Times a backend's circuit opened.", b...),
		relaxed:        d("hearth_router_relaxed_total", "Steps a skipped backend's latency estimates took back toward their seeds.", b...),
		hedged:         d("hearth_router_hedged_total", "Requests where a backend was slow to start and the next tier was started beside it.", b...),
		hedgeWins:      d("hearth_router_hedge_wins_total", "Hedges on a backend that gave the reply.", b...),
		spendCapped:    d("hearth_router_spend_capped_total", "Requests a billed backend was not called for: the daily spend cap was reached.", b...),
		stalls:         d("hearth_router_stalls_total", "Streams abandoned after RouterOptions.StallTimeout without a token (also counted as timeouts).", b...),
		costSkips:      d("hearth_router_cost_skips_total", "Requests a backend was passed over for: its predicted cost was above the request's cost cap.", b...),
		spentToday:     d("hearth_router_spent_today_usd", "What billed backends charged since 00:00 UTC, in US dollars (with a daily spend cap configured)."),
		inFlight:       d("hearth_router_in_flight", "Attempts running on a backend now, abandoned ones included.", b...),
		ttft:           d("hearth_router_ttft_seconds", "The Router's live estimate of a backend's time to first token.", append(b, "quantile")...),
		circuit:        d("hearth_router_circuit_state", "1 for the backend's circuit state (closed, open, half-open), 0 for the others.", append(b, "state")...),
		hits:           d("hearth_cache_hits_total", "Response cache lookups that served an answer."),
		misses:         d("hearth_cache_misses_total", "Response cache lookups that did not (absent, or of lower quality than the request could afford)."),
		entries:        d("hearth_cache_entries", "Entries in the response cache (an estimate while evictions run)."),
		bytes:          d("hearth_cache_bytes", "Weighed size of the response cache, bytes."),
		more:           newCacheDescs(),
		decided:        newDecisionDescs(),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.calls, c.errors, c.timeouts, c.skips, c.rejects, c.floorFallbacks, c.opens,
		c.relaxed, c.hedged, c.hedgeWins, c.spendCapped, c.spentToday, c.stalls, c.costSkips,
		c.inFlight, c.ttft, c.circuit, c.hits, c.misses, c.entries, c.bytes} {
		ch <- d
	}
	c.more.describe(ch)
	c.decided.describe(ch)
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.r.Stats() {
		if s.Floor {
			continue // the floor is counted by the runtime's replies
		}
		l := []string{s.Name, string(s.Tier)}
		counter := func(d *prometheus.Desc, v uint64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
		}
		counter(c.calls, s.Calls)
		counter(c.errors, s.Errors)
		counter(c.timeouts, s.Timeouts)
		counter(c.skips, s.Skips)
		counter(c.rejects, s.Rejects)
		counter(c.floorFallbacks, s.FloorFallbacks)
		counter(c.opens, s.CircuitOpens)
		counter(c.relaxed, s.Relaxed)
		counter(c.hedged, s.Hedged)
		counter(c.hedgeWins, s.HedgeWins)
		counter(c.spendCapped, s.SpendCapped)
		counter(c.stalls, s.Stalls)
		counter(c.costSkips, s.CostSkips)
		ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(s.InFlight), l...)
		ch <- prometheus.MustNewConstMetric(c.ttft, prometheus.GaugeValue, s.TTFTP50.Seconds(), append(l, "0.5")...)
		ch <- prometheus.MustNewConstMetric(c.ttft, prometheus.GaugeValue, s.TTFTP90.Seconds(), append(l, "0.9")...)
		for _, st := range []string{CircuitClosed, CircuitOpen, CircuitHalfOpen} {
			v := 0.0
			if s.Circuit == st {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.circuit, prometheus.GaugeValue, v, append(l, st)...)
		}
	}
	ch <- prometheus.MustNewConstMetric(c.spentToday, prometheus.GaugeValue, c.r.SpentTodayUSD())
	c.decided.collect(c.r, ch)
	c.more.collect(c.r, c.cache, ch)
	if c.cache != nil {
		st := c.cache.Stats()
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(st.Hits))
		ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(st.Misses))
		ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(st.Entries))
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(st.Bytes))
	}
}

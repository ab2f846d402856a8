package middleware

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-ai/hearth/npc"
)

// Metrics are the runtime's Prometheus collectors. Register them with
// Register; names are prefixed hearth_runtime_.
type Metrics struct {
	submitted  *prometheus.CounterVec   // by priority
	overloaded *prometheus.CounterVec   // by priority
	replies    *prometheus.CounterVec   // by tier, floor, on_time
	latency    *prometheus.HistogramVec // ready latency in ms, by tier
	cost       *prometheus.CounterVec   // USD, by tier
	refines    *prometheus.CounterVec   // refinements, by tier ("" when none came) and outcome
	npcCost    *prometheus.CounterVec   // USD, by npc and feature
	npcTokens  *prometheus.CounterVec   // model tokens, by npc, feature and kind
	refineLat  prometheus.Histogram     // refinement latency from submission, ms
}

func newMetrics() *Metrics {
	return &Metrics{
		submitted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_runtime_submitted_total", Help: "Requests accepted by Submit.",
		}, []string{"priority"}),
		overloaded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_runtime_overloaded_total", Help: "Requests refused because their queue was full.",
		}, []string{"priority"}),
		replies: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_runtime_replies_total", Help: "Replies delivered, by tier, whether the floor answered and whether they were on time.",
		}, []string{"tier", "floor", "on_time"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_runtime_ready_latency_ms",
			Help:    "Time from Submit to the reply being ready, in milliseconds.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 40, 45, 50, 75, 100, 250, 1000},
		}, []string{"tier"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_runtime_cost_usd_total", Help: "What the answering backends charged for delivered replies and refinements, in US dollars.",
		}, []string{"tier"}),
		npcCost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_cost_usd_total", Help: "What backends charged for delivered replies and refinements, in US dollars, by NPC and feature (dialogue, bark, refinement, quest).",
		}, []string{"npc", "feature"}),
		npcTokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_model_tokens_total", Help: "Tokens models reported for delivered replies and refinements, by NPC, feature and kind (prompt, output); the template floor and the cache count none.",
		}, []string{"npc", "feature", "kind"}),
		refines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_runtime_refinements_total", Help: "Refinements (Talk.Refine) that ended, by the tier that refined and outcome (refined, none, blocked).",
		}, []string{"tier", "outcome"}),
		refineLat: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hearth_runtime_refine_latency_ms",
			Help:    "Time from Submit to a refinement being ready, in milliseconds.",
			Buckets: []float64{50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000},
		}),
	}
}

// Register registers every collector with reg.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.submitted, m.overloaded, m.replies, m.latency, m.cost, m.refines, m.refineLat, m.npcCost, m.npcTokens} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m *Metrics) observe(ev Event, feature string) {
	tier := string(ev.Tier)
	m.replies.WithLabelValues(tier, boolLabel(ev.Floor), boolLabel(ev.OnTime)).Inc()
	m.latency.WithLabelValues(tier).Observe(float64(ev.Latency) / 1e6)
	if ev.CostUSD > 0 {
		m.cost.WithLabelValues(tier).Add(ev.CostUSD)
	}
	m.spend(ev, feature)
}

// Features of hearth_cost_usd_total and hearth_model_tokens_total.
const (
	featureDialogue   = "dialogue"
	featureBark       = "bark"
	featureRefinement = "refinement"
	featureQuest      = "quest"
)

// spend adds ev's cost and model tokens to its NPC and feature. The
// template floor and the cache did no model work: their word counts are
// not tokens.
func (m *Metrics) spend(ev Event, feature string) {
	if !ev.Tier.IsModel() {
		return
	}
	if ev.CostUSD > 0 {
		m.npcCost.WithLabelValues(ev.NPCID, feature).Add(ev.CostUSD)
	}
	if ev.PromptTokens > 0 {
		m.npcTokens.WithLabelValues(ev.NPCID, feature, "prompt").Add(float64(ev.PromptTokens))
	}
	if ev.Tokens > 0 {
		m.npcTokens.WithLabelValues(ev.NPCID, feature, "output").Add(float64(ev.Tokens))
	}
}

// observeRefine counts an EventRefine and, when it refined, its latency and cost.
func (m *Metrics) observeRefine(ev Event) {
	switch {
	case ev.Err == nil:
		m.refines.WithLabelValues(string(ev.Tier), "refined").Inc()
		m.refineLat.Observe(float64(ev.Latency) / 1e6)
		if ev.CostUSD > 0 {
			m.cost.WithLabelValues(string(ev.Tier)).Add(ev.CostUSD)
		}
		m.spend(ev, featureRefinement)
	case errors.Is(ev.Err, npc.ErrRefinementBlocked):
		m.refines.WithLabelValues("", "blocked").Inc()
	default:
		m.refines.WithLabelValues("", "none").Inc()
	}
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

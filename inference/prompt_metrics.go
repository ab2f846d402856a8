package inference

import (
	"slices"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// PromptCollector exports a Prompts' counters as Prometheus metrics, read
// at scrape time: renders and render errors per template name and version
// (hearth_prompt_renders_total, hearth_prompt_render_errors_total: an A/B
// split's arms side by side), reloads by result
// (hearth_prompt_reloads_total) and hearth_prompt_reload_failing (1 while
// the latest reload failed and an older set is serving). Register it with
// the server's registry (server.Options.Collectors).
type PromptCollector struct {
	p                              *Prompts
	renders, renderErrors, reloads *prometheus.Desc
	failing                        *prometheus.Desc
}

// NewPromptCollector returns a PromptCollector over p.
func NewPromptCollector(p *Prompts) *PromptCollector {
	tv := []string{"template", "version"}
	return &PromptCollector{p: p,
		renders:      prometheus.NewDesc("hearth_prompt_renders_total", "Prompts rendered, per template and version.", tv, nil),
		renderErrors: prometheus.NewDesc("hearth_prompt_render_errors_total", "Prompt renders that failed (a missing field, a bad value), per template and version.", tv, nil),
		reloads:      prometheus.NewDesc("hearth_prompt_reloads_total", "Reloads of the prompt directory, by result: ok (swapped in or unchanged) or error (the previous set kept serving).", []string{"result"}, nil),
		failing:      prometheus.NewDesc("hearth_prompt_reload_failing", "1 while the latest reload of the prompt directory failed and the previous set is serving, else 0.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *PromptCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.renders
	ch <- c.renderErrors
	ch <- c.reloads
	ch <- c.failing
}

// Collect implements prometheus.Collector.
func (c *PromptCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.p.RenderCounts() {
		v := strconv.Itoa(s.Ref.Version)
		ch <- prometheus.MustNewConstMetric(c.renders, prometheus.CounterValue, float64(s.Renders), s.Ref.Name, v)
		ch <- prometheus.MustNewConstMetric(c.renderErrors, prometheus.CounterValue, float64(s.Errors), s.Ref.Name, v)
	}
	ch <- prometheus.MustNewConstMetric(c.reloads, prometheus.CounterValue, float64(c.p.reloads.Load()), "ok")
	ch <- prometheus.MustNewConstMetric(c.reloads, prometheus.CounterValue, float64(c.p.reloadErrors.Load()), "error")
	failing := 0.0
	if c.p.Err() != nil {
		failing = 1
	}
	ch <- prometheus.MustNewConstMetric(c.failing, prometheus.GaugeValue, failing)
}

// PromptCount is how often one template version rendered.
type PromptCount struct {
	Ref     PromptRef // name and version (Hash is empty: counts span edits)
	Renders uint64    // successful renders
	Errors  uint64    // failed renders
}

// RenderCounts returns the renders of every name@version loaded since
// the Prompts opened (reloads keep the counts), sorted by name, then
// version.
func (p *Prompts) RenderCounts() []PromptCount {
	p.mu.Lock()
	out := make([]PromptCount, 0, len(p.counters))
	for _, c := range p.counters {
		out = append(out, PromptCount{Ref: c.ref, Renders: c.renders.Load(), Errors: c.errors.Load()})
	}
	p.mu.Unlock()
	slices.SortFunc(out, func(a, b PromptCount) int {
		if a.Ref.Name != b.Ref.Name {
			if a.Ref.Name < b.Ref.Name {
				return -1
			}
			return 1
		}
		return a.Ref.Version - b.Ref.Version
	})
	return out
}

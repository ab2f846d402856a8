package bench

import (
	"fmt"
	"strings"
)

// Comparison is a baseline run ("without the stack": every request straight
// to the large model) beside a run of the same load through Hearth ("with
// the stack"), with the rows Hearth set out to beat (issue 8).
type Comparison struct {
	Command string      `json:"command"`
	Machine string      `json:"machine"`
	Model   string      `json:"model"` // what stood in for the large model
	Without *OpenReport `json:"without_stack"`
	With    *OpenReport `json:"with_stack"`
}

// costPer returns the cost per reply of the given kinds, in US dollars.
func costPer(r *OpenReport, kinds ...Kind) (float64, bool) {
	var cost float64
	var n int64
	for _, k := range kinds {
		if ks := r.ByKind[k]; ks != nil {
			cost += ks.CostUSD
			n += ks.Replies
		}
	}
	if n == 0 {
		return 0, false
	}
	return cost / float64(n), true
}

// Markdown renders the comparison table and the command that produced it.
func (c *Comparison) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "`%s`\n\n%s\n\nlarge model: %s\n\n", c.Command, c.Machine, c.Model)
	fmt.Fprintf(&b, "| %s, %g requests/s for %.0f s | without the stack | with the stack |\n|---|---|---|\n",
		c.With.Scenario, c.With.OfferedRate, c.With.DurationS)
	row := func(name string, f func(r *OpenReport) string) {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", name, f(c.Without), f(c.With))
	}
	row("requests / replies / errors", func(r *OpenReport) string {
		return fmt.Sprintf("%d / %d / %d", r.Requests, r.Replies, r.Errors)
	})
	row("ready latency p50 / p99 / max (ms)", func(r *OpenReport) string {
		return fmt.Sprintf("%.1f / %.1f / %.1f", r.Ready.P50, r.Ready.P99, r.Ready.Max)
	})
	row(fmt.Sprintf("on time (ready within %.0f ms)", c.With.BudgetMS), func(r *OpenReport) string {
		return fmt.Sprintf("%.2f %%", 100*r.OnTimeShare)
	})
	row("cost per quest (USD)", func(r *OpenReport) string {
		v, ok := costPer(r, KindQuest)
		if !ok {
			return "—"
		}
		return fmt.Sprintf("%.5f", v)
	})
	row("cost per 1,000 dialogue lines and barks (USD)", func(r *OpenReport) string {
		v, ok := costPer(r, KindDialogue, KindBark)
		if !ok {
			return "—"
		}
		return fmt.Sprintf("%.3f", 1000*v)
	})
	row("cost of the run (USD)", func(r *OpenReport) string { return fmt.Sprintf("%.4f", r.CostUSD) })
	row("lore consistency", func(r *OpenReport) string {
		if r == c.With {
			return "not measured in this run (`hearth quests` measures it: 100 % valid over 1,000 quests per world)"
		}
		return "not measured: the simulated model writes no real quests"
	})
	row("cache hit rate", func(r *OpenReport) string {
		return fmt.Sprintf("%.1f %%", 100*float64(r.Tiers["cache"])/float64(max(1, r.Replies)))
	})
	row("concurrent requests held (max in flight)", func(r *OpenReport) string { return fmt.Sprint(r.MaxOutstanding) })
	row("answered by", func(r *OpenReport) string {
		var parts []string
		for _, t := range sortedKeys(r.Tiers) {
			parts = append(parts, fmt.Sprintf("%s %.1f %%", t, 100*float64(r.Tiers[t])/float64(max(1, r.Replies))))
		}
		return strings.Join(parts, ", ")
	})
	return b.String()
}

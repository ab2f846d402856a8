package bench

import (
	"encoding/json"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// Suite is a set of open-loop runs: one per scenario and offered rate (a
// sweep), written out together by WriteDir.
type Suite struct {
	// Command is the command line that produced the runs (for the record).
	Command string `json:"command,omitempty"`
	// Machine describes where it ran (for the record).
	Machine string        `json:"machine,omitempty"`
	Runs    []*OpenReport `json:"runs"`
}

// JSON returns the suite as indented JSON.
func (s *Suite) JSON() string {
	b, _ := json.MarshalIndent(s, "", "  ")
	return string(b)
}

// Markdown returns the suite as Markdown tables: one row per run with
// rates, counts and shares, one with latencies, and the tier mix.
func (s *Suite) Markdown() string {
	var b strings.Builder
	if s.Command != "" {
		fmt.Fprintf(&b, "`%s`\n\n", s.Command)
	}
	if s.Machine != "" {
		fmt.Fprintf(&b, "%s\n\n", s.Machine)
	}
	b.WriteString("| scenario | transport | conns | offered/s | sent/s | achieved/s | requests | replies | errors | on time | over budget | floor | max in flight |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range s.Runs {
		errs := fmt.Sprint(r.Errors)
		if len(r.ErrorCodes) > 0 {
			var parts []string
			for _, c := range sortedKeys(r.ErrorCodes) {
				parts = append(parts, fmt.Sprintf("%s %d", c, r.ErrorCodes[c]))
			}
			errs += " (" + strings.Join(parts, ", ") + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %d | %.0f | %.0f | %.0f | %d | %d | %s | %.3f %% | %d | %.2f %% | %d |\n",
			r.Scenario, r.Transport, r.Connections, r.OfferedRate, r.SentRate, r.AchievedRate, r.Requests, r.Replies,
			errs, 100*r.OnTimeShare, r.OverBudget, 100*r.FloorShare, r.MaxOutstanding)
	}
	b.WriteString("\n| scenario | offered/s | ready p50 | p90 | p99 | p99.9 | max | round trip p50 | p90 | p99 | p99.9 | max | send lag p99 |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range s.Runs {
		fmt.Fprintf(&b, "| %s | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f |\n",
			r.Scenario, r.OfferedRate, r.Ready.P50, r.Ready.P90, r.Ready.P99, r.Ready.P999, r.Ready.Max,
			r.RoundTrip.P50, r.RoundTrip.P90, r.RoundTrip.P99, r.RoundTrip.P999, r.RoundTrip.Max, r.SendLag.P99)
	}
	b.WriteString("\n(latencies in ms)\n\n| scenario | offered/s | kind | requests | replies | errors | on time | floor | ready p99 (ms) | tiers |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range s.Runs {
		for _, k := range []Kind{KindDialogue, KindQuest, KindBark} {
			ks := r.ByKind[k]
			if ks == nil {
				continue
			}
			var tiers []string
			for _, t := range sortedKeys(ks.Tiers) {
				tiers = append(tiers, fmt.Sprintf("%s %.1f %%", t, 100*float64(ks.Tiers[t])/float64(max(1, ks.Replies))))
			}
			fmt.Fprintf(&b, "| %s | %.0f | %s | %d | %d | %d | %d | %d | %.2f | %s |\n", r.Scenario, r.OfferedRate, k,
				ks.Requests, ks.Replies, ks.Errors, ks.OnTime, ks.Floor, ks.Ready.P99, strings.Join(tiers, ", "))
		}
	}
	return b.String()
}

// scenarios returns the scenarios of the suite's runs, in Scenarios order.
func (s *Suite) scenarios() []string {
	var out []string
	for _, sc := range Scenarios {
		for _, r := range s.Runs {
			if r.Scenario == sc {
				out = append(out, sc)
				break
			}
		}
	}
	return out
}

// PlotLatency writes a PNG of the ready latency's p50, p99 and max (and
// the round trip's p99) against the offered rate for one scenario's runs,
// with the budget as a horizontal line; the y axis is logarithmic.
func (s *Suite) PlotLatency(scenario, path string) error {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Hearth %s: latency against offered load", scenario)
	p.X.Label.Text = "offered load (requests/s)"
	p.Y.Label.Text = "latency (ms, log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	var p50, p99, mx, rtt99, budget plotter.XYs
	pos := func(v float64) float64 { return max(v, 0.01) }
	for _, r := range s.Runs {
		if r.Scenario != scenario {
			continue
		}
		x := r.OfferedRate
		p50 = append(p50, plotter.XY{X: x, Y: pos(r.Ready.P50)})
		p99 = append(p99, plotter.XY{X: x, Y: pos(r.Ready.P99)})
		mx = append(mx, plotter.XY{X: x, Y: pos(r.Ready.Max)})
		rtt99 = append(rtt99, plotter.XY{X: x, Y: pos(r.RoundTrip.P99)})
		if r.BudgetMS > 0 {
			budget = append(budget, plotter.XY{X: x, Y: r.BudgetMS})
		}
	}
	if len(p50) == 0 {
		return fmt.Errorf("bench: no runs of scenario %q to plot", scenario)
	}
	sortXY := func(xy plotter.XYs) {
		for i := 1; i < len(xy); i++ {
			for j := i; j > 0 && xy[j].X < xy[j-1].X; j-- {
				xy[j], xy[j-1] = xy[j-1], xy[j]
			}
		}
	}
	for _, xy := range []plotter.XYs{p50, p99, mx, rtt99, budget} {
		sortXY(xy)
	}
	if err := plotutil.AddLinePoints(p, "ready p50", p50, "ready p99", p99, "ready max", mx,
		"round trip p99", rtt99); err != nil {
		return err
	}
	if len(budget) > 0 {
		l, err := plotter.NewLine(budget)
		if err != nil {
			return err
		}
		l.Color = color.RGBA{R: 200, A: 255}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(4)}
		p.Add(l)
		p.Legend.Add("budget", l)
	}
	p.Legend.Top = true
	p.Legend.Left = true
	// Room above the lines for the legend: two decades on the log axis.
	top := 0.0
	for _, xy := range []plotter.XYs{mx, rtt99, budget} {
		for _, v := range xy {
			top = max(top, v.Y)
		}
	}
	p.Y.Max = top * 100
	p.Add(plotter.NewGrid())
	return p.Save(16*vg.Centimeter, 11*vg.Centimeter, path)
}

// PlotTierMix writes a bar chart of the share of replies per tier, and
// the floor's share, for each scenario (and, for the mixed scenario, each
// kind of request in it), from the scenario's run at the lowest offered
// rate.
func (s *Suite) PlotTierMix(path string) error {
	type group struct {
		label string
		tiers map[string]float64
		floor float64
	}
	var groups []group
	tierSet := map[string]bool{}
	for _, sc := range s.scenarios() {
		var run *OpenReport
		for _, r := range s.Runs {
			if r.Scenario == sc && (run == nil || r.OfferedRate < run.OfferedRate) {
				run = r
			}
		}
		groups = append(groups, group{fmt.Sprintf("%s @ %.0f/s", sc, run.OfferedRate), run.TierShare, run.FloorShare})
		for t := range run.TierShare {
			tierSet[t] = true
		}
		if sc != ScenarioMixed {
			continue
		}
		for _, k := range []Kind{KindDialogue, KindQuest, KindBark} {
			ks := run.ByKind[k]
			if ks == nil {
				continue
			}
			g := group{label: sc + "/" + string(k), tiers: map[string]float64{}, floor: float64(ks.Floor) / float64(max(1, ks.Replies))}
			for t, n := range ks.Tiers {
				g.tiers[t] = float64(n) / float64(max(1, ks.Replies))
				tierSet[t] = true
			}
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return fmt.Errorf("bench: no runs to plot")
	}
	bars := append(sortedKeys(tierSet), "floor (any tier)")
	p := plot.New()
	p.Title.Text = "Hearth: share of replies by tier"
	p.Y.Label.Text = "share of replies (%)"
	p.Y.Min, p.Y.Max = 0, 125 // room for the legend above the bars
	w := vg.Points(min(40, 300/float64(len(bars)*len(groups))))
	for i, t := range bars {
		vals := make(plotter.Values, len(groups))
		for j, g := range groups {
			if i == len(bars)-1 {
				vals[j] = 100 * g.floor
			} else {
				vals[j] = 100 * g.tiers[t]
			}
		}
		bc, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return err
		}
		bc.Color = plotutil.Color(i)
		bc.LineStyle.Width = 0
		bc.Offset = w * vg.Length(float64(i)-float64(len(bars)-1)/2)
		p.Add(bc)
		p.Legend.Add(t, bc)
	}
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.label
	}
	p.NominalX(names...)
	p.Legend.Top = true
	return p.Save(18*vg.Centimeter, 11*vg.Centimeter, path)
}

// WriteDir writes report.json, report.md, latency-SCENARIO.png for each
// scenario and tier-mix.png into dir, creating it. It returns the paths
// written.
func (s *Suite) WriteDir(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for name, body := range map[string]string{"report.json": s.JSON() + "\n", "report.md": s.Markdown()} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	for _, sc := range s.scenarios() {
		path := filepath.Join(dir, "latency-"+sc+".png")
		if err := s.PlotLatency(sc, path); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	path := filepath.Join(dir, "tier-mix.png")
	if err := s.PlotTierMix(path); err != nil {
		return paths, err
	}
	return append(paths, path), nil
}

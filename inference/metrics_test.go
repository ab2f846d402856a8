package inference_test

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-ai/hearth/inference"
)

// TestCollectorExportsRouterAndCache: after a failed attempt and a cache
// miss, the scrape shows them with the backend's labels, and one circuit
// state series per state.
func TestCollectorExportsRouterAndCache(t *testing.T) {
	c := newCache(t, inference.CacheOptions{})
	m := model("gpu", 1, time.Millisecond, "x")
	m.err = errors.New("boom")
	r := cachedRouter(t, c, m)
	run(t, r, lore("Mara Kettle keeps the inn."))
	reg := prometheus.NewRegistry()
	reg.MustRegister(inference.NewCollector(r, c))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			v := mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
			labels := ""
			for _, l := range mt.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + ","
			}
			got[mf.GetName()+"{"+labels+"}"] = append(got[mf.GetName()+"{"+labels+"}"], v)
		}
	}
	for name, want := range map[string]float64{
		"hearth_router_errors_total{backend=gpu,tier=local,}":                  1,
		"hearth_router_attempts_total{backend=gpu,tier=local,}":                1,
		"hearth_router_circuit_state{backend=gpu,state=closed,tier=local,}":    1,
		"hearth_router_circuit_state{backend=gpu,state=open,tier=local,}":      0,
		"hearth_router_circuit_state{backend=gpu,state=half-open,tier=local,}": 0,
		"hearth_cache_misses_total{}":                                          1,
		"hearth_cache_hits_total{}":                                            0,
	} {
		if v := got[name]; len(v) != 1 || v[0] != want {
			t.Errorf("%s = %v, want %v", name, v, want)
		}
	}
}

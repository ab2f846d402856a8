package inference

import (
	"math"
	"testing"
	"time"
)

func TestQuantileEstimatorSeed(t *testing.T) {
	e := newQuantileEstimator(float64(20*time.Millisecond), 0.5, 0.9)
	for k := range 2 {
		if got := e.quantile(k); math.Abs(got/float64(20*time.Millisecond)-1) > 0.1 {
			t.Errorf("seeded quantile %d = %v, want ~20ms", k, time.Duration(got))
		}
	}
}

func TestQuantileEstimatorAccuracy(t *testing.T) {
	e := newQuantileEstimator(float64(time.Second), 0.5, 0.9)
	// 1000 values spread evenly over [1ms, 2ms] in a scrambled order: p50
	// 1.5ms, p90 1.9ms. The prior has long decayed away; the estimate rests
	// on the last few tens of values (decay 0.95), so allow 15%.
	for i := range 1000 {
		e.observe(float64(time.Millisecond) * (1 + float64(i*37%101)/100))
	}
	for k, want := range []float64{1.5e6, 1.9e6} {
		if got := e.quantile(k); math.Abs(got/want-1) > 0.15 {
			t.Errorf("quantile %d = %v, want ~%v", k, time.Duration(got), time.Duration(want))
		}
	}
}

func TestQuantileEstimatorDecays(t *testing.T) {
	e := newQuantileEstimator(float64(time.Millisecond), 0.5, 0.9)
	for range 500 {
		e.observe(float64(time.Millisecond))
	}
	// The backend becomes 10x slower: within a few tens of observations the
	// median follows.
	for range 30 {
		e.observe(float64(10 * time.Millisecond))
	}
	if got := e.quantile(0); got < 9e6 || got > 11e6 {
		t.Fatalf("p50 = %v after the shift, want ~10ms", time.Duration(got))
	}
	// Rescaling keeps it finite over a long run.
	for range 100000 {
		e.observe(float64(2 * time.Millisecond))
	}
	if got := e.quantile(1); math.IsInf(got, 0) || math.IsNaN(got) || math.Abs(got/2e6-1) > 0.1 {
		t.Fatalf("p90 = %v after a long run, want ~2ms", got)
	}
}

func TestQuantileEstimatorClamps(t *testing.T) {
	e := newQuantileEstimator(0, 0.5)
	e.observe(math.NaN())
	e.observe(-1)
	e.observe(1e30)
	if got := e.quantile(0); math.IsNaN(got) || got <= 0 {
		t.Fatalf("p50 = %v", got)
	}
}

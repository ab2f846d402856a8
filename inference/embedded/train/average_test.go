package train

import (
	"math"
	"slices"
	"testing"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// TestAverage: the mean of three models is their element-wise mean in
// every tensor (tied and untied), the inputs are left as they were, one
// model averages to itself, and shapes that differ are refused.
func TestAverage(t *testing.T) {
	for _, tied := range []bool{false, true} {
		cfg := tinyConfig(tied)
		var ws []*llama.Weights
		var before [][]float64
		for seed := range uint64(3) {
			w, err := llama.NewRandom(cfg, seed+1)
			if err != nil {
				t.Fatal(err)
			}
			ws = append(ws, w)
			before = append(before, flatten(w))
		}
		avg, err := Average(ws...)
		if err != nil {
			t.Fatal(err)
		}
		got := flatten(avg)
		if avg.Config != cfg || len(got) != len(before[0]) {
			t.Fatalf("tied %v: config %+v, %d values; want %+v, %d", tied, avg.Config, len(got), cfg, len(before[0]))
		}
		for i, v := range got {
			want := (before[0][i] + before[1][i] + before[2][i]) / 3
			if math.Abs(v-want) > 1e-15 {
				t.Fatalf("tied %v: value %d is %g, want the mean %g", tied, i, v, want)
			}
		}
		for i, w := range ws {
			if !slices.Equal(flatten(w), before[i]) {
				t.Fatalf("tied %v: Average changed input %d", tied, i)
			}
		}
		one, err := Average(ws[1])
		if err != nil || !slices.Equal(flatten(one), before[1]) {
			t.Fatalf("tied %v: the mean of one model is not itself (%v)", tied, err)
		}
	}
	a, _ := llama.NewRandom(tinyConfig(false), 1)
	b, _ := llama.NewRandom(tinyConfig(true), 1)
	if _, err := Average(a, b); err == nil {
		t.Fatal("models of different shapes averaged")
	}
	if _, err := Average(); err == nil {
		t.Fatal("no model averaged")
	}
}

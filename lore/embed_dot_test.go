package lore

import (
	"math/rand/v2"
	"testing"
)

var sinkF float32

func TestDot(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 31, 32, 33, 40, 384, 1536} {
		a, b := make([]float32, n), make([]float32, n)
		var want float64
		for i := range a {
			a[i], b[i] = rng.Float32()-0.5, rng.Float32()-0.5
			want += float64(a[i]) * float64(b[i])
		}
		if got := dot(a, b); float64(got)-want > 1e-4 || want-float64(got) > 1e-4 {
			t.Errorf("n=%d: dot %v, want %v", n, got, want)
		}
	}
}

// BenchmarkDot measures one inner product of 384 float32s (the default LSA
// embedding length).
func BenchmarkDot(b *testing.B) {
	x, y := make([]float32, 384), make([]float32, 384)
	for i := range x {
		x[i], y[i] = float32(i), float32(2*i)
	}
	for b.Loop() {
		sinkF += dot(x, y)
	}
}

func TestDotRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, d := range []int{5, 32, 384} {
		vecs := make([]float32, 50*d)
		for i := range vecs {
			vecs[i] = rng.Float32() - 0.5
		}
		q := vecs[7*d : 8*d]
		ids := []uint32{49, 0, 7, 3, 3, 20}
		out := make([]float32, len(ids))
		dotRows(q, vecs, ids, out)
		for j, id := range ids {
			var want float64
			for i := range d {
				want += float64(q[i]) * float64(vecs[int(id)*d+i])
			}
			if diff := float64(out[j]) - want; diff > 1e-4 || diff < -1e-4 {
				t.Errorf("d=%d row %d: %v, want %v", d, id, out[j], want)
			}
		}
	}
}

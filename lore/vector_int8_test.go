package lore

import (
	"math/rand/v2"
	"testing"
)

// TestDotRows8 checks the int8 kernel against plain Go (they must agree
// exactly) and against the definition, extreme values included.
func TestDotRows8(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, d := range []int{5, 32, 64, 384} {
		rows := make([]int8, 40*d)
		for i := range rows {
			rows[i] = int8(rng.IntN(255) - 127)
		}
		for i := range d {
			rows[3*d+i] = 127 // extremes: the largest possible sum
			rows[4*d+i] = -127
		}
		q := make([]int16, d)
		for i := range q {
			q[i] = int16(rng.IntN(255) - 127)
		}
		q[0] = 127
		ids := []uint32{39, 0, 3, 4, 3, 17}
		got, want := make([]int32, len(ids)), make([]int32, len(ids))
		dotRows8(q, rows, ids, got)
		dotRows8Go(q, rows, ids, want)
		for j, id := range ids {
			var def int32
			for i := range d {
				def += int32(q[i]) * int32(rows[int(id)*d+i])
			}
			if got[j] != want[j] || got[j] != def {
				t.Errorf("d=%d row %d: kernel %d, Go %d, want %d", d, id, got[j], want[j], def)
			}
		}
	}
}

// TestQuantize checks the per-row symmetric quantization: the largest
// magnitude maps to ±127, zero and non-finite rows to scale 0, and the
// approximate inner product of unit vectors is within 0.02 of the exact.
func TestQuantize(t *testing.T) {
	out := make([]int8, 4)
	if s := quantize([]float32{0.5, -1, 0.25, 0}, out); s != 1.0/127 || out[0] != 64 || out[1] != -127 || out[2] != 32 || out[3] != 0 {
		t.Errorf("quantize: scale %v, %v", s, out)
	}
	if s := quantize([]float32{0, 0, 0, 0}, out); s != 0 || out[0] != 0 {
		t.Errorf("zero row: scale %v, %v", s, out)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	const d = 384
	vecs := make([]float32, 20*d)
	for i := range vecs {
		vecs[i] = float32(rng.NormFloat64())
	}
	for r := range 20 {
		normalize(vecs[r*d : (r+1)*d])
	}
	qr := quantizeRows(d, vecs)
	q := vecs[:d]
	q8 := newQuery8(q, nil)
	ids := make([]uint32, 20)
	for i := range ids {
		ids[i] = uint32(i)
	}
	sums := make([]int32, 20)
	dotRows8(q8.v, qr.v, ids, sums)
	for r := range 20 {
		approx := float32(sums[r]) * q8.scale * qr.scale[r]
		exact := dot(q, vecs[r*d:(r+1)*d])
		if diff := approx - exact; diff > 0.02 || diff < -0.02 {
			t.Errorf("row %d: approximate %v, exact %v", r, approx, exact)
		}
	}
}

// BenchmarkDotRows8 scores 32 scattered int8 rows of 384 dims (one graph
// node's neighbours) in a 100 MB table, as the walk does.
func BenchmarkDotRows8(b *testing.B) {
	const d, n = 384, 250000
	rows := make([]int8, n*d)
	q := make([]int16, d)
	for i := range q {
		q[i] = int16(i%255 - 127)
	}
	rng := rand.New(rand.NewPCG(9, 10))
	ids := make([]uint32, 32)
	out := make([]int32, 32)
	for b.Loop() {
		for j := range ids {
			ids[j] = uint32(rng.IntN(n))
		}
		dotRows8(q, rows, ids, out)
	}
}

// BenchmarkQuantizeRows quantizes 241,527 rows of 384 dims (the 100k-chunk
// benchmark library's rows), as loading or building its graph does.
func BenchmarkQuantizeRows(b *testing.B) {
	const d, n = 384, 241527
	vecs := make([]float32, n*d)
	rng := rand.New(rand.NewPCG(11, 12))
	for i := range vecs {
		vecs[i] = rng.Float32() - 0.5
	}
	for b.Loop() {
		quantizeRows(d, vecs)
	}
}

package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// allValues is one KV of every scalar and array type, arrays empty and not.
func allValues() []KV {
	return []KV{
		{"general.architecture", "llama"},
		{"u8", uint8(200)}, {"i8", int8(-100)},
		{"u16", uint16(60000)}, {"i16", int16(-30000)},
		{"u32", uint32(4000000000)}, {"i32", int32(-2000000000)},
		{"f32", float32(1e-5)}, {"bool.t", true}, {"bool.f", false},
		{"str", "héllo"}, {"str.empty", ""},
		{"u64", uint64(math.MaxUint64)}, {"i64", int64(math.MinInt64)},
		{"f64", math.Pi},
		{"a.u8", []uint8{0, 1, 255}}, {"a.i8", []int8{-128, 0, 127}},
		{"a.u16", []uint16{1, 65535}}, {"a.i16", []int16{-32768, 32767}},
		{"a.u32", []uint32{7, math.MaxUint32}}, {"a.i32", []int32{1, 3, -5}},
		{"a.f32", []float32{1.5, float32(math.Inf(-1))}}, {"a.bool", []bool{true, false, true}},
		{"a.str", []string{"a", "", "Ġthe"}}, {"a.str.empty", []string{}},
		{"a.u64", []uint64{math.MaxUint64}}, {"a.i64", []int64{-1, 1}},
		{"a.f64", []float64{math.SmallestNonzeroFloat64, -0.5}},
	}
}

func encodeFile(t testing.TB, kv []KV, ts []TensorData) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, kv, ts); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return buf.Bytes()
}

func readBytes(b []byte) (*File, error) { return Read(bytes.NewReader(b), int64(len(b))) }

func randData(n int, seed uint64, scale float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64() * scale
	}
	return x
}

func TestRoundTripMetadata(t *testing.T) {
	kv := allValues()
	f, err := readBytes(encodeFile(t, kv, nil))
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 3 || f.Alignment != 32 {
		t.Fatalf("version %d alignment %d", f.Version, f.Alignment)
	}
	want := append(kv, KV{KeyAlignment, uint32(32)})
	if len(f.KVs) != len(want) {
		t.Fatalf("%d kvs, want %d", len(f.KVs), len(want))
	}
	for i := range want {
		if f.KVs[i].Key != want[i].Key || !reflect.DeepEqual(f.KVs[i].Value, want[i].Value) {
			t.Errorf("kv %d: got %q=%#v, want %q=%#v", i, f.KVs[i].Key, f.KVs[i].Value, want[i].Key, want[i].Value)
		}
	}
}

func TestAccessors(t *testing.T) {
	f, err := readBytes(encodeFile(t, allValues(), nil))
	if err != nil {
		t.Fatal(err)
	}
	if s, err := f.String("str"); err != nil || s != "héllo" {
		t.Errorf("String = %q, %v", s, err)
	}
	for key, want := range map[string]uint64{"u8": 200, "u16": 60000, "u32": 4000000000, "u64": math.MaxUint64} {
		if u, err := f.Uint(key); err != nil || u != want {
			t.Errorf("Uint(%s) = %d, %v", key, u, err)
		}
	}
	if _, err := f.Uint("i8"); !errors.Is(err, ErrWrongType) || !strings.Contains(err.Error(), `"i8"`) {
		t.Errorf("Uint of negative: %v", err)
	}
	if n, err := f.Int("i64"); err != nil || n != math.MinInt64 {
		t.Errorf("Int = %d, %v", n, err)
	}
	if _, err := f.Int("u64"); !errors.Is(err, ErrWrongType) {
		t.Errorf("Int of MaxUint64: %v", err)
	}
	if x, err := f.Float("f32"); err != nil || x != float64(float32(1e-5)) {
		t.Errorf("Float = %g, %v", x, err)
	}
	if b, err := f.Bool("bool.t"); err != nil || !b {
		t.Errorf("Bool = %v, %v", b, err)
	}
	if s, err := f.Strings("a.str"); err != nil || !reflect.DeepEqual(s, []string{"a", "", "Ġthe"}) {
		t.Errorf("Strings = %q, %v", s, err)
	}
	for _, key := range []string{"a.i32", "a.u8", "a.i8", "a.u16", "a.i16", "a.i64"} {
		if _, err := f.Int32s(key); err != nil {
			t.Errorf("Int32s(%s): %v", key, err)
		}
	}
	if _, err := f.Int32s("a.u32"); !errors.Is(err, ErrWrongType) {
		t.Errorf("Int32s overflow: %v", err)
	}
	if x, err := f.Float64s("a.f32"); err != nil || x[0] != 1.5 {
		t.Errorf("Float64s = %v, %v", x, err)
	}
	_, err = f.String("missing.key")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "missing.key") {
		t.Errorf("missing: %v", err)
	}
	_, err = f.String("u32")
	if !errors.Is(err, ErrWrongType) || !strings.Contains(err.Error(), `"u32" is UINT32, want STRING`) {
		t.Errorf("wrong type: %v", err)
	}
	_, err = f.Strings("a.i32")
	if !errors.Is(err, ErrWrongType) || !strings.Contains(err.Error(), "ARRAY[INT32]") {
		t.Errorf("wrong array type: %v", err)
	}
}

func TestRoundTripTensors(t *testing.T) {
	f32 := randData(3*5, 1, 1)
	f16 := append(randData(40, 2, 1), 65504, -65504, 6e-8, -1e-6, 0, 1e-9)
	q8 := randData(64*3, 3, 0.05)
	ts := []TensorData{
		{"f32", []int64{3, 5}, TypeF32, f32},
		{"f16", []int64{int64(len(f16))}, TypeF16, f16},
		{"q8", []int64{64, 3}, TypeQ8_0, q8},
		{"scalarish", []int64{1}, TypeF32, []float64{42}},
	}
	b := encodeFile(t, []KV{{"general.name", "t"}}, ts)
	f, err := readBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, td := range ts {
		info, ok := f.Tensor(td.Name)
		if !ok || info.Type != td.Type || !reflect.DeepEqual(info.Dims, td.Dims) || f.Tensors[i].Name != td.Name {
			t.Fatalf("tensor %s: info %+v", td.Name, info)
		}
		if info.Offset%32 != 0 || (f.DataOffset+int64(info.Offset))%32 != 0 {
			t.Errorf("tensor %s at unaligned offset %d", td.Name, info.Offset)
		}
		got, err := f.TensorFloat64(td.Name)
		if err != nil {
			t.Fatal(err)
		}
		for j, x := range td.Data {
			var want float64
			switch td.Type {
			case TypeF32:
				want = float64(float32(x))
			case TypeF16:
				want = Float16ToFloat64(Float16Bits(x))
			case TypeQ8_0:
				want = x // checked within the bound below
			}
			if td.Type == TypeQ8_0 {
				blk := td.Data[j/32*32 : j/32*32+32]
				if d := math.Abs(got[j] - x); d > q8Bound(blk) {
					t.Errorf("q8[%d]: got %g want %g (err %g > %g)", j, got[j], x, d, q8Bound(blk))
				}
			} else if got[j] != want {
				t.Errorf("%s[%d] = %g, want %g", td.Name, j, got[j], want)
			}
		}
	}
	// Raw bytes of a Q8_0 tensor are exactly QuantizeQ8_0's output.
	raw, err := f.TensorBytes("q8")
	if err != nil || !bytes.Equal(raw, QuantizeQ8_0(q8)) {
		t.Errorf("TensorBytes(q8) differs from QuantizeQ8_0: %v", err)
	}
	// Writing what was read reproduces the file byte for byte (F32 only
	// tensors, since re-encoding F16/Q8_0 from decoded values is lossless
	// too: check both).
	var again []TensorData
	for _, td := range ts {
		x, _ := f.TensorFloat64(td.Name)
		again = append(again, TensorData{td.Name, td.Dims, td.Type, x})
	}
	if b2 := encodeFile(t, f.KVs, again); !bytes.Equal(b, b2) {
		t.Errorf("rewrite differs: %d vs %d bytes", len(b), len(b2))
	}
}

// q8Bound is the largest error Q8_0 may make on a block: half a quantum
// from rounding plus 127 times the float16 rounding error of the scale
// (relative 2⁻¹¹, or absolute 2⁻²⁵ when the scale is a float16 subnormal),
// with slack for float arithmetic.
func q8Bound(blk []float64) float64 {
	amax := 0.0
	for _, x := range blk {
		amax = max(amax, math.Abs(x))
	}
	d := amax / 127
	return d/2 + 127*max(d*math.Ldexp(1, -11), math.Ldexp(1, -25)) + 1e-12
}

func TestQ8_0ErrorBound(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		scale := math.Pow(10, float64(seed%7)-4) // 1e-4 … 1e2
		x := randData(32*50, seed, scale)
		q := QuantizeQ8_0(x)
		if len(q) != 50*Q8_0BlockBytes {
			t.Fatalf("len %d", len(q))
		}
		y, err := DequantizeQ8_0(q)
		if err != nil {
			t.Fatal(err)
		}
		for b := 0; b < 50; b++ {
			blk := x[b*32 : b*32+32]
			bound := q8Bound(blk)
			for i := range blk {
				if e := math.Abs(y[b*32+i] - blk[i]); e > bound {
					t.Fatalf("seed %d block %d elem %d: error %g > bound %g", seed, b, i, e, bound)
				}
			}
		}
	}
	// The block's extreme value maps to ±127 and zero stays zero.
	x := make([]float64, 32)
	x[3], x[7] = -2.54, 1.27
	q := QuantizeQ8_0(x)
	if int8(q[2+3]) != -127 || int8(q[2+7]) != 64 || q[0] == 0 && q[1] == 0 {
		t.Errorf("block %v", q)
	}
	if y, _ := DequantizeQ8_0(q); y[0] != 0 {
		t.Errorf("zero became %g", y[0])
	}
	// A partial block is padded with zeros.
	if n := len(QuantizeQ8_0(make([]float64, 33))); n != 2*Q8_0BlockBytes {
		t.Errorf("33 values: %d bytes", n)
	}
	if _, err := DequantizeQ8_0(make([]byte, 35)); !errors.Is(err, ErrInvalid) {
		t.Errorf("35 bytes: %v", err)
	}
}

func TestFloat16(t *testing.T) {
	// Every half value converts to float64 and back unchanged.
	for h := 0; h < 1<<16; h++ {
		x := Float16ToFloat64(uint16(h))
		if math.IsNaN(x) {
			if Float16Bits(x)&0x7c00 != 0x7c00 || Float16Bits(x)&0x3ff == 0 {
				t.Fatalf("NaN %#04x did not stay NaN", h)
			}
			continue
		}
		if got := Float16Bits(x); got != uint16(h) {
			t.Fatalf("%#04x -> %g -> %#04x", h, x, got)
		}
	}
	cases := []struct {
		x    float64
		want uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {65504, 0x7bff}, {65519.99, 0x7bff}, {65520, 0x7c00},
		{math.Inf(1), 0x7c00}, {math.Inf(-1), 0xfc00},
		{math.Ldexp(1, -24), 0x0001}, {math.Ldexp(1, -25), 0x0000}, // tie to even: 0
		{math.Ldexp(1.5, -25), 0x0001}, {math.Ldexp(3, -25), 0x0002}, // 1.5 quanta: tie to even 2
		{math.Ldexp(1, -14), 0x0400}, {math.Ldexp(1023.5, -24), 0x0400}, // rounds up into the normals
		{1 + math.Ldexp(1, -11), 0x3c00}, {1 + math.Ldexp(3, -11), 0x3c02}, // ties to even
		{math.Copysign(0, -1), 0x8000}, {1e-300, 0},
	}
	for _, c := range cases {
		if got := Float16Bits(c.x); got != c.want {
			t.Errorf("Float16Bits(%g) = %#04x, want %#04x", c.x, got, c.want)
		}
	}
	// Random values round to the nearest half (ties to even).
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 100000; i++ {
		x := math.Ldexp(rng.Float64()*2-1, rng.IntN(40)-26)
		h := Float16Bits(x)
		got := Float16ToFloat64(h)
		for _, nb := range []uint16{h - 1, h + 1} {
			if nb&0x7fff >= 0x7c00 {
				continue
			}
			y := Float16ToFloat64(nb)
			if (y >= 0) != (got >= 0) && got != 0 {
				continue
			}
			if math.Abs(y-x) < math.Abs(got-x) {
				t.Fatalf("Float16Bits(%g) = %g, but %g is nearer", x, got, y)
			}
		}
	}
	if BFloat16ToFloat64(0x3f80) != 1 || BFloat16ToFloat64(0xc040) != -3 {
		t.Error("bfloat16")
	}
}

func TestWriteErrors(t *testing.T) {
	ok := TensorData{"a", []int64{32, 2}, TypeF32, make([]float64, 64)}
	for name, c := range map[string]struct {
		kv []KV
		ts []TensorData
	}{
		"bad go type":     {kv: []KV{{"k", 3}}},
		"empty key":       {kv: []KV{{"", "x"}}},
		"dup key":         {kv: []KV{{"k", "x"}, {"k", "y"}}},
		"bad alignment":   {kv: []KV{{KeyAlignment, uint32(24)}}},
		"alignment type":  {kv: []KV{{KeyAlignment, uint64(32)}}},
		"dup tensor":      {ts: []TensorData{ok, ok}},
		"long name":       {ts: []TensorData{{strings.Repeat("x", 64), []int64{1}, TypeF32, []float64{1}}}},
		"no dims":         {ts: []TensorData{{"a", nil, TypeF32, []float64{1}}}},
		"5 dims":          {ts: []TensorData{{"a", []int64{1, 1, 1, 1, 1}, TypeF32, []float64{1}}}},
		"zero dim":        {ts: []TensorData{{"a", []int64{0}, TypeF32, nil}}},
		"len mismatch":    {ts: []TensorData{{"a", []int64{3}, TypeF32, []float64{1}}}},
		"q8 not mult 32":  {ts: []TensorData{{"a", []int64{16, 2}, TypeQ8_0, make([]float64, 32)}}},
		"q8 nan":          {ts: []TensorData{{"a", []int64{32}, TypeQ8_0, append(make([]float64, 31), math.NaN())}}},
		"q8 scale overfl": {ts: []TensorData{{"a", []int64{32}, TypeQ8_0, append(make([]float64, 31), 1e8)}}},
		"f16 overflow":    {ts: []TensorData{{"a", []int64{1}, TypeF16, []float64{70000}}}},
		"type q4_k":       {ts: []TensorData{{"a", []int64{256}, TypeQ4_K, make([]float64, 256)}}},
	} {
		var buf bytes.Buffer
		err := Write(&buf, c.kv, c.ts)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes before failing", name, buf.Len())
		}
	}
	// F16 keeps Inf and NaN, which it can represent.
	b := encodeFile(t, nil, []TensorData{{"a", []int64{2}, TypeF16, []float64{math.Inf(1), math.NaN()}}})
	f, err := readBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if x, _ := f.TensorFloat64("a"); !math.IsInf(x[0], 1) || !math.IsNaN(x[1]) {
		t.Errorf("F16 inf/nan: %v", x)
	}
}

func TestCustomAlignment(t *testing.T) {
	b := encodeFile(t, []KV{{KeyAlignment, uint32(64)}}, []TensorData{
		{"a", []int64{3}, TypeF32, []float64{1, 2, 3}},
		{"b", []int64{3}, TypeF32, []float64{4, 5, 6}},
	})
	f, err := readBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.Alignment != 64 || f.DataOffset%64 != 0 || f.Tensors[1].Offset != 64 {
		t.Fatalf("alignment %d data %d offset %d", f.Alignment, f.DataOffset, f.Tensors[1].Offset)
	}
	if x, _ := f.TensorFloat64("b"); !reflect.DeepEqual(x, []float64{4, 5, 6}) {
		t.Errorf("b = %v", x)
	}
}

func TestOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	b := encodeFile(t, []KV{{"general.name", "x"}}, []TensorData{{"a", []int64{2}, TypeF32, []float64{1, 2}}})
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if x, err := f.TensorFloat64("a"); err != nil || x[1] != 2 {
		t.Errorf("%v %v", x, err)
	}
	if err := f.Close(); err != nil {
		t.Error(err)
	}
	if err := f.Close(); err != nil {
		t.Error("second Close:", err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "none.gguf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("GGML nonsense"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); !errors.Is(err, ErrBadMagic) || !strings.Contains(err.Error(), path) {
		t.Errorf("bad magic: %v", err)
	}
}

// TestTruncated cuts a valid file at every offset before the end of its
// last tensor's data: each prefix must fail with ErrTruncated.
func TestTruncated(t *testing.T) {
	b := encodeFile(t, allValues(), []TensorData{
		{"a", []int64{32, 2}, TypeQ8_0, randData(64, 1, 1)},
		{"b", []int64{8}, TypeF32, randData(8, 2, 1)}, // 32 bytes: ends at the file's end
	})
	for n := 0; n < len(b); n++ {
		_, err := readBytes(b[:n])
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d of %d: err = %v, want ErrTruncated", n, len(b), err)
		}
	}
	if _, err := readBytes(b); err != nil {
		t.Fatal(err)
	}
}

// raw builds hand-made, possibly hostile files.
type raw struct{ bytes.Buffer }

func (r *raw) u32(v uint32) *raw { binary.Write(r, binary.LittleEndian, v); return r }
func (r *raw) u64(v uint64) *raw { binary.Write(r, binary.LittleEndian, v); return r }
func (r *raw) str(s string) *raw { r.u64(uint64(len(s))); r.WriteString(s); return r }
func (r *raw) header(version uint32, nt, nkv uint64) *raw {
	r.WriteString("GGUF")
	return r.u32(version).u64(nt).u64(nkv)
}
func (r *raw) tensor(name string, typ uint32, off uint64, dims ...uint64) *raw {
	r.str(name).u32(uint32(len(dims)))
	for _, d := range dims {
		r.u64(d)
	}
	return r.u32(typ).u64(off)
}
func (r *raw) padTo(a int) *raw {
	for r.Len()%a != 0 {
		r.WriteByte(0)
	}
	return r
}
func (r *raw) zeros(n int) *raw { r.Write(make([]byte, n)); return r }

func TestHostile(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		want error
		msg  string
	}{
		{"empty", nil, ErrTruncated, ""},
		{"short bad magic", []byte("GX"), ErrBadMagic, ""},
		{"bad magic", []byte("GGML\x03\x00\x00\x00"), ErrBadMagic, ""},
		{"version 1", new(raw).header(1, 0, 0).Bytes(), ErrUnsupported, "version 1"},
		{"version 4", new(raw).header(4, 0, 0).Bytes(), ErrUnsupported, "version 4"},
		{"huge kv count", new(raw).header(3, 0, math.MaxUint64).Bytes(), ErrTruncated, ""},
		{"huge tensor count", new(raw).header(3, 1<<62, 0).Bytes(), ErrTruncated, ""},
		{"huge string", new(raw).header(3, 0, 1).u64(1 << 60).zeros(16).Bytes(), ErrMalformed, "limit"},
		{"string past end", new(raw).header(3, 0, 1).u64(1000).zeros(16).Bytes(), ErrTruncated, ""},
		{"huge array", new(raw).header(3, 0, 1).str("k").u32(9).u32(4).u64(1 << 61).zeros(16).Bytes(), ErrTruncated, ""},
		{"huge string array", new(raw).header(3, 0, 1).str("k").u32(9).u32(8).u64(1 << 61).zeros(16).Bytes(), ErrTruncated, ""},
		{"nested array", new(raw).header(3, 0, 1).str("k").u32(9).u32(9).u64(1).zeros(16).Bytes(), ErrUnsupported, "array of arrays"},
		{"unknown value type", new(raw).header(3, 0, 1).str("k").u32(13).zeros(16).Bytes(), ErrMalformed, "unknown value type 13"},
		{"unknown elem type", new(raw).header(3, 0, 1).str("k").u32(9).u32(99).u64(1).zeros(16).Bytes(), ErrMalformed, "element type 99"},
		{"bad bool", new(raw).header(3, 0, 1).str("k").u32(7).zeros(0).u32(2).zeros(16).Bytes(), ErrMalformed, "BOOL byte 2"},
		{"dup key", new(raw).header(3, 0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).Bytes(), ErrMalformed, `"k" appears twice`},
		{"alignment type", new(raw).header(3, 0, 1).str(KeyAlignment).u32(10).u64(32).Bytes(), ErrMalformed, "want UINT32"},
		{"alignment zero", new(raw).header(3, 0, 1).str(KeyAlignment).u32(4).u32(0).Bytes(), ErrMalformed, "power of two"},
		{"alignment 48", new(raw).header(3, 0, 1).str(KeyAlignment).u32(4).u32(48).Bytes(), ErrMalformed, "power of two"},
		{"too many dims", new(raw).header(3, 1, 0).tensor("t", 0, 0, 1, 1, 1, 1, 1).padTo(32).zeros(32).Bytes(), ErrMalformed, "5 dims"},
		{"long name", new(raw).header(3, 1, 0).tensor(strings.Repeat("n", 64), 0, 0, 1).padTo(32).zeros(32).Bytes(), ErrMalformed, "64 bytes"},
		{"dims overflow", new(raw).header(3, 1, 0).tensor("t", 0, 0, 1<<32, 1<<32).padTo(32).zeros(32).Bytes(), ErrMalformed, "overflows"},
		{"dim above int64", new(raw).header(3, 1, 0).tensor("t", 0, 0, 1<<63).padTo(32).zeros(32).Bytes(), ErrMalformed, "int64"},
		{"bytes overflow", new(raw).header(3, 1, 0).tensor("t", 0, 0, 1<<30, 1<<30).padTo(32).zeros(32).Bytes(), ErrTruncated, "beyond"},
		{"size overflow", new(raw).header(3, 1, 0).tensor("t", 0, 0, 1<<31, 1<<31).padTo(32).zeros(32).Bytes(), ErrMalformed, "byte size overflows"},
		{"unknown type", new(raw).header(3, 1, 0).tensor("t", 99, 0, 1).padTo(32).zeros(32).Bytes(), ErrUnsupported, "type(99) (99)"},
		{"removed type", new(raw).header(3, 1, 0).tensor("t", 4, 0, 32).padTo(32).zeros(32).Bytes(), ErrUnsupported, "Q4_2 (4)"},
		{"block mismatch", new(raw).header(3, 1, 0).tensor("t", 8, 0, 16).padTo(32).zeros(64).Bytes(), ErrMalformed, "block size 32"},
		{"misaligned", new(raw).header(3, 1, 0).tensor("t", 0, 4, 1).padTo(32).zeros(64).Bytes(), ErrMalformed, "not a multiple"},
		{"out of range", new(raw).header(3, 1, 0).tensor("t", 0, 32, 16).padTo(32).zeros(64).Bytes(), ErrTruncated, "beyond"},
		{"offset huge", new(raw).header(3, 1, 0).tensor("t", 0, math.MaxUint64-31, 16).padTo(32).zeros(64).Bytes(), ErrTruncated, "beyond"},
		{"overlap", new(raw).header(3, 2, 0).tensor("a", 0, 0, 16).tensor("b", 0, 32, 8).padTo(32).zeros(96).Bytes(), ErrMalformed, "overlap"},
		{"dup tensor", new(raw).header(3, 2, 0).tensor("a", 0, 0, 8).tensor("a", 0, 32, 8).padTo(32).zeros(96).Bytes(), ErrMalformed, `"a" appears twice`},
	}
	for _, c := range cases {
		f, err := readBytes(c.b)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v, want %v containing %q", c.name, err, c.want, c.msg)
		}
		if f != nil {
			t.Errorf("%s: non-nil file with error", c.name)
		}
	}
}

func TestVersion2AndUndecodable(t *testing.T) {
	// A v2 file with an F32 tensor, and a Q4_K tensor whose data we cannot
	// decode but whose layout Read still checks.
	b := new(raw).header(2, 2, 1).str("general.architecture").u32(8).str("llama").
		tensor("a", 0, 0, 2).tensor("blk.0.attn_q.weight", 12, 32, 256, 2).padTo(32)
	binary.Write(b, binary.LittleEndian, []float32{1.5, -2})
	b.padTo(32).zeros(2 * 144)
	f, err := readBytes(b.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 2 {
		t.Errorf("version %d", f.Version)
	}
	if x, err := f.TensorFloat64("a"); err != nil || x[0] != 1.5 || x[1] != -2 {
		t.Errorf("a = %v, %v", x, err)
	}
	info, _ := f.Tensor("blk.0.attn_q.weight")
	if info.Size != 288 || info.Elements() != 512 {
		t.Errorf("info %+v", info)
	}
	_, err = f.TensorFloat64("blk.0.attn_q.weight")
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), `"blk.0.attn_q.weight" has type Q4_K (12)`) {
		t.Errorf("Q4_K: %v", err)
	}
	if _, err := f.TensorFloat64("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing tensor: %v", err)
	}
	if err := f.ReadFloat64("a", make([]float64, 3)); !errors.Is(err, ErrInvalid) {
		t.Errorf("wrong dst: %v", err)
	}
}

// shortReader claims more bytes than it has, as a file truncated while open
// would.
type shortReader struct{ b []byte }

func (s shortReader) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(s.b).ReadAt(p, off)
}

func TestLyingSize(t *testing.T) {
	b := encodeFile(t, nil, []TensorData{{"a", []int64{64}, TypeF32, randData(64, 1, 1)}})
	f, err := Read(shortReader{b[:len(b)-40]}, int64(len(b)))
	if err != nil {
		t.Fatal(err) // the directory is intact
	}
	if _, err := f.TensorFloat64("a"); !errors.Is(err, ErrTruncated) {
		t.Errorf("err = %v, want ErrTruncated", err)
	}
	if _, err := Read(shortReader{b[:20]}, int64(len(b))); !errors.Is(err, ErrTruncated) {
		t.Errorf("header: err = %v, want ErrTruncated", err)
	}
}

func BenchmarkDecodeQ8_0(b *testing.B) {
	x := randData(1<<20, 1, 1)
	q := QuantizeQ8_0(x)
	dst := make([]float64, len(x))
	b.SetBytes(int64(len(q)))
	for b.Loop() {
		dequantizeQ8_0(dst, q)
	}
}

func BenchmarkDecodeF16(b *testing.B) {
	src := make([]byte, 2<<20)
	for i := 0; i < len(src); i += 2 {
		src[i], src[i+1] = byte(i), byte(i>>8)&0x7b
	}
	dst := make([]float64, len(src)/2)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		decode(TypeF16, dst, src)
	}
}

func TestWriteRangeBoundaries(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, nil, []TensorData{{"a", []int64{2}, TypeF16, []float64{65519.99, -65504}}}); err != nil {
		t.Errorf("F16 just below overflow: %v", err)
	}
	if err := Write(&buf, nil, []TensorData{{"a", []int64{1}, TypeF16, []float64{-65520}}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("F16 -65520: %v", err)
	}
	x := make([]float64, 32)
	x[0] = 65519 * 127
	if err := Write(&buf, nil, []TensorData{{"a", []int64{32}, TypeQ8_0, x}}); err != nil {
		t.Errorf("Q8_0 largest scale: %v", err)
	}
	x[0] = 65520 * 127
	if err := Write(&buf, nil, []TensorData{{"a", []int64{32}, TypeQ8_0, x}}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Q8_0 scale overflow: %v", err)
	}
}

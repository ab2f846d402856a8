package gguf

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzRead feeds arbitrary bytes to Read. It must never panic or allocate
// beyond the input's size; every error must wrap one of the sentinels; a
// file it accepts must decode every decodable tensor, and its metadata must
// survive Write → Read → Write byte for byte. Seeds: testdata/fuzz/FuzzRead
// and the files built below.
func FuzzRead(f *testing.F) {
	f.Add(encodeFile(f, allValues(), []TensorData{
		{"a", []int64{32, 2}, TypeQ8_0, randData(64, 1, 1)},
		{"b", []int64{3}, TypeF16, []float64{1, -2, 0.5}},
		{"c", []int64{2}, TypeF32, []float64{3, 4}},
	}))
	f.Add(encodeFile(f, []KV{{KeyAlignment, uint32(8)}}, []TensorData{{"x", []int64{1}, TypeF32, []float64{1}}}))
	f.Add([]byte("GGUF"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !errors.Is(err, ErrBadMagic) && !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		for _, ti := range file.Tensors {
			x, err := file.TensorFloat64(ti.Name)
			switch {
			case ti.Type.Decodable() && (err != nil || int64(len(x)) != ti.Elements()):
				t.Fatalf("tensor %q: %d values, %v", ti.Name, len(x), err)
			case !ti.Type.Decodable() && !errors.Is(err, ErrUnsupported):
				t.Fatalf("tensor %q of type %v: %v", ti.Name, ti.Type, err)
			}
		}
		for _, kv := range file.KVs {
			file.String(kv.Key)
			file.Uint(kv.Key)
			file.Int(kv.Key)
			file.Float(kv.Key)
			file.Strings(kv.Key)
			file.Int32s(kv.Key)
		}
		var b1, b2 bytes.Buffer
		if err := Write(&b1, file.KVs, nil); err != nil {
			if errors.Is(err, ErrInvalid) && hasEmptyKey(file.KVs) {
				return // a file may have an empty key; Write refuses one
			}
			t.Fatalf("rewriting metadata: %v", err)
		}
		again, err := Read(bytes.NewReader(b1.Bytes()), int64(b1.Len()))
		if err != nil {
			t.Fatalf("reading rewritten metadata: %v", err)
		}
		if err := Write(&b2, again.KVs, nil); err != nil || !bytes.Equal(b1.Bytes(), b2.Bytes()) {
			t.Fatalf("metadata round trip differs (%v)", err)
		}
	})
}

func hasEmptyKey(kv []KV) bool {
	for _, p := range kv {
		if p.Key == "" {
			return true
		}
	}
	return false
}

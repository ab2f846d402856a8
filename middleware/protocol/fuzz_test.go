package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime/metrics"
	"testing"
)

// knownCodes are the codes Decode and Message may return.
var knownCodes = map[string]bool{
	CodeBadFrame: true, CodeFrameTooLarge: true, CodeUnknownType: true, CodeInvalidUTF8: true,
	CodeBadRequest: true, CodeUnsupportedVersion: true,
}

// fuzzAllocLimit bounds what decoding a frame of n bytes may allocate. It is
// looser than allocLimit: the worst case is an array of empty maps decoded
// into []NPCInfo (48 bytes per 1-byte element; encoding/json may double a
// slice's capacity), and the fuzzing machinery allocates too.
func fuzzAllocLimit(n int) uint64 { return 128*uint64(n) + 64<<10 }

// foreign is decoded through the vmihailenco/encoding/json fallback path.
type foreign struct {
	A []string          `json:"a" msgpack:"a"`
	B map[string]string `json:"b" msgpack:"b"`
	C []foreign         `json:"c" msgpack:"c"`
}

func checkDecode(t *testing.T, c Codec, frame []byte) {
	var (
		f   Frame
		msg Message
		err error
	)
	decode := func() {
		msg = nil
		if f, err = c.Decode(frame); err == nil {
			msg, err = f.Message()
			var x foreign
			_ = f.Decode(&x)
		}
	}
	// The allocation counter is process-wide, and the fuzzing machinery
	// allocates in other goroutines now and then; decoding is deterministic,
	// so fail only when three runs in a row exceed the bound.
	limit := fuzzAllocLimit(len(frame))
	var got uint64
	for try := 0; try < 3; try++ {
		if got = allocatedBy(decode); got <= limit {
			break
		}
	}
	if got > limit {
		t.Fatalf("decoding a %d-byte frame allocated %d bytes, limit %d", len(frame), got, limit)
	}
	if err != nil {
		if pe, ok := err.(*Error); !ok || !knownCodes[pe.Code] {
			t.Fatalf("error %T %v: want *Error with a known code", err, err)
		}
		return
	}
	// A frame that decodes re-encodes to a canonical frame that decodes to
	// the same canonical frame.
	h := f.Header
	b1, err := c.Encode(h, msg)
	if err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	f2, err := c.Decode(b1)
	if err != nil {
		t.Fatalf("decode of re-encoded %q: %v", b1, err)
	}
	msg2, err := f2.Message()
	if err != nil {
		t.Fatalf("message of re-encoded %q: %v", b1, err)
	}
	b2, _ := c.Encode(f2.Header, msg2)
	if !bytes.Equal(b1, b2) {
		t.Fatalf("not canonical:\n%q\n%q", b1, b2)
	}
}

// allocatedBy returns the bytes allocated while f ran. It reads
// runtime/metrics, which does not stop the world as runtime.ReadMemStats
// does, to keep the fuzzer fast.
func allocatedBy(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	f()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - before
}

func fuzzSeeds(t testing.TB, c Codec) [][]byte {
	var seeds [][]byte
	for _, s := range samples() {
		b, err := c.Encode(s.h, s.m)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	if _, ok := c.(MsgpackCodec); ok {
		seeds = append(seeds,
			[]byte{0xdb, 0xff, 0xff, 0xff, 0xff, 0x00},
			[]byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x00},
			[]byte{0xdf, 0xff, 0xff, 0xff, 0xff, 0x00},
			append([]byte{0x81, 0xa1, 0x78}, deep(MaxDepth)...),
			env(t, map[string]any{"v": 1, "type": "x.custom", "id": 1, "payload": map[string]any{
				"a": []string{"x", "y"}, "b": map[string]string{"k": "v"}, "c": []any{map[string]any{"a": []string{}}}}}),
			env(t, map[string]any{"v": 1, "type": "welcome", "id": 1, "payload": map[string]any{"npcs": make([]map[string]any, 100)}}),
			env(t, map[string]any{"v": 1, "type": "quest.log", "id": 1, "payload": map[string]any{"entries": make([]map[string]any, MaxQuestLogEntries)}}),
			env(t, map[string]any{"v": 1, "type": "quest.log", "id": 1, "payload": map[string]any{"entries": make([]map[string]any, MaxQuestLogEntries+1)}}),
			env(t, map[string]any{"v": 1, "type": "quest.offer", "id": 1, "payload": map[string]any{"quest": map[string]any{
				"objectives": make([]map[string]any, 20), "prerequisites": make([]string, 20)}}}),
			env(t, map[string]any{"v": 1, "type": "quest.update", "id": 1, "payload": map[string]any{"reward": nil, "kind": "progress"}}),
		)
	} else {
		seeds = append(seeds,
			[]byte(`{"v":1,"type":"x.custom","id":1,"payload":{"a":["x"],"b":{"k":"v"},"c":[{"a":[]}]}}`),
			[]byte(`{"v":1,"type":"welcome","id":1,"payload":{"npcs":[{},{},{},{},{},{}]}}`),
			[]byte(`{"v":1,"type":"quest.log","id":1,"payload":{"entries":[{},{"quest":{"objectives":[{},{"targets":["a]",","]}]}},null],"total":2}}`),
			[]byte(`{"v":1,"type":"quest.log","id":1,"payload":{"entries":[ ]}}`),
			[]byte(`{"v":1,"type":"quest.update","id":1,"payload":{"reward":null,"kind":"progress"}}`),
			[]byte(`{"v":2,"type":"talk","id":3}`),
			[]byte("{\"v\":1,\"type\":\"talk\",\"id\":3,\"payload\":{\"text\":\"\xff\"}}"),
			[]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`),
		)
	}
	return seeds
}

func FuzzDecodeMsgpack(f *testing.F) {
	for _, s := range fuzzSeeds(f, MsgpackCodec{}) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) { checkDecode(t, MsgpackCodec{}, frame) })
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range fuzzSeeds(f, JSONCodec{}) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, frame []byte) { checkDecode(t, JSONCodec{}, frame) })
}

// TestWriteFuzzCorpus regenerates the committed seed corpora under
// testdata/fuzz when HEARTH_WRITE_CORPUS=1:
//
//	HEARTH_WRITE_CORPUS=1 go test ./middleware/protocol -run TestWriteFuzzCorpus
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("HEARTH_WRITE_CORPUS") != "1" {
		t.Skip("set HEARTH_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	for name, c := range map[string]Codec{"FuzzDecodeMsgpack": MsgpackCodec{}, "FuzzDecodeJSON": JSONCodec{}} {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range fuzzSeeds(t, c) {
			sum := sha256.Sum256(s)
			file := filepath.Join(dir, "seed-"+hex.EncodeToString(sum[:8]))
			if err := os.WriteFile(file, fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

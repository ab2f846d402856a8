package protocol

import (
	"runtime"
	"testing"
)

// allocBytes returns the bytes allocated by f, averaged over runs.
func allocBytes(runs int, f func()) float64 {
	f() // warm up
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < runs; i++ {
		f()
	}
	runtime.ReadMemStats(&after)
	return float64(after.TotalAlloc-before.TotalAlloc) / float64(runs)
}

// TestHugeClaimsDoNotAllocate feeds frames of a few bytes whose headers claim
// gigabytes. The validator must reject them with bad_frame before anything
// sized by the header is allocated: only the returned *Error (and its
// message) may be allocated.
func TestHugeClaimsDoNotAllocate(t *testing.T) {
	frames := map[string][]byte{
		"str32 of 4 GiB":         {0xdb, 0xff, 0xff, 0xff, 0xff, 0x00},
		"bin32 of 4 GiB":         {0xc6, 0xff, 0xff, 0xff, 0xff, 0x00},
		"ext32 of 4 GiB":         {0xc9, 0xff, 0xff, 0xff, 0xff, 0x01},
		"array32 of 2^32-1":      {0xdd, 0xff, 0xff, 0xff, 0xff, 0x00},
		"map32 of 2^32-1":        {0xdf, 0xff, 0xff, 0xff, 0xff, 0x00},
		"array16 of 65535":       {0xdc, 0xff, 0xff, 0x00, 0x00, 0x00},
		"map in map claims 2^32": {0x81, 0xa1, 0x70, 0xdf, 0xff, 0xff},
	}
	for name, frame := range frames {
		t.Run(name, func(t *testing.T) {
			if len(frame) != 6 {
				t.Fatalf("frame is %d bytes, want 6", len(frame))
			}
			var err error
			decode := func() { _, err = MsgpackCodec{}.Decode(frame) }
			allocs := testing.AllocsPerRun(100, decode)
			if CodeOf(err) != CodeBadFrame {
				t.Fatalf("error = %v, want bad_frame", err)
			}
			if allocs > 3 {
				t.Errorf("%v allocations per decode, want at most 3 (the error)", allocs)
			}
			if b := allocBytes(100, decode); b > 256 {
				t.Errorf("%.0f bytes allocated per decode, want at most 256", b)
			}
		})
	}
}

// TestValidFrameAllocationBound checks that decoding a well-formed frame
// allocates in proportion to the frame, not to what its headers claim.
func TestValidFrameAllocationBound(t *testing.T) {
	for _, c := range codecs() {
		for _, s := range samples() {
			frame, err := c.Encode(s.h, s.m)
			if err != nil {
				t.Fatal(err)
			}
			got := allocBytes(20, func() {
				f, err := c.Decode(frame)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.Message(); err != nil {
					t.Fatal(err)
				}
			})
			if limit := allocLimit(len(frame)); got > limit {
				t.Errorf("%s/%s: %.0f bytes allocated for a %d-byte frame, limit %.0f", c.Subprotocol(), s.name, got, len(frame), limit)
			}
		}
	}
}

// allocLimit is the allocation budget for decoding a frame of n bytes,
// envelope and payload included. The factor covers the worst case of this
// package's types: an NPC entry of 3 empty strings takes 4 bytes on the wire
// and 48 bytes as an NPCInfo.
func allocLimit(n int) float64 { return 16*float64(n) + 4096 }

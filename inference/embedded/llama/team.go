package llama

import (
	"sync"
	"sync/atomic"
)

// team runs the parallel regions of one forward pass on the caller plus
// n-1 helper goroutines that live for the pass.
//
// Why not a goroutine per region: waking a parked goroutine costs tens of
// µs on the 2-core target, longer than most regions of a decode step, and
// BenchmarkParMin measured per-region goroutines no faster than one
// thread. Here helpers spin on an atomic generation counter between
// regions (yielding the OS thread with yieldCPU every 64 turns, so a busy
// machine's other threads and processes are not starved) and park only
// after spinning helperSpins turns with nothing to do. Each region is cut
// into more chunks than members, claimed from an atomic counter, and the
// caller claims chunks too: a helper that is slow to wake, or descheduled
// by a busy machine, costs at most the chunk it already holds, never the
// whole region. A nil team runs everything on the caller.
type team struct {
	n int

	// state is gen<<32 | chunks<<16 | next: the region's generation, its
	// chunk count and the next chunk to claim, in one word so that a claim
	// (a CAS) can only succeed within the region it read. job is written
	// before state publishes a region, and a member reads it only after a
	// successful claim, while the region cannot finish.
	state   atomic.Uint64
	job     func(w, chunk int)
	done    atomic.Int64 // chunks of the current region finished
	gen     uint64       // caller's copy of the generation
	stop    atomic.Bool
	helpers []teamHelper
	wg      sync.WaitGroup
}

type teamHelper struct {
	parked atomic.Bool
	wake   chan struct{} // capacity 1
}

// helperSpins is how many idle turns a helper spins before parking.
const helperSpins = 1 << 14

// maxChunks bounds a region's chunk count (16 bits of state).
const maxChunks = 1<<15 - 1

// startTeam starts a team of n members (the caller and n-1 helpers); n ≤ 1
// returns nil.
func startTeam(n int) *team {
	if n <= 1 {
		return nil
	}
	t := &team{n: n, helpers: make([]teamHelper, n-1)}
	t.wg.Add(n - 1)
	for w := 1; w < n; w++ {
		t.helpers[w-1].wake = make(chan struct{}, 1)
		go t.helper(w)
	}
	return t
}

func (t *team) helper(w int) {
	defer t.wg.Done()
	h := &t.helpers[w-1]
	var seen uint64
	for {
		for spins := 1; t.state.Load()>>32 == seen; spins++ {
			if t.stop.Load() {
				return
			}
			if spins&63 == 0 {
				yieldCPU()
			}
			if spins >= helperSpins {
				h.parked.Store(true)
				if t.state.Load()>>32 != seen || t.stop.Load() {
					// Work or stop arrived while parking: take back the
					// parked flag, or, if the caller already cleared it,
					// consume the wake-up it sent.
					if !h.parked.CompareAndSwap(true, false) {
						<-h.wake
					}
				} else {
					<-h.wake
				}
				spins = 0
			}
		}
		if t.stop.Load() {
			return
		}
		seen = t.state.Load() >> 32
		t.work(w, seen)
	}
}

// work claims and runs chunks of region gen until none is left.
func (t *team) work(w int, gen uint64) {
	for {
		v := t.state.Load()
		next, chunks := v&0xffff, v>>16&0xffff
		if v>>32 != gen || next >= chunks {
			return
		}
		if t.state.CompareAndSwap(v, v+1) {
			t.job(w, int(next))
			t.done.Add(1)
		}
	}
}

// size is the number of members (1 for a nil team).
func (t *team) size() int {
	if t == nil {
		return 1
	}
	return t.n
}

// run calls job(w, c) for every chunk c in [0, chunks), w being the member
// that runs it (0 is the caller; each member runs one chunk at a time),
// and returns when all chunks are done. chunks is capped at maxChunks by
// the callers.
func (t *team) run(chunks int, job func(w, chunk int)) {
	if t == nil || chunks <= 1 {
		for c := 0; c < chunks; c++ {
			job(0, c)
		}
		return
	}
	if chunks > maxChunks {
		panic("llama: team region has too many chunks")
	}
	t.job = job
	t.done.Store(0)
	t.gen++
	t.state.Store(t.gen<<32 | uint64(chunks)<<16)
	t.wakeParked()
	t.work(0, t.gen)
	for spins := 1; t.done.Load() != int64(chunks); spins++ {
		if spins&63 == 0 {
			yieldCPU()
		}
	}
	t.job = nil
}

// wakeParked wakes the helpers that parked.
func (t *team) wakeParked() {
	for i := range t.helpers {
		if h := &t.helpers[i]; h.parked.CompareAndSwap(true, false) {
			h.wake <- struct{}{}
		}
	}
}

// parallelFor runs fn over [0, n) in up to 4 contiguous chunks per member
// of at least minChunk items each.
func (t *team) parallelFor(n, minChunk int, fn func(lo, hi int)) {
	chunks := min(4*t.size(), n/max(1, minChunk))
	if chunks <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	size := (n + chunks - 1) / chunks
	chunks = (n + size - 1) / size
	t.run(chunks, func(_, c int) {
		fn(c*size, min((c+1)*size, n))
	})
}

// close stops the helpers and waits for them to exit; nil-safe.
func (t *team) close() {
	if t == nil {
		return
	}
	t.stop.Store(true)
	t.gen++
	t.state.Store(t.gen << 32)
	t.wakeParked()
	t.wg.Wait()
}

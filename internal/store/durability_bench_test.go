package store

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// The write costs docs/security.md ("Crash safety") quotes come from
// these benchmarks: go test -run '^$' -bench Write -benchtime 2000x ./internal/store
// Each reports the p50 and p99 of one call, in microseconds, on a real
// store in a temporary directory (the disk the tests run on).

func benchStore(b *testing.B) *Store {
	b.Helper()
	opts := DefaultOptions(b.TempDir())
	opts.SyncInterval, opts.ValueLogGCInterval = 0, 0
	s, err := Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func reportLatency(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e3 }
	b.ReportMetric(q(0.50), "p50-µs")
	b.ReportMetric(q(0.99), "p99-µs")
}

func memTurn() []MemoryRecord {
	return []MemoryRecord{
		{Kind: "dialogue", Speaker: "player", Text: "Ada said: have you seen the miller's daughter since the fair?", Importance: 3},
		{Kind: "dialogue", Speaker: "npc", Text: "I answered: Not since the fair, friend. Ask at the mill.", Importance: 2},
	}
}

// BenchmarkWriteMemory is today's memory write: one transaction, no sync
// (SyncInterval syncs in the background).
func BenchmarkWriteMemory(b *testing.B) {
	s := benchStore(b)
	lat := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		if err := s.AppendMemories("npc", fmt.Sprint("p", i%64), memTurn()...); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportLatency(b, lat)
}

// BenchmarkWriteMemorySynced is the same write followed by an fsync of
// Badger's logs, as writing memory before the reply would need.
func BenchmarkWriteMemorySynced(b *testing.B) {
	s := benchStore(b)
	lat := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		err := s.durable(func(txn *badger.Txn) error {
			for _, r := range memTurn() {
				if err := txnSet(txn, s.memKey("npc", fmt.Sprint("p", i%64), time.Now().UnixNano(), memSeq.Add(1)), &r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportLatency(b, lat)
}

// BenchmarkWriteQuestLog is PutQuestLog as it is now: written and synced.
func BenchmarkWriteQuestLog(b *testing.B) {
	s := benchStore(b)
	q := make([]byte, 600) // about a generated quest's encoding
	lat := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		if err := s.PutQuestLog(fmt.Sprint("p", i%64), QuestLogRecord{QuestID: fmt.Sprint("q", i), State: "active", Progress: []int{0, 0}, Quest: q}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	reportLatency(b, lat)
}

// BenchmarkWriteQuestLogParallel8 is eight players' quest writes at once:
// concurrent syncs share Badger's fsyncs.
func BenchmarkWriteQuestLogParallel8(b *testing.B) {
	s := benchStore(b)
	q := make([]byte, 600)
	var mu sync.Mutex
	lat := make([]time.Duration, 0, b.N)
	b.SetParallelism(8)
	n := 0
	b.RunParallel(func(pb *testing.PB) {
		mu.Lock()
		me := n
		n++
		mu.Unlock()
		var mine []time.Duration
		for i := 0; pb.Next(); i++ {
			t0 := time.Now()
			if err := s.PutQuestLog(fmt.Sprint("p", me), QuestLogRecord{QuestID: fmt.Sprint("q", i), State: "active", Quest: q}); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	reportLatency(b, lat)
}

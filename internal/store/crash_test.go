package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestValueLogGCGoroutineReclaims rewrites values that live in small
// value-log files and waits for the goroutine Open started to rewrite at
// least one file: its count comes from RunValueLogGC's own results
// (GCStats), not from disk sizes.
func TestValueLogGCGoroutineReclaims(t *testing.T) {
	opts := DefaultOptions(t.TempDir())
	opts.SyncInterval = 0
	opts.ValueLogGCInterval = 5 * time.Millisecond
	opts.valueThreshold = 1 << 10     // 4 KiB values go to the value log
	opts.valueLogFileSize = 1<<20 + 1 // Badger's smallest: many files
	opts.memTableSize = 1 << 20       // flushed often, so compactions see the overwrites
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := strings.Repeat("x", 4096)
	// Every round overwrites every key: the earlier rounds' values are
	// garbage. Flatten compacts, which is when Badger learns how much of
	// each value-log file is discardable. Keep rewriting until the GC
	// goroutine has reclaimed a file (it usually has after the first
	// few rounds); the test's own -timeout is the only clock.
	for round := 0; ; round++ {
		for i := 0; i < 600; i++ {
			if err := s.put(fmt.Sprintf("gc/%d", i), fmt.Sprint(round)+big); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.db.Flatten(1); err != nil {
			t.Fatal(err)
		}
		passes, rewritten := s.GCStats()
		if rewritten > 0 {
			t.Logf("GC goroutine rewrote %d value-log files in %d passes (round %d)", rewritten, passes, round)
			var v string
			if err := s.get("gc/7", &v); err != nil || !strings.HasPrefix(v, fmt.Sprint(round)) {
				t.Fatalf("after GC, gc/7 = %.10q…, %v; want round %d's write", v, err, round)
			}
			break
		}
		if round == 200 {
			t.Fatalf("after %d rounds of rewrites the GC goroutine made %d passes and rewrote nothing", round, passes)
		}
	}
	// Close waits for the goroutine (Store.wg): a pass in progress stops
	// between files.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenReadOnlyDirectoryIsAClearError(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// root writes through file modes; a read-only mount refuses it.
		// /sys is mounted read-only in containers and refuses root.
		dir = "/sys/fs"
		if _, err := os.Stat(dir); err != nil {
			t.Skip("running as root without a read-only /sys/fs to open")
		}
	}
	_, err := Open(DefaultOptions(dir))
	if err == nil {
		t.Fatalf("Open(%s) succeeded; want a read-only error", dir)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("data directory %q", dir)) {
		t.Fatalf("Open(%s): %v; want an error naming the directory", dir, err)
	}
	t.Log(err)
}

func TestInjectedWriteFaultFailsWritesNotReads(t *testing.T) {
	s, err := Open(DefaultOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.PutQuestLog("ada", QuestLogRecord{QuestID: "q1", State: "active"}); err != nil {
		t.Fatal(err)
	}
	disk := errors.New("no space left on device")
	s.InjectWriteFault(disk)
	err = s.PutQuestLog("ada", QuestLogRecord{QuestID: "q2", State: "active"})
	if !errors.Is(err, ErrWriteFailed) || !errors.Is(err, disk) {
		t.Fatalf("PutQuestLog with a fault: %v; want ErrWriteFailed wrapping the fault", err)
	}
	if err := s.AppendMemories("smith", "ada", MemoryRecord{Kind: "dialogue", Text: "hi"}); !errors.Is(err, ErrWriteFailed) {
		t.Fatalf("AppendMemories with a fault: %v", err)
	}
	if n := s.WriteErrors(); n != 2 {
		t.Fatalf("WriteErrors = %d, want 2", n)
	}
	log, err := s.QuestLog("ada")
	if err != nil || len(log) != 1 || log[0].QuestID != "q1" {
		t.Fatalf("QuestLog during the fault = %+v, %v; want q1 only", log, err)
	}
	s.InjectWriteFault(nil)
	if err := s.PutQuestLog("ada", QuestLogRecord{QuestID: "q2", State: "active"}); err != nil {
		t.Fatalf("after healing: %v", err)
	}
}

// A closed store's writes fail with ErrWriteFailed (Badger's own
// "writes are blocked" error) instead of panicking.
func TestWriteAfterCloseFailsCleanly(t *testing.T) {
	s, err := Open(DefaultOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := s.AppendMemories("smith", "ada", MemoryRecord{Kind: "dialogue", Text: "hi"}); !errors.Is(err, ErrWriteFailed) {
		t.Fatalf("write after Close: %v; want ErrWriteFailed", err)
	}
}

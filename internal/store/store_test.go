package store

import (
	"fmt"
	"strings"
	"testing"
)

func TestCollectGarbageRunsAndKeepsTheLatestValues(t *testing.T) {
	opts := DefaultOptions(t.TempDir())
	opts.ValueLogGCInterval = 0 // run it by hand
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Values above Badger's value threshold live in the value log;
	// overwrite them so most of it becomes garbage.
	big := strings.Repeat("x", 4096)
	for round := 0; round < 3; round++ {
		for i := 0; i < 2000; i++ {
			if err := s.put(fmt.Sprintf("gc/%d", i), big+fmt.Sprint(round)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.CollectGarbage(); err != nil {
		t.Fatalf("CollectGarbage: %v", err)
	}
	var v string
	if err := s.get("gc/7", &v); err != nil || !strings.HasSuffix(v, "2") {
		t.Fatalf("after GC, gc/7 = %.10q…, %v; want the last write", v, err)
	}
}

func TestOpenLockedDirectoryIsAClearError(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = Open(DefaultOptions(dir))
	if err == nil || !strings.Contains(err.Error(), "in use by another Hearth process") {
		t.Fatalf("second Open of %s: %v; want a clear 'in use' error", dir, err)
	}
}

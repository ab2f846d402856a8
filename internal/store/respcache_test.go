package store

import (
	"slices"
	"testing"
	"time"
)

func TestRespCachePersistsAndSkipsCorrupt(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).UnixNano()
	err = s.PutRespCache([]RespCacheEntry{
		{Key: "a", Record: RespCacheRecord{Text: "Two pennies.", Tier: "cache", Backend: "small", Quality: 2, Expires: exp}},
		{Key: "b/c", Record: RespCacheRecord{Text: "The Tipped Kettle.", Quality: 1, Expires: exp}},
		{Key: "old", Record: RespCacheRecord{Text: "stale", Expires: time.Now().Add(-time.Second).UnixNano()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutRawRespCache("bad", []byte{0xc1, 0xff}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteRespCache([]string{"nothing-here"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(DefaultOptions(dir)); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := map[string]RespCacheRecord{}
	var bad []string
	err = s.RespCacheEntries(func(k string, r RespCacheRecord) bool { got[k] = r; return true },
		func(k string, err error) { bad = append(bad, k) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["a"].Text != "Two pennies." || got["a"].Quality != 2 || got["a"].Expires != exp ||
		got["b/c"].Text != "The Tipped Kettle." {
		t.Fatalf("entries after reopen = %+v, want a and b/c (the expired one skipped)", got)
	}
	if !slices.Equal(bad, []string{"bad"}) {
		t.Fatalf("corrupt = %v, want [bad]", bad)
	}
	if err := s.DeleteRespCache([]string{"a", "bad"}); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.RespCacheEntries(func(string, RespCacheRecord) bool { n++; return true }, nil); err != nil || n != 1 {
		t.Fatalf("after delete: %d entries (err %v), want 1", n, err)
	}
}

package store

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/vmihailenco/msgpack/v5"
)

// RespCacheRecord is a reply of the exact response cache
// (inference.ResponseCache) persisted so that a restarted server starts
// warm. Expires is the wall-clock instant (Unix ns) after which the entry
// must not be served; Badger's own entry TTL is set to the same instant
// (rounded up to its one-second resolution), so expired records also
// vanish from disk at compaction.
type RespCacheRecord struct {
	Text         string `msgpack:"x"`
	Tier         string `msgpack:"t"`
	Backend      string `msgpack:"b"`
	Tokens       int    `msgpack:"n,omitempty"`
	PromptTokens int    `msgpack:"p,omitempty"`
	Quality      int    `msgpack:"q"`
	Expires      int64  `msgpack:"e"`
}

// RespCacheEntry is a RespCacheRecord and its cache key.
type RespCacheEntry struct {
	Key    string
	Record RespCacheRecord
}

// respCachePrefix is the key prefix of persisted response-cache entries.
// It is tenant-neutral: the cache key (inference.ExactKey) already hashes
// the tenant in, so every tenant's entries share one prefix and one bound,
// as they share the in-memory cache.
const respCachePrefix = "respcache/"

func respCacheKey(key string) []byte { return []byte(respCachePrefix + url.PathEscape(key)) }

// PutRespCache writes entries in one transaction, each with a Badger TTL
// equal to the time left until its Expires. Entries already expired, or
// with an empty key, are skipped. Errors wrap ErrWriteFailed (or name the
// record that could not be encoded).
func (s *Store) PutRespCache(entries []RespCacheEntry) error {
	now := time.Now()
	return s.update(func(txn *badger.Txn) error {
		for _, e := range entries {
			left := time.Unix(0, e.Record.Expires).Sub(now)
			if e.Key == "" || left <= 0 {
				continue
			}
			b, err := msgpack.Marshal(&e.Record)
			if err != nil {
				return fmt.Errorf("store: encode response cache entry %s: %w", e.Key, err)
			}
			// Badger's TTL counts whole seconds and truncates: round up so
			// the record outlives its Expires, which the reader checks.
			ttl := left.Truncate(time.Second) + time.Second
			if err := txn.SetEntry(badger.NewEntry(respCacheKey(e.Key), b).WithTTL(ttl)); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteRespCache deletes the entries under keys in one transaction
// (absent keys are no error). Errors wrap ErrWriteFailed.
func (s *Store) DeleteRespCache(keys []string) error {
	return s.update(func(txn *badger.Txn) error {
		for _, k := range keys {
			if err := txn.Delete(respCacheKey(k)); err != nil {
				return err
			}
		}
		return nil
	})
}

// RespCacheEntries calls fn for every persisted response-cache entry whose
// Badger TTL has not passed, in key order, until fn returns false. A
// record that does not decode (or a key that does not unescape) is not
// passed to fn: corrupt, when not nil, receives its key and the error, and
// the scan goes on. The error is Badger's, for a scan that could not run.
func (s *Store) RespCacheEntries(fn func(key string, r RespCacheRecord) bool, corrupt func(key string, err error)) error {
	return s.scan(respCachePrefix, false, func(raw []byte, decode func(any) error) (bool, error) {
		rk := strings.TrimPrefix(string(raw), respCachePrefix)
		key, err := url.PathUnescape(rk)
		if err != nil {
			if corrupt != nil {
				corrupt(rk, fmt.Errorf("store: response cache key %q: %w", raw, err))
			}
			return true, nil
		}
		var r RespCacheRecord
		if err := decode(&r); err != nil {
			if corrupt != nil {
				corrupt(key, fmt.Errorf("store: decode response cache entry %s: %w", key, err))
			}
			return true, nil
		}
		return fn(key, r), nil
	})
}

// PutRawRespCache writes raw as the record under key, whatever it is: a
// corrupt record, for tests and failure drills (like InjectWriteFault).
// Errors wrap ErrWriteFailed.
func (s *Store) PutRawRespCache(key string, raw []byte) error {
	return s.update(func(txn *badger.Txn) error { return txn.Set(respCacheKey(key), raw) })
}

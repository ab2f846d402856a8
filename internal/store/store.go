// Package store is Hearth's one door to Badger. Every package that persists
// state (lore, NPC memory, later quests) calls the typed methods here; no other
// package opens Badger. Values are msgpack-encoded record types defined in
// this package, so the on-disk format is owned in one place.
//
// Key layout (all keys are UTF-8, "/"-separated, prefixes never overlap):
//
//	lore/doc/<source>/<path>          DocRecord
//	lore/chunk/<chunk id>             ChunkRecord
//	lore/entity/<entity id>           EntityRecord
//	mem/<npc id>/<player id>/<seq>    MemoryRecord (seq: 16 hex digits)
//	memidx/<npc id>/<player id>       empty: the pair has memories
//	quest/log/<player id>/<quest id>  QuestLogRecord
//	embed/vec/<model>/<text hash>     embeddingRecord (model path-escaped; see embedding.go)
//	embed/model/<slot>                EmbedModelRecord header (see embedding.go)
//	embed/part/<slot>/<n>             a part of that model's data (n: 8 hex digits)
//	embed/graph/<name>                a vector index graph's header (see embedding.go)
//	embed/gpart/<name>/<n>            a part of that graph (n: 8 hex digits)
package store

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/vmihailenco/msgpack/v5"
)

// ErrNotFound is returned by getters when a key has no value.
var ErrNotFound = errors.New("store: not found")

// Options configures Open. The zero value is not valid; use DefaultOptions.
type Options struct {
	// Dir is the data directory. Empty means in-memory (tests, ephemeral runs).
	Dir string
	// SyncInterval is how often buffered writes are fsynced to disk. Writes
	// are not synced one by one (Badger's SyncWrites=false) because an fsync
	// costs milliseconds on the request path; a crash loses at most this much.
	// Zero disables the background sync (Close still syncs). Default 1 s.
	SyncInterval time.Duration
	// ValueLogGCInterval is how often Badger's value log is garbage
	// collected: Badger never reclaims the space of overwritten or deleted
	// values by itself (shared/STYLE.md). Zero disables it. Default 10 min.
	ValueLogGCInterval time.Duration
	// Logger receives Badger's warnings and errors. Nil means slog.Default().
	Logger *slog.Logger
}

// DefaultOptions returns Options for a store in dir ("" for in-memory).
func DefaultOptions(dir string) Options {
	return Options{Dir: dir, SyncInterval: time.Second, ValueLogGCInterval: 10 * time.Minute}
}

// Store is an open Badger database with Hearth's typed accessors. It is safe
// for concurrent use. Close it once.
type Store struct {
	db       *badger.DB
	stop     chan struct{}
	wg       sync.WaitGroup
	closeMu  sync.Once
	closeErr error
}

// Open opens (creating if needed) the store. It returns an error naming the
// directory when Badger cannot open it (locked by another process,
// unreadable, corrupt).
func Open(opts Options) (*Store, error) {
	bo := badger.DefaultOptions(opts.Dir).
		WithLogger(badgerLogger{log(opts.Logger)}).
		WithSyncWrites(false).
		WithNumVersionsToKeep(1)
	if opts.Dir == "" {
		bo = bo.WithInMemory(true)
	}
	// Hearth's values are small records; keep Badger's memory modest so
	// that many NPCs and a game server fit on one machine.
	bo = bo.WithMemTableSize(16 << 20).WithValueLogFileSize(64 << 20).
		WithBlockCacheSize(32 << 20).WithIndexCacheSize(16 << 20)
	db, err := badger.Open(bo)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("store: data directory %q is in use by another Hearth process (a running hearth serve?); stop it or pick another directory with -data: %w", opts.Dir, err)
		}
		return nil, fmt.Errorf("store: open %q: %w", opts.Dir, err)
	}
	s := &Store{db: db, stop: make(chan struct{})}
	if opts.SyncInterval > 0 && opts.Dir != "" {
		s.wg.Add(1)
		go s.syncLoop(opts.SyncInterval, log(opts.Logger))
	}
	if opts.ValueLogGCInterval > 0 && opts.Dir != "" {
		s.wg.Add(1)
		go s.gcLoop(opts.ValueLogGCInterval, log(opts.Logger))
	}
	return s, nil
}

func log(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

func (s *Store) syncLoop(every time.Duration, lg *slog.Logger) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if err := s.db.Sync(); err != nil {
				lg.Error("store: sync failed", "err", err)
			}
		}
	}
}

// gcLoop reclaims value-log space every interval.
func (s *Store) gcLoop(every time.Duration, lg *slog.Logger) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			if n, err := s.CollectGarbage(); err != nil {
				lg.Error("store: value log GC failed", "err", err)
			} else if n > 0 {
				lg.Info("store: value log GC", "files_rewritten", n)
			}
		}
	}
}

// gcDiscardRatio is the share of a value-log file that must be garbage
// before Badger rewrites it (Badger's documentation suggests 0.5).
const gcDiscardRatio = 0.5

// CollectGarbage runs Badger's value-log GC until no file is worth
// rewriting, and returns how many files it rewrote. It returns nil when
// there was nothing to do, and an error only for a real failure.
func (s *Store) CollectGarbage() (int, error) {
	n := 0
	for {
		err := s.db.RunValueLogGC(gcDiscardRatio)
		switch {
		case err == nil:
			n++
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			return n, nil
		default:
			return n, err
		}
	}
}

// Sync flushes buffered writes to disk now.
func (s *Store) Sync() error { return s.db.Sync() }

// Close syncs and closes the database. Calling it again returns the first
// result.
func (s *Store) Close() error {
	s.closeMu.Do(func() {
		close(s.stop)
		s.wg.Wait()
		s.closeErr = s.db.Close()
	})
	return s.closeErr
}

// put encodes v with msgpack under key.
func (s *Store) put(key string, v any) error {
	b, err := msgpack.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %s: %w", key, err)
	}
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte(key), b) })
}

// get decodes the value under key into v, or returns ErrNotFound.
func (s *Store) get(key string, v any) error {
	return s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get([]byte(key))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return it.Value(func(b []byte) error { return msgpack.Unmarshal(b, v) })
	})
}

// scan calls fn for every value whose key starts with prefix, in key order.
// fn receives the raw key and a decoder for the value; the bytes are only
// valid during the call.
func (s *Store) scan(prefix string, reverse bool, fn func(key []byte, decode func(v any) error) (more bool, err error)) error {
	return s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix = []byte(prefix)
		o.Reverse = reverse
		it := txn.NewIterator(o)
		defer it.Close()
		start := []byte(prefix)
		if reverse {
			start = append([]byte(prefix), 0xff)
		}
		for it.Seek(start); it.ValidForPrefix(o.Prefix); it.Next() {
			item := it.Item()
			var derr error
			more, err := fn(item.Key(), func(v any) error {
				derr = item.Value(func(b []byte) error { return msgpack.Unmarshal(b, v) })
				return derr
			})
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
		}
		return nil
	})
}

// update runs fn in one read-write transaction; batch puts and deletes in
// it with txnSet and txnDelete.
func (s *Store) update(fn func(txn *badger.Txn) error) error { return s.db.Update(fn) }

func txnSet(txn *badger.Txn, key string, v any) error {
	b, err := msgpack.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %s: %w", key, err)
	}
	return txn.Set([]byte(key), b)
}

func txnDelete(txn *badger.Txn, key string) error { return txn.Delete([]byte(key)) }

// badgerLogger adapts slog to Badger's Logger; Badger's info and debug
// chatter is dropped.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any)   { b.l.Error(fmt.Sprintf("badger: "+f, a...)) }
func (b badgerLogger) Warningf(f string, a ...any) { b.l.Warn(fmt.Sprintf("badger: "+f, a...)) }
func (b badgerLogger) Infof(string, ...any)        {}
func (b badgerLogger) Debugf(string, ...any)       {}

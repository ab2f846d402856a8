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
//	memmeta/<npc id>                  StreamMetaRecord (mem/<npc id>//<seq>: world knowledge; see stream.go)
//	quest/log/<player id>/<quest id>  QuestLogRecord
//	rel/<npc id>/<other id>           RelationshipRecord (other: a player's or an NPC's id; see relationship.go)
//	mood/<npc id>                     MoodRecord
//	tenant/<tenant>/mem/…, …/memidx/…, …/memmeta/…, …/quest/log/…, …/rel/…, …/mood/…
//	                                  the same records of a tenant (Store.Tenant)
//	embed/vec/<model>/<text hash>     embeddingRecord (model path-escaped; see embedding.go)
//	embed/model/<slot>                EmbedModelRecord header (see embedding.go)
//	embed/part/<slot>/<n>             a part of that model's data (n: 8 hex digits)
//	embed/graph/<name>                a vector index graph's header (see embedding.go)
//	embed/gpart/<name>/<n>            a part of that graph (n: 8 hex digits)
//	respcache/<cache key>             RespCacheRecord (tenant-neutral: the key hashes the tenant in; see respcache.go)
package store

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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
	// SyncInterval is how often buffered writes are fsynced to disk: a
	// group commit. Writes are not synced one by one (Badger's
	// SyncWrites=false) because an fsync costs 0.3 ms p50 and 7.6 ms p99
	// (durability_bench_test.go); a power loss loses at most this much of
	// the writes made by update, a killed process none that returned.
	// Quest log writes (PutQuestLog) are synced before they return.
	// Zero disables the background sync (Close still syncs). Default 1 s.
	SyncInterval time.Duration
	// ValueLogGCInterval is how often Badger's value log is garbage
	// collected: Badger never reclaims the space of overwritten or deleted
	// values by itself (shared/STYLE.md). Zero disables it. Default 10 min.
	ValueLogGCInterval time.Duration
	// Logger receives Badger's warnings and errors. Nil means slog.Default().
	Logger *slog.Logger

	// Test knobs: Badger's value threshold, value-log file and memtable size (zero:
	// Hearth's defaults), so that a test can put values in small value-log
	// files and watch the GC reclaim them.
	valueThreshold   int64
	valueLogFileSize int64
	memTableSize     int64
}

// DefaultOptions returns Options for a store in dir ("" for in-memory).
func DefaultOptions(dir string) Options {
	return Options{Dir: dir, SyncInterval: time.Second, ValueLogGCInterval: 10 * time.Minute}
}

// Store is an open Badger database with Hearth's typed accessors. It is safe
// for concurrent use. Close it once.
//
// A Store is also a view of one tenant's NPC state (Tenant): the tenant's
// memories, memory-stream bookkeeping, relationships, mood and quest logs live under their own
// key prefix, so two tenants with the same NPC or player ids never see
// each other's records. Lore and embeddings are the world's, shared by
// every view.
type Store struct {
	*database
	// ns prefixes the keys of tenant-scoped records ("" for the default
	// tenant, whose keys are unprefixed as they were before tenants).
	ns     string
	tenant string
}

// database is the open Badger database every view of a Store shares.
type database struct {
	db       *badger.DB
	stop     chan struct{}
	wg       sync.WaitGroup
	closeMu  sync.Once
	closeErr error

	fault       atomic.Pointer[error] // InjectWriteFault's error; nil: none
	writeErrors atomic.Uint64         // writes that failed (WriteErrors)
	gcRewrites  atomic.Uint64         // value-log files the GC goroutine rewrote
	gcRuns      atomic.Uint64         // GC goroutine passes completed
}

// ErrWriteFailed wraps every error of a write that the store could not
// make (and, for durable writes, sync): a full disk, a data directory
// that became read-only, a closed store, an injected fault. Nothing of the
// write can be relied on then; the caller refuses what it would have
// acknowledged. Match it with errors.Is.
var ErrWriteFailed = errors.New("store: write failed")

// Open opens (creating if needed) the store. It returns an error naming the
// directory when Badger cannot open it (locked by another process,
// unreadable, corrupt).
func Open(opts Options) (*Store, error) {
	if opts.Dir != "" {
		if err := checkWritable(opts.Dir); err != nil {
			return nil, err
		}
	}
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
	if opts.valueThreshold > 0 {
		bo = bo.WithValueThreshold(opts.valueThreshold)
	}
	if opts.memTableSize > 0 {
		bo = bo.WithMemTableSize(opts.memTableSize)
	}
	if opts.valueLogFileSize > 0 {
		bo = bo.WithValueLogFileSize(opts.valueLogFileSize)
	}
	db, err := badger.Open(bo)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("store: data directory %q is in use by another Hearth process (a running hearth serve?); stop it or pick another directory with -data: %w", opts.Dir, err)
		}
		return nil, fmt.Errorf("store: open %q: %w", opts.Dir, err)
	}
	s := &Store{database: &database{db: db, stop: make(chan struct{})}}
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

// checkWritable fails with a clear error naming dir when Hearth cannot
// create files in it (a read-only mount, missing permissions, a full
// disk): Badger's own error from deep inside its manifest code says
// neither which directory nor why it matters.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("store: data directory %q cannot be created: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".hearth-write-check-*")
	if err != nil {
		why := "is not writable"
		switch {
		case errors.Is(err, syscall.EROFS):
			why = "is on a read-only file system"
		case errors.Is(err, syscall.ENOSPC):
			why = "is on a full disk"
		case errors.Is(err, os.ErrPermission):
			why = "is not writable by this process (permission denied)"
		}
		return fmt.Errorf("store: data directory %q %s; Hearth needs to write there (pick another with -data): %w", dir, why, err)
	}
	name := f.Name()
	_, werr := f.Write([]byte("hearth"))
	if werr == nil {
		werr = f.Sync()
	}
	f.Close()
	os.Remove(name)
	if werr != nil {
		return fmt.Errorf("store: data directory %q does not take writes (a full disk?): %w", dir, werr)
	}
	return nil
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
			n, err := s.collectGarbage(&s.gcRewrites)
			s.gcRuns.Add(1)
			if err != nil {
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
func (s *Store) CollectGarbage() (int, error) { return s.collectGarbage(nil) }

// collectGarbage is CollectGarbage, adding each rewrite to count as it
// happens (when count is not nil) and stopping early when the store is
// closing.
func (s *Store) collectGarbage(count *atomic.Uint64) (int, error) {
	n := 0
	for {
		select {
		case <-s.stop:
			return n, nil
		default:
		}
		err := s.db.RunValueLogGC(gcDiscardRatio)
		switch {
		case err == nil:
			n++
			if count != nil {
				count.Add(1)
			}
		case errors.Is(err, badger.ErrNoRewrite), errors.Is(err, badger.ErrRejected):
			return n, nil
		default:
			return n, err
		}
	}
}

// GCStats returns how many passes the value-log GC goroutine has made and
// how many value-log files it rewrote in them, since Open.
func (s *Store) GCStats() (passes, rewritten uint64) { return s.gcRuns.Load(), s.gcRewrites.Load() }

// Sync flushes buffered writes to disk now. Its error wraps ErrWriteFailed.
func (s *Store) Sync() error {
	if err := s.db.Sync(); err != nil {
		s.writeErrors.Add(1)
		return fmt.Errorf("%w: sync: %w", ErrWriteFailed, err)
	}
	return nil
}

// WriteErrors returns how many writes (and syncs) have failed since Open.
func (s *Store) WriteErrors() uint64 { return s.writeErrors.Load() }

// InjectWriteFault makes every later write (and durable sync) fail with
// err wrapped in ErrWriteFailed, as a full disk would; nil heals the
// store. Reads keep working. It is for tests and failure drills: Badger
// offers no way to make a live database fail its writes on demand.
func (s *Store) InjectWriteFault(err error) {
	if err == nil {
		s.fault.Store(nil)
		return
	}
	s.fault.Store(&err)
}

// Tenant returns the view of tenant's NPC state (see Store): its
// memories, memory-stream bookkeeping, relationships, mood and quest logs are stored under the
// key prefix tenant/<tenant>/ and are invisible to every other view. ""
// is the default tenant (unprefixed keys: a server without tenants, and
// every record written before tenants existed). A view shares the
// database: Close the Store that Open returned, not a view (a view's
// Close does nothing).
func (s *Store) Tenant(tenant string) *Store {
	if tenant == "" {
		return &Store{database: s.database}
	}
	return &Store{database: s.database, ns: "tenant/" + url.PathEscape(tenant) + "/", tenant: tenant}
}

// TenantName returns the tenant this view belongs to ("" for the default
// tenant).
func (s *Store) TenantName() string { return s.tenant }

// Close syncs and closes the database. Calling it again returns the first
// result. Closing a tenant view (Tenant) does nothing and returns nil.
func (s *Store) Close() error {
	if s.ns != "" {
		return nil
	}
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
	return s.update(func(txn *badger.Txn) error { return txn.Set([]byte(key), b) })
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
// it with txnSet and txnDelete. fn's own errors come back as they are;
// a failure to write (the commit, an injected fault) wraps ErrWriteFailed.
// Once it returns nil the write is in Badger's logs in the page cache: it
// survives the process being killed, and reaches the disk at the next sync
// (SyncInterval, or durable's explicit one).
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	if f := s.fault.Load(); f != nil {
		s.writeErrors.Add(1)
		return fmt.Errorf("%w: %w", ErrWriteFailed, *f)
	}
	var fnErr error
	err := s.db.Update(func(txn *badger.Txn) error {
		fnErr = fn(txn)
		return fnErr
	})
	if err != nil && (fnErr == nil || !errors.Is(err, fnErr)) {
		s.writeErrors.Add(1)
		return fmt.Errorf("%w: %w", ErrWriteFailed, err)
	}
	return err
}

// durable runs fn like update and then syncs Badger's logs to disk, so
// that the write survives a power loss as well as a killed process before
// the caller acknowledges it. The sync also covers every write committed
// before it (memory included); concurrent durable writes queue on Badger's
// log locks (durability_bench_test.go measures it).
func (s *Store) durable(fn func(txn *badger.Txn) error) error {
	if err := s.update(fn); err != nil {
		return err
	}
	if f := s.fault.Load(); f != nil {
		s.writeErrors.Add(1)
		return fmt.Errorf("%w: sync: %w", ErrWriteFailed, *f)
	}
	return s.Sync()
}

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

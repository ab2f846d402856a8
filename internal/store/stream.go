package store

// The NPC memory stream (issue 6): every memory of an NPC — dialogue
// turns, observations, reflections and compaction summaries — is a
// MemoryRecord under mem/<npc id>/<player id>/<seq>. An NPC's shared world
// knowledge (memories about no player) uses the empty player id:
// mem/<npc id>//<seq>; no player id is empty, so that prefix is the
// world's alone. NPC ids are path-escaped in keys, so two NPCs never share
// a prefix (their display names play no part). The stream's bookkeeping
// (what the last reflection considered) is a
// StreamMetaRecord under memmeta/<npc id>.

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/vmihailenco/msgpack/v5"
)

// StreamMetaRecord is the bookkeeping of one NPC's memory stream, under
// memmeta/<npc id>.
type StreamMetaRecord struct {
	// LastReflection is the game time of the last reflection, Unix ns (0:
	// never).
	LastReflection int64 `msgpack:"lr"`
	// Watermark is the WallTime (Unix ns) of the newest memory the last
	// reflection considered: the importance of the memories written after
	// it is what triggers the next reflection.
	Watermark int64 `msgpack:"wm"`
}

// KeyedMemory is a memory with the key it is stored under, so that it can
// be deleted (compaction) or replaced.
type KeyedMemory struct {
	Key string
	Rec MemoryRecord
}

func (s *Store) memNPCPrefix(npcID string) string { return s.ns + "mem/" + url.PathEscape(npcID) + "/" }

func (s *Store) memMetaKey(npcID string) string { return s.ns + "memmeta/" + url.PathEscape(npcID) }

// streamTxnRecords is how many records one write transaction holds at most
// when a whole stream is written (import): Badger refuses transactions
// over its size limit (ErrTxnTooBig).
const streamTxnRecords = 1000

// AppendStream appends recs to the memory stream of npcID about playerID
// ("" for the NPC's world knowledge) in one transaction, in order, and
// returns their keys. WallTime is set to now when zero.
func (s *Store) AppendStream(npcID, playerID string, recs ...MemoryRecord) ([]string, error) {
	if npcID == "" {
		return nil, errors.New("store: append stream: npc id is required")
	}
	now := time.Now().UnixNano()
	keys := make([]string, len(recs))
	err := s.update(func(txn *badger.Txn) error {
		if playerID != "" {
			if err := txn.Set([]byte(s.memIndexKey(npcID, playerID)), nil); err != nil {
				return err
			}
		}
		for i := range recs {
			r := recs[i]
			r.NPCID, r.PlayerID = npcID, playerID
			if r.WallTime == 0 {
				r.WallTime = now
			}
			keys[i] = s.memKey(npcID, playerID, r.WallTime, memSeq.Add(1))
			if err := txnSet(txn, keys[i], &r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: append stream of %s: %w", npcID, err)
	}
	return keys, nil
}

// StreamMemories returns every memory of npcID (all players and the world
// knowledge) with its key, in key order: by player id, then oldest first.
func (s *Store) StreamMemories(npcID string) ([]KeyedMemory, error) {
	var out []KeyedMemory
	err := s.scan(s.memNPCPrefix(npcID), false, func(key []byte, decode func(any) error) (bool, error) {
		var r MemoryRecord
		if err := decode(&r); err != nil {
			return false, fmt.Errorf("store: decode memory %s: %w", key, err)
		}
		out = append(out, KeyedMemory{Key: string(key), Rec: r})
		return true, nil
	})
	return out, err
}

// StreamFootprint returns how many memories npcID has in the store and
// their size: keys plus msgpack-encoded values, in bytes (before Badger's
// own overhead and compression).
func (s *Store) StreamFootprint(npcID string) (n int, bytes int64, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.PrefetchValues = false
		o.Prefix = []byte(s.memNPCPrefix(npcID))
		it := txn.NewIterator(o)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
			bytes += int64(len(it.Item().Key())) + it.Item().ValueSize()
		}
		return nil
	})
	return n, bytes, err
}

// ReplaceStream deletes the memories under del and appends add (each
// under its own PlayerID) in one transaction: compaction folds old
// memories into summaries with it, so that a crash leaves either the
// originals or the summaries, never neither. It returns the keys of add.
func (s *Store) ReplaceStream(npcID string, del []string, add []MemoryRecord) ([]string, error) {
	prefix := s.memNPCPrefix(npcID)
	now := time.Now().UnixNano()
	keys := make([]string, len(add))
	err := s.update(func(txn *badger.Txn) error {
		for _, k := range del {
			if len(k) < len(prefix) || k[:len(prefix)] != prefix {
				return fmt.Errorf("key %q is not a memory of npc %q", k, npcID)
			}
			if err := txnDelete(txn, k); err != nil {
				return err
			}
		}
		for i := range add {
			r := add[i]
			r.NPCID = npcID
			if r.WallTime == 0 {
				r.WallTime = now
			}
			if r.PlayerID != "" {
				if err := txn.Set([]byte(s.memIndexKey(npcID, r.PlayerID)), nil); err != nil {
					return err
				}
			}
			keys[i] = s.memKey(npcID, r.PlayerID, r.WallTime, memSeq.Add(1))
			if err := txnSet(txn, keys[i], &r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: compact stream of %s: %w", npcID, err)
	}
	return keys, nil
}

// ResetStream deletes every memory of npcID and its stream bookkeeping,
// then writes recs (each under its own PlayerID) and meta: an import.
// It writes in batches of streamTxnRecords records, so a crash part-way
// can leave part of the import; the caller re-runs it. It returns the
// keys of recs, in order.
func (s *Store) ResetStream(npcID string, recs []MemoryRecord, meta StreamMetaRecord) ([]string, error) {
	old, err := s.StreamMemories(npcID)
	if err != nil {
		return nil, err
	}
	for len(old) > 0 {
		n := min(len(old), streamTxnRecords)
		if err := s.update(func(txn *badger.Txn) error {
			for _, m := range old[:n] {
				if err := txnDelete(txn, m.Key); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("store: reset stream of %s: %w", npcID, err)
		}
		old = old[n:]
	}
	keys := make([]string, 0, len(recs))
	for len(recs) > 0 {
		n := min(len(recs), streamTxnRecords)
		batch := recs[:n]
		ks, err := s.ReplaceStream(npcID, nil, batch)
		if err != nil {
			return nil, err
		}
		keys = append(keys, ks...)
		recs = recs[n:]
	}
	if err := s.PutStreamMeta(npcID, meta); err != nil {
		return nil, err
	}
	return keys, nil
}

// StreamMeta returns the stream bookkeeping of npcID (zero when none).
func (s *Store) StreamMeta(npcID string) (StreamMetaRecord, error) {
	var m StreamMetaRecord
	if err := s.get(s.memMetaKey(npcID), &m); err != nil && !errors.Is(err, ErrNotFound) {
		return m, fmt.Errorf("store: stream meta of %s: %w", npcID, err)
	}
	return m, nil
}

// PutStreamMeta writes the stream bookkeeping of npcID.
func (s *Store) PutStreamMeta(npcID string, m StreamMetaRecord) error {
	b, err := msgpack.Marshal(&m)
	if err != nil {
		return err
	}
	return s.update(func(txn *badger.Txn) error { return txn.Set([]byte(s.memMetaKey(npcID)), b) })
}

package store

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// MemoryRecord is one entry of an NPC's memory stream about one player
// (DESIGN §7). Times are Unix nanoseconds.
type MemoryRecord struct {
	NPCID      string  `msgpack:"n"`
	PlayerID   string  `msgpack:"p"`
	PlayerName string  `msgpack:"pn,omitempty"` // the name the player went by when this happened
	Kind       string  `msgpack:"k"`            // "dialogue", "observation", "reflection", "summary", "gossip"
	Speaker    string  `msgpack:"s,omitempty"`  // "player" or "npc" for dialogue turns
	Text       string  `msgpack:"t"`
	Importance float64 `msgpack:"i"` // 1..10
	GameTime   int64   `msgpack:"g"` // game clock, Unix ns
	WallTime   int64   `msgpack:"w"` // server clock when written, Unix ns

	// Knowledge scope (issue 6, gossip): who may know this memory, with
	// the meaning of a lore chunk's front matter (lore.Filter). Empty is
	// common knowledge, which is what records written before these fields
	// existed decode as.
	Region  string   `msgpack:"rg,omitempty"` // region id; "" = everywhere
	Tags    []string `msgpack:"tg,omitempty"` // topic tags; none = common knowledge
	Secrecy int      `msgpack:"sc,omitempty"` // 0 public, 1 local knowledge, 2 secret

	// Gossip provenance. Origin identifies the event a memory is about, so
	// that an NPC who hears of it twice (or witnessed it and then hears of
	// it) keeps it once; "" means the memory is its own event (npc derives
	// an id from the NPC, WallTime and Text). Story is the event as it was
	// first observed, without the "Heard from …" of a retelling; Teller is
	// the NPC id it was heard from and Hops how many tellings it is from
	// the witness (0: witnessed).
	Origin string `msgpack:"o,omitempty"`
	Story  string `msgpack:"st,omitempty"`
	Teller string `msgpack:"tl,omitempty"`
	Hops   int    `msgpack:"h,omitempty"`
	// Origins, on a summary, are the events of the world memories it
	// folded: the NPC still knows of them, so gossip does not tell it
	// again what it summarised away.
	Origins []string `msgpack:"os,omitempty"`
}

// memSeq breaks ties between memories written in the same nanosecond, so
// keys stay unique and ordered by write time within a process.
var memSeq atomic.Uint32

// memIndexKey marks that (npcID, playerID) has memories. A point lookup of
// it is answered by Badger's bloom filters, so a first meeting (no
// memories) costs about a microsecond instead of a prefix seek across
// every table (40 % of the CPU of a 10,000-NPC simulation).
func (s *Store) memIndexKey(npcID, playerID string) string {
	return s.ns + "memidx/" + url.PathEscape(npcID) + "/" + url.PathEscape(playerID)
}

func (s *Store) memPrefix(npcID, playerID string) string {
	return s.ns + "mem/" + url.PathEscape(npcID) + "/" + url.PathEscape(playerID) + "/"
}

func (s *Store) memKey(npcID, playerID string, wall int64, seq uint32) string {
	var b [12]byte
	for i := 0; i < 8; i++ {
		b[i] = byte(uint64(wall) >> (56 - 8*i))
	}
	for i := 0; i < 4; i++ {
		b[8+i] = byte(seq >> (24 - 8*i))
	}
	return s.memPrefix(npcID, playerID) + hex.EncodeToString(b[:])
}

// AppendMemories appends recs to the memory stream of (npcID, playerID) in
// one transaction, in order. WallTime is set to now when zero. It returns an
// error when the write fails (disk full, read-only directory); nothing is
// written then.
func (s *Store) AppendMemories(npcID, playerID string, recs ...MemoryRecord) error {
	if npcID == "" || playerID == "" {
		return fmt.Errorf("store: append memories: npc id and player id are required")
	}
	now := time.Now().UnixNano()
	return s.update(func(txn *badger.Txn) error {
		if err := txn.Set([]byte(s.memIndexKey(npcID, playerID)), nil); err != nil {
			return err
		}
		for i := range recs {
			r := recs[i]
			r.NPCID, r.PlayerID = npcID, playerID
			if r.WallTime == 0 {
				r.WallTime = now
			}
			if err := txnSet(txn, s.memKey(npcID, playerID, r.WallTime, memSeq.Add(1)), &r); err != nil {
				return err
			}
		}
		return nil
	})
}

// RecentMemories returns up to n memories of (npcID, playerID), newest
// first. n <= 0 returns all of them.
func (s *Store) RecentMemories(npcID, playerID string, n int) ([]MemoryRecord, error) {
	var out []MemoryRecord
	switch err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get([]byte(s.memIndexKey(npcID, playerID)))
		return err
	}); {
	case errors.Is(err, badger.ErrKeyNotFound):
		return nil, nil // they have never met
	case err != nil:
		return nil, err
	}
	err := s.scan(s.memPrefix(npcID, playerID), true, func(_ []byte, decode func(any) error) (bool, error) {
		var r MemoryRecord
		if err := decode(&r); err != nil {
			return false, fmt.Errorf("store: decode memory of %s/%s: %w", npcID, playerID, err)
		}
		out = append(out, r)
		return n <= 0 || len(out) < n, nil
	})
	return out, err
}

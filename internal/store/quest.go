package store

import (
	"fmt"
	"net/url"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
)

// QuestLogRecord is one quest in a player's quest log. The quest itself is
// kept as the quest package's own msgpack encoding, so this package stays
// ignorant of its type. Times are Unix nanoseconds of game time.
type QuestLogRecord struct {
	QuestID    string `msgpack:"id"`
	State      string `msgpack:"st"`
	Objective  int    `msgpack:"ob"` // index of the current objective
	Progress   []int  `msgpack:"pr"` // per objective
	AcceptedAt int64  `msgpack:"at"`
	UpdatedAt  int64  `msgpack:"up"`
	Deadline   int64  `msgpack:"dl,omitempty"` // 0: none
	Reason     string `msgpack:"rs,omitempty"` // why it failed or was abandoned
	Quest      []byte `msgpack:"q"`
}

// Key layout: [tenant/<tenant>/]quest/log/<player id>/<quest id>.
func (s *Store) questPrefix(playerID string) string {
	return s.ns + "quest/log/" + url.PathEscape(playerID) + "/"
}

// PutQuestLog writes (or replaces) one entry of a player's quest log and
// syncs it to disk before it returns: a quest change is acknowledged to
// the player, so it must survive a crash (docs/security.md, "Crash
// safety"). It returns the store's error, wrapping ErrWriteFailed (disk
// full, read-only directory); the change must not be acknowledged then.
func (s *Store) PutQuestLog(playerID string, r QuestLogRecord) error {
	if playerID == "" || r.QuestID == "" {
		return fmt.Errorf("store: quest log: player id and quest id are required")
	}
	return s.durable(func(txn *badger.Txn) error {
		return txnSet(txn, s.questPrefix(playerID)+url.PathEscape(r.QuestID), &r)
	})
}

// QuestLog returns every entry of a player's quest log, ordered by quest
// id.
func (s *Store) QuestLog(playerID string) ([]QuestLogRecord, error) {
	var out []QuestLogRecord
	err := s.scan(s.questPrefix(playerID), false, func(_ []byte, decode func(any) error) (bool, error) {
		var r QuestLogRecord
		if err := decode(&r); err != nil {
			return false, fmt.Errorf("store: decode quest log of %s: %w", playerID, err)
		}
		out = append(out, r)
		return true, nil
	})
	return out, err
}

// QuestPlayers returns the ids of every player with a quest log, sorted.
// It reads keys only.
func (s *Store) QuestPlayers() ([]string, error) {
	prefix := s.ns + "quest/log/"
	var out []string
	err := s.db.View(func(txn *badger.Txn) error {
		o := badger.DefaultIteratorOptions
		o.Prefix, o.PrefetchValues = []byte(prefix), false
		it := txn.NewIterator(o)
		defer it.Close()
		last := ""
		for it.Rewind(); it.Valid(); it.Next() {
			esc, _, _ := strings.Cut(strings.TrimPrefix(string(it.Item().Key()), prefix), "/")
			if esc == last {
				continue
			}
			last = esc
			id, err := url.PathUnescape(esc)
			if err != nil {
				return err
			}
			out = append(out, id)
		}
		return nil
	})
	return out, err
}

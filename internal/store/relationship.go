package store

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
)

// RelationshipRecord is how one NPC feels about someone else: a player or
// another NPC (DESIGN §7). The pair is directed: what the smith feels about
// the miller is not what the miller feels about the smith. Scores are in
// [-1, 1], 0 neutral; times are Unix nanoseconds.
type RelationshipRecord struct {
	Affinity float64 `msgpack:"a"`           // liking: -1 hatred … 1 devotion
	Trust    float64 `msgpack:"t"`           // -1 expects betrayal … 1 complete trust
	Count    int     `msgpack:"c"`           // interactions that moved it (lines and deeds)
	GameTime int64   `msgpack:"g"`           // game clock of the last change
	Last     string  `msgpack:"l,omitempty"` // kind of the last thing that moved it ("threat", "gift", …)
	WallTime int64   `msgpack:"w"`           // server clock when written
}

// MoodRecord is an NPC's mood: a valence in [-1, 1] (0 even, negative
// upset, positive glad) as of GameTime (Unix ns), from which it decays
// toward the NPC's baseline (npc package).
type MoodRecord struct {
	Valence  float64 `msgpack:"v"`
	GameTime int64   `msgpack:"g"`
	WallTime int64   `msgpack:"w"`
}

// Key layout: [tenant/<tenant>/]rel/<npc id>/<other id> and
// [tenant/<tenant>/]mood/<npc id>, ids path-escaped.
func (s *Store) relPrefix(npcID string) string {
	return s.ns + "rel/" + url.PathEscape(npcID) + "/"
}

func (s *Store) relKey(npcID, otherID string) string {
	return s.relPrefix(npcID) + url.PathEscape(otherID)
}

func (s *Store) moodKey(npcID string) string {
	return s.ns + "mood/" + url.PathEscape(npcID)
}

// Relationship returns what npcID feels about otherID, or ErrNotFound
// when nothing has moved it yet (they are strangers: neutral). A point
// lookup, answered by Badger's bloom filters for strangers.
func (s *Store) Relationship(npcID, otherID string) (RelationshipRecord, error) {
	var r RelationshipRecord
	if npcID == "" || otherID == "" {
		return r, errors.New("store: relationship: npc id and other id are required")
	}
	err := s.get(s.relKey(npcID, otherID), &r)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return r, fmt.Errorf("store: relationship %s/%s: %w", npcID, otherID, err)
	}
	return r, err
}

// Relationships returns every relationship npcID has, by other id
// (sorted by the escaped id).
func (s *Store) Relationships(npcID string) (map[string]RelationshipRecord, error) {
	prefix := s.relPrefix(npcID)
	out := map[string]RelationshipRecord{}
	err := s.scan(prefix, false, func(key []byte, decode func(any) error) (bool, error) {
		other, err := url.PathUnescape(strings.TrimPrefix(string(key), prefix))
		if err != nil {
			return false, fmt.Errorf("store: relationship key %q: %w", key, err)
		}
		var r RelationshipRecord
		if err := decode(&r); err != nil {
			return false, fmt.Errorf("store: decode relationship %s/%s: %w", npcID, other, err)
		}
		out[other] = r
		return true, nil
	})
	return out, err
}

// PutRelationship writes what npcID feels about otherID and, when mood is
// not nil, the NPC's mood, in one transaction. The write is not synced
// before it returns (feelings are an enrichment, like memories: a power
// loss may lose the last Options.SyncInterval of them). Errors wrap
// ErrWriteFailed (disk full, read-only directory); nothing is written then.
func (s *Store) PutRelationship(npcID, otherID string, r RelationshipRecord, mood *MoodRecord) error {
	if npcID == "" || otherID == "" {
		return errors.New("store: put relationship: npc id and other id are required")
	}
	return s.update(func(txn *badger.Txn) error {
		if err := txnSet(txn, s.relKey(npcID, otherID), &r); err != nil {
			return err
		}
		if mood != nil {
			return txnSet(txn, s.moodKey(npcID), mood)
		}
		return nil
	})
}

// Mood returns npcID's stored mood, or ErrNotFound when none was written
// (the NPC is at its baseline).
func (s *Store) Mood(npcID string) (MoodRecord, error) {
	var m MoodRecord
	if npcID == "" {
		return m, errors.New("store: mood: npc id is required")
	}
	err := s.get(s.moodKey(npcID), &m)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return m, fmt.Errorf("store: mood %s: %w", npcID, err)
	}
	return m, err
}

// ResetRelationships replaces every relationship of npcID with rels and
// its mood with mood (nil: no stored mood, the NPC's baseline), in one
// transaction: an NPC snapshot's import. Errors wrap ErrWriteFailed;
// nothing changes then.
func (s *Store) ResetRelationships(npcID string, rels map[string]RelationshipRecord, mood *MoodRecord) error {
	if npcID == "" {
		return errors.New("store: reset relationships: npc id is required")
	}
	old, err := s.Relationships(npcID)
	if err != nil {
		return err
	}
	return s.update(func(txn *badger.Txn) error {
		for other := range old {
			if _, keep := rels[other]; !keep {
				if err := txnDelete(txn, s.relKey(npcID, other)); err != nil {
					return err
				}
			}
		}
		for other, r := range rels {
			if other == "" {
				return errors.New("store: reset relationships: an empty other id")
			}
			if err := txnSet(txn, s.relKey(npcID, other), &r); err != nil {
				return err
			}
		}
		if mood == nil {
			return txnDelete(txn, s.moodKey(npcID))
		}
		return txnSet(txn, s.moodKey(npcID), mood)
	})
}

package store

// Lore persistence: documents, their chunks and the entities they declare.
//
// A document is written with PutDocument in one WriteBatch: Badger splits
// the batch into as many transactions as its size limit needs, so a document
// of any size can be stored, at the price of atomicity. The write order makes
// a crash half-way harmless for the next ingest: stale chunks and entities
// are deleted first, new ones written next, and the DocRecord, whose content
// hash decides whether a file is re-ingested, is written last. A torn write
// therefore leaves the old hash (or none), and the next ingest redoes the
// document. Readers that load everything (AllChunks, AllEntities) should keep
// only the chunks and entities that a DocRecord lists, which drops the
// leftovers of a torn write.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/vmihailenco/msgpack/v5"
)

// Key prefixes of the lore records; see the package comment for the layout.
const (
	loreDocPrefix    = "lore/doc/"
	loreChunkPrefix  = "lore/chunk/"
	loreEntityPrefix = "lore/entity/"
)

// DocRecord is what the store keeps about one ingested lore document, under
// lore/doc/<source>/<path>.
type DocRecord struct {
	Source string `msgpack:"source"` // lore source name, e.g. "srd"; no "/"
	Path   string `msgpack:"path"`   // slash-separated path inside the source
	// Hash is the hex SHA-256 of the file's bytes; an unchanged hash means
	// the file need not be ingested again.
	Hash string `msgpack:"hash"`
	// Version is the version of the parser and chunker that produced the
	// chunks; a different version forces re-ingestion of unchanged files.
	Version    int       `msgpack:"version"`
	ChunkIDs   []string  `msgpack:"chunks"`   // ids of the document's chunks, in order
	EntityIDs  []string  `msgpack:"entities"` // ids of the entities it declares
	IngestedAt time.Time `msgpack:"ingested_at"`
}

// ChunkRecord is one retrievable piece of a lore document, under
// lore/chunk/<id>.
type ChunkRecord struct {
	ID       string   `msgpack:"id"`
	Source   string   `msgpack:"source"`
	DocPath  string   `msgpack:"doc"`
	Seq      int      `msgpack:"seq"` // position in the document, from 0
	Heading  []string `msgpack:"heading"`
	Text     string   `msgpack:"text"`
	Region   string   `msgpack:"region"`
	Tags     []string `msgpack:"tags"`
	Secrecy  int      `msgpack:"secrecy"`
	Entities []string `msgpack:"entities"`
}

// EntityRecord is one entity of the lore registry, under lore/entity/<id>.
// Source and DocPath name the document that declared it (its owner): a
// document only deletes the entities it owns.
type EntityRecord struct {
	ID      string   `msgpack:"id"`
	Type    string   `msgpack:"type"`
	Name    string   `msgpack:"name"`
	Aliases []string `msgpack:"aliases"`
	Tags    []string `msgpack:"tags"`
	Region  string   `msgpack:"region"`
	Source  string   `msgpack:"source"`
	DocPath string   `msgpack:"doc"`
	// Relations maps a relation kind ("located_in", "member_of", "owns",
	// ...) to the ids of the entities it links to. Records written before
	// the field existed decode with a nil map.
	Relations map[string][]string `msgpack:"relations,omitempty"`
}

func docKey(source, path string) string { return loreDocPrefix + source + "/" + path }

func checkSource(source string) error {
	if source == "" || strings.Contains(source, "/") {
		return fmt.Errorf("store: lore source %q: must be non-empty and contain no \"/\"", source)
	}
	return nil
}

func checkDocName(source, path string) error {
	if err := checkSource(source); err != nil {
		return err
	}
	if path == "" {
		return fmt.Errorf("store: lore source %q: empty document path", source)
	}
	return nil
}

// Document returns the record of one document, or ErrNotFound.
func (s *Store) Document(source, path string) (DocRecord, error) {
	if err := checkDocName(source, path); err != nil {
		return DocRecord{}, err
	}
	var d DocRecord
	if err := s.get(docKey(source, path), &d); err != nil {
		if errors.Is(err, ErrNotFound) {
			return DocRecord{}, ErrNotFound
		}
		return DocRecord{}, fmt.Errorf("store: read lore document %s/%s: %w", source, path, err)
	}
	return d, nil
}

// Documents returns the records of all documents of one source, ordered by
// path.
func (s *Store) Documents(source string) ([]DocRecord, error) {
	if err := checkSource(source); err != nil {
		return nil, err
	}
	var out []DocRecord
	err := s.scan(loreDocPrefix+source+"/", false, func(key []byte, decode func(any) error) (bool, error) {
		var d DocRecord
		if err := decode(&d); err != nil {
			return false, fmt.Errorf("store: decode %s: %w", key, err)
		}
		out = append(out, d)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list lore documents of %q: %w", source, err)
	}
	return out, nil
}

// AllDocuments calls fn for every document record of every source, ordered
// by source then path. An error from fn stops the scan and is returned.
func (s *Store) AllDocuments(fn func(DocRecord) error) error {
	return scanTyped(s, loreDocPrefix, fn)
}

// AllChunks calls fn for every stored chunk, in key order. An error from fn
// stops the scan and is returned.
func (s *Store) AllChunks(fn func(ChunkRecord) error) error {
	return scanTyped(s, loreChunkPrefix, fn)
}

// AllEntities calls fn for every stored entity, ordered by id. An error from
// fn stops the scan and is returned.
func (s *Store) AllEntities(fn func(EntityRecord) error) error {
	return scanTyped(s, loreEntityPrefix, fn)
}

func scanTyped[T any](s *Store, prefix string, fn func(T) error) error {
	return s.scan(prefix, false, func(key []byte, decode func(any) error) (bool, error) {
		var v T
		if err := decode(&v); err != nil {
			return false, fmt.Errorf("store: decode %s: %w", key, err)
		}
		if err := fn(v); err != nil {
			return false, err
		}
		return true, nil
	})
}

// PutDocument stores doc with its chunks and entities, replacing what an
// earlier version of the same document (doc.Source, doc.Path) stored: its
// chunks that are not in chunks are deleted, and so are its entities that
// are not in entities, unless another document has declared them since.
// An entity id already owned by another document is taken over (the later
// declaration wins). Chunk ids must be unique across all documents.
//
// The write is split into as many Badger transactions as its size needs; see
// the comment at the top of this file for what a crash half-way leaves.
func (s *Store) PutDocument(doc DocRecord, chunks []ChunkRecord, entities []EntityRecord) error {
	if err := checkDocName(doc.Source, doc.Path); err != nil {
		return err
	}
	name := doc.Source + "/" + doc.Path
	keepChunk := make(map[string]bool, len(chunks))
	for _, c := range chunks {
		if c.ID == "" {
			return fmt.Errorf("store: lore document %s: chunk with empty id", name)
		}
		keepChunk[c.ID] = true
	}
	keepEntity := make(map[string]bool, len(entities))
	for _, e := range entities {
		if e.ID == "" {
			return fmt.Errorf("store: lore document %s: entity with empty id", name)
		}
		keepEntity[e.ID] = true
	}
	var staleKeys []string
	err := s.db.View(func(txn *badger.Txn) error {
		old, found, err := txnGetDoc(txn, doc.Source, doc.Path)
		if err != nil || !found {
			return err
		}
		for _, id := range old.ChunkIDs {
			if !keepChunk[id] {
				staleKeys = append(staleKeys, loreChunkPrefix+id)
			}
		}
		owned, err := txnOwnedEntities(txn, doc.Source, doc.Path, old.EntityIDs)
		if err != nil {
			return err
		}
		for _, id := range owned {
			if !keepEntity[id] {
				staleKeys = append(staleKeys, loreEntityPrefix+id)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: read previous version of lore document %s: %w", name, err)
	}
	err = s.writeBatch(func(w *batchWriter) error {
		for _, k := range staleKeys {
			w.delete(k)
		}
		for i := range chunks {
			w.set(loreChunkPrefix+chunks[i].ID, &chunks[i])
		}
		for i := range entities {
			w.set(loreEntityPrefix+entities[i].ID, &entities[i])
		}
		w.set(docKey(doc.Source, doc.Path), &doc)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: write lore document %s (%d chunks, %d entities): %w", name, len(chunks), len(entities), err)
	}
	return nil
}

// DeleteDocument removes a document's record, its chunks and the entities it
// still owns. Deleting a document that is not stored is not an error.
func (s *Store) DeleteDocument(source, path string) error {
	if err := checkDocName(source, path); err != nil {
		return err
	}
	name := source + "/" + path
	var keys []string
	err := s.db.View(func(txn *badger.Txn) error {
		old, found, err := txnGetDoc(txn, source, path)
		if err != nil || !found {
			return err
		}
		for _, id := range old.ChunkIDs {
			keys = append(keys, loreChunkPrefix+id)
		}
		owned, err := txnOwnedEntities(txn, source, path, old.EntityIDs)
		if err != nil {
			return err
		}
		for _, id := range owned {
			keys = append(keys, loreEntityPrefix+id)
		}
		keys = append(keys, docKey(source, path))
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: read lore document %s before deleting it: %w", name, err)
	}
	if len(keys) == 0 {
		return nil
	}
	err = s.writeBatch(func(w *batchWriter) error {
		for _, k := range keys {
			w.delete(k)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete lore document %s: %w", name, err)
	}
	return nil
}

func txnGetDoc(txn *badger.Txn, source, path string) (DocRecord, bool, error) {
	var d DocRecord
	found, err := txnGet(txn, docKey(source, path), &d)
	return d, found, err
}

// txnOwnedEntities returns those of ids whose stored entity is owned by the
// document source/path.
func txnOwnedEntities(txn *badger.Txn, source, path string, ids []string) ([]string, error) {
	var owned []string
	for _, id := range ids {
		var e EntityRecord
		found, err := txnGet(txn, loreEntityPrefix+id, &e)
		if err != nil {
			return nil, err
		}
		if found && e.Source == source && e.DocPath == path {
			owned = append(owned, id)
		}
	}
	return owned, nil
}

// txnGet decodes the value under key into v inside txn; found is false when
// the key has no value.
func txnGet(txn *badger.Txn, key string, v any) (found bool, err error) {
	it, err := txn.Get([]byte(key))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := it.Value(func(b []byte) error { return msgpack.Unmarshal(b, v) }); err != nil {
		return false, fmt.Errorf("store: decode %s: %w", key, err)
	}
	return true, nil
}

// batchWriter collects the sets and deletes of one writeBatch; the first
// error sticks and later calls do nothing.
type batchWriter struct {
	wb  *badger.WriteBatch
	err error
}

func (w *batchWriter) set(key string, v any) {
	if w.err != nil {
		return
	}
	b, err := msgpack.Marshal(v)
	if err != nil {
		w.err = fmt.Errorf("store: encode %s: %w", key, err)
		return
	}
	if err := w.wb.Set([]byte(key), b); err != nil {
		w.err = fmt.Errorf("store: set %s: %w", key, err)
	}
}

func (w *batchWriter) delete(key string) {
	if w.err != nil {
		return
	}
	if err := w.wb.Delete([]byte(key)); err != nil {
		w.err = fmt.Errorf("store: delete %s: %w", key, err)
	}
}

// writeBatch runs fn against a Badger WriteBatch and flushes it. Unlike
// update, the writes may span several transactions (Badger commits one each
// time its transaction size limit is reached), so use it for bulk writes
// whose partial application the caller can tolerate, ordered so that the
// last write is the one that makes the others count.
func (s *Store) writeBatch(fn func(w *batchWriter) error) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel() // no-op after a successful Flush
	w := &batchWriter{wb: wb}
	if err := fn(w); err != nil {
		return err
	}
	if w.err != nil {
		return w.err
	}
	return wb.Flush()
}

package store

// Embedding persistence: the cache of text embeddings and the trained
// embedding models (the built-in LSA model of package lore).
//
// Embeddings are cached by model name and text hash, so that a restart, or
// a re-ingest of an unchanged chunk, does not embed again, and so that two
// models (of the same or of different dimensions) never share an entry.
// Vectors are stored as little-endian IEEE-754 float32 bytes, which decode
// an order of magnitude faster than a msgpack array of floats.

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/url"
	"strings"
	"time"
)

// Key prefixes of the embedding records; see the package comment for the
// layout. Model names are path-escaped (url.PathEscape) in keys, so a model
// name containing "/" cannot make one model's prefix cover another's.
const (
	embedVecPrefix   = "embed/vec/"
	embedModelPrefix = "embed/model/"
	embedPartPrefix  = "embed/part/"
)

// modelPartBytes is the size of the parts a model's large fields are
// split into: Badger rejects values over 1 MiB in some configurations
// (in-memory stores among them).
const modelPartBytes = 512 << 10

// modelHeader is the header stored under embed/model/<slot>: the record
// without its large fields, which follow in parts under
// embed/part/<slot>/<n> (n: 8 hex digits), concatenated in order:
// Terms (NUL-separated), then Weights, then Projection.
type modelHeader struct {
	Rec       EmbedModelRecord `msgpack:"rec"`
	TermBytes int              `msgpack:"term_bytes"`
	WeightLen int              `msgpack:"weight_len"`
	ProjLen   int              `msgpack:"proj_len"`
	Parts     int              `msgpack:"parts"`
}

// embeddingRecord is one cached embedding, under embed/vec/<model>/<hash>.
type embeddingRecord struct {
	Vec []byte `msgpack:"v"` // little-endian float32s
}

// EmbedModelRecord is a trained embedding model, under embed/model/<Name>.
// Package lore writes its LSA model here: the vocabulary, the per-term
// weights (idf) and the term projection, so that a restart does not retrain.
type EmbedModelRecord struct {
	Name  string `msgpack:"name"`  // the model's slot, e.g. "lsa"
	Model string `msgpack:"model"` // the model's full name, which keys its embedding cache
	Dim   int    `msgpack:"dim"`   // dimension of the embeddings
	// Terms is the vocabulary, in projection row order.
	Terms []string `msgpack:"terms"`
	// Weights holds one float32 per term (the idf), little-endian.
	Weights []byte `msgpack:"weights"`
	// Projection holds len(Terms)×Dim float32s, row-major, little-endian.
	Projection []byte `msgpack:"proj"`
	// Corpus lists 64-bit hashes of the texts the model was trained on, so
	// that the trainer can tell how much the corpus changed since.
	Corpus    []uint64          `msgpack:"corpus"`
	Params    map[string]string `msgpack:"params"` // training parameters, for the record
	TrainedAt time.Time         `msgpack:"trained_at"`
}

// Float32Bytes encodes v as little-endian float32s (4 bytes each).
func Float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

// BytesFloat32 decodes little-endian float32s; it fails when len(b) is not
// a multiple of 4.
func BytesFloat32(b []byte) ([]float32, error) {
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("store: float32 data of %d bytes is not a multiple of 4", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

func embedModelPath(model string) (string, error) {
	if model == "" {
		return "", errors.New("store: empty embedding model name")
	}
	return embedVecPrefix + url.PathEscape(model) + "/", nil
}

func checkTextHash(hash string) error {
	if hash == "" || strings.Contains(hash, "/") {
		return fmt.Errorf("store: embedding text hash %q: must be non-empty and contain no \"/\"", hash)
	}
	return nil
}

// PutEmbeddings caches vecs[i] as the embedding of the text whose hash is
// hashes[i] under model. The write may span several transactions; each
// entry is whole on its own.
func (s *Store) PutEmbeddings(model string, hashes []string, vecs [][]float32) error {
	prefix, err := embedModelPath(model)
	if err != nil {
		return err
	}
	if len(hashes) != len(vecs) {
		return fmt.Errorf("store: PutEmbeddings: %d hashes for %d vectors", len(hashes), len(vecs))
	}
	for _, h := range hashes {
		if err := checkTextHash(h); err != nil {
			return err
		}
	}
	err = s.writeBatch(func(w *batchWriter) error {
		for i, h := range hashes {
			w.set(prefix+h, &embeddingRecord{Vec: Float32Bytes(vecs[i])})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: write %d embeddings of model %q: %w", len(hashes), model, err)
	}
	return nil
}

// Embedding returns the cached embedding of the text with hash under model,
// or ErrNotFound.
func (s *Store) Embedding(model, hash string) ([]float32, error) {
	prefix, err := embedModelPath(model)
	if err != nil {
		return nil, err
	}
	if err := checkTextHash(hash); err != nil {
		return nil, err
	}
	var r embeddingRecord
	if err := s.get(prefix+hash, &r); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: read embedding %s of model %q: %w", hash, model, err)
	}
	return BytesFloat32(r.Vec)
}

// Embeddings calls fn for every embedding cached under model, ordered by
// text hash. vec is fn's to keep. An error from fn stops the scan and is
// returned.
func (s *Store) Embeddings(model string, fn func(hash string, vec []float32) error) error {
	prefix, err := embedModelPath(model)
	if err != nil {
		return err
	}
	return s.scan(prefix, false, func(key []byte, decode func(any) error) (bool, error) {
		var r embeddingRecord
		if err := decode(&r); err != nil {
			return false, fmt.Errorf("store: decode %s: %w", key, err)
		}
		v, err := BytesFloat32(r.Vec)
		if err != nil {
			return false, fmt.Errorf("store: decode %s: %w", key, err)
		}
		if err := fn(string(key[len(prefix):]), v); err != nil {
			return false, err
		}
		return true, nil
	})
}

// DeleteEmbeddings drops every embedding cached under model and returns how
// many there were.
func (s *Store) DeleteEmbeddings(model string) (int, error) {
	prefix, err := embedModelPath(model)
	if err != nil {
		return 0, err
	}
	var keys []string
	err = s.scan(prefix, false, func(key []byte, _ func(any) error) (bool, error) {
		keys = append(keys, string(key))
		return true, nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: list embeddings of model %q: %w", model, err)
	}
	err = s.writeBatch(func(w *batchWriter) error {
		for _, k := range keys {
			w.delete(k)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete embeddings of model %q: %w", model, err)
	}
	return len(keys), nil
}

// PutEmbedModel stores m under embed/model/<m.Name>, replacing the model
// stored there before. Its large fields are split into parts of 512 KiB
// (see modelHeader); the header, written last, makes them count, so a
// crash half-way leaves the previous header, whose parts may then be
// overwritten: EmbedModel reports such a torn model as an error.
func (s *Store) PutEmbedModel(m EmbedModelRecord) error {
	if m.Name == "" || strings.Contains(m.Name, "/") {
		return fmt.Errorf("store: embedding model slot %q: must be non-empty and contain no \"/\"", m.Name)
	}
	terms := strings.Join(m.Terms, "\x00")
	blob := make([]byte, 0, len(terms)+len(m.Weights)+len(m.Projection))
	blob = append(append(append(blob, terms...), m.Weights...), m.Projection...)
	h := modelHeader{Rec: m, TermBytes: len(terms), WeightLen: len(m.Weights), ProjLen: len(m.Projection)}
	h.Rec.Terms, h.Rec.Weights, h.Rec.Projection = nil, nil, nil
	h.Rec.Params = maps.Clone(m.Params)
	h.Rec.Params["sha256"] = fmt.Sprintf("%x", sha256.Sum256(blob))
	h.Parts = (len(blob) + modelPartBytes - 1) / modelPartBytes
	var old modelHeader
	if err := s.get(embedModelPrefix+m.Name, &old); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: write embedding model %q: %w", m.Name, err)
	}
	err := s.writeBatch(func(w *batchWriter) error {
		for i := range h.Parts {
			part := blob[i*modelPartBytes : min((i+1)*modelPartBytes, len(blob))]
			w.set(fmt.Sprintf("%s%s/%08x", embedPartPrefix, m.Name, i), part)
		}
		return nil
	})
	if err == nil {
		err = s.put(embedModelPrefix+m.Name, &h)
	}
	if err == nil && old.Parts > h.Parts { // drop the parts the new model does not use
		err = s.writeBatch(func(w *batchWriter) error {
			for i := h.Parts; i < old.Parts; i++ {
				w.delete(fmt.Sprintf("%s%s/%08x", embedPartPrefix, m.Name, i))
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("store: write embedding model %q: %w", m.Name, err)
	}
	return nil
}

// EmbedModel returns the model stored in slot name, or ErrNotFound.
func (s *Store) EmbedModel(name string) (EmbedModelRecord, error) {
	var h modelHeader
	if err := s.get(embedModelPrefix+name, &h); err != nil {
		if errors.Is(err, ErrNotFound) {
			return EmbedModelRecord{}, ErrNotFound
		}
		return EmbedModelRecord{}, fmt.Errorf("store: read embedding model %q: %w", name, err)
	}
	blob := make([]byte, 0, h.TermBytes+h.WeightLen+h.ProjLen)
	for i := range h.Parts {
		var part []byte
		if err := s.get(fmt.Sprintf("%s%s/%08x", embedPartPrefix, name, i), &part); err != nil {
			return EmbedModelRecord{}, fmt.Errorf("store: read embedding model %q part %d: %w", name, i, err)
		}
		blob = append(blob, part...)
	}
	if len(blob) != h.TermBytes+h.WeightLen+h.ProjLen || fmt.Sprintf("%x", sha256.Sum256(blob)) != h.Rec.Params["sha256"] {
		return EmbedModelRecord{}, fmt.Errorf("store: embedding model %q is torn (a write was interrupted); it must be rebuilt", name)
	}
	m := h.Rec
	delete(m.Params, "sha256")
	if h.TermBytes > 0 {
		m.Terms = strings.Split(string(blob[:h.TermBytes]), "\x00")
	}
	m.Weights = blob[h.TermBytes : h.TermBytes+h.WeightLen]
	m.Projection = blob[h.TermBytes+h.WeightLen:]
	return m, nil
}

// Vector index graphs: package lore persists its HNSW graph so that a
// restart need not rebuild it. A graph is an opaque byte string with a
// fingerprint of what it indexes; it is split into parts like a model.
const (
	embedGraphPrefix     = "embed/graph/"
	embedGraphPartPrefix = "embed/gpart/"
)

type graphHeader struct {
	Fingerprint string `msgpack:"fp"`
	Len         int    `msgpack:"len"`
	Parts       int    `msgpack:"parts"`
	Sum         string `msgpack:"sha256"`
}

// PutEmbedGraph stores data under embed/graph/<name> (parts under
// embed/gpart/<name>/<n>) with its fingerprint, replacing the graph stored
// there before.
func (s *Store) PutEmbedGraph(name, fingerprint string, data []byte) error {
	if name == "" || strings.Contains(name, "/") {
		return fmt.Errorf("store: graph name %q: must be non-empty and contain no \"/\"", name)
	}
	h := graphHeader{Fingerprint: fingerprint, Len: len(data), Parts: (len(data) + modelPartBytes - 1) / modelPartBytes,
		Sum: fmt.Sprintf("%x", sha256.Sum256(data))}
	var old graphHeader
	if err := s.get(embedGraphPrefix+name, &old); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: write graph %q: %w", name, err)
	}
	err := s.writeBatch(func(w *batchWriter) error {
		for i := range h.Parts {
			w.set(fmt.Sprintf("%s%s/%08x", embedGraphPartPrefix, name, i), data[i*modelPartBytes:min((i+1)*modelPartBytes, len(data))])
		}
		return nil
	})
	if err == nil {
		err = s.put(embedGraphPrefix+name, &h)
	}
	if err == nil && old.Parts > h.Parts { // drop the parts the new graph does not use
		err = s.writeBatch(func(w *batchWriter) error {
			for i := h.Parts; i < old.Parts; i++ {
				w.delete(fmt.Sprintf("%s%s/%08x", embedGraphPartPrefix, name, i))
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("store: write graph %q: %w", name, err)
	}
	return nil
}

// EmbedGraph returns the graph stored under name and its fingerprint, or
// ErrNotFound; a torn graph (interrupted write) is an error.
func (s *Store) EmbedGraph(name string) (fingerprint string, data []byte, err error) {
	var h graphHeader
	if err := s.get(embedGraphPrefix+name, &h); err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", nil, ErrNotFound
		}
		return "", nil, fmt.Errorf("store: read graph %q: %w", name, err)
	}
	data = make([]byte, 0, h.Len)
	for i := range h.Parts {
		var part []byte
		if err := s.get(fmt.Sprintf("%s%s/%08x", embedGraphPartPrefix, name, i), &part); err != nil {
			return "", nil, fmt.Errorf("store: read graph %q part %d: %w", name, i, err)
		}
		data = append(data, part...)
	}
	if len(data) != h.Len || fmt.Sprintf("%x", sha256.Sum256(data)) != h.Sum {
		return "", nil, fmt.Errorf("store: graph %q is torn (a write was interrupted); it must be rebuilt", name)
	}
	return h.Fingerprint, data, nil
}

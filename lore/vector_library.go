package lore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/hearth-ai/hearth/internal/store"
)

// Options configures OpenWith. The zero value is Open: BM25 only.
type Options struct {
	// Embedder, when set, gives the library vector and hybrid search with
	// this embedder (for example an OpenAIEmbedder). Its vectors are cached
	// in the store by model name and text hash.
	Embedder Embedder
	// LSA, when Embedder is nil, gives the library the built-in LSA
	// embedder, trained on the library's own chunks and persisted in the
	// store; see LSARetrainShare for when it is retrained.
	LSA bool
	// LSAConfig configures LSA training; the zero value is the default.
	LSAConfig LSAConfig
	// Search holds the defaults of Library.Search (mode, MMR). The zero
	// value is hybrid search without diversification when the library has
	// an embedder.
	Search SearchOptions
	// EmbedTimeout bounds, for an Embedder (not the built-in LSA, which
	// does no I/O), the embedding of one ingest's new chunks and of each
	// query. Default 30 s for ingests and 5 s for queries.
	EmbedTimeout time.Duration
}

// LSARetrainShare is the retraining policy of the built-in LSA embedder:
// after an ingest, the model is retrained on the whole corpus when the
// chunk texts added or removed since it was trained are more than this
// share of the corpus (of the larger of the trained and current corpus).
// Below it, new chunks are embedded with the existing model (their words
// outside its vocabulary are ignored), so small edits cost no retraining
// and keep every cached embedding valid. Retraining changes the model name
// (it hashes the corpus), so every chunk is re-embedded and the old model's
// cache is deleted.
const LSARetrainShare = 0.2

// embedBatch is the number of texts per Embed call.
const embedBatch = 256

// vectors is the vector half of a library snapshot: the embedder whose
// vectors are indexed and the index, whose rows are the passages of the
// BM25 index's chunks, in chunk order (see passages).
type vectors struct {
	emb   Embedder
	index *vectorIndex
	rows  map[string]uint32 // chunk id → chunk index (in the BM25 index and index.first)
	hash  []string          // row (passage) → text hash
	// embedded is how many texts this build sent to the embedder (the
	// others came from the previous index or the store's cache).
	embedded int
}

// OpenWith opens the library persisted in st like Open, and gives it an
// embedder (opts.Embedder or the built-in LSA): chunk embeddings are loaded
// from the store's cache, and only chunks missing from it are embedded (so
// a restart embeds nothing). A library with an embedder searches hybrid by
// default. ctx bounds the embedding done here.
func OpenWith(ctx context.Context, st *store.Store, logger *slog.Logger, opts Options) (*Library, error) {
	l, err := Open(st, logger)
	if err != nil {
		return nil, err
	}
	l.opts = opts
	if opts.Embedder == nil && !opts.LSA {
		return l, nil
	}
	if opts.Embedder == nil {
		rec, err := st.EmbedModel(lsaSlot)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			m, err := lsaFromRecord(rec)
			switch {
			case err != nil:
				l.log.Warn("lore: stored LSA model unusable; retraining", "err", err)
			case m.requested != opts.LSAConfig.key():
				l.log.Info("lore: LSA configuration changed; retraining", "stored", m.requested, "wanted", opts.LSAConfig.key())
			default:
				l.lsa = m
			}
		}
	}
	l.ingestMu.Lock()
	defer l.ingestMu.Unlock()
	l.mu.RLock()
	ix := l.idx
	l.mu.RUnlock()
	vec, err := l.buildVectors(ctx, ix, nil)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.vec = vec
	l.mu.Unlock()
	return l, nil
}

// Embedder returns the embedder whose vectors the library searches now, or
// nil when it has none (BM25 only, or the LSA not yet trained).
func (l *Library) Embedder() Embedder {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.vec == nil {
		return nil
	}
	return l.vec.emb
}

// buildVectors embeds the chunks of ix (from prev's rows and the store's
// cache where it can) and indexes them. It is called with ingestMu held. It
// returns nil, nil for a library without an embedder, and an error only
// when embedding fails; chunks it could not embed are then left out of the
// vector index (BM25 still finds them) and retried at the next ingest.
func (l *Library) buildVectors(ctx context.Context, ix *index, prev *vectors) (*vectors, error) {
	if l.opts.Embedder == nil && !l.opts.LSA {
		return nil, nil
	}
	n := len(ix.chunks)
	chunkTexts := make([]string, n) // whole-chunk texts: the LSA training corpus
	first := make([]uint32, n+1)
	var texts, hashes []string // per row (passage)
	for i, c := range ix.chunks {
		first[i] = uint32(len(texts))
		ps := passages(&c.chunk)
		chunkTexts[i] = ps[0]
		for _, p := range ps {
			texts = append(texts, p)
			hashes = append(hashes, textHash(p))
		}
	}
	first[n] = uint32(len(texts))
	rows := len(texts)
	emb := l.opts.Embedder
	if emb == nil {
		if err := l.trainLSA(ctx, chunkTexts); err != nil {
			return nil, err
		}
		if l.lsa == nil { // too small a corpus to train on
			return nil, nil
		}
		emb = l.lsa
	}
	dim := emb.Dim()
	if dim <= 0 {
		return nil, fmt.Errorf("lore: embedder %q has dimension %d", emb.Model(), dim)
	}
	v := &vectors{emb: emb, rows: make(map[string]uint32, n), hash: hashes}
	for i, c := range ix.chunks {
		v.rows[c.chunk.ID] = uint32(i)
	}
	vecs := make([]float32, rows*dim)
	has := make([]bool, rows)
	want := map[string][]int{} // text hash → rows still to fill
	var reuse map[string]uint32
	if prev != nil && prev.emb.Model() == emb.Model() && prev.index.dim == dim {
		reuse = make(map[string]uint32, len(prev.hash))
		for r, h := range prev.hash {
			if prev.index.has[r] {
				reuse[h] = uint32(r)
			}
		}
	}
	for r, h := range hashes {
		if pr, ok := reuse[h]; ok {
			copy(vecs[r*dim:], prev.index.row(pr))
			has[r] = true
			continue
		}
		want[h] = append(want[h], r)
	}
	fill := func(h string, vec []float32) bool {
		if len(vec) != dim || !normalize(vec) {
			return false
		}
		for _, i := range want[h] {
			copy(vecs[i*dim:], vec)
			has[i] = true
		}
		delete(want, h)
		return true
	}
	if len(want) > 0 {
		// The store's cache: one scan when much is missing (a restart),
		// point reads otherwise.
		var err error
		stale := 0
		if len(want) > rows/4 {
			err = l.st.Embeddings(emb.Model(), func(h string, vec []float32) error {
				if _, ok := want[h]; ok && !fill(h, vec) {
					stale++
				}
				return nil
			})
		} else {
			for h := range want {
				vec, gerr := l.st.Embedding(emb.Model(), h)
				if errors.Is(gerr, store.ErrNotFound) {
					continue
				}
				if gerr != nil {
					err = gerr
					break
				}
				if !fill(h, vec) {
					stale++
				}
			}
		}
		if err != nil {
			return nil, fmt.Errorf("lore: read embedding cache: %w", err)
		}
		if stale > 0 {
			l.log.Warn("lore: cached embeddings of another dimension ignored; re-embedding", "model", emb.Model(), "count", stale, "dim", dim)
		}
	}
	var embedErr error
	if len(want) > 0 {
		todo := make([]string, 0, len(want))
		for h := range want {
			todo = append(todo, h)
		}
		slices.Sort(todo) // deterministic batches
		// The timeout bounds a remote embedder; the built-in LSA does no
		// I/O and embeds as fast as the CPU allows (ctx still cancels it).
		ectx := ctx
		if _, local := emb.(*LSA); !local {
			timeout := l.opts.EmbedTimeout
			if timeout <= 0 {
				timeout = 30 * time.Second
			}
			var cancel context.CancelFunc
			ectx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		for start := 0; start < len(todo); start += embedBatch {
			batch := todo[start:min(start+embedBatch, len(todo))]
			in := make([]string, len(batch))
			for j, h := range batch {
				in[j] = texts[want[h][0]]
			}
			out, err := emb.Embed(ectx, in)
			if err == nil {
				err = checkEmbeddings(emb, len(in), out)
			}
			if err != nil {
				embedErr = fmt.Errorf("lore: embed %d chunks with %q: %w", len(todo)-start, emb.Model(), err)
				break
			}
			v.embedded += len(in)
			keep := batch[:0:0]
			var keepVecs [][]float32
			for j, h := range batch {
				if fill(h, out[j]) {
					keep = append(keep, h)
					keepVecs = append(keepVecs, out[j])
				}
			}
			if err := l.st.PutEmbeddings(emb.Model(), keep, keepVecs); err != nil {
				embedErr = err
				break
			}
		}
	}
	v.index = indexRows(dim, vecs, has, first)
	var prevIndex *vectorIndex
	var prevHashes []string
	if reuse != nil {
		prevIndex, prevHashes = prev.index, prev.hash
	}
	l.attachGraph(v.index, graphSlot, graphFingerprint(emb.Model(), dim, hashes, has, graphSeed), hashes, prevIndex, prevHashes)
	if embedErr != nil {
		l.log.Warn("lore: some chunks are not embedded; vector search skips them until the next ingest",
			"model", emb.Model(), "err", embedErr)
	}
	return v, nil
}

// trainLSA (re)trains the library's LSA model when it has none or the
// corpus changed by more than LSARetrainShare, persists it, and drops the
// cache of the model it replaces. A corpus of fewer than two chunks leaves
// the library without a model.
func (l *Library) trainLSA(ctx context.Context, texts []string) error {
	if len(texts) < 2 {
		return nil
	}
	h := make([]uint64, len(texts))
	for i, t := range texts {
		h[i] = textHash64(t)
	}
	if l.lsa != nil && l.lsa.changed(h) <= LSARetrainShare {
		return nil
	}
	start := time.Now()
	m, err := TrainLSA(ctx, texts, l.opts.LSAConfig)
	if err != nil {
		return err
	}
	old := ""
	if l.lsa != nil {
		old = l.lsa.Model()
	} else if rec, err := l.st.EmbedModel(lsaSlot); err == nil {
		old = rec.Model // a stored model not loaded (another configuration)
	}
	if err := l.st.PutEmbedModel(m.record()); err != nil {
		return err
	}
	if old != "" && old != m.Model() {
		if _, err := l.st.DeleteEmbeddings(old); err != nil {
			l.log.Warn("lore: could not drop the old LSA model's embedding cache", "model", old, "err", err)
		}
	}
	l.lsa = m
	l.log.Debug("lore: LSA trained", "model", m.Model(), "chunks", len(texts), "terms", m.Terms(), "duration", time.Since(start))
	return nil
}

// vectorsFor returns the vector half of the snapshot whose BM25 index is
// ix, for apply (ingestMu held): nil without an embedder, or when the
// embedding cache cannot be read or the LSA cannot be trained (logged; the
// library then searches BM25 only until the next ingest).
func (l *Library) vectorsFor(ix *index) *vectors {
	if l.opts.Embedder == nil && !l.opts.LSA {
		return nil
	}
	v, err := l.buildVectors(context.Background(), ix, l.vec)
	if err != nil {
		l.log.Warn("lore: no vector index; searching BM25 only until the next ingest", "err", err)
		return nil
	}
	return v
}

package lore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hearth-ai/hearth/internal/store"
)

// Chunk is one retrievable piece of lore: a section of a document under
// one heading path, or a part of a long section.
type Chunk struct {
	ID              string   // "<source>:<docpath>#<n>", stable across re-ingests of the same content
	Source, DocPath string   // lore source name and slash-separated path inside it
	Heading         []string // heading path, outermost first, e.g. ["Monsters A–Z","Aboleth"]
	Text            string   // Markdown with emphasis markers (** * _ `) stripped; list bullets and table rows kept as lines
	Region          string   // from the document's front matter; "" = everywhere
	Tags            []string // knowledge tags from the front matter; none = common knowledge
	Secrecy         int      // from the front matter; 0 = common knowledge
	Entities        []string // entity ids declared by the document
}

// Filter is a knowledge filter applied inside the search: chunks failing it
// are never scored, so they cannot crowd out the chunks an NPC may know.
//
// Empty slices mean no restriction. A chunk with no region passes any
// Regions filter; a chunk with no tags passes any Tags filter (common
// knowledge); a chunk with tags passes when at least one of them is listed.
// Regions and Tags compare case-insensitively, Sources exactly. A chunk's
// Secrecy must be <= MaxSecrecy, so the zero Filter sees only common
// knowledge (secrecy 0) of every source, region and tag.
type Filter struct {
	Sources, Regions, Tags []string
	MaxSecrecy             int
}

// Hit is one search result. Score depends on the SearchMode (the BM25F
// score, a cosine similarity, or a reciprocal-rank-fusion score): higher
// is better, and scores are only comparable within one search. Chunk is a copy the caller
// may modify.
type Hit struct {
	Chunk Chunk
	Score float64
}

// IngestReport says what one ingest of a source did.
type IngestReport struct {
	Source string
	// Documents is how many documents of the source the library holds after
	// the ingest (including files that failed this time but had an earlier
	// good version).
	Documents int
	Skipped   int // files unchanged since the last ingest (same content hash)
	Updated   int // new or changed files (re-)ingested
	Removed   int // documents whose file is gone from the folder
	Chunks    int // chunks of the source after the ingest
	Entities  int // entities the source's documents declare after the ingest
	// Errors lists the files that could not be ingested; each was logged and
	// skipped, and its earlier version, if any, kept.
	Errors []FileError
	// Warnings lists files that were ingested but deserve a look: empty
	// files (ErrEmptyFile) and entity ids another document also declares
	// (ErrDuplicateEntity). Each was logged too.
	Warnings []FileError
	Duration time.Duration // wall time of the ingest
}

// Stats counts what a Library holds.
type Stats struct {
	Documents, Chunks, Entities int
	Terms                       int // distinct index terms
}

// Library is the lore of a world: documents chunked and indexed for BM25
// search, and the registry of the entities they declare, persisted in a
// store. It is safe for concurrent use: searches run in parallel with each
// other and with an ingest (which swaps in a new index when it ends);
// ingests run one at a time. Use one Library per store.
type Library struct {
	st  *store.Store
	log *slog.Logger
	reg *Registry

	ingestMu sync.Mutex // serialises ingests

	mu   sync.RWMutex
	docs map[docKey]*docState // written only with ingestMu held
	idx  *index
	vec  *vectors // vector half of the snapshot (rows = idx.chunks); nil without an embedder; written only with ingestMu held

	opts Options // from OpenWith
	lsa  *LSA    // the built-in embedder, when opts.LSA; used only with ingestMu held
}

type docKey struct{ source, path string }

func (k docKey) compare(o docKey) int {
	return cmp.Or(strings.Compare(k.source, o.source), strings.Compare(k.path, o.path))
}

// docState is an ingested document in memory.
type docState struct {
	chunks    []*indexedChunk
	entityIDs []string
}

// Open loads the lore persisted in st (documents, chunks, entities) and
// builds the in-memory BM25 index. A nil logger means slog.Default(). The
// Library does not own st: close st after the last use of the Library.
// Chunks and entities that no document record lists (left by a crash in
// the middle of a write) are ignored and counted in a warning.
func Open(st *store.Store, logger *slog.Logger) (*Library, error) {
	if st == nil {
		return nil, errors.New("lore: Open: nil store")
	}
	if logger == nil {
		logger = slog.Default()
	}
	l := &Library{st: st, log: logger, reg: newRegistry(), docs: map[docKey]*docState{}}
	type slot struct {
		key docKey
		seq int
	}
	wanted := map[string]slot{}
	err := st.AllDocuments(func(d store.DocRecord) error {
		k := docKey{d.Source, d.Path}
		l.docs[k] = &docState{chunks: make([]*indexedChunk, len(d.ChunkIDs)), entityIDs: d.EntityIDs}
		for i, id := range d.ChunkIDs {
			wanted[id] = slot{k, i}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lore: load documents: %w", err)
	}
	orphans := 0
	err = st.AllChunks(func(c store.ChunkRecord) error {
		s, ok := wanted[c.ID]
		if !ok {
			orphans++
			return nil
		}
		l.docs[s.key].chunks[s.seq] = analyze(chunkFromRecord(c))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lore: load chunks: %w", err)
	}
	missing := 0
	for _, d := range l.docs {
		if slices.Contains(d.chunks, nil) {
			missing += len(d.chunks)
			d.chunks = slices.DeleteFunc(d.chunks, func(c *indexedChunk) bool { return c == nil })
			missing -= len(d.chunks)
		}
	}
	var entities []Entity
	err = st.AllEntities(func(e store.EntityRecord) error {
		// Keep an entity only when the document it names as owner lists it.
		if d, ok := l.docs[docKey{e.Source, e.DocPath}]; !ok || !slices.Contains(d.entityIDs, e.ID) {
			orphans++
			return nil
		}
		entities = append(entities, entityFromRecord(e))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lore: load entities: %w", err)
	}
	if orphans > 0 || missing > 0 {
		logger.Warn("lore: store holds leftovers of an interrupted ingest; re-ingest the sources to repair",
			"unlisted_records", orphans, "missing_chunks", missing)
	}
	l.reg.load(entities)
	l.idx = buildIndex(flatten(l.docs))
	return l, nil
}

// flatten lists the chunks of docs in (source, path, seq) order, which is
// the index order and so the tie-break order of search results.
func flatten(docs map[docKey]*docState) []*indexedChunk {
	keys := slices.SortedFunc(maps.Keys(docs), docKey.compare)
	n := 0
	for _, k := range keys {
		n += len(docs[k].chunks)
	}
	out := make([]*indexedChunk, 0, n)
	for _, k := range keys {
		out = append(out, docs[k].chunks...)
	}
	return out
}

// Entities returns the entity registry. It stays current across ingests.
func (l *Library) Entities() *Registry { return l.reg }

// Stats returns what the library holds now.
func (l *Library) Stats() Stats {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return Stats{Documents: len(l.docs), Chunks: len(l.idx.chunks), Entities: l.reg.Len(), Terms: len(l.idx.terms)}
}

// Search returns up to k chunks that best match query, best first,
// considering only chunks that pass f. A library opened with Open ranks by
// BM25; one opened by OpenWith with an embedder ranks hybrid by default
// (BM25 and vectors fused by reciprocal rank fusion; see SearchWith and
// Options.Search). It returns nil when k <= 0 or the query has no
// searchable word (only stopwords, say). It is safe to call concurrently
// with other searches and with ingests. BM25 search does no I/O: on the
// whole SRD (about 2,700 chunks) it takes under 10 µs; hybrid search with
// the built-in LSA embedder does no I/O either, while a remote embedder
// costs a request per query.
func (l *Library) Search(query string, k int, f Filter) []Hit {
	return l.SearchWith(query, k, f, SearchOptions{})
}

var sourceNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// IngestDir ingests the lore files under the folder dir as source; see
// IngestFS. It fails when dir does not exist or is not a folder (it does not
// take a missing folder to mean that every document was deleted).
func (l *Library) IngestDir(ctx context.Context, source, dir string, opts ...IngestOption) (IngestReport, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return IngestReport{Source: source}, fmt.Errorf("lore: ingest source %q: %w", source, err)
	}
	if !fi.IsDir() {
		return IngestReport{Source: source}, fmt.Errorf("lore: ingest source %q: %s is not a folder", source, dir)
	}
	return l.IngestFS(ctx, source, os.DirFS(dir), ".", opts...)
}

// IngestFS brings source up to date with the lore files under root in fsys:
//
//   - *.md and *.markdown: Markdown, with or without YAML front matter,
//     chunked along its headings (see ChunkTokens); creatures, spells and
//     magic items written as the SRD writes them become entities too;
//   - *.txt: plain text, optionally with front matter, chunked by
//     paragraphs;
//   - *.entities.yaml, *.entities.yml, *.entities.json: entity lists, whose
//     descriptions become chunks.
//
// Other files and names starting with "." are ignored. Document paths are
// relative to root, so ingest a source from the same root every time.
//
// A file whose content hash matches its last ingest is skipped; a new or
// changed file replaces its chunks and entities; a document whose file is
// gone is removed (only after a complete walk, and never for a folder that
// could not be listed). When a removed document owned an entity id that an
// unchanged document of the source also declares, that document is read
// again so that its declaration takes over.
//
// Bad input is reported per file, with the file's path and line, and never
// stops the ingest. These files are skipped, keeping their earlier version
// (listed in the report's Errors): binary files, that is files holding a
// NUL byte or starting with a UTF-16/UTF-32 byte order mark (ErrBinary);
// invalid UTF-8 (ErrInvalidUTF8); a Markdown or text line over
// MaxLineBytes (ErrLineTooLong); a file over MaxFileBytes
// (ErrFileTooLarge); malformed front matter or entity files, including an
// entity id declared twice in one file (ErrFrontMatter, ErrEntityFile);
// unreadable files. These are ingested with a warning (the report's
// Warnings): empty files, stored without chunks (ErrEmptyFile), and an
// entity id that another document also declares (ErrDuplicateEntity): the
// declaration ingested last wins, which in a first ingest of a folder is
// the one in the file whose path sorts last. A UTF-8 byte order mark and
// CRLF or CR line ends are accepted silently and normalised (line numbers
// in reports count lines as editors do).
//
// The returned error is for what stops the whole ingest: an invalid source
// name (letters, digits, ".", "_", "-"), an unreadable root, a store write
// failure, or ctx ending. What was written before that stays written and
// visible to Search.
func (l *Library) IngestFS(ctx context.Context, source string, fsys fs.FS, root string, opts ...IngestOption) (rep IngestReport, err error) {
	start := time.Now()
	rep.Source = source
	var cfg ingestConfig
	for _, o := range opts {
		o(&cfg)
	}
	if !sourceNameRE.MatchString(source) {
		return rep, fmt.Errorf("lore: source name %q: use letters, digits, \".\", \"_\" and \"-\", starting with a letter or digit", source)
	}
	if !fs.ValidPath(root) {
		return rep, fmt.Errorf("lore: ingest source %q: root %q is not a valid fs.FS path (slash-separated, no \"..\")", source, root)
	}
	l.ingestMu.Lock()
	defer l.ingestMu.Unlock()

	records, err := l.st.Documents(source)
	if err != nil {
		return rep, fmt.Errorf("lore: ingest source %q: %w", source, err)
	}
	old := make(map[string]store.DocRecord, len(records))
	for _, r := range records {
		old[r.Path] = r
	}
	seen := map[string]bool{}
	var unreadable []string // folders that could not be listed, with a trailing "/"
	var changes []docChange
	defer func() { // keep memory in step with what reached the store
		l.apply(changes)
		l.mu.RLock()
		for k, d := range l.docs {
			if k.source == source {
				rep.Documents++
				rep.Chunks += len(d.chunks)
			}
		}
		l.mu.RUnlock()
		rep.Entities = l.reg.countSource(source)
		rep.Duration = time.Since(start)
	}()

	fileErr := func(p string, line int, err error) {
		fe := FileError{Source: source, Path: p, Line: line, Err: err}
		rep.Errors = append(rep.Errors, fe)
		l.log.Warn("lore: file skipped", "source", source, "path", p, "line", line, "err", err)
	}
	// List the files first: the total drives the progress report, and
	// removals are known before any file is read.
	type file struct{ p, rel string }
	var files []file
	walkErr := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel := relPath(root, p)
		if err != nil {
			if p == root {
				return err
			}
			// Keep what we had: unreadable is not deleted.
			seen[rel] = true
			if d != nil && d.IsDir() {
				unreadable = append(unreadable, rel+"/")
				fileErr(rel, 0, fmt.Errorf("read folder: %w", err))
				return fs.SkipDir
			}
			fileErr(rel, 0, fmt.Errorf("read: %w", err))
			return nil
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || kindOf(p) == kindNone {
			return nil
		}
		seen[rel] = true
		files = append(files, file{p, rel})
		return nil
	})
	if walkErr != nil {
		return rep, fmt.Errorf("lore: ingest source %q: %w", source, walkErr)
	}

	// Remove vanished documents first, so that a file renamed in the same
	// edit takes over their entities, and re-read unchanged documents that
	// declare an entity a removed document owned.
	force := map[string]bool{}
	for _, p := range slices.Sorted(maps.Keys(old)) {
		if seen[p] || slices.ContainsFunc(unreadable, func(dir string) bool { return strings.HasPrefix(p, dir) }) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("lore: ingest source %q: %w", source, err)
		}
		for _, id := range old[p].EntityIDs {
			if e, ok := l.reg.Get(id); !ok || e.Source != source || e.DocPath != p {
				continue
			}
			for q, r := range old {
				if q != p && seen[q] && slices.Contains(r.EntityIDs, id) {
					force[q] = true
				}
			}
		}
		if err := l.st.DeleteDocument(source, p); err != nil {
			return rep, fmt.Errorf("lore: ingest source %q: remove vanished document: %w", source, err)
		}
		changes = append(changes, docChange{key: docKey{source, p}, removed: true, oldEntityIDs: old[p].EntityIDs})
		rep.Removed++
	}

	if cfg.progress != nil {
		cfg.progress(0, len(files), "")
	}
	declared := map[string]string{} // entity id → path of the file that declared it in this ingest
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("lore: ingest source %q: %w", source, err)
		}
		ch, ferr, err := l.ingestFile(fsys, source, f.p, f.rel, old[f.rel], force[f.rel], &rep)
		if err != nil {
			return rep, fmt.Errorf("lore: ingest source %q: %w", source, err)
		}
		if ferr != nil {
			var le *lineError
			if errors.As(ferr, &le) {
				fileErr(f.rel, le.line, le.err)
			} else {
				fileErr(f.rel, 0, ferr)
			}
		}
		if ch != nil {
			changes = append(changes, *ch)
			l.warnDuplicates(&rep, ch, declared, changes)
		}
		if cfg.progress != nil {
			cfg.progress(i+1, len(files), f.rel)
		}
	}
	// Debug: callers report ingestion themselves (hearth serve logs one line per source).
	l.log.Debug("lore: ingested", "source", source, "updated", rep.Updated, "skipped", rep.Skipped,
		"removed", rep.Removed, "errors", len(rep.Errors), "warnings", len(rep.Warnings), "duration", time.Since(start))
	return rep, nil
}

// warnDuplicates adds an ErrDuplicateEntity warning for each entity of ch
// that another document declares: one ingested earlier in this run
// (declared), or the current owner in the registry unless this run removed
// it (changes). It records ch's entities in declared.
func (l *Library) warnDuplicates(rep *IngestReport, ch *docChange, declared map[string]string, changes []docChange) {
	p := ch.key.path
	for _, e := range ch.entities {
		other := ""
		if q, ok := declared[e.ID]; ok && q != p {
			other = ch.key.source + ":" + q
		} else if prev, ok := l.reg.Get(e.ID); ok && (prev.Source != e.Source || prev.DocPath != e.DocPath) &&
			!slices.ContainsFunc(changes, func(c docChange) bool {
				return c.removed && c.key == docKey{prev.Source, prev.DocPath}
			}) {
			other = prev.Source + ":" + prev.DocPath
		}
		declared[e.ID] = p
		if other == "" {
			continue
		}
		w := FileError{Source: ch.key.source, Path: p,
			Err: fmt.Errorf("%w: %q is also declared by %s; this file, ingested later, wins", ErrDuplicateEntity, e.ID, other)}
		rep.Warnings = append(rep.Warnings, w)
		l.log.Warn("lore: entity declared by two documents; the later one wins",
			"id", e.ID, "was", other, "now", ch.key.source+":"+p)
	}
}

// docChange is one document written to or removed from the store, to be
// applied to memory.
type docChange struct {
	key          docKey
	removed      bool
	state        *docState
	entities     []Entity
	oldEntityIDs []string
}

// ingestFile reads, parses and stores one file. It returns the change to
// apply to memory (nil when the file is unchanged and not forced), a file
// error (the file is skipped), or a fatal error (the ingest stops).
func (l *Library) ingestFile(fsys fs.FS, source, p, rel string, prev store.DocRecord, force bool, rep *IngestReport) (ch *docChange, fileErr, err error) {
	if fi, err := fs.Stat(fsys, p); err == nil && fi.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrFileTooLarge, fi.Size(), MaxFileBytes), nil
	}
	data, err := fs.ReadFile(fsys, p)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err), nil
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrFileTooLarge, len(data), MaxFileBytes), nil
	}
	hash := contentHash(data)
	if !force && prev.Hash == hash && prev.Version == parserVersion {
		rep.Skipped++
		return nil, nil, nil
	}
	doc, perr := parseDocument(source, rel, data)
	if perr != nil {
		return nil, perr, nil
	}
	if doc.empty {
		w := FileError{Source: source, Path: rel, Err: fmt.Errorf("%w: stored without chunks", ErrEmptyFile)}
		rep.Warnings = append(rep.Warnings, w)
		l.log.Warn("lore: empty file", "source", source, "path", rel)
	}
	rec := store.DocRecord{Source: source, Path: rel, Hash: hash, Version: parserVersion, IngestedAt: time.Now().UTC()}
	chunkRecs := make([]store.ChunkRecord, len(doc.chunks))
	state := &docState{chunks: make([]*indexedChunk, len(doc.chunks))}
	for i, c := range doc.chunks {
		rec.ChunkIDs = append(rec.ChunkIDs, c.ID)
		chunkRecs[i] = chunkToRecord(c, i)
		state.chunks[i] = analyze(c)
	}
	entRecs := make([]store.EntityRecord, len(doc.entities))
	for i, e := range doc.entities {
		rec.EntityIDs = append(rec.EntityIDs, e.ID)
		entRecs[i] = entityToRecord(e)
	}
	state.entityIDs = rec.EntityIDs
	if err := l.st.PutDocument(rec, chunkRecs, entRecs); err != nil {
		return nil, nil, err
	}
	rep.Updated++
	return &docChange{key: docKey{source, rel}, state: state, entities: doc.entities, oldEntityIDs: prev.EntityIDs}, nil, nil
}

// apply makes changes visible: a new document map and index are built
// aside, then swapped in, so searches never wait for the rebuild.
func (l *Library) apply(changes []docChange) {
	if len(changes) == 0 {
		return
	}
	docs := maps.Clone(l.docs) // only ingest writes l.docs, and it holds ingestMu
	ops := make([]entityOp, 0, len(changes))
	for _, c := range changes {
		op := entityOp{source: c.key.source, path: c.key.path, oldIDs: c.oldEntityIDs}
		if c.removed {
			delete(docs, c.key)
		} else {
			docs[c.key] = c.state
			op.entities = c.entities
		}
		ops = append(ops, op)
	}
	idx := buildIndex(flatten(docs))
	vec := l.vectorsFor(idx) // embeds the new chunks; nil without an embedder
	l.mu.Lock()
	l.docs, l.idx, l.vec = docs, idx, vec
	l.reg.apply(ops, l.log)
	l.mu.Unlock()
}

func relPath(root, p string) string {
	if root == "." {
		return p
	}
	if p == root {
		return path.Base(p)
	}
	return strings.TrimPrefix(p, root+"/")
}

func chunkToRecord(c Chunk, seq int) store.ChunkRecord {
	return store.ChunkRecord{ID: c.ID, Source: c.Source, DocPath: c.DocPath, Seq: seq, Heading: c.Heading,
		Text: c.Text, Region: c.Region, Tags: c.Tags, Secrecy: c.Secrecy, Entities: c.Entities}
}

func chunkFromRecord(r store.ChunkRecord) Chunk {
	return Chunk{ID: r.ID, Source: r.Source, DocPath: r.DocPath, Heading: r.Heading, Text: r.Text,
		Region: r.Region, Tags: r.Tags, Secrecy: r.Secrecy, Entities: r.Entities}
}

func entityToRecord(e Entity) store.EntityRecord {
	var rels map[string][]string
	for _, r := range e.Relations {
		if rels == nil {
			rels = map[string][]string{}
		}
		rels[r.Kind] = append(rels[r.Kind], r.Target)
	}
	return store.EntityRecord{ID: e.ID, Type: e.Type, Name: e.Name, Aliases: e.Aliases, Tags: e.Tags,
		Region: e.Region, Source: e.Source, DocPath: e.DocPath, Relations: rels}
}

// entityFromRecord converts a stored entity; its relations come back
// sorted by kind then target, as parsing writes them.
func entityFromRecord(r store.EntityRecord) Entity {
	var rels []Relation
	for _, kind := range slices.Sorted(maps.Keys(r.Relations)) {
		for _, t := range slices.Sorted(slices.Values(r.Relations[kind])) {
			rels = append(rels, Relation{Kind: kind, Target: t})
		}
	}
	return Entity{ID: r.ID, Type: r.Type, Name: r.Name, Aliases: r.Aliases, Tags: r.Tags,
		Region: r.Region, Source: r.Source, DocPath: r.DocPath, Relations: rels}
}

package lore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parserVersion is stored with every document; raising it makes the next
// ingest re-chunk unchanged files. Raise it whenever chunking, markup
// stripping or front matter handling changes what a file produces.
// 2: chunk overlap, entity relations, entity files, SRD heading entities.
const parserVersion = 2

// docKind tells how a file is read, by its name.
type docKind int

const (
	kindNone docKind = iota
	kindMarkdown
	kindText
	kindEntities // *.entities.yaml, *.entities.yml, *.entities.json
)

func kindOf(name string) docKind {
	if isEntityFile(name) {
		return kindEntities
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown":
		return kindMarkdown
	case ".txt":
		return kindText
	}
	return kindNone
}

// parsedDoc is what one file contributes to the library.
type parsedDoc struct {
	chunks   []Chunk
	entities []Entity
	empty    bool // the file holds no text (a warning, not an error)
}

func contentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// ChunkID returns the id of the n-th chunk (from 0) of a document:
// "<source>:<docpath>#<n>". Ids are stable across re-ingests of the same
// content.
func ChunkID(source, docPath string, n int) string {
	return source + ":" + docPath + "#" + strconv.Itoa(n)
}

// binarySniffBytes: a NUL byte among the first this many bytes marks a
// binary file, as Git judges.
const binarySniffBytes = 8000

// checkText rejects what is not lore text: a UTF-16 or UTF-32 byte order
// mark or a NUL byte (ErrBinary), invalid UTF-8 (ErrInvalidUTF8) and, when
// limitLines, a line longer than MaxLineBytes (ErrLineTooLong). Errors are
// *lineError values with the line of the first offending byte.
func checkText(data []byte, limitLines bool) error {
	lineAt := func(off int) int { return 1 + bytes.Count(data[:off], []byte("\n")) }
	for _, bom := range []struct {
		mark []byte
		name string
	}{{[]byte{0xFF, 0xFE, 0, 0}, "UTF-32"}, {[]byte{0, 0, 0xFE, 0xFF}, "UTF-32"}, {[]byte{0xFF, 0xFE}, "UTF-16"}, {[]byte{0xFE, 0xFF}, "UTF-16"}} {
		if bytes.HasPrefix(data, bom.mark) {
			return &lineError{line: 1, err: fmt.Errorf("%w: %s text (byte order mark % X); save the file as UTF-8", ErrBinary, bom.name, bom.mark)}
		}
	}
	if off := bytes.IndexByte(data, 0); off >= 0 {
		// A NUL early on (Git looks at the first 8,000 bytes) means a binary
		// file, where lines mean nothing; a later one is pointed at.
		line := 0
		if off >= binarySniffBytes {
			line = lineAt(off)
		}
		return &lineError{line: line, err: fmt.Errorf("%w: NUL byte at byte %d; lore files are UTF-8 text", ErrBinary, off)}
	}
	if !utf8.Valid(data) {
		off := firstInvalidUTF8(data)
		return &lineError{line: lineAt(off), err: fmt.Errorf("%w at byte %d; save the file as UTF-8", ErrInvalidUTF8, off)}
	}
	if limitLines && len(data) > MaxLineBytes {
		line, start := 1, 0
		for start < len(data) {
			end := bytes.IndexByte(data[start:], '\n')
			if end < 0 {
				end = len(data) - start
			}
			if end > MaxLineBytes {
				return &lineError{line: line, err: fmt.Errorf("%w: %d bytes, more than %d; break it into lines and paragraphs", ErrLineTooLong, end, MaxLineBytes)}
			}
			start += end + 1
			line++
		}
	}
	return nil
}

// parseDocument turns one file into chunks and entities. Errors are
// *lineError values (ErrBinary, ErrInvalidUTF8, ErrLineTooLong,
// ErrFrontMatter, ErrEntityFile) with the line in the file.
func parseDocument(source, docPath string, data []byte) (parsedDoc, error) {
	kind := kindOf(docPath)
	if err := checkText(data, kind != kindEntities); err != nil {
		return parsedDoc{}, err
	}
	text := normalizeText(string(data))
	if strings.TrimSpace(text) == "" {
		return parsedDoc{empty: true}, nil
	}
	var (
		fm    frontMatter
		body  string
		raws  []rawChunk
		heads []headingEntity
	)
	switch kind {
	case kindEntities:
		ef, err := parseEntityFile(text, strings.HasSuffix(strings.ToLower(docPath), ".json"))
		if err != nil {
			return parsedDoc{}, err
		}
		fm = frontMatter{Region: ef.Region, Tags: ef.Tags, Secrecy: ef.Secrecy, Entities: ef.Entities}
	case kindText, kindMarkdown:
		var err error
		fm, body, _, err = parseFrontMatter(text)
		if err != nil {
			return parsedDoc{}, err
		}
		if kind == kindText {
			raws = chunkPlainText(body)
		} else {
			raws = chunkMarkdown(body)
			heads = headingEntities(raws)
		}
	}

	var doc parsedDoc
	ids := map[string]int{}
	addEntity := func(e Entity, line int) error {
		if prev, dup := ids[e.ID]; dup {
			if kind == kindEntities {
				return &lineError{line: line, err: fmt.Errorf("%w: entity id %q is declared twice in this file (first on line %d)", ErrEntityFile, e.ID, prev)}
			}
			return fmErrorf(line, "entity id %q is declared twice in this document (first on line %d)", e.ID, prev)
		}
		ids[e.ID] = line
		doc.entities = append(doc.entities, e)
		return nil
	}
	if fm.ID != "" {
		name := fm.Name
		if name == "" && kind == kindMarkdown {
			name = firstHeading(body)
		}
		if name == "" {
			name = fm.ID
		}
		e := Entity{ID: fm.ID, Type: fm.Type, Name: name, Aliases: fm.Aliases, Tags: fm.Tags,
			Region: fm.Region, Source: source, DocPath: docPath, Relations: fm.Relations}
		if err := addEntity(e, 1+fmLineOffset); err != nil {
			return parsedDoc{}, err
		}
	}
	// Entities with a description get a chunk of their own, after the body's.
	type described struct {
		id, name, region, text string
		secrecy                int
	}
	var descs []described
	for _, fe := range fm.Entities {
		region := fe.Region
		if region == "" {
			region = fm.Region
		}
		name := fe.Name
		if name == "" {
			name = fe.ID
		}
		e := Entity{ID: fe.ID, Type: fe.Type, Name: name, Aliases: fe.Aliases, Tags: fe.Tags,
			Region: region, Source: source, DocPath: docPath, Relations: fe.Relations}
		if err := addEntity(e, fe.Line); err != nil {
			return parsedDoc{}, err
		}
		if fe.Description != "" {
			sec := fm.Secrecy
			if fe.HasSecrecy {
				sec = fe.Secrecy
			}
			descs = append(descs, described{fe.ID, name, region, fe.Description, sec})
		}
	}
	docIDs := make([]string, 0, len(doc.entities))
	for _, e := range doc.entities {
		docIDs = append(docIDs, e.ID)
	}
	// Heading entities: an id the author declared wins over the heading's.
	var kept []headingEntity
	for _, h := range heads {
		if _, dup := ids[h.entity.ID]; dup {
			continue
		}
		h.entity.Source, h.entity.DocPath = source, docPath
		ids[h.entity.ID] = 0
		doc.entities = append(doc.entities, h.entity)
		kept = append(kept, h)
	}
	for i, r := range raws {
		entityIDs := docIDs
		for _, h := range kept {
			if h.first <= i && i < h.end {
				entityIDs = append(slices.Clip(entityIDs), h.entity.ID)
			}
		}
		if len(entityIDs) == 0 {
			entityIDs = nil
		}
		doc.chunks = append(doc.chunks, Chunk{
			ID: ChunkID(source, docPath, i), Source: source, DocPath: docPath,
			Heading: r.heading, Text: r.text,
			Region: fm.Region, Tags: fm.Tags, Secrecy: fm.Secrecy, Entities: entityIDs,
		})
	}
	for _, d := range descs {
		lines := strings.Split(normalizeText(d.text), "\n")
		for i, l := range lines {
			lines[i] = cleanLine(strings.TrimRight(l, " \t"))
		}
		for _, r := range packSection([]string{d.name}, lines) {
			doc.chunks = append(doc.chunks, Chunk{
				ID: ChunkID(source, docPath, len(doc.chunks)), Source: source, DocPath: docPath,
				Heading: r.heading, Text: r.text,
				Region: d.region, Tags: fm.Tags, Secrecy: d.secrecy, Entities: []string{d.id},
			})
		}
	}
	return doc, nil
}

// normalizeText drops a UTF-8 byte order mark and turns "\r\n" and lone
// "\r" line ends into "\n", so that lines are counted as editors count them.
func normalizeText(text string) string {
	text = strings.TrimPrefix(text, "\uFEFF")
	if strings.Contains(text, "\r") {
		text = strings.ReplaceAll(text, "\r\n", "\n")
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	return text
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

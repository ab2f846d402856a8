package lore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parserVersion is stored with every document; raising it makes the next
// ingest re-chunk unchanged files. Raise it whenever chunking, markup
// stripping or front matter handling changes what a file produces.
const parserVersion = 1

// docKind tells how a file is read, by its extension.
type docKind int

const (
	kindNone docKind = iota
	kindMarkdown
	kindText
)

func kindOf(name string) docKind {
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

// parseDocument turns one file into chunks and entities. Errors are
// *lineError (front matter, UTF-8) with the line in the file.
func parseDocument(source, docPath string, data []byte) (parsedDoc, error) {
	if !utf8.Valid(data) {
		off := firstInvalidUTF8(data)
		line := 1 + bytes.Count(data[:off], []byte("\n"))
		return parsedDoc{}, &lineError{line: line, err: fmt.Errorf("%w at byte %d; save the file as UTF-8", ErrInvalidUTF8, off)}
	}
	text := normalizeText(string(data))
	fm, body, _, err := parseFrontMatter(text)
	if err != nil {
		return parsedDoc{}, err
	}
	var raws []rawChunk
	kind := kindOf(docPath)
	if kind == kindText {
		raws = chunkPlainText(body)
	} else {
		raws = chunkMarkdown(body)
	}

	var doc parsedDoc
	ids := map[string]int{}
	addEntity := func(e Entity, line int) error {
		if prev, dup := ids[e.ID]; dup {
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
			Region: fm.Region, Source: source, DocPath: docPath}
		if err := addEntity(e, 1+fmLineOffset); err != nil {
			return parsedDoc{}, err
		}
	}
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
			Region: region, Source: source, DocPath: docPath}
		if err := addEntity(e, fe.Line); err != nil {
			return parsedDoc{}, err
		}
	}
	var entityIDs []string
	for _, e := range doc.entities {
		entityIDs = append(entityIDs, e.ID)
	}
	doc.chunks = make([]Chunk, len(raws))
	for i, r := range raws {
		doc.chunks[i] = Chunk{
			ID: ChunkID(source, docPath, i), Source: source, DocPath: docPath,
			Heading: r.heading, Text: r.text,
			Region: fm.Region, Tags: fm.Tags, Secrecy: fm.Secrecy, Entities: entityIDs,
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

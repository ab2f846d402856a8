package lore

import (
	"errors"
	"fmt"
)

// Sentinel errors wrapped by FileError.Err; test them with errors.Is.
var (
	// ErrFrontMatter: the YAML front matter of a document is malformed
	// (syntax error, unterminated "---" block, a field of the wrong type, a
	// missing or duplicate entity id).
	ErrFrontMatter = errors.New("bad front matter")
	// ErrInvalidUTF8: the file is not valid UTF-8 text.
	ErrInvalidUTF8 = errors.New("invalid UTF-8")
	// ErrFileTooLarge: the file is larger than MaxFileBytes.
	ErrFileTooLarge = errors.New("file too large")
	// ErrBinary: the file holds a NUL byte (as Git judges binary files), or
	// starts with a UTF-16 or UTF-32 byte order mark. Lore is UTF-8 text.
	ErrBinary = errors.New("binary file")
	// ErrLineTooLong: a line of a Markdown or plain-text file is longer than
	// MaxLineBytes (minified or generated text, or a file without line
	// breaks).
	ErrLineTooLong = errors.New("line too long")
	// ErrEntityFile: a JSON or YAML entity file is malformed (syntax error,
	// a field of the wrong type, a missing or duplicate entity id).
	ErrEntityFile = errors.New("bad entity file")

	// The next two are warnings, reported in IngestReport.Warnings: the
	// file is still ingested.

	// ErrEmptyFile: the file holds no text (zero bytes, or only spaces, line
	// breaks and a byte order mark). It is stored as a document with no
	// chunks, so an emptied file drops its earlier chunks.
	ErrEmptyFile = errors.New("empty file")
	// ErrDuplicateEntity: an entity id declared by this file is also
	// declared by another document; the file ingested last wins.
	ErrDuplicateEntity = errors.New("duplicate entity id")
)

// MaxLineBytes is the longest line of a Markdown or plain-text file
// ingested (1 MiB); a file with a longer line is reported with
// ErrLineTooLong and skipped. JSON and YAML entity files have no line limit
// (minified JSON is one line).
const MaxLineBytes = 1 << 20

// MaxFileBytes is the largest lore file ingested (16 MiB). Larger files are
// reported with ErrFileTooLarge and skipped; split them.
const MaxFileBytes = 16 << 20

// FileError is a problem with one lore file. Ingest reports it in
// IngestReport.Errors, logs it and carries on with the other files; the
// file's previously ingested version, if any, stays in the library. Ingest
// also uses it for warnings (IngestReport.Warnings: ErrEmptyFile,
// ErrDuplicateEntity), where the file is ingested all the same.
type FileError struct {
	Source string // lore source name
	Path   string // slash-separated path inside the source
	Line   int    // 1-based line in the file; 0 when the problem has no line
	Err    error  // wraps one of the Err* sentinels of this package, or an I/O error
}

// Error returns "source:path:line: msg", or "source:path: msg" when Line is 0.
func (e FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%s:%d: %v", e.Source, e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%s: %v", e.Source, e.Path, e.Err)
}

// Unwrap returns Err.
func (e FileError) Unwrap() error { return e.Err }

// lineError is an error at a line of the file being parsed; ingest turns it
// into a FileError.
type lineError struct {
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }
func (e *lineError) Unwrap() error { return e.err }

func fmErrorf(line int, format string, args ...any) error {
	return &lineError{line: line, err: fmt.Errorf("%w: "+format, append([]any{ErrFrontMatter}, args...)...)}
}

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
)

// MaxFileBytes is the largest lore file ingested (16 MiB). Larger files are
// reported with ErrFileTooLarge and skipped; split them.
const MaxFileBytes = 16 << 20

// FileError is a problem with one lore file. Ingest reports it in
// IngestReport.Errors, logs it and carries on with the other files; the
// file's previously ingested version, if any, stays in the library.
type FileError struct {
	Source string // lore source name
	Path   string // slash-separated path inside the source
	Line   int    // 1-based line in the file; 0 when the problem has no line
	Err    error  // wraps ErrFrontMatter, ErrInvalidUTF8, ErrFileTooLarge or an I/O error
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

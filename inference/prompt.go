package inference

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
)

// PromptExt is the file extension of a prompt template.
const PromptExt = ".tmpl"

// ErrUnknownPrompt is returned (wrapped) by Prompts.Render for a name or
// version that was not loaded.
var ErrUnknownPrompt = errors.New("inference: unknown prompt template")

// PromptRef identifies one loaded prompt template.
type PromptRef struct {
	Name    string // e.g. "npc.dialogue"
	Version int    // positive
	Hash    string // first 12 hex digits of the SHA-256 of the template source
}

// String returns "name@version", e.g. "npc.dialogue@1", the form file names
// and Request.PromptName use.
func (p PromptRef) String() string {
	return p.Name + "@" + strconv.Itoa(p.Version)
}

// Prompts is a set of versioned prompt templates (DESIGN §4), rendered with
// text/template. Each template lives in a file named "name@version.tmpl"
// (e.g. "npc.dialogue@3.tmpl"). It is safe for concurrent use.
//
// Templates execute with Option("missingkey=error") and these functions:
// join (strings.Join with the separator last: {{join .Traits ", "}}),
// lower, upper and trim (strings.TrimSpace).
type Prompts struct {
	// set is an immutable snapshot. Hot reload (a later issue) builds a new
	// set and swaps it in; renders in flight keep the old one.
	set atomic.Pointer[promptSet]
	buf sync.Pool // *bytes.Buffer
}

type promptSet struct {
	byKey  map[string]*promptTmpl // "name@version"
	latest map[string]*promptTmpl // "name" → highest version
	refs   []PromptRef            // sorted by name, then version
}

type promptTmpl struct {
	ref PromptRef
	t   *template.Template
}

// maxPooledBuf bounds the render buffers kept for reuse, in bytes.
const maxPooledBuf = 64 << 10

// LoadPrompts loads every "*.tmpl" file directly inside dir of fsys (use "."
// for the root); other files and subdirectories are ignored. It returns an
// error naming the file for a name that is not "name@version.tmpl" with a
// positive version without leading zeros, for a duplicate name@version, and
// for a template that does not parse.
func LoadPrompts(fsys fs.FS, dir string) (*Prompts, error) {
	set, err := loadPromptSet(fsys, dir)
	if err != nil {
		return nil, err
	}
	p := &Prompts{}
	p.set.Store(set)
	return p, nil
}

func loadPromptSet(fsys fs.FS, dir string) (*promptSet, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("inference: loading prompts: %w", err)
	}
	set := &promptSet{byKey: map[string]*promptTmpl{}, latest: map[string]*promptTmpl{}}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), PromptExt) {
			continue
		}
		file := path.Join(dir, e.Name())
		name, version, err := parsePromptFileName(e.Name())
		if err != nil {
			return nil, fmt.Errorf("inference: prompt file %q: %w", file, err)
		}
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("inference: prompt file %q: %w", file, err)
		}
		sum := sha256.Sum256(src)
		ref := PromptRef{Name: name, Version: version, Hash: hex.EncodeToString(sum[:])[:12]}
		if _, dup := set.byKey[ref.String()]; dup {
			return nil, fmt.Errorf("inference: prompt file %q: duplicate template %s", file, ref)
		}
		t, err := template.New(ref.String()).Option("missingkey=error").Funcs(promptFuncs).Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("inference: prompt file %q: %w", file, err)
		}
		pt := &promptTmpl{ref: ref, t: t}
		set.byKey[ref.String()] = pt
		if cur := set.latest[name]; cur == nil || cur.ref.Version < version {
			set.latest[name] = pt
		}
		set.refs = append(set.refs, ref)
	}
	slices.SortFunc(set.refs, func(a, b PromptRef) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return a.Version - b.Version
	})
	return set, nil
}

var promptFuncs = template.FuncMap{
	"join":  func(elems []string, sep string) string { return strings.Join(elems, sep) },
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"trim":  strings.TrimSpace,
}

// parsePromptFileName splits "name@version.tmpl".
func parsePromptFileName(file string) (string, int, error) {
	base := strings.TrimSuffix(file, PromptExt)
	name, ver, ok := strings.Cut(base, "@")
	if !ok {
		return "", 0, fmt.Errorf("name must be name@version%s, e.g. npc.dialogue@1%s", PromptExt, PromptExt)
	}
	if err := checkPromptName(name); err != nil {
		return "", 0, err
	}
	v, err := strconv.Atoi(ver)
	if err != nil || v <= 0 || strconv.Itoa(v) != ver {
		return "", 0, fmt.Errorf("version %q must be a positive integer without leading zeros", ver)
	}
	return name, v, nil
}

func checkPromptName(name string) error {
	if name == "" {
		return errors.New("empty template name")
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("template name %q: only letters, digits, '.', '_' and '-' are allowed", name)
		}
	}
	return nil
}

// Render executes the template called name with data and returns the text
// and the reference of the template used. name is "name" for the highest
// loaded version or "name@version" for a specific one. Errors wrap
// ErrUnknownPrompt for an unknown name or version, or name the template
// for an execution error.
func (p *Prompts) Render(name string, data any) (string, PromptRef, error) {
	pt, err := p.set.Load().resolve(name)
	if err != nil {
		return "", PromptRef{}, err
	}
	buf, _ := p.buf.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledBuf {
			p.buf.Put(buf)
		}
	}()
	if err := pt.t.Execute(buf, data); err != nil {
		return "", pt.ref, fmt.Errorf("inference: rendering prompt %s: %w", pt.ref, err)
	}
	return buf.String(), pt.ref, nil
}

// resolve finds the template for "name" or "name@version". It is the seam
// where an A/B split (a later issue) will choose among versions.
func (s *promptSet) resolve(name string) (*promptTmpl, error) {
	if _, _, versioned := strings.Cut(name, "@"); versioned {
		if pt := s.byKey[name]; pt != nil {
			return pt, nil
		}
	} else if pt := s.latest[name]; pt != nil {
		return pt, nil
	}
	known := make([]string, len(s.refs))
	for i, r := range s.refs {
		known[i] = r.String()
	}
	return nil, fmt.Errorf("%w %q; known: %s", ErrUnknownPrompt, name, strings.Join(known, ", "))
}

// Refs lists the loaded templates sorted by name, then version.
func (p *Prompts) Refs() []PromptRef {
	return slices.Clone(p.set.Load().refs)
}

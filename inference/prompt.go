package inference

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"maps"
	"math/bits"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"

	"github.com/fsnotify/fsnotify"
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

// PromptWeights are A/B weights between the versions of a template:
// name → version → weight, e.g. {"npc.dialogue": {2: 90, 3: 10}} sends
// about 90% of players to npc.dialogue@2 and 10% to @3. Weights are
// relative (any non-negative integers with a positive sum; 0 turns an arm
// off). A name without weights renders its latest version.
type PromptWeights map[string]map[int]int

// PromptOptions configure OpenPrompts.
type PromptOptions struct {
	// Base and BaseDir are the built-in templates, e.g. an embed.FS and
	// "prompts" (nil: none). They are read once.
	Base    fs.FS
	BaseDir string
	// Dir is a directory on disk whose templates override (same
	// name@version) or add to Base's; "" for none. Reload rereads it.
	Dir string
	// Watch reloads Dir whenever a file in it changes (fsnotify), until
	// Close. Off: only Reload does.
	Watch bool
	// Weights split players between versions (see PromptWeights and
	// RenderFor). Every weighted version must be loaded.
	Weights PromptWeights
	// Data maps a template name to a value of the data type it is
	// rendered with (e.g. a zero struct). Every version of that name is
	// checked against the type at load and at each reload: a field the
	// type lacks fails the load (a *PromptFieldError), so a typo never
	// reaches a player. Names not listed are checked when rendered.
	Data map[string]any
	// Logger receives reload reports; nil: slog.Default().
	Logger *slog.Logger
}

// Prompts is a set of versioned prompt templates (DESIGN §4), rendered with
// text/template. Each template lives in a file named "name@version.tmpl"
// (e.g. "npc.dialogue@3.tmpl"). It is safe for concurrent use.
//
// Templates execute with Option("missingkey=error") and these functions:
// join (strings.Join with the separator last: {{join .Traits ", "}}),
// lower, upper and trim (strings.TrimSpace).
//
// The loaded set is an immutable snapshot behind an atomic pointer:
// Reload and SetWeights build a new one and swap it in whole, or keep the
// old one and report why; renders in flight finish on the set they began
// with.
type Prompts struct {
	set  atomic.Pointer[promptSet]
	buf  sync.Pool // *bytes.Buffer
	opts PromptOptions
	base []promptFile // Base's files, read once

	mu       sync.Mutex // serializes Reload and SetWeights; guards counters and lastErr
	counters map[string]*promptCounter
	lastErr  error

	reloads, reloadErrors atomic.Uint64

	watcher *fsnotify.Watcher
	done    chan struct{} // closed when the watch loop has returned
	closeMu sync.Once
}

// promptCounter counts the renders of one name@version across reloads.
type promptCounter struct {
	ref             PromptRef // name and version; Hash unused
	renders, errors atomic.Uint64
}

type promptSet struct {
	byKey  map[string]*promptTmpl // "name@version"
	latest map[string]*promptTmpl // "name" → highest version
	arms   map[string][]promptArm // "name" → weighted versions, by version
	refs   []PromptRef            // sorted by name, then version
}

// promptArm is one version in an A/B split; cum is the cumulative weight
// up to and including it.
type promptArm struct {
	pt  *promptTmpl
	cum uint64
}

type promptTmpl struct {
	ref   PromptRef
	t     *template.Template
	count *promptCounter
}

// promptFile is one template file as read.
type promptFile struct {
	path string // as shown in errors: "dir/name@version.tmpl"
	name string
	ver  int
	src  []byte
}

// maxPooledBuf bounds the render buffers kept for reuse, in bytes.
const maxPooledBuf = 64 << 10

// LoadPrompts loads every "*.tmpl" file directly inside dir of fsys (use "."
// for the root); other files and subdirectories are ignored. It returns an
// error naming the file for a name that is not "name@version.tmpl" with a
// positive version without leading zeros and for a template that does not
// parse. It is OpenPrompts with Base alone.
func LoadPrompts(fsys fs.FS, dir string) (*Prompts, error) {
	return OpenPrompts(PromptOptions{Base: fsys, BaseDir: dir})
}

// OpenPrompts loads opts.Base's templates, then opts.Dir's over them,
// checks them against opts.Data and opts.Weights, and starts watching
// opts.Dir when opts.Watch is set (call Close to stop). Errors name the
// file (bad name, parse error), the template and field (a field the
// registered data type lacks), or the weighted version that is missing.
func OpenPrompts(opts PromptOptions) (*Prompts, error) {
	if opts.Base == nil && opts.Dir == "" {
		return nil, errors.New("inference: OpenPrompts: set Base, Dir or both")
	}
	if opts.Watch && opts.Dir == "" {
		return nil, errors.New("inference: OpenPrompts: Watch needs Dir")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	opts.Weights = cloneWeights(opts.Weights)
	opts.Data = maps.Clone(opts.Data)
	p := &Prompts{opts: opts, counters: map[string]*promptCounter{}}
	if opts.Base != nil {
		files, err := readPromptFiles(opts.Base, opts.BaseDir, "")
		if err != nil {
			return nil, err
		}
		p.base = files
	}
	set, err := p.build(opts.Weights)
	if err != nil {
		return nil, err
	}
	p.set.Store(set)
	if opts.Watch {
		if err := p.watch(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func cloneWeights(w PromptWeights) PromptWeights {
	if w == nil {
		return nil
	}
	out := make(PromptWeights, len(w))
	for name, arms := range w {
		out[name] = maps.Clone(arms)
	}
	return out
}

// readPromptFiles reads the "*.tmpl" files directly inside dir of fsys,
// checking their names. Errors and promptFile.path show a file as
// shown/name when shown is set (a directory on disk), else as dir/name.
func readPromptFiles(fsys fs.FS, dir, shown string) ([]promptFile, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		if shown != "" {
			return nil, fmt.Errorf("inference: prompt directory %s: %w", shown, err)
		}
		return nil, fmt.Errorf("inference: loading prompts: %w", err)
	}
	var out []promptFile
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), PromptExt) {
			continue
		}
		file := path.Join(dir, e.Name())
		show := file
		if shown != "" {
			show = filepath.Join(shown, e.Name())
		}
		name, version, err := parsePromptFileName(e.Name())
		if err != nil {
			return nil, fmt.Errorf("inference: prompt file %q: %w", show, err)
		}
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("inference: prompt file %q: %w", show, err)
		}
		out = append(out, promptFile{path: show, name: name, ver: version, src: src})
	}
	return out, nil
}

// build makes a set from the base files and a fresh read of opts.Dir.
// The caller holds p.mu or owns p alone.
func (p *Prompts) build(weights PromptWeights) (*promptSet, error) {
	files := p.base
	if p.opts.Dir != "" {
		disk, err := readPromptFiles(os.DirFS(p.opts.Dir), ".", p.opts.Dir)
		if err != nil {
			return nil, err
		}
		files = append(slices.Clip(files), disk...)
	}
	return p.buildFrom(files, weights)
}

// buildFrom parses files (later ones override earlier ones of the same
// name@version), checks them against the registered data types and
// applies weights.
func (p *Prompts) buildFrom(files []promptFile, weights PromptWeights) (*promptSet, error) {
	set := &promptSet{byKey: map[string]*promptTmpl{}, latest: map[string]*promptTmpl{}}
	for _, f := range files {
		sum := sha256.Sum256(f.src)
		ref := PromptRef{Name: f.name, Version: f.ver, Hash: hex.EncodeToString(sum[:])[:12]}
		key := ref.String()
		t, err := template.New(key).Option("missingkey=error").Funcs(promptFuncs).Parse(string(f.src))
		if err != nil {
			return nil, fmt.Errorf("inference: prompt file %q: %w", f.path, err)
		}
		if sample, ok := p.opts.Data[f.name]; ok && sample != nil {
			if err := checkPromptFields(t, ref, reflect.TypeOf(sample)); err != nil {
				return nil, fmt.Errorf("inference: prompt file %q: %w", f.path, err)
			}
		}
		set.byKey[key] = &promptTmpl{ref: ref, t: t, count: p.counter(ref)}
	}
	for _, pt := range set.byKey {
		if cur := set.latest[pt.ref.Name]; cur == nil || cur.ref.Version < pt.ref.Version {
			set.latest[pt.ref.Name] = pt
		}
		set.refs = append(set.refs, pt.ref)
	}
	slices.SortFunc(set.refs, func(a, b PromptRef) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return a.Version - b.Version
	})
	if err := set.applyWeights(weights); err != nil {
		return nil, err
	}
	return set, nil
}

// counter returns the render counter of ref's name@version, creating it.
// Counters outlive reloads, so a counter never goes backwards.
func (p *Prompts) counter(ref PromptRef) *promptCounter {
	key := ref.String()
	c := p.counters[key]
	if c == nil {
		c = &promptCounter{ref: PromptRef{Name: ref.Name, Version: ref.Version}}
		p.counters[key] = c
	}
	return c
}

// applyWeights checks weights against the set and builds its arms.
func (s *promptSet) applyWeights(weights PromptWeights) error {
	s.arms = map[string][]promptArm{}
	names := make([]string, 0, len(weights))
	for name := range weights {
		names = append(names, name)
	}
	slices.Sort(names) // errors in a stable order
	for _, name := range names {
		vw := weights[name]
		if len(vw) == 0 {
			continue
		}
		versions := make([]int, 0, len(vw))
		for v := range vw {
			versions = append(versions, v)
		}
		slices.Sort(versions)
		var arms []promptArm
		var total uint64
		for _, v := range versions {
			w := vw[v]
			ref := PromptRef{Name: name, Version: v}
			if w < 0 {
				return fmt.Errorf("inference: prompt weights: %s: weight %d must not be negative", ref, w)
			}
			pt := s.byKey[ref.String()]
			if pt == nil {
				return fmt.Errorf("inference: prompt weights: %s is not loaded; loaded: %s", ref, s.known(name))
			}
			if w == 0 {
				continue
			}
			total += uint64(w)
			arms = append(arms, promptArm{pt: pt, cum: total})
		}
		if total == 0 {
			return fmt.Errorf("inference: prompt weights: %s: the weights sum to 0; give at least one version a positive weight", name)
		}
		s.arms[name] = arms
	}
	return nil
}

// known lists the loaded name@version of name, or of every template when
// name has none.
func (s *promptSet) known(name string) string {
	var all, same []string
	for _, r := range s.refs {
		all = append(all, r.String())
		if r.Name == name {
			same = append(same, r.String())
		}
	}
	if len(same) > 0 {
		return strings.Join(same, ", ")
	}
	return strings.Join(all, ", ")
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

// CheckPromptWeights checks weights on their own (names, positive
// versions, non-negative weights with a positive sum per name), without
// a loaded set: what a configuration file can be checked against before
// the templates are read.
func CheckPromptWeights(weights PromptWeights) error {
	names := make([]string, 0, len(weights))
	for name := range weights {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := checkPromptName(name); err != nil {
			return fmt.Errorf("inference: prompt weights: %w", err)
		}
		total := 0
		for v, w := range weights[name] {
			if v <= 0 {
				return fmt.Errorf("inference: prompt weights: %s: version %d must be positive", name, v)
			}
			if w < 0 {
				return fmt.Errorf("inference: prompt weights: %s@%d: weight %d must not be negative", name, v, w)
			}
			total += w
		}
		if total <= 0 {
			return fmt.Errorf("inference: prompt weights: %s: the weights sum to 0; give at least one version a positive weight", name)
		}
	}
	return nil
}

// Render executes the template called name with data and returns the text
// and the reference of the template used. name is "name" for the latest
// loaded version (or, with weights, the version the empty unit is
// assigned: see RenderFor) or "name@version" for a specific one. Errors
// wrap ErrUnknownPrompt for an unknown name or version; a field the data
// lacks is a *PromptFieldError naming the template and the field; other
// execution errors name the template.
func (p *Prompts) Render(name string, data any) (string, PromptRef, error) {
	return p.RenderFor(name, "", data)
}

// RenderFor is Render for one unit of an A/B split, usually a player id:
// when name has weights (PromptOptions.Weights, SetWeights), the version
// is chosen by Choose(name, unit), so the same unit always gets the same
// version for the same weights. "name@version" pins a version and ignores
// the weights.
func (p *Prompts) RenderFor(name, unit string, data any) (string, PromptRef, error) {
	pt, err := p.set.Load().pick(name, unit)
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
		pt.count.errors.Add(1)
		return "", pt.ref, renderError(pt.ref, err)
	}
	pt.count.renders.Add(1)
	return buf.String(), pt.ref, nil
}

// Choose returns the template RenderFor(name, unit, …) would render,
// without rendering it: e.g. to attribute a reply the floor made to the
// player's A/B arm. Errors wrap ErrUnknownPrompt.
func (p *Prompts) Choose(name, unit string) (PromptRef, error) {
	pt, err := p.set.Load().pick(name, unit)
	if err != nil {
		return PromptRef{}, err
	}
	return pt.ref, nil
}

// pick finds the template for "name@version", or for "name" and unit:
// the weighted arm unit falls in, else the latest version.
//
// A unit's arm: h = splitmix64(FNV-1a-64(name, 0, unit)) is uniform on
// [0, 2^64); x = ⌊h·total / 2^64⌋ (the high word of the product, Lemire
// 2019, "Fast Random Integer Generation in an Interval") is uniform on
// [0, total), and the arm is the first whose cumulative weight exceeds x.
// Because x keeps h's position in [0, 1) scaled by total, changing the
// weights only moves the units near the boundaries: going from {2: 90,
// 3: 10} to {2: 80, 3: 20} moves a tenth of the players from @2 to @3 and
// none the other way.
func (s *promptSet) pick(name, unit string) (*promptTmpl, error) {
	if _, _, versioned := strings.Cut(name, "@"); versioned {
		if pt := s.byKey[name]; pt != nil {
			return pt, nil
		}
	} else if arms := s.arms[name]; len(arms) > 0 {
		x, _ := bits.Mul64(unitHash(name, unit), arms[len(arms)-1].cum)
		for _, a := range arms {
			if x < a.cum {
				return a.pt, nil
			}
		}
	} else if pt := s.latest[name]; pt != nil {
		return pt, nil
	}
	return nil, fmt.Errorf("%w %q; known: %s", ErrUnknownPrompt, name, s.known(""))
}

// unitHash is FNV-1a 64 (Fowler, Noll and Vo; offset basis and prime from
// the reference) over name, a 0 byte and unit, finished with splitmix64's
// mixer (Steele, Lea and Flood 2014) so that every bit depends on every
// input byte. It allocates nothing.
func unitHash(name, unit string) uint64 {
	const offset, prime = 14695981039346656037, 1099511628211
	h := uint64(offset)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * prime
	}
	h *= prime // the 0 byte: h ^ 0 == h
	for i := 0; i < len(unit); i++ {
		h = (h ^ uint64(unit[i])) * prime
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// Refs lists the loaded templates sorted by name, then version.
func (p *Prompts) Refs() []PromptRef {
	return slices.Clone(p.set.Load().refs)
}

// Weights returns a copy of the weights in force (nil when none).
func (p *Prompts) Weights() PromptWeights {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneWeights(p.opts.Weights)
}

// SetWeights replaces the A/B weights (nil: none, every name renders its
// latest version). It fails, keeping the weights in force, when a
// weighted version is not loaded or a name's weights are negative or sum
// to 0.
func (p *Prompts) SetWeights(weights PromptWeights) error {
	if err := CheckPromptWeights(weights); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.set.Load()
	next := &promptSet{byKey: cur.byKey, latest: cur.latest, refs: cur.refs}
	if err := next.applyWeights(weights); err != nil {
		return err
	}
	p.opts.Weights = cloneWeights(weights)
	p.set.Store(next)
	return nil
}

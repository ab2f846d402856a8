package npc

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/hearth-ai/hearth/internal/yamlerr"
	"github.com/hearth-ai/hearth/lore"
)

// Knowledge is an NPC's knowledge scope: which lore it may know. It becomes
// a lore.Filter applied inside every search the NPC makes, so an NPC never
// sees (and so never states) lore outside it. Empty lists mean no
// restriction; see lore.Filter for the exact rules.
type Knowledge struct {
	Sources    []string `yaml:"sources"`     // lore sources, e.g. ["village", "srd"]; required
	Regions    []string `yaml:"regions"`     // region ids; empty = every region
	Tags       []string `yaml:"tags"`        // topic tags; empty = every topic
	MaxSecrecy int      `yaml:"max_secrecy"` // 0 public, 1 local knowledge, 2 secrets
}

// Filter returns the lore filter for this scope.
func (k Knowledge) Filter() lore.Filter {
	return lore.Filter{Sources: k.Sources, Regions: k.Regions, Tags: k.Tags, MaxSecrecy: k.MaxSecrecy}
}

// Definition is an NPC as a studio writes it, one YAML file per NPC.
type Definition struct {
	ID          string    `yaml:"id"`   // stable id: lowercase a-z, 0-9 and '-', at most 64 bytes
	Name        string    `yaml:"name"` // display name; two NPCs may share one
	Role        string    `yaml:"role"`
	Traits      []string  `yaml:"traits"`
	SpeechStyle string    `yaml:"speech_style"`
	Faction     string    `yaml:"faction"` // faction entity id
	Home        string    `yaml:"home"`    // place entity id
	Goals       []string  `yaml:"goals"`
	Secrets     []string  `yaml:"secrets"`  // never revealed by the NPC
	Greeting    string    `yaml:"greeting"` // optional opening line in persona
	Knowledge   Knowledge `yaml:"knowledge"`
	// Actions is the NPC's allow-list of action kinds (action.go), e.g.
	// [trade, end_conversation]. Absent: DefaultActions (end_conversation
	// only); an empty list allows none.
	Actions []ActionKind `yaml:"actions"`
}

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// Validate reports the first problem with d, naming the field.
func (d *Definition) Validate() error {
	switch {
	case !idPattern.MatchString(d.ID):
		return fmt.Errorf("id %q: want 1-64 characters of a-z, 0-9 and '-'", d.ID)
	case strings.TrimSpace(d.Name) == "":
		return errors.New("name: required")
	case strings.TrimSpace(d.Role) == "":
		return errors.New("role: required")
	case len(d.Knowledge.Sources) == 0:
		return errors.New("knowledge.sources: at least one lore source is required")
	case d.Knowledge.MaxSecrecy < 0 || d.Knowledge.MaxSecrecy > 2:
		return fmt.Errorf("knowledge.max_secrecy %d: want 0, 1 or 2", d.Knowledge.MaxSecrecy)
	}
	return validateActionList(d.Actions)
}

// DefinitionError is a problem in one NPC file. Line is 1-based, 0 when
// unknown.
type DefinitionError struct {
	Path string
	Line int
	Err  error
}

func (e *DefinitionError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Path, e.Err)
}

func (e *DefinitionError) Unwrap() error { return e.Err }

// ParseDefinition decodes and validates one NPC YAML document. Unknown
// fields are errors, so a typo does not silently drop a trait.
func ParseDefinition(name string, data []byte) (Definition, error) {
	var d Definition
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		line, msg := yamlerr.Locate(string(data), err)
		return d, &DefinitionError{Path: name, Line: line, Err: errors.New(msg)}
	}
	if err := d.Validate(); err != nil {
		return d, &DefinitionError{Path: name, Err: err}
	}
	return d, nil
}

// LoadDefinitions reads every *.yaml and *.yml file in dir of fsys, sorted
// by id. A broken file is an error naming the file and line; duplicate ids
// are an error naming both files.
func LoadDefinitions(fsys fs.FS, dir string) ([]Definition, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("npc: read %s: %w", dir, err)
	}
	var defs []Definition
	seen := map[string]string{}
	var errs []error
	for _, e := range entries {
		ext := path.Ext(e.Name())
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		p := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		d, err := ParseDefinition(p, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if prev, dup := seen[d.ID]; dup {
			errs = append(errs, fmt.Errorf("npc: id %q defined twice: %s and %s", d.ID, prev, p))
			continue
		}
		seen[d.ID] = p
		defs = append(defs, d)
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].ID < defs[j].ID })
	return defs, errors.Join(errs...)
}

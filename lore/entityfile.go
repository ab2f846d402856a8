package lore

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hearth-ai/hearth/internal/yamlerr"
	yaml "go.yaml.in/yaml/v3"
)

// Entity files declare entities without prose around them. A file named
// *.entities.yaml, *.entities.yml or *.entities.json holds either a list of
// entities or a mapping with defaults and that list:
//
//	region: millbrook          # default region of the entities below
//	tags: [smiths-guild]       # knowledge tags of their description chunks
//	secrecy: 0                 # default secrecy of their description chunks
//	entities:
//	  - id: brenna-smith
//	    type: npc
//	    name: Brenna Ashdown
//	    aliases: [Brenna, the Smith]
//	    tags: [craftsfolk]     # the entity's own tags
//	    region: millbrook
//	    secrecy: 1             # of this entity's description chunk
//	    relations: {located_in: millbrook-forge, member_of: [smiths-guild]}
//	    description: |         # optional; becomes a chunk headed by the name
//	      The village smith. She shoes horses for the whole valley.
//
// JSON files have the same shape ({"entities": [{"id": ...}]} or a bare
// list). Unknown fields are ignored. Every entity needs an id; an id listed
// twice in one file rejects the file (ErrEntityFile, with the line of the
// second one), as does a list of more than 10,000 entities (split it).
type entityFile struct {
	Region   string
	Tags     []string
	Secrecy  int
	Entities []fmEntity
}

// entityFileSuffixes are the name endings (lowercase) of entity files.
var entityFileSuffixes = []string{".entities.yaml", ".entities.yml", ".entities.json"}

func isEntityFile(name string) bool {
	lower := strings.ToLower(name)
	for _, s := range entityFileSuffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	return false
}

// parseEntityFile parses the text of an entity file (valid UTF-8, "\n" line
// ends, no BOM). isJSON makes it check JSON syntax first, so that a file
// named .json is JSON and not merely YAML. Errors are *lineError values
// wrapping ErrEntityFile with the line in the file.
func parseEntityFile(text string, isJSON bool) (ef entityFile, err error) {
	defer func() {
		if err != nil {
			err = asEntityFileError(err)
		}
	}()
	if isJSON && !json.Valid([]byte(text)) {
		var v any
		jerr := json.Unmarshal([]byte(text), &v)
		line := 1
		var se *json.SyntaxError
		if errors.As(jerr, &se) {
			line = 1 + strings.Count(text[:min(int(se.Offset), len(text))], "\n")
		}
		return ef, &lineError{line: line, err: fmt.Errorf("%w: JSON: %v", ErrEntityFile, jerr)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(yamlBreaks.Replace(text)), &doc); err != nil {
		line, msg := yamlerr.Locate(text, err)
		return ef, &lineError{line: max(line, 1), err: fmt.Errorf("%w: %s", ErrEntityFile, msg)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return ef, nil
	}
	root := deref(doc.Content[0])
	switch {
	case root.Kind == yaml.ScalarNode && root.Tag == "!!null":
		return ef, nil
	case root.Kind == yaml.SequenceNode:
		ef.Entities, err = fmEntities(root)
		if err != nil {
			return ef, err
		}
	case root.Kind == yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := root.Content[i], deref(root.Content[i+1])
			if prev, dup := seen[k.Value]; dup {
				return ef, fmErrorf(k.Line, "field %q is set twice (first on line %d)", k.Value, prev)
			}
			seen[k.Value] = k.Line
			switch k.Value {
			case "region":
				ef.Region, err = fmString(k.Value, v)
			case "tags":
				ef.Tags, err = fmStrings(k.Value, v)
			case "secrecy":
				ef.Secrecy, err = fmInt(k.Value, v)
			case "entities":
				ef.Entities, err = fmEntities(v)
			}
			if err != nil {
				return ef, err
			}
		}
		if _, ok := seen["entities"]; !ok {
			return ef, fmErrorf(root.Line, `no "entities" field: an entity file holds a list of entities, or a mapping with an "entities" list`)
		}
	default:
		return ef, fmErrorf(root.Line, `want a list of entities or a mapping with an "entities" list, got %s`, kindName(root))
	}
	seen := map[string]int{}
	for _, e := range ef.Entities {
		if prev, dup := seen[e.ID]; dup {
			return ef, fmErrorf(e.Line, "entity id %q is declared twice in this file (first on line %d)", e.ID, prev)
		}
		seen[e.ID] = e.Line
	}
	return ef, nil
}

// asEntityFileError rewrites an ErrFrontMatter line error (the YAML helpers
// are shared with front matter) as ErrEntityFile.
func asEntityFileError(err error) error {
	var le *lineError
	if !errors.As(err, &le) || !errors.Is(le.err, ErrFrontMatter) {
		return err
	}
	msg := strings.TrimPrefix(le.err.Error(), ErrFrontMatter.Error()+": ")
	return &lineError{line: le.line, err: fmt.Errorf("%w: %s", ErrEntityFile, msg)}
}

package lore

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/hearth-ai/hearth/internal/yamlerr"
	yaml "go.yaml.in/yaml/v3"
)

// frontMatter is the YAML block between "---" lines at the top of a lore
// document:
//
//	---
//	id: brenna-smith          # the document's primary entity (optional)
//	type: npc
//	name: Brenna Ashdown
//	aliases: [Brenna, the smith]
//	region: millbrook         # applies to every chunk of the document
//	tags: [smiths-guild]      # knowledge tags: who may know this
//	secrecy: 1                # 0 = common knowledge
//	relations:                # the primary entity's links: kind → id or [ids]
//	  located_in: millbrook
//	  member_of: [smiths-guild]
//	  owns: [millbrook-forge]
//	entities:                 # more entities the document declares
//	  - {id: millbrook-forge, type: place, name: The Forge}
//	  - id: iron-oath
//	    type: faction
//	    relations: {located_in: highreach}
//	    description: A sworn company of smiths.   # becomes a chunk of its own
//	---
//
// Unknown fields are ignored, so studios can keep their own metadata there.
type frontMatter struct {
	ID, Type, Name, Region string
	Aliases, Tags          []string
	Secrecy                int
	Relations              []Relation
	Entities               []fmEntity
}

// fmEntity is one item of the entities list (of front matter or of an
// entity file).
type fmEntity struct {
	ID, Type, Name, Region string
	Aliases, Tags          []string
	Relations              []Relation
	Description            string // text of the entity's own chunk; "" = none
	Secrecy                int    // secrecy of that chunk, when HasSecrecy
	HasSecrecy             bool
	Line                   int // line in the file where the item starts
}

// Bounds on what a front matter block may hold; they keep a hostile file
// (YAML aliases expanding to huge lists) from costing much.
const (
	maxFMListItems   = 1000  // aliases, tags
	maxFMEntities    = 10000 // entities
	frontMatterFence = "---"
	// fmLineOffset: the YAML starts on line 2 of the file, so a node on YAML
	// line n is on file line n+1.
	fmLineOffset      = 1
	frontMatterFence2 = "..."
)

var yamlBreaks = strings.NewReplacer("\u0085", " ", "\u2028", " ", "\u2029", " ")

// parseFrontMatter splits text (valid UTF-8, "\n" line ends, no BOM) into
// its front matter and the body after it. Text that does not start with a
// "---" line has no front matter: body is text. bodyLine is the 1-based
// line of the file where body starts. Errors are *lineError values wrapping
// ErrFrontMatter, with the line in the file.
func parseFrontMatter(text string) (fm frontMatter, body string, bodyLine int, err error) {
	first, rest, _ := strings.Cut(text, "\n")
	if strings.TrimRight(first, " \t") != frontMatterFence {
		return fm, text, 1, nil
	}
	const offset = fmLineOffset
	var yamlText string
	closed := false
	pos := 0
	lineNo := 1
	for pos <= len(rest) {
		end := strings.IndexByte(rest[pos:], '\n')
		var line string
		next := len(rest) + 1
		if end < 0 {
			line = rest[pos:]
		} else {
			line = rest[pos : pos+end]
			next = pos + end + 1
		}
		lineNo++
		if l := strings.TrimRight(line, " \t"); l == frontMatterFence || l == frontMatterFence2 {
			yamlText = rest[:pos]
			if next <= len(rest) {
				body = rest[next:]
			}
			closed = true
			break
		}
		if end < 0 {
			break
		}
		pos = next
	}
	if !closed {
		return fm, "", 0, fmErrorf(1, `the "---" on line 1 opens front matter that no "---" line closes; add a "---" line after the last field`)
	}
	bodyLine = lineNo + 1
	if strings.TrimSpace(yamlText) == "" {
		return fm, body, bodyLine, nil
	}
	// YAML also breaks lines at NEL, LS and PS; make them spaces so that its
	// line numbers stay those of the file.
	yamlText = yamlBreaks.Replace(yamlText)
	lastLine := lineNo - 1 // last YAML line, in the file
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(yamlText), &doc); err != nil {
		line, msg := yamlerr.Locate(yamlText, err)
		return fm, "", 0, fmErrorf(min(line+offset, lastLine), "YAML: %s", msg)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return fm, body, bodyLine, nil
	}
	root := deref(doc.Content[0])
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return fm, body, bodyLine, nil
	}
	if root.Kind != yaml.MappingNode {
		return fm, "", 0, fmErrorf(root.Line+offset, "want a mapping of fields (id:, type:, name:, ...), got %s", kindName(root))
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], deref(root.Content[i+1])
		key := k.Value
		if prev, dup := seen[key]; dup {
			return fm, "", 0, fmErrorf(k.Line+offset, "field %q is set twice (first on line %d)", key, prev+offset)
		}
		seen[key] = k.Line
		var err error
		switch key {
		case "id":
			fm.ID, err = fmString(key, v)
		case "type":
			fm.Type, err = fmString(key, v)
		case "name":
			fm.Name, err = fmString(key, v)
		case "region":
			fm.Region, err = fmString(key, v)
		case "aliases":
			fm.Aliases, err = fmStrings(key, v)
		case "tags":
			fm.Tags, err = fmStrings(key, v)
		case "secrecy":
			fm.Secrecy, err = fmInt(key, v)
		case "relations":
			fm.Relations, err = fmRelations(key, v)
		case "entities":
			fm.Entities, err = fmEntities(v)
		}
		if err != nil {
			return fm, "", 0, offsetLine(err, offset)
		}
	}
	if _, ok := seen["id"]; ok && strings.TrimSpace(fm.ID) == "" {
		return fm, "", 0, fmErrorf(seen["id"]+offset, `field "id" is empty; give the document's entity an id or remove the field`)
	}
	for i := range fm.Entities {
		fm.Entities[i].Line += offset
	}
	return fm, body, bodyLine, nil
}

func offsetLine(err error, offset int) error {
	var le *lineError
	if errors.As(err, &le) {
		le.line += offset
	}
	return err
}

// deref follows YAML aliases (*name) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 16; i++ {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	case yaml.AliasNode:
		return "an alias"
	default:
		return "an unexpected YAML node"
	}
}

func fmString(field string, v *yaml.Node) (string, error) {
	if v.Kind != yaml.ScalarNode {
		return "", fmErrorf(v.Line, "field %q: want a string, got %s", field, kindName(v))
	}
	if v.Tag == "!!null" {
		return "", nil
	}
	return strings.TrimSpace(v.Value), nil
}

func fmStrings(field string, v *yaml.Node) ([]string, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, fmErrorf(v.Line, "field %q: want a list of strings such as [a, b], got %s", field, kindName(v))
	}
	if len(v.Content) > maxFMListItems {
		return nil, fmErrorf(v.Line, "field %q: %d items, more than the %d allowed", field, len(v.Content), maxFMListItems)
	}
	out := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		item = deref(item)
		if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
			return nil, fmErrorf(item.Line, "field %q: want a list of strings, got an item that is %s", field, kindName(item))
		}
		if s := strings.TrimSpace(item.Value); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

func fmInt(field string, v *yaml.Node) (int, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return 0, nil
	}
	if v.Kind != yaml.ScalarNode || v.Tag != "!!int" {
		return 0, fmErrorf(v.Line, "field %q: want a whole number such as 0 or 2, got %s", field, kindName(v))
	}
	var n int
	if err := v.Decode(&n); err != nil {
		return 0, fmErrorf(v.Line, "field %q: want a whole number, got %s", field, kindName(v))
	}
	if n < 0 {
		return 0, fmErrorf(v.Line, "field %q: %d is negative; 0 means common knowledge", field, n)
	}
	return n, nil
}

func fmEntities(v *yaml.Node) ([]fmEntity, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.SequenceNode {
		return nil, fmErrorf(v.Line, `field "entities": want a list of {id, type, name, aliases, tags, region, relations}, got %s`, kindName(v))
	}
	if len(v.Content) > maxFMEntities {
		return nil, fmErrorf(v.Line, `field "entities": %d items, more than the %d allowed`, len(v.Content), maxFMEntities)
	}
	out := make([]fmEntity, 0, len(v.Content))
	for i, item := range v.Content {
		item = deref(item)
		if item.Kind != yaml.MappingNode {
			return nil, fmErrorf(item.Line, `entities[%d]: want a mapping {id: ..., type: ..., name: ...}, got %s`, i, kindName(item))
		}
		e := fmEntity{Line: item.Line}
		seen := map[string]int{}
		for j := 0; j+1 < len(item.Content); j += 2 {
			k, val := item.Content[j], deref(item.Content[j+1])
			if prev, dup := seen[k.Value]; dup {
				return nil, fmErrorf(k.Line, "entities[%d]: field %q is set twice (first on line %d)", i, k.Value, prev+fmLineOffset)
			}
			seen[k.Value] = k.Line
			field := "entities[" + strconv.Itoa(i) + "]." + k.Value
			var err error
			switch k.Value {
			case "id":
				e.ID, err = fmString(field, val)
			case "type":
				e.Type, err = fmString(field, val)
			case "name":
				e.Name, err = fmString(field, val)
			case "region":
				e.Region, err = fmString(field, val)
			case "aliases":
				e.Aliases, err = fmStrings(field, val)
			case "tags":
				e.Tags, err = fmStrings(field, val)
			case "relations":
				e.Relations, err = fmRelations(field, val)
			case "description", "text":
				e.Description, err = fmString(field, val)
			case "secrecy":
				e.Secrecy, err = fmInt(field, val)
				e.HasSecrecy = err == nil && val.Tag != "!!null"
			}
			if err != nil {
				return nil, err
			}
		}
		if e.ID == "" {
			return nil, fmErrorf(item.Line, "entities[%d]: missing \"id\"; every declared entity needs a stable id", i)
		}
		out = append(out, e)
	}
	return out, nil
}

// fmRelations parses a relations mapping: each key is a relation kind
// ("located_in", "member of" and "member-of" are the same kind), each value
// one entity id or a list of ids. The result is sorted by kind then target,
// without repeats.
func fmRelations(field string, v *yaml.Node) ([]Relation, error) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil, nil
	}
	if v.Kind != yaml.MappingNode {
		return nil, fmErrorf(v.Line, "field %q: want a mapping such as {located_in: millbrook, member_of: [guild]}, got %s", field, kindName(v))
	}
	var out []Relation
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], deref(v.Content[i+1])
		kind := relationKind(k.Value)
		if kind == "" {
			return nil, fmErrorf(k.Line, "field %q: relation kind %q: use words such as located_in, member_of, owns", field, k.Value)
		}
		var targets []string
		if val.Kind == yaml.ScalarNode && val.Tag != "!!null" {
			targets = []string{strings.TrimSpace(val.Value)}
		} else {
			var err error
			if targets, err = fmStrings(field+"."+kind, val); err != nil {
				return nil, err
			}
		}
		if len(out)+len(targets) > maxFMListItems {
			return nil, fmErrorf(val.Line, "field %q: more than the %d relations allowed", field, maxFMListItems)
		}
		for _, t := range targets {
			if t == "" {
				return nil, fmErrorf(val.Line, "field %q: relation %s has an empty id", field, kind)
			}
			out = append(out, Relation{Kind: kind, Target: t})
		}
	}
	slices.SortFunc(out, func(a, b Relation) int {
		return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Target, b.Target))
	})
	return slices.Compact(out), nil
}

// relationKind normalises a relation kind: lowercase, words joined by "_"
// ("Located In" and "located-in" are "located_in"). It returns "" when the
// kind holds something other than letters, digits, spaces, "-" and "_".
func relationKind(s string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.TrimSpace(s) {
		switch {
		case r == ' ' || r == '-' || r == '_':
			sep = b.Len() > 0
		case r < 0x80 && isWordRune(r):
			if sep {
				b.WriteByte('_')
				sep = false
			}
			b.WriteRune(unicode.ToLower(r))
		default:
			return ""
		}
	}
	return b.String()
}

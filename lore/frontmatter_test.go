package lore

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseFrontMatter(t *testing.T) {
	src := `---
id: brenna-smith
type: npc
name: Brenna Ashdown
aliases: [Brenna, "the smith"]
region: millbrook
tags:
  - smiths-guild
secrecy: 2
entities:
  - {id: millbrook-forge, type: place, name: The Forge}
  - id: iron-oath
    type: faction
    aliases: [Oathkeepers]
    region: highreach
custom_field: ignored
---
# Brenna
Body.
`
	fm, body, bodyLine, err := parseFrontMatter(src)
	if err != nil {
		t.Fatal(err)
	}
	if fm.ID != "brenna-smith" || fm.Type != "npc" || fm.Name != "Brenna Ashdown" || fm.Region != "millbrook" || fm.Secrecy != 2 {
		t.Errorf("fields = %+v", fm)
	}
	if !slices.Equal(fm.Aliases, []string{"Brenna", "the smith"}) || !slices.Equal(fm.Tags, []string{"smiths-guild"}) {
		t.Errorf("aliases %q tags %q", fm.Aliases, fm.Tags)
	}
	if len(fm.Entities) != 2 || fm.Entities[0].ID != "millbrook-forge" || fm.Entities[0].Line != 11 ||
		fm.Entities[1].ID != "iron-oath" || fm.Entities[1].Region != "highreach" || fm.Entities[1].Line != 12 {
		t.Errorf("entities = %+v", fm.Entities)
	}
	if body != "# Brenna\nBody.\n" || bodyLine != 18 {
		t.Errorf("body = %q at line %d", body, bodyLine)
	}
}

func TestParseFrontMatterAbsentOrEmpty(t *testing.T) {
	for _, src := range []string{"# Title\n\ntext\n", "", "text ---\n---\n", "---\n---\nbody\n", "---\n# just a comment\n---\nbody\n", "---\n~\n---\nbody\n"} {
		fm, body, _, err := parseFrontMatter(src)
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if fm.ID != "" || len(fm.Entities) != 0 {
			t.Errorf("%q: unexpected fields %+v", src, fm)
		}
		if !strings.HasPrefix(src, "---") && body != src {
			t.Errorf("%q: body = %q", src, body)
		}
	}
}

// TestParseFrontMatterErrorLines checks that every kind of broken front
// matter is reported at the line, counted in the file, that needs fixing.
func TestParseFrontMatterErrorLines(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
		want string
	}{
		{"unclosed flow list", "---\nid: a\nname: b\naliases: [x, y\ntype: npc\n---\n", 4, "YAML"},
		{"bad indentation", "---\nid: a\nname: b\n  bad: indent\n---\n", 4, "YAML"},
		{"unterminated quote", "---\nid: a\nname: \"open\ntype: x\n---\n", 3, "YAML"},
		{"list dedent", "---\nid: a\ntags:\n  - a\n - b\n---\n", 5, "YAML"},
		{"tab indentation", "---\nid: a\n\tname: b\n---\n", 3, "YAML"},
		{"colon in value", "---\nid: a\nname: b: c\n---\n", 3, "YAML"},
		{"first line", "---\nid: [a\n---\n", 2, "YAML"},
		{"unknown anchor", "---\nid: a\nname: *nope\n---\n", 3, "YAML"},
		{"unterminated", "---\nid: a\nname: b\n\n# Title\n", 1, `no "---" line closes`},
		{"secrecy not int", "---\nid: a\nsecrecy: high\n---\n", 3, `"secrecy": want a whole number`},
		{"secrecy negative", "---\nid: a\nsecrecy: -1\n---\n", 3, "negative"},
		{"aliases scalar", "---\nid: a\naliases: Brenna\n---\n", 3, `"aliases": want a list`},
		{"tags mapping", "---\nid: a\ntags: {a: 1}\n---\n", 3, `"tags": want a list`},
		{"tag item list", "---\nid: a\ntags:\n  - ok\n  - [nested]\n---\n", 5, "item that is a list"},
		{"name mapping", "---\nid: a\nname:\n  first: B\n---\n", 4, `"name": want a string`},
		{"not a mapping", "---\n- a\n- b\n---\n", 2, "want a mapping of fields"},
		{"duplicate field", "---\nid: a\nname: b\nid: c\n---\n", 4, `"id" is set twice (first on line 2)`},
		{"empty id", "---\nid: \"\"\n---\n", 2, `"id" is empty`},
		{"entities scalar", "---\nentities: nope\n---\n", 2, `"entities": want a list`},
		{"entity missing id", "---\nentities:\n  - {id: x}\n  - name: Y\n    type: npc\n---\n", 4, `entities[1]: missing "id"`},
		{"entity bad aliases", "---\nentities:\n  - id: x\n    aliases: 3\n---\n", 4, `entities[0].aliases`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := parseFrontMatter(tt.src)
			var le *lineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *lineError", err)
			}
			if !errors.Is(err, ErrFrontMatter) {
				t.Errorf("err = %v, does not wrap ErrFrontMatter", err)
			}
			if le.line != tt.line {
				t.Errorf("line = %d, want %d (err: %v)", le.line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// FuzzParseFrontMatter checks that no input panics, that errors carry a
// line inside the file, and that a body is always a suffix of the input.
func FuzzParseFrontMatter(f *testing.F) {
	for _, s := range []string{
		"---\nid: a\ntype: npc\nname: A\naliases: [x]\ntags: [t]\nregion: r\nsecrecy: 1\nentities:\n  - {id: b, name: B}\n---\n# A\ntext\n",
		"---\nid: [a\n---\n",
		"---\nid: a\n",
		"---\n&x [*x]\n---\n",
		"---\na: &a [1, 2]\nentities: [*a, *a]\n---\n",
		"# no front matter\n",
		"---\n---\n",
		"---\nsecrecy: 99999999999999999999999\n---\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		src = normalizeText(src) // as parseDocument does
		fm, body, bodyLine, err := parseFrontMatter(src)
		lines := strings.Count(src, "\n") + 1
		if err != nil {
			var le *lineError
			if !errors.As(err, &le) {
				t.Fatalf("err %v is not a *lineError", err)
			}
			if le.line < 1 || le.line > lines {
				t.Fatalf("error line %d outside the file's %d lines: %v", le.line, lines, err)
			}
			return
		}
		if !strings.HasSuffix(src, body) {
			t.Fatalf("body %q is not a suffix of the input", body)
		}
		if bodyLine < 1 || bodyLine > lines+1 {
			t.Fatalf("body line %d outside 1..%d", bodyLine, lines+1)
		}
		if fm.Secrecy < 0 {
			t.Fatalf("negative secrecy %d accepted", fm.Secrecy)
		}
		for _, e := range fm.Entities {
			if e.ID == "" {
				t.Fatal("entity without id accepted")
			}
		}
	})
}

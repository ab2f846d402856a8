package world

import (
	"bytes"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const (
	minLoreDocs    = 28
	minNPCs        = 8
	minSecretDocs  = 3
	minBodyWords   = 120
	maxBodyWords   = 400
	frontMatterSep = "---"
)

var (
	idPattern   = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	entityTypes = []string{"place", "faction", "npc", "creature", "item", "event", "history", "person"}
	sources     = []string{Source, "srd"}
)

// entity is one entity declaration: a document's primary entity or an entry
// of its entities list.
type entity struct {
	ID      string   `yaml:"id"`
	Type    string   `yaml:"type"`
	Name    string   `yaml:"name"`
	Aliases []string `yaml:"aliases"`
	Tags    []string `yaml:"tags"`
	Region  string   `yaml:"region"`
}

// frontMatter is the YAML block at the head of a lore document.
type frontMatter struct {
	entity   `yaml:",inline"`
	Secrecy  *int     `yaml:"secrecy"`
	Entities []entity `yaml:"entities"`
}

type loreDoc struct {
	path string
	fm   *frontMatter // nil for a document without front matter
	body string
}

type npc struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Role        string   `yaml:"role"`
	Traits      []string `yaml:"traits"`
	SpeechStyle string   `yaml:"speech_style"`
	Faction     string   `yaml:"faction"`
	Home        string   `yaml:"home"`
	Goals       []string `yaml:"goals"`
	Secrets     []string `yaml:"secrets"`
	Greeting    string   `yaml:"greeting"`
	Actions     []string `yaml:"actions"` // the allow-list (npc.Definition.Actions)
	Knowledge   struct {
		Sources    []string `yaml:"sources"`
		Regions    []string `yaml:"regions"`
		Tags       []string `yaml:"tags"`
		MaxSecrecy *int     `yaml:"max_secrecy"`
	} `yaml:"knowledge"`
}

// decodeStrict decodes YAML into v, rejecting unknown fields so that a
// misspelt key fails the test instead of being silently dropped.
func decodeStrict(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// splitFrontMatter separates a document's front matter from its body. ok is
// false when the document has no front matter.
func splitFrontMatter(data string) (fm, body string, ok bool) {
	rest, found := strings.CutPrefix(data, frontMatterSep+"\n")
	if !found {
		return "", data, false
	}
	fm, body, found = strings.Cut(rest, "\n"+frontMatterSep+"\n")
	if !found {
		return "", data, false
	}
	return fm, body, true
}

func loadLore(t *testing.T) []loreDoc {
	t.Helper()
	paths, err := fs.Glob(FS(), "lore/*.md")
	if err != nil {
		t.Fatal(err)
	}
	var docs []loreDoc
	for _, p := range paths {
		data, err := fs.ReadFile(FS(), p)
		if err != nil {
			t.Fatal(err)
		}
		raw, body, ok := splitFrontMatter(string(data))
		d := loreDoc{path: p, body: body}
		if ok {
			d.fm = new(frontMatter)
			if err := decodeStrict([]byte(raw), d.fm); err != nil {
				t.Fatalf("%s: front matter: %v", p, err)
			}
		}
		docs = append(docs, d)
	}
	return docs
}

func loadNPCs(t *testing.T) map[string]npc {
	t.Helper()
	paths, err := fs.Glob(FS(), "npcs/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	npcs := make(map[string]npc)
	for _, p := range paths {
		data, err := fs.ReadFile(FS(), p)
		if err != nil {
			t.Fatal(err)
		}
		var n npc
		if err := decodeStrict(data, &n); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if want := strings.TrimSuffix(path.Base(p), ".yaml"); n.ID != want {
			t.Errorf("%s: id %q, want %q (the file name)", p, n.ID, want)
		}
		if _, dup := npcs[n.ID]; dup {
			t.Errorf("%s: duplicate NPC id %q", p, n.ID)
		}
		npcs[n.ID] = n
	}
	return npcs
}

// registry collects every declared entity by id, and the regions and tags the
// lore uses.
type registry struct {
	entities map[string]entity
	regions  map[string]bool
	tags     map[string]bool
}

func buildRegistry(t *testing.T, docs []loreDoc) registry {
	t.Helper()
	r := registry{entities: map[string]entity{}, regions: map[string]bool{}, tags: map[string]bool{}}
	for _, d := range docs {
		if d.fm == nil {
			continue
		}
		for _, e := range append([]entity{d.fm.entity}, d.fm.Entities...) {
			if prev, dup := r.entities[e.ID]; dup && e.ID != "" {
				t.Errorf("%s: entity id %q declared twice (also %q)", d.path, e.ID, prev.Name)
			}
			r.entities[e.ID] = e
			if e.Region != "" {
				r.regions[e.Region] = true
			}
		}
		for _, tag := range d.fm.Tags {
			r.tags[tag] = true
		}
	}
	return r
}

func checkEntity(t *testing.T, e entity) {
	t.Helper()
	if !idPattern.MatchString(e.ID) {
		t.Errorf("entity id %q: want lowercase a-z0-9 words joined by '-'", e.ID)
	}
	if !slices.Contains(entityTypes, e.Type) {
		t.Errorf("entity %q: type %q, want one of %v", e.ID, e.Type, entityTypes)
	}
	if strings.TrimSpace(e.Name) == "" {
		t.Errorf("entity %q: empty name", e.ID)
	}
	if !idPattern.MatchString(e.Region) {
		t.Errorf("entity %q: region %q is not an id", e.ID, e.Region)
	}
	for _, tag := range e.Tags {
		if !idPattern.MatchString(tag) {
			t.Errorf("entity %q: tag %q is not an id", e.ID, tag)
		}
	}
}

func TestLoreDocuments(t *testing.T) {
	docs := loadLore(t)
	if len(docs) < minLoreDocs {
		t.Errorf("%d lore documents, want at least %d", len(docs), minLoreDocs)
	}
	var withFM, secrets, local, sectioned, bare int
	for _, d := range docs {
		t.Run(path.Base(d.path), func(t *testing.T) {
			if !strings.HasPrefix(strings.TrimLeft(d.body, "\n"), "# ") {
				t.Errorf("body does not start with a '# ' title")
			}
			if n := len(strings.Fields(d.body)); n < minBodyWords || n > maxBodyWords {
				t.Errorf("%d words, want %d to %d", n, minBodyWords, maxBodyWords)
			}
			if d.fm == nil {
				return
			}
			checkEntity(t, d.fm.entity)
			for _, e := range d.fm.Entities {
				checkEntity(t, e)
			}
			if d.fm.Secrecy == nil {
				t.Errorf("missing secrecy")
			} else if s := *d.fm.Secrecy; s < 0 || s > 2 {
				t.Errorf("secrecy %d, want 0, 1 or 2", s)
			}
		})
		if d.fm == nil {
			bare++
			continue
		}
		withFM++
		if d.fm.Secrecy != nil {
			switch *d.fm.Secrecy {
			case 1:
				local++
			case 2:
				secrets++
			}
		}
		if strings.Count("\n"+d.body, "\n## ") >= 2 {
			sectioned++
		}
	}
	if bare == 0 {
		t.Error("no lore document without front matter; want at least one")
	}
	if secrets < minSecretDocs {
		t.Errorf("%d secrecy-2 documents, want at least %d", secrets, minSecretDocs)
	}
	if local == 0 {
		t.Error("no secrecy-1 documents")
	}
	if 2*sectioned < withFM {
		t.Errorf("%d of %d documents have two or more '##' sections, want at least half", sectioned, withFM)
	}
	reg := buildRegistry(t, docs)
	if n := len(reg.regions); n < 2 || n > 3 {
		t.Errorf("%d regions %v, want 2 or 3", n, reg.regions)
	}
}

func TestNPCs(t *testing.T) {
	docs := loadLore(t)
	reg := buildRegistry(t, docs)
	npcs := loadNPCs(t)
	if len(npcs) < minNPCs {
		t.Errorf("%d NPCs, want at least %d", len(npcs), minNPCs)
	}
	requireType := func(t *testing.T, field, id, typ string) {
		t.Helper()
		e, ok := reg.entities[id]
		switch {
		case id == "":
			t.Errorf("%s is empty", field)
		case !ok:
			t.Errorf("%s %q is not a declared entity", field, id)
		case e.Type != typ:
			t.Errorf("%s %q is declared as a %s, want %s", field, id, e.Type, typ)
		}
	}
	var srd, secretKeepers int
	for id, n := range npcs {
		t.Run(id, func(t *testing.T) {
			requireType(t, "id", n.ID, "npc")
			requireType(t, "faction", n.Faction, "faction")
			requireType(t, "home", n.Home, "place")
			if e := reg.entities[n.ID]; e.Name != n.Name {
				t.Errorf("name %q, but the lore declares %q", n.Name, e.Name)
			}
			for field, v := range map[string]string{"name": n.Name, "role": n.Role, "speech_style": n.SpeechStyle, "greeting": n.Greeting} {
				if strings.TrimSpace(v) == "" {
					t.Errorf("empty %s", field)
				}
			}
			for field, v := range map[string][]string{"traits": n.Traits, "goals": n.Goals, "secrets": n.Secrets} {
				if len(v) == 0 {
					t.Errorf("empty %s", field)
				}
			}
			k := n.Knowledge
			if len(k.Sources) == 0 {
				t.Error("knowledge.sources is empty")
			}
			for _, s := range k.Sources {
				if !slices.Contains(sources, s) {
					t.Errorf("knowledge source %q, want one of %v", s, sources)
				}
			}
			for _, r := range k.Regions {
				if !reg.regions[r] {
					t.Errorf("knowledge region %q is not used by any lore", r)
				}
			}
			for _, tag := range k.Tags {
				if !reg.tags[tag] {
					t.Errorf("knowledge tag %q is not used by any lore document", tag)
				}
			}
			if k.MaxSecrecy == nil {
				t.Error("knowledge.max_secrecy is missing")
			} else if s := *k.MaxSecrecy; s < 0 || s > 2 {
				t.Errorf("knowledge.max_secrecy %d, want 0, 1 or 2", s)
			}
		})
		if slices.Contains(n.Knowledge.Sources, "srd") && len(n.Knowledge.Tags) == 0 {
			srd++
		}
		if n.Knowledge.MaxSecrecy != nil && *n.Knowledge.MaxSecrecy == 2 {
			secretKeepers++
		}
	}
	if srd == 0 {
		t.Error("no NPC draws on the srd source with unrestricted tags")
	}
	if secretKeepers == 0 {
		t.Error("no NPC has knowledge.max_secrecy 2")
	}
	for id, e := range reg.entities {
		if _, ok := npcs[id]; e.Type == "npc" && !ok {
			t.Errorf("entity %q is declared as an npc but has no npcs/%s.yaml", id, id)
		}
	}
}

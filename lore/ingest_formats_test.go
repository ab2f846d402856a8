package lore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const wardensYAML = `# Entities of Kettleford, in the mapping form.
region: kettleford
tags: [villagers]
secrecy: 0
entities:
  - id: wardens
    type: faction
    name: The Wardens
    aliases: [Ford Wardens]
    relations:
      located in: wardhouse
    description: |
      The Wardens keep the ford and blow the **long horn** when the river rises.
  - id: mara
    type: npc
    name: Mara Reed
    aliases: [Mara]
    tags: [ferry]
    secrecy: 2
    relations: {member_of: wardens, owns: [ferry-boat, mara-house], located_in: wardhouse}
    description: Mara keeps the ferry accounts and owes the Tipped Kettle three crowns.
  - id: wardhouse
    type: place
    name: Wardhouse
    region: ford
`

const goblinsJSON = `[
	{"id": "goblin", "type": "creature", "name": "Goblin", "aliases": ["greenskin"],
	 "description": "Goblins raid the Wainway at dusk."},
	{"id": "goblin-boss", "type": "creature", "name": "Goblin Boss",
	 "relations": {"member_of": ["goblin-band"]}}
]
`

func TestEntityFiles(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	l, _ := openLibrary(t, st)
	rep := ingest(t, l, "world", mapFS(map[string]string{
		"kettleford.entities.yaml": wardensYAML,
		"monsters.entities.json":   goblinsJSON,
		"notes.json":               `{"not": "an entity file"}`, // ignored: not *.entities.json
		"config.yaml":              "port: 8080\n",              // ignored
	}))
	if len(rep.Errors) != 0 || len(rep.Warnings) != 0 {
		t.Fatalf("errors %v, warnings %v", rep.Errors, rep.Warnings)
	}
	if rep.Documents != 2 || rep.Entities != 5 || rep.Chunks != 3 {
		t.Fatalf("report = %+v, want 2 documents, 5 entities, 3 chunks (the descriptions)", rep)
	}
	check := func(l *Library) {
		t.Helper()
		reg := l.Entities()
		mara, ok := reg.Get("mara")
		if !ok {
			t.Fatal("mara missing")
		}
		wantRels := []Relation{{RelLocatedIn, "wardhouse"}, {RelMemberOf, "wardens"}, {RelOwns, "ferry-boat"}, {RelOwns, "mara-house"}}
		if mara.Type != "npc" || mara.Region != "kettleford" || !slices.Equal(mara.Tags, []string{"ferry"}) ||
			!slices.Equal(mara.Relations, wantRels) || mara.DocPath != "kettleford.entities.yaml" {
			t.Errorf("mara = %+v", mara)
		}
		if got := reg.Related("mara", RelOwns); !slices.Equal(got, []string{"ferry-boat", "mara-house"}) {
			t.Errorf("Related(mara, owns) = %v", got)
		}
		if got := reg.Related("wardens", ""); !slices.Equal(got, []string{"wardhouse"}) {
			t.Errorf("Related(wardens) = %v (\"located in\" is located_in)", got)
		}
		if w, _ := reg.Get("wardhouse"); w.Region != "ford" {
			t.Errorf("wardhouse region %q, want its own", w.Region)
		}
		if b, _ := reg.Get("goblin-boss"); !slices.Equal(b.Relations, []Relation{{RelMemberOf, "goblin-band"}}) {
			t.Errorf("goblin-boss = %+v", b)
		}
		// Descriptions are chunks headed by the entity's name, with its
		// region and secrecy and the file's knowledge tags.
		hits := l.Search("ferry accounts crowns", 3, Filter{MaxSecrecy: 2, Tags: []string{"villagers"}})
		if len(hits) == 0 {
			t.Fatal("no hit for Mara's description")
		}
		c := hits[0].Chunk
		if !slices.Equal(c.Heading, []string{"Mara Reed"}) || c.Secrecy != 2 || c.Region != "kettleford" ||
			!slices.Equal(c.Tags, []string{"villagers"}) || !slices.Equal(c.Entities, []string{"mara"}) {
			t.Errorf("description chunk = %+v", c)
		}
		if hits := l.Search("ferry accounts crowns", 3, Filter{MaxSecrecy: 1, Tags: []string{"villagers"}}); len(hits) != 0 {
			t.Errorf("secrecy 2 description seen at MaxSecrecy 1: %v", hitIDs(hits))
		}
		if hits := l.Search("long horn", 1, Filter{Tags: []string{"villagers"}}); len(hits) != 1 || strings.Contains(hits[0].Chunk.Text, "**") {
			t.Errorf("wardens description: %+v", hits)
		}
		if hits := l.Search("raid Wainway dusk", 1, Filter{}); len(hits) != 1 || hits[0].Chunk.DocPath != "monsters.entities.json" {
			t.Errorf("JSON description: %+v", hits)
		}
	}
	check(l)
	// Relations survive the store.
	l2, _ := openLibrary(t, st)
	check(l2)
}

func TestEntityFileErrors(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, ""))
	rep := ingest(t, l, "w", mapFS(map[string]string{
		"a-syntax.entities.json":  "[\n  {\"id\": \"x\"},\n  {\"id\": \"y\" \"type\": \"npc\"}\n]\n",
		"b-dup.entities.yaml":     "- id: x\n- id: y\n- id: x\n",
		"c-noid.entities.yaml":    "entities:\n  - name: Nameless\n",
		"d-badrel.entities.yaml":  "- id: x\n  relations: [owns, y]\n",
		"e-scalar.entities.yaml":  "just words\n",
		"f-nolist.entities.yaml":  "region: r\n",
		"g-good.entities.yml":     "- {id: ok, name: Fine}\n",
		"h-badkind.entities.yaml": "- id: x\n  relations: {\"lives in!\": y}\n",
	}))
	type where struct {
		path string
		line int
	}
	var got []where
	for _, fe := range rep.Errors {
		got = append(got, where{fe.Path, fe.Line})
		if !errors.Is(fe, ErrEntityFile) || errors.Is(fe, ErrFrontMatter) {
			t.Errorf("%v: want ErrEntityFile only", fe)
		}
	}
	want := []where{{"a-syntax.entities.json", 3}, {"b-dup.entities.yaml", 3}, {"c-noid.entities.yaml", 2},
		{"d-badrel.entities.yaml", 2}, {"e-scalar.entities.yaml", 1}, {"f-nolist.entities.yaml", 1}, {"h-badkind.entities.yaml", 2}}
	if !slices.Equal(got, want) {
		t.Errorf("errors at %v\nwant %v\n%v", got, want, rep.Errors)
	}
	if rep.Documents != 1 || rep.Entities != 1 {
		t.Errorf("report = %+v, want only the good file", rep)
	}
}

func TestFrontMatterRelations(t *testing.T) {
	st := openStore(t, t.TempDir())
	l, _ := openLibrary(t, st)
	doc := "---\nid: brenna\ntype: npc\nname: Brenna\nrelations:\n  located_in: forge\n  member-of: [guild]\n  owns: forge\nentities:\n" +
		"  - {id: forge, type: place, name: The Forge, relations: {located_in: millbrook}}\n---\n# Brenna\n\nThe smith.\n"
	rep := ingest(t, l, "v", mapFS(map[string]string{"brenna.md": doc}))
	if len(rep.Errors) != 0 {
		t.Fatal(rep.Errors)
	}
	for _, lib := range []*Library{l, func() *Library { l2, _ := openLibrary(t, st); return l2 }()} {
		b, _ := lib.Entities().Get("brenna")
		want := []Relation{{RelLocatedIn, "forge"}, {RelMemberOf, "guild"}, {RelOwns, "forge"}}
		if !slices.Equal(b.Relations, want) {
			t.Errorf("brenna relations = %v, want %v", b.Relations, want)
		}
		if got := lib.Entities().Related("forge", RelLocatedIn); !slices.Equal(got, []string{"millbrook"}) {
			t.Errorf("forge located_in = %v", got)
		}
	}
	// A relation value of the wrong shape is a front matter error at its line.
	rep = ingest(t, l, "v", mapFS(map[string]string{"bad.md": "---\nid: x\nrelations:\n  owns: {a: b}\n---\n# X\n\ntext\n"}))
	if len(rep.Errors) != 1 || rep.Errors[0].Line != 4 || !errors.Is(rep.Errors[0], ErrFrontMatter) {
		t.Errorf("errors = %v, want one at line 4", rep.Errors)
	}
}

func TestLookupPossessivesAndPlurals(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, ""))
	ingest(t, l, "w", mapFS(map[string]string{"k.entities.yaml": wardensYAML, "g.entities.json": goblinsJSON}))
	reg := l.Entities()
	for _, tt := range []struct{ q, want string }{
		{"the Wardens'", "wardens"},
		{"Wardens’", "wardens"},
		{"THE WARDENS", "wardens"},
		{"warden", "wardens"},
		{"the Ford Wardens' horn", ""}, // extra words: no match
		{"Mara's", "mara"},
		{"mara’s", "mara"},
		{"Mara Reed's", "mara"},
		{"goblins", "goblin"},
		{"Goblins'", "goblin"},
		{"the goblin bosses", "goblin-boss"},
		{"Greenskins", "goblin"},
	} {
		got := ids(reg.Lookup(tt.q))
		if tt.want == "" {
			if len(got) != 0 {
				t.Errorf("Lookup(%q) = %v, want none", tt.q, got)
			}
			continue
		}
		if !slices.Equal(got, []string{tt.want}) {
			t.Errorf("Lookup(%q) = %v, want [%s]", tt.q, got, tt.want)
		}
	}
}

// TestBadInput feeds one folder of every kind of bad input the issue lists
// and checks that each is reported with its file name and handled as
// IngestFS documents, and that the good files are ingested all the same.
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	tenMB := strings.Repeat("word ", 2<<20) // 10 MiB, one line
	files := map[string]string{
		"binary.md":           "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
		"nul.txt":             strings.Repeat("filler line\n", 1000) + "three \x00 here\n",
		"latin1.md":           "# Caf\xe9\n\ntext\n",
		"utf16.md":            "\xff\xfe#\x00 \x00H\x00i\x00",
		"long-line.txt":       tenMB,
		"long-line.md":        "# Title\n\n" + tenMB[:MaxLineBytes+10] + "\n",
		"empty.md":            "",
		"blank.txt":           "\ufeff \n\r\n\t\n",
		"bom-crlf.md":         "\ufeff---\r\nid: bom\r\nname: Bom Keeper\r\n---\r\n# Bom Keeper\r\n\r\nThe keeper of the lighthouse.\r\nSecond line.\r\n",
		"cr-only.txt":         "old mac line one\rold mac line two\r",
		"dup-a.md":            "---\nid: twin\nname: Twin A\n---\n# A\n\ntext a\n",
		"dup-b.entities.yaml": "- {id: twin, name: Twin B}\n",
		"good.md":             "# Good\n\nThe ferry runs at dawn.\n",
	}
	writeFiles(t, dir, files)
	st := openStore(t, t.TempDir())
	l, logs := openLibrary(t, st)
	start := time.Now()
	rep, err := l.IngestDir(context.Background(), "bad", dir)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("ingest took %v", d)
	}
	type res struct {
		path string
		line int
		err  error
	}
	var got []res
	for _, fe := range rep.Errors {
		var sentinel error
		for _, s := range []error{ErrBinary, ErrInvalidUTF8, ErrLineTooLong, ErrFileTooLarge, ErrFrontMatter, ErrEntityFile} {
			if errors.Is(fe, s) {
				sentinel = s
			}
		}
		got = append(got, res{fe.Path, fe.Line, sentinel})
		if !strings.Contains(fe.Error(), "bad:"+fe.Path) {
			t.Errorf("%q does not name its file", fe.Error())
		}
		if !strings.Contains(logs.String(), "path="+fe.Path) {
			t.Errorf("%s not logged", fe.Path)
		}
	}
	want := []res{
		{"binary.md", 0, ErrBinary},
		{"latin1.md", 1, ErrInvalidUTF8},
		{"long-line.md", 3, ErrLineTooLong},
		{"long-line.txt", 1, ErrLineTooLong},
		{"nul.txt", 1001, ErrBinary},
		{"utf16.md", 1, ErrBinary},
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got %v\nwant %v\n%v", got, want, rep.Errors)
	}
	var warned []string
	for _, w := range rep.Warnings {
		warned = append(warned, fmt.Sprintf("%s %v", w.Path, errors.Is(w, ErrEmptyFile) || errors.Is(w, ErrDuplicateEntity)))
	}
	wantWarn := []string{"blank.txt true", "dup-b.entities.yaml true", "empty.md true"}
	slices.Sort(warned)
	if !slices.Equal(warned, wantWarn) {
		t.Errorf("warnings = %v, want %v (%v)", warned, wantWarn, rep.Warnings)
	}
	// Later wins: dup-b sorts after dup-a.
	if e, _ := l.Entities().Get("twin"); e.Name != "Twin B" {
		t.Errorf("twin = %+v, want dup-b's", e)
	}
	// BOM and CRLF: front matter read, lines joined as with LF.
	if e, ok := l.Entities().Get("bom"); !ok || e.Name != "Bom Keeper" {
		t.Errorf("bom entity = %+v %v", e, ok)
	}
	hits := l.Search("keeper lighthouse", 1, Filter{})
	if len(hits) != 1 || hits[0].Chunk.Text != "The keeper of the lighthouse.\nSecond line." {
		t.Errorf("BOM/CRLF chunk = %+v", hits)
	}
	if hits := l.Search("mac line", 1, Filter{}); len(hits) != 1 || hits[0].Chunk.Text != "old mac line one\nold mac line two" {
		t.Errorf("CR chunk = %+v", hits)
	}
	// Good: good.md, bom-crlf.md, cr-only.txt, dup-a.md, dup-b, and the two
	// empty files (stored without chunks).
	if rep.Documents != 7 || rep.Updated != 7 {
		t.Errorf("report = %+v", rep)
	}
	// Emptying a file drops its chunks; a fixed file comes in.
	writeFiles(t, dir, map[string]string{"good.md": "", "latin1.md": "# Café\n\nespresso\n"})
	rep, err = l.IngestDir(context.Background(), "bad", dir)
	if err != nil {
		t.Fatal(err)
	}
	if hits := l.Search("ferry dawn", 1, Filter{}); len(hits) != 0 {
		t.Errorf("emptied file still found: %v", hitIDs(hits))
	}
	if hits := l.Search("espresso", 1, Filter{}); len(hits) != 1 {
		t.Error("fixed file not ingested")
	}
	if len(rep.Errors) != 5 {
		t.Errorf("second ingest errors = %v", rep.Errors)
	}
}

func TestDeletesAndTakeover(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.md":              "---\nid: twin\nname: Twin A\n---\n# A\n\nalpha text\n",
		"b.md":              "---\nid: twin\nname: Twin B\n---\n# B\n\nbravo text\n",
		"c/d.entities.yaml": "- {id: delta, name: Delta, description: delta text}\n",
	})
	dataDir := t.TempDir()
	st := openStore(t, dataDir)
	l, _ := openLibrary(t, st)
	ctx := context.Background()
	rep, err := l.IngestDir(ctx, "s", dir)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := l.Entities().Get("twin"); e.DocPath != "b.md" || len(rep.Warnings) != 1 {
		t.Fatalf("twin owner %s, warnings %v", e.DocPath, rep.Warnings)
	}
	// Remove b.md (the owner) and the entity file: a.md's declaration takes
	// over although a.md did not change.
	for _, p := range []string{"b.md", "c/d.entities.yaml"} {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	rep, err = l.IngestDir(ctx, "s", dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 2 || rep.Updated != 1 || rep.Skipped != 0 || rep.Documents != 1 || rep.Entities != 1 {
		t.Errorf("report = %+v, want 2 removed and a.md re-read", rep)
	}
	for name, lib := range map[string]*Library{"memory": l, "reopened": func() *Library { l2, _ := openLibrary(t, st); return l2 }()} {
		if e, ok := lib.Entities().Get("twin"); !ok || e.Name != "Twin A" {
			t.Errorf("%s: twin = %+v %v, want a.md's", name, e, ok)
		}
		if _, ok := lib.Entities().Get("delta"); ok {
			t.Errorf("%s: delta of the removed entity file still registered", name)
		}
		for _, q := range []string{"bravo", "delta"} {
			if hits := lib.Search(q, 1, Filter{}); len(hits) != 0 {
				t.Errorf("%s: removed text %q found: %v", name, q, hitIDs(hits))
			}
		}
		if s := lib.Stats(); s.Documents != 1 || s.Chunks != 1 || s.Entities != 1 {
			t.Errorf("%s: stats %+v", name, s)
		}
	}
	if docs, _ := st.Documents("s"); len(docs) != 1 || docs[0].Path != "a.md" {
		t.Errorf("stored documents = %+v", docs)
	}
}

func TestIngestProgress(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, ""))
	files := map[string]string{"a.md": "# A\n\na\n", "b.txt": "b\n", "c.entities.json": "[]", "skip.png": "x"}
	var calls []string
	_, err := l.IngestFS(context.Background(), "p", mapFS(files), ".", WithProgress(func(done, total int, path string) {
		calls = append(calls, fmt.Sprintf("%d/%d %s", done, total, path))
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"0/3 ", "1/3 a.md", "2/3 b.txt", "3/3 c.entities.json"}
	if !slices.Equal(calls, want) {
		t.Errorf("progress calls %q, want %q", calls, want)
	}
}

func TestChunkOverlap(t *testing.T) {
	var paras []string
	for i := range 12 {
		var sents []string
		for j := range 8 {
			sents = append(sents, fmt.Sprintf("Sentence p%ds%d has some words in it here.", i, j))
		}
		paras = append(paras, strings.Join(sents, " "))
	}
	table := "| A | B |\n| --- | --- |\n"
	for i := range 150 {
		table += fmt.Sprintf("| row%d | value of %d |\n", i, i)
	}
	md := "# Book\n\n## Long\n\n" + strings.Join(paras, "\n\n") + "\n\n" + table
	got := chunkMarkdown(md)
	if len(got) < 4 {
		t.Fatalf("%d chunks", len(got))
	}
	for i, c := range got {
		if !slices.Equal(c.heading, []string{"Book", "Long"}) {
			t.Errorf("chunk %d heading %q", i, c.heading)
		}
		if n := countWords(c.text); n > chunkWords && !(strings.HasPrefix(c.text, "| A | B |") && n <= maxBlockWords) {
			t.Errorf("chunk %d: %d words > %d", i, n, chunkWords)
		}
		if i == 0 {
			if strings.HasPrefix(c.text, "…") {
				t.Error("first piece has an overlap")
			}
			continue
		}
		if strings.HasPrefix(c.text, "| A | B |") {
			continue // table pieces repeat the header instead
		}
		ov, _, _ := strings.Cut(c.text, "\n\n")
		if !strings.HasPrefix(ov, "… Sentence ") {
			t.Errorf("chunk %d overlap %.60q does not start at a sentence", i, ov)
			continue
		}
		if n := countWords(ov); n > overlapWords || n < overlapWords/2 {
			t.Errorf("chunk %d overlap of %d words, want at most %d", i, n, overlapWords)
		}
		prev := strings.ReplaceAll(got[i-1].text, "\n", " ")
		if !strings.HasSuffix(prev, strings.TrimPrefix(ov, "… ")) {
			t.Errorf("chunk %d overlap is not the end of chunk %d:\n%q\n%q", i, i-1, ov, prev[max(0, len(prev)-200):])
		}
	}
	// A single-word line of 100,000 bytes is cut to chunk size.
	for _, c := range chunkPlainText(strings.Repeat("x", 100000)) {
		if len(c.text) > maxChunkBytes {
			t.Errorf("chunk of %d bytes", len(c.text))
		}
	}
}

// FuzzParseDocument: no input of any kind makes parsing panic, and what it
// returns holds its invariants (chunk ids in order, no chunk over the byte
// cap, entities with ids).
func FuzzParseDocument(f *testing.F) {
	for _, seed := range []string{
		"# T\n\ntext\n", "---\nid: a\nrelations: {owns: b}\n---\n# A\n", wardensYAML, goblinsJSON,
		"\ufeff# BOM\r\n\r\ntext\r\n", "## Ogre\n\n*Large Giant, Chaotic Evil*\n\n- Armor Class 11\n- Hit Points 68\n",
		"| a | b |\n| - | - |\n| 1 | 2 |\n", "\x00\x01", "\xff\xfe#\x00",
	} {
		for kind := range 4 {
			f.Add(kind, seed)
		}
	}
	names := []string{"doc.md", "doc.txt", "doc.entities.yaml", "doc.entities.json"}
	f.Fuzz(func(t *testing.T, kind int, src string) {
		name := names[(kind%4+4)%4]
		doc, err := parseDocument("s", name, []byte(src))
		if err != nil {
			var le *lineError
			if !errors.As(err, &le) || le.line < 0 {
				t.Fatalf("%s: error %v is not a line error", name, err)
			}
			return
		}
		for i, c := range doc.chunks {
			if c.ID != ChunkID("s", name, i) || len(c.Text) > maxChunkBytes || countWords(c.Text) == 0 {
				t.Fatalf("%s: chunk %d = %+v", name, i, c)
			}
		}
		for _, e := range doc.entities {
			if e.ID == "" || e.DocPath != name {
				t.Fatalf("%s: entity %+v", name, e)
			}
		}
	})
}

// TestChunkKeepsStatBlockWhole: a stat block (descriptor, list, ability
// table, list) in the middle of a section too long for one chunk stays in
// one piece, wherever the piece boundary would otherwise fall.
func TestChunkKeepsStatBlockWhole(t *testing.T) {
	stat := "*Large Giant, Chaotic Evil*\n\n- **Armor Class:** 15\n- **Hit Points:** 120 (16d10 + 32)\n- **Speed:** 30 ft.\n\n" +
		"|STAT|SCORE|MOD|SAVE|\n| --- | --- | --- | --- |\n| STR | 20 | +5 | +5 |\n| DEX | 9 | -1 | -1 |\n| CON | 15 | +2 | +2 |\n" +
		"| INT | 8 | -1 | -1 |\n| WIS | 10 | +0 | +0 |\n| CHA | 9 | -1 | -1 |\n\n- **Skills**: Perception +3\n- **CR** 9 (XP 5,000)"
	for before := 200; before <= 340; before += 7 {
		md := "## Troll Chieftain\n\n" + words(before, "pre") + "\n\n" + stat + "\n\n" + words(200, "post") + "\n"
		got := chunkMarkdown(md)
		if len(got) < 2 {
			t.Fatalf("before=%d: %d chunks", before, len(got))
		}
		whole := 0
		for _, c := range got {
			if strings.Contains(c.text, "Armor Class") && strings.Contains(c.text, "| CHA |") && strings.Contains(c.text, "CR 9") {
				whole++
			}
		}
		if whole != 1 {
			for i, c := range got {
				t.Logf("chunk %d: %.200q", i, c.text)
			}
			t.Fatalf("before=%d: the stat block is split", before)
		}
	}
}

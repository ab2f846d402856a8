package lore

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/hearth-ai/hearth/internal/store"
)

// syncBuffer is a bytes.Buffer safe for a logger used from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// openStore opens a real Badger store in dir; it is closed at the end of
// the test unless the test closes it first.
func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(store.DefaultOptions(dir))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func openLibrary(t testing.TB, st *store.Store) (*Library, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	l, err := Open(st, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return l, logs
}

func ingest(t testing.TB, l *Library, source string, fsys fs.FS) IngestReport {
	t.Helper()
	rep, err := l.IngestFS(context.Background(), source, fsys, ".")
	if err != nil {
		t.Fatalf("IngestFS(%s): %v", source, err)
	}
	return rep
}

func writeFiles(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mapFS(files map[string]string) fstest.MapFS {
	m := fstest.MapFS{}
	for name, content := range files {
		m[name] = &fstest.MapFile{Data: []byte(content)}
	}
	return m
}

func hitIDs(hs []Hit) []string {
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = h.Chunk.ID
	}
	return ids
}

const brennaDoc = `---
id: brenna-smith
type: npc
name: Brenna Ashdown
aliases: [Brenna, "the Smith"]
region: millbrook
tags: [smiths-guild]
secrecy: 1
entities:
  - {id: millbrook-forge, type: place, name: The Forge, aliases: [Ashdown Forge]}
  - id: iron-oath
    type: faction
    name: Iron Oath
    region: highreach
---
# Brenna Ashdown

Brenna is the **village smith** of Millbrook. She forges *horseshoes* and
` + "`nails`" + ` for the whole valley.

## Secrets

She owes the Iron Oath a debt of three hundred crowns.
`

var villageFiles = map[string]string{
	"npcs/brenna.md": brennaDoc,
	"places/mill.md": `---
id: millbrook-mill
type: place
name: Millbrook Mill
region: millbrook
---
# Millbrook Mill

The mill grinds barley for the village. Its wheel turns on the Silverrun.
`,
	"history.txt": "The valley was settled three centuries ago.\n\nFloods came in the year of the grey owl.\n",
	"notes.json":  `{"ignored": true}`,
}

func TestIngestFrontMatterEntities(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, t.TempDir()))
	rep := ingest(t, l, "village", mapFS(villageFiles))
	if len(rep.Errors) != 0 {
		t.Fatalf("errors: %v", rep.Errors)
	}
	if rep.Documents != 3 || rep.Updated != 3 || rep.Entities != 4 {
		t.Errorf("report = %+v, want 3 documents (3 updated) and 4 entities", rep)
	}

	reg := l.Entities()
	b, ok := reg.Get("brenna-smith")
	if !ok {
		t.Fatal(`Get("brenna-smith"): not found`)
	}
	want := Entity{ID: "brenna-smith", Type: "npc", Name: "Brenna Ashdown", Aliases: []string{"Brenna", "the Smith"},
		Tags: []string{"smiths-guild"}, Region: "millbrook", Source: "village", DocPath: "npcs/brenna.md"}
	if !entityEqual(b, want) {
		t.Errorf("brenna = %+v\nwant    %+v", b, want)
	}
	oath, _ := reg.Get("iron-oath")
	if oath.Type != "faction" || oath.Region != "highreach" {
		t.Errorf("iron-oath = %+v, want faction in its own region", oath)
	}
	forge, _ := reg.Get("millbrook-forge")
	if forge.Region != "millbrook" {
		t.Errorf("millbrook-forge region = %q, want the document's region", forge.Region)
	}
	if got := ids(reg.ByType("place")); !slices.Equal(got, []string{"millbrook-forge", "millbrook-mill"}) {
		t.Errorf("ByType(place) = %v", got)
	}
	if got := ids(reg.All()); !slices.Equal(got, []string{"brenna-smith", "iron-oath", "millbrook-forge", "millbrook-mill"}) {
		t.Errorf("All = %v", got)
	}

	hits := l.Search("Brenna smith horseshoes", 3, Filter{MaxSecrecy: 5})
	if len(hits) == 0 {
		t.Fatal("no hits")
	}
	c := hits[0].Chunk
	if c.ID != "village:npcs/brenna.md#0" || !slices.Equal(c.Heading, []string{"Brenna Ashdown"}) {
		t.Errorf("top hit %s %q", c.ID, c.Heading)
	}
	if c.Region != "millbrook" || c.Secrecy != 1 || !slices.Equal(c.Tags, []string{"smiths-guild"}) ||
		!slices.Equal(c.Entities, []string{"brenna-smith", "millbrook-forge", "iron-oath"}) {
		t.Errorf("chunk metadata = %+v", c)
	}
	if strings.ContainsAny(c.Text, "*`") || !strings.Contains(c.Text, "village smith") {
		t.Errorf("text not stripped of emphasis: %q", c.Text)
	}
	secrets := l.Search("debt crowns", 1, Filter{MaxSecrecy: 1})
	if len(secrets) != 1 || !slices.Equal(secrets[0].Chunk.Heading, []string{"Brenna Ashdown", "Secrets"}) {
		t.Errorf("secrets hit = %+v", secrets)
	}
	txt := l.Search("grey owl floods", 1, Filter{})
	if len(txt) != 1 || txt[0].Chunk.DocPath != "history.txt" || len(txt[0].Chunk.Heading) != 0 {
		t.Errorf("plain text hit = %+v", txt)
	}
	if s := l.Stats(); s.Documents != 3 || s.Entities != 4 || s.Chunks != 4 {
		t.Errorf("Stats = %+v, want 3 documents, 4 chunks, 4 entities", s)
	}
}

func entityEqual(a, b Entity) bool {
	return a.ID == b.ID && a.Type == b.Type && a.Name == b.Name && slices.Equal(a.Aliases, b.Aliases) &&
		slices.Equal(a.Tags, b.Tags) && a.Region == b.Region && a.Source == b.Source && a.DocPath == b.DocPath
}

func ids(es []Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func TestIngestWithoutFrontMatter(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, t.TempDir()))
	rep := ingest(t, l, "rules", mapFS(map[string]string{
		"combat.markdown": "# Combat\n\n## Grappling\n\nA creature can grapple another creature.\n\n## Cover\n\nWalls give cover.\n",
	}))
	if len(rep.Errors) != 0 || rep.Documents != 1 || rep.Chunks != 2 || rep.Entities != 0 {
		t.Fatalf("report = %+v", rep)
	}
	hits := l.Search("grappling", 5, Filter{})
	if len(hits) != 1 || !slices.Equal(hits[0].Chunk.Heading, []string{"Combat", "Grappling"}) || hits[0].Chunk.Region != "" {
		t.Fatalf("hits = %+v", hits)
	}
}

func TestIngestBrokenFrontMatterContinues(t *testing.T) {
	l, logs := openLibrary(t, openStore(t, t.TempDir()))
	files := map[string]string{
		"a-good.md": "# Good\n\nThe lighthouse keeper counts ships.\n",
		// Line 4 opens a flow list that is never closed.
		"b-broken.md":  "---\nid: broken\nname: Broken\naliases: [one, two\ntype: npc\n---\n# Broken\n\nlighthouse\n",
		"c-secrecy.md": "---\nid: c\n\nsecrecy: very\n---\n# C\n\nlighthouse\n",
		"d-open.md":    "---\nid: d\nname: D\n# D\n\nlighthouse\n",
		"z-good.md":    "# Also good\n\nThe lighthouse lamp burns whale oil.\n",
	}
	rep := ingest(t, l, "coast", mapFS(files))
	type where struct {
		path string
		line int
	}
	var got []where
	for _, fe := range rep.Errors {
		got = append(got, where{fe.Path, fe.Line})
		if !errors.Is(fe, ErrFrontMatter) {
			t.Errorf("%v does not wrap ErrFrontMatter", fe)
		}
		if fe.Source != "coast" {
			t.Errorf("%v: source %q", fe, fe.Source)
		}
	}
	want := []where{{"b-broken.md", 4}, {"c-secrecy.md", 4}, {"d-open.md", 1}}
	if !slices.Equal(got, want) {
		t.Fatalf("errors at %v, want %v (errors: %v)", got, want, rep.Errors)
	}
	if msg := rep.Errors[0].Error(); !strings.HasPrefix(msg, "coast:b-broken.md:4: bad front matter: YAML: ") {
		t.Errorf("error text %q", msg)
	}
	for _, w := range want {
		if !strings.Contains(logs.String(), "path="+w.path) || !strings.Contains(logs.String(), "line="+strconv.Itoa(w.line)) {
			t.Errorf("log lacks path=%s line=%d:\n%s", w.path, w.line, logs)
		}
	}
	if rep.Updated != 2 || rep.Documents != 2 {
		t.Errorf("report = %+v, want the 2 good files ingested", rep)
	}
	if hits := l.Search("lighthouse", 10, Filter{}); len(hits) != 2 {
		t.Errorf("lighthouse hits = %v, want the 2 good files", hitIDs(hits))
	}
}

func TestIngestInvalidUTF8(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, t.TempDir()))
	rep := ingest(t, l, "s", mapFS(map[string]string{
		"latin1.md": "# Caf\xe9\n\nline two\n",
		"bad.txt":   "ok\nok\nbroken \xff\xfe here\n",
		"fine.md":   "# Café\n\nespresso\n",
	}))
	if len(rep.Errors) != 2 {
		t.Fatalf("errors = %v, want 2", rep.Errors)
	}
	for _, fe := range rep.Errors {
		if !errors.Is(fe, ErrInvalidUTF8) {
			t.Errorf("%v does not wrap ErrInvalidUTF8", fe)
		}
	}
	if e := rep.Errors[0]; e.Path != "bad.txt" || e.Line != 3 {
		t.Errorf("first error at %s:%d, want bad.txt:3", e.Path, e.Line)
	}
	if e := rep.Errors[1]; e.Path != "latin1.md" || e.Line != 1 {
		t.Errorf("second error at %s:%d, want latin1.md:1", e.Path, e.Line)
	}
	if rep.Documents != 1 {
		t.Errorf("documents = %d, want 1", rep.Documents)
	}
}

func TestReingestSkipsUpdatesRemoves(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, villageFiles)
	l, _ := openLibrary(t, openStore(t, t.TempDir()))
	ctx := context.Background()
	if _, err := l.IngestDir(ctx, "village", dir); err != nil {
		t.Fatal(err)
	}

	// Unchanged: everything skipped.
	rep, err := l.IngestDir(ctx, "village", dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != 3 || rep.Updated != 0 || rep.Removed != 0 || rep.Documents != 3 {
		t.Fatalf("unchanged re-ingest: %+v", rep)
	}

	// Change the mill (new entity id, new text), delete Brenna.
	writeFiles(t, dir, map[string]string{"places/mill.md": "---\nid: millbrook-watermill\ntype: place\nname: Watermill\n---\n# Watermill\n\nThe watermill was rebuilt after the flood.\n"})
	if err := os.Remove(filepath.Join(dir, "npcs", "brenna.md")); err != nil {
		t.Fatal(err)
	}
	rep, err = l.IngestDir(ctx, "village", dir)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != 1 || rep.Updated != 1 || rep.Removed != 1 || rep.Documents != 2 || rep.Entities != 1 {
		t.Fatalf("after change: %+v", rep)
	}
	reg := l.Entities()
	if _, ok := reg.Get("millbrook-mill"); ok {
		t.Error("old mill entity still registered")
	}
	if _, ok := reg.Get("brenna-smith"); ok {
		t.Error("entity of the deleted document still registered")
	}
	if _, ok := reg.Get("millbrook-watermill"); !ok {
		t.Error("new mill entity missing")
	}
	if hits := l.Search("horseshoes", 5, Filter{MaxSecrecy: 9}); len(hits) != 0 {
		t.Errorf("deleted document still found: %v", hitIDs(hits))
	}
	if hits := l.Search("barley", 5, Filter{}); len(hits) != 0 {
		t.Errorf("old mill text still found: %v", hitIDs(hits))
	}
	if hits := l.Search("rebuilt watermill", 5, Filter{}); len(hits) != 1 || hits[0].Chunk.ID != "village:places/mill.md#0" {
		t.Errorf("new mill text: %v", hitIDs(hits))
	}

	// A missing folder is an error, not "everything was deleted".
	if _, err := l.IngestDir(ctx, "village", filepath.Join(dir, "nope")); err == nil {
		t.Error("IngestDir of a missing folder succeeded")
	}
	if s := l.Stats(); s.Documents != 2 {
		t.Errorf("after failed ingest Stats = %+v, want 2 documents", s)
	}
}

func TestBrokenEditKeepsPreviousVersion(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, t.TempDir()))
	ingest(t, l, "village", mapFS(villageFiles))
	broken := maps2(villageFiles, "places/mill.md", "---\nid: [\n---\n")
	rep := ingest(t, l, "village", mapFS(broken))
	if len(rep.Errors) != 1 || rep.Removed != 0 || rep.Documents != 3 {
		t.Fatalf("report = %+v", rep)
	}
	if hits := l.Search("barley", 1, Filter{}); len(hits) != 1 {
		t.Error("previous version of the broken file was dropped")
	}
}

func maps2(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for kk, vv := range m {
		if kk != k {
			out[kk] = vv
		}
	}
	return out
}

func TestIngestCanceled(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, t.TempDir()))
	ingest(t, l, "village", mapFS(villageFiles))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := l.IngestFS(ctx, "village", mapFS(map[string]string{}), ".")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if s := l.Stats(); s.Documents != 3 {
		t.Fatalf("a canceled ingest removed documents: %+v", s)
	}
}

func TestIngestRejectsBadSourceName(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, ""))
	for _, src := range []string{"", "a/b", "a:b", ".hidden", "sp ace"} {
		if _, err := l.IngestFS(context.Background(), src, mapFS(villageFiles), "."); err == nil {
			t.Errorf("source %q accepted", src)
		}
	}
}

func TestPersistenceAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	l, _ := openLibrary(t, st)
	ingest(t, l, "village", mapFS(villageFiles))
	ingest(t, l, "rules", mapFS(map[string]string{"r.md": "# Rules\n\n## Smithing\n\nA smith needs a forge and an anvil.\n"}))
	queries := []string{"smith forge", "mill barley", "valley settled", "Iron Oath debt"}
	before := map[string][]Hit{}
	for _, q := range queries {
		before[q] = l.Search(q, 5, Filter{MaxSecrecy: 5})
		if len(before[q]) == 0 {
			t.Fatalf("%q: no hits before reopen", q)
		}
	}
	statsBefore := l.Stats()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st2 := openStore(t, dir)
	l2, logs := openLibrary(t, st2)
	if got := l2.Stats(); got != statsBefore {
		t.Errorf("Stats after reopen = %+v, want %+v", got, statsBefore)
	}
	for _, q := range queries {
		after := l2.Search(q, 5, Filter{MaxSecrecy: 5})
		if len(after) != len(before[q]) {
			t.Fatalf("%q: %d hits after reopen, %d before", q, len(after), len(before[q]))
		}
		for i := range after {
			a, b := after[i], before[q][i]
			if a.Chunk.ID != b.Chunk.ID || a.Score != b.Score || a.Chunk.Text != b.Chunk.Text ||
				!slices.Equal(a.Chunk.Heading, b.Chunk.Heading) || !slices.Equal(a.Chunk.Entities, b.Chunk.Entities) {
				t.Errorf("%q hit %d: after reopen %+v, before %+v", q, i, a, b)
			}
		}
	}
	if e, ok := l2.Entities().Get("brenna-smith"); !ok || e.Name != "Brenna Ashdown" {
		t.Errorf("entity after reopen: %+v %v", e, ok)
	}
	if strings.Contains(logs.String(), "leftovers") {
		t.Errorf("clean store reported leftovers: %s", logs)
	}
	// Re-ingest after reopen skips everything: hashes were persisted.
	rep := ingest(t, l2, "village", mapFS(villageFiles))
	if rep.Skipped != 3 || rep.Updated != 0 {
		t.Errorf("re-ingest after reopen: %+v", rep)
	}
}

// TestFilterInsideSearch: the filter runs before ranking, so with k = 1 the
// best allowed chunk comes back even when better forbidden chunks exist.
func TestFilterInsideSearch(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, ""))
	doc := func(region, tags string, secrecy int, text string) string {
		return "---\nregion: " + region + "\ntags: [" + tags + "]\nsecrecy: " + strconv.Itoa(secrecy) + "\n---\n# Dragon\n\n" + text + "\n"
	}
	ingest(t, l, "north", mapFS(map[string]string{
		"common.md":   "# Dragon lore\n\nA dragon was seen once.\n",
		"region.md":   doc("highreach", "", 0, "dragon dragon dragon hoard in the highreach"),
		"guild.md":    doc("", "mages", 0, "dragon dragon dragon weakness known to mages"),
		"secret.md":   doc("", "", 3, "dragon dragon dragon true name"),
		"lowland.md":  doc("lowland", "farmers", 0, "dragon dragon dragon ate the sheep"),
		"lowland2.md": doc("Lowland", "", 0, "dragon dragon burned a barn"),
	}))
	ingest(t, l, "south", mapFS(map[string]string{"s.md": "# Dragon\n\ndragon dragon dragon dragon south\n"}))

	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"zero filter: common knowledge of every source", Filter{},
			[]string{"north:common.md#0", "north:guild.md#0", "north:lowland.md#0", "north:lowland2.md#0", "north:region.md#0", "south:s.md#0"}},
		{"secrecy", Filter{MaxSecrecy: 3},
			[]string{"north:common.md#0", "north:guild.md#0", "north:lowland.md#0", "north:lowland2.md#0", "north:region.md#0", "north:secret.md#0", "south:s.md#0"}},
		{"sources", Filter{Sources: []string{"south"}}, []string{"south:s.md#0"}},
		{"regions (case-insensitive, unregioned pass)", Filter{Sources: []string{"north"}, Regions: []string{"LOWLAND"}},
			[]string{"north:common.md#0", "north:guild.md#0", "north:lowland.md#0", "north:lowland2.md#0"}},
		{"tags (untagged pass)", Filter{Sources: []string{"north"}, Tags: []string{"farmers"}},
			[]string{"north:common.md#0", "north:lowland.md#0", "north:lowland2.md#0", "north:region.md#0"}},
		{"all together", Filter{Sources: []string{"north"}, Regions: []string{"highreach"}, Tags: []string{"mages"}, MaxSecrecy: 3},
			[]string{"north:common.md#0", "north:guild.md#0", "north:region.md#0", "north:secret.md#0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := hitIDs(l.Search("dragon", 100, tt.f))
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("hits = %v\nwant   %v", got, tt.want)
			}
			// k = 1 still finds an allowed chunk: nothing forbidden is
			// ranked first and then dropped.
			top := l.Search("dragon", 1, tt.f)
			if len(top) != 1 || !slices.Contains(tt.want, top[0].Chunk.ID) {
				t.Errorf("k=1: %v, want one of %v", hitIDs(top), tt.want)
			}
		})
	}
	if hits := l.Search("dragon", 1, Filter{Sources: []string{"nowhere"}}); hits != nil {
		t.Errorf("unknown source: %v", hitIDs(hits))
	}
}

func TestRegistryLookup(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, ""))
	ingest(t, l, "village", mapFS(map[string]string{
		"brenna.md": brennaDoc,
		"goblin.md": "---\nid: goblin\ntype: creature\nname: Goblin\n---\n# Goblin\n\nSmall and mean.\n",
		"wolves.md": "---\nid: ashen-wolves\ntype: faction\nname: The Ashen Wolves\naliases: [Ashen Pack]\n---\n# Ashen Wolves\n\nBandits.\n",
		"class.md":  "---\nid: glass-class\ntype: item\nname: Glass\n---\n# Glass\n\nclear\n",
	}))
	reg := l.Entities()
	tests := []struct {
		query string
		want  []string
	}{
		{"Brenna Ashdown", []string{"brenna-smith"}},
		{"brenna ashdown", []string{"brenna-smith"}},
		{"BRENNA", []string{"brenna-smith"}},
		{"Brenna's", []string{"brenna-smith"}},
		{"Brenna’s", []string{"brenna-smith"}},
		{"the smith", []string{"brenna-smith"}},
		{"Smith", []string{"brenna-smith"}},
		{"the  Forge", []string{"millbrook-forge"}},
		{"Ashdown Forge's", []string{"millbrook-forge"}},
		{"goblins", []string{"goblin"}},
		{"Goblin's", []string{"goblin"}},
		{"Ashen Wolves", []string{"ashen-wolves"}},
		{"ashen pack's", []string{"ashen-wolves"}},
		{"glasses", []string{"glass-class"}},
		{"Iron Oath", []string{"iron-oath"}},
		{"Iron Oaths", []string{"iron-oath"}},
		{"nobody", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := ids(reg.Lookup(tt.query)); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("Lookup(%q) = %v, want %v", tt.query, got, tt.want)
		}
	}
	// Returned entities are copies.
	e := reg.Lookup("Brenna")[0]
	e.Aliases[0] = "changed"
	if again, _ := reg.Get("brenna-smith"); again.Aliases[0] != "Brenna" {
		t.Error("Lookup returned the registry's own slice")
	}
}

func TestEntityTakeoverAcrossDocuments(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	l, logs := openLibrary(t, st)
	a := "---\nid: shared\nname: From A\n---\n# A\n\ntext a\n"
	b := "---\nid: shared\nname: From B\n---\n# B\n\ntext b\n"
	ingest(t, l, "s", mapFS(map[string]string{"a.md": a, "b.md": b}))
	if e, _ := l.Entities().Get("shared"); e.DocPath != "b.md" {
		t.Fatalf("owner = %s, want b.md (the later one)", e.DocPath)
	}
	if !strings.Contains(logs.String(), "declared by two documents") {
		t.Error("no warning about the duplicate entity id")
	}
	// a.md stops declaring it: b.md's copy stays, in memory and on disk.
	ingest(t, l, "s", mapFS(map[string]string{"a.md": "# A\n\ntext a\n", "b.md": b}))
	if e, ok := l.Entities().Get("shared"); !ok || e.DocPath != "b.md" {
		t.Fatalf("after a.md dropped it: %+v %v", e, ok)
	}
	l2, _ := openLibrary(t, st)
	if e, ok := l2.Entities().Get("shared"); !ok || e.DocPath != "b.md" {
		t.Fatalf("after reopen: %+v %v", e, ok)
	}
}

func TestDuplicateEntityInOneDocument(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, ""))
	rep := ingest(t, l, "s", mapFS(map[string]string{
		"d.md": "---\nid: x\nentities:\n  - {id: y}\n  - {id: x}\n---\n# D\n\ntext\n",
	}))
	if len(rep.Errors) != 1 || rep.Errors[0].Line != 5 || !errors.Is(rep.Errors[0], ErrFrontMatter) {
		t.Fatalf("errors = %v, want one at line 5", rep.Errors)
	}
}

func TestSearchDuringIngest(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, ""))
	ingest(t, l, "village", mapFS(villageFiles))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if hits := l.Search("mill barley village", 3, Filter{MaxSecrecy: 5}); len(hits) == 0 {
					t.Error("search during ingest found nothing")
					return
				}
				_ = l.Entities().Lookup("Brenna")
				_ = l.Stats()
			}
		})
	}
	for i := range 20 {
		files := maps2(villageFiles, "extra.md", "# Extra\n\nversion "+strconv.Itoa(i)+"\n")
		ingest(t, l, "village", mapFS(files))
	}
	close(stop)
	wg.Wait()
}

func TestSearchEdgeCases(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, ""))
	if hits := l.Search("anything", 5, Filter{}); hits != nil {
		t.Errorf("empty library: %v", hits)
	}
	ingest(t, l, "village", mapFS(villageFiles))
	for _, q := range []string{"", "the of and what is", "zzzz"} {
		if hits := l.Search(q, 5, Filter{}); len(hits) != 0 {
			t.Errorf("Search(%q) = %v, want none", q, hitIDs(hits))
		}
	}
	if hits := l.Search("mill", 0, Filter{}); hits != nil {
		t.Errorf("k=0: %v", hits)
	}
	// Hits are copies.
	h := l.Search("mill", 1, Filter{})
	h[0].Chunk.Heading[0] = "changed"
	if again := l.Search("mill", 1, Filter{}); again[0].Chunk.Heading[0] == "changed" {
		t.Error("Search returned the index's own slice")
	}
	// Scores descend.
	hits := l.Search("village valley mill smith", 10, Filter{MaxSecrecy: 9})
	for i := 1; i < len(hits); i++ {
		if hits[i].Score > hits[i-1].Score {
			t.Errorf("hits not sorted: %v > %v", hits[i].Score, hits[i-1].Score)
		}
	}
}

// failDirFS is a file system whose folder bad cannot be listed.
type failDirFS struct {
	fstest.MapFS
	bad string
}

func (f failDirFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == f.bad {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrPermission}
	}
	return f.MapFS.ReadDir(name)
}

func TestUnreadableFolderKeepsItsDocuments(t *testing.T) {
	l, _ := openLibrary(t, openStore(t, ""))
	ingest(t, l, "village", mapFS(villageFiles))
	rep := ingest(t, l, "village", failDirFS{mapFS(villageFiles), "npcs"})
	if rep.Removed != 0 || rep.Documents != 3 {
		t.Fatalf("report = %+v, want nothing removed", rep)
	}
	if len(rep.Errors) != 1 || rep.Errors[0].Path != "npcs" || !errors.Is(rep.Errors[0], fs.ErrPermission) {
		t.Fatalf("errors = %v, want one for folder npcs", rep.Errors)
	}
	if _, ok := l.Entities().Get("brenna-smith"); !ok {
		t.Error("entity of a document in the unreadable folder was dropped")
	}
}

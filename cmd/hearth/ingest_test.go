package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngestCommand runs "hearth ingest" in process on a folder with good
// and bad files: the summary goes to stdout, one line per skipped or
// warned-about file to stderr, and -progress on draws the bar on stderr.
func TestIngestCommand(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.md":               "---\nid: mara\ntype: npc\nname: Mara\n---\n# Mara\n\nMara runs the ferry.\n",
		"b.entities.yaml":    "- {id: ford, type: place, name: The Ford, description: The ford is shallow.}\n",
		"c.txt":              "Plain notes about the river.\n",
		"empty.md":           "",
		"image.md":           "\x89PNG\r\n\x1a\n\x00\x00",
		"monsters/ogre.md":   "## Ogre\n\n*Large Giant, Chaotic Evil*\n\n- Armor Class 11\n- Hit Points 68\n",
		"ignored/readme.rst": "not lore",
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	args := []string{"-source", "river", "-data", t.TempDir(), "-progress", "on", dir}
	if err := cmdIngest(context.Background(), args, nil, &stdout, &stderr); err != nil {
		t.Fatalf("hearth ingest: %v\n%s", err, stderr.String())
	}
	out, errs := stdout.String(), stderr.String()
	t.Logf("stdout:\n%s\nstderr:\n%q", out, errs)
	for _, want := range []string{
		"source river: 5 documents (5 updated, 0 unchanged, 0 removed), 4 chunks, 3 entities, 1 errors, 1 warnings in ",
		"entities of river by type: 1 creature, 1 npc, 1 place",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	for _, want := range []string{"skipped: river:image.md: binary file", "warning: river:empty.md: empty file", "ingest river"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q", want)
		}
	}
	if err := cmdIngest(context.Background(), []string{"-source", "x", "-progress", "maybe", dir}, nil, &stdout, &stderr); err == nil {
		t.Error("-progress maybe accepted")
	}
}

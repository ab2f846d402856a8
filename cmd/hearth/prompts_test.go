package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// studioPrompts writes a prompt directory with npc.dialogue@3 (the
// shipped @2 behind a marker line) and returns it.
func studioPrompts(t *testing.T) string {
	t.Helper()
	v2, err := os.ReadFile(filepath.Join(repoRoot(t), "npc", "prompts", "npc.dialogue@2.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "npc.dialogue@3.tmpl"), []byte("Speak warmly.\n"+string(v2)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// serve -check loads the prompt directory and the file's A/B weights as
// serve would, prints them, and exits 1 naming the template and the field
// or the version that is missing.
func TestServePromptsCheck(t *testing.T) {
	dir := studioPrompts(t)
	file := filepath.Join(t.TempDir(), "hearth.yaml")
	check := func(yaml string) (int, string, string) {
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		var out, errOut strings.Builder
		code := run(context.Background(), []string{"serve", "-config", file, "-check"}, strings.NewReader(""), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, errOut := check("prompts:\n  dir: " + dir + "\n  weights:\n    npc.dialogue: {2: 90, 3: 10}\n")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"prompts.weights npc.dialogue {2: 90, 3: 10} (file)", "prompts.dir " + dir + " (file)", "prompts.watch true (default)"} {
		found := false
		for line := range strings.Lines(out) {
			found = found || strings.Join(strings.Fields(line), " ") == want
		}
		if !found {
			t.Errorf("-check output lacks %q:\n%s", want, out)
		}
	}
	if code, _, errOut := check("prompts:\n  dir: " + dir + "\n  weights:\n    npc.dialogue: {2: 90, 4: 10}\n"); code != 1 ||
		!strings.Contains(errOut, "npc.dialogue@4 is not loaded; loaded: npc.dialogue@1, npc.dialogue@2, npc.dialogue@3") {
		t.Errorf("weights on a missing version: exit %d: %s", code, errOut)
	}
	os.WriteFile(filepath.Join(dir, "npc.bark@2.tmpl"), []byte("{{.Persona.Name}} at {{.Ocasion}}"), 0o644)
	if code, _, errOut := check("prompts:\n  dir: " + dir + "\n"); code != 1 ||
		!strings.Contains(errOut, `npc.bark@2.tmpl": prompt npc.bark@2: missing field "Ocasion" (in {{.Ocasion}}, line 1, type npc.promptData)`) {
		t.Errorf("a typo in a template: exit %d: %s", code, errOut)
	}
}

// hearth serve -prompts DIR: a player's dialogue.done names the studio's
// version; a new version written while the server runs is picked up by
// the watcher and named by the next replies, with no restart.
func TestServePromptsHotReload(t *testing.T) {
	dir := studioPrompts(t)
	p := serveProc(t, t.TempDir(), "-model", "off", "-prompts", dir)
	c := dial(t, p.url, "prompt-player", "Aria")
	if r := talk(t, c, "hobb-fairweather", "Who runs the mill?"); r.Prompt != "npc.dialogue@3" || r.Text == "" {
		t.Fatalf("reply %+v: want npc.dialogue@3", r)
	}
	v3, _ := os.ReadFile(filepath.Join(dir, "npc.dialogue@3.tmpl"))
	if err := os.WriteFile(filepath.Join(dir, "npc.dialogue@4.tmpl"), v3, 0o644); err != nil {
		t.Fatal(err)
	}
	// Wait for the watcher (its debounce is 100 ms; 20 s is for a busy
	// machine), asserting nothing about its speed.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r := talk(t, c, "hobb-fairweather", "Who runs the mill?")
		if r.Prompt == "npc.dialogue@4" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %s after writing npc.dialogue@4:\n%s", r.Prompt, p.output)
		}
	}
}

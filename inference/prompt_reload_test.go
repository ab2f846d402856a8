package inference_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-ai/hearth/inference"
)

func hash12(src string) string {
	sum := sha256.Sum256([]byte(src))
	return hex.EncodeToString(sum[:])[:12]
}

func writeFile(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustRender(t *testing.T, p *inference.Prompts, name, unit string, data any) (string, inference.PromptRef) {
	t.Helper()
	text, ref, err := p.RenderFor(name, unit, data)
	if err != nil {
		t.Fatal(err)
	}
	return text, ref
}

// TestPromptsDirOverridesAndReloads: a directory on disk overrides and
// adds to the embedded set; after an edit the next render uses the new
// content and hash; a broken file is reported and the previous set keeps
// serving, until it is fixed.
func TestPromptsDirOverridesAndReloads(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "npc.bark@1.tmpl", `disk bark {{.Persona.Name}}`) // overrides the embedded @1
	writeFile(t, dir, "notes.txt", `ignored`)
	p, err := inference.OpenPrompts(inference.PromptOptions{Base: promptFS(), BaseDir: "prompts", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	req := &inference.Request{Persona: inference.Persona{Name: "Brenna"}}
	if text, ref := mustRender(t, p, "npc.bark", "", req); text != "disk bark Brenna" || ref.Hash != hash12(`disk bark {{.Persona.Name}}`) {
		t.Fatalf("override: %q %+v", text, ref)
	}
	if _, ref := mustRender(t, p, "npc.dialogue", "", req); ref.String() != "npc.dialogue@2" {
		t.Fatalf("embedded latest: %v", ref)
	}

	// Ship a new version: the next render after the reload uses it.
	v3 := `v3 {{.Persona.Name}}`
	writeFile(t, dir, "npc.dialogue@3.tmpl", v3)
	if err := p.Reload(); err != nil {
		t.Fatal(err)
	}
	if text, ref := mustRender(t, p, "npc.dialogue", "", req); text != "v3 Brenna" || ref.String() != "npc.dialogue@3" || ref.Hash != hash12(v3) {
		t.Fatalf("after adding @3: %q %+v", text, ref)
	}
	// Edit it in place: new content, new hash.
	v3b := `v3 edited {{.Persona.Name}}`
	writeFile(t, dir, "npc.dialogue@3.tmpl", v3b)
	if err := p.Reload(); err != nil {
		t.Fatal(err)
	}
	if text, ref := mustRender(t, p, "npc.dialogue", "", req); text != "v3 edited Brenna" || ref.Hash != hash12(v3b) {
		t.Fatalf("after the edit: %q %+v", text, ref)
	}

	// Broken files: each is reported, naming the file, and renders keep
	// the last good set.
	for name, src := range map[string]string{
		"npc.dialogue@4.tmpl":  `{{ .Persona.Name `, // parse error
		"npc dialogue@4.tmpl":  `fine`,              // bad name
		"npc.dialogue@04.tmpl": `fine`,              // bad version
	} {
		writeFile(t, dir, name, src)
		err := p.Reload()
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Fatalf("%s: reload error %v does not name the file", name, err)
		}
		if !errors.Is(p.Err(), err) && p.Err().Error() != err.Error() {
			t.Fatalf("%s: Err() = %v, want %v", name, p.Err(), err)
		}
		if text, ref := mustRender(t, p, "npc.dialogue", "", req); text != "v3 edited Brenna" || ref.Hash != hash12(v3b) {
			t.Fatalf("%s: the last good set is not serving: %q %+v", name, text, ref)
		}
		os.Remove(filepath.Join(dir, name))
	}
	if err := p.Reload(); err != nil || p.Err() != nil {
		t.Fatalf("after the fix: %v, Err %v", err, p.Err())
	}
	// Removing the override brings the embedded template back.
	os.Remove(filepath.Join(dir, "npc.bark@1.tmpl"))
	if err := p.Reload(); err != nil {
		t.Fatal(err)
	}
	if text, _ := mustRender(t, p, "npc.bark", "", req); text != "bark BRENNA" {
		t.Fatalf("embedded bark back: %q", text)
	}
	// A directory that vanished is an error too, and nothing is lost.
	gone := filepath.Join(dir, "gone")
	q, err := inference.OpenPrompts(inference.PromptOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inference.OpenPrompts(inference.PromptOptions{Dir: gone}); err == nil || !strings.Contains(err.Error(), gone) {
		t.Fatalf("missing dir: %v", err)
	}
	os.RemoveAll(dir)
	if err := q.Reload(); err == nil || !strings.Contains(err.Error(), dir) {
		t.Fatalf("vanished dir: %v", err)
	}
	if _, ref := mustRender(t, q, "npc.dialogue", "", req); ref.String() != "npc.dialogue@3" {
		t.Fatalf("vanished dir: %v", ref)
	}
}

// TestPromptsWatch: with Watch, a file written into the directory is
// picked up without a call to Reload, and a broken one is reported while
// the good set keeps serving. It waits for the watcher (up to 10 s, far
// above its 100 ms debounce), asserting nothing about how fast it is.
func TestPromptsWatch(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "greet@1.tmpl", `hello {{.}}`)
	p, err := inference.OpenPrompts(inference.PromptOptions{Dir: dir, Watch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the watcher never saw %s", what)
			}
		}
	}
	// Write to a temporary name, then rename: what editors and deploy
	// tools do.
	writeFile(t, dir, ".greet@2.tmp", `hi {{.}}`)
	if err := os.Rename(filepath.Join(dir, ".greet@2.tmp"), filepath.Join(dir, "greet@2.tmpl")); err != nil {
		t.Fatal(err)
	}
	waitFor("greet@2", func() bool { text, _, _ := p.Render("greet", "Ada"); return text == "hi Ada" })
	writeFile(t, dir, "greet@3.tmpl", `{{ if }}`)
	waitFor("the broken greet@3", func() bool { return p.Err() != nil })
	if !strings.Contains(p.Err().Error(), "greet@3.tmpl") {
		t.Fatalf("Err %v does not name the file", p.Err())
	}
	if text, _, _ := p.Render("greet", "Ada"); text != "hi Ada" {
		t.Fatalf("after the broken file: %q", text)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p.Close() // twice is fine
}

// abRouter returns prompts with greet@1..3 and the given weights.
func abPrompts(t *testing.T, w inference.PromptWeights) *inference.Prompts {
	t.Helper()
	fsys := fstest.MapFS{
		"p/greet@1.tmpl": {Data: []byte(`one {{.}}`)},
		"p/greet@2.tmpl": {Data: []byte(`two {{.}}`)},
		"p/greet@3.tmpl": {Data: []byte(`three {{.}}`)},
		"p/other@1.tmpl": {Data: []byte(`other`)},
	}
	p, err := inference.OpenPrompts(inference.PromptOptions{Base: fsys, BaseDir: "p", Weights: w})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPromptWeightsSplitPlayers: 10,000 players split near the weights
// (within 5 standard deviations of the binomial), every player keeps its
// version across calls and across instances, and moving weight from @2
// to @3 moves players only that way.
func TestPromptWeightsSplitPlayers(t *testing.T) {
	const n = 10000
	p := abPrompts(t, inference.PromptWeights{"greet": {2: 90, 3: 10}})
	again := abPrompts(t, inference.PromptWeights{"greet": {2: 90, 3: 10}})
	counts := map[int]int{}
	arm := make([]int, n)
	for i := range n {
		id := fmt.Sprintf("player-%d", i)
		text, ref := mustRender(t, p, "greet", id, "x")
		arm[i] = ref.Version
		counts[ref.Version]++
		if want := map[int]string{2: "two x", 3: "three x"}[ref.Version]; text != want {
			t.Fatalf("%s: %q from %v", id, text, ref)
		}
		if r2, _ := p.Choose("greet", id); r2 != ref {
			t.Fatalf("%s: Choose %v, rendered %v", id, r2, ref)
		}
		if _, r3 := mustRender(t, again, "greet", id, "x"); r3 != ref {
			t.Fatalf("%s: another instance chose %v, this one %v", id, r3, ref)
		}
	}
	sd := math.Sqrt(n * 0.1 * 0.9) // 30 players
	if d := math.Abs(float64(counts[3]) - n*0.1); d > 5*sd || counts[2]+counts[3] != n {
		t.Fatalf("split %v, want about 9000/1000 (±%.0f)", counts, 5*sd)
	}
	// Other names and pinned versions ignore the weights.
	if _, ref := mustRender(t, p, "other", "player-1", nil); ref.String() != "other@1" {
		t.Fatal(ref)
	}
	if _, ref := mustRender(t, p, "greet@1", "player-1", "x"); ref.Version != 1 {
		t.Fatal(ref)
	}
	// Ramp up: 80/20. Players on @3 stay there.
	if err := p.SetWeights(inference.PromptWeights{"greet": {2: 80, 3: 20}}); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for i := range n {
		_, ref := mustRender(t, p, "greet", fmt.Sprintf("player-%d", i), "x")
		if arm[i] == 3 && ref.Version != 3 {
			t.Fatalf("player-%d went back from @3 to @%d", i, ref.Version)
		}
		if ref.Version != arm[i] {
			moved++
		}
	}
	if d := math.Abs(float64(moved) - n*0.1); d > 5*sd {
		t.Fatalf("%d players moved, want about 1000", moved)
	}
	// No weights: the latest version for everyone.
	if err := p.SetWeights(nil); err != nil {
		t.Fatal(err)
	}
	if _, ref := mustRender(t, p, "greet", "player-1", "x"); ref.Version != 3 {
		t.Fatal(ref)
	}
}

func TestPromptWeightsErrors(t *testing.T) {
	fsys := fstest.MapFS{"p/greet@1.tmpl": {Data: []byte(`one`)}, "p/greet@2.tmpl": {Data: []byte(`two`)}}
	for want, w := range map[string]inference.PromptWeights{
		"greet@3 is not loaded; loaded: greet@1, greet@2": {"greet": {1: 50, 3: 50}},
		"greet: the weights sum to 0":                     {"greet": {1: 0, 2: 0}},
		"greet@1: weight -1 must not be negative":         {"greet": {1: -1, 2: 5}},
		"nope@1 is not loaded":                            {"nope": {1: 1}},
	} {
		_, err := inference.OpenPrompts(inference.PromptOptions{Base: fsys, BaseDir: "p", Weights: w})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: error %v, want %q", w, err, want)
		}
	}
	if err := inference.CheckPromptWeights(inference.PromptWeights{"greet": {0: 1}}); err == nil {
		t.Error("version 0 accepted")
	}
	// A reload that drops a weighted version is refused.
	dir := t.TempDir()
	writeFile(t, dir, "greet@3.tmpl", `three`)
	p, err := inference.OpenPrompts(inference.PromptOptions{Base: fsys, BaseDir: "p", Dir: dir,
		Weights: inference.PromptWeights{"greet": {2: 1, 3: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "greet@3.tmpl"))
	if err := p.Reload(); err == nil || !strings.Contains(err.Error(), "greet@3 is not loaded") {
		t.Fatalf("reload without a weighted version: %v", err)
	}
	if _, ref := mustRender(t, p, "greet@3", "", nil); ref.Version != 3 {
		t.Fatal(ref)
	}
	if err := p.SetWeights(inference.PromptWeights{"greet": {9: 1}}); err == nil {
		t.Fatal("SetWeights accepted an unknown version")
	}
	if w := p.Weights(); w["greet"][3] != 1 {
		t.Fatalf("a failed SetWeights changed the weights: %v", w)
	}
}

type ptPersona struct {
	Name   string
	Traits []string
}

type ptData struct {
	Persona  ptPersona
	Facts    []inference.Fact
	Feeling  *inference.Relationship
	UserText string
}

// Loud returns the name in capitals: methods resolve like fields.
func (d ptData) Loud() string { return strings.ToUpper(d.Persona.Name) }

// TestPromptFieldErrors: a template naming a field its data type lacks is
// refused at load with the template, the field and the action; where no
// type is registered, the render says the same.
func TestPromptFieldErrors(t *testing.T) {
	data := map[string]any{"npc.dialogue": ptData{}}
	load := func(src string) error {
		fsys := fstest.MapFS{"p/npc.dialogue@3.tmpl": {Data: []byte(src)}}
		_, err := inference.OpenPrompts(inference.PromptOptions{Base: fsys, BaseDir: "p", Data: data})
		return err
	}
	for src, want := range map[string]string{
		`You are {{.Persona.Nme}}.`:               `prompt npc.dialogue@3: missing field "Nme" (in {{.Persona.Nme}}, line 1, type inference_test.ptPersona)`,
		"ok\n{{range .Facts}}- {{.Txt}}\n{{end}}": `prompt npc.dialogue@3: missing field "Txt" (in {{.Txt}}, line 2, type inference.Fact)`,
		`{{with .Feeling}}{{.Mod}}{{end}}`:        `missing field "Mod" (in {{.Mod}}, line 1, type inference.Relationship)`,
		`{{join .Persona.Trait ", "}}`:            `missing field "Trait"`,
		`{{range $f := .Facts}}{{$f.Txt}}{{end}}`: `missing field "Txt" (in {{$f.Txt}}`,
		`{{with .Feeling}}{{$.UserTxt}}{{end}}`:   `missing field "UserTxt" (in {{$.UserTxt}}`,
		`{{.Persona.Name.First}}`:                 `missing field "First" (in {{.Persona.Name.First}}, line 1, type string)`,
	} {
		err := load(src)
		var fe *inference.PromptFieldError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "npc.dialogue@3.tmpl") {
			t.Errorf("%q: error %v, want %q", src, err, want)
		}
	}
	for _, ok := range []string{
		dialogueV2x, `{{.Loud}} {{range $i, $f := .Facts}}{{$i}} {{$f.Text}} {{join $f.Heading "/"}}{{end}}`,
		`{{with .Feeling}}{{.Mood}} {{printf "%.1f" .Trust}} {{$.Persona.Name}}{{end}}{{if .UserText}}{{.UserText}}{{else}}{{.Persona.Name}}{{end}}`,
		`{{define "p"}}{{.Name}}{{end}}{{template "p" .Persona}}`,
	} {
		if err := load(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	// The sub-template is checked with the type it is given.
	if err := load(`{{define "p"}}{{.Nam}}{{end}}{{template "p" .Persona}}`); err == nil || !strings.Contains(err.Error(), `missing field "Nam"`) {
		t.Errorf("sub-template: %v", err)
	}

	// A reload with such a template is refused; the old set serves.
	dir := t.TempDir()
	writeFile(t, dir, "npc.dialogue@1.tmpl", `{{.Persona.Name}}`)
	p, err := inference.OpenPrompts(inference.PromptOptions{Dir: dir, Data: data})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "npc.dialogue@2.tmpl", "line one\n{{.Persona.Nme}}")
	if err := p.Reload(); err == nil || !strings.Contains(err.Error(), `prompt npc.dialogue@2: missing field "Nme" (in {{.Persona.Nme}}, line 2`) {
		t.Fatalf("reload: %v", err)
	}
	if text, ref := mustRender(t, p, "npc.dialogue", "", ptData{Persona: ptPersona{Name: "Ada"}}); text != "Ada" || ref.Version != 1 {
		t.Fatalf("%q %v", text, ref)
	}

	// Unregistered: the render names template and field, struct or map.
	q, err := inference.OpenPrompts(inference.PromptOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, ref, err := q.Render("npc.dialogue", ptData{})
	var fe *inference.PromptFieldError
	if !errors.As(err, &fe) || ref.Version != 2 ||
		err.Error() != `prompt npc.dialogue@2: missing field "Nme" (in {{.Persona.Nme}}, line 2, type inference_test.ptPersona)` {
		t.Fatalf("render on a struct: %v", err)
	}
	_, _, err = q.Render("npc.dialogue", map[string]any{"Persona": map[string]any{"Name": "Ada"}})
	if !errors.As(err, &fe) || err.Error() != `prompt npc.dialogue@2: missing field "Nme" (in {{.Persona.Nme}}, line 2)` {
		t.Fatalf("render on a map: %v", err)
	}
	if c := q.RenderCounts(); len(c) != 2 || c[1].Errors != 2 || c[1].Renders != 0 {
		t.Fatalf("counts %+v", c)
	}
}

const dialogueV2x = `You are {{.Persona.Name}} ({{join .Persona.Traits ", "}}).
{{- with .Feeling}}{{if .Mood}}Mood: {{.Mood}}{{end}}{{end}}
{{- range .Facts}}
- [{{join .Heading " > "}}] {{.Text}}{{end}}
Player: {{.UserText}}`

// TestPromptCollector: renders per name@version and reloads by result.
func TestPromptCollector(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "greet@1.tmpl", `one {{.}}`)
	writeFile(t, dir, "greet@2.tmpl", `two {{.}}`)
	p, err := inference.OpenPrompts(inference.PromptOptions{Dir: dir, Weights: inference.PromptWeights{"greet": {1: 1, 2: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	per := map[int]float64{}
	for i := range 100 {
		_, ref := mustRender(t, p, "greet", fmt.Sprint(i), "x")
		per[ref.Version]++
	}
	writeFile(t, dir, "greet@3.tmpl", `{{`)
	p.Reload()
	reg := prometheus.NewRegistry()
	reg.MustRegister(inference.NewPromptCollector(p))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			labels := ""
			for _, l := range mt.GetLabel() {
				labels += l.GetName() + "=" + l.GetValue() + ","
			}
			got[mf.GetName()+"{"+labels+"}"] = mt.GetCounter().GetValue() + mt.GetGauge().GetValue()
		}
	}
	for name, want := range map[string]float64{
		"hearth_prompt_renders_total{template=greet,version=1,}": per[1],
		"hearth_prompt_renders_total{template=greet,version=2,}": per[2],
		"hearth_prompt_reloads_total{result=error,}":             1,
		"hearth_prompt_reloads_total{result=ok,}":                0,
		"hearth_prompt_reload_failing{}":                         1,
	} {
		if got[name] != want {
			t.Errorf("%s = %v, want %v", name, got[name], want)
		}
	}
	if per[1] == 0 || per[2] == 0 {
		t.Fatalf("one arm got nothing: %v", per)
	}
}

// TestPromptsWatchSymlinkSwap: a Kubernetes ConfigMap volume updates by
// writing a new timestamped folder and renaming a "..data" symlink over
// the old one; the files are symlinks through "..data". The watcher sees
// the swap and the next render uses the new content.
func TestPromptsWatchSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	for _, v := range []string{"..v1", "..v2"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "..v1"), "greet@1.tmpl", `old {{.}}`)
	writeFile(t, filepath.Join(dir, "..v2"), "greet@1.tmpl", `new {{.}}`)
	if err := os.Symlink("..v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..data", "greet@1.tmpl"), filepath.Join(dir, "greet@1.tmpl")); err != nil {
		t.Fatal(err)
	}
	p, err := inference.OpenPrompts(inference.PromptOptions{Dir: dir, Watch: true})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if text, _ := mustRender(t, p, "greet", "", "Ada"); text != "old Ada" {
		t.Fatalf("before the swap: %q", text)
	}
	if err := os.Symlink("..v2", filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if text, _ := mustRender(t, p, "greet", "", "Ada"); text == "new Ada" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the watcher never saw the ..data swap")
		}
	}
}

// TestRenderDuringReloads: renders racing reloads always return text and
// a hash of the same template (the set is swapped whole).
func TestRenderDuringReloads(t *testing.T) {
	dir := t.TempDir()
	srcs := []string{`alpha {{.}}`, `beta {{.}}`}
	writeFile(t, dir, "greet@1.tmpl", srcs[0])
	p, err := inference.OpenPrompts(inference.PromptOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{hash12(srcs[0]): "alpha x", hash12(srcs[1]): "beta x"}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				text, ref, err := p.Render("greet", "x")
				if err != nil || want[ref.Hash] != text {
					t.Errorf("%q from %+v: %v", text, ref, err)
					return
				}
			}
		})
	}
	for i := range 50 {
		writeFile(t, dir, "greet@1.tmpl", srcs[i%2])
		if err := p.Reload(); err != nil {
			t.Error(err)
			break
		}
	}
	close(stop)
	wg.Wait()
}

// BenchmarkRenderPromptAB is BenchmarkRenderPrompt with a 90/10 split:
// the cost of choosing a player's version.
func BenchmarkRenderPromptAB(b *testing.B) {
	p, err := inference.OpenPrompts(inference.PromptOptions{Base: promptFS(), BaseDir: "prompts",
		Weights: inference.PromptWeights{"npc.dialogue": {1: 10, 2: 90}}})
	if err != nil {
		b.Fatal(err)
	}
	req := &inference.Request{Persona: inference.Persona{Name: "Brenna", Role: "smith", Traits: []string{"gruff"}}, UserText: "hi"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.RenderFor("npc.dialogue", "player-12345", req); err != nil {
			b.Fatal(err)
		}
	}
}

package inference_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/hearth-ai/hearth/inference"
)

const dialogueV2 = `You are {{.Persona.Name}}, a {{.Persona.Role}} ({{join .Persona.Traits ", "}}).
Player: {{.UserText}}`

func promptFS() fstest.MapFS {
	return fstest.MapFS{
		"prompts/npc.dialogue@1.tmpl":     {Data: []byte(`v1 {{.Persona.Name}}`)},
		"prompts/npc.dialogue@2.tmpl":     {Data: []byte(dialogueV2)},
		"prompts/npc.bark@1.tmpl":         {Data: []byte(`bark {{.Persona.Name | upper}}`)},
		"prompts/README.md":               {Data: []byte(`not a template`)},
		"prompts/old/npc.dialogue@9.tmpl": {Data: []byte(`in a subdirectory: ignored`)},
	}
}

func TestLoadAndRender(t *testing.T) {
	p, err := inference.LoadPrompts(promptFS(), "prompts")
	if err != nil {
		t.Fatal(err)
	}
	req := &inference.Request{
		Persona:  inference.Persona{Name: "Brenna", Role: "blacksmith", Traits: []string{"gruff", "honest"}},
		UserText: "Can you fix my sword?",
	}
	text, ref, err := p.Render("npc.dialogue", req)
	if err != nil {
		t.Fatal(err)
	}
	want := "You are Brenna, a blacksmith (gruff, honest).\nPlayer: Can you fix my sword?"
	if text != want {
		t.Fatalf("text %q", text)
	}
	sum := sha256.Sum256([]byte(dialogueV2))
	if ref.Name != "npc.dialogue" || ref.Version != 2 || ref.Hash != hex.EncodeToString(sum[:])[:12] || ref.String() != "npc.dialogue@2" {
		t.Fatalf("ref %+v", ref)
	}

	text, ref, err = p.Render("npc.dialogue@1", req)
	if err != nil || text != "v1 Brenna" || ref.Version != 1 {
		t.Fatalf("pinned: %q %+v %v", text, ref, err)
	}
	if text, _, _ := p.Render("npc.bark", req); text != "bark BRENNA" {
		t.Fatalf("bark %q", text)
	}

	var got []string
	for _, r := range p.Refs() {
		got = append(got, r.String())
	}
	if strings.Join(got, ",") != "npc.bark@1,npc.dialogue@1,npc.dialogue@2" {
		t.Fatalf("Refs %v", got)
	}
}

func TestRenderErrors(t *testing.T) {
	p, err := inference.LoadPrompts(promptFS(), "prompts")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"npc.quest", "npc.dialogue@3", "npc.dialogue@x"} {
		_, _, err := p.Render(name, nil)
		if !errors.Is(err, inference.ErrUnknownPrompt) || !strings.Contains(err.Error(), "npc.dialogue@2") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// An execution error names the template.
	_, ref, err := p.Render("npc.dialogue", map[string]any{})
	if err == nil || !strings.Contains(err.Error(), "npc.dialogue@2") || ref.Version != 2 {
		t.Fatalf("execution error: %v", err)
	}
}

func TestLoadPromptsErrorsNameTheFile(t *testing.T) {
	cases := map[string]string{
		"noversion.tmpl":   "x",
		"x@0.tmpl":         "x",
		"x@01.tmpl":        "x",
		"x@-1.tmpl":        "x",
		"bad name@1.tmpl":  "x",
		"@1.tmpl":          "x",
		"broken@1.tmpl":    "{{ .Foo ",
		"unknownfn@1.tmpl": "{{ nope }}",
	}
	for file, src := range cases {
		fsys := fstest.MapFS{"p/" + file: {Data: []byte(src)}, "p/ok@1.tmpl": {Data: []byte("ok")}}
		_, err := inference.LoadPrompts(fsys, "p")
		if err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("%s: error %v does not name the file", file, err)
		}
	}
	if _, err := inference.LoadPrompts(fstest.MapFS{}, "missing"); err == nil {
		t.Errorf("missing dir: no error")
	}
}

func TestRenderConcurrent(t *testing.T) {
	p, err := inference.LoadPrompts(promptFS(), "prompts")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			req := &inference.Request{Persona: inference.Persona{Name: strings.Repeat("n", g+1)}}
			for range 200 {
				text, _, err := p.Render("npc.dialogue@1", req)
				if err != nil || text != "v1 "+req.Persona.Name {
					t.Errorf("%q %v", text, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkRenderPrompt(b *testing.B) {
	p, err := inference.LoadPrompts(promptFS(), "prompts")
	if err != nil {
		b.Fatal(err)
	}
	req := &inference.Request{Persona: inference.Persona{Name: "Brenna", Role: "smith", Traits: []string{"gruff"}}, UserText: "hi"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.Render("npc.dialogue", req); err != nil {
			b.Fatal(err)
		}
	}
}

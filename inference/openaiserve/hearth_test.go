package openaiserve

import (
	"os"
	"slices"
	"strings"
	"testing"

	sdk "github.com/openai/openai-go/v3"

	"github.com/hearth-ai/hearth/inference"
	hopenai "github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/inference/template"
)

// hearthPrompt renders one of Hearth's real NPC prompt templates.
func hearthPrompt(t *testing.T, name string, returning bool) string {
	t.Helper()
	prompts, err := inference.LoadPrompts(os.DirFS("../../npc/prompts"), ".")
	if err != nil {
		t.Fatal(err)
	}
	facts := []inference.Fact{
		{Heading: []string{"Millbrook", "The Old Mill"}, Text: "The old mill stands on the east bank of the Brook, two miles upstream."},
		{Heading: []string{"Millbrook", "Guilds"}, Text: "The Smiths' Guild meets on the first day of each month."},
	}
	data := map[string]any{
		"Persona": map[string]any{
			"Name": "Brenna Ashdown", "Role": "blacksmith", "Home": "Millbrook", "Faction": "Smiths' Guild",
			"Traits": []string{"gruff", "honest"}, "SpeechStyle": "short sentences, calls everyone 'friend'",
			"Goals": []string{"forge a blade for the baron"}, "Secrets": []string{},
		},
		"PlayerName": "Aria", "Returning": returning,
		"UserText": "Where is the old mill?",
		"Facts":    facts,
		"Memories": []inference.Memory{{Text: "Aria asked about the mill before."}},
		"Occasion": "the sun sets over the forge",
		"Lore":     []map[string]any{{"Heading": facts[0].Heading, "Text": facts[0].Text}},
		// npc.dialogue@2's mood and feeling lines, which the parser skips.
		"Feeling":      &inference.Relationship{Affinity: -0.4, Trust: -0.6, Feeling: "wary, distrustful", Mood: "uneasy"},
		"FeelingAbout": "Aria",
	}
	text, _, err := prompts.Render(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

// TestHearthPromptPassthrough sends Hearth's own prompts the way
// inference/openai does (one user message) and checks the model receives
// them byte for byte, with their structured parts parsed back.
func TestHearthPromptPassthrough(t *testing.T) {
	rec := &recorder{Model: template.New()}
	h := serve(t, rec, Options{})
	for _, name := range []string{"npc.dialogue", "npc.dialogue-small", "npc.bark", "npc.bark-small"} {
		t.Run(name, func(t *testing.T) {
			prompt := hearthPrompt(t, name, true)
			if !isHearthPrompt(prompt) {
				t.Fatalf("not recognised:\n%s", prompt)
			}
			a, err := h.client.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{
				Model:    testModelID,
				Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage(prompt)},
				Seed:     sdk.Int(9),
			})
			if err != nil {
				t.Fatal(err)
			}
			req := rec.request()
			if req.Prompt != prompt {
				t.Fatalf("Prompt changed:\n%q\nwant\n%q", req.Prompt, prompt)
			}
			if req.PrefixBytes != strings.Index(prompt, "\n\n") {
				t.Fatalf("PrefixBytes %d", req.PrefixBytes)
			}
			p := req.Persona
			if p.Name != "Brenna Ashdown" || p.Role != "blacksmith" || p.Home != "Millbrook" || p.Faction != "Smiths' Guild" ||
				!slices.Equal(p.Traits, []string{"gruff", "honest"}) || p.SpeechStyle != "short sentences, calls everyone 'friend'" {
				t.Fatalf("persona %+v", p)
			}
			if len(req.Facts) == 0 || req.Facts[0].Text != "The old mill stands on the east bank of the Brook, two miles upstream." ||
				!slices.Equal(req.Facts[0].Heading, []string{"Millbrook", "The Old Mill"}) {
				t.Fatalf("facts %+v", req.Facts)
			}
			if strings.HasPrefix(name, "npc.bark") {
				if req.Intent != inference.IntentBark || req.UserText != "" {
					t.Fatalf("bark parsed as %q %q", req.Intent, req.UserText)
				}
			} else {
				if req.Intent != inference.IntentDialogue || req.UserText != "Where is the old mill?" ||
					req.PlayerName != "Aria" || !req.Returning {
					t.Fatalf("dialogue parsed as intent %q text %q player %q returning %v", req.Intent, req.UserText, req.PlayerName, req.Returning)
				}
				if len(req.Memories) != 1 || req.Memories[0].Text != "Aria asked about the mill before." {
					t.Fatalf("memories %+v", req.Memories)
				}
			}
			// The floor answers from the parsed structure, as it would in-process.
			want, _ := template.New().Generate(t.Context(), &req, nil)
			if got := a.Choices[0].Message.Content; got != want.Text || got == "" {
				t.Fatalf("answer %q, in-process %q", got, want.Text)
			}
		})
	}
	t.Run("stranger", func(t *testing.T) {
		prompt := strings.Replace(hearthPrompt(t, "npc.dialogue", false), "Aria says:", "A stranger says:", 1)
		if _, err := h.client.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{Model: testModelID,
			Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage(prompt)}}); err != nil {
			t.Fatal(err)
		}
		if req := rec.request(); req.PlayerName != "" || req.Returning || req.UserText != "Where is the old mill?" {
			t.Fatalf("stranger parsed as %q %v %q", req.PlayerName, req.Returning, req.UserText)
		}
	})
	t.Run("with system message it is rendered", func(t *testing.T) {
		prompt := hearthPrompt(t, "npc.dialogue", false)
		if _, err := h.client.Chat.Completions.New(t.Context(), sdk.ChatCompletionNewParams{Model: testModelID,
			Messages: []sdk.ChatCompletionMessageParamUnion{sdk.SystemMessage("Be terse."), sdk.UserMessage(prompt)}}); err != nil {
			t.Fatal(err)
		}
		if req := rec.request(); req.Prompt != "Be terse.\n\nUser: "+prompt+"\nAssistant:" {
			t.Fatalf("Prompt %q", req.Prompt)
		}
	})
}

func TestIsHearthPrompt(t *testing.T) {
	for _, s := range []string{
		"You are great.",
		"You are a helpful assistant.\nRules: be nice.\nUser: hi\nAssistant:",                  // no player or occasion line
		"Hello.\nRules: x\n\nA stranger says: hi\nBrenna:",                                     // no "You are"
		"You are Brenna, smith.\nRules: x\n\nA stranger says: hi",                              // no speaker cue
		"You are Brenna, smith.\nRules: x\n\nA stranger says: hi\nA stranger says: where? no:", // cue is a player line
	} {
		if isHearthPrompt(s) {
			t.Errorf("recognised %q", s)
		}
	}
	if !isHearthPrompt("You are Brenna, smith.\nRules: x\n\nA stranger says: hi\nBrenna:\n") {
		t.Error("minimal prompt not recognised")
	}
}

// FuzzParseHearthPrompt: parsing never panics on any text that passes the
// shape check.
func FuzzParseHearthPrompt(f *testing.F) {
	f.Add("You are Brenna, smith.\nRules: x\n\nLore:\n- [a > b] c\n\nA stranger says: hi\nBrenna:\n")
	f.Add("You are X.\nRules: \n\n\nOccasion: y\n:")
	f.Fuzz(func(t *testing.T, s string) {
		if isHearthPrompt(s) {
			var req inference.Request
			parseHearthPrompt(s, &req)
		}
	})
}

// TestHearthBackendEndToEnd: Hearth's own OpenAI-compatible backend
// (inference/openai), pointed at this server, gets its prompt to the model
// byte for byte and streams the answer back.
func TestHearthBackendEndToEnd(t *testing.T) {
	rec := &recorder{Model: &trickle{floor: template.New(), n: 4}}
	h := serve(t, rec, Options{})
	b, err := hopenai.New(hopenai.Config{BaseURL: h.url, Model: testModelID, Tier: inference.TierLocal, HTTPClient: h.http})
	if err != nil {
		t.Fatal(err)
	}
	prompt := hearthPrompt(t, "npc.dialogue", true)
	var streamed strings.Builder
	res, err := b.Generate(t.Context(), &inference.Request{Prompt: prompt, Seed: 8, MaxTokens: 60},
		func(d inference.Delta) { streamed.WriteString(d.Text) })
	if err != nil {
		t.Fatal(err)
	}
	got := rec.request()
	if got.Prompt != prompt || got.UserText != "Where is the old mill?" || got.MaxTokens != 60 {
		t.Fatalf("model saw Prompt %q UserText %q MaxTokens %d", got.Prompt, got.UserText, got.MaxTokens)
	}
	want, _ := template.New().Generate(t.Context(), &got, nil)
	if res.Text != want.Text || streamed.String() != want.Text || res.Tokens != want.Tokens {
		t.Fatalf("backend got %q (streamed %q, %d tokens), want %q (%d)", res.Text, streamed.String(), res.Tokens, want.Text, want.Tokens)
	}
}

package main

import (
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/hearth-ai/hearth/inference/embedded/constrain"
	"github.com/hearth-ai/hearth/npc/corpus"
)

var openAILine = regexp.MustCompile(`serving model \S+ \(.*\) on (http://\S+/v1)`)

// `hearth serve -openai` serves the shipped model as a real local model
// server: the official openai-go client lists it, chats with it (streamed
// and not, the same seed giving the same reply), embeds with it, and gets
// JSON that validates when it asks for a json_schema response format.
func TestServeOpenAIWithTheOfficialClient(t *testing.T) {
	_, m := startProcUntil(t, exec.Command(hearthBin, "serve", "-openai", "-addr", "127.0.0.1:0", "-log", "warn"), openAILine)
	base := m[1]
	c := sdk.NewClient(option.WithBaseURL(base), option.WithAPIKey("none"), option.WithMaxRetries(0))
	ctx := t.Context()

	models, err := c.Models.List(ctx)
	if err != nil || len(models.Data) != 1 || models.Data[0].ID != "hearth-embedded" {
		t.Fatalf("models: %+v, %v", models, err)
	}
	prompt := "You are Hobb Fairweather, innkeeper of the Tipped Kettle.\nRules: stay in character.\n\n" +
		"Lore:\n- [The Tipped Kettle] The Tipped Kettle is Kettleford's only inn.\n\nA stranger says: What is the Tipped Kettle?\nHobb Fairweather:\n"
	params := sdk.ChatCompletionNewParams{Model: "hearth-embedded", Seed: sdk.Int(3), MaxCompletionTokens: sdk.Int(24),
		Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage(prompt)}}
	full, err := c.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if full.Usage.PromptTokens == 0 || full.Usage.CompletionTokens == 0 || full.Usage.CompletionTokens > 24 {
		t.Fatalf("usage %+v", full.Usage)
	}
	stream := c.Chat.Completions.NewStreaming(ctx, params)
	var acc sdk.ChatCompletionAccumulator
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := acc.Choices[0].Message.Content, full.Choices[0].Message.Content; got != want {
		t.Fatalf("streamed %q, non-streamed %q (same seed)", got, want)
	}

	emb, err := c.Embeddings.New(ctx, sdk.EmbeddingNewParams{Model: "hearth-embedded",
		Input: sdk.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"the copper kettle", "wolves in the Gloamwood"}}})
	if err != nil || len(emb.Data) != 2 || len(emb.Data[0].Embedding) == 0 {
		t.Fatalf("embeddings: %+v, %v", emb, err)
	}

	var schema map[string]any
	if err := json.Unmarshal(corpus.DemoQuestOfferSchema, &schema); err != nil {
		t.Fatal(err)
	}
	compiled, err := constrain.Compile(corpus.DemoQuestOfferSchema)
	if err != nil {
		t.Fatal(err)
	}
	for seed := range int64(3) {
		q := params
		q.Seed = sdk.Int(seed)
		q.MaxCompletionTokens = sdk.Int(256)
		q.Temperature = sdk.Float(1)
		q.ResponseFormat = sdk.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "quest_offer", Schema: schema}}}
		res, err := c.Chat.Completions.New(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if err := compiled.Validate([]byte(res.Choices[0].Message.Content)); err != nil {
			t.Fatalf("seed %d: %q does not validate: %v", seed, res.Choices[0].Message.Content, err)
		}
	}
}

// `hearth serve -openai -auth-keys` takes the WebSocket server's API keys:
// the official client without a key, or with a wrong one, gets 401
// invalid_api_key; with a key from the file it is served. Flags of the
// WebSocket server that have nothing to act on are refused.
func TestServeOpenAIWithAPIKeys(t *testing.T) {
	keys, key := clientKeyFile(t, "engine")
	_, m := startProcUntil(t, exec.Command(hearthBin, "serve", "-openai", "-auth-keys", keys, "-addr", "127.0.0.1:0", "-log", "warn"), openAILine)
	ctx := t.Context()
	for _, bad := range []string{"none", key + "x"} {
		c := sdk.NewClient(option.WithBaseURL(m[1]), option.WithAPIKey(bad), option.WithMaxRetries(0))
		_, err := c.Models.List(ctx)
		var e *sdk.Error
		if !errors.As(err, &e) || e.StatusCode != 401 || e.Code != "invalid_api_key" {
			t.Fatalf("key %q: %v, want 401 invalid_api_key", bad, err)
		}
	}
	c := sdk.NewClient(option.WithBaseURL(m[1]), option.WithAPIKey(key), option.WithMaxRetries(0))
	if models, err := c.Models.List(ctx); err != nil || len(models.Data) != 1 {
		t.Fatalf("with the key: %+v, %v", models, err)
	}

	out, err := exec.Command(hearthBin, "serve", "-openai", "-audit-log", filepath.Join(t.TempDir(), "a.jsonl"), "-conn-rate", "5", "-addr", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "-audit-log, -conn-rate: not used with -openai") {
		t.Fatalf("-openai with WebSocket-only flags: %v\n%s", err, out)
	}
}

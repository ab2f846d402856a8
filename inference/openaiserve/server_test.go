package openaiserve

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"github.com/hearth-ai/hearth/inference"
	hopenai "github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/inference/template"
)

func chatParams(seed int64) sdk.ChatCompletionNewParams {
	return sdk.ChatCompletionNewParams{
		Model: testModelID,
		Messages: []sdk.ChatCompletionMessageParamUnion{
			sdk.SystemMessage("You are Brenna, the smith of Millbrook."),
			sdk.UserMessage("Where can I find the old mill by the river?"),
		},
		Seed:      sdk.Int(seed),
		MaxTokens: sdk.Int(80),
	}
}

func TestModelsListAndGet(t *testing.T) {
	h := serve(t, template.New(), Options{})
	ctx := t.Context()
	page, err := h.client.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Data) != 1 || page.Data[0].ID != testModelID || page.Data[0].OwnedBy != "hearth" ||
		page.Data[0].Object != "model" || page.Data[0].Created == 0 || page.Object != "list" {
		t.Fatalf("list = %s", page.RawJSON())
	}
	m, err := h.client.Models.Get(ctx, testModelID)
	if err != nil || m.ID != testModelID {
		t.Fatalf("get = %v, %v", m, err)
	}
	_, err = h.client.Models.Get(ctx, "gpt-4o")
	apiErr(t, err, http.StatusNotFound, "model_not_found")
}

func TestChatNonStreaming(t *testing.T) {
	h := serve(t, template.New(), Options{})
	ctx := t.Context()
	a, err := h.client.Chat.Completions.New(ctx, chatParams(42))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Choices) != 1 {
		t.Fatalf("choices: %s", a.RawJSON())
	}
	c := a.Choices[0]
	if c.Message.Content == "" || c.Message.Role != "assistant" || c.FinishReason != "stop" || c.Index != 0 {
		t.Fatalf("choice: %s", a.RawJSON())
	}
	if !strings.HasPrefix(a.ID, "chatcmpl-") || a.Object != "chat.completion" || a.Model != testModelID || a.Created == 0 {
		t.Fatalf("envelope: %s", a.RawJSON())
	}
	if a.Usage.CompletionTokens <= 0 || a.Usage.TotalTokens != a.Usage.PromptTokens+a.Usage.CompletionTokens {
		t.Fatalf("usage: %s", a.RawJSON())
	}
	// Same seed, same answer.
	b, err := h.client.Chat.Completions.New(ctx, chatParams(42))
	if err != nil || b.Choices[0].Message.Content != c.Message.Content {
		t.Fatalf("same seed gave %q, %v; want %q", b.Choices[0].Message.Content, err, c.Message.Content)
	}
	if a.ID == b.ID {
		t.Fatalf("two completions share id %s", a.ID)
	}
}

// stream runs a streaming completion through the SDK's accumulator.
func stream(t *testing.T, h *harness, p sdk.ChatCompletionNewParams) (sdk.ChatCompletionAccumulator, int, error) {
	t.Helper()
	s := h.client.Chat.Completions.NewStreaming(t.Context(), p)
	defer s.Close()
	var acc sdk.ChatCompletionAccumulator
	chunks := 0
	for s.Next() {
		acc.AddChunk(s.Current())
		chunks++
	}
	return acc, chunks, s.Err()
}

func TestChatStreamingMatchesNonStreaming(t *testing.T) {
	for _, m := range []inference.Model{template.New(), &trickle{floor: template.New(), n: 3}} {
		t.Run(m.Info().Name, func(t *testing.T) {
			h := serve(t, m, Options{})
			want, err := h.client.Chat.Completions.New(t.Context(), chatParams(7))
			if err != nil {
				t.Fatal(err)
			}
			p := chatParams(7)
			p.StreamOptions = sdk.ChatCompletionStreamOptionsParam{IncludeUsage: sdk.Bool(true)}
			acc, chunks, err := stream(t, h, p)
			if err != nil {
				t.Fatal(err)
			}
			got := acc.Choices[0].Message.Content
			if got != want.Choices[0].Message.Content {
				t.Fatalf("streamed %q, non-streaming %q", got, want.Choices[0].Message.Content)
			}
			if acc.Choices[0].FinishReason != "stop" {
				t.Fatalf("finish_reason %q", acc.Choices[0].FinishReason)
			}
			if acc.Usage.CompletionTokens != want.Usage.CompletionTokens || acc.Usage.TotalTokens == 0 {
				t.Fatalf("usage %+v, want %+v", acc.Usage, want.Usage)
			}
			// role, content..., finish, usage
			minChunks := 4
			if _, ok := m.(*trickle); ok {
				minChunks = 3 + len(got)/3
			}
			if chunks < minChunks {
				t.Fatalf("%d chunks, want at least %d", chunks, minChunks)
			}
		})
	}
}

// TestStreamWireFormat reads the raw SSE stream and checks OpenAI's
// framing: role chunk first, finish chunk, usage chunk with empty choices,
// [DONE], each event "data: …\n\n".
func TestStreamWireFormat(t *testing.T) {
	h := serve(t, &trickle{floor: template.New(), n: 5}, Options{})
	body := `{"model":"hearth-test","stream":true,"stream_options":{"include_usage":true},"seed":3,` +
		`"messages":[{"role":"user","content":[{"type":"text","text":"Tell me of the mill."}]}]}`
	resp, err := h.http.Post(h.url+"/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(raw), "data: [DONE]\n\n") {
		t.Fatalf("stream does not end with [DONE]: %q", raw)
	}
	events := strings.Split(strings.TrimSuffix(string(raw), "\n\n"), "\n\n")
	type chunkJSON struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Choices []struct {
			Delta struct {
				Role    *string `json:"role"`
				Content *string `json:"content"`
			} `json:"delta"`
			FinishReason *string `json:"finish_reason"`
		} `json:"choices"`
		Usage *usage `json:"usage"`
	}
	var parsed []chunkJSON
	for _, ev := range events[:len(events)-1] {
		data, ok := strings.CutPrefix(ev, "data: ")
		if !ok || strings.Contains(data, "\n") {
			t.Fatalf("bad event framing %q", ev)
		}
		var c chunkJSON
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		if c.Object != "chat.completion.chunk" || c.ID != parsed0ID(parsed, c.ID) {
			t.Fatalf("chunk envelope %q", data)
		}
		parsed = append(parsed, c)
	}
	first, fin, use := parsed[0], parsed[len(parsed)-2], parsed[len(parsed)-1]
	if first.Choices[0].Delta.Role == nil || *first.Choices[0].Delta.Role != "assistant" ||
		first.Choices[0].Delta.Content == nil || *first.Choices[0].Delta.Content != "" {
		t.Fatalf("first chunk %+v", first)
	}
	if fin.Choices[0].FinishReason == nil || *fin.Choices[0].FinishReason != "stop" || fin.Choices[0].Delta.Content != nil {
		t.Fatalf("finish chunk %+v", fin)
	}
	if len(use.Choices) != 0 || use.Usage == nil || use.Usage.CompletionTokens == 0 {
		t.Fatalf("usage chunk %+v", use)
	}
	var text strings.Builder
	for _, c := range parsed[1 : len(parsed)-2] {
		if c.Choices[0].FinishReason != nil || c.Usage != nil || c.Choices[0].Delta.Content == nil {
			t.Fatalf("content chunk %+v", c)
		}
		text.WriteString(*c.Choices[0].Delta.Content)
	}
	if text.Len() == 0 {
		t.Fatal("no content streamed")
	}
}

func parsed0ID[T any](parsed []T, id string) string {
	if len(parsed) == 0 {
		return id
	}
	b, _ := json.Marshal(parsed[0])
	var v struct{ ID string }
	_ = json.Unmarshal(b, &v)
	return v.ID
}

func TestStopSequences(t *testing.T) {
	rec := &recorder{Model: &trickle{floor: template.New(), n: 2}}
	h := serve(t, rec, Options{})
	ctx := t.Context()
	full, err := h.client.Chat.Completions.New(ctx, chatParams(11))
	if err != nil {
		t.Fatal(err)
	}
	text := full.Choices[0].Message.Content
	words := strings.Fields(text)
	if len(words) < 4 {
		t.Fatalf("answer too short to cut: %q", text)
	}
	stop := " " + words[2]
	want := text[:strings.Index(text, stop)]

	p := chatParams(11)
	p.Stop = sdk.ChatCompletionNewParamsStopUnion{OfStringArray: []string{"\x00never", stop}}
	cut, err := h.client.Chat.Completions.New(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := cut.Choices[0].Message.Content; got != want || cut.Choices[0].FinishReason != "stop" {
		t.Fatalf("with stop %q: %q (%s), want %q", stop, got, cut.Choices[0].FinishReason, want)
	}
	if got := rec.request().Stop; len(got) != 2 || got[1] != stop {
		t.Fatalf("model saw Stop %q", got)
	}
	if u := cut.Usage.CompletionTokens; u <= 0 || u >= full.Usage.CompletionTokens {
		t.Fatalf("cut usage %d, full %d", u, full.Usage.CompletionTokens)
	}

	p.StreamOptions = sdk.ChatCompletionStreamOptionsParam{IncludeUsage: sdk.Bool(true)}
	acc, _, err := stream(t, h, p)
	if err != nil {
		t.Fatal(err)
	}
	if got := acc.Choices[0].Message.Content; got != want || acc.Choices[0].FinishReason != "stop" {
		t.Fatalf("streamed with stop: %q, want %q", got, want)
	}

	// A single-string stop reaches the model as one sequence.
	p2 := chatParams(11)
	p2.Stop = sdk.ChatCompletionNewParamsStopUnion{OfString: sdk.String("zzz")}
	if _, err := h.client.Chat.Completions.New(ctx, p2); err != nil {
		t.Fatal(err)
	}
	if got := rec.request().Stop; len(got) != 1 || got[0] != "zzz" {
		t.Fatalf("model saw Stop %q", got)
	}
}

func TestRequestMapping(t *testing.T) {
	rec := &recorder{Model: template.New()}
	h := serve(t, rec, Options{DefaultMaxTokens: 33})
	p := sdk.ChatCompletionNewParams{
		Model: testModelID,
		Messages: []sdk.ChatCompletionMessageParamUnion{
			sdk.UserMessage("Hello there."),
			sdk.SystemMessage("Be brief."),
			sdk.AssistantMessage("Well met."),
			sdk.DeveloperMessage("Speak plainly."),
			sdk.UserMessage("Where is the mill?"),
		},
		Seed:        sdk.Int(-5),
		Temperature: sdk.Float(0.7),
	}
	if _, err := h.client.Chat.Completions.New(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	req := rec.request()
	const prompt = "Be brief.\n\nSpeak plainly.\n\nUser: Hello there.\nAssistant: Well met.\nUser: Where is the mill?\nAssistant:"
	if req.Prompt != prompt || req.PrefixBytes != len("Be brief.\n\nSpeak plainly.\n\n") {
		t.Fatalf("Prompt %q (prefix %d), want %q", req.Prompt, req.PrefixBytes, prompt)
	}
	if req.UserText != "Where is the mill?" || req.Seed != uint64(1<<64-5) || req.Temperature != 0.7 ||
		req.MaxTokens != 33 || req.Intent != inference.IntentDialogue {
		t.Fatalf("request %+v", req)
	}
	p.MaxCompletionTokens = sdk.Int(12)
	p.Messages = append(p.Messages, sdk.AssistantMessage("The mill"))
	if _, err := h.client.Chat.Completions.New(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	if req := rec.request(); req.MaxTokens != 12 || !strings.HasSuffix(req.Prompt, "User: Where is the mill?\nAssistant: The mill") {
		t.Fatalf("prefill request: MaxTokens %d, Prompt %q", req.MaxTokens, req.Prompt)
	}
}

func TestFinishReasonLength(t *testing.T) {
	m := &scripted{deltas: []inference.Delta{{Text: "one two three"}}, text: "one two three"}
	h := serve(t, m, Options{})
	p := chatParams(1)
	p.MaxTokens = sdk.Int(3)
	a, err := h.client.Chat.Completions.New(t.Context(), p)
	if err != nil || a.Choices[0].FinishReason != "length" || a.Usage.PromptTokens != 7 {
		t.Fatalf("%v: %s", err, a.RawJSON())
	}
}

func TestEmbeddings(t *testing.T) {
	h := serve(t, template.New(), Options{Embedder: hashEmbedder{dim: 64}})
	ctx := t.Context()
	inputs := []string{"the old mill by the river", "the river mill", "dragons breathe fire"}
	f, err := h.client.Embeddings.New(ctx, sdk.EmbeddingNewParams{
		Model:          testModelID,
		Input:          sdk.EmbeddingNewParamsInputUnion{OfArrayOfStrings: inputs},
		EncodingFormat: sdk.EmbeddingNewParamsEncodingFormatFloat,
	})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := hashEmbedder{dim: 64}.Embed(ctx, inputs)
	if len(f.Data) != 3 || f.Object != "list" || f.Model != testModelID || f.Usage.PromptTokens != 12 || f.Usage.TotalTokens != 12 {
		t.Fatalf("response %s", f.RawJSON())
	}
	for i, d := range f.Data {
		if d.Index != int64(i) || d.Object != "embedding" || len(d.Embedding) != 64 {
			t.Fatalf("data[%d] index %d object %q len %d", i, d.Index, d.Object, len(d.Embedding))
		}
		for j, x := range d.Embedding {
			if float32(x) != want[i][j] {
				t.Fatalf("data[%d][%d] = %v, want %v", i, j, x, want[i][j])
			}
		}
	}
	if cos(f.Data[0].Embedding, f.Data[1].Embedding) <= cos(f.Data[0].Embedding, f.Data[2].Embedding) {
		t.Fatal("related texts are not closer than unrelated ones")
	}

	// base64: the SDK decodes it to the same values; decode the raw bytes too.
	b, err := h.client.Embeddings.New(ctx, sdk.EmbeddingNewParams{
		Model:          testModelID,
		Input:          sdk.EmbeddingNewParamsInputUnion{OfString: sdk.String(inputs[0])},
		EncodingFormat: sdk.EmbeddingNewParamsEncodingFormatBase64,
	})
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if err := json.Unmarshal([]byte(b.Data[0].JSON.Embedding.Raw()), &s); err != nil {
		t.Fatalf("base64 embedding is not a JSON string: %s", b.Data[0].JSON.Embedding.Raw())
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(raw) != 4*64 {
		t.Fatalf("base64 decode: %d bytes, %v", len(raw), err)
	}
	for j := range 64 {
		x := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		if x != want[0][j] || float32(b.Data[0].Embedding[j]) != x {
			t.Fatalf("base64[%d] = %v (sdk %v), want %v", j, x, b.Data[0].Embedding[j], want[0][j])
		}
	}

	// Errors.
	_, err = h.client.Embeddings.New(ctx, sdk.EmbeddingNewParams{Model: "other",
		Input: sdk.EmbeddingNewParamsInputUnion{OfString: sdk.String("x")}})
	apiErr(t, err, 400, "model_not_found")
	_, err = h.client.Embeddings.New(ctx, sdk.EmbeddingNewParams{Model: testModelID,
		Input: sdk.EmbeddingNewParamsInputUnion{OfArrayOfStrings: make([]string, MaxEmbeddingInputs+1)}})
	apiErr(t, err, 400, "invalid_value")
	_, err = h.client.Embeddings.New(ctx, sdk.EmbeddingNewParams{Model: testModelID,
		Input: sdk.EmbeddingNewParamsInputUnion{OfString: sdk.String(strings.Repeat("a ", MaxEmbeddingInputBytes))}})
	apiErr(t, err, 400, "invalid_value")
	_, err = h.client.Embeddings.New(ctx, sdk.EmbeddingNewParams{Model: testModelID,
		Input: sdk.EmbeddingNewParamsInputUnion{OfArrayOfTokens: []int64{1, 2}}})
	apiErr(t, err, 400, "invalid_type")
	_, err = h.client.Embeddings.New(ctx, sdk.EmbeddingNewParams{Model: testModelID, Dimensions: sdk.Int(32),
		Input: sdk.EmbeddingNewParamsInputUnion{OfString: sdk.String("x")}})
	apiErr(t, err, 400, "unsupported_value")
}

func cos(a, b []float64) float64 {
	var d float64
	for i := range a {
		d += a[i] * b[i]
	}
	return d
}

func TestEmbeddingsWithoutEmbedder(t *testing.T) {
	h := serve(t, template.New(), Options{})
	_, err := h.client.Embeddings.New(t.Context(), sdk.EmbeddingNewParams{Model: testModelID,
		Input: sdk.EmbeddingNewParamsInputUnion{OfString: sdk.String("x")}})
	apiErr(t, err, http.StatusNotFound, "unknown_url")
}

// badEmbedder breaks the Embedder contract: one vector too short.
type badEmbedder struct{}

func (badEmbedder) Dim() int { return 4 }
func (badEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	return [][]float32{{1, 2}}, nil
}

func TestEmbedderContractViolation(t *testing.T) {
	h := serve(t, template.New(), Options{Embedder: badEmbedder{}})
	_, err := h.client.Embeddings.New(t.Context(), sdk.EmbeddingNewParams{Model: testModelID,
		Input: sdk.EmbeddingNewParamsInputUnion{OfString: sdk.String("x")}})
	apiErr(t, err, http.StatusInternalServerError, "embedder_error")
}

// rawError posts body to path and decodes an OpenAI error.
func rawError(t *testing.T, h *harness, method, path, body string) (int, http.Header, errorObject) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, h.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb struct {
		Error *errorObject `json:"error"`
	}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &eb); err != nil || eb.Error == nil || eb.Error.Message == "" || eb.Error.Type == "" {
		t.Fatalf("%s %s: not an OpenAI error: %q (%v)", method, path, raw, err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("content type %q", ct)
	}
	return resp.StatusCode, resp.Header, *eb.Error
}

func TestErrorShapes(t *testing.T) {
	h := serve(t, template.New(), Options{MaxBodyBytes: 2048})
	ctx := t.Context()

	cases := []struct {
		name, method, path, body string
		status                   int
		code, param              string
	}{
		{"bad json", "POST", "/chat/completions", `{"model":`, 400, "invalid_json", ""},
		{"trailing data", "POST", "/chat/completions", `{"model":"hearth-test"} {}`, 400, "invalid_json", ""},
		{"not an object", "POST", "/chat/completions", `[1,2]`, 400, "invalid_json", ""},
		{"wrong type", "POST", "/chat/completions", `{"model":"hearth-test","max_tokens":"ten","messages":[]}`, 400, "invalid_type", "max_tokens"},
		{"no messages", "POST", "/chat/completions", `{"model":"hearth-test","messages":[]}`, 400, "missing_required_parameter", "messages"},
		{"no model", "POST", "/chat/completions", `{"messages":[{"role":"user","content":"hi"}]}`, 400, "missing_required_parameter", "model"},
		{"tool role", "POST", "/chat/completions", `{"model":"hearth-test","messages":[{"role":"tool","content":"x"}]}`, 400, "unsupported_value", "messages[0].role"},
		{"image part", "POST", "/chat/completions", `{"model":"hearth-test","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, 400, "unsupported_value", "messages[0].content[0].type"},
		{"user without content", "POST", "/chat/completions", `{"model":"hearth-test","messages":[{"role":"user"}]}`, 400, "missing_required_parameter", "messages[0].content"},
		{"five stops", "POST", "/chat/completions", `{"model":"hearth-test","stop":["a","b","c","d","e"],"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_value", "stop"},
		{"temperature", "POST", "/chat/completions", `{"model":"hearth-test","temperature":3,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_value", "temperature"},
		{"max_tokens 0", "POST", "/chat/completions", `{"model":"hearth-test","max_tokens":0,"messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_value", "max_tokens"},
		{"tools", "POST", "/chat/completions", `{"model":"hearth-test","tools":[{"type":"function"}],"messages":[{"role":"user","content":"hi"}]}`, 400, "unsupported_value", "tools"},
		{"too large", "POST", "/chat/completions", `{"model":"hearth-test","messages":[{"role":"user","content":"` + strings.Repeat("a", 4096) + `"}]}`, 413, "request_too_large", ""},
		{"unknown path", "GET", "/completions", ``, 404, "unknown_url", ""},
		{"wrong method", "GET", "/chat/completions", ``, 405, "method_not_allowed", ""},
		{"wrong method models", "POST", "/models", `{}`, 405, "method_not_allowed", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, hdr, e := rawError(t, h, c.method, c.path, c.body)
			code, param := "", ""
			if e.Code != nil {
				code = *e.Code
			}
			if e.Param != nil {
				param = *e.Param
			}
			if status != c.status || code != c.code || param != c.param {
				t.Fatalf("status %d code %q param %q (%s); want %d %q %q", status, code, param, e.Message, c.status, c.code, c.param)
			}
			if status == 405 && hdr.Get("Allow") == "" {
				t.Fatal("405 without Allow")
			}
			if status < 500 && e.Type != typeInvalidRequest {
				t.Fatalf("type %q", e.Type)
			}
		})
	}

	// The same errors through the SDK.
	p := chatParams(1)
	p.Model = "gpt-4o"
	e := apiErr(t, func() error { _, err := h.client.Chat.Completions.New(ctx, p); return err }(), 400, "model_not_found")
	if e.Param != "model" {
		t.Fatalf("param %q", e.Param)
	}
	p = chatParams(1)
	p.N = sdk.Int(2)
	_, err := h.client.Chat.Completions.New(ctx, p)
	apiErr(t, err, 400, "unsupported_value")
	p = chatParams(1)
	p.Messages = append(p.Messages, sdk.UserMessage(strings.Repeat("long ", 1000)))
	_, err = h.client.Chat.Completions.New(ctx, p)
	apiErr(t, err, 413, "request_too_large")
	p = chatParams(1)
	p.ResponseFormat = sdk.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
		JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "reply", Schema: map[string]any{"type": "object"}}}}
	_, err = h.client.Chat.Completions.New(ctx, p)
	if err != nil {
		t.Fatalf("response_format json_schema: %v", err)
	}
	p.ResponseFormat = sdk.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}
	_, err = h.client.Chat.Completions.New(ctx, p)
	if e := apiErr(t, err, 400, "unsupported_value"); e.Param != "response_format.type" || !strings.Contains(e.Message, "json_schema") {
		t.Fatalf("json_object error: %s", e.RawJSON())
	}
	p.ResponseFormat = sdk.ChatCompletionNewParamsResponseFormatUnion{OfText: &shared.ResponseFormatTextParam{}}
	if _, err := h.client.Chat.Completions.New(ctx, p); err != nil {
		t.Fatalf("response_format text: %v", err)
	}
}

func TestModelFailures(t *testing.T) {
	t.Run("error before text", func(t *testing.T) {
		h := serve(t, &scripted{err: errors.New("weights not loaded")}, Options{})
		_, err := h.client.Chat.Completions.New(t.Context(), chatParams(1))
		apiErr(t, err, 503, "model_error")
		_, _, err = stream(t, h, chatParams(1))
		apiErr(t, err, 503, "model_error")
	})
	t.Run("prompt too long", func(t *testing.T) {
		tooLong := fmt.Errorf("embedded: %w: 874 tokens, context 512", inference.ErrPromptTooLong)
		h := serve(t, &scripted{err: tooLong}, Options{})
		_, err := h.client.Chat.Completions.New(t.Context(), chatParams(1))
		apiErr(t, err, 400, "context_length_exceeded")
		_, _, err = stream(t, h, chatParams(1))
		apiErr(t, err, 400, "context_length_exceeded")
		// Hearth's own OpenAI backend reads it back as unsuitable, not broken:
		// the Router passes over it without opening its circuit.
		b, err := hopenai.New(hopenai.Config{BaseURL: h.url, Model: testModelID, HTTPClient: h.http})
		if err != nil {
			t.Fatal(err)
		}
		_, err = b.Generate(t.Context(), &inference.Request{Prompt: "hello", MaxTokens: 4}, nil)
		if !errors.Is(err, inference.ErrPromptTooLong) || !errors.Is(err, inference.ErrUnsuitable) {
			t.Fatalf("backend error %v; want it to wrap ErrPromptTooLong and ErrUnsuitable", err)
		}
	})
	t.Run("error mid-stream", func(t *testing.T) {
		h := serve(t, &scripted{deltas: []inference.Delta{{Text: "Well"}}, err: errors.New("device lost")}, Options{})
		acc, _, err := stream(t, h, chatParams(1))
		var se *ssestream.StreamError
		if !errors.As(err, &se) || !strings.Contains(se.Message, "device lost") {
			t.Fatalf("err = %v", err)
		}
		if acc.Choices[0].Message.Content != "Well" {
			t.Fatalf("content before the error %q", acc.Choices[0].Message.Content)
		}
	})
	t.Run("reset after text", func(t *testing.T) {
		h := serve(t, &scripted{deltas: []inference.Delta{{Text: "Well"}, {Reset: true, Text: "Hm."}}, text: "Hm."}, Options{})
		_, _, err := stream(t, h, chatParams(1))
		var se *ssestream.StreamError
		if !errors.As(err, &se) || !strings.Contains(se.Message, "stream_reset") {
			t.Fatalf("err = %v", err)
		}
		// Non-streaming replies carry the final text.
		a, err := h.client.Chat.Completions.New(t.Context(), chatParams(1))
		if err != nil || a.Choices[0].Message.Content != "Hm." {
			t.Fatalf("%v %s", err, a.RawJSON())
		}
	})
	t.Run("reset before text", func(t *testing.T) {
		m := &scripted{deltas: []inference.Delta{{Text: "Wel"}, {Reset: true, Text: "Hm."}}, text: "Hm."}
		h := serve(t, m, Options{})
		p := chatParams(1)
		p.Stop = sdk.ChatCompletionNewParamsStopUnion{OfString: sdk.String("Well")} // holds "Wel" back
		acc, _, err := stream(t, h, p)
		if err != nil || acc.Choices[0].Message.Content != "Hm." {
			t.Fatalf("%v: %q", err, acc.Choices[0].Message.Content)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		b := newBlocker("")
		h := serve(t, b, Options{Timeout: 50 * time.Millisecond})
		_, err := h.client.Chat.Completions.New(t.Context(), chatParams(1))
		apiErr(t, err, http.StatusGatewayTimeout, "timeout")
		b.waitReturned(t, context.DeadlineExceeded)
		_, _, err = stream(t, h, chatParams(1))
		apiErr(t, err, http.StatusGatewayTimeout, "timeout")
		b.waitReturned(t, context.DeadlineExceeded)
	})
	t.Run("panic", func(t *testing.T) {
		h := serve(t, panicker{}, Options{})
		_, err := h.client.Chat.Completions.New(t.Context(), chatParams(1))
		apiErr(t, err, 503, "model_error")
		_, _, err = stream(t, h, chatParams(1))
		apiErr(t, err, 503, "model_error")
	})
}

type panicker struct{}

func (panicker) Info() inference.Info { return inference.Info{Name: "panicker"} }
func (panicker) Generate(context.Context, *inference.Request, inference.Sink) (inference.Result, error) {
	panic("index out of range")
}

// TestClientDisconnectCancelsModel: a client that goes away cancels the
// model's context, streaming or not, and the handler does not outlive it.
func TestClientDisconnectCancelsModel(t *testing.T) {
	t.Run("non-streaming", func(t *testing.T) {
		b := newBlocker("")
		h := serve(t, b, Options{})
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			_, err := h.client.Chat.Completions.New(ctx, chatParams(1))
			errc <- err
		}()
		<-b.started
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("client err %v", err)
		}
		b.waitReturned(t, context.Canceled)
	})
	t.Run("streaming", func(t *testing.T) {
		b := newBlocker("Hello")
		h := serve(t, b, Options{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		s := h.client.Chat.Completions.NewStreaming(ctx, chatParams(1))
		defer s.Close()
		// Read the role chunk and the first text, then hang up.
		var got strings.Builder
		for got.String() != "Hello" && s.Next() {
			for _, c := range s.Current().Choices {
				got.WriteString(c.Delta.Content)
			}
		}
		if got.String() != "Hello" {
			t.Fatalf("streamed %q before hanging up (%v)", got.String(), s.Err())
		}
		cancel()
		b.waitReturned(t, context.Canceled)
	})
	t.Run("raw connection close", func(t *testing.T) {
		b := newBlocker("")
		h := serve(t, b, Options{})
		conn, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", strings.TrimPrefix(strings.TrimSuffix(h.url, "/v1"), "http://"))
		if err != nil {
			t.Fatal(err)
		}
		body := `{"model":"hearth-test","stream":true,"messages":[{"role":"user","content":"hi"}]}`
		_, err = io.WriteString(conn, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "+
			strconv.Itoa(len(body))+"\r\n\r\n"+body)
		if err != nil {
			t.Fatal(err)
		}
		<-b.started
		conn.Close()
		b.waitReturned(t, context.Canceled)
	})
}

// TestSSEReadableByScanner guards the framing against a plain line reader
// too: every line is "data: …" or empty.
func TestSSEReadableByScanner(t *testing.T) {
	h := serve(t, template.New(), Options{})
	resp, err := h.http.Post(h.url+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"hearth-test","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	n := 0
	for sc.Scan() {
		if l := sc.Text(); l != "" && !strings.HasPrefix(l, "data: ") {
			t.Fatalf("line %q", l)
		}
		n++
	}
	if n < 8 { // role, content, finish, [DONE], each followed by a blank line
		t.Fatalf("%d lines", n)
	}
}

// TestConcurrentClients: many clients at once, streaming and not, each get
// the answer for their own seed (run with -race).
func TestConcurrentClients(t *testing.T) {
	h := serve(t, &trickle{floor: template.New(), n: 4}, Options{})
	want := map[int64]string{}
	for seed := range int64(4) {
		a, err := h.client.Chat.Completions.New(t.Context(), chatParams(seed))
		if err != nil {
			t.Fatal(err)
		}
		want[seed] = a.Choices[0].Message.Content
	}
	errc := make(chan error, 32)
	for i := range 32 {
		go func() {
			seed := int64(i % 4)
			var got string
			if i%2 == 0 {
				a, err := h.client.Chat.Completions.New(t.Context(), chatParams(seed))
				if err != nil {
					errc <- err
					return
				}
				got = a.Choices[0].Message.Content
			} else {
				s := h.client.Chat.Completions.NewStreaming(t.Context(), chatParams(seed))
				var acc sdk.ChatCompletionAccumulator
				for s.Next() {
					acc.AddChunk(s.Current())
				}
				s.Close()
				if err := s.Err(); err != nil {
					errc <- err
					return
				}
				got = acc.Choices[0].Message.Content
			}
			if got != want[seed] {
				errc <- fmt.Errorf("client %d seed %d: %q, want %q", i, seed, got, want[seed])
				return
			}
			errc <- nil
		}()
	}
	for range 32 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// BenchmarkChat measures one completion through the official SDK over
// loopback with the template floor behind it: the server's own overhead
// (JSON, SSE framing, HTTP) plus the SDK's.
func BenchmarkChat(b *testing.B) {
	for _, streaming := range []bool{false, true} {
		name := "nonstream"
		if streaming {
			name = "stream"
		}
		b.Run(name, func(b *testing.B) {
			s, err := New(&trickle{floor: template.New(), n: 8}, Options{ModelID: testModelID})
			if err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(s.Handler())
			tr := &http.Transport{}
			defer func() { tr.CloseIdleConnections(); ts.Close() }()
			client := sdk.NewClient(option.WithBaseURL(ts.URL+"/v1"), option.WithAPIKey("unused"),
				option.WithMaxRetries(0), option.WithHTTPClient(&http.Client{Transport: tr}))
			ctx := context.Background()
			p := chatParams(5)
			b.ReportAllocs()
			for b.Loop() {
				if streaming {
					st := client.Chat.Completions.NewStreaming(ctx, p)
					for st.Next() {
					}
					st.Close()
					if err := st.Err(); err != nil {
						b.Fatal(err)
					}
				} else if _, err := client.Chat.Completions.New(ctx, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	floor := template.New()
	for _, c := range []struct {
		name string
		m    inference.Model
		o    Options
	}{
		{"nil model", nil, Options{}},
		{"space in id", floor, Options{ModelID: "my model"}},
		{"negative body", floor, Options{MaxBodyBytes: -1}},
		{"negative tokens", floor, Options{DefaultMaxTokens: -1}},
		{"negative timeout", floor, Options{Timeout: -time.Second}},
		{"zero-dim embedder", floor, Options{Embedder: hashEmbedder{}}},
	} {
		if _, err := New(c.m, c.o); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
	s, err := New(floor, Options{})
	if err != nil || s.ModelID() != template.Name {
		t.Fatalf("default ModelID %q, %v", s.ModelID(), err)
	}
}

// slowEmbedder fails, or blocks until ctx is done.
type slowEmbedder struct{ fail bool }

func (slowEmbedder) Dim() int { return 8 }
func (e slowEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if e.fail {
		return nil, errors.New("index not loaded")
	}
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestEmbedderFailures(t *testing.T) {
	h := serve(t, template.New(), Options{Embedder: slowEmbedder{fail: true}})
	params := sdk.EmbeddingNewParams{Model: testModelID, Input: sdk.EmbeddingNewParamsInputUnion{OfString: sdk.String("x")}}
	_, err := h.client.Embeddings.New(t.Context(), params)
	apiErr(t, err, http.StatusServiceUnavailable, "embedder_error")
	h = serve(t, template.New(), Options{Embedder: slowEmbedder{}, Timeout: 30 * time.Millisecond})
	_, err = h.client.Embeddings.New(t.Context(), params)
	apiErr(t, err, http.StatusGatewayTimeout, "timeout")
	for _, body := range []string{`{"model":"hearth-test","input":"x","encoding_format":"int8"}`, `{"model":"hearth-test","input":[]}`,
		`{"model":"hearth-test","input":["a",""]}`, `{"model":"hearth-test"}`, `{"input":"x"}`} {
		if status, _, _ := rawError(t, h, "POST", "/embeddings", body); status != 400 {
			t.Errorf("%s: status %d", body, status)
		}
	}
}

// A json_schema response format reaches the model as Request.ResponseSchema
// (the embedded model constrains its decoding to it).
func TestJSONSchemaReachesTheModel(t *testing.T) {
	rec := &recorder{Model: template.New()}
	h := serve(t, rec, Options{})
	p := chatParams(1)
	p.ResponseFormat = sdk.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
		JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "reply",
			Schema: map[string]any{"type": "object", "properties": map[string]any{"gold": map[string]any{"type": "integer"}}}}}}
	if _, err := h.client.Chat.Completions.New(t.Context(), p); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.request().ResponseSchema, &got); err != nil || got["type"] != "object" || got["properties"] == nil {
		t.Fatalf("schema at the model: %s (%v)", rec.request().ResponseSchema, err)
	}
}

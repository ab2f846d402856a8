// Package openai is the OpenAI-compatible backend of the Router (DESIGN §4):
// chat completions with streaming through the official Go SDK
// (github.com/openai/openai-go/v3). Its base URL reaches the on-GPU small
// model on llama.cpp server, vLLM, SGLang, Ollama or TensorRT-LLM on
// localhost, or a remote OpenAI-compatible provider.
//
// The SDK's own retries are off: the Router owns fallback, and a retry
// inside a 50 ms budget would only spend the budget twice. Deadlines come
// from the context the Router gives each attempt.
package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/hearth-ai/hearth/inference"
)

// Config describes one OpenAI-compatible backend.
type Config struct {
	// Name identifies the backend in results and metrics. Default
	// "openai:" + Model.
	Name string
	// BaseURL is the API root, e.g. "http://127.0.0.1:8080/v1" for a
	// llama.cpp server. Default the SDK's (api.openai.com).
	BaseURL string
	// APIKey is sent as a bearer token. Local servers ignore it; "" sends
	// a placeholder so the SDK does not read OPENAI_API_KEY by surprise.
	APIKey string
	// Model is the model name the server expects. Required.
	Model string
	// Tier is TierLocal for a model server on this host's GPU, TierRemote
	// (the default) for a provider across the network.
	Tier inference.Tier
	// Quality orders this backend among the Router's (higher is better).
	Quality int
	// ExpectedTTFT and ExpectedTokensPerSecond seed the Router's latency
	// estimates before it has observed the backend.
	ExpectedTTFT            time.Duration
	ExpectedTokensPerSecond float64
	// Prices give Result.CostUSD.
	Prices inference.Prices
	// HTTPClient overrides the SDK's HTTP client (timeouts come from the
	// context, so it needs none of its own).
	HTTPClient *http.Client
}

// Backend is an inference.Model over the chat completions API.
type Backend struct {
	cfg    Config
	client sdk.Client
	count  func(string) int // the model's tokenizer, for replies without usage
}

// New returns a Backend for cfg. It fails when cfg.Model is empty or the
// tier is not local or remote.
func New(cfg Config) (*Backend, error) {
	if cfg.Model == "" {
		return nil, errors.New("openai: Config.Model is required")
	}
	if cfg.Name == "" {
		cfg.Name = "openai:" + cfg.Model
	}
	switch cfg.Tier {
	case "":
		cfg.Tier = inference.TierRemote
	case inference.TierLocal, inference.TierRemote:
	default:
		return nil, fmt.Errorf("openai: Config.Tier %q: want %q or %q", cfg.Tier, inference.TierLocal, inference.TierRemote)
	}
	key := cfg.APIKey
	if key == "" {
		key = "unused"
	}
	opts := []option.RequestOption{option.WithAPIKey(key), option.WithMaxRetries(0)}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &Backend{cfg: cfg, client: sdk.NewClient(opts...), count: inference.TokenCounter(cfg.Model)}, nil
}

// Info implements inference.Model.
func (b *Backend) Info() inference.Info {
	return inference.Info{Name: b.cfg.Name, Tier: b.cfg.Tier, Quality: b.cfg.Quality,
		ExpectedTTFT: b.cfg.ExpectedTTFT, ExpectedTokensPerSecond: b.cfg.ExpectedTokensPerSecond,
		Prices: b.cfg.Prices}
}

// Generate implements inference.Model: it sends req.Prompt as one user
// message (the npc prompt is a complete completion-style prompt, stable
// part first), streams the content deltas to sink and returns the text
// with the server's token usage and its cost. It returns ctx's error
// (wrapped) when the deadline passes, the server's error for a non-2xx
// answer, and an error for a stream that ends without text.
func (b *Backend) Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	start := time.Now()
	params := sdk.ChatCompletionNewParams{
		Model:         b.cfg.Model,
		Messages:      []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage(req.Prompt)},
		StreamOptions: sdk.ChatCompletionStreamOptionsParam{IncludeUsage: sdk.Bool(true)},
	}
	if req.MaxTokens > 0 {
		params.MaxTokens = sdk.Int(int64(req.MaxTokens))
	}
	if req.Temperature > 0 {
		params.Temperature = sdk.Float(req.Temperature)
	}
	if req.Seed != 0 {
		// OpenAI-compatible servers take a signed 64-bit seed.
		params.Seed = sdk.Int(int64(req.Seed >> 1))
	}
	if len(req.Stop) > 0 {
		params.Stop = sdk.ChatCompletionNewParamsStopUnion{OfStringArray: req.Stop}
	}
	if len(req.ResponseSchema) > 0 {
		// The schema as the json_schema response format: llama.cpp, vLLM
		// and SGLang turn it into a grammar, hosted providers into
		// structured output. Not strict: OpenAI's strict mode demands
		// every property be required, which Hearth's schemas do not.
		var schema map[string]any
		if err := json.Unmarshal(req.ResponseSchema, &schema); err != nil {
			return inference.Result{}, fmt.Errorf("openai %s: Request.ResponseSchema is not a JSON object: %w", b.cfg.Name, err)
		}
		params.ResponseFormat = sdk.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "reply", Schema: schema, Strict: sdk.Bool(false)}}}
	}
	stream := b.client.Chat.Completions.NewStreaming(ctx, params)
	defer stream.Close()

	var text strings.Builder
	var ttft time.Duration
	var usage sdk.CompletionUsage
	for stream.Next() {
		chunk := stream.Current()
		if chunk.Usage.TotalTokens > 0 {
			usage = chunk.Usage
		}
		for _, c := range chunk.Choices {
			if c.Delta.Content == "" {
				continue
			}
			if ttft == 0 {
				ttft = time.Since(start)
			}
			text.WriteString(c.Delta.Content)
			if sink != nil {
				sink(inference.Delta{Text: c.Delta.Content})
			}
		}
	}
	if err := stream.Err(); err != nil {
		if ctx.Err() != nil {
			return inference.Result{}, fmt.Errorf("openai %s: %w", b.cfg.Name, ctx.Err())
		}
		var apiErr *sdk.Error
		if errors.As(err, &apiErr) && apiErr.Code == "context_length_exceeded" {
			// Not the server's fault: this request is too long for it.
			return inference.Result{}, fmt.Errorf("openai %s: %w: %w", b.cfg.Name, inference.ErrPromptTooLong, err)
		}
		return inference.Result{}, fmt.Errorf("openai %s: %w", b.cfg.Name, err)
	}
	if text.Len() == 0 {
		return inference.Result{}, fmt.Errorf("openai %s: the stream ended without text", b.cfg.Name)
	}
	res := inference.Result{
		Text:         text.String(),
		Tier:         b.cfg.Tier,
		Backend:      b.cfg.Name,
		Tokens:       int(usage.CompletionTokens),
		PromptTokens: int(usage.PromptTokens),
		TTFT:         ttft,
		Latency:      time.Since(start),
	}
	// Some OpenAI-compatible servers send no usage when streaming: count
	// with OpenAI's tokenizer offline, so cost and quotas still count.
	if res.PromptTokens == 0 {
		res.PromptTokens = b.count(req.Prompt)
	}
	if res.Tokens == 0 {
		res.Tokens = b.count(res.Text)
	}
	res.CostUSD = b.cfg.Prices.Cost(res.PromptTokens, res.Tokens, 0, 0)
	return res, nil
}

// Package anthropic is the Anthropic Messages API backend of the Router
// (DESIGN §4), through the official Go SDK
// (github.com/anthropics/anthropic-sdk-go/v2): streaming, token usage and
// cost, and prompt caching — the stable prefix of the prompt (persona and
// world rules, Request.PrefixBytes) goes in a system block marked with
// cache_control, so repeated requests for the same NPC hit the provider's
// prefix cache.
//
// As with the OpenAI backend, the SDK's retries are off (the Router owns
// fallback) and deadlines come from the context.
package anthropic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/hearth-ai/hearth/inference"
)

// DefaultMaxTokens is the reply cap sent when a request sets none; the
// Messages API requires one. 256 tokens is several spoken lines.
const DefaultMaxTokens = 256

// Config describes one Anthropic backend.
type Config struct {
	// Name identifies the backend; default "anthropic:" + Model.
	Name string
	// BaseURL overrides the API root (default the SDK's,
	// https://api.anthropic.com).
	BaseURL string
	// APIKey is sent as x-api-key; "" sends a placeholder so the SDK does
	// not read ANTHROPIC_API_KEY by surprise.
	APIKey string
	// Model is the model name, e.g. "claude-haiku-5-5". Required.
	Model string
	// Quality orders this backend among the Router's (higher is better).
	Quality int
	// ExpectedTTFT and ExpectedTokensPerSecond seed the Router's estimates.
	ExpectedTTFT            time.Duration
	ExpectedTokensPerSecond float64
	// MaxInFlight caps concurrent calls (inference.Info.MaxInFlight).
	MaxInFlight int
	// Prices give Result.CostUSD, cache reads and writes at their own
	// rates where set.
	Prices inference.Prices
	// HTTPClient overrides the SDK's HTTP client.
	HTTPClient *http.Client
}

// Backend is an inference.Model over the Messages API. It is safe for
// concurrent use.
type Backend struct {
	cfg    Config
	client sdk.Client
}

// New returns a Backend for cfg; it fails when cfg.Model is empty.
func New(cfg Config) (*Backend, error) {
	if cfg.Model == "" {
		return nil, errors.New("anthropic: Config.Model is required")
	}
	if cfg.Name == "" {
		cfg.Name = "anthropic:" + cfg.Model
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
	return &Backend{cfg: cfg, client: sdk.NewClient(opts...)}, nil
}

// Info implements inference.Model; the tier is TierRemote.
func (b *Backend) Info() inference.Info {
	return inference.Info{Name: b.cfg.Name, Tier: inference.TierRemote, Quality: b.cfg.Quality,
		ExpectedTTFT: b.cfg.ExpectedTTFT, ExpectedTokensPerSecond: b.cfg.ExpectedTokensPerSecond,
		MaxInFlight: b.cfg.MaxInFlight, Prices: b.cfg.Prices}
}

// Generate implements inference.Model. The prompt's stable prefix
// (req.PrefixBytes) becomes a system block with cache_control, the rest
// the user message; text deltas stream to sink. It returns the context's
// error (wrapped) at the deadline, the API's error for a non-2xx answer,
// and an error for a stream that ends without text.
func (b *Backend) Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	start := time.Now()
	stable, volatile := splitPrompt(req.Prompt, req.PrefixBytes)
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = DefaultMaxTokens
	}
	params := sdk.MessageNewParams{
		Model:     sdk.Model(b.cfg.Model),
		MaxTokens: int64(maxTokens),
		Messages:  []sdk.MessageParam{sdk.NewUserMessage(sdk.NewTextBlock(volatile))},
	}
	if stable != "" {
		params.System = []sdk.TextBlockParam{{Text: stable, CacheControl: sdk.NewCacheControlEphemeralParam()}}
	}
	// Request.Temperature is not sent: this API version's Messages
	// parameters have none; the model's default applies.
	if len(req.Stop) > 0 {
		params.StopSequences = req.Stop
	}
	stream := b.client.Messages.NewStreaming(ctx, params)
	defer stream.Close()

	var text strings.Builder
	var ttft time.Duration
	var in, out, cacheRead, cacheWrite int64
	for stream.Next() {
		switch ev := stream.Current().AsAny().(type) {
		case sdk.MessageStartEvent:
			u := ev.Message.Usage
			in, cacheRead, cacheWrite, out = u.InputTokens, u.CacheReadInputTokens, u.CacheCreationInputTokens, u.OutputTokens
		case sdk.ContentBlockDeltaEvent:
			d, ok := ev.Delta.AsAny().(sdk.TextDelta)
			if !ok || d.Text == "" {
				continue
			}
			if ttft == 0 {
				ttft = time.Since(start)
			}
			text.WriteString(d.Text)
			if sink != nil {
				sink(inference.Delta{Text: d.Text})
			}
		case sdk.MessageDeltaEvent:
			out = ev.Usage.OutputTokens // cumulative
		}
	}
	if err := stream.Err(); err != nil {
		if ctx.Err() != nil {
			return inference.Result{}, fmt.Errorf("anthropic %s: %w", b.cfg.Name, ctx.Err())
		}
		return inference.Result{}, fmt.Errorf("anthropic %s: %w", b.cfg.Name, err)
	}
	if text.Len() == 0 {
		return inference.Result{}, fmt.Errorf("anthropic %s: the stream ended without text", b.cfg.Name)
	}
	res := inference.Result{
		Text: text.String(), Tier: inference.TierRemote, Backend: b.cfg.Name,
		Tokens: int(out), PromptTokens: int(in + cacheRead + cacheWrite),
		TTFT: ttft, Latency: time.Since(start),
	}
	res.CostUSD = b.cfg.Prices.Cost(int(in), int(out), int(cacheRead), int(cacheWrite))
	return res, nil
}

// splitPrompt cuts prompt after its stable prefix of n bytes; an n out of
// range, or one that leaves no user text, means no prefix.
func splitPrompt(prompt string, n int) (stable, volatile string) {
	if n <= 0 || n >= len(prompt) {
		return "", prompt
	}
	stable, volatile = strings.TrimSpace(prompt[:n]), strings.TrimSpace(prompt[n:])
	if volatile == "" {
		return "", prompt
	}
	return stable, volatile
}

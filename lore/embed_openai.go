package lore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// OpenAIEmbedderConfig configures an OpenAIEmbedder.
type OpenAIEmbedderConfig struct {
	// BaseURL is the API root, ending in "/v1/" or "/v1" (llama.cpp's
	// server, Ollama, vLLM, TEI and OpenAI all serve /v1/embeddings below
	// it), e.g. "http://127.0.0.1:8080/v1/". Required: the environment
	// (OPENAI_BASE_URL) is never read.
	BaseURL string
	// APIKey is sent as a bearer token; empty sends "none" (local servers
	// ignore it). The environment (OPENAI_API_KEY) is never read.
	APIKey string
	// Model is the model name sent to the server, e.g.
	// "text-embedding-3-small" or "nomic-embed-text". Required.
	Model string
	// Dim is the embedding length the model returns. Required: the library
	// must know it before the first call. When RequestDim is true it is
	// also sent as the request's "dimensions" (text-embedding-3 models
	// can shorten their embeddings).
	Dim        int
	RequestDim bool
	// MaxBatch is the most texts per request; default 256.
	MaxBatch int
}

// OpenAIEmbedder embeds through an OpenAI-compatible POST /v1/embeddings
// endpoint with the official SDK (github.com/openai/openai-go/v3). The
// SDK's retries are off (the library retries failed chunks at the next
// ingest, and a query falls back to BM25), and each call's deadline is its
// context's. It is safe for concurrent use.
type OpenAIEmbedder struct {
	cfg    OpenAIEmbedderConfig
	client openai.Client
	name   string
}

// NewOpenAIEmbedder returns an embedder for cfg; it makes no request.
func NewOpenAIEmbedder(cfg OpenAIEmbedderConfig) (*OpenAIEmbedder, error) {
	if cfg.BaseURL == "" || cfg.Model == "" || cfg.Dim <= 0 {
		return nil, errors.New("lore: OpenAI embedder: BaseURL, Model and a positive Dim are required")
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	key := cfg.APIKey
	if key == "" {
		key = "none"
	}
	base := cfg.BaseURL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	c := openai.NewClient(option.WithBaseURL(base), option.WithAPIKey(key), option.WithMaxRetries(0))
	return &OpenAIEmbedder{cfg: cfg, client: c,
		// The name keys the embedding cache: the server and the model
		// decide the vectors, so both are in it.
		name: fmt.Sprintf("openai:%s@%s:%d", cfg.Model, strings.TrimSuffix(base, "/"), cfg.Dim)}, nil
}

// Dim returns the configured embedding length.
func (e *OpenAIEmbedder) Dim() int { return e.cfg.Dim }

// Model returns "openai:<model>@<base URL>:<dim>".
func (e *OpenAIEmbedder) Model() string { return e.name }

// Embed sends texts in batches of at most MaxBatch and returns their
// embeddings in order. It fails when the server fails, returns another
// number of embeddings, or returns a vector whose length is not Dim (the
// server's model is not the configured one).
func (e *OpenAIEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for start := 0; start < len(texts); start += e.cfg.MaxBatch {
		batch := texts[start:min(start+e.cfg.MaxBatch, len(texts))]
		in := make([]string, len(batch))
		for i, t := range batch {
			if t == "" {
				t = " " // the API rejects empty strings
			}
			in[i] = t
		}
		p := openai.EmbeddingNewParams{
			Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: in},
			Model:          openai.EmbeddingModel(e.cfg.Model),
			EncodingFormat: openai.EmbeddingNewParamsEncodingFormatFloat,
		}
		if e.cfg.RequestDim {
			p.Dimensions = openai.Int(int64(e.cfg.Dim))
		}
		resp, err := e.client.Embeddings.New(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("lore: embeddings request to %s: %w", e.cfg.BaseURL, err)
		}
		if len(resp.Data) != len(batch) {
			return nil, fmt.Errorf("lore: embeddings from %s: %d vectors for %d texts", e.cfg.BaseURL, len(resp.Data), len(batch))
		}
		for j, d := range resp.Data {
			i := int(d.Index)
			if i < 0 || i >= len(batch) || out[start+i] != nil {
				return nil, fmt.Errorf("lore: embeddings from %s: bad or repeated index %d", e.cfg.BaseURL, d.Index)
			}
			if len(d.Embedding) != e.cfg.Dim {
				return nil, fmt.Errorf("lore: embeddings from %s: model %q returned %d dimensions (vector %d), configured %d; "+
					"set Dim to the model's dimension (the library never mixes dimensions)", e.cfg.BaseURL, e.cfg.Model, len(d.Embedding), j, e.cfg.Dim)
			}
			v := make([]float32, len(d.Embedding))
			for k, x := range d.Embedding {
				v[k] = float32(x)
			}
			out[start+i] = v
		}
	}
	return out, nil
}

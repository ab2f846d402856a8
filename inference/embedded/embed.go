package embedded

import (
	"context"
	"fmt"
	"math"
)

// Embed returns one vector per text: the mean of the model's final
// normalised hidden states over the text's tokens ([Dim] float32 each),
// L2-normalised, for /v1/embeddings and lore search. A text longer than
// the context is cut to its first ContextLen tokens. It runs on the
// caller's goroutine, beside the scheduler (the model is read-only), and
// returns ctx's error between texts.
func (e *Engine) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	limit := e.model.Config().ContextLen
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("embedded: %w", err)
		}
		ids := e.tok.EncodePrompt(t, 0)
		if len(ids) > limit {
			ids = ids[:limit]
		}
		v, err := e.model.Embed(ids)
		if err != nil {
			return nil, fmt.Errorf("embedded: embed text %d: %w", i, err)
		}
		norm := 0.0
		for _, x := range v {
			norm += x * x
		}
		vec := make([]float32, len(v))
		if norm > 0 {
			inv := 1 / math.Sqrt(norm)
			for k, x := range v {
				vec[k] = float32(x * inv)
			}
		}
		out[i] = vec
	}
	return out, nil
}

// Dim is the embedding dimension (the model width).
func (e *Engine) Dim() int { return e.model.Config().Dim }

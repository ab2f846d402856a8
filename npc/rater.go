package npc

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/hearth-ai/hearth/inference"
)

// IntentRateImportance is the intent of ModelRater's requests: a backend
// (or a router) can tell a rating from a line of dialogue by it.
const IntentRateImportance inference.Intent = "rate_importance"

// importancePrompt is the poignancy prompt of Park et al. 2023 (§4.1,
// "Generative Agents"), asking for the integer as JSON so that
// constrained decoding (ResponseSchema) can hold a model to it.
const importancePrompt = `On the scale of 1 to 10, where 1 is purely mundane (e.g., brushing teeth, making bed) and 10 is extremely poignant (e.g., a break up, college acceptance), rate the likely poignancy of the following piece of memory of %s.
Memory: %s
Answer with JSON: {"rating": <integer 1 to 10>}
`

// importanceSchema holds a model to {"rating": 1..10}.
var importanceSchema = []byte(`{"type":"object","properties":{"rating":{"type":"integer","minimum":1,"maximum":10}},"required":["rating"],"additionalProperties":false}`)

// Generator is what ModelRater asks: an inference.Model or an
// *inference.Router.
type Generator interface {
	Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error)
}

// ModelRater rates a memory's importance with a language model, the way
// Park et al. 2023 do (§4.1: the model is asked for the poignancy of the
// memory on a 1–10 scale), and falls back to Fallback (default
// HeuristicRater) when the model cannot answer: an error, no answer
// within Timeout, an answer from the template floor (which cannot rate),
// or a reply without a rating in 1..10. It runs where MemoryOptions.Rater
// runs, off every reply's path. Use a Router as Model, so the best backend
// that fits Timeout rates, or a dedicated small model. Safe for
// concurrent use when Model is.
type ModelRater struct {
	Model Generator
	// Timeout bounds one rating. Default 2 s.
	Timeout time.Duration
	// Fallback rates when the model cannot; default HeuristicRater.
	Fallback ImportanceRater
	// NPC names the rating NPC in the prompt ("a village blacksmith");
	// default "a character in a game world".
	NPC string
}

// Rate returns the model's rating of text (1..10), or Fallback's.
func (m ModelRater) Rate(kind, text string) float64 {
	v, err := m.RateWithModel(kind, text)
	if err == nil {
		return v
	}
	fb := m.Fallback
	if fb == nil {
		fb = HeuristicRater{}
	}
	return fb.Rate(kind, text)
}

// RateWithModel asks the model alone: it returns the rating, or an error
// saying why the model's answer cannot be used (the fallback's cue).
func (m ModelRater) RateWithModel(kind, text string) (float64, error) {
	if m.Model == nil {
		return 0, fmt.Errorf("npc: ModelRater has no model")
	}
	timeout := m.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	who := m.NPC
	if who == "" {
		who = "a character in a game world"
	}
	prompt := fmt.Sprintf(importancePrompt, who, strings.TrimSpace(text))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req := &inference.Request{Intent: IntentRateImportance, UserText: text, Prompt: prompt, SmallPrompt: prompt,
		MaxTokens: 16, ResponseSchema: importanceSchema, BudgetMS: float64(timeout) / 1e6}
	res, err := m.Model.Generate(ctx, req, nil)
	switch {
	case err != nil:
		return 0, fmt.Errorf("npc: rating %s memory: %w", kind, err)
	case res.Tier == inference.TierTemplate || res.Floor:
		return 0, fmt.Errorf("npc: rating %s memory: only the floor answered", kind)
	}
	v, ok := parseRating(res.Text)
	if !ok {
		return 0, fmt.Errorf("npc: rating %s memory: no rating 1..10 in %q", kind, res.Text)
	}
	return v, nil
}

// parseRating reads {"rating": n} or, from a model that ignored the
// format, the first integer of the text; n must be 1..10.
func parseRating(s string) (float64, bool) {
	var obj struct {
		Rating *float64 `json:"rating"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &obj); err == nil && obj.Rating != nil {
		v := *obj.Rating
		return v, v >= 1 && v <= 10 && v == float64(int(v))
	}
	i := strings.IndexFunc(s, unicode.IsDigit)
	if i < 0 {
		return 0, false
	}
	j := i
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(s[i:j])
	if err != nil || n < 1 || n > 10 {
		return 0, false
	}
	return float64(n), true
}

package inference

import (
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// FallbackEncoding is the tiktoken encoding CountTokens uses for a model
// name tiktoken does not know (a llama.cpp or vLLM model, a new provider
// model): OpenAI's current one, so the count is an estimate for those.
const FallbackEncoding = "o200k_base"

var (
	tokenizersOnce sync.Once
	tokenizersMu   sync.Mutex
	tokenizers     = map[string]*tiktoken.Tiktoken{} // by model name
)

// CountTokens returns how many tokens text has for model, by OpenAI's
// tokenizer (tiktoken-go, with the encodings embedded in the binary by
// tiktoken-go-loader: nothing is downloaded). It is what a backend reports
// when the server's response carries no usage (some OpenAI-compatible
// servers omit it when streaming), so that cost, token metrics and the
// players' daily token quotas still count. Models tiktoken does not know
// are counted with FallbackEncoding. It returns 0 for empty text, and
// also if no encoding loads (a broken build). A backend that counts often
// resolves the model once with TokenCounter.
func CountTokens(model, text string) int { return TokenCounter(model)(text) }

// TokenCounter returns CountTokens for model, with the model's encoding
// resolved once.
func TokenCounter(model string) func(text string) int {
	tk := tokenizerFor(model)
	return func(text string) int {
		if text == "" || tk == nil {
			return 0
		}
		return len(tk.Encode(text, nil, nil))
	}
}

func tokenizerFor(model string) *tiktoken.Tiktoken {
	tokenizersOnce.Do(func() { tiktoken.SetBpeLoader(tiktokenloader.NewOfflineLoader()) })
	tokenizersMu.Lock()
	defer tokenizersMu.Unlock()
	if tk, ok := tokenizers[model]; ok {
		return tk
	}
	tk, err := tiktoken.EncodingForModel(model)
	if err != nil {
		if tk, err = tiktoken.GetEncoding(FallbackEncoding); err != nil {
			return nil
		}
	}
	tokenizers[model] = tk
	return tk
}

// Package llama holds the llama-architecture decoder-only transformer that
// the embedded tier runs and Hearth's trainer trains: its hyperparameters
// (Config), its weights in memory (Weights), the mapping of both to GGUF
// tensor names and metadata keys, and the inference forward pass with a KV
// cache and batched decoding.
//
// Architecture (Touvron et al. 2023, "LLaMA"; the GGUF "llama" architecture
// as llama.cpp runs it):
//
//	h = TokenEmbed[token]
//	for each layer:
//	    a = RMSNorm(h) * AttnNorm
//	    q, k, v = Wq·a, Wk·a, Wv·a            (grouped-query: KVHeads ≤ Heads)
//	    q, k = RoPE(q, pos), RoPE(k, pos)     (ggml "NORM" mode, see RoPE below)
//	    h += Wo·Attention(q, K, V)            (causal, scale 1/sqrt(HeadDim))
//	    f = RMSNorm(h) * FFNNorm
//	    h += WDown·(SiLU(WGate·f) ⊙ (WUp·f))  (SwiGLU, Shazeer 2020)
//	logits = Output·(RMSNorm(h) * OutputNorm) (Output is TokenEmbed when tied)
//
// RoPE (Su et al. 2021) rotates adjacent pairs inside each head, as ggml's
// GGML_ROPE_TYPE_NORM does for the llama architecture: for head dimension
// index 2i and 2i+1 at position p, θ = p · RopeTheta^(−2i/HeadDim) and
// (x₂ᵢ, x₂ᵢ₊₁) ← (x₂ᵢ cosθ − x₂ᵢ₊₁ sinθ, x₂ᵢ sinθ + x₂ᵢ₊₁ cosθ). This is
// what makes a file Hearth writes run unchanged in llama.cpp.
//
// RMSNorm (Zhang & Sennrich 2019): x / sqrt(mean(x²) + NormEps).
// Query head h attends with key/value head h / (Heads / KVHeads).
//
// Matrices are float64, row-major, in the PyTorch Linear convention
// [out][in] (y = W·x). That is exactly ggml's memory layout for a tensor
// whose dims are ne = [in, out], so GGUF conversion copies rows as they are.
package llama

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// Config is a model's hyperparameters. The GGUF metadata keys are given per
// field (prefix "llama.").
type Config struct {
	VocabSize  int     // tokens; llama.vocab_size (and the token list's length)
	Dim        int     // model width d; llama.embedding_length
	Layers     int     // transformer blocks; llama.block_count
	Heads      int     // query heads; llama.attention.head_count
	KVHeads    int     // key/value heads (GQA); llama.attention.head_count_kv
	FFNDim     int     // SwiGLU hidden width; llama.feed_forward_length
	ContextLen int     // longest sequence in tokens; llama.context_length
	RopeTheta  float64 // RoPE base, usually 10000; llama.rope.freq_base
	NormEps    float64 // RMSNorm epsilon, e.g. 1e-5; llama.attention.layer_norm_rms_epsilon
	// TiedEmbeddings: the output projection reuses TokenEmbed, and the GGUF
	// file has no output.weight (llama.cpp then ties them too).
	TiedEmbeddings bool
}

// HeadDim is Dim / Heads (llama.rope.dimension_count).
func (c Config) HeadDim() int { return c.Dim / c.Heads }

// ErrConfig is wrapped by every error Validate returns.
var ErrConfig = errors.New("llama: invalid config")

// Validate reports the first inconsistent hyperparameter, wrapping ErrConfig.
func (c Config) Validate() error {
	switch {
	case c.VocabSize <= 0 || c.Dim <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.KVHeads <= 0 || c.FFNDim <= 0 || c.ContextLen <= 0:
		return fmt.Errorf("%w: every size must be positive: %+v", ErrConfig, c)
	case c.Dim%c.Heads != 0:
		return fmt.Errorf("%w: dim %d is not a multiple of heads %d", ErrConfig, c.Dim, c.Heads)
	case c.HeadDim()%2 != 0:
		return fmt.Errorf("%w: head dim %d must be even for RoPE", ErrConfig, c.HeadDim())
	case c.Heads%c.KVHeads != 0:
		return fmt.Errorf("%w: heads %d is not a multiple of kv heads %d", ErrConfig, c.Heads, c.KVHeads)
	case !(c.RopeTheta > 0) || !(c.NormEps > 0):
		return fmt.Errorf("%w: rope theta %g and norm eps %g must be positive", ErrConfig, c.RopeTheta, c.NormEps)
	}
	return nil
}

// Params is the number of weights (tied embeddings counted once).
func (c Config) Params() int {
	hd := c.HeadDim()
	perLayer := 2*c.Dim + // norms
		c.Heads*hd*c.Dim*2 + // Wq, Wo
		c.KVHeads*hd*c.Dim*2 + // Wk, Wv
		3*c.FFNDim*c.Dim // gate, up, down
	n := c.VocabSize*c.Dim + c.Layers*perLayer + c.Dim
	if !c.TiedEmbeddings {
		n += c.VocabSize * c.Dim
	}
	return n
}

// Layer is one transformer block's weights. Shapes are [rows][cols],
// row-major; H = Heads·HeadDim (= Dim), K = KVHeads·HeadDim.
type Layer struct {
	AttnNorm []float64 // [Dim]           blk.N.attn_norm.weight
	Wq       []float64 // [H][Dim]        blk.N.attn_q.weight
	Wk       []float64 // [K][Dim]        blk.N.attn_k.weight
	Wv       []float64 // [K][Dim]        blk.N.attn_v.weight
	Wo       []float64 // [Dim][H]        blk.N.attn_output.weight
	FFNNorm  []float64 // [Dim]           blk.N.ffn_norm.weight
	WGate    []float64 // [FFNDim][Dim]   blk.N.ffn_gate.weight
	WUp      []float64 // [FFNDim][Dim]   blk.N.ffn_up.weight
	WDown    []float64 // [Dim][FFNDim]   blk.N.ffn_down.weight
}

// Weights is a whole model in memory.
type Weights struct {
	Config     Config
	TokenEmbed []float64 // [VocabSize][Dim]  token_embd.weight
	Layers     []Layer
	OutputNorm []float64 // [Dim]             output_norm.weight
	Output     []float64 // [VocabSize][Dim]  output.weight; nil when Config.TiedEmbeddings
}

// Tensor is one named weight with its GGUF name and ggml dims (ne[0] is
// the contiguous, innermost dimension: [Dim] for a vector, [cols, rows] for
// a matrix). Data aliases the Weights' slice.
type Tensor struct {
	Name string
	Dims []int
	Data []float64
}

// Tensors lists every weight in GGUF order (token_embd, blocks, output_norm,
// output) with llama.cpp's tensor names. Data aliases w.
func (w *Weights) Tensors() []Tensor {
	c := w.Config
	hd := c.HeadDim()
	h, k := c.Heads*hd, c.KVHeads*hd
	ts := []Tensor{{"token_embd.weight", []int{c.Dim, c.VocabSize}, w.TokenEmbed}}
	for i := range w.Layers {
		l := &w.Layers[i]
		p := fmt.Sprintf("blk.%d.", i)
		ts = append(ts,
			Tensor{p + "attn_norm.weight", []int{c.Dim}, l.AttnNorm},
			Tensor{p + "attn_q.weight", []int{c.Dim, h}, l.Wq},
			Tensor{p + "attn_k.weight", []int{c.Dim, k}, l.Wk},
			Tensor{p + "attn_v.weight", []int{c.Dim, k}, l.Wv},
			Tensor{p + "attn_output.weight", []int{h, c.Dim}, l.Wo},
			Tensor{p + "ffn_norm.weight", []int{c.Dim}, l.FFNNorm},
			Tensor{p + "ffn_gate.weight", []int{c.Dim, c.FFNDim}, l.WGate},
			Tensor{p + "ffn_up.weight", []int{c.Dim, c.FFNDim}, l.WUp},
			Tensor{p + "ffn_down.weight", []int{c.FFNDim, c.Dim}, l.WDown},
		)
	}
	ts = append(ts, Tensor{"output_norm.weight", []int{c.Dim}, w.OutputNorm})
	if !c.TiedEmbeddings {
		ts = append(ts, Tensor{"output.weight", []int{c.Dim, c.VocabSize}, w.Output})
	}
	return ts
}

// OutputMatrix is the [VocabSize][Dim] projection to logits: Output, or
// TokenEmbed when the embeddings are tied.
func (w *Weights) OutputMatrix() []float64 {
	if w.Config.TiedEmbeddings {
		return w.TokenEmbed
	}
	return w.Output
}

// Allocate returns zeroed weights of cfg's shapes (norm gains zero too).
// It returns cfg.Validate's error.
func Allocate(cfg Config) (*Weights, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	hd := cfg.HeadDim()
	h, k := cfg.Heads*hd, cfg.KVHeads*hd
	w := &Weights{
		Config:     cfg,
		TokenEmbed: make([]float64, cfg.VocabSize*cfg.Dim),
		Layers:     make([]Layer, cfg.Layers),
		OutputNorm: make([]float64, cfg.Dim),
	}
	if !cfg.TiedEmbeddings {
		w.Output = make([]float64, cfg.VocabSize*cfg.Dim)
	}
	for i := range w.Layers {
		w.Layers[i] = Layer{
			AttnNorm: make([]float64, cfg.Dim),
			Wq:       make([]float64, h*cfg.Dim),
			Wk:       make([]float64, k*cfg.Dim),
			Wv:       make([]float64, k*cfg.Dim),
			Wo:       make([]float64, cfg.Dim*h),
			FFNNorm:  make([]float64, cfg.Dim),
			WGate:    make([]float64, cfg.FFNDim*cfg.Dim),
			WUp:      make([]float64, cfg.FFNDim*cfg.Dim),
			WDown:    make([]float64, cfg.Dim*cfg.FFNDim),
		}
	}
	return w, nil
}

// NewRandom returns freshly initialised weights, the same for the same
// seed: norm gains 1, matrices N(0, 0.02²), and the two projections that
// write into the residual stream (Wo, WDown) scaled by 1/sqrt(2·Layers), as
// GPT-2 does (Radford et al. 2019).
func NewRandom(cfg Config, seed uint64) (*Weights, error) {
	w, err := Allocate(cfg)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x6865617274682d6c)) // "hearth-l"
	fill := func(x []float64, std float64) {
		for i := range x {
			x[i] = rng.NormFloat64() * std
		}
	}
	ones := func(x []float64) {
		for i := range x {
			x[i] = 1
		}
	}
	const std = 0.02
	resid := std / math.Sqrt(2*float64(cfg.Layers))
	fill(w.TokenEmbed, std)
	for i := range w.Layers {
		l := &w.Layers[i]
		ones(l.AttnNorm)
		ones(l.FFNNorm)
		fill(l.Wq, std)
		fill(l.Wk, std)
		fill(l.Wv, std)
		fill(l.Wo, resid)
		fill(l.WGate, std)
		fill(l.WUp, std)
		fill(l.WDown, resid)
	}
	ones(w.OutputNorm)
	if w.Output != nil {
		fill(w.Output, std)
	}
	return w, nil
}

// Validate checks that every slice has its Config's length.
func (w *Weights) Validate() error {
	if err := w.Config.Validate(); err != nil {
		return err
	}
	if len(w.Layers) != w.Config.Layers {
		return fmt.Errorf("%w: %d layers in weights, config says %d", ErrConfig, len(w.Layers), w.Config.Layers)
	}
	for _, t := range w.Tensors() {
		n := 1
		for _, d := range t.Dims {
			n *= d
		}
		if len(t.Data) != n {
			return fmt.Errorf("%w: tensor %s has %d values, dims %v need %d", ErrConfig, t.Name, len(t.Data), t.Dims, n)
		}
	}
	return nil
}

// TokenizerMeta is the tokenizer as GGUF stores it (tokenizer.ggml.*): a
// byte-level BPE in GPT-2's scheme (model "gpt2"), whose tokens are strings
// over GPT-2's byte-to-unicode alphabet and whose merges are "left right"
// pairs in priority order.
type TokenizerMeta struct {
	Model      string   // tokenizer.ggml.model: "gpt2"
	Pre        string   // tokenizer.ggml.pre: pre-tokenizer name, "gpt-2"
	Tokens     []string // tokenizer.ggml.tokens, indexed by token id
	TokenTypes []int32  // tokenizer.ggml.token_type: 1 normal, 3 control (llama.cpp's llama_token_type)
	Merges     []string // tokenizer.ggml.merges: "a b", highest priority first
	BOS        int      // tokenizer.ggml.bos_token_id
	EOS        int      // tokenizer.ggml.eos_token_id
	PAD        int      // tokenizer.ggml.padding_token_id; -1 for none
	// ChatTemplate is tokenizer.chat_template (Jinja, for llama.cpp's
	// server); "" for none.
	ChatTemplate string
}

// Token types of TokenizerMeta.TokenTypes (llama.cpp's llama_token_type).
const (
	TokenNormal  int32 = 1
	TokenControl int32 = 3
)

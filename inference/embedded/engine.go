// Package embedded is the in-process neural tier (DESIGN §5): a small
// llama-architecture transformer, trained by Hearth (see package train),
// run on the CPU with no cgo. An Engine loads a GGUF file and implements
// inference.Model: requests are tokenized, their stable prompt prefix is
// served from a KV prefix cache, and concurrent requests are decoded
// together, one forward pass per step for the whole batch (continuous
// batching, Yu et al. 2022, "Orca"). Sampling is seeded, so the same
// request and seed give the same reply; a JSON schema on the request is
// enforced by constrained decoding.
//
// The sub-packages hold the parts: gguf (the file format), bpe (the
// tokenizer), llama (weights and the forward pass), constrain (JSON schema
// to token masks) and train (the trainer).
package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/embedded/bpe"
	"github.com/hearth-ai/hearth/inference/embedded/constrain"
	"github.com/hearth-ai/hearth/inference/embedded/gguf"
	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// Options configure an Engine. Zero values take the documented defaults.
type Options struct {
	// Name is the backend name in results and metrics; default "embedded".
	Name string
	// Threads is the goroutines one forward pass may use; 0: GOMAXPROCS
	// less one (at least 1), so a game loop in the same process keeps a
	// core (DESIGN §3). A standalone server may give it every core.
	Threads int
	// Quantize8 runs the weight matrices as GGUF Q8_0 blocks.
	Quantize8 bool
	// MaxBatch is how many sequences decode together in one forward pass;
	// default 4. More requests wait in the queue.
	MaxBatch int
	// MaxQueue is how many requests may wait for a batch slot; beyond it
	// Generate fails at once with ErrBusy (the Router then takes the next
	// tier). Default 16.
	MaxQueue int
	// PrefixCacheBytes bounds the KV prefix cache; default 32 MiB.
	PrefixCacheBytes int
	// MaxTokens caps a reply when the request sets no cap; default 64.
	MaxTokens int
	// Sampling is the default sampling; Sampling.Temperature is ignored:
	// each request's Temperature is used. Zero value: top-k 40, top-p 0.95, repetition
	// penalty 1.1.
	Sampling Sampling
	// QuoteMinBytes engages the quote lock (quoteLock): once a reply's
	// tail, starting at a word, is the first QuoteMinBytes bytes or more
	// of a lore sentence the prompt shows (a sentence of req.Facts found
	// verbatim in the prompt), every next token must continue that sentence
	// exactly, and the reply cannot end, until the sentence is out or the
	// reply reaches its token cap. The model still chooses whether to quote
	// and which sentence; it cannot slip inside one. 0:
	// DefaultQuoteMinBytes; negative: off. Requests with a ResponseSchema
	// are not locked.
	QuoteMinBytes int
	// Stop sequences added to every request's; default ["\n"]: the shipped
	// model answers in one line, and a second line would be the model
	// writing the player's next turn.
	Stop []string
	// Quality orders this backend for the Router (higher is better); default 3
	// (the template floor is 0, a remote large model 10).
	Quality int
	// Logger receives load and failure reports; nil: slog.Default().
	Logger *slog.Logger
}

func (o *Options) defaults() {
	if o.Name == "" {
		o.Name = "embedded"
	}
	if o.Threads <= 0 {
		o.Threads = max(1, runtime.GOMAXPROCS(0)-1)
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 4
	}
	if o.MaxQueue <= 0 {
		o.MaxQueue = 16
	}
	if o.PrefixCacheBytes <= 0 {
		o.PrefixCacheBytes = 32 << 20
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = 64
	}
	if o.Sampling == (Sampling{}) {
		o.Sampling = Sampling{TopK: 40, TopP: 0.95, RepetitionPenalty: 1.1}
	}
	if o.QuoteMinBytes == 0 {
		o.QuoteMinBytes = DefaultQuoteMinBytes
	}
	if o.Stop == nil {
		o.Stop = []string{"\n"}
	}
	if o.Quality == 0 {
		o.Quality = 3
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Errors returned by Generate (wrapped with detail).
var (
	// ErrPromptTooLong: the prompt does not fit the model's context. It
	// wraps inference.ErrUnsuitable, so the Router passes the request on
	// without holding it against the engine.
	ErrPromptTooLong = fmt.Errorf("embedded: %w", inference.ErrPromptTooLong)
	// ErrBusy: the queue is full; the caller should use another tier. It
	// wraps inference.ErrUnsuitable.
	ErrBusy = fmt.Errorf("embedded: queue full (%w)", inference.ErrUnsuitable)
	// ErrClosed: the engine was closed.
	ErrClosed = errors.New("embedded: engine closed")
	// ErrEmptyPrompt: the request has neither SmallPrompt nor Prompt.
	ErrEmptyPrompt = errors.New("embedded: empty prompt")
)

// Engine runs one model for many concurrent requests. Create it with Open
// or New, and Close it to stop its scheduler goroutine. It is safe for
// concurrent use.
type Engine struct {
	model *llama.Model
	tok   *bpe.Tokenizer
	vocab *constrain.Vocab
	quote *quoteVocab // the vocabulary as the quote lock reads it
	opts  Options
	desc  string // model description for logs and /v1/models

	jobs      chan *job
	quit      chan struct{}
	done      chan struct{}
	closeOnce sync.Once

	schemaMu sync.Mutex
	schemas  map[string]*constrain.Schema // compiled by schema text, bounded

	prefixHits, prefixMisses atomic.Uint64
}

// Open loads a GGUF file (llama architecture, gpt2 byte-level BPE
// tokenizer; F32, F16 or Q8_0 tensors) and starts an Engine on it. Errors
// name the file and what is wrong with it.
func Open(path string, opts Options) (*Engine, error) {
	w, meta, err := llama.LoadFile(path)
	if err != nil {
		return nil, err
	}
	tok, err := bpe.FromMeta(meta)
	if err != nil {
		return nil, fmt.Errorf("embedded: %s: %w", path, err)
	}
	return New(w, tok, opts)
}

// OpenBytes is Open for a GGUF file held in memory (a model embedded in
// the binary with go:embed); name appears in errors.
func OpenBytes(name string, data []byte, opts Options) (*Engine, error) {
	f, err := gguf.Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("embedded: %s: %w", name, err)
	}
	w, meta, err := llama.LoadGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("embedded: %s: %w", name, err)
	}
	tok, err := bpe.FromMeta(meta)
	if err != nil {
		return nil, fmt.Errorf("embedded: %s: %w", name, err)
	}
	return New(w, tok, opts)
}

// New starts an Engine on weights and a tokenizer whose vocabulary sizes
// agree.
func New(w *llama.Weights, tok *bpe.Tokenizer, opts Options) (*Engine, error) {
	opts.defaults()
	if tok.VocabSize() != w.Config.VocabSize {
		return nil, fmt.Errorf("embedded: tokenizer has %d tokens, model %d", tok.VocabSize(), w.Config.VocabSize)
	}
	if tok.BOS() < 0 || tok.EOS() < 0 {
		return nil, errors.New("embedded: tokenizer has no <|bos|> or <|eos|> token")
	}
	m, err := llama.New(w, llama.Options{Quantize8: opts.Quantize8, Threads: opts.Threads})
	if err != nil {
		return nil, err
	}
	tokens := make([][]byte, tok.VocabSize())
	for id := range tokens {
		tokens[id] = tok.TokenBytes(id)
	}
	c := w.Config
	e := &Engine{
		model: m, tok: tok, opts: opts, quote: newQuoteVocab(tokens, tok.EOS()),
		vocab:   constrain.NewVocab(tokens, tok.EOS()),
		desc:    fmt.Sprintf("llama d=%d layers=%d heads=%d/%d ffn=%d vocab=%d ctx=%d (%.2fM params)", c.Dim, c.Layers, c.Heads, c.KVHeads, c.FFNDim, c.VocabSize, c.ContextLen, float64(c.Params())/1e6),
		jobs:    make(chan *job, opts.MaxQueue),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
		schemas: map[string]*constrain.Schema{},
	}
	go e.loop()
	return e, nil
}

// Close stops the scheduler; requests still waiting fail with ErrClosed.
// It is safe to call more than once.
func (e *Engine) Close() error {
	e.closeOnce.Do(func() { close(e.quit) })
	<-e.done
	return nil
}

// Describe is a one-line description of the model (shape and size).
func (e *Engine) Describe() string { return e.desc }

// Config is the model's hyperparameters.
func (e *Engine) Config() llama.Config { return e.model.Config() }

// Tokenizer is the model's tokenizer.
func (e *Engine) Tokenizer() *bpe.Tokenizer { return e.tok }

// PrefixCacheStats reports KV prefix cache hits and misses since Open.
func (e *Engine) PrefixCacheStats() (hits, misses uint64) {
	return e.prefixHits.Load(), e.prefixMisses.Load()
}

// Info describes the engine to the Router: the embedded tier, with a
// latency prior of 4 ms to first token and 3,000 tokens per second
// (between the shipped model's measured single-sequence decode, 2,020
// tokens/s in float64 and 5,370 in Q8_0 on two cores, docs/models.md),
// which the Router's live estimates replace as replies come in. A slower prior would keep a cold Router from ever
// trying the engine inside a 50 ms budget, and so from ever measuring it.
func (e *Engine) Info() inference.Info {
	return inference.Info{Name: e.opts.Name, Tier: inference.TierEmbedded, Quality: e.opts.Quality,
		ExpectedTTFT: 4 * time.Millisecond, ExpectedTokensPerSecond: 3000,
		MaxInFlight: e.opts.MaxBatch + e.opts.MaxQueue,
		// Generate only queues the job and waits on it or on ctx, so the
		// Router may call it on its own goroutine.
		Inline: true}
}

// job is one request as the scheduler runs it.
type job struct {
	ctx       context.Context
	ids       []int // BOS + prompt tokens
	prefixLen int   // tokens of ids that form the cacheable stable prefix
	maxTokens int
	sampler   *sampler
	matcher   *constrain.Matcher
	schema    *constrain.Schema
	quote     *quoteLock // nil: no lore sentence to hold the reply to
	out       *textOut
	start     time.Time

	// scheduler state
	kv        *llama.Cache
	logits    []float64
	allowed   []bool
	next      int // token to feed to the next decode step
	generated int
	ttft      time.Duration
	finish    string // "stop" or "length"
	err       error

	mu        sync.Mutex // guards sink calls against Generate returning
	sink      inference.Sink
	abandoned bool
	done      chan struct{}
}

func (j *job) emit(text string) {
	if text == "" {
		return
	}
	j.mu.Lock()
	if !j.abandoned && j.sink != nil {
		j.sink(inference.Delta{Text: text})
	}
	j.mu.Unlock()
}

// Generate implements inference.Model. It reads req.SmallPrompt (or
// req.Prompt when empty) with its stable prefix length, req.MaxTokens
// (tokens), req.Temperature, req.Seed, req.Stop, req.ResponseSchema, and
// req.Facts for the quote lock (Options.QuoteMinBytes).
// Errors: ErrEmptyPrompt, ErrPromptTooLong, ErrBusy, ErrClosed, a schema
// compile error, or ctx's error, each wrapped.
func (e *Engine) Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	start := time.Now()
	prompt, pb := req.SmallPrompt, req.SmallPrefixBytes
	if prompt == "" {
		prompt, pb = req.Prompt, req.PrefixBytes
	}
	if prompt == "" {
		return inference.Result{}, ErrEmptyPrompt
	}
	ids, prefixLen := e.tok.SplitPrompt(prompt, pb)
	ctxLen := e.model.Config().ContextLen
	if len(ids) >= ctxLen {
		return inference.Result{}, fmt.Errorf("%w: %d tokens, context %d", ErrPromptTooLong, len(ids), ctxLen)
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = e.opts.MaxTokens
	}
	maxTokens = min(maxTokens, ctxLen-len(ids))
	s := e.opts.Sampling
	s.Temperature = req.Temperature
	stops := append(append([]string(nil), req.Stop...), e.opts.Stop...)
	j := &job{
		ctx: ctx, ids: ids, prefixLen: prefixLen, maxTokens: maxTokens,
		sampler: newSampler(s, req.Seed),
		start:   start, sink: sink, done: make(chan struct{}),
	}
	if len(req.ResponseSchema) > 0 {
		schema, err := e.schema(req.ResponseSchema)
		if err != nil {
			return inference.Result{}, err
		}
		j.schema, j.matcher = schema, schema.NewMatcher(e.vocab)
		stops = nil // JSON may contain anything a stop sequence names
		// The schema bounds the document (maxLength, maxItems); a token cap
		// could only cut it into invalid JSON, so the context is the cap.
		j.maxTokens = ctxLen - len(ids)
	}
	if j.matcher == nil {
		j.quote = newQuoteLock(req.Facts, prompt, e.opts.QuoteMinBytes)
	}
	j.out = newTextOut(stops)
	select {
	case e.jobs <- j:
	default:
		return inference.Result{}, fmt.Errorf("%w: %d waiting", ErrBusy, cap(e.jobs))
	}
	select {
	case <-j.done:
	case <-e.done:
		// The scheduler ended (Close); it may have drained the queue before
		// this job arrived, so the job may never be settled.
		select {
		case <-j.done:
		default:
			return inference.Result{}, ErrClosed
		}
	case <-ctx.Done():
		j.mu.Lock()
		j.abandoned = true
		j.mu.Unlock()
		return inference.Result{}, fmt.Errorf("embedded: %w", ctx.Err())
	}
	if j.err != nil {
		return inference.Result{}, j.err
	}
	text := strings.TrimSpace(j.out.text())
	if j.schema != nil {
		if err := j.schema.Validate([]byte(text)); err != nil {
			return inference.Result{}, fmt.Errorf("embedded: constrained reply does not validate (finish %s): %w", j.finish, err)
		}
	}
	return inference.Result{Text: text, Tier: inference.TierEmbedded, Backend: e.opts.Name,
		Tokens: j.generated, PromptTokens: len(ids), TTFT: j.ttft, Latency: time.Since(start)}, nil
}

// schema compiles a JSON schema once per distinct text (at most 256 kept).
func (e *Engine) schema(text []byte) (*constrain.Schema, error) {
	e.schemaMu.Lock()
	defer e.schemaMu.Unlock()
	if s, ok := e.schemas[string(text)]; ok {
		return s, nil
	}
	s, err := constrain.Compile(text)
	if err != nil {
		return nil, fmt.Errorf("embedded: response schema: %w", err)
	}
	if len(e.schemas) >= 256 {
		clear(e.schemas)
	}
	e.schemas[string(text)] = s
	return s, nil
}

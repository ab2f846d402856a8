// Package train trains Hearth's embedded llama-architecture transformer
// (package llama) from scratch on a corpus of prompt/response examples.
//
// The forward and backward passes are exact, in float64, for the
// architecture documented in package llama; every weight matmul over the
// positions of a micro-batch is one gonum Dgemm, and attention runs per
// (sequence, head) with Dgemm too. The loss is the cross-entropy of the
// response tokens (EOS included) averaged over the batch's target tokens.
//
// Optimisation is AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay
// Regularization") with linear warmup then cosine decay (Loshchilov &
// Hutter 2017, SGDR) to MinLRFraction of the peak, and global-norm gradient
// clipping (Pascanu et al. 2013). A batch is a token budget of examples
// taken from a seeded shuffle of the training set; it is cut into a fixed
// number of shards that parallel workers process, and their gradients are
// summed in shard order, so the weights after n steps depend only on the
// seed and the options, never on the number of workers or GOMAXPROCS.
// Checkpoints (msgpack, zstd-compressed) hold everything needed to resume
// bit-identically.
package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// Options are the training hyperparameters. They decide the numbers the
// run produces and are stored in checkpoints.
type Options struct {
	Seed  uint64 // seeds the train/validation split and the shuffles
	Steps int    // optimizer steps in the whole run, > 0
	// LR is the peak learning rate, reached after WarmupSteps (linear from
	// LR/WarmupSteps at step 1), then decayed by a half cosine to
	// MinLRFraction·LR at step Steps.
	LR            float64
	MinLRFraction float64 // in [0, 1]; 0.1 by default
	WarmupSteps   int     // ≥ 0
	// BatchTokens is a batch's token budget: examples are taken in shuffled
	// order while their token count (prompt + response) stays within it;
	// a batch holds at least one example.
	BatchTokens int
	// Shards is how many pieces a batch is cut into (by token count) for
	// parallel workers; it bounds the useful parallelism and, since
	// gradients are summed per shard, is part of what the result depends
	// on. 16 by default.
	Shards       int
	Beta1, Beta2 float64 // AdamW moment decay rates; 0.9, 0.95
	Eps          float64 // AdamW denominator epsilon; 1e-8
	// WeightDecay is AdamW's decoupled decay (per step, multiplied by the
	// learning rate), applied to the projection matrices only: not to
	// norm gains nor to the token embedding. 0.1 by default.
	WeightDecay float64
	ClipNorm    float64 // global gradient L2 norm clip; 0 turns clipping off; 1.0 by default
	// ValFraction of the examples is held out for validation (seeded by
	// Seed), in [0, 1); 0.05 by default.
	ValFraction float64
}

// DefaultOptions returns the defaults: steps 1000, peak LR 3e-3, warmup
// 100 steps, cosine to 10%, 16384-token batches in 16 shards, β1 0.9,
// β2 0.95, eps 1e-8, weight decay 0.1, clip 1.0, 5% validation, seed 1.
func DefaultOptions() Options {
	return Options{Seed: 1, Steps: 1000, LR: 3e-3, MinLRFraction: 0.1, WarmupSteps: 100,
		BatchTokens: 16384, Shards: 16, Beta1: 0.9, Beta2: 0.95, Eps: 1e-8,
		WeightDecay: 0.1, ClipNorm: 1.0, ValFraction: 0.05}
}

// ErrOptions is wrapped by every error Options.Validate returns.
var ErrOptions = errors.New("train: invalid options")

// Validate reports the first out-of-range option, wrapping ErrOptions.
func (o Options) Validate() error {
	switch {
	case o.Steps <= 0:
		return fmt.Errorf("%w: steps %d must be positive", ErrOptions, o.Steps)
	case !(o.LR > 0) || math.IsInf(o.LR, 0):
		return fmt.Errorf("%w: learning rate %g must be positive", ErrOptions, o.LR)
	case !(o.MinLRFraction >= 0 && o.MinLRFraction <= 1):
		return fmt.Errorf("%w: min LR fraction %g must be in [0, 1]", ErrOptions, o.MinLRFraction)
	case o.WarmupSteps < 0:
		return fmt.Errorf("%w: warmup steps %d must be ≥ 0", ErrOptions, o.WarmupSteps)
	case o.BatchTokens <= 0:
		return fmt.Errorf("%w: batch tokens %d must be positive", ErrOptions, o.BatchTokens)
	case o.Shards <= 0 || o.Shards > 4096:
		return fmt.Errorf("%w: shards %d must be in [1, 4096]", ErrOptions, o.Shards)
	case !(o.Beta1 >= 0 && o.Beta1 < 1) || !(o.Beta2 >= 0 && o.Beta2 < 1):
		return fmt.Errorf("%w: betas %g, %g must be in [0, 1)", ErrOptions, o.Beta1, o.Beta2)
	case !(o.Eps > 0):
		return fmt.Errorf("%w: eps %g must be positive", ErrOptions, o.Eps)
	case !(o.WeightDecay >= 0):
		return fmt.Errorf("%w: weight decay %g must be ≥ 0", ErrOptions, o.WeightDecay)
	case !(o.ClipNorm >= 0):
		return fmt.Errorf("%w: clip norm %g must be ≥ 0", ErrOptions, o.ClipNorm)
	case !(o.ValFraction >= 0 && o.ValFraction < 1):
		return fmt.Errorf("%w: validation fraction %g must be in [0, 1)", ErrOptions, o.ValFraction)
	}
	return nil
}

// LRAt is the learning rate of step s (1-based): linear warmup over
// WarmupSteps, then cosine decay from LR to MinLRFraction·LR at Steps.
func (o Options) LRAt(s int) float64 {
	if s <= o.WarmupSteps {
		return o.LR * float64(s) / float64(o.WarmupSteps)
	}
	lo := o.LR * o.MinLRFraction
	if o.Steps <= o.WarmupSteps {
		return o.LR
	}
	prog := math.Min(1, float64(s-o.WarmupSteps)/float64(o.Steps-o.WarmupSteps))
	return lo + (o.LR-lo)*0.5*(1+math.Cos(math.Pi*prog))
}

// Runtime are the settings of a run that do not change its numbers and
// are not stored in checkpoints.
type Runtime struct {
	// Workers is the number of goroutines that process shards (0 =
	// GOMAXPROCS); at most Options.Shards are used.
	Workers int
	// EvalEvery: validation loss every this many steps (0 = only at the
	// end).
	EvalEvery int
	// CheckpointEvery: a checkpoint every this many steps (0 = only at the
	// end and on interruption), written to CheckpointPath when it is set.
	CheckpointEvery int
	CheckpointPath  string
	// Progress, when set, is called after every step from Run's goroutine.
	Progress func(Progress)
}

// Progress reports one step of Run.
type Progress struct {
	Step, Steps int
	Loss        float64 // this batch's mean loss over its target tokens, nats
	ValLoss     float64 // validation loss computed at this step; NaN when not evaluated
	LR          float64 // learning rate used by this step
	GradNorm    float64 // global gradient norm before clipping
	Tokens      int     // positions processed by this step
	TokensPerS  float64 // positions per second since Run started
	Elapsed     time.Duration
	Checkpoint  bool // a checkpoint was written after this step
}

// Result summarises a finished Run.
type Result struct {
	Steps int // the step reached (all of Options.Steps unless interrupted)
	// TrainLoss is the mean batch loss (nats per target token) of the last
	// Steps/10 steps, at least 1 and at most 20.
	TrainLoss float64
	ValLoss   float64 // validation loss at the end; NaN without validation examples
	Tokens    int64   // positions processed by this Run call
	Duration  time.Duration
	// TokensPerS is Tokens/Duration (training steps plus evaluations and
	// checkpoints).
	TokensPerS float64
}

// Trainer holds a model being trained and the optimizer state. It is not
// safe for concurrent use: one goroutine calls its methods (it runs its own
// workers inside TrainStep, Evaluate and Run).
type Trainer struct {
	cfg    llama.Config
	opt    Options
	rt     Runtime
	tok    *llama.TokenizerMeta
	m      *model
	spans  []span
	params []float64
	grad   []float64
	mom    []float64 // AdamW first moments
	vel    []float64 // AdamW second moments
	w      *llama.Weights

	train, val []Example
	hash       uint64
	step       int
	epoch      int   // current shuffle epoch
	cursor     int   // next index into perm
	perm       []int // the shuffle of epoch
	workers    []*worker
	recent     []float64 // last batch losses
}

type worker struct {
	ws   *workspace
	grad []float64
	gw   *llama.Weights
}

// New returns a trainer for w (copied; w is not modified) on examples,
// which it splits into training and validation sets with
// opt.ValFraction and opt.Seed. tok is stored in checkpoints (it may be
// nil). It returns an error for invalid weights or options, no examples,
// or an example that does not fit the model (no target, a token out of
// the vocabulary, more than ContextLen positions).
func New(w *llama.Weights, tok *llama.TokenizerMeta, examples []Example, opt Options, rt Runtime) (*Trainer, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	t, err := newTrainer(w.Config, tok, examples, opt, rt)
	if err != nil {
		return nil, err
	}
	copy(t.params, flatten(w))
	return t, nil
}

func newTrainer(cfg llama.Config, tok *llama.TokenizerMeta, examples []Example, opt Options, rt Runtime) (*Trainer, error) {
	if len(examples) == 0 {
		return nil, errors.New("train: no examples")
	}
	for i, e := range examples {
		if err := e.validate(cfg); err != nil {
			return nil, fmt.Errorf("example %d: %w", i, err)
		}
	}
	if rt.Workers < 0 || rt.EvalEvery < 0 || rt.CheckpointEvery < 0 {
		return nil, fmt.Errorf("%w: workers %d, eval every %d, checkpoint every %d must be ≥ 0", ErrOptions, rt.Workers, rt.EvalEvery, rt.CheckpointEvery)
	}
	spans, n := layout(cfg)
	t := &Trainer{cfg: cfg, opt: opt, rt: rt, tok: tok, m: newModel(cfg), spans: spans,
		params: make([]float64, n), grad: make([]float64, n), mom: make([]float64, n), vel: make([]float64, n),
		hash: corpusHash(examples)}
	t.w = view(cfg, t.params)
	t.train, t.val = Split(examples, opt.ValFraction, opt.Seed)
	nw := rt.Workers
	if nw == 0 {
		nw = runtime.GOMAXPROCS(0)
	}
	nw = max(1, min(nw, opt.Shards))
	for range nw {
		g := make([]float64, n)
		t.workers = append(t.workers, &worker{ws: &workspace{m: t.m}, grad: g, gw: view(cfg, g)})
	}
	t.perm = permutation(len(t.train), opt.Seed, shuffleStream)
	return t, nil
}

// Weights returns the current weights (a view the trainer keeps updating;
// copy them before training on if they must stay fixed).
func (t *Trainer) Weights() *llama.Weights { return t.w }

// SetProgress replaces Runtime.Progress (nil for none).
func (t *Trainer) SetProgress(fn func(Progress)) { t.rt.Progress = fn }

// Step is the number of optimizer steps taken.
func (t *Trainer) Step() int { return t.step }

// Options returns the run's options.
func (t *Trainer) Options() Options { return t.opt }

// Split returns how many examples train and validate.
func (t *Trainer) Split() (train, val int) { return len(t.train), len(t.val) }

// TrainTokens is the number of tokens (prompt + response) of the training
// split, one epoch.
func (t *Trainer) TrainTokens() int {
	n := 0
	for _, e := range t.train {
		n += len(e.Tokens)
	}
	return n
}

// nextBatch takes examples from the shuffled order within the token
// budget, moving to the next epoch's shuffle when one is used up.
func (t *Trainer) nextBatch() []Example {
	var batch []Example
	tokens := 0
	for {
		if t.cursor == len(t.perm) {
			t.epoch++
			t.cursor = 0
			t.perm = permutation(len(t.train), t.opt.Seed, shuffleStream+uint64(t.epoch))
		}
		e := t.train[t.perm[t.cursor]]
		if len(batch) > 0 && tokens+len(e.Tokens) > t.opt.BatchTokens {
			return batch
		}
		batch = append(batch, e)
		tokens += len(e.Tokens)
		t.cursor++
		if tokens >= t.opt.BatchTokens {
			return batch
		}
	}
}

// shard cuts batch into at most n contiguous pieces of about equal token
// count: example i goes to piece ⌊start_i·n/total⌋.
func shard(batch []Example, n int) [][]Example {
	total := 0
	for _, e := range batch {
		total += len(e.Tokens)
	}
	var out [][]Example
	start, cur, from := 0, -1, 0
	for i, e := range batch {
		s := start * n / total
		if s != cur {
			if i > from {
				out = append(out, batch[from:i])
			}
			from, cur = i, s
		}
		start += len(e.Tokens)
	}
	return append(out, batch[from:])
}

// runShards processes shards on the workers: fn(worker, shard index)
// returns a value; done(shard index, worker) is called in shard order,
// one at a time, after the shard's fn returned.
func (t *Trainer) runShards(n int, fn func(*worker, int), done func(int, *worker)) {
	var next atomic.Int64
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	turn := 0
	var wg sync.WaitGroup
	for _, wk := range t.workers[:min(len(t.workers), n)] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				s := int(next.Add(1) - 1)
				if s >= n {
					return
				}
				fn(wk, s)
				mu.Lock()
				for turn != s {
					cond.Wait()
				}
				mu.Unlock()
				done(s, wk)
				mu.Lock()
				turn++
				cond.Broadcast()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// parallelFor runs fn over [0, n) in fixed chunks on the workers'
// goroutines; fn must touch only its own indices.
func (t *Trainer) parallelFor(n int, fn func(lo, hi int)) {
	const chunk = 1 << 15
	chunks := (n + chunk - 1) / chunk
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(len(t.workers), chunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				fn(c*chunk, min(n, (c+1)*chunk))
			}
		}()
	}
	wg.Wait()
}

// TrainStep takes one optimizer step on the next batch and reports it
// (ValLoss NaN, TokensPerS and Elapsed zero). It returns an error when the
// loss is not finite.
func (t *Trainer) TrainStep() (Progress, error) {
	batch := t.nextBatch()
	shards := shard(batch, t.opt.Shards)
	targets, positions := 0, 0
	for _, e := range batch {
		targets += e.targets()
		positions += e.positions()
	}
	scale := 1 / float64(targets)
	var loss float64
	t.runShards(len(shards), func(wk *worker, s int) {
		clear(wk.grad)
		wk.ws.setBatch(shards[s])
		l := wk.ws.forward(t.w)
		wk.ws.backward(t.w, wk.gw, scale)
		wk.ws.lastLoss = l
	}, func(s int, wk *worker) {
		loss += wk.ws.lastLoss
		if s == 0 {
			copy(t.grad, wk.grad)
			return
		}
		g := t.grad
		for i, v := range wk.grad {
			g[i] += v
		}
	})
	loss *= scale
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return Progress{}, fmt.Errorf("train: loss is %g at step %d", loss, t.step+1)
	}
	var ss float64
	for _, v := range t.grad {
		ss += v * v
	}
	norm := math.Sqrt(ss)
	gscale := 1.0
	if t.opt.ClipNorm > 0 && norm > t.opt.ClipNorm {
		gscale = t.opt.ClipNorm / norm
	}
	t.step++
	lr := t.opt.LRAt(t.step)
	t.adam(lr, gscale)
	t.recent = append(t.recent, loss)
	if len(t.recent) > 20 {
		t.recent = t.recent[1:]
	}
	return Progress{Step: t.step, Steps: t.opt.Steps, Loss: loss, ValLoss: math.NaN(), LR: lr, GradNorm: norm, Tokens: positions}, nil
}

// adam applies one AdamW update with learning rate lr to gradients scaled
// by gscale (the clip factor). PyTorch's AdamW form:
// p ← p − lr·(m̂/(√v̂+eps) + wd·p), with m̂, v̂ bias-corrected.
func (t *Trainer) adam(lr, gscale float64) {
	o := t.opt
	b1, b2 := o.Beta1, o.Beta2
	c1 := 1 - math.Pow(b1, float64(t.step))
	c2 := 1 - math.Pow(b2, float64(t.step))
	for _, sp := range t.spans {
		wd := 0.0
		if sp.decay {
			wd = o.WeightDecay
		}
		p, g := t.params[sp.off:sp.off+sp.n], t.grad[sp.off:sp.off+sp.n]
		m, v := t.mom[sp.off:sp.off+sp.n], t.vel[sp.off:sp.off+sp.n]
		t.parallelFor(sp.n, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				gi := g[i] * gscale
				m[i] = b1*m[i] + (1-b1)*gi
				v[i] = b2*v[i] + (1-b2)*gi*gi
				mh, vh := m[i]/c1, v[i]/c2
				p[i] -= lr * (mh/(math.Sqrt(vh)+o.Eps) + wd*p[i])
			}
		})
	}
}

// Evaluate returns the mean cross-entropy (nats per target token) of the
// current weights over examples, computed in parallel in a fixed grouping
// so that it is deterministic; NaN for no examples. It returns an error for
// an example that does not fit the model (see New).
func (t *Trainer) Evaluate(examples []Example) (float64, error) {
	for i, e := range examples {
		if err := e.validate(t.cfg); err != nil {
			return math.NaN(), fmt.Errorf("example %d: %w", i, err)
		}
	}
	return t.evaluate(examples), nil
}

func (t *Trainer) evaluate(examples []Example) float64 {
	if len(examples) == 0 {
		return math.NaN()
	}
	// Groups of about BatchTokens/Shards tokens.
	per := max(1, t.opt.BatchTokens/t.opt.Shards)
	var groups [][]Example
	from, tokens := 0, 0
	for i, e := range examples {
		if i > from && tokens+len(e.Tokens) > per {
			groups = append(groups, examples[from:i])
			from, tokens = i, 0
		}
		tokens += len(e.Tokens)
	}
	groups = append(groups, examples[from:])
	var loss float64
	targets := 0
	t.runShards(len(groups), func(wk *worker, s int) {
		wk.ws.setBatch(groups[s])
		wk.ws.lastLoss = wk.ws.forward(t.w)
	}, func(s int, wk *worker) {
		loss += wk.ws.lastLoss
		targets += wk.ws.counted
	})
	return loss / float64(targets)
}

// ValLoss is Evaluate on the validation split (NaN when it is empty).
func (t *Trainer) ValLoss() float64 { return t.evaluate(t.val) }

// Run trains until Options.Steps, validating every Runtime.EvalEvery steps
// and at the end, checkpointing every Runtime.CheckpointEvery steps and at
// the end when Runtime.CheckpointPath is set. When ctx is cancelled it
// writes a checkpoint (if a path is set) and returns the result so far with
// ctx's error. It returns a step's error (a non-finite loss) or a
// checkpoint write error.
func (t *Trainer) Run(ctx context.Context) (Result, error) {
	start := time.Now()
	var tokens int64
	res := func() Result {
		d := time.Since(start)
		r := Result{Steps: t.step, TrainLoss: math.NaN(), ValLoss: math.NaN(), Tokens: tokens, Duration: d}
		if len(t.recent) > 0 {
			win := t.recent[len(t.recent)-max(1, min(len(t.recent), t.opt.Steps/10)):]
			var s float64
			for _, l := range win {
				s += l
			}
			r.TrainLoss = s / float64(len(win))
		}
		if d > 0 {
			r.TokensPerS = float64(tokens) / d.Seconds()
		}
		return r
	}
	save := func() error {
		if t.rt.CheckpointPath == "" {
			return nil
		}
		return t.SaveCheckpoint(t.rt.CheckpointPath)
	}
	endVal, haveVal := math.NaN(), false
	for t.step < t.opt.Steps {
		if err := ctx.Err(); err != nil {
			if serr := save(); serr != nil {
				return res(), errors.Join(err, serr)
			}
			return res(), err
		}
		p, err := t.TrainStep()
		if err != nil {
			return res(), err
		}
		tokens += int64(p.Tokens)
		last := t.step == t.opt.Steps
		if last || (t.rt.EvalEvery > 0 && t.step%t.rt.EvalEvery == 0) {
			p.ValLoss = t.ValLoss()
			endVal, haveVal = p.ValLoss, last
		}
		if last || (t.rt.CheckpointEvery > 0 && t.step%t.rt.CheckpointEvery == 0) {
			if err := save(); err != nil {
				return res(), err
			}
			p.Checkpoint = t.rt.CheckpointPath != ""
		}
		p.Elapsed = time.Since(start)
		p.TokensPerS = float64(tokens) / p.Elapsed.Seconds()
		if t.rt.Progress != nil {
			t.rt.Progress(p)
		}
	}
	r := res()
	if !haveVal {
		endVal = t.ValLoss()
	}
	r.ValLoss = endVal
	return r, nil
}

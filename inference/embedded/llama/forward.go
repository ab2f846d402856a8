package llama

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Options tunes a Model's forward pass.
//
// Kernels: weight products and attention run through gemm.go, whose inner
// loops are Go-assembly AVX2/FMA kernels (gemm_amd64.s) on amd64 CPUs that
// have them, and plain Go elsewhere or with the purego build tag; no cgo.
// Measured on 2 dedicated cores (BenchmarkGemmKernels, d128 prefill of 50
// tokens plus 10 decode steps at B=2, one thread): 9.3 ms with the
// assembly, 26.5 ms with gonum's Dgemm (one SSE2 dot product per output
// element in its NT case), 35.6 ms with the plain-Go kernel.
type Options struct {
	// Quantize8 runs every weight matrix (attention, FFN, output; not the
	// embedding lookup or norms) as GGUF Q8_0 blocks (32 int8 values and one
	// float16 scale, see q8.go). Activations are quantised per block of 32
	// too, as ggml's q8_0 vec_dot does, so each block product is an exact
	// int32 sum (an AVX2 VPMADDUBSW kernel) scaled into a float32
	// accumulator. Chosen over float activations because it keeps the inner
	// loop in 8-bit lanes (32 multiply-adds per VPMADDUBSW), where float
	// activations need an int8→float conversion per weight; that variant
	// was not built or measured. The matrices take
	// 8.5× less memory; decode, which streams every weight per step, runs
	// 1.4–1.8× faster than float64, prefill as fast (d128) or 1.3× faster
	// (d192). Logits move by ~1% of their largest magnitude
	// (TestQ8OnBenchConfig). Off: float64.
	Quantize8 bool
	// Threads is the number of goroutines one forward pass splits its work
	// over: column blocks of each weight product, attention tasks (sequence,
	// KV head, rows), SwiGLU rows and Q8 activation rows, each only above a
	// size where splitting measured faster. The helpers live for one call
	// and spin between its parallel regions (see team.go). Measured on the
	// d128 reply workload: on 2 idle cores Threads=2 is 1.5–2× faster than
	// 1 (f64 12.9 vs 26.2 ms, q8 12.0 vs 18.0 ms); on 2 cores that other
	// processes keep busy it is about even, so an engine sharing its cores
	// with a game server gains little from more than 1. 0 means
	// runtime.GOMAXPROCS(0).
	Threads int
}

// ErrContextFull is wrapped by Prefill, DecodeBatch and Embed when a
// sequence would grow past Config.ContextLen tokens.
var ErrContextFull = errors.New("llama: context full")

// ErrInput is wrapped by every error about a call's arguments (token id out
// of range, slice lengths that disagree, nil or foreign caches).
var ErrInput = errors.New("llama: bad input")

// Model runs the forward pass of a llama transformer (see the package
// comment for the architecture). It holds its own copy of the weights in
// the layout it computes with (fused [Wq;Wk;Wv] and [WGate;WUp] matrices, or
// their Q8_0 blocks), so later changes to the Weights passed to New are not
// seen. A Model is read-only after New and safe for concurrent use; each
// Cache must be used by one call at a time.
type Model struct {
	cfg     Config
	threads int
	q8      bool

	hd, kvDim, qkvDim int

	embed   []float64 // [VocabSize][Dim]
	outNorm []float64 // [Dim]
	out     matrix    // [VocabSize][Dim]
	layers  []layerMats

	ropeCos, ropeSin []float64 // [ContextLen][HeadDim/2]

	pool sync.Pool // *scratch
}

type layerMats struct {
	attnNorm, ffnNorm []float64
	qkv               matrix // [Dim+2·KVDim][Dim]: Wq rows, then Wk, then Wv
	wo                matrix // [Dim][Dim]
	gateUp            matrix // [2·FFNDim][Dim]: WGate rows, then WUp
	down              matrix // [Dim][FFNDim]
}

// matrix is a weight [out][in] in one of the two representations.
type matrix struct {
	out, in int
	f64     []float64 // row-major, when not quantised
	q8      *q8Matrix
}

func newMatrix(w []float64, out, in int, q8 bool) matrix {
	if q8 {
		return matrix{out: out, in: in, q8: newQ8Matrix(w, out, in)}
	}
	return matrix{out: out, in: in, f64: w}
}

// New checks w (Weights.Validate) and builds a Model from it. The Model
// copies what it needs; w may be reused afterwards. It returns w's
// validation error (wrapping ErrConfig) or an error for a nil w.
func New(w *Weights, opts Options) (*Model, error) {
	if w == nil {
		return nil, fmt.Errorf("%w: nil weights", ErrConfig)
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	c := w.Config
	hd := c.HeadDim()
	kvDim := c.KVHeads * hd
	m := &Model{
		cfg:     c,
		threads: opts.Threads,
		q8:      opts.Quantize8,
		hd:      hd,
		kvDim:   kvDim,
		qkvDim:  c.Dim + 2*kvDim,
		embed:   append([]float64(nil), w.TokenEmbed...),
		outNorm: append([]float64(nil), w.OutputNorm...),
	}
	if m.threads <= 0 {
		m.threads = runtime.GOMAXPROCS(0)
	}
	outW := w.Output
	if c.TiedEmbeddings {
		outW = m.embed
	} else {
		outW = append([]float64(nil), outW...)
	}
	m.out = newMatrix(outW, c.VocabSize, c.Dim, m.q8)
	m.layers = make([]layerMats, c.Layers)
	for i := range w.Layers {
		l := &w.Layers[i]
		qkv := make([]float64, 0, m.qkvDim*c.Dim)
		qkv = append(append(append(qkv, l.Wq...), l.Wk...), l.Wv...)
		gu := make([]float64, 0, 2*c.FFNDim*c.Dim)
		gu = append(append(gu, l.WGate...), l.WUp...)
		m.layers[i] = layerMats{
			attnNorm: append([]float64(nil), l.AttnNorm...),
			ffnNorm:  append([]float64(nil), l.FFNNorm...),
			qkv:      newMatrix(qkv, m.qkvDim, c.Dim, m.q8),
			wo:       newMatrix(append([]float64(nil), l.Wo...), c.Dim, c.Dim, m.q8),
			gateUp:   newMatrix(gu, 2*c.FFNDim, c.Dim, m.q8),
			down:     newMatrix(append([]float64(nil), l.WDown...), c.Dim, c.FFNDim, m.q8),
		}
	}
	// RoPE tables, GGML_ROPE_TYPE_NORM: θ(p, i) = p·RopeTheta^(−2i/HeadDim).
	half := hd / 2
	m.ropeCos = make([]float64, c.ContextLen*half)
	m.ropeSin = make([]float64, c.ContextLen*half)
	for i := 0; i < half; i++ {
		freq := math.Pow(c.RopeTheta, -2*float64(i)/float64(hd))
		for p := 0; p < c.ContextLen; p++ {
			s, co := math.Sincos(float64(p) * freq)
			m.ropeCos[p*half+i] = co
			m.ropeSin[p*half+i] = s
		}
	}
	return m, nil
}

// Config is the model's hyperparameters.
func (m *Model) Config() Config { return m.cfg }

// scratch is one forward pass's working memory, pooled per Model.
type scratch struct {
	rows   int
	h      []float64   // [rows][Dim] residual stream
	xn     []float64   // [rows][Dim] normalised input of a sub-block
	qkv    []float64   // [rows][Dim+2·KVDim]
	att    []float64   // [rows][Dim] attention output (heads concatenated)
	gu     []float64   // [rows][2·FFNDim]
	act    []float64   // [rows][FFNDim]
	logits []float64   // [rows][VocabSize] (DecodeBatch)
	pos    []int       // [rows] position of each row
	team   *team       // this pass's workers; nil when single-threaded
	scores [][]float64 // per worker: one row's scores, [heads per group][positions]
	tasks  []attTask
	qx     []int8
	dx     []float32
	spans  []span
}

// span is one sequence's run of rows in a forward pass: rows
// [row0, row0+n) hold positions [start, start+n) of cache c.
type span struct {
	c              *Cache
	start, n, row0 int
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

func (m *Model) getScratch(rows int) *scratch {
	s, _ := m.pool.Get().(*scratch)
	if s == nil {
		s = &scratch{}
	}
	c := m.cfg
	s.rows = rows
	s.h = grow(s.h, rows*c.Dim)
	s.xn = grow(s.xn, rows*c.Dim)
	s.qkv = grow(s.qkv, rows*m.qkvDim)
	s.att = grow(s.att, rows*c.Dim)
	s.gu = grow(s.gu, rows*2*c.FFNDim)
	s.act = grow(s.act, rows*c.FFNDim)
	s.pos = grow(s.pos, rows)
	if len(s.scores) < m.threads {
		s.scores = append(s.scores, make([][]float64, m.threads-len(s.scores))...)
	}
	if m.q8 {
		nb := (max(c.Dim, c.FFNDim) + q8Block - 1) / q8Block
		s.qx = grow(s.qx, rows*nb*q8Block)
		s.dx = grow(s.dx, rows*nb)
	}
	s.team = startTeam(m.threads)
	return s
}

// putScratch stops s's team and returns s to the pool, dropping its cache
// references.
func (m *Model) putScratch(s *scratch) {
	s.team.close()
	s.team = nil
	clear(s.spans)
	s.spans = s.spans[:0]
	m.pool.Put(s)
}

// checkTokens reports the first token id outside [0, VocabSize).
func (m *Model) checkTokens(tokens []int) error {
	for i, t := range tokens {
		if t < 0 || t >= m.cfg.VocabSize {
			return fmt.Errorf("%w: token %d at index %d is outside the vocabulary [0, %d)", ErrInput, t, i, m.cfg.VocabSize)
		}
	}
	return nil
}

// checkCache reports a nil cache or one shaped for another model.
func (m *Model) checkCache(c *Cache) error {
	if c == nil {
		return fmt.Errorf("%w: nil cache", ErrInput)
	}
	if c.layers != m.cfg.Layers || c.kvDim != m.kvDim || c.ctxLen != m.cfg.ContextLen {
		return fmt.Errorf("%w: cache shaped for %d layers × %d kv width × %d positions, model has %d × %d × %d",
			ErrInput, c.layers, c.kvDim, c.ctxLen, m.cfg.Layers, m.kvDim, m.cfg.ContextLen)
	}
	return nil
}

// Prefill appends tokens (len ≥ 1) to c in one forward pass, all positions
// as one matrix, and writes the logits of the last token into dst (len
// VocabSize). Errors (nothing is changed): ErrInput for an empty prompt, a
// token id outside [0, VocabSize), a wrong dst length or a nil/foreign
// cache; ErrContextFull when c.Len()+len(tokens) > ContextLen.
func (m *Model) Prefill(c *Cache, tokens []int, dst []float64) error {
	if err := m.checkCache(c); err != nil {
		return err
	}
	if len(tokens) == 0 {
		return fmt.Errorf("%w: prefill of no tokens", ErrInput)
	}
	if len(dst) != m.cfg.VocabSize {
		return fmt.Errorf("%w: dst has %d logits, vocabulary is %d", ErrInput, len(dst), m.cfg.VocabSize)
	}
	if err := m.checkTokens(tokens); err != nil {
		return err
	}
	if c.n+len(tokens) > m.cfg.ContextLen {
		return fmt.Errorf("%w: %d cached + %d new tokens > context length %d", ErrContextFull, c.n, len(tokens), m.cfg.ContextLen)
	}
	s := m.getScratch(len(tokens))
	defer m.putScratch(s)
	s.spans = append(s.spans[:0], span{c: c, start: c.n, n: len(tokens)})
	m.forward(s, tokens)
	last := len(tokens) - 1
	m.finalNorm(s.xn[:m.cfg.Dim], s.h[last*m.cfg.Dim:(last+1)*m.cfg.Dim])
	m.mul(m.out, dst, s.xn[:m.cfg.Dim], 1, false, s)
	return nil
}

// DecodeBatch appends tokens[i] to caches[i] for every i in one forward
// pass (the B rows share each weight product) and writes the logits of
// token i into dst[i] (len VocabSize each). A row's logits equal those of
// decoding it alone up to float64 rounding (~1e-15 relative: the
// two-row kernel sums in another order), and exactly in Q8 mode. Errors (nothing is changed):
// ErrInput when the three slices' lengths differ, B is 0, a cache is nil,
// foreign or repeated, a token id is out of range or a dst[i] has the
// wrong length; ErrContextFull when a cache is already ContextLen long.
func (m *Model) DecodeBatch(caches []*Cache, tokens []int, dst [][]float64) error {
	b := len(caches)
	if b == 0 || len(tokens) != b || len(dst) != b {
		return fmt.Errorf("%w: %d caches, %d tokens and %d logit slices must be equal and non-zero", ErrInput, b, len(tokens), len(dst))
	}
	if err := m.checkTokens(tokens); err != nil {
		return err
	}
	for i, c := range caches {
		if err := m.checkCache(c); err != nil {
			return fmt.Errorf("cache %d: %w", i, err)
		}
		for j := 0; j < i; j++ {
			if caches[j] == c {
				return fmt.Errorf("%w: cache %d repeats cache %d", ErrInput, i, j)
			}
		}
		if len(dst[i]) != m.cfg.VocabSize {
			return fmt.Errorf("%w: dst[%d] has %d logits, vocabulary is %d", ErrInput, i, len(dst[i]), m.cfg.VocabSize)
		}
		if c.n+1 > m.cfg.ContextLen {
			return fmt.Errorf("%w: sequence %d has %d tokens, context length is %d", ErrContextFull, i, c.n, m.cfg.ContextLen)
		}
	}
	s := m.getScratch(b)
	defer m.putScratch(s)
	s.spans = s.spans[:0]
	for i, c := range caches {
		s.spans = append(s.spans, span{c: c, start: c.n, n: 1, row0: i})
	}
	m.forward(s, tokens)
	d := m.cfg.Dim
	for r := 0; r < b; r++ {
		m.finalNorm(s.xn[r*d:(r+1)*d], s.h[r*d:(r+1)*d])
	}
	s.logits = grow(s.logits, b*m.cfg.VocabSize)
	m.mul(m.out, s.logits, s.xn[:b*d], b, false, s)
	for i := range dst {
		copy(dst[i], s.logits[i*m.cfg.VocabSize:(i+1)*m.cfg.VocabSize])
	}
	return nil
}

// Embed runs tokens (1 ≤ len ≤ ContextLen) as a fresh sequence and returns
// the mean over positions of the final normalised hidden state
// (RMSNorm(h)·OutputNorm, the input of the output projection), [Dim]. For
// /v1/embeddings. Errors: ErrInput for no tokens or an id out of range,
// ErrContextFull for more than ContextLen tokens.
func (m *Model) Embed(tokens []int) ([]float64, error) {
	if len(tokens) == 0 {
		return nil, fmt.Errorf("%w: embedding of no tokens", ErrInput)
	}
	if err := m.checkTokens(tokens); err != nil {
		return nil, err
	}
	if len(tokens) > m.cfg.ContextLen {
		return nil, fmt.Errorf("%w: %d tokens > context length %d", ErrContextFull, len(tokens), m.cfg.ContextLen)
	}
	c := m.NewCache()
	s := m.getScratch(len(tokens))
	defer m.putScratch(s)
	s.spans = append(s.spans[:0], span{c: c, n: len(tokens)})
	m.forward(s, tokens)
	d := m.cfg.Dim
	out := make([]float64, d)
	for r := range tokens {
		x := s.xn[:d]
		m.finalNorm(x, s.h[r*d:(r+1)*d])
		for i, v := range x {
			out[i] += v
		}
	}
	inv := 1 / float64(len(tokens))
	for i := range out {
		out[i] *= inv
	}
	return out, nil
}

func (m *Model) finalNorm(dst, x []float64) { rmsNorm(dst, x, m.outNorm, m.cfg.NormEps) }

// rmsNorm writes x/sqrt(mean(x²)+eps)·g into dst.
func rmsNorm(dst, x, g []float64, eps float64) {
	var ss float64
	for _, v := range x {
		ss += v * v
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+eps)
	g = g[:len(x)]
	dst = dst[:len(x)]
	for i, v := range x {
		dst[i] = v * inv * g[i]
	}
}

var blasImpl gonum.Implementation

// mul computes y[r][o] (+)= Σ_i x[r][i]·W[o][i] for rows r of x
// ([rows][in]) into y ([rows][out]).
func (m *Model) mul(w matrix, y, x []float64, rows int, accumulate bool, s *scratch) {
	if w.q8 != nil {
		w.q8.mul(y, x, rows, accumulate, s.qx, s.dx, s.team)
		return
	}
	if benchKernel == kernelGonum {
		beta := 0.0
		if accumulate {
			beta = 1
		}
		blasImpl.Dgemm(blas.NoTrans, blas.Trans, rows, w.out, w.in, 1, x, w.in, w.f64, w.in, beta, y, w.out)
		return
	}
	gemmNTPar(s.team, rows, w.out, w.in, x, w.in, w.f64, w.in, y, w.out, accumulate)
}

// benchKernel overrides the float64 weight-product kernel; only
// BenchmarkGemmKernels sets it, to keep the kernel choice measurable.
var benchKernel = kernelAuto

const (
	kernelAuto  = iota // gemmNT: assembly where available, else plain Go
	kernelGonum        // gonum's Dgemm (NoTrans, Trans)
	kernelGo           // gemmNTGo, the plain-Go kernel
)

// forward runs the transformer over s.spans' rows (tokens[r] is row r),
// appending their keys and values to the spans' caches (capacity is
// checked by the callers), and leaves the final residual stream in s.h.
func (m *Model) forward(s *scratch, tokens []int) {
	c := m.cfg
	d := c.Dim
	rows := len(tokens)
	for _, sp := range s.spans {
		sp.c.grow(sp.start + sp.n)
		for i := 0; i < sp.n; i++ {
			s.pos[sp.row0+i] = sp.start + i
		}
	}
	for r, t := range tokens {
		copy(s.h[r*d:(r+1)*d], m.embed[t*d:(t+1)*d])
	}
	for li := range m.layers {
		l := &m.layers[li]
		for r := 0; r < rows; r++ {
			rmsNorm(s.xn[r*d:(r+1)*d], s.h[r*d:(r+1)*d], l.attnNorm, c.NormEps)
		}
		m.mul(l.qkv, s.qkv, s.xn, rows, false, s)
		m.ropeAndStore(s, li)
		m.attention(s, li)
		m.mul(l.wo, s.h, s.att, rows, true, s)

		for r := 0; r < rows; r++ {
			rmsNorm(s.xn[r*d:(r+1)*d], s.h[r*d:(r+1)*d], l.ffnNorm, c.NormEps)
		}
		m.mul(l.gateUp, s.gu, s.xn, rows, false, s)
		if s.team.size() > 1 && rows*c.FFNDim >= 1<<12 {
			s.team.parallelFor(rows, 1, func(lo, hi int) { m.swiGLU(s, lo, hi) })
		} else {
			m.swiGLU(s, 0, rows)
		}
		m.mul(l.down, s.h, s.act, rows, true, s)
	}
	for _, sp := range s.spans {
		sp.c.n = sp.start + sp.n
	}
}

// swiGLU sets act = SiLU(gate)·up for rows [lo, hi) of s.gu, SiLU(g) =
// g/(1+exp(−g)) (Elfwing et al. 2018).
func (m *Model) swiGLU(s *scratch, lo, hi int) {
	f := m.cfg.FFNDim
	for r := lo; r < hi; r++ {
		g := s.gu[r*2*f : r*2*f+f]
		u := s.gu[r*2*f+f : (r+1)*2*f]
		a := s.act[r*f : (r+1)*f]
		u, a = u[:len(g)], a[:len(g)]
		for i, gv := range g {
			a[i] = -gv
		}
		expSubSum(a, 0) // a = exp(-g)
		for i, gv := range g {
			a[i] = gv / (1 + a[i]) * u[i] // SiLU(g)·u
		}
	}
}

// ropeAndStore rotates each row's query and key heads by its position and
// copies the key and value into the row's cache at that position.
func (m *Model) ropeAndStore(s *scratch, li int) {
	half := m.hd / 2
	for _, sp := range s.spans {
		for i := 0; i < sp.n; i++ {
			r := sp.row0 + i
			p := s.pos[r]
			row := s.qkv[r*m.qkvDim : (r+1)*m.qkvDim]
			cs := m.ropeCos[p*half : (p+1)*half]
			sn := m.ropeSin[p*half : (p+1)*half]
			qk := row[:m.cfg.Dim+m.kvDim] // query heads then key heads
			for h := 0; h < len(qk); h += m.hd {
				x := qk[h : h+m.hd]
				for j := 0; j < half; j++ {
					a, b := x[2*j], x[2*j+1]
					x[2*j] = a*cs[j] - b*sn[j]
					x[2*j+1] = a*sn[j] + b*cs[j]
				}
			}
			copy(sp.c.k[li][p*m.kvDim:(p+1)*m.kvDim], row[m.cfg.Dim:m.cfg.Dim+m.kvDim])
			copy(sp.c.v[li][p*m.kvDim:(p+1)*m.kvDim], row[m.cfg.Dim+m.kvDim:])
		}
	}
}

// attention computes, for every span, query head and row,
// softmax(q·Kᵀ/√HeadDim over the row's causal prefix)·V into s.att. Work is
// cut into tasks (span, KV head, row phase): the query heads of a
// grouped-query group share each K and V row load, and a span's rows are
// dealt round-robin into up to Threads phases so causal rows of unequal
// length balance. Tasks run on up to Threads goroutines.
func (m *Model) attention(s *scratch, li int) {
	kvh := m.cfg.KVHeads
	threads := s.team.size()
	work := 0
	for _, sp := range s.spans {
		work += sp.n * (sp.start + sp.n)
	}
	// A goroutine hand-off costs ~µs; only split when there is real work.
	if work*m.cfg.Heads*m.hd < 1<<15 {
		threads = 1
	}
	s.tasks = s.tasks[:0]
	for si, sp := range s.spans {
		phases := 1
		if threads > 1 {
			// About 4 tasks per member, for balance.
			phases = max(1, min(sp.n, (4*threads+len(s.spans)*kvh-1)/(len(s.spans)*kvh)))
		}
		for g := 0; g < kvh; g++ {
			for ph := 0; ph < phases; ph++ {
				s.tasks = append(s.tasks, attTask{span: si, g: g, phase: ph, phases: phases})
			}
		}
	}
	if threads <= 1 || len(s.tasks) <= 1 {
		for i := range s.tasks {
			m.attendTask(s, li, &s.tasks[i], 0)
		}
		return
	}
	s.team.run(len(s.tasks), func(w, i int) { m.attendTask(s, li, &s.tasks[i], w) })
}

// attTask is one unit of attention work: rows phase, phase+phases, … of
// span s.spans[span], for the query heads of KV head g.
type attTask struct{ span, g, phase, phases int }

// attendTask runs one attTask with worker w's score buffer.
func (m *Model) attendTask(s *scratch, li int, t *attTask, w int) {
	hd, kvDim, d := m.hd, m.kvDim, m.cfg.Dim
	gs := m.cfg.Heads / m.cfg.KVHeads
	sp := &s.spans[t.span]
	k := sp.c.k[li][t.g*hd:]
	v := sp.c.v[li][t.g*hd:]
	scale := 1 / math.Sqrt(float64(hd))
	s.scores[w] = grow(s.scores[w], gs*(sp.start+sp.n))
	for i := t.phase; i < sp.n; i += t.phases {
		r := sp.row0 + i
		valid := sp.start + i + 1
		sc := s.scores[w][:gs*valid]
		// Scores of the group's gs query heads (rows of Q with stride hd)
		// against the valid keys.
		q := s.qkv[r*m.qkvDim+t.g*gs*hd : r*m.qkvDim+(t.g+1)*gs*hd]
		gemmNT(gs, valid, hd, q, hd, k, kvDim, sc, valid, false)
		for h := 0; h < gs; h++ {
			softmaxScaled(sc[h*valid:(h+1)*valid], scale)
		}
		out := s.att[r*d+t.g*gs*hd : r*d+(t.g+1)*gs*hd]
		h := 0
		for ; h+2 <= gs; h += 2 {
			probsTimesV2(sc[h*valid:(h+1)*valid], sc[(h+1)*valid:(h+2)*valid], v, kvDim,
				out[h*hd:(h+1)*hd], out[(h+1)*hd:(h+2)*hd])
		}
		if h < gs {
			probsTimesV(sc[h*valid:(h+1)*valid], v, kvDim, out[h*hd:(h+1)*hd])
		}
	}
}

// softmaxScaled replaces x by softmax(x·scale).
func softmaxScaled(x []float64, scale float64) {
	mx := math.Inf(-1)
	for j, v := range x {
		v *= scale
		x[j] = v
		if v > mx { // not the builtin max: its NaN/±0 handling costs a branch chain
			mx = v
		}
	}
	inv := 1 / expSubSum(x, mx)
	for j := range x {
		x[j] *= inv
	}
}

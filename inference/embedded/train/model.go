package train

import (
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// attnBlock is the row block of causal attention: a block of query rows
// [r0, r1) is multiplied only with key rows [0, r1), which skips most of
// the masked upper triangle.
const attnBlock = 64

// impl is gonum's pure-Go BLAS; every weight matmul of a micro-batch is one
// gemm call, which runs gonum's Dgemm kernels.
var impl = blas64.Implementation()

// gemmBlock is the tile size of gemm, gonum's own block size.
const gemmBlock = 64

// gonumParallel makes gemm call gonum's Dgemm whole, letting it spread a
// product over GOMAXPROCS goroutines (one per 64×64 block of C). Off (the
// default), gemm runs the same blocked algorithm on the calling goroutine
// and the trainer's parallelism comes from its shard workers alone, which
// keep every core busy with coarse work instead of a goroutine per block.
// On 16 cores the two run a training step at the same speed
// (BenchmarkTrainStepAllTargets: 49 vs 48 GFLOP/s with GONUM_PARALLEL=1).
var gonumParallel = false

// useGemmNT makes gemm run llama.GemmNT, inference's AVX2/FMA kernel, where
// it is fast (llama.FastGemmNT); false runs gonum's Dgemm, which
// BenchmarkTrainStep compares it with (GEMM_GONUM=1).
var useGemmNT = llama.FastGemmNT()

// gemm is C = alpha·op(A)·op(B) + beta·C with Dgemm's arguments (A, B, C
// row-major; op transposes when the flag is blas.Trans; beta is 0 or 1).
// Every product of the trainer goes through it, on the calling goroutine,
// so the result is the same whatever GOMAXPROCS is.
//
// With useGemmNT, the operands are brought to A·Bᵀ form (op(A) as [m][k],
// op(B) as [n][k], transposed into pooled scratch where needed, k padded
// with zeros to a multiple of 4) and multiplied by llama.GemmNT: the
// copies cost O(k·(m+n)) against the product's O(m·n·k).
func gemm(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	if !useGemmNT || gonumParallel || (beta != 0 && beta != 1) {
		gemmGonum(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	kp := (k + 3) &^ 3
	as, asl, aBuf := ntOperand(tA == blas.NoTrans, m, k, kp, a, lda)
	bs, bsl, bBuf := ntOperand(tB == blas.Trans, n, k, kp, b, ldb)
	if alpha == 1 {
		llama.GemmNT(m, n, kp, as, asl, bs, bsl, c, ldc, beta == 1)
	} else {
		tBuf := scratch(m * n)
		t := *tBuf
		llama.GemmNT(m, n, kp, as, asl, bs, bsl, t, n, false)
		for i := range m {
			ci, ti := c[i*ldc:i*ldc+n], t[i*n:i*n+n]
			if beta == 0 {
				for j, v := range ti {
					ci[j] = alpha * v
				}
			} else {
				for j, v := range ti {
					ci[j] += alpha * v
				}
			}
		}
		scratchPool.Put(tBuf)
	}
	if aBuf != nil {
		scratchPool.Put(aBuf)
	}
	if bBuf != nil {
		scratchPool.Put(bBuf)
	}
}

// ntOperand returns an operand of gemm as rows [rows][kp] for GemmNT:
// x itself (row stride ld) when rowMajor (x is [rows][k]) and k needs no
// padding, else a pooled copy (x transposed when !rowMajor: x is
// [k][rows]) with kp-k zero columns, and the buffer to put back.
func ntOperand(rowMajor bool, rows, k, kp int, x []float64, ld int) ([]float64, int, *[]float64) {
	if rowMajor && kp == k {
		return x, ld, nil
	}
	buf := scratch(rows * kp)
	out := *buf
	if rowMajor {
		for i := range rows {
			copy(out[i*kp:i*kp+k], x[i*ld:i*ld+k])
			clear(out[i*kp+k : (i+1)*kp])
		}
		return out, kp, buf
	}
	for i := range rows {
		clear(out[i*kp+k : (i+1)*kp])
	}
	// Transposed in 16×16 tiles, so that the strided writes of a tile
	// stay in a few cache lines (a row-by-row transpose was a third of a
	// training step).
	const tile = 16
	for l0 := 0; l0 < k; l0 += tile {
		l1 := min(l0+tile, k)
		for i0 := 0; i0 < rows; i0 += tile {
			i1 := min(i0+tile, rows)
			for l := l0; l < l1; l++ {
				xl := x[l*ld+i0 : l*ld+i1]
				for i, v := range xl {
					out[(i0+i)*kp+l] = v
				}
			}
		}
	}
	return out, kp, buf
}

// scratchPool holds gemm's operand copies between calls.
var scratchPool sync.Pool

// scratch returns a pooled slice of at least n float64s (contents
// undefined), resliced to n.
func scratch(n int) *[]float64 {
	if p, ok := scratchPool.Get().(*[]float64); ok && cap(*p) >= n {
		*p = (*p)[:n]
		return p
	}
	s := make([]float64, n)
	return &s
}

// gemmGonum is gemm by gonum's Dgemm: in 64×64 tiles of C, each summed
// over 64-long stretches of k in order, as gonum's parallel Dgemm does but
// on the calling goroutine (every call gonum sees is below its parallel
// threshold), or whole with gonumParallel.
func gemmGonum(tA, tB blas.Transpose, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	if gonumParallel {
		impl.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	for i := 0; i < m; i += gemmBlock {
		mi := min(gemmBlock, m-i)
		for j := 0; j < n; j += gemmBlock {
			nj := min(gemmBlock, n-j)
			cs := c[i*ldc+j:]
			if k == 0 {
				impl.Dgemm(tA, tB, mi, nj, 0, alpha, a, lda, b, ldb, beta, cs, ldc)
				continue
			}
			bt := beta
			for l := 0; l < k; l += gemmBlock {
				kl := min(gemmBlock, k-l)
				var as, bs []float64
				if tA == blas.NoTrans {
					as = a[i*lda+l:] // rows i.., columns l..
				} else {
					as = a[l*lda+i:] // A is [k][m]: rows l.., columns i..
				}
				if tB == blas.NoTrans {
					bs = b[l*ldb+j:] // B is [k][n]
				} else {
					bs = b[j*ldb+l:] // B is [n][k]
				}
				impl.Dgemm(tA, tB, mi, nj, kl, alpha, as, lda, bs, ldb, bt, cs, ldc)
				bt = 1
			}
		}
	}
}

const (
	noT = blas.NoTrans
	tr  = blas.Trans
)

// Example is one tokenized training sequence: Tokens (token ids, BOS first)
// whose loss covers only the targets Tokens[PromptLen:], i.e. the response
// tokens including the final EOS. The model reads Tokens[:len-1] and
// predicts Tokens[1:], so a sequence occupies len(Tokens)-1 positions.
type Example struct {
	Tokens    []int
	PromptLen int // tokens of the prompt part (BOS + prompt), ≥ 1
}

// positions is the number of input positions the example occupies.
func (e Example) positions() int { return len(e.Tokens) - 1 }

// targets is the number of target tokens its loss covers.
func (e Example) targets() int { return len(e.Tokens) - max(e.PromptLen, 1) }

// validate checks that ex fits cfg: at least one target, ids in range,
// at most ContextLen positions.
func (e Example) validate(cfg llama.Config) error {
	if len(e.Tokens) < 2 || e.PromptLen < 1 || e.PromptLen >= len(e.Tokens) {
		return fmt.Errorf("train: example of %d tokens with prompt length %d has no target token", len(e.Tokens), e.PromptLen)
	}
	if e.positions() > cfg.ContextLen {
		return fmt.Errorf("train: example of %d tokens exceeds the context of %d positions", len(e.Tokens), cfg.ContextLen)
	}
	for _, t := range e.Tokens {
		if t < 0 || t >= cfg.VocabSize {
			return fmt.Errorf("train: token id %d outside the vocabulary of %d", t, cfg.VocabSize)
		}
	}
	return nil
}

// model holds what the forward and backward passes share and never change:
// the config, derived sizes and the RoPE tables.
type model struct {
	cfg      llama.Config
	d, f, v  int // Dim, FFNDim, VocabSize
	hd       int // head dim
	hq, hkv  int // Heads·hd, KVHeads·hd
	group    int // query heads per kv head
	cos, sin []float64
}

func newModel(cfg llama.Config) *model {
	m := &model{cfg: cfg, d: cfg.Dim, f: cfg.FFNDim, v: cfg.VocabSize, hd: cfg.HeadDim()}
	m.hq, m.hkv = cfg.Heads*m.hd, cfg.KVHeads*m.hd
	m.group = cfg.Heads / cfg.KVHeads
	half := m.hd / 2
	m.cos = make([]float64, cfg.ContextLen*half)
	m.sin = make([]float64, cfg.ContextLen*half)
	for i := range half {
		freq := math.Pow(cfg.RopeTheta, -2*float64(i)/float64(m.hd))
		for p := range cfg.ContextLen {
			s, c := math.Sincos(float64(p) * freq)
			m.cos[p*half+i], m.sin[p*half+i] = c, s
		}
	}
	return m
}

// workspace is one worker's activations for a micro-batch (a shard): what
// the forward pass saves for the backward pass, and the backward scratch.
// Buffers grow on demand and are reused across shards.
type workspace struct {
	m *model
	// The micro-batch: sequences, their row offsets, attention-probability
	// offsets and the rows whose next token is a target.
	seqs    []Example
	off     []int // row offset of each sequence; len(seqs)+1
	poff    []int // offset of each sequence's Heads·L² probabilities
	rows    []int // rows with a counted target
	targets []int // the target token of each counted row
	tokens  []int // input token of each row
	T       int   // rows (positions)

	x                []float64 // (Layers+1)·T·d residual stream at each layer input, then the final one
	a, b, xm         []float64 // Layers·T·d: attention-norm out, ffn-norm out, mid residual
	r1, r2           []float64 // Layers·T inverse RMS
	q, o             []float64 // Layers·T·hq
	k, vv            []float64 // Layers·T·hkv
	g, u, hh         []float64 // Layers·T·f
	p                []float64 // Layers·Heads·ΣL²
	z, rf, logits    []float64 // counted rows: final norm out, inverse RMS, logits
	dx, da           []float64 // T·d
	dq, do           []float64 // T·hq
	dk, dv           []float64 // T·hkv
	dh, du           []float64 // T·f
	dp               []float64 // Lmax²
	dz               []float64 // counted·d
	pLen, counted, L int       // Heads·ΣL² per layer; counted rows; longest sequence
	lastLoss         float64   // the summed loss of the last forward call, for the shard reducer
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// setBatch lays out seqs as one micro-batch and sizes the buffers.
func (ws *workspace) setBatch(seqs []Example) {
	m := ws.m
	ws.seqs = seqs
	ws.off = ws.off[:0]
	ws.poff = ws.poff[:0]
	ws.rows, ws.targets, ws.tokens = ws.rows[:0], ws.targets[:0], ws.tokens[:0]
	T, P, L := 0, 0, 0
	for _, e := range seqs {
		n := e.positions()
		ws.off = append(ws.off, T)
		ws.poff = append(ws.poff, P)
		ws.tokens = append(ws.tokens, e.Tokens[:n]...)
		for t := range n {
			if t+1 >= e.PromptLen {
				ws.rows = append(ws.rows, T+t)
				ws.targets = append(ws.targets, e.Tokens[t+1])
			}
		}
		T += n
		P += m.cfg.Heads * n * n
		L = max(L, n)
	}
	ws.off = append(ws.off, T)
	ws.T, ws.pLen, ws.L, ws.counted = T, P, L, len(ws.rows)
	nl := m.cfg.Layers
	ws.x = grow(ws.x, (nl+1)*T*m.d)
	ws.a = grow(ws.a, nl*T*m.d)
	ws.b = grow(ws.b, nl*T*m.d)
	ws.xm = grow(ws.xm, nl*T*m.d)
	ws.r1 = grow(ws.r1, nl*T)
	ws.r2 = grow(ws.r2, nl*T)
	ws.q = grow(ws.q, nl*T*m.hq)
	ws.o = grow(ws.o, nl*T*m.hq)
	ws.k = grow(ws.k, nl*T*m.hkv)
	ws.vv = grow(ws.vv, nl*T*m.hkv)
	ws.g = grow(ws.g, nl*T*m.f)
	ws.u = grow(ws.u, nl*T*m.f)
	ws.hh = grow(ws.hh, nl*T*m.f)
	ws.p = grow(ws.p, nl*P)
	c := ws.counted
	ws.z = grow(ws.z, c*m.d)
	ws.rf = grow(ws.rf, c)
	ws.logits = grow(ws.logits, c*m.v)
}

// growBackward sizes the backward scratch.
func (ws *workspace) growBackward() {
	m, T := ws.m, ws.T
	ws.dx = grow(ws.dx, T*m.d)
	ws.da = grow(ws.da, T*m.d)
	ws.dq = grow(ws.dq, T*m.hq)
	ws.do = grow(ws.do, T*m.hq)
	ws.dk = grow(ws.dk, T*m.hkv)
	ws.dv = grow(ws.dv, T*m.hkv)
	ws.dh = grow(ws.dh, T*m.f)
	ws.du = grow(ws.du, T*m.f)
	ws.dp = grow(ws.dp, ws.L*ws.L)
	ws.dz = grow(ws.dz, ws.counted*m.d)
}

// rmsNorm writes y[i] = x[i]·r·gain for each of n rows of width d, with
// r = 1/sqrt(mean(x²)+eps) stored in r[i].
func rmsNorm(y, r, x, gain []float64, n, d int, eps float64) {
	for i := range n {
		xi, yi := x[i*d:(i+1)*d], y[i*d:(i+1)*d]
		var ss float64
		for _, v := range xi {
			ss += v * v
		}
		ri := 1 / math.Sqrt(ss/float64(d)+eps)
		r[i] = ri
		for j, v := range xi {
			yi[j] = v * ri * gain[j]
		}
	}
}

// rmsNormBackRow adds to dx the gradient through one row of RMSNorm, given
// dy, the input x, its inverse RMS r and the gain; and adds the gain's
// gradient to dgain.
//
//	y = x·r·g, r = (mean(x²)+eps)^(−1/2)
//	dx = r·(dy⊙g) − x·r³·Σ(dy⊙g⊙x)/d
func rmsNormBackRow(dx, dy, x []float64, r float64, gain, dgain []float64) {
	d := len(x)
	var dot float64
	for j, v := range x {
		gy := dy[j] * gain[j]
		dot += gy * v
		dgain[j] += dy[j] * v * r
	}
	c := r * r * r * dot / float64(d)
	for j, v := range x {
		dx[j] += r*dy[j]*gain[j] - c*v
	}
}

// rope rotates adjacent pairs of every head of rows [off, off+n) of x
// (width w) at positions 0..n-1; inverse applies the transposed rotation
// (the backward pass).
func (m *model) rope(x []float64, w, off, n int, inverse bool) {
	half := m.hd / 2
	for t := range n {
		row := x[(off+t)*w : (off+t+1)*w]
		cs, sn := m.cos[t*half:(t+1)*half], m.sin[t*half:(t+1)*half]
		for h := 0; h < w; h += m.hd {
			for i := range half {
				a, b := row[h+2*i], row[h+2*i+1]
				c, s := cs[i], sn[i]
				if inverse {
					s = -s
				}
				row[h+2*i] = a*c - b*s
				row[h+2*i+1] = a*s + b*c
			}
		}
	}
}

func silu(x float64) float64 { return x / (1 + math.Exp(-x)) }

// forward runs the micro-batch set by setBatch through w, saving
// activations, and returns the summed cross-entropy (nats) over the counted
// targets and leaves their logits in ws.logits.
// layerActs are one layer's saved activations, each [T][width] within
// the workspace's per-layer arrays: forward writes them, backward reads.
type layerActs struct {
	x, a, q, k, v, o, p, xm, b, g, u, hh []float64
}

// layer returns layer l's slices of the workspace.
func (ws *workspace) layer(l int) layerActs {
	T, d, hq, hkv, f := ws.T, ws.m.d, ws.m.hq, ws.m.hkv, ws.m.f
	return layerActs{
		x: ws.x[l*T*d : (l+1)*T*d], a: ws.a[l*T*d : (l+1)*T*d],
		q: ws.q[l*T*hq : (l+1)*T*hq], k: ws.k[l*T*hkv : (l+1)*T*hkv], v: ws.vv[l*T*hkv : (l+1)*T*hkv],
		o: ws.o[l*T*hq : (l+1)*T*hq], p: ws.p[l*ws.pLen : (l+1)*ws.pLen],
		xm: ws.xm[l*T*d : (l+1)*T*d], b: ws.b[l*T*d : (l+1)*T*d],
		g: ws.g[l*T*f : (l+1)*T*f], u: ws.u[l*T*f : (l+1)*T*f], hh: ws.hh[l*T*f : (l+1)*T*f],
	}
}

func (ws *workspace) forward(w *llama.Weights) float64 {
	m, T := ws.m, ws.T
	d, hq, hkv, f := m.d, m.hq, m.hkv, m.f
	cfg := m.cfg
	x0 := ws.x[:T*d]
	for i, tok := range ws.tokens {
		copy(x0[i*d:(i+1)*d], w.TokenEmbed[tok*d:(tok+1)*d])
	}
	scale := 1 / math.Sqrt(float64(m.hd))
	for l := range cfg.Layers {
		ly := &w.Layers[l]
		la := ws.layer(l)
		x, a, q, k, v, o, p, xm, b, g, u, hh := la.x, la.a, la.q, la.k, la.v, la.o, la.p, la.xm, la.b, la.g, la.u, la.hh
		xn := ws.x[(l+1)*T*d : (l+2)*T*d]

		rmsNorm(a, ws.r1[l*T:(l+1)*T], x, ly.AttnNorm, T, d, cfg.NormEps)
		gemm(noT, tr, T, hq, d, 1, a, d, ly.Wq, d, 0, q, hq)
		gemm(noT, tr, T, hkv, d, 1, a, d, ly.Wk, d, 0, k, hkv)
		gemm(noT, tr, T, hkv, d, 1, a, d, ly.Wv, d, 0, v, hkv)
		for s := range ws.seqs {
			off, n := ws.off[s], ws.off[s+1]-ws.off[s]
			m.rope(q, hq, off, n, false)
			m.rope(k, hkv, off, n, false)
			for h := range cfg.Heads {
				kv := h / m.group
				ps := p[ws.poff[s]+h*n*n : ws.poff[s]+(h+1)*n*n]
				qh := q[off*hq+h*m.hd:]
				kh := k[off*hkv+kv*m.hd:]
				vh := v[off*hkv+kv*m.hd:]
				// Causal: row block [r0, r1) needs only key columns [0, r1).
				for r0 := 0; r0 < n; r0 += attnBlock {
					r1 := min(n, r0+attnBlock)
					gemm(noT, tr, r1-r0, r1, m.hd, scale, qh[r0*hq:], hq, kh, hkv, 0, ps[r0*n:], n)
				}
				for i := range n {
					row := ps[i*n : (i+1)*n]
					mx := row[0]
					for _, s := range row[1 : i+1] {
						mx = max(mx, s)
					}
					var sum float64
					for j := 0; j <= i; j++ {
						e := math.Exp(row[j] - mx)
						row[j] = e
						sum += e
					}
					inv := 1 / sum
					for j := 0; j <= i; j++ {
						row[j] *= inv
					}
					clear(row[i+1:])
				}
				oh := o[off*hq+h*m.hd:]
				for r0 := 0; r0 < n; r0 += attnBlock {
					r1 := min(n, r0+attnBlock)
					gemm(noT, noT, r1-r0, m.hd, r1, 1, ps[r0*n:], n, vh, hkv, 0, oh[r0*hq:], hq)
				}
			}
		}
		copy(xm, x)
		gemm(noT, tr, T, d, hq, 1, o, hq, ly.Wo, hq, 1, xm, d)
		rmsNorm(b, ws.r2[l*T:(l+1)*T], xm, ly.FFNNorm, T, d, cfg.NormEps)
		gemm(noT, tr, T, f, d, 1, b, d, ly.WGate, d, 0, g, f)
		gemm(noT, tr, T, f, d, 1, b, d, ly.WUp, d, 0, u, f)
		for i, gi := range g {
			hh[i] = silu(gi) * u[i]
		}
		copy(xn, xm)
		gemm(noT, tr, T, d, f, 1, hh, f, ly.WDown, f, 1, xn, d)
	}
	// Final norm and logits only for rows whose next token is a target.
	xl := ws.x[cfg.Layers*T*d : (cfg.Layers+1)*T*d]
	c := ws.counted
	if c == 0 {
		return 0
	}
	for i, row := range ws.rows {
		rmsNorm(ws.z[i*d:(i+1)*d], ws.rf[i:i+1], xl[row*d:(row+1)*d], w.OutputNorm, 1, d, cfg.NormEps)
	}
	gemm(noT, tr, c, m.v, d, 1, ws.z, d, w.OutputMatrix(), d, 0, ws.logits, m.v)
	var loss float64
	for i, tgt := range ws.targets {
		row := ws.logits[i*m.v : (i+1)*m.v]
		mx := row[0]
		for _, s := range row[1:] {
			mx = max(mx, s)
		}
		var sum float64
		for _, s := range row {
			sum += math.Exp(s - mx)
		}
		loss += mx + math.Log(sum) - row[tgt]
	}
	return loss
}

// backward adds to grad the gradient of scale·(summed loss) with respect to
// every weight, for the micro-batch of the last forward call. ws.logits is
// overwritten.
func (ws *workspace) backward(w, grad *llama.Weights, scale float64) {
	m, T := ws.m, ws.T
	d, hq, hkv, f, hd := m.d, m.hq, m.hkv, m.f, m.hd
	cfg := m.cfg
	ws.growBackward()
	c := ws.counted
	dx := ws.dx
	clear(dx)
	if c > 0 {
		// dlogits = scale·(softmax − onehot), in place.
		for i, tgt := range ws.targets {
			row := ws.logits[i*m.v : (i+1)*m.v]
			mx := row[0]
			for _, s := range row[1:] {
				mx = max(mx, s)
			}
			var sum float64
			for j, s := range row {
				e := math.Exp(s - mx)
				row[j] = e
				sum += e
			}
			inv := scale / sum
			for j := range row {
				row[j] *= inv
			}
			row[tgt] -= scale
		}
		gOut := grad.Output
		if cfg.TiedEmbeddings {
			gOut = grad.TokenEmbed
		}
		gemm(tr, noT, m.v, d, c, 1, ws.logits, m.v, ws.z, d, 1, gOut, d)
		gemm(noT, noT, c, d, m.v, 1, ws.logits, m.v, w.OutputMatrix(), d, 0, ws.dz, d)
		xl := ws.x[cfg.Layers*T*d : (cfg.Layers+1)*T*d]
		for i, row := range ws.rows {
			rmsNormBackRow(dx[row*d:(row+1)*d], ws.dz[i*d:(i+1)*d], xl[row*d:(row+1)*d], ws.rf[i], w.OutputNorm, grad.OutputNorm)
		}
	}
	scl := 1 / math.Sqrt(float64(hd))
	for l := cfg.Layers - 1; l >= 0; l-- {
		ly, gl := &w.Layers[l], &grad.Layers[l]
		la := ws.layer(l)
		x, a, q, k, v, o, p, xm, b, g, u, hh := la.x, la.a, la.q, la.k, la.v, la.o, la.p, la.xm, la.b, la.g, la.u, la.hh
		r1, r2 := ws.r1[l*T:(l+1)*T], ws.r2[l*T:(l+1)*T]

		// FFN: xn = xm + WDown·(silu(g)⊙u).
		dh, du := ws.dh, ws.du
		gemm(noT, noT, T, f, d, 1, dx, d, ly.WDown, f, 0, dh, f)
		gemm(tr, noT, d, f, T, 1, dx, d, hh, f, 1, gl.WDown, f)
		for i, gi := range g {
			sg := 1 / (1 + math.Exp(-gi))
			du[i] = dh[i] * gi * sg
			dh[i] *= u[i] * sg * (1 + gi*(1-sg)) // becomes dg
		}
		gemm(tr, noT, f, d, T, 1, dh, f, b, d, 1, gl.WGate, d)
		gemm(tr, noT, f, d, T, 1, du, f, b, d, 1, gl.WUp, d)
		db := ws.da
		gemm(noT, noT, T, d, f, 1, dh, f, ly.WGate, d, 0, db, d)
		gemm(noT, noT, T, d, f, 1, du, f, ly.WUp, d, 1, db, d)
		for i := range T {
			rmsNormBackRow(dx[i*d:(i+1)*d], db[i*d:(i+1)*d], xm[i*d:(i+1)*d], r2[i], ly.FFNNorm, gl.FFNNorm)
		}

		// Attention: xm = x + Wo·attn.
		do := ws.do
		gemm(noT, noT, T, hq, d, 1, dx, d, ly.Wo, hq, 0, do, hq)
		gemm(tr, noT, d, hq, T, 1, dx, d, o, hq, 1, gl.Wo, hq)
		dq, dk, dv := ws.dq, ws.dk, ws.dv
		clear(dk)
		clear(dv)
		for s := range ws.seqs {
			off, n := ws.off[s], ws.off[s+1]-ws.off[s]
			dp := ws.dp[:n*n]
			for h := range cfg.Heads {
				kv := h / m.group
				ps := p[ws.poff[s]+h*n*n : ws.poff[s]+(h+1)*n*n]
				qh, dqh := q[off*hq+h*hd:], dq[off*hq+h*hd:]
				kh, dkh := k[off*hkv+kv*hd:], dk[off*hkv+kv*hd:]
				vh, dvh := v[off*hkv+kv*hd:], dv[off*hkv+kv*hd:]
				doh := do[off*hq+h*hd:]
				for r0 := 0; r0 < n; r0 += attnBlock {
					r1 := min(n, r0+attnBlock)
					rows := r1 - r0
					gemm(noT, tr, rows, r1, hd, 1, doh[r0*hq:], hq, vh, hkv, 0, dp[r0*n:], n)
					gemm(tr, noT, r1, hd, rows, 1, ps[r0*n:], n, doh[r0*hq:], hq, 1, dvh, hkv)
					for i := r0; i < r1; i++ {
						// dS = P ⊙ (dP − rowsum(P ⊙ dP))
						pr, dr := ps[i*n:i*n+i+1], dp[i*n:i*n+r1]
						var dot float64
						for j, pv := range pr {
							dot += pv * dr[j]
						}
						for j, pv := range pr {
							dr[j] = pv * (dr[j] - dot)
						}
						clear(dr[i+1:])
					}
					gemm(noT, noT, rows, hd, r1, scl, dp[r0*n:], n, kh, hkv, 0, dqh[r0*hq:], hq)
					gemm(tr, noT, r1, hd, rows, scl, dp[r0*n:], n, qh[r0*hq:], hq, 1, dkh, hkv)
				}
			}
			m.rope(dq, hq, off, n, true)
			m.rope(dk, hkv, off, n, true)
		}
		gemm(tr, noT, hq, d, T, 1, dq, hq, a, d, 1, gl.Wq, d)
		gemm(tr, noT, hkv, d, T, 1, dk, hkv, a, d, 1, gl.Wk, d)
		gemm(tr, noT, hkv, d, T, 1, dv, hkv, a, d, 1, gl.Wv, d)
		da := ws.da
		gemm(noT, noT, T, d, hq, 1, dq, hq, ly.Wq, d, 0, da, d)
		gemm(noT, noT, T, d, hkv, 1, dk, hkv, ly.Wk, d, 1, da, d)
		gemm(noT, noT, T, d, hkv, 1, dv, hkv, ly.Wv, d, 1, da, d)
		for i := range T {
			rmsNormBackRow(dx[i*d:(i+1)*d], da[i*d:(i+1)*d], x[i*d:(i+1)*d], r1[i], ly.AttnNorm, gl.AttnNorm)
		}
	}
	for i, tok := range ws.tokens {
		ge := grad.TokenEmbed[tok*d : (tok+1)*d]
		for j, v := range dx[i*d : (i+1)*d] {
			ge[j] += v
		}
	}
}

// Logits runs the training forward pass over one sequence of token ids
// (positions 0..len-1, at most ContextLen) and returns its logits,
// [len(tokens)][VocabSize] row-major. It is the reference the inference
// forward pass is tested against. It returns an error for invalid weights,
// an empty or too long sequence, or a token id out of range.
func Logits(w *llama.Weights, tokens []int) ([]float64, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}
	// A dummy final token makes every position a counted row.
	ex := Example{Tokens: append(append([]int(nil), tokens...), 0), PromptLen: 1}
	if len(tokens) == 0 {
		return nil, fmt.Errorf("train: no tokens")
	}
	if err := ex.validate(w.Config); err != nil {
		return nil, err
	}
	ws := &workspace{m: newModel(w.Config)}
	ws.setBatch([]Example{ex})
	ws.forward(w)
	return append([]float64(nil), ws.logits...), nil
}

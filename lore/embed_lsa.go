package lore

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"

	"github.com/hearth-ai/hearth/internal/store"
)

// LSAConfig configures the training of the built-in LSA embedder (latent
// semantic analysis: Deerwester, Dumais, Furnas, Landauer and Harshman,
// "Indexing by latent semantic analysis", JASIS 41(6), 1990). The zero value
// means the defaults below, chosen by measurement on the SRD query set
// (lore/testdata/eval/srd.yaml, 65 queries; `hearth lore-eval`), as
// recall@5 of vector search / hybrid search, each step keeping the last:
//
//	256 latent dims, tf-idf, no title weight, no passages    0.538 / 0.754
//	title weight 3 (6: +0.015 hybrid)                        0.708 / 0.815
//	512 latent dims instead (training 4× slower)             0.815 / 0.862
//	SigmaExp −0.5 (384 dims; 0.5: 0.677 / 0.754)             0.800 / 0.846
//	+128 random-indexing dims, 256 latent                    0.800 / 0.877
//	+passages (multi-vector rows), MinDF 1                   0.846 / 0.892
//	passages of 200 bytes, heading as plain context          0.892 / 0.892
//	fusion depth 10 instead of 50 (DefaultFusionDepth)       0.892 / 0.908
//
// against BM25 alone at 0.877. Fewer dimensions lose quality (192+64:
// 0.800 / 0.846; 256+64: 0.862 / 0.892).
type LSAConfig struct {
	// Dim is the number of latent dimensions (embedding length). Default
	// DefaultLSADim.
	Dim int
	// Seed seeds the random test matrix of the randomized SVD; the same
	// corpus, config and seed give the same model, bit for bit.
	Seed uint64
	// MinDF drops terms found in fewer chunks than this from the
	// vocabulary. Default 1: a word of one chunk has no latent neighbours,
	// but the random-indexing part (LexDim) still matches it exactly.
	MinDF int
	// PowerIters is the number of power (subspace) iterations of the
	// randomized SVD. Default 1; negative means none.
	PowerIters int
	// Oversample is how many extra random directions the randomized SVD
	// samples beyond Dim. Default 20.
	Oversample int
	// SigmaExp is the exponent α of the singular values in the term
	// projection U·Σ^α: 0 is the classic LSA document space, negative
	// values flatten the spectrum so that minor topics weigh more. The
	// zero value means DefaultLSASigmaExp; for α = 0 itself, pass a value
	// such as 1e-9.
	SigmaExp float64
	// TitleWeight is how many times a word of a text's title counts: a
	// text of the form "title\n\nbody" (as the library embeds a chunk:
	// its heading path, a blank line, its text) has its title's words
	// counted TitleWeight times. Default DefaultLSATitleWeight; a negative
	// value means 1 (no emphasis).
	TitleWeight float64
	// LexDim adds this many random-indexing dimensions (Kanerva,
	// Kristofersson and Holst 2000; Sahlgren 2005) to the latent ones:
	// each term gets a seeded random ±1 vector, so that the embedding also
	// keeps the exact words (names, rare terms) that the latent space
	// smooths away; the inner product of that part approximates the
	// TF-IDF cosine (Johnson–Lindenstrauss). Zero means the default; a
	// negative value means none.
	LexDim int
	// LexWeight scales the random-indexing part relative to the latent
	// part (1: the same mean energy per term). Default DefaultLSALexWeight.
	LexWeight float64
}

// DefaultLSALexDim and DefaultLSALexWeight are the defaults of
// LSAConfig.LexDim and LexWeight.
const (
	DefaultLSALexDim    = 128
	DefaultLSALexWeight = 1.0
)

// DefaultLSATitleWeight is the default LSAConfig.TitleWeight.
const DefaultLSATitleWeight = 6

// Defaults of LSAConfig, chosen on the SRD query set (see LSAConfig).
const (
	DefaultLSADim      = 256
	DefaultLSASigmaExp = -0.5
)

// key identifies a config after defaults.
func (c LSAConfig) key() string { return fmt.Sprintf("%+v", c.withDefaults()) }

func (c LSAConfig) withDefaults() LSAConfig {
	if c.Dim <= 0 {
		c.Dim = DefaultLSADim
	}
	if c.MinDF <= 0 {
		c.MinDF = 1
	}
	if c.PowerIters == 0 {
		c.PowerIters = 1
	} else if c.PowerIters < 0 {
		c.PowerIters = 0
	}
	if c.SigmaExp == 0 {
		c.SigmaExp = DefaultLSASigmaExp
	}
	if c.Oversample <= 0 {
		c.Oversample = 20
	}
	if c.LexDim == 0 {
		c.LexDim = DefaultLSALexDim
	} else if c.LexDim < 0 {
		c.LexDim = 0
	}
	if c.LexWeight <= 0 {
		c.LexWeight = DefaultLSALexWeight
	}
	if c.TitleWeight == 0 {
		c.TitleWeight = DefaultLSATitleWeight
	} else if c.TitleWeight < 0 {
		c.TitleWeight = 1
	}
	return c
}

// lsaVersion changes when the training or embedding arithmetic changes, so
// that cached embeddings of an older model are never reused.
const lsaVersion = 1

// LSA is the built-in embedder: a TF-IDF term space (sublinear tf,
// idf = ln(N/df)) projected onto the top singular vectors of the corpus's
// term-chunk matrix, computed with the randomized SVD of Halko, Martinsson
// and Tropp ("Finding structure with randomness", SIAM Review 53(2), 2011)
// on gonum's BLAS and LAPACK. A text's embedding is the L2-normalised sum,
// over its known terms, of (1+ln tf)·idf times the term's projection row;
// a text with no known term embeds to the zero vector. It needs no download
// and embeds thousands of chunks per second. It is safe for concurrent use.
type LSA struct {
	model string
	cfg   LSAConfig
	width int // embedding length: cfg.Dim latent + cfg.LexDim random-indexing dimensions
	// requested is the key of the config the model was trained for (before
	// Dim was capped by the corpus size), to tell whether a stored model
	// fits the config a library is opened with.
	requested string
	terms     map[string]int32
	vocab     []string  // by term id
	idf       []float32 // by term id
	proj      []float32 // len(vocab)×Dim, row-major
	corpus    []uint64  // sorted hashes of the training texts
}

// Dim returns the embedding length (latent plus random-indexing
// dimensions).
func (m *LSA) Dim() int { return m.width }

// Model returns the model's name: "hearth-lsa-v<version>-<dim>d-<fingerprint>",
// where the fingerprint hashes the config, seed and training corpus.
func (m *LSA) Model() string { return m.model }

// Terms returns the vocabulary size.
func (m *LSA) Terms() int { return len(m.vocab) }

// Embed embeds texts; it never fails except when ctx has ended.
func (m *LSA) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = m.embed(t, nil)
	}
	return out, nil
}

// embed writes the embedding of text into dst (allocated when nil).
func (m *LSA) embed(text string, dst []float32) []float32 {
	d := m.width
	if dst == nil {
		dst = make([]float32, d)
	} else {
		clear(dst)
	}
	for _, tc := range termCounts(text, m.cfg.TitleWeight) {
		if id, ok := m.terms[tc.term]; ok {
			w := (1 + float32(math.Log(tc.count))) * m.idf[id]
			row := m.proj[int(id)*d : int(id+1)*d]
			for k := range row {
				dst[k] += w * row[k]
			}
		}
	}
	normalize(dst)
	return dst
}

// TrainLSA trains an LSA model on texts (one per chunk; see embedText),
// deterministically for a given config and seed. It fails when the corpus
// has fewer than two texts or no term in at least MinDF of them.
func TrainLSA(ctx context.Context, texts []string, cfg LSAConfig) (*LSA, error) {
	cfg = cfg.withDefaults()
	requested := cfg
	n := len(texts)
	if n < 2 {
		return nil, fmt.Errorf("lore: train LSA: need at least 2 texts, got %d", n)
	}
	// Count terms per text and document frequencies.
	docs := make([][]termCount, n)
	df := map[string]int{}
	for j, t := range texts {
		if j%512 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		docs[j] = termCounts(t, cfg.TitleWeight)
		for _, x := range docs[j] {
			df[x.term]++
		}
	}
	vocab := make([]string, 0, len(df))
	for t, c := range df {
		if c >= cfg.MinDF && c < n { // a term in every text carries no signal
			vocab = append(vocab, t)
		}
	}
	slices.Sort(vocab)
	if len(vocab) == 0 {
		return nil, fmt.Errorf("lore: train LSA: no term occurs in at least %d of the %d texts", cfg.MinDF, n)
	}
	terms := make(map[string]int32, len(vocab))
	idf := make([]float32, len(vocab))
	for i, t := range vocab {
		terms[t] = int32(i)
		idf[i] = float32(math.Log(float64(n) / float64(df[t])))
	}
	// Sparse term-chunk matrix A (V×N) by column: unit-length TF-IDF columns.
	colT := make([][]int32, n)
	colW := make([][]float64, n)
	for j, d := range docs {
		var norm float64
		for _, x := range d {
			id, ok := terms[x.term]
			if !ok {
				continue
			}
			w := (1 + math.Log(x.count)) * float64(idf[id])
			colT[j] = append(colT[j], id)
			colW[j] = append(colW[j], w)
			norm += w * w
		}
		if norm > 0 {
			inv := 1 / math.Sqrt(norm)
			for i := range colW[j] {
				colW[j][i] *= inv
			}
		}
	}
	V := len(vocab)
	dim := min(cfg.Dim, V, n)
	l := min(dim+cfg.Oversample, V, n)

	// A·X for X (N×l) into Y (V×l); Aᵀ·Y for Y (V×l) into X (N×l).
	mulA := func(x, y blas64.General) {
		clear(y.Data)
		for j := range n {
			xr := x.Data[j*x.Stride : j*x.Stride+l]
			for i, t := range colT[j] {
				w := colW[j][i]
				yr := y.Data[int(t)*y.Stride : int(t)*y.Stride+l]
				for k := range yr {
					yr[k] += w * xr[k]
				}
			}
		}
	}
	mulAT := func(y, x blas64.General) {
		for j := range n {
			xr := x.Data[j*x.Stride : j*x.Stride+l]
			clear(xr)
			for i, t := range colT[j] {
				w := colW[j][i]
				yr := y.Data[int(t)*y.Stride : int(t)*y.Stride+l]
				for k := range xr {
					xr[k] += w * yr[k]
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x4c5341)) // "LSA"
	omega := blas64.General{Rows: n, Cols: l, Stride: l, Data: make([]float64, n*l)}
	for i := range omega.Data {
		omega.Data[i] = rng.NormFloat64()
	}
	y := blas64.General{Rows: V, Cols: l, Stride: l, Data: make([]float64, V*l)}
	mulA(omega, y)
	for range max(cfg.PowerIters, 0) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// One CholeskyQR step is enough between power iterations: they
		// need a well-conditioned basis, not an exactly orthonormal one.
		orthonormalize(y, false)
		mulAT(y, omega)
		orthonormalize(omega, false)
		mulA(omega, y)
	}
	orthonormalize(y, true) // Q: V×l with orthonormal columns spanning A's range
	mulAT(y, omega)         // Bᵀ = Aᵀ·Q: N×l
	// B·Bᵀ = (Bᵀ)ᵀ·Bᵀ = W·Λ·Wᵀ, so A ≈ Q·W·Λ^½·(…)ᵀ: U = Q·W, σ = √λ.
	c := blas64.General{Rows: l, Cols: l, Stride: l, Data: make([]float64, l*l)}
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, omega, omega, 0, c)
	lam := make([]float64, l)
	sym := blas64.Symmetric{N: l, Stride: l, Uplo: blas.Upper, Data: c.Data}
	work := make([]float64, 1)
	lapack64.Syev(lapack.EVCompute, sym, lam, work, -1)
	work = make([]float64, int(work[0]))
	if !lapack64.Syev(lapack.EVCompute, sym, lam, work, len(work)) {
		return nil, errors.New("lore: train LSA: eigendecomposition did not converge")
	}
	// Eigenvalues ascend: the top dim are the last columns of c.
	u := blas64.General{Rows: V, Cols: l, Stride: l, Data: make([]float64, V*l)}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, y, blas64.General{Rows: l, Cols: l, Stride: l, Data: c.Data}, 0, u)
	width := dim + cfg.LexDim
	proj := make([]float32, V*width)
	var latentEnergy float64
	for k := range dim {
		col := l - 1 - k
		s := 1.0
		if cfg.SigmaExp != 0 {
			s = math.Pow(math.Sqrt(max(lam[col], 0)), cfg.SigmaExp)
		}
		// Fix the sign so that the largest-magnitude entry is positive:
		// eigenvectors are only defined up to sign.
		var big float64
		for t := range V {
			if v := u.Data[t*l+col]; math.Abs(v) > math.Abs(big) {
				big = v
			}
		}
		if big < 0 {
			s = -s
		}
		for t := range V {
			x := u.Data[t*l+col] * s
			proj[t*width+k] = float32(x)
			latentEnergy += x * x
		}
	}
	if cfg.LexDim > 0 {
		// ±a entries with a² = LexWeight²·(mean latent energy per term)/LexDim.
		a := float32(cfg.LexWeight * math.Sqrt(latentEnergy/float64(V)/float64(cfg.LexDim)))
		lr := rand.New(rand.NewPCG(cfg.Seed, 0x4c4558)) // "LEX"
		for t := range V {
			row := proj[t*width+dim : (t+1)*width]
			for k := range row {
				if lr.Uint64()&1 == 0 {
					row[k] = a
				} else {
					row[k] = -a
				}
			}
		}
	}
	cfg.Dim = dim
	corpus := make([]uint64, n)
	for i, t := range texts {
		corpus[i] = textHash64(t)
	}
	slices.Sort(corpus)
	m := &LSA{cfg: cfg, requested: requested.key(), width: width, terms: terms, vocab: vocab, idf: idf, proj: proj, corpus: corpus}
	m.model = lsaName(cfg, corpus)
	return m, nil
}

func lsaName(cfg LSAConfig, corpus []uint64) string {
	h := sha256.New()
	fmt.Fprintf(h, "%d|%d|%d|%d|%d|%d|%g|%g|%d|%g|", lsaVersion, cfg.Dim, cfg.Seed, cfg.MinDF, cfg.PowerIters, cfg.Oversample,
		cfg.SigmaExp, cfg.TitleWeight, cfg.LexDim, cfg.LexWeight)
	var b [8]byte
	for _, c := range corpus {
		binary.LittleEndian.PutUint64(b[:], c)
		h.Write(b[:])
	}
	return fmt.Sprintf("hearth-lsa-v%d-%dd-%x", lsaVersion, cfg.Dim+cfg.LexDim, h.Sum(nil)[:6])
}

// orthonormalize replaces the columns of a (m×n, m >= n) by an orthonormal
// basis of their span. It uses CholeskyQR2 (Fukaya, Nakatsukasa, Yanagisawa
// and Yamamoto, 2014): G = AᵀA = RᵀR, A ← A·R⁻¹, twice, which is all GEMM
// and several times faster than Householder QR here; when the Cholesky
// factorisation fails (A too ill-conditioned), it falls back to LAPACK's
// Householder QR (Geqrf, Orgqr).
//
// With exact false it does one CholeskyQR step, which leaves the columns
// well conditioned but only nearly orthonormal.
func orthonormalize(a blas64.General, exact bool) {
	if cholQR(a) && (!exact || cholQR(a)) {
		return
	}
	tau := make([]float64, min(a.Rows, a.Cols))
	work := make([]float64, 1)
	lapack64.Geqrf(a, tau, work, -1)
	lapack64.Orgqr(a, tau, work[:1], -1)
	work = make([]float64, max(int(work[0]), a.Cols, a.Rows))
	lapack64.Geqrf(a, tau, work, len(work))
	lapack64.Orgqr(a, tau, work, len(work))
}

// cholQR is one CholeskyQR step; false when the Gram matrix is not
// numerically positive definite (a is left unusable for the next step
// only in that it has not been changed).
func cholQR(a blas64.General) bool {
	n := a.Cols
	// G = AᵀA with GEMM (gonum's Syrk and Trsm are unblocked and much slower).
	g := blas64.General{Rows: n, Cols: n, Stride: n, Data: make([]float64, n*n)}
	blas64.Gemm(blas.Trans, blas.NoTrans, 1, a, a, 0, g)
	r, ok := lapack64.Potrf(blas64.Symmetric{N: n, Stride: n, Uplo: blas.Upper, Data: g.Data})
	if !ok {
		return false
	}
	for i := range n {
		if d := r.Data[i*r.Stride+i]; d <= 1e-10*r.Data[0] || math.IsNaN(d) {
			return false
		}
	}
	if !lapack64.Trtri(r) { // R⁻¹, in place
		return false
	}
	for i := range n { // clear the strict lower triangle left by Potrf
		clear(r.Data[i*n : i*n+i])
	}
	out := blas64.General{Rows: a.Rows, Cols: n, Stride: n, Data: make([]float64, a.Rows*n)}
	blas64.Gemm(blas.NoTrans, blas.NoTrans, 1, a, blas64.General{Rows: n, Cols: n, Stride: n, Data: r.Data}, 0, out)
	for i := range a.Rows {
		copy(a.Data[i*a.Stride:i*a.Stride+n], out.Data[i*n:(i+1)*n])
	}
	return true
}

// changed returns the share of the texts that differ between the model's
// training corpus and current (hashes per textHash64): (added + removed) /
// max(|trained|, |current|).
func (m *LSA) changed(current []uint64) float64 {
	cur := slices.Clone(current)
	slices.Sort(cur)
	i, j, diff := 0, 0, 0
	for i < len(m.corpus) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(m.corpus) && m.corpus[i] < cur[j]):
			diff++
			i++
		case i == len(m.corpus) || cur[j] < m.corpus[i]:
			diff++
			j++
		default:
			i++
			j++
		}
	}
	d := max(len(m.corpus), len(cur))
	if d == 0 {
		return 0
	}
	return float64(diff) / float64(d)
}

// lsaSlot is the store slot of the library's LSA model.
const lsaSlot = "lsa"

func (m *LSA) record() store.EmbedModelRecord {
	return store.EmbedModelRecord{
		Name: lsaSlot, Model: m.model, Dim: m.width, Terms: m.vocab,
		Weights: store.Float32Bytes(m.idf), Projection: store.Float32Bytes(m.proj), Corpus: m.corpus,
		Params: map[string]string{
			"version": strconv.Itoa(lsaVersion), "seed": strconv.FormatUint(m.cfg.Seed, 10),
			"min_df": strconv.Itoa(m.cfg.MinDF), "power_iters": strconv.Itoa(m.cfg.PowerIters),
			"oversample": strconv.Itoa(m.cfg.Oversample), "sigma_exp": strconv.FormatFloat(m.cfg.SigmaExp, 'g', -1, 64),
			"title_weight": strconv.FormatFloat(m.cfg.TitleWeight, 'g', -1, 64),
			"latent_dim":   strconv.Itoa(m.cfg.Dim), "lex_dim": strconv.Itoa(m.cfg.LexDim),
			"lex_weight": strconv.FormatFloat(m.cfg.LexWeight, 'g', -1, 64), "config": m.requested,
		},
		TrainedAt: time.Now().UTC(),
	}
}

// lsaFromRecord rebuilds a model written by record.
func lsaFromRecord(r store.EmbedModelRecord) (*LSA, error) {
	bad := func(what string) error { return fmt.Errorf("lore: stored LSA model %q: %s", r.Model, what) }
	idf, err := store.BytesFloat32(r.Weights)
	if err != nil {
		return nil, bad(err.Error())
	}
	proj, err := store.BytesFloat32(r.Projection)
	if err != nil {
		return nil, bad(err.Error())
	}
	if r.Dim <= 0 || len(idf) != len(r.Terms) || len(proj) != len(r.Terms)*r.Dim {
		return nil, bad(fmt.Sprintf("inconsistent sizes (dim %d, %d terms, %d weights, %d projection values)",
			r.Dim, len(r.Terms), len(idf), len(proj)))
	}
	p := func(k string) int { v, _ := strconv.Atoi(r.Params[k]); return v }
	if p("version") != lsaVersion {
		return nil, bad(fmt.Sprintf("version %d, want %d", p("version"), lsaVersion))
	}
	seed, _ := strconv.ParseUint(r.Params["seed"], 10, 64)
	se, _ := strconv.ParseFloat(r.Params["sigma_exp"], 64)
	tw, _ := strconv.ParseFloat(r.Params["title_weight"], 64)
	lw, _ := strconv.ParseFloat(r.Params["lex_weight"], 64)
	cfg := LSAConfig{Dim: p("latent_dim"), Seed: seed, MinDF: p("min_df"), PowerIters: p("power_iters"), Oversample: p("oversample"),
		SigmaExp: se, TitleWeight: tw, LexDim: p("lex_dim"), LexWeight: lw}
	if cfg.Dim+cfg.LexDim != r.Dim {
		return nil, bad(fmt.Sprintf("latent %d + random-indexing %d dimensions, but dim %d", cfg.Dim, cfg.LexDim, r.Dim))
	}
	terms := make(map[string]int32, len(r.Terms))
	for i, t := range r.Terms {
		terms[t] = int32(i)
	}
	return &LSA{model: r.Model, cfg: cfg, requested: r.Params["config"], width: r.Dim, terms: terms, vocab: r.Terms, idf: idf, proj: proj,
		corpus: slices.SortedFunc(slices.Values(r.Corpus), cmp.Compare[uint64])}, nil
}

type termCount struct {
	term  string
	count float64
}

// termCounts returns the terms of text (appendTokens) with their counts,
// sorted by term; the words of a title (the text before a first "\n\n")
// count titleWeight times.
func termCounts(text string, titleWeight float64) []termCount {
	title, body := "", text
	if i := strings.Index(text, "\n\n"); i >= 0 {
		title, body = text[:i], text[i+2:]
	}
	var arr [128]string
	toks := appendTokens(arr[:0], body)
	nb := len(toks)
	toks = appendTokens(toks, title)
	weight := func(i int) float64 {
		if i >= nb {
			return titleWeight
		}
		return 1
	}
	idx := make([]int, len(toks))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(toks[a], toks[b]) })
	out := make([]termCount, 0, len(toks))
	for _, i := range idx {
		if len(out) > 0 && out[len(out)-1].term == toks[i] {
			out[len(out)-1].count += weight(i)
			continue
		}
		out = append(out, termCount{toks[i], weight(i)})
	}
	return out
}

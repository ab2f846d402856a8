package lore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/blas/blas32"
)

// Embedder turns texts into dense vectors whose cosine similarity measures
// how alike their meanings are.
//
// Embed returns one vector of exactly Dim() float32s per text, in order; an
// implementation may return unnormalised vectors (the library normalises
// them to unit length before indexing). It honours ctx's deadline and
// cancellation. Model names the model and its version: it keys the
// embedding cache, so two embedders that can return different vectors for
// the same text must have different names.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	Dim() int
	Model() string
}

// embedText is the text of c that is embedded: its heading path, then its
// text. The heading path carries the subject ("Aboleth", "Fireball") that a
// section's body often never names.
func embedText(c *Chunk) string {
	if len(c.Heading) == 0 {
		return c.Text
	}
	return strings.Join(c.Heading, " > ") + "\n\n" + c.Text
}

// textHash is the cache key of an embedded text: the hex SHA-256 of its
// bytes, truncated to 128 bits (32 hex digits).
func textHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:16])
}

// textHash64 is a 64-bit hash of s (the first 8 bytes of its SHA-256), used
// to record the LSA training corpus compactly.
func textHash64(s string) uint64 {
	sum := sha256.Sum256([]byte(s))
	return binary.LittleEndian.Uint64(sum[:8])
}

// normalize scales v to unit Euclidean length in place and reports whether
// it could (false for a zero or non-finite vector).
func normalize(v []float32) bool {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsInf(s, 0) || math.IsNaN(s) {
		return false
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return true
}

// checkEmbeddings verifies that e returned one vector of e.Dim() float32s
// per text: the library never mixes dimensions.
func checkEmbeddings(e Embedder, n int, vecs [][]float32) error {
	if len(vecs) != n {
		return fmt.Errorf("lore: embedder %q returned %d vectors for %d texts", e.Model(), len(vecs), n)
	}
	for i, v := range vecs {
		if len(v) != e.Dim() {
			return fmt.Errorf("lore: embedder %q returned a %d-dimensional vector (text %d), but its Dim() is %d; "+
				"the library never mixes dimensions", e.Model(), len(v), i, e.Dim())
		}
	}
	return nil
}

// dot is the inner product of two vectors of the same length: an AVX2 FMA
// kernel (dot_amd64.s) where the CPU has one, else gonum's SSE kernel
// (blas32.Dot). For 384 dimensions in cache, on this machine: AVX2 about
// 2.5 times as fast as gonum (38–62 ns against 132–168 ns side by side
// under load average 15; gonum alone measured 70 ns on a quiet machine,
// a plain Go loop 330 ns; BenchmarkDot, -tags purego for gonum).
func dot(a, b []float32) float32 {
	n := len(a)
	if n == 0 {
		return 0
	}
	if hasAVX2FMA {
		_ = b[n-1]
		return dotAVX2(&a[0], &b[0], n)
	}
	return blas32.Dot(blas32.Vector{N: n, Inc: 1, Data: a}, blas32.Vector{N: n, Inc: 1, Data: b[:n]})
}

// rowKernel reports whether the AVX2 row kernels (dotRows, dotRows8)
// apply to rows of d values: the CPU has AVX2 and FMA and d is a multiple
// of 32. It first checks that every row in ids lies within n values, since
// the kernels do not bounds-check: a bad id panics here, as an index would.
func rowKernel(d, n int, ids []uint32) bool {
	if !hasAVX2FMA || d <= 0 || d%32 != 0 {
		return false
	}
	for _, id := range ids {
		if (int(id)+1)*d > n {
			panic(fmt.Sprintf("lore: row %d of %d values is outside %d", id, d, n))
		}
	}
	return true
}

// dotRows sets out[j] to the inner product of q with row ids[j] of vecs
// (rows of len(q) float32s) for every j, prefetching the rows ahead of
// the one it computes when the AVX2 kernel applies (len(q) a multiple of
// 32): a graph search's rows are scattered in memory, and their loads then
// overlap. out has at least len(ids) entries; every id is a valid row.
func dotRows(q, vecs []float32, ids []uint32, out []float32) {
	d := len(q)
	if len(ids) == 0 {
		return
	}
	_ = out[len(ids)-1]
	if rowKernel(d, len(vecs), ids) {
		dotRowsAVX2(&q[0], &vecs[0], d, &ids[0], len(ids), dotRowsAhead, &out[0])
		return
	}
	for j, id := range ids {
		out[j] = dot(q, vecs[int(id)*d:(int(id)+1)*d])
	}
}

// dotRowsAhead is how many rows ahead dotRows prefetches.
var dotRowsAhead = 1

// Passage sizes of the multi-vector representation: a chunk whose text is
// longer than passageSplitBytes is embedded whole and also in windows of
// whole lines of up to about passageBytes (a window never splits a line),
// each under the chunk's heading path; the chunk then matches a query by
// its best passage. A long table thus matches a question about one of its
// rows ("how much does a greataxe cost"), which a single vector of the
// whole table blurs away. Chosen on the SRD query set.
const (
	passageSplitBytes = 700
	passageBytes      = 200
)

// passages returns the texts embedded for c: embedText(c) first, then its
// windows when the text is long.
func passages(c *Chunk) []string {
	out := []string{embedText(c)}
	if len(c.Text) <= passageSplitBytes {
		return out
	}
	title := strings.Join(c.Heading, " > ")
	var b strings.Builder
	flush := func() {
		if w := strings.TrimSpace(b.String()); w != "" {
			if title != "" {
				// One newline: the heading path is context here, not a
				// title to emphasise (the whole-chunk text has that).
				w = title + "\n" + w
			}
			out = append(out, w)
		}
		b.Reset()
	}
	for line := range strings.SplitSeq(c.Text, "\n") {
		if b.Len() > 0 && b.Len()+len(line) > passageBytes {
			flush()
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	flush()
	return out
}

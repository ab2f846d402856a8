package llama

// Cache is one sequence's key/value cache for every layer of a Model.
//
// Layout: per layer, K and V are row-major float64 matrices
// [positions][KVHeads·HeadDim], keys stored after RoPE. float64 is kept
// (rather than float32) because attention reads them through gonum's
// float64 Dgemm, which is an order of magnitude faster here than any
// float32 path, and it keeps cached and recomputed logits bit-identical.
//
// Storage grows on demand (doubling, from 16 positions) up to
// Config.ContextLen, so short sequences and stored prefixes hold little
// memory; Truncate keeps the storage for reuse. A Cache is not safe for
// concurrent use; a Model's methods that take a Cache only touch that Cache.
type Cache struct {
	layers int
	kvDim  int // KVHeads·HeadDim
	ctxLen int // capacity limit in positions (Config.ContextLen)
	n      int // positions filled
	capPos int // positions allocated per layer
	k, v   [][]float64
}

// minCachePositions is the first allocation, in positions, of a Cache that
// grows.
const minCachePositions = 16

// NewCache returns an empty cache shaped for m (no storage allocated until
// the first tokens arrive).
func (m *Model) NewCache() *Cache {
	c := m.cfg
	return &Cache{
		layers: c.Layers,
		kvDim:  c.KVHeads * c.HeadDim(),
		ctxLen: c.ContextLen,
		k:      make([][]float64, c.Layers),
		v:      make([][]float64, c.Layers),
	}
}

// Len is the number of positions (tokens) filled.
func (c *Cache) Len() int { return c.n }

// Truncate keeps the first n positions (0 ≤ n); n ≥ Len is a no-op and a
// negative n empties the cache. Storage is kept for reuse.
func (c *Cache) Truncate(n int) {
	if n < 0 {
		n = 0
	}
	if n < c.n {
		c.n = n
	}
}

// CopyFrom makes c a copy of src's filled positions (and src's shape), for
// reusing a cached prompt prefix; c's storage is reused when large enough.
// A nil src or src == c is a no-op.
func (c *Cache) CopyFrom(src *Cache) {
	if src == nil || src == c {
		return
	}
	if c.layers != src.layers || c.kvDim != src.kvDim || c.ctxLen != src.ctxLen {
		c.layers, c.kvDim, c.ctxLen = src.layers, src.kvDim, src.ctxLen
		c.k = make([][]float64, src.layers)
		c.v = make([][]float64, src.layers)
		c.capPos = 0
	}
	c.n = 0
	c.grow(src.n)
	w := src.n * src.kvDim
	for l := 0; l < c.layers; l++ {
		copy(c.k[l][:w], src.k[l][:w])
		copy(c.v[l][:w], src.v[l][:w])
	}
	c.n = src.n
}

// Bytes is the memory the cache's K/V storage holds, in bytes (allocated
// capacity, not just filled positions).
func (c *Cache) Bytes() int {
	return 2 * c.layers * c.capPos * c.kvDim * 8
}

// grow makes room for at least n positions (n ≤ ctxLen, checked by the
// caller), keeping the filled ones.
func (c *Cache) grow(n int) {
	if n <= c.capPos {
		return
	}
	p := max(c.capPos*2, minCachePositions, n)
	p = min(p, c.ctxLen)
	w := c.n * c.kvDim
	for l := 0; l < c.layers; l++ {
		k := make([]float64, p*c.kvDim)
		v := make([]float64, p*c.kvDim)
		copy(k, c.k[l][:w])
		copy(v, c.v[l][:w])
		c.k[l], c.v[l] = k, v
	}
	c.capPos = p
}

package embedded

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Sampling configures how the next token is drawn from the logits.
type Sampling struct {
	// Temperature divides the logits; 0 (or below 1e-6) is greedy: the
	// highest logit wins, ties to the lower token id.
	Temperature float64
	// TopK keeps the K most likely tokens (Fan et al. 2018); 0 keeps all.
	TopK int
	// TopP keeps the smallest set of tokens whose probability sums to at
	// least P, nucleus sampling (Holtzman et al. 2020); 0 or 1 keeps all.
	TopP float64
	// RepetitionPenalty divides a positive logit and multiplies a negative
	// one of every token already generated in this reply (Keskar et al.
	// 2019, CTRL §4.1); 1 (or 0) is off. Prompt tokens are not penalised,
	// so copying a fact from the lore costs nothing.
	RepetitionPenalty float64
}

// sampler draws tokens for one sequence. Its RNG is seeded from the
// request's seed, so the same seed and the same logits give the same
// tokens.
type sampler struct {
	cfg  Sampling
	rng  *rand.Rand
	seen map[int]bool // generated tokens, for the repetition penalty
	idx  []int        // scratch: candidate ids
	prob []float64    // scratch: candidate probabilities
}

func newSampler(cfg Sampling, seed uint64) *sampler {
	return &sampler{cfg: cfg, rng: rand.New(rand.NewPCG(seed, 0x656d626564646564)), seen: map[int]bool{}}
}

// next picks a token from logits, where allowed (nil: all) masks tokens
// that may not come next. It modifies logits. It returns -1 only when no
// token is allowed.
func (s *sampler) next(logits []float64, allowed []bool) int {
	if p := s.cfg.RepetitionPenalty; p > 0 && p != 1 {
		for id := range s.seen {
			if logits[id] > 0 {
				logits[id] /= p
			} else {
				logits[id] *= p
			}
		}
	}
	s.idx = s.idx[:0]
	for id := range logits {
		if (allowed == nil || allowed[id]) && !math.IsInf(logits[id], -1) && !math.IsNaN(logits[id]) {
			s.idx = append(s.idx, id)
		}
	}
	if len(s.idx) == 0 {
		return -1
	}
	var tok int
	if s.cfg.Temperature < 1e-6 {
		tok = s.idx[0]
		for _, id := range s.idx[1:] {
			if logits[id] > logits[tok] {
				tok = id
			}
		}
	} else {
		tok = s.draw(logits)
	}
	s.seen[tok] = true
	return tok
}

// draw samples from the tempered softmax over the candidates in s.idx
// after top-k and top-p truncation.
func (s *sampler) draw(logits []float64) int {
	idx := s.idx
	// better orders by logit, ties to the lower id, so the order (and the
	// draw) never depends on how the candidates were arranged.
	better := func(a, b int) bool {
		if logits[a] != logits[b] {
			return logits[a] > logits[b]
		}
		return a < b
	}
	if k := s.cfg.TopK; k > 0 && k < len(idx) {
		// Keep the k best in a min-heap (O(V log k)) instead of sorting the
		// whole vocabulary for every token.
		h := idx[:k]
		for i := k/2 - 1; i >= 0; i-- {
			siftDown(h, i, better)
		}
		for _, id := range idx[k:] {
			if better(id, h[0]) {
				h[0] = id
				siftDown(h, 0, better)
			}
		}
		idx = h
	}
	// The order is total (ties to the lower id), so any sort gives the same
	// result; SortFunc avoids sort.Slice's reflective swapper per token.
	slices.SortFunc(idx, func(a, b int) int {
		switch {
		case a == b:
			return 0
		case better(a, b):
			return -1
		}
		return 1
	})
	s.prob = s.prob[:0]
	top := logits[idx[0]]
	sum := 0.0
	for _, id := range idx {
		p := math.Exp((logits[id] - top) / s.cfg.Temperature)
		s.prob = append(s.prob, p)
		sum += p
	}
	if p := s.cfg.TopP; p > 0 && p < 1 {
		acc := 0.0
		for i, q := range s.prob {
			acc += q / sum
			if acc >= p {
				idx, s.prob = idx[:i+1], s.prob[:i+1]
				break
			}
		}
		sum = 0
		for _, q := range s.prob {
			sum += q
		}
	}
	r := s.rng.Float64() * sum
	for i, q := range s.prob {
		r -= q
		if r < 0 {
			return idx[i]
		}
	}
	return idx[len(idx)-1]
}

// siftDown restores the min-heap order (the worst of the kept candidates
// at the root, by better) below position i.
func siftDown(h []int, i int, better func(a, b int) bool) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && better(h[c], h[c+1]) {
			c++ // the worse child
		}
		if !better(h[i], h[c]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

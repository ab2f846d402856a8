package lore

import "math"

// mmr re-ranks cands (best first, any relevance score) by maximal marginal
// relevance (Carbonell and Goldstein, "The use of MMR, diversity-based
// reranking for reordering documents and producing summaries", SIGIR
// 1998), picking k of them one at a time:
//
//	next = argmax_c λ·rel(c) − (1−λ)·max_{s picked} cos(c, s)
//
// rel is the candidate's score min-max scaled to [0, 1] over cands, so the
// two terms are comparable whatever the ranking. The returned scores are
// the MMR values at the time each was picked.
func mmr(vi *vectorIndex, cands []scored, k int, lambda float64) []scored {
	if len(cands) == 0 || k <= 0 {
		return nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range cands {
		lo, hi = min(lo, c.score), max(hi, c.score)
	}
	rel := make([]float64, len(cands))
	for i, c := range cands {
		if hi > lo {
			rel[i] = (c.score - lo) / (hi - lo)
		} else {
			rel[i] = 1
		}
	}
	maxSim := make([]float64, len(cands)) // to the picked set
	picked := make([]bool, len(cands))
	out := make([]scored, 0, min(k, len(cands)))
	for len(out) < k && len(out) < len(cands) {
		best, bestV := -1, math.Inf(-1)
		for i := range cands {
			if picked[i] {
				continue
			}
			v := lambda * rel[i]
			if len(out) > 0 {
				v -= (1 - lambda) * maxSim[i]
			}
			if v > bestV {
				best, bestV = i, v
			}
		}
		picked[best] = true
		out = append(out, scored{cands[best].chunk, bestV})
		bv := vi.chunkVec(cands[best].chunk)
		for i := range cands {
			if picked[i] {
				continue
			}
			s := 0.0
			if cv := vi.chunkVec(cands[i].chunk); bv != nil && cv != nil {
				s = float64(dot(bv, cv))
			}
			if s > maxSim[i] || len(out) == 1 {
				maxSim[i] = s
			}
		}
	}
	return out
}

package inference

import (
	"math"
	"sync"
	"sync/atomic"
)

// quantileEstimator is a streaming, exponentially decaying quantile
// estimator for positive durations (or any positive quantity), used by the
// Router to predict a backend's time to first token and time per token.
//
// Method: a log-bucketed histogram (estBucketsPerOctave buckets per doubling,
// so each bucket is about 9% wide) with forward exponential decay, as in
// Cormode, Shkapenyuk, Srivastava and Xu, "Forward Decay: A Practical Time
// Decay Model for Streaming Systems", ICDE 2009. Rather than multiplying every
// bucket by the decay factor on each observation, each new observation is
// added with a weight that grows by 1/estDecay, which is equivalent and O(1);
// the weights are rescaled before they overflow. An observation seen n
// observations ago therefore weighs estDecay^n relative to the newest one,
// so the estimate follows a backend that gets slower or faster within a few
// tens of observations. A quantile is read by walking the cumulative weights
// and interpolating geometrically inside the bucket, so its relative error is
// bounded by the bucket width (about 9%).
//
// The estimator starts from a prior: estPriorWeight pseudo-observations at
// the seed value (the backend's Info.Expected* values).
//
// Observations take a mutex; the quantiles the Router reads on every request
// are recomputed on each observation and published through atomics, so reads
// never lock.
type quantileEstimator struct {
	seed   float64 // the prior's value (relax observes it again)
	mu     sync.Mutex
	w      [estBuckets]float64
	total  float64
	weight float64 // weight of the next observation (forward decay)
	qs     []float64
	cached []atomic.Uint64 // math.Float64bits of the quantiles in qs
}

const (
	// estMin is the lower edge of the first bucket; smaller values are
	// clamped into it. In nanoseconds: 64ns.
	estMin = 64.0
	// estOctaves doublings above estMin cover 64ns .. about 137s.
	estOctaves          = 31
	estBucketsPerOctave = 8
	estBuckets          = estOctaves * estBucketsPerOctave
	// estDecay is the weight an observation loses per newer observation:
	// 0.95 gives a half-life of about 13.5 observations.
	estDecay = 0.95
	// estPriorWeight is how many observations the seed is worth: a single
	// outlier moves the 0.9 quantile but not the median.
	estPriorWeight = 3.0
	// estRescale bounds the growing forward-decay weight.
	estRescale = 1e100
)

func newQuantileEstimator(seed float64, qs ...float64) *quantileEstimator {
	e := &quantileEstimator{
		seed:   seed,
		weight: 1,
		qs:     qs,
		cached: make([]atomic.Uint64, len(qs)),
	}
	i := estBucket(seed)
	e.w[i] = estPriorWeight
	e.total = estPriorWeight
	e.publish()
	return e
}

func estBucket(v float64) int {
	if !(v > estMin) { // also catches NaN
		return 0
	}
	i := int(math.Log2(v/estMin) * estBucketsPerOctave)
	if i >= estBuckets {
		return estBuckets - 1
	}
	return i
}

// observe adds one observation.
func (e *quantileEstimator) observe(v float64) {
	e.mu.Lock()
	e.weight /= estDecay
	if e.weight > estRescale {
		for i := range e.w {
			e.w[i] /= e.weight
		}
		e.total /= e.weight
		e.weight = 1
	}
	e.w[estBucket(v)] += e.weight
	e.total += e.weight
	e.publish()
	e.mu.Unlock()
}

// relax adds one pseudo-observation at the seed: the Router calls it for a
// backend it has stopped trying, so that estimates poisoned by a stall
// (nothing new can correct them while the backend is skipped) drift back
// toward the prior, a step per call, until the backend is tried again and
// real observations take over. Forgetting stale evidence this way is the
// same forward decay as observe's, with the prior as the only evidence.
func (e *quantileEstimator) relax() { e.observe(e.seed) }

// publish recomputes the cached quantiles; e.mu must be held (or e unshared).
// qs must be ascending.
func (e *quantileEstimator) publish() {
	cum := 0.0
	j := 0
	for i := 0; i < estBuckets && j < len(e.qs); i++ {
		if e.w[i] == 0 {
			continue
		}
		next := cum + e.w[i]
		for j < len(e.qs) && next >= e.qs[j]*e.total {
			f := (e.qs[j]*e.total - cum) / e.w[i]
			v := estMin * math.Exp2((float64(i)+f)/estBucketsPerOctave)
			e.cached[j].Store(math.Float64bits(v))
			j++
		}
		cum = next
	}
	for ; j < len(e.qs); j++ { // rounding at the top end
		e.cached[j].Store(math.Float64bits(estMin * math.Exp2(float64(estOctaves))))
	}
}

// quantile returns the cached estimate of the k-th configured quantile.
func (e *quantileEstimator) quantile(k int) float64 {
	return math.Float64frombits(e.cached[k].Load())
}

package bench

import (
	"math/rand/v2"
	"time"
)

// Arrivals is the schedule of an open-loop load: a Poisson process, whose
// inter-arrival times are exponentially distributed with mean 1/rate. It is
// deterministic: the same rate and seed give the same schedule. An Arrivals
// is not safe for concurrent use.
type Arrivals struct {
	rng  *rand.Rand
	rate float64 // arrivals per second
}

// NewArrivals returns the schedule of a Poisson process of rate arrivals
// per second (rate > 0), drawn from a PCG generator seeded with seed.
func NewArrivals(rate float64, seed uint64) *Arrivals {
	return &Arrivals{rng: rand.New(rand.NewPCG(seed, 0x0a11_7a15)), rate: rate}
}

// Next returns the time from the previous arrival to the next one.
func (a *Arrivals) Next() time.Duration {
	return time.Duration(a.rng.ExpFloat64() / a.rate * float64(time.Second))
}

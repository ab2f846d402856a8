package inference

import (
	"sync"
	"time"
)

// Circuit states of a backend (BackendStats.Circuit), after the circuit
// breaker pattern (Nygard, "Release It!", 2007).
const (
	CircuitClosed   = "closed"    // calls flow; consecutive failures are counted
	CircuitOpen     = "open"      // no calls until the cooldown ends
	CircuitHalfOpen = "half-open" // one probe call at a time decides
)

// Breaker defaults (RouterOptions).
const (
	// DefaultBreakerFailures consecutive failed attempts open a circuit.
	DefaultBreakerFailures = 5
	// DefaultBreakerCooldown is how long a circuit first stays open; each
	// failed probe doubles it, up to DefaultBreakerMaxCooldown.
	DefaultBreakerCooldown    = 2 * time.Second
	DefaultBreakerMaxCooldown = time.Minute
)

// breaker is one backend's circuit. Failures are errors, malformed output
// and timeouts: a model server that hangs must be cut off like one that
// answers 500. A caller that gives up is neither.
type breaker struct {
	threshold   int
	base, limit time.Duration

	mu        sync.Mutex
	state     string
	failures  int       // consecutive, while closed
	openUntil time.Time // while open
	cooldown  time.Duration
	probing   bool // half-open: the probe is out
	opened    uint64
}

func newBreaker(threshold int, base, limit time.Duration) *breaker {
	return &breaker{threshold: threshold, base: base, limit: limit, state: CircuitClosed, cooldown: base}
}

// allow reports whether a call may start now. In half-open state it admits
// one probe at a time; the caller must report the probe's outcome.
func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case CircuitOpen:
		if now.Before(b.openUntil) {
			return false
		}
		b.state = CircuitHalfOpen
		fallthrough
	case CircuitHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
	}
	return true
}

// closedTo reports whether the circuit refuses calls at now (open, cooldown
// not over), without changing its state.
func (b *breaker) closedTo(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state == CircuitOpen && now.Before(b.openUntil)
}

// success records a usable answer: it closes a half-open circuit and resets
// the failure count and the cooldown.
func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state, b.failures, b.probing, b.cooldown = CircuitClosed, 0, false, b.base
}

// failure records a failed attempt: it opens the circuit after threshold
// consecutive failures, or at once when a half-open probe fails (with the
// cooldown doubled).
func (b *breaker) failure(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case CircuitHalfOpen:
		b.cooldown = min(2*b.cooldown, b.limit)
		b.open(now)
	case CircuitClosed:
		if b.failures++; b.failures >= b.threshold {
			b.open(now)
		}
	}
}

// abandon releases a half-open probe whose outcome says nothing about the
// backend (the caller gave up).
func (b *breaker) abandon() {
	b.mu.Lock()
	b.probing = false
	b.mu.Unlock()
}

func (b *breaker) open(now time.Time) {
	b.state, b.openUntil, b.probing, b.failures = CircuitOpen, now.Add(b.cooldown), false, 0
	b.opened++
}

// snapshot returns the state and how many times the circuit has opened.
func (b *breaker) snapshot() (string, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state, b.opened
}

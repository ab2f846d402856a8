// Package faultproxy is a fault-injecting HTTP reverse proxy on loopback,
// for testing model backends (inference/openai and friends) against a
// server that misbehaves the way hosted models do: slow answers, 429/5xx
// with Retry-After, streams (SSE) that stall or carry a malformed chunk
// mid-way, and connections reset by the peer (DESIGN §4: such failures
// must fall back like any other).
//
// Put it between a backend and a real server (inference/openai/llmsim in
// tests and in `hearth soak`):
//
//	p, err := faultproxy.Start(sim.BaseURL(), faultproxy.Config{ErrorRate: 0.1, Seed: 1})
//	...
//	defer p.Close()
//	cfg.BaseURL = p.URL() + "/v1"
//
// Every decision is drawn from one generator seeded by Config.Seed, in the
// order requests arrive: the same seed gives the same sequence of
// decisions (requests sent one at a time get the same faults run after
// run; concurrent ones get the same sequence in arrival order).
package faultproxy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultEventsBeforeFault is Config.StallAfterEvents' and
// Config.MalformedAfterEvents' default: a stream fault comes after the
// second SSE event, once the client has seen its first token, which is the
// case a client is tempted to trust.
const DefaultEventsBeforeFault = 2

// DefaultRetryAfter is Config.RetryAfter's default, 1 s.
const DefaultRetryAfter = time.Second

// MalformedEvent is the SSE event injected by a malformed-chunk fault: a
// data line whose JSON never closes.
const MalformedEvent = "data: {not json\n\n"

// Config says which faults to inject and how often. The zero value injects
// nothing: the proxy is transparent.
//
// ErrorRate, StallRate, MalformedRate and ResetRate are probabilities in
// [0, 1] of mutually exclusive outcomes per request; their sum must not
// exceed 1.
type Config struct {
	// Seed seeds every decision: the same seed gives the same sequence of
	// decisions.
	Seed uint64

	// LatencyMedian is the median of the extra latency added before each
	// request is handled (forwarded, refused or reset), drawn from a
	// log-normal distribution: LatencyMedian × exp(LatencySigma × N(0,1)).
	// 0 adds none.
	LatencyMedian time.Duration
	// LatencySigma is the log-space standard deviation of the extra
	// latency (dimensionless; 0.5 gives a p99 about 3.2× the median).
	// Default 0 (every request waits exactly LatencyMedian).
	LatencySigma float64

	// ErrorRate is the probability of answering with an HTTP error
	// without forwarding the request: one of ErrorStatuses, chosen
	// uniformly, with a Retry-After header and an OpenAI-style JSON error
	// body.
	ErrorRate float64
	// ErrorStatuses are the statuses an error fault answers with.
	// Default 429, 500 and 503.
	ErrorStatuses []int
	// RetryAfter is the Retry-After header's value, sent in whole
	// seconds (rounded up). Default DefaultRetryAfter (1 s).
	RetryAfter time.Duration

	// StallRate is the probability that a streaming response (Content-Type
	// text/event-stream) stops after StallAfterEvents events and hangs
	// until the client gives up or the proxy closes. A request drawn to
	// stall whose response is not a stream, or ends first, passes through
	// (and is not counted).
	StallRate float64
	// StallAfterEvents is how many SSE events a stalling stream forwards
	// first. Default DefaultEventsBeforeFault.
	StallAfterEvents int

	// MalformedRate is the probability that a streaming response gets
	// MalformedEvent inserted after MalformedAfterEvents events; the rest
	// of the stream follows it unchanged. Non-streams pass through as for
	// StallRate.
	MalformedRate float64
	// MalformedAfterEvents is how many SSE events come before the
	// malformed one. Default DefaultEventsBeforeFault.
	MalformedAfterEvents int

	// ResetRate is the probability of resetting the client's TCP
	// connection without answering: the proxy closes it with SO_LINGER 0,
	// so the client reads a RST ("connection reset by peer"), not a clean
	// EOF.
	ResetRate float64
}

func (c *Config) fill() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"ErrorRate", c.ErrorRate}, {"StallRate", c.StallRate}, {"MalformedRate", c.MalformedRate}, {"ResetRate", c.ResetRate}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("faultproxy: Config.%s %v: want a probability in [0, 1]", p.name, p.v)
		}
	}
	if sum := c.ErrorRate + c.StallRate + c.MalformedRate + c.ResetRate; sum > 1+1e-9 {
		return fmt.Errorf("faultproxy: the fault rates sum to %v; they are exclusive outcomes and must sum to at most 1", sum)
	}
	if c.LatencyMedian < 0 || !(c.LatencySigma >= 0) || math.IsInf(c.LatencySigma, 0) {
		return fmt.Errorf("faultproxy: Config.LatencyMedian %v, LatencySigma %v: neither may be negative", c.LatencyMedian, c.LatencySigma)
	}
	if c.RetryAfter < 0 || c.StallAfterEvents < 0 || c.MalformedAfterEvents < 0 {
		return errors.New("faultproxy: Config.RetryAfter, StallAfterEvents and MalformedAfterEvents must not be negative")
	}
	if len(c.ErrorStatuses) == 0 {
		c.ErrorStatuses = []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusServiceUnavailable}
	}
	for _, s := range c.ErrorStatuses {
		if s < 400 || s > 599 {
			return fmt.Errorf("faultproxy: Config.ErrorStatuses has %d; want 4xx or 5xx", s)
		}
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	if c.StallAfterEvents == 0 {
		c.StallAfterEvents = DefaultEventsBeforeFault
	}
	if c.MalformedAfterEvents == 0 {
		c.MalformedAfterEvents = DefaultEventsBeforeFault
	}
	return nil
}

// Stats counts what the proxy did. Every field is a count of requests
// except DelayTotal.
type Stats struct {
	// Requests is every request received.
	Requests uint64
	// Forwarded is the requests sent on to the target (stalls and
	// malformed streams included; errors and resets are not forwarded).
	Forwarded uint64
	// Delayed is the requests given extra latency, and DelayTotal the
	// latency added to them in all (cut short when a client gave up).
	Delayed    uint64
	DelayTotal time.Duration
	// Errors counts injected HTTP errors by status code.
	Errors map[int]uint64
	// Stalls is the streams stalled, Malformed the streams given a
	// malformed event, Resets the connections reset.
	Stalls, Malformed, Resets uint64
	// UpstreamErrors is the forwarded requests the target did not answer
	// (answered 502 by the proxy); not an injected fault.
	UpstreamErrors uint64
	// Active is the requests being handled now (a gauge, not a count of
	// all time): delayed, forwarded or stalled ones. It drops back when
	// clients give up, which is how a test sees a stall end.
	Active int64
}

// Injected is the number of faults injected of every kind (latency not
// counted).
func (s Stats) Injected() uint64 {
	n := s.Stalls + s.Malformed + s.Resets
	for _, v := range s.Errors {
		n += v
	}
	return n
}

type faultKind uint8

const (
	faultNone faultKind = iota
	faultError
	faultStall
	faultMalformed
	faultReset
)

// decision is what the proxy does with one request.
type decision struct {
	delay  time.Duration
	kind   faultKind
	status int // faultError
}

// decider draws decisions. Every decision consumes the same three draws,
// whatever the outcome, so changing one rate does not shift the latencies
// of later requests.
type decider struct {
	cfg Config
	mu  sync.Mutex
	rng *rand.Rand
}

func newDecider(cfg Config) *decider {
	return &decider{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0xfa17))}
}

func (d *decider) next() decision {
	d.mu.Lock()
	z, u, k := d.rng.NormFloat64(), d.rng.Float64(), d.rng.IntN(len(d.cfg.ErrorStatuses))
	d.mu.Unlock()
	c := &d.cfg
	var dec decision
	if c.LatencyMedian > 0 {
		dec.delay = time.Duration(float64(c.LatencyMedian) * math.Exp(c.LatencySigma*z))
	}
	switch {
	case u < c.ResetRate:
		dec.kind = faultReset
	case u < c.ResetRate+c.ErrorRate:
		dec.kind, dec.status = faultError, c.ErrorStatuses[k]
	case u < c.ResetRate+c.ErrorRate+c.StallRate:
		dec.kind = faultStall
	case u < c.ResetRate+c.ErrorRate+c.StallRate+c.MalformedRate:
		dec.kind = faultMalformed
	}
	return dec
}

// Proxy is a running fault-injecting proxy on 127.0.0.1. Its methods are
// safe for concurrent use.
type Proxy struct {
	cfg       Config
	dec       *decider
	ln        net.Listener
	srv       *http.Server
	rp        *httputil.ReverseProxy
	transport *http.Transport
	served    chan struct{} // closed when Serve returns

	// ctx ends when Close starts: stalled streams and delays end with it.
	ctx      context.Context
	cancel   context.CancelFunc
	mu       sync.Mutex // guards closed and handlers.Add against Close's Wait
	closed   bool
	handlers sync.WaitGroup
	close    sync.Once

	active                                atomic.Int64
	requests, forwarded, delayed, delayNS atomic.Uint64
	stalls, malformed, resets, upstream   atomic.Uint64
	errMu                                 sync.Mutex
	errs                                  map[int]uint64
}

type ctxKey struct{}

// Start listens on a free port of 127.0.0.1 and proxies every request to
// target, an http:// or https:// URL whose path prefixes the request's
// (usually just scheme and host, e.g. "http://127.0.0.1:41234"; a target
// of "http://h/v1" sends /chat/completions to /v1/chat/completions). It
// fails for an invalid target or Config (a probability outside [0, 1],
// rates summing over 1, a negative duration, a status that is not 4xx or
// 5xx) or when it cannot listen.
func Start(target string, cfg Config) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q: want an http:// or https:// URL with a host", target)
	}
	cfg.ErrorStatuses = append([]int(nil), cfg.ErrorStatuses...)
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{cfg: cfg, dec: newDecider(cfg), ln: ln, served: make(chan struct{}), errs: map[int]uint64{},
		transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	quiet := log.New(io.Discard, "", 0)
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
		},
		Transport: p.transport,
		// Flush every write at once: a stream must reach the client event
		// by event, as it would from the target itself.
		FlushInterval:  -1,
		ModifyResponse: p.modifyResponse,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() == nil {
				p.upstream.Add(1)
			}
			w.WriteHeader(http.StatusBadGateway)
		},
		ErrorLog: quiet,
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serveHTTP), ReadHeaderTimeout: 10 * time.Second, ErrorLog: quiet}
	go func() {
		defer close(p.served)
		p.srv.Serve(ln)
	}()
	return p, nil
}

// URL is the proxy's root, e.g. "http://127.0.0.1:41235" (no trailing
// slash); append the API path the target expects ("/v1").
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Stats returns a snapshot of the counters.
func (p *Proxy) Stats() Stats {
	s := Stats{
		Requests: p.requests.Load(), Forwarded: p.forwarded.Load(), Delayed: p.delayed.Load(),
		DelayTotal: time.Duration(p.delayNS.Load()),
		Stalls:     p.stalls.Load(), Malformed: p.malformed.Load(), Resets: p.resets.Load(),
		UpstreamErrors: p.upstream.Load(), Errors: map[int]uint64{}, Active: p.active.Load(),
	}
	p.errMu.Lock()
	for k, v := range p.errs {
		s.Errors[k] = v
	}
	p.errMu.Unlock()
	return s
}

// Close stops the proxy: it stops accepting, ends stalled streams and
// pending delays, closes every connection, and returns once every request
// handler has returned, so no goroutine of the proxy outlives it. Calls
// after the first return nil.
func (p *Proxy) Close() error {
	var err error
	p.close.Do(func() {
		p.cancel()
		err = p.srv.Close()
		<-p.served
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.handlers.Wait()
		p.transport.CloseIdleConnections()
	})
	return err
}

func (p *Proxy) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	if p.closed {
		// A request that slipped in while Close ran.
		p.mu.Unlock()
		panic(http.ErrAbortHandler)
	}
	p.handlers.Add(1)
	p.mu.Unlock()
	defer p.handlers.Done()
	p.active.Add(1)
	defer p.active.Add(-1)
	p.requests.Add(1)
	dec := p.dec.next()

	// The request ends when its client gives up or the proxy closes.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(p.ctx, cancel)
	defer stop()

	if dec.delay > 0 {
		p.delayed.Add(1)
		start := time.Now()
		t := time.NewTimer(dec.delay)
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		p.delayNS.Add(uint64(time.Since(start)))
		if ctx.Err() != nil {
			return
		}
	}
	switch dec.kind {
	case faultReset:
		p.reset(w)
		return
	case faultError:
		p.errMu.Lock()
		p.errs[dec.status]++
		p.errMu.Unlock()
		secs := int(math.Ceil(p.cfg.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(dec.status)
		typ := "server_error"
		if dec.status == http.StatusTooManyRequests {
			typ = "rate_limit_error"
		}
		fmt.Fprintf(w, `{"error":{"message":"faultproxy: injected %d","type":%q}}`+"\n", dec.status, typ)
		return
	}
	p.forwarded.Add(1)
	p.rp.ServeHTTP(w, r.WithContext(context.WithValue(ctx, ctxKey{}, dec)))
}

// reset closes the client's connection with SO_LINGER 0: the kernel sends
// RST and discards anything unsent.
func (p *Proxy) reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler) // HTTP/2: abort the stream instead
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	p.resets.Add(1)
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// modifyResponse wraps a streaming response's body for a stall or a
// malformed event.
func (p *Proxy) modifyResponse(res *http.Response) error {
	dec, _ := res.Request.Context().Value(ctxKey{}).(decision)
	if dec.kind != faultStall && dec.kind != faultMalformed {
		return nil
	}
	mt := res.Header.Get("Content-Type")
	if i := bytes.IndexByte([]byte(mt), ';'); i >= 0 {
		mt = mt[:i]
	}
	if mt != "text/event-stream" {
		return nil
	}
	b := &faultyBody{p: p, kind: dec.kind, src: res.Body, r: bufio.NewReader(res.Body), ctx: res.Request.Context()}
	b.after = p.cfg.MalformedAfterEvents
	if dec.kind == faultStall {
		b.after = p.cfg.StallAfterEvents
	}
	res.Body = b
	return nil
}

// faultyBody forwards an SSE stream event by event (an event ends at a
// blank line) and injects the fault after the given number of events.
type faultyBody struct {
	p      *Proxy
	kind   faultKind
	src    io.ReadCloser
	r      *bufio.Reader
	ctx    context.Context // the forwarded request's: ends with the client or the proxy
	after  int             // events to forward before the fault
	events int
	done   bool   // the fault has been injected
	buf    []byte // the rest of the current event, to hand out
	err    error  // the source's error, after buf
}

func (b *faultyBody) Read(out []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		if !b.done && b.events >= b.after {
			b.done = true
			if b.kind == faultStall {
				b.p.stalls.Add(1)
				// Hang, holding the connections open, until the client
				// gives up or the proxy closes. ReverseProxy then aborts
				// the response.
				<-b.ctx.Done()
				b.err = b.ctx.Err()
				return 0, b.err
			}
			b.p.malformed.Add(1)
			b.buf = []byte(MalformedEvent)
			break
		}
		b.buf, b.err = b.readEvent()
	}
	n := copy(out, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

// readEvent reads lines up to and including the blank line that ends an
// event. At the end of the source it returns what it has with the error.
func (b *faultyBody) readEvent() ([]byte, error) {
	var ev []byte
	for {
		line, err := b.r.ReadSlice('\n')
		ev = append(ev, line...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return ev, err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			if len(bytes.TrimSpace(ev)) > 0 { // blank lines before an event are not one
				b.events++
			}
			return ev, nil
		}
	}
}

func (b *faultyBody) Close() error { return b.src.Close() }

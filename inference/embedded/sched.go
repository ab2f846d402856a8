package embedded

import (
	"fmt"
	"time"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// loop is the scheduler: the one goroutine that runs the model. Each turn
// it admits waiting requests up to MaxBatch (prefill: the cached prefix is
// copied, the rest computed), then advances every running request by one
// token in a single batched forward pass, and retires the finished ones.
// New requests join between steps, so a long reply never holds a short one
// back (continuous batching).
func (e *Engine) loop() {
	defer close(e.done)
	var (
		running []*job
		free    []*llama.Cache // KV caches kept for reuse
		prefix  = newPrefixCache(e.opts.PrefixCacheBytes)
		caches  []*llama.Cache
		tokens  []int
		logits  [][]float64
	)
	getCache := func() *llama.Cache {
		if n := len(free); n > 0 {
			c := free[n-1]
			free = free[:n-1]
			c.Truncate(0)
			return c
		}
		return e.model.NewCache()
	}
	recycle := func(cs ...*llama.Cache) { free = append(free, cs...) }
	release := func(j *job) {
		if j.kv != nil {
			free = append(free, j.kv)
			j.kv = nil
		}
		close(j.done)
	}
	defer func() {
		for _, j := range running {
			j.err = ErrClosed
			release(j)
		}
		for {
			select {
			case j := <-e.jobs:
				j.err = ErrClosed
				close(j.done)
			default:
				return
			}
		}
	}()
	for {
		if len(running) == 0 {
			select {
			case j := <-e.jobs:
				running = e.admit(running, j, getCache, recycle, prefix, release)
			case <-e.quit:
				return
			}
		}
	admit:
		for len(running) < e.opts.MaxBatch {
			select {
			case j := <-e.jobs:
				running = e.admit(running, j, getCache, recycle, prefix, release)
			case <-e.quit:
				return
			default:
				break admit
			}
		}
		if len(running) == 0 {
			continue
		}
		caches, tokens, logits = caches[:0], tokens[:0], logits[:0]
		for _, j := range running {
			caches, tokens, logits = append(caches, j.kv), append(tokens, j.next), append(logits, j.logits)
		}
		if err := e.model.DecodeBatch(caches, tokens, logits); err != nil {
			for _, j := range running {
				j.err = fmt.Errorf("embedded: decode: %w", err)
				release(j)
			}
			running = running[:0]
			continue
		}
		kept := running[:0]
		for _, j := range running {
			if e.step(j) {
				kept = append(kept, j)
			} else {
				release(j)
			}
		}
		clear(running[len(kept):])
		running = kept
		e.prefixHits.Store(prefix.hits)
		e.prefixMisses.Store(prefix.misses)
	}
}

// admit prefills a new request and samples its first token. It returns
// running with j appended when j goes on to decode.
func (e *Engine) admit(running []*job, j *job, getCache func() *llama.Cache, recycle func(...*llama.Cache), prefix *prefixCache,
	release func(*job)) []*job {
	if j.ctx.Err() != nil {
		j.err = fmt.Errorf("embedded: %w", j.ctx.Err())
		release(j)
		return running
	}
	vocab := e.model.Config().VocabSize
	if j.logits == nil {
		j.logits = make([]float64, vocab)
	}
	j.kv = getCache()
	pre := j.ids[:j.prefixLen]
	if hit := prefix.get(pre); hit != nil {
		j.kv.CopyFrom(hit.kv)
		copy(j.logits, hit.logits)
	} else {
		if err := e.model.Prefill(j.kv, pre, j.logits); err != nil {
			j.err = fmt.Errorf("embedded: prefill: %w", err)
			release(j)
			return running
		}
		snap := getCache() // a cache the prefix cache evicted earlier, or a new one
		snap.CopyFrom(j.kv)
		recycle(prefix.put(pre, snap, j.logits)...) // what the byte bound evicted
	}
	if rest := j.ids[j.prefixLen:]; len(rest) > 0 {
		if err := e.model.Prefill(j.kv, rest, j.logits); err != nil {
			j.err = fmt.Errorf("embedded: prefill: %w", err)
			release(j)
			return running
		}
	}
	if !e.step(j) {
		release(j)
		return running
	}
	return append(running, j)
}

// step samples the next token from j.logits, streams what became safe to
// show, and reports whether j continues.
func (e *Engine) step(j *job) bool {
	if err := j.ctx.Err(); err != nil {
		j.err = fmt.Errorf("embedded: %w", err)
		return false
	}
	var allowed []bool
	if (j.matcher != nil || j.quote != nil) && j.allowed == nil {
		j.allowed = make([]bool, len(j.logits))
	}
	switch {
	case j.matcher != nil:
		j.matcher.Mask(j.allowed)
		allowed = j.allowed
	case j.quote != nil && j.quote.mask(e.quote, j.allowed):
		allowed = j.allowed
	}
	tok := j.sampler.next(j.logits, allowed)
	if j.generated == 0 {
		j.ttft = time.Since(j.start)
	}
	eos := e.tok.EOS()
	switch {
	case tok < 0:
		j.err = fmt.Errorf("embedded: no token allowed after %d tokens (a constraint's dead end)", j.generated)
		return false
	case tok == eos:
		j.finish = "stop"
		j.emit(j.out.finish())
		return false
	}
	if j.matcher != nil {
		if err := j.matcher.Accept(tok); err != nil {
			j.err = fmt.Errorf("embedded: constrained decoding: %w", err)
			return false
		}
	}
	if j.quote != nil {
		j.quote.accept(e.quote.toks[tok])
	}
	j.generated++
	j.emit(j.out.addToken(e.tok, tok))
	switch {
	case j.out.stopped():
		j.finish = "stop"
		return false
	case j.generated >= j.maxTokens || j.kv.Len() >= e.model.Config().ContextLen:
		j.finish = "length"
	}
	if j.finish != "" {
		j.emit(j.out.finish())
		return false
	}
	j.next = tok
	return true
}

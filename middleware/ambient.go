package middleware

// AmbientQueueSize is how many pieces of ambient work (observations,
// deeds, meetings) may wait for the runtime's ambient writer; beyond it
// Observe, Deed and Meet return an *OverloadError (PriorityAmbient).
const AmbientQueueSize = 4096

// ambientWriter applies a runtime's observations, deeds and meetings off
// the game's thread, one at a time, in the order the host reported them:
// a deed reported after an observation sees it, and a meeting sees both
// (three writers, one per kind, once let a meeting run before the
// observation it was meant to spread). One per Runtime, started by the
// first piece of work.
type ambientWriter struct {
	ch chan func()
}

// queueAmbient queues work for the ambient writer without blocking. It
// returns ErrClosed, or an *OverloadError when AmbientQueueSize pieces
// are waiting. Settle and Close wait for queued work.
func (rt *Runtime) queueAmbient(work func()) error {
	rt.submitMu.Lock()
	defer rt.submitMu.Unlock()
	if rt.closed {
		return ErrClosed
	}
	w := rt.ambientWriter()
	rt.pending.Add(1) // Settle and Close wait for the work
	select {
	case w.ch <- work:
		return nil
	default:
		rt.pending.Done()
		rt.metrics.overloaded.WithLabelValues(PriorityAmbient.String()).Inc()
		return &OverloadError{Priority: PriorityAmbient, Capacity: cap(w.ch)}
	}
}

// ambientWriter returns rt's writer, starting it on first use. The caller
// holds submitMu and has checked that rt is open, so the writer is
// counted in rt.wg before Close waits on it.
func (rt *Runtime) ambientWriter() *ambientWriter {
	if rt.ambient == nil {
		rt.ambient = &ambientWriter{ch: make(chan func(), AmbientQueueSize)}
		rt.wg.Add(1)
		go rt.ambientLoop(rt.ambient)
	}
	return rt.ambient
}

func (rt *Runtime) ambientLoop(w *ambientWriter) {
	defer rt.wg.Done()
	for {
		select {
		case work := <-w.ch:
			work()
			rt.pending.Done()
		case <-rt.stop:
			// Close has waited for every accepted piece of work
			// (pending), so the queue is empty.
			return
		}
	}
}

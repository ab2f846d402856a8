package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/hearth-ai/hearth/middleware/protocol"
)

// Host is a Server running standalone on a listener: its HTTP server
// (WebSocket, /healthz, /metrics) and the runtime's ticker, started
// together by Start and stopped in order by Close. `hearth serve`, the
// benchmarks and the tests all host a server this way.
type Host struct {
	srv         *Server
	http        *http.Server
	ln          net.Listener
	stopTicking context.CancelFunc
	ticking     chan struct{}
	done        chan struct{} // closed when the HTTP server stops serving
	serveErr    error         // set before done is closed

	closeOnce sync.Once
	closeErr  error
}

// Start serves s on ln and ticks its runtime until Close.
func (s *Server) Start(ln net.Listener) *Host {
	ctx, cancel := context.WithCancel(context.Background())
	h := &Host{srv: s, ln: ln, stopTicking: cancel, ticking: make(chan struct{}), done: make(chan struct{}),
		http: &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}}
	go func() { s.Run(ctx); close(h.ticking) }()
	go func() {
		if err := h.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			h.serveErr = err
		}
		close(h.done)
	}()
	return h
}

// URL is the WebSocket endpoint, e.g. ws://127.0.0.1:7777/v1/ws.
func (h *Host) URL() string { return "ws://" + h.ln.Addr().String() + protocol.Path }

// Done is closed when the HTTP server stops serving: after Close, or when
// the listener fails (Close then returns that error).
func (h *Host) Done() <-chan struct{} { return h.done }

// Close stops in order: no new connections, every connection closed with
// protocol.CloseGoingAway (waiting for them, or for ctx), then the ticker.
// It returns the first failure, including the listener's if serving had
// stopped on its own. Later calls return the same result.
func (h *Host) Close(ctx context.Context) error {
	h.closeOnce.Do(func() {
		errs := []error{h.http.Shutdown(ctx), h.srv.Shutdown(ctx)}
		h.stopTicking()
		<-h.ticking
		<-h.done
		h.closeErr = errors.Join(append(errs, h.serveErr)...)
	})
	return h.closeErr
}

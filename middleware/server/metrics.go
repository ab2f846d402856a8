package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hearth-ai/hearth/middleware"
)

// serverMetrics are the WebSocket server's collectors, prefixed
// hearth_server_.
type serverMetrics struct {
	framesIn      prometheus.Counter
	framesOut     prometheus.Counter
	badFrames     *prometheus.CounterVec // by error code
	slowConsumers prometheus.Counter
	replyLatency  prometheus.Histogram
	authRefused   *prometheus.CounterVec // HTTP requests refused, by error code
	limited       *prometheus.CounterVec // frames and requests refused by Limits, by error code
	// quest changes refused with storage_unavailable
	storageRefused prometheus.Counter
}

func newServerMetrics() serverMetrics {
	return serverMetrics{
		framesIn:  prometheus.NewCounter(prometheus.CounterOpts{Name: "hearth_server_frames_in_total", Help: "Frames read from clients."}),
		framesOut: prometheus.NewCounter(prometheus.CounterOpts{Name: "hearth_server_frames_out_total", Help: "Frames queued to clients."}),
		badFrames: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hearth_server_bad_frames_total",
			Help: "Frames answered with a protocol error, by error code."}, []string{"code"}),
		slowConsumers: prometheus.NewCounter(prometheus.CounterOpts{Name: "hearth_server_slow_consumers_total",
			Help: "Connections closed because their send queue overflowed."}),
		replyLatency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hearth_server_reply_latency_ms",
			Help:    "Ready latency of replies sent to WebSocket clients, in milliseconds.",
			Buckets: []float64{0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 40, 45, 50, 75, 100}}),
		authRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hearth_server_auth_refused_total",
			Help: "HTTP requests (upgrades, admin calls) refused by authentication or role, by error code."}, []string{"code"}),
		storageRefused: prometheus.NewCounter(prometheus.CounterOpts{Name: "hearth_server_storage_refused_total",
			Help: "Quest changes refused with storage_unavailable because the store could not write them."}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hearth_server_limited_total",
			Help: "Frames and requests refused by the server's limits or player binding, by error code."}, []string{"code"}),
	}
}

func (m serverMetrics) register(reg prometheus.Registerer, s *Server) error {
	conns := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "hearth_server_connections", Help: "Open WebSocket connections."}, s.connCount)
	memErrs := prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hearth_runtime_memory_write_errors_total",
		Help: "Turns whose NPC memory write failed (full disk, read-only data directory); their replies were delivered."},
		func() float64 { return float64(s.rt.MemoryWriteErrors()) })
	for _, c := range []prometheus.Collector{m.framesIn, m.framesOut, m.badFrames, m.slowConsumers, m.replyLatency, m.authRefused, m.limited, m.storageRefused, conns, memErrs, newUsageCollector(s)} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}

func (m serverMetrics) observe(ev *middleware.Event) {
	m.replyLatency.Observe(float64(ev.Latency) / 1e6)
}

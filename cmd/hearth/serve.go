package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/server"
	"github.com/prometheus/client_golang/prometheus"
)

func cmdServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf stackFlags
	sf.register(fs, ".hearth/data")
	sf.registerModel(fs, "shipped")
	sf.registerRemote(fs)
	sf.registerConfig(fs)
	sf.registerPrompts(fs)
	addr := fs.String("addr", "127.0.0.1:7777", "listen address (host:port; port 0 picks a free one)")
	sendQueue := fs.Int("send-queue", 0, "per-connection send queue in frames (0 = server default)")
	openAI := fs.Bool("openai", false, "serve the -model alone on the OpenAI-compatible HTTP API (/v1/models, /v1/chat/completions, /v1/embeddings) instead of the NPC world")
	authKeys := fs.String("auth-keys", "", "API keys file (YAML or JSON: id, role, tenant, sha256 of the key); with neither this nor -jwt-secret-env the server is open to anyone (docs/security.md)")
	jwtSecretEnv := fs.String("jwt-secret-env", "", "name of the environment variable holding the HS256 JWT secret (>= 32 bytes), e.g. HEARTH_JWT_SECRET; never pass the secret itself")
	auditLog := fs.String("audit-log", "", "append-only JSON-lines audit log of admin actions (default: the server log)")
	defLimits := server.DefaultLimits()
	connRate := fs.Float64("conn-rate", defLimits.Conn.PerSecond, "frames per second per connection, burst twice that (0 = no limit)")
	playerRate := fs.Float64("player-rate", defLimits.Player.PerSecond, "frames per second per player across its connections, burst twice that (0 = no limit)")
	maxInFlight := fs.Int("max-in-flight", defLimits.MaxInFlight, "talk/bark/quest.request waiting for an answer per connection (0 = no cap)")
	dailyTokens := fs.Int64("player-daily-tokens", 0, "model tokens (prompt + output) each player may use per UTC day; over it talk and bark get quota_exceeded (0 = no cap)")
	dailyUSD := fs.Float64("player-daily-usd", 0, "spend in US dollars each player may cause per UTC day, from the backends' prices (0 = no cap)")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler (net/http/pprof: heap, goroutines, CPU) on this separate address, e.g. 127.0.0.1:6060;\n"+
		"loopback only: the profiles show memory contents (default: off)")
	otlpEndpoint := fs.String("otlp-endpoint", "", otlpFlagHelp)
	if err := sf.parse(fs, args); err != nil {
		return err
	}
	secCfg := server.SecurityConfig{KeysFile: *authKeys, JWTSecretEnv: *jwtSecretEnv, AuditFile: *auditLog,
		Limits: server.Limits{Conn: server.Rate{PerSecond: *connRate}, Player: server.Rate{PerSecond: *playerRate}, MaxInFlight: *maxInFlight,
			Daily: server.DailyQuota{Tokens: *dailyTokens, SpendUSD: *dailyUSD}}}
	if sf.cfg.check {
		return checkConfig(&sf, fs, secCfg, stdout)
	}
	if *sendQueue < 0 {
		return fmt.Errorf("-send-queue %d: must be 0 (default) or positive", *sendQueue)
	}
	if *pprofAddr != "" {
		stop, err := servePprof(*pprofAddr)
		if err != nil {
			return err
		}
		defer stop()
	}
	// Listen first: a taken port fails before any lore is ingested.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %w", *addr, err)
	}
	defer ln.Close()
	if *openAI && *otlpEndpoint != "" {
		return fmt.Errorf("-otlp-endpoint: not used with -openai, which serves the model alone and makes no spans")
	}
	if *openAI {
		// The OpenAI API takes the same credentials (Authorization: Bearer
		// with an API key or a JWT); the WebSocket server's other settings
		// have nothing to act on there, so naming one is a mistake, not a
		// silent no-op.
		var wsOnly []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "audit-log", "conn-rate", "player-rate", "max-in-flight", "send-queue", "player-daily-tokens", "player-daily-usd", "remote", "config",
				"prompts", "prompts-watch":
				wsOnly = append(wsOnly, "-"+f.Name)
			}
		})
		if len(wsOnly) > 0 {
			return fmt.Errorf("%s: not used with -openai, which serves the model alone (API keys and JWTs are: -auth-keys, -jwt-secret-env)", strings.Join(wsOnly, ", "))
		}
		sec, err := server.LoadSecurity(server.SecurityConfig{KeysFile: *authKeys, JWTSecretEnv: *jwtSecretEnv}, os.Getenv)
		if err != nil {
			return err
		}
		logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: sf.level}))
		var auth func(*http.Request) error
		if sec.Enabled() {
			auth = func(r *http.Request) error { _, err := sec.Authenticate(r); return err }
		} else {
			logger.Warn("authentication is off: anyone who can reach this address may use the model; use -auth-keys or -jwt-secret-env in production (docs/security.md)")
		}
		return serveOpenAI(ctx, sf.model, ln, stdout, stderr, logger, auth)
	}
	// Security settings fail before any lore is ingested, like the port.
	sec, err := server.LoadSecurity(secCfg, os.Getenv)
	if err != nil {
		return err
	}
	defer sec.Close()
	// Tracing exists before the runtime and flushes after it stops.
	stopTracing, err := startTracing(ctx, fs, *otlpEndpoint, sf.cfg.file, stderr)
	if err != nil {
		return err
	}
	defer stopTracing()
	// A broken template fails before any lore is ingested, too.
	if sf.prompts.set, err = sf.openPrompts(stderr, true); err != nil {
		return err
	}
	defer sf.prompts.set.Close() // after the Stack's Close: deferred first
	st, logger, err := sf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	srvOpts := server.Options{Logger: logger, SendQueue: *sendQueue, Quests: st.QuestLog,
		Collectors: []prometheus.Collector{inference.NewCollector(st.Router, st.Cache), inference.NewPromptCollector(sf.prompts.set)}}
	sec.Apply(&srvOpts)
	srv, err := server.New(st.Runtime, srvOpts)
	if err != nil {
		return err
	}
	return serve(ctx, st, srv, ln, stdout, logger)
}

// serve runs srv on ln until ctx ends, then shuts down in order: stop
// accepting, close connections, stop the runtime, close the store.
func serve(ctx context.Context, st *middleware.Stack, srv *server.Server, ln net.Listener, stdout io.Writer, logger *slog.Logger) error {
	h := srv.Start(ln)
	// Tests and scripts read this line for the address.
	fmt.Fprintf(stdout, "hearth: serving %d NPCs on %s (tick %g Hz, budget %v)\n",
		len(st.Roster.Definitions()), h.URL(), st.Runtime.Options().TickRate, st.Runtime.Options().Budget)
	// With a model above the floor, pre-generate the lines every stranger
	// shares (greetings, news, barks) while the server is still idle, so
	// that first lines are the model's and instant (issue 6).
	pregenCtx, stopPregen := context.WithCancel(ctx)
	pregenDone := make(chan struct{})
	go func() {
		defer close(pregenDone)
		if len(st.Router.Backends()) < 2 || st.Cache == nil {
			return
		}
		start := time.Now()
		rep, err := st.Runtime.Pregenerate(pregenCtx, "", middleware.PregenOptions{})
		if err == nil {
			logger.Info("pre-generated first lines", "asked", rep.Asked, "cached", rep.Cached, "floor only", rep.Floor,
				"ms", time.Since(start).Milliseconds())
		}
	}()
	defer func() { stopPregen(); <-pregenDone }()
	failed := false
	select {
	case <-ctx.Done():
	case <-h.Done():
		failed = true // the listener broke
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := h.Close(shutCtx)
	fmt.Fprintln(stdout, "hearth: stopped")
	if !failed && err != nil {
		// A client that does not answer the close frame in time is not a
		// failure of the server.
		fmt.Fprintln(stdout, "hearth: shutdown:", err)
		return nil
	}
	return err
}

// servePprof serves net/http/pprof on addr, which must be a loopback
// address: heap profiles hold memory contents (players' lines, keys in
// flight). It returns a function that stops it.
func servePprof(addr string) (stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-pprof %q: want host:port, e.g. 127.0.0.1:6060", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("-pprof %q: must be a loopback address (127.0.0.1, ::1 or localhost): profiles expose memory contents", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-pprof %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	return func() { hs.Close() }, nil
}

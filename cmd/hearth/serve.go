package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/server"
)

func cmdServe(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf stackFlags
	sf.register(fs, ".hearth/data")
	addr := fs.String("addr", "127.0.0.1:7777", "listen address (host:port; port 0 picks a free one)")
	sendQueue := fs.Int("send-queue", 0, "per-connection send queue in frames (0 = server default)")
	if err := sf.parse(fs, args); err != nil {
		return err
	}
	if *sendQueue < 0 {
		return fmt.Errorf("-send-queue %d: must be 0 (default) or positive", *sendQueue)
	}
	// Listen first: a taken port fails before any lore is ingested.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %w", *addr, err)
	}
	defer ln.Close()
	st, logger, err := sf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	srv, err := server.New(st.Runtime, server.Options{Logger: logger, SendQueue: *sendQueue, Quests: st.QuestLog})
	if err != nil {
		return err
	}
	return serve(ctx, st, srv, ln, stdout)
}

// serve runs srv on ln until ctx ends, then shuts down in order: stop
// accepting, close connections, stop the runtime, close the store.
func serve(ctx context.Context, st *middleware.Stack, srv *server.Server, ln net.Listener, stdout io.Writer) error {
	httpSrv := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	runCtx, stopRun := context.WithCancel(context.Background())
	ticking := make(chan struct{})
	go func() { srv.Run(runCtx); close(ticking) }()
	served := make(chan error, 1)
	go func() { served <- httpSrv.Serve(ln) }()
	n := len(st.Roster.Definitions())
	// Tests and scripts read this line for the address.
	fmt.Fprintf(stdout, "hearth: serving %d NPCs on ws://%s/v1/ws (tick %g Hz, budget %v)\n",
		n, ln.Addr(), st.Runtime.Options().TickRate, st.Runtime.Options().Budget)
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	httpSrv.Shutdown(shutCtx)
	srv.Shutdown(shutCtx)
	stopRun()
	<-ticking
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	fmt.Fprintln(stdout, "hearth: stopped")
	return err
}

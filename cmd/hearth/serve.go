package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
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
	srv, err := server.New(st.Runtime, server.Options{Logger: logger, SendQueue: *sendQueue, Quests: st.QuestLog,
		Collectors: []prometheus.Collector{inference.NewCollector(st.Router, st.Cache)}})
	if err != nil {
		return err
	}
	return serve(ctx, st, srv, ln, stdout)
}

// serve runs srv on ln until ctx ends, then shuts down in order: stop
// accepting, close connections, stop the runtime, close the store.
func serve(ctx context.Context, st *middleware.Stack, srv *server.Server, ln net.Listener, stdout io.Writer) error {
	h := srv.Start(ln)
	// Tests and scripts read this line for the address.
	fmt.Fprintf(stdout, "hearth: serving %d NPCs on %s (tick %g Hz, budget %v)\n",
		len(st.Roster.Definitions()), h.URL(), st.Runtime.Options().TickRate, st.Runtime.Options().Budget)
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

package bench_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/bench"
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/middleware/server"
	"github.com/hearth-ai/hearth/sim/world"
)

func TestRunMeasuresEveryReply(t *testing.T) {
	st, err := middleware.OpenStack(context.Background(), middleware.StackConfig{World: world.FS()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv, err := server.New(st.Runtime, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := srv.Start(ln)
	defer h.Close(context.Background())

	for _, sub := range []string{protocol.SubprotocolMsgpack, protocol.SubprotocolJSON} {
		rep, err := bench.Run(context.Background(), bench.Config{
			URL: h.URL(), Clients: 4,
			Duration: 500 * time.Millisecond, Subprotocol: sub, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		// The template floor answers, or the response cache repeats what
		// it said (nothing else is configured).
		if rep.Replies == 0 || rep.Errors != 0 || int64(rep.Tiers["template"]+rep.Tiers["cache"]) != rep.Replies ||
			rep.OnTime+rep.Late != rep.Replies || rep.Ready.Max <= 0 || rep.RoundTrip.P50 < rep.Ready.P50 {
			t.Fatalf("%s: inconsistent report:\n%s", sub, rep.JSON())
		}
		if md := rep.Markdown(); !strings.Contains(md, "| ready (server: submit → ready) |") {
			t.Fatalf("markdown report lacks the latency table:\n%s", md)
		}
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	for _, cfg := range []bench.Config{{Clients: 0, Duration: time.Second}, {Clients: 1}} {
		if _, err := bench.Run(context.Background(), cfg); err == nil {
			t.Fatalf("Run(%+v) accepted a bad config", cfg)
		}
	}
}

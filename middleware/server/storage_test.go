package server_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/middleware/server"
)

// TestFullDiskDegradesService switches a real store into failing its
// writes, as a full disk or a data directory remounted read-only would:
// talk keeps answering (memory is an enrichment) and the failures show in
// a metric; a quest change is refused with storage_unavailable and is not
// in the log; once the disk heals, the same accept succeeds.
func TestFullDiskDegradesService(t *testing.T) {
	ts := launch(t, t.TempDir(), server.Options{}, true)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "aria", PlayerName: "Aria"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	offer, err := c.RequestQuest(ctx, protocol.QuestRequest{Level: 3, Location: "kettle-green", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}

	ts.st.Store.InjectWriteFault(syscall.ENOSPC)
	npcID := c.Welcome().NPCs[0].ID
	for i := 0; i < 3; i++ {
		r, err := c.Talk(ctx, npcID, "Any news from the mill?", 0, nil)
		if err != nil || r.Text == "" {
			t.Fatalf("talk %d with a full disk: %+v, %v; want a reply", i, r, err)
		}
	}
	_, err = c.AcceptQuest(ctx, offer.Quest.ID)
	wantCode(t, err, protocol.CodeStorageUnavailable, "quest.accept")
	ts.st.Runtime.Settle() // the turns' memory writes have been tried
	if n := ts.st.Runtime.MemoryWriteErrors(); n != 3 {
		t.Fatalf("MemoryWriteErrors = %d, want 3", n)
	}
	resp, err := http.Get(ts.httpURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"hearth_runtime_memory_write_errors_total 3", "hearth_server_storage_refused_total 1"} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
	log, err := c.QuestLog(ctx)
	if err != nil || log.Total != 0 {
		t.Fatalf("quest log after a refused accept: %+v, %v; want it empty", log, err)
	}

	ts.st.Store.InjectWriteFault(nil)
	up, err := c.AcceptQuest(ctx, offer.Quest.ID)
	if err != nil || up.Kind != protocol.QuestUpdateAccepted {
		t.Fatalf("accept after the disk healed: %+v, %v", up, err)
	}
}

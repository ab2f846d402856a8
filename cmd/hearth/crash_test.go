package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
)

// memoryBound is the documented window of NPC memory a crash may lose
// (docs/security.md, "Crash safety"): a turn whose reply was delivered
// longer ago than this is in memory after a restart. It is
// store.DefaultOptions' SyncInterval, the window that also covers a power
// loss; a killed process loses less (only the writes not yet made).
const memoryBound = time.Second

// crashLoad is what the clients saw acknowledged before the kill.
type crashLoad struct {
	mu sync.Mutex
	// quests: player → quest id → the last acknowledged state.
	quests map[string]map[string]string
	acks   int
	// turns: every delivered reply, with when the client received it.
	turns []deliveredTurn
}

type deliveredTurn struct {
	player, npc, said string
	at                time.Time
}

func (l *crashLoad) ackQuest(player, id, state string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.quests[player] == nil {
		l.quests[player] = map[string]string{}
	}
	l.quests[player][id] = state
	l.acks++
}

func (l *crashLoad) delivered(t deliveredTurn) {
	l.mu.Lock()
	l.turns = append(l.turns, t)
	l.mu.Unlock()
}

// ready reports whether the load has gone on long enough for the kill to
// test something: enough acknowledged quest writes, and delivered turns
// older than memoryBound.
func (l *crashLoad) ready() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	old := 0
	for _, t := range l.turns {
		if time.Since(t.at) > memoryBound {
			old++
		}
	}
	return l.acks >= 24 && old >= 20
}

// drive plays one client until its connection dies: talk to the NPCs in
// turn, and now and then ask for a quest, accept it and sometimes
// abandon it. Only what the server acknowledged is recorded; a call cut
// off by the kill is not.
func drive(c *client.Client, player string, n int, l *crashLoad) {
	ctx := context.Background()
	npcs := c.Welcome().NPCs
	for k := 0; ; k++ {
		said := fmt.Sprintf("Tell me of the harvest, %s, turn %d.", player, k)
		npc := npcs[(k+n)%len(npcs)].ID
		if _, err := c.Talk(ctx, npc, said, 0, nil); err != nil {
			return
		}
		l.delivered(deliveredTurn{player: player, npc: npc, said: said, at: time.Now()})
		if k%2 != 0 {
			continue
		}
		offer, err := c.RequestQuest(ctx, protocol.QuestRequest{Level: 3, Location: "kettle-green", Seed: uint64(n*100000 + k + 1)})
		if err != nil {
			if c.Err() != nil {
				return
			}
			continue // nothing suitable: not a write
		}
		up, err := c.AcceptQuest(ctx, offer.Quest.ID)
		if err != nil {
			if c.Err() != nil {
				return
			}
			continue // already accepted, prerequisites: refused, not written
		}
		l.ackQuest(player, up.QuestID, "active")
		if k%4 == 0 {
			up, err := c.AbandonQuest(ctx, offer.Quest.ID)
			if err != nil {
				if c.Err() != nil {
					return
				}
				continue
			}
			l.ackQuest(player, up.QuestID, "abandoned")
		}
	}
}

// TestKill9KeepsAcknowledgedWrites kills a real `hearth serve` with
// SIGKILL while several clients talk and accept quests, restarts it on the
// same data directory and checks that every quest change a client saw
// acknowledged is in the quest log, and every turn delivered longer than
// memoryBound before the kill is in the NPC's memory.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	data := t.TempDir()
	p := serveProc(t, data, "-model", "off")
	load := &crashLoad{quests: map[string]map[string]string{}}
	const players = 4
	var wg sync.WaitGroup
	for n := 0; n < players; n++ {
		player := fmt.Sprintf("crash-p%d", n)
		c := dial(t, p.url, player, fmt.Sprintf("Crasher%d", n))
		wg.Add(1)
		go func() {
			defer wg.Done()
			drive(c, player, n, load)
		}()
	}
	for !load.ready() {
		select {
		case <-p.done:
			t.Fatalf("hearth serve exited under load:\n%s", p.output)
		case <-time.After(20 * time.Millisecond):
		}
	}
	// Mid-load: the clients are still sending.
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-p.done
	wg.Wait() // every client has seen its connection die

	load.mu.Lock()
	defer load.mu.Unlock()
	t.Logf("before the kill: %d quest changes acknowledged, %d replies delivered", load.acks, len(load.turns))

	// Restart on the same directory: it opens (Badger replays its logs)
	// and serves the acknowledged quests.
	p2 := serveProc(t, data, "-model", "off")
	for player, quests := range load.quests {
		c := dial(t, p2.url, player, "")
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		log, err := c.QuestLog(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if int(log.Total) < len(quests) {
			t.Errorf("%s: the restarted server's quest log has %d quests, %d were acknowledged", player, log.Total, len(quests))
		}
	}
	p2.stop(t)

	// The store itself, after the server is gone: every acknowledged
	// quest change, and the memory of every turn older than the bound.
	st, err := store.Open(store.DefaultOptions(data))
	if err != nil {
		t.Fatalf("reopen %s after the kill: %v", data, err)
	}
	defer st.Close()
	for player, quests := range load.quests {
		recs, err := st.QuestLog(player)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, r := range recs {
			got[r.QuestID] = r.State
		}
		for id, acked := range quests {
			// A later change may have been written whose acknowledgement
			// the kill cut off: an acknowledged accept may read abandoned.
			if s := got[id]; s != acked && !(acked == "active" && s == "abandoned") {
				t.Errorf("%s: quest %s was acknowledged %s; the log after the kill has %q", player, id, acked, s)
			}
		}
	}
	older, lostYoung := 0, 0
	memories := map[[2]string]string{}
	for _, turn := range load.turns {
		key := [2]string{turn.npc, turn.player}
		if _, ok := memories[key]; !ok {
			recs, err := st.RecentMemories(turn.npc, turn.player, 0)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, r := range recs {
				b.WriteString(r.Text)
				b.WriteByte('\n')
			}
			memories[key] = b.String()
		}
		in := strings.Contains(memories[key], turn.said)
		if killed.Sub(turn.at) <= memoryBound {
			if !in {
				lostYoung++
			}
			continue
		}
		older++
		if !in {
			t.Errorf("%s's turn %q to %s, delivered %v before the kill, is not in memory", turn.player, turn.said, turn.npc, killed.Sub(turn.at))
		}
	}
	t.Logf("memory: %d turns older than %v checked; of the %d younger ones, %d were lost", older, memoryBound, len(load.turns)-older, lostYoung)
	if older == 0 {
		t.Fatal("no delivered turn was older than the bound: the test checked nothing")
	}
}

// TestServeRefusesAReadOnlyDataDirectory: `hearth serve` on a data
// directory it cannot write exits at once with an error naming it,
// instead of crashing later on the first write.
func TestServeRefusesAReadOnlyDataDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if os.Geteuid() == 0 {
		// root writes through file modes; /sys is a read-only mount.
		dir = "/sys/fs"
		if _, err := os.Stat(dir); err != nil {
			t.Skip("running as root without a read-only /sys/fs")
		}
	}
	out, err := exec.Command(hearthBin, "serve", "-addr", "127.0.0.1:0", "-data", dir, "-model", "off").CombinedOutput()
	if err == nil {
		t.Fatalf("hearth serve -data %s succeeded:\n%s", dir, out)
	}
	if want := fmt.Sprintf("data directory %q", dir); !strings.Contains(string(out), want) {
		t.Fatalf("hearth serve -data %s: %v; want %s in:\n%s", dir, err, want, out)
	}
	t.Logf("%s", out)
}

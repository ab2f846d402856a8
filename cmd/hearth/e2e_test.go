package main

// End-to-end tests: a real `hearth serve` process, real WebSocket clients
// (the Go client, `hearth chat`, the Python client), a real Badger store on
// disk and a restart in between.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/internal/shareddata"

	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/server"
	"go.uber.org/goleak"
)

var hearthBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hearth-e2e")
	if err != nil {
		panic(err)
	}
	hearthBin = filepath.Join(dir, "hearth")
	out, err := exec.Command("go", "build", "-o", hearthBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build hearth: %v\n%s", err, out)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// srdDir returns the SRD lore folder, or skips the test when it is absent.
func srdDir(t *testing.T) string { return shareddata.SRDDir(t) }

type proc struct {
	cmd    *exec.Cmd
	url    string
	output *lockedWriter
	done   chan struct{}
}

// startProc starts cmd (in its own process group), waits for the serving
// line and returns the WebSocket URL. The process is stopped with SIGTERM
// at cleanup if still running.
func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p, m := startProcUntil(t, cmd, servingLine)
	p.url = m[2]
	return p
}

// startProcUntil starts cmd like startProc and waits for a stdout line
// matching ready, returning its submatches.
func startProcUntil(t *testing.T, cmd *exec.Cmd, ready *regexp.Regexp) (*proc, []string) {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, output: &lockedWriter{b: &strings.Builder{}}, done: make(chan struct{})}
	cmd.Stderr = p.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	matches := make(chan []string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := ready.FindStringSubmatch(sc.Text()); m != nil {
				select { // the first match; later ones must not block the drain
				case matches <- m:
				default:
				}
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(func() { p.stop(t) })
	select {
	case m := <-matches:
		return p, m
	case <-p.done:
		t.Fatalf("%v exited before serving:\n%s", cmd.Args, p.output)
	case <-time.After(120 * time.Second):
		t.Fatalf("%v did not start serving in time:\n%s", cmd.Args, p.output)
	}
	return nil, nil
}

func (p *proc) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		t.Errorf("%v ignored SIGTERM", p.cmd.Args)
	}
}

// lockedWriter collects a process's stderr; exec copies into it from its
// own goroutine while a test may read it.
type lockedWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// serveProc starts `hearth serve` on a free port with data as its -data.
// Unless extra names a -model, the server runs with -model off: these
// tests assert the template floor's lore lines, which are deterministic,
// and they need not pay the embedded model's load and pre-generation.
func serveProc(t *testing.T, data string, extra ...string) *proc {
	args := []string{"serve", "-addr", "127.0.0.1:0", "-data", data}
	if !slices.Contains(extra, "-model") {
		args = append(args, "-model", "off")
	}
	args = append(args, extra...)
	return startProc(t, exec.Command(hearthBin, args...))
}

func dial(t *testing.T, url, player, name string) *client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, url, client.Options{PlayerID: player, PlayerName: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func talk(t *testing.T, c *client.Client, npcID, text string) client.Reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := c.Talk(ctx, npcID, text, 0, nil)
	if err != nil {
		t.Fatalf("talk to %s %q: %v", npcID, text, err)
	}
	if r.Tier == "" || r.LatencyMS <= 0 || r.BudgetMS == 0 {
		t.Fatalf("reply without tier, latency or budget: %+v", r)
	}
	return r
}

// TestMakeRunServesOffline runs the README's command itself.
func TestMakeRunServesOffline(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make not installed")
	}
	cmd := exec.Command("make", "-s", "run", "ADDR=127.0.0.1:0", "DATA="+t.TempDir())
	cmd.Dir = repoRoot(t)
	p := startProc(t, cmd)
	c := dial(t, p.url, "make-run-player", "Tester")
	if len(c.Welcome().NPCs) < 8 {
		t.Fatalf("welcome lists %d NPCs, want the demo world's 8 or more", len(c.Welcome().NPCs))
	}
	r := talk(t, c, c.Welcome().NPCs[0].ID, "Hello!")
	if r.Text == "" || !r.OnTime {
		t.Fatalf("reply %+v: want text, on time", r)
	}
}

func TestNPCRemembersPlayerAfterRestart(t *testing.T) {
	data := t.TempDir()
	p := serveProc(t, data)
	c := dial(t, p.url, "player-aria", "Aria")
	npcID := c.Welcome().NPCs[0].ID
	talk(t, c, npcID, "Hello! My name is Aria.")
	talk(t, c, npcID, "What can you tell me about this village?")
	c.Close()
	p.stop(t)

	p2 := serveProc(t, data)
	// The same player comes back without saying their name.
	c2 := dial(t, p2.url, "player-aria", "")
	r := talk(t, c2, npcID, "Hello again!")
	if !strings.Contains(r.Text, "Aria") {
		t.Fatalf("after a restart the NPC greeted a returning player without their name: %q", r.Text)
	}
	// A stranger is not greeted as Aria.
	c3 := dial(t, p2.url, "player-new", "")
	if r := talk(t, c3, npcID, "Hello!"); strings.Contains(r.Text, "Aria") {
		t.Fatalf("a new player was greeted with another player's name: %q", r.Text)
	}
}

func TestAnswersFromTheSRD(t *testing.T) {
	srd := srdDir(t)
	p := serveProc(t, t.TempDir(), "-lore", "srd="+srd)
	c := dial(t, p.url, "player-srd", "Aria")
	// The NPC whose knowledge scope includes the SRD: the one that knows
	// "srd" per sim/world/npcs.
	npcID := srdNPC(t)
	r := talk(t, c, npcID, "What is the aboleth's armor class?")
	if !strings.Contains(r.Text, "17") {
		t.Fatalf("asked about the aboleth's armor class, got %q; want the SRD's 17", r.Text)
	}
	r = talk(t, c, npcID, "How many hit points does an aboleth have?")
	if !strings.Contains(r.Text, "150") {
		t.Fatalf("asked about the aboleth's hit points, got %q; want the SRD's 150", r.Text)
	}
}

func TestChatHoldsAConversation(t *testing.T) {
	p := serveProc(t, t.TempDir())
	npcID := srdNPC(t)
	cmd := exec.Command(hearthBin, "chat", "-server", p.url, "-npc", npcID, "-player", "chat-player", "-name", "Aria")
	cmd.Stdin = strings.NewReader("Hello!\nWhat can you tell me about this village?\n/npcs\n/quit\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("hearth chat: %v\n%s", err, out)
	}
	replies := regexp.MustCompile(`\[(\w+) · ([0-9.]+) ms · on time`).FindAllStringSubmatch(string(out), -1)
	if len(replies) != 2 {
		t.Fatalf("want 2 replies with tier and latency, got %d:\n%s", len(replies), out)
	}
}

func TestPythonClientHoldsAConversation(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import websockets, msgpack").Run(); err != nil {
		if os.Getenv("HEARTH_REQUIRE_PYTHON") != "" {
			t.Fatalf("Debian's python3-websockets and python3-msgpack are required (HEARTH_REQUIRE_PYTHON is set): %v", err)
		}
		t.Skip("Debian's python3-websockets and python3-msgpack are not installed (apt-get install python3-websockets python3-msgpack)")
	}
	p := serveProc(t, t.TempDir())
	script := filepath.Join(repoRoot(t), "clients", "python", "hearth_client.py")
	for _, mode := range [][]string{nil, {"--json"}} {
		args := append([]string{script, "--url", p.url, "--player", "py-player", "--name", "Aria",
			"--npc", srdNPC(t), "--say", "Hello!", "--say", "What can you tell me about this village?",
			"--bark", "proximity", "--bark", "proximity"}, mode...)
		out, err := exec.Command(py, args...).Output()
		if err != nil {
			t.Fatalf("python client %v: %v\n%s", mode, err, out)
		}
		var n int
		var tiers []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			var r struct {
				Text      string  `json:"text"`
				Tier      string  `json:"tier"`
				LatencyMS float64 `json:"latency_ms"`
				OnTime    bool    `json:"on_time"`
			}
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("python client printed %q: %v", line, err)
			}
			if r.Text == "" || r.Tier == "" || r.LatencyMS <= 0 || !r.OnTime {
				t.Fatalf("python client reply %+v: want text, tier, latency, on time", r)
			}
			tiers = append(tiers, r.Tier)
			n++
		}
		// Two talks, then the same bark twice: the second comes from the
		// response cache (a bark is the same for every listener).
		if n != 4 || tiers[3] != "cache" {
			t.Fatalf("python client %v: %d replies (tiers %v), want 4 with the last from the cache:\n%s", mode, n, tiers, out)
		}
	}
}

// srdNPC finds the demo NPC whose knowledge sources include "srd".
func srdNPC(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(repoRoot(t), "sim", "world", "npcs")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if regexp.MustCompile(`(?m)^\s+sources:.*\bsrd\b`).Match(b) {
			m := regexp.MustCompile(`(?m)^id:\s*(\S+)`).FindSubmatch(b)
			return string(m[1])
		}
	}
	t.Fatal("no demo NPC has srd in its knowledge sources")
	return ""
}

// `hearth serve` (no -model: the default, as `make run` starts it) has the
// shipped model as its neural tier: with room in the budget a question is
// answered by it, quoting the lore, and with the default 50 ms a reply is
// on time whichever tier gives it.
func TestServeAnswersFromTheShippedModel(t *testing.T) {
	p := startProc(t, exec.Command(hearthBin, "serve", "-addr", "127.0.0.1:0", "-data", "", "-log", "warn"))
	c := dial(t, p.url, "model-player", "Tess")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := c.Talk(ctx, "hobb-fairweather", "What is the Tipped Kettle?", 3000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tier != "embedded" || !strings.HasPrefix(r.Backend, "embedded") || strings.TrimSpace(r.Text) == "" || !r.OnTime {
		t.Fatalf("reply %+v: want the embedded tier, on time", r)
	}
	if !strings.Contains(r.Text, "Tipped Kettle") {
		t.Fatalf("the model's reply %q does not mention the Tipped Kettle", r.Text)
	}
	if r := talk(t, c, "hobb-fairweather", "Who runs the mill?"); !r.OnTime || r.Text == "" {
		t.Fatalf("50 ms reply %+v: want text, on time", r)
	}
	if r := talk(t, c, "hobb-fairweather", "Where is the ford?"); !r.OnTime || r.Text == "" {
		t.Fatalf("50 ms reply %+v: want text, on time", r)
	}
}

// TestChatWithAnAPIKey: against a server with -auth-keys, hearth chat
// without a key prints the server's reason for the refusal, and with
// -key-env holds the conversation.
func TestChatWithAnAPIKey(t *testing.T) {
	keys, key := clientKeyFile(t, "terminal")
	p := serveProc(t, t.TempDir(), "-auth-keys", keys)
	out, err := exec.Command(hearthBin, "chat", "-server", p.url, "-player", "p1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no credential") {
		t.Fatalf("chat without a key: %v\n%s; want the server's reason (no credential)", err, out)
	}
	cmd := exec.Command(hearthBin, "chat", "-server", p.url, "-player", "p1", "-key-env", "HEARTH_TEST_KEY")
	cmd.Env = append(os.Environ(), "HEARTH_TEST_KEY="+key)
	cmd.Stdin = strings.NewReader("Hello!\n/quit\n")
	out, err = cmd.CombinedOutput()
	if err != nil || !regexp.MustCompile(`on time`).Match(out) {
		t.Fatalf("chat with -key-env: %v\n%s", err, out)
	}
}

// clientKeyFile mints a client API key of tenant acme named id and writes
// the keys file hearth serve -auth-keys reads (hashes only); it returns
// the file and the plaintext key.
func clientKeyFile(t *testing.T, id string) (path, key string) {
	t.Helper()
	key, rec, err := server.NewAPIKey(id, server.RoleClient, "acme")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), "keys.json")
	b, _ := json.Marshal(map[string]any{"keys": []server.APIKeyRecord{rec}})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, key
}

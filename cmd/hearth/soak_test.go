package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference/openai/llmsim"
)

// TestSoakRunsEndToEnd runs `hearth soak` for 20 s, as a user would: the
// real binary starts llmsim, the fault proxy and a `hearth serve` child,
// drives the sim over WebSocket and scrapes /metrics. It checks that the
// command finishes, prints a sample table and a summary with goroutine and
// heap numbers, that the players got answers, that the server stopped
// (no hearth serve child left running), and logs the summary. It does not
// judge the tolerances: 20 s is all warm-up for a heap, and the verdict is
// the 10-minute run's (docs/benchmarks.md, Soak).
func TestSoakRunsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("a 20 s soak against a child server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hearthBin, "soak", "-duration", "20s", "-sample", "2s", "-players", "8")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	text := out.String()
	t.Logf("hearth soak output:\n%s", text)
	// Exit status 1 with "soak:" is a verdict on growth (judged by the
	// 10-minute run); anything else is the command failing.
	if err != nil && !strings.Contains(text, "result: FAIL") {
		t.Fatalf("hearth soak: %v", err)
	}

	rows := regexp.MustCompile(`(?m)^\s+\d+s\s+(\d+)\s+([0-9.]+)\s`).FindAllStringSubmatch(text, -1)
	if len(rows) < 5 {
		t.Fatalf("%d sample rows, want about 10 (one per 2 s)", len(rows))
	}
	for _, r := range rows {
		if g, _ := strconv.Atoi(r[1]); g <= 0 {
			t.Fatalf("sample row %q: no goroutine count", r[0])
		}
	}
	for _, want := range []string{"goroutines ", "heap in use ", "heap goal ", "slope ", "faults: ", "result: "} {
		if !strings.Contains(text, want) {
			t.Fatalf("summary lacks %q", want)
		}
	}
	m := regexp.MustCompile(`sim: +\d+ ticks, (\d+) answered, ([0-9.]+) % on time`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("summary lacks the sim's line")
	}
	if n, _ := strconv.Atoi(m[1]); n == 0 {
		t.Fatal("the players got no answers")
	}
	// The remote model was called through the proxy.
	if m := regexp.MustCompile(`of (\d+) remote requests`).FindStringSubmatch(text); m == nil || m[1] == "0" {
		t.Fatalf("the proxy saw no remote request: %v", m)
	}
	// The child is gone: its pid no longer exists.
	pm := regexp.MustCompile(`\(pid (\d+)\)`).FindStringSubmatch(text)
	if pm == nil {
		t.Fatal("no server pid printed")
	}
	pid, _ := strconv.Atoi(pm[1])
	if err := syscall.Kill(pid, 0); err == nil {
		syscall.Kill(-pid, syscall.SIGKILL)
		t.Fatalf("the hearth serve child (pid %d) is still running after the soak", pid)
	}
}

// TestSoakStopsItsServerWhenInterrupted: a soak interrupted (SIGINT, as
// by Ctrl-C) mid-run stops its child server and exits.
func TestSoakStopsItsServerWhenInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, hearthBin, "soak", "-duration", "10m", "-sample", "1s", "-players", "2")
	var out lockedWriter
	out.b = &strings.Builder{}
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pidRe := regexp.MustCompile(`\(pid (\d+)\)`)
	var pid int
	for pid == 0 {
		if m := pidRe.FindStringSubmatch(out.String()); m != nil {
			pid, _ = strconv.Atoi(m[1])
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the soak printed no server pid:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("the soak did not exit after SIGINT:\n%s", out.String())
	}
	if err == nil {
		t.Fatalf("an interrupted soak exited 0:\n%s", out.String())
	}
	if err := syscall.Kill(pid, 0); err == nil {
		syscall.Kill(-pid, syscall.SIGKILL)
		t.Fatalf("the hearth serve child (pid %d) is still running after the soak was interrupted:\n%s", pid, out.String())
	}
}

// TestServeRemoteFlagsAreCheckedAtParseTime: a bad -remote fails before
// the server listens or ingests anything, with a message naming the flag.
func TestServeRemoteFlagsAreCheckedAtParseTime(t *testing.T) {
	t.Setenv("HEARTH_TEST_EMPTY_KEY", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-remote", "127.0.0.1:8080/v1"}, "-remote"},
		{[]string{"-remote", "ftp://h/v1"}, "http:// or https://"},
		{[]string{"-remote", "http://user:secret@h/v1"}, "-remote-key-env"},
		{[]string{"-remote", "http://h/v1", "-remote-model", ""}, "-remote-model"},
		{[]string{"-remote", "http://h/v1", "-remote-key-env", "HEARTH_TEST_EMPTY_KEY"}, "unset or empty"},
		{[]string{"-remote-key-env", "HOME"}, "set -remote too"},
	} {
		var stderr strings.Builder
		args := append([]string{"serve", "-addr", "127.0.0.1:0", "-data", ""}, tc.args...)
		if code := run(context.Background(), args, strings.NewReader(""), io.Discard, &stderr); code == 0 {
			t.Fatalf("%v: exit 0", tc.args)
		}
		if !strings.Contains(stderr.String(), tc.want) || strings.Contains(stderr.String(), "secret") {
			t.Fatalf("%v: stderr %q; want it to mention %q (and never echo a password)", tc.args, stderr.String(), tc.want)
		}
	}
}

// TestServeRemoteAnswersFromTheRemoteModel: `hearth serve -remote` puts
// the OpenAI-compatible model above the floor: a talk with a budget the
// model fits is answered by it, and the key named by -remote-key-env is
// sent as the bearer token.
func TestServeRemoteAnswersFromTheRemoteModel(t *testing.T) {
	remote, seen := recordingRemote(t)
	cmd := exec.Command(hearthBin, "serve", "-addr", "127.0.0.1:0", "-data", t.TempDir(), "-log", "warn",
		"-remote", remote, "-remote-model", "llmsim", "-remote-key-env", "HEARTH_TEST_REMOTE_KEY")
	cmd.Env = append(os.Environ(), "HEARTH_TEST_REMOTE_KEY=sk-test-123")
	p := startProc(t, cmd)
	c := dial(t, p.url, "remote-player", "Aria")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := c.Talk(ctx, srdNPC(t), "Who runs the inn?", 5000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tier != "remote" || !strings.HasPrefix(r.Backend, "openai:llmsim") || r.Text == "" || !r.OnTime {
		t.Fatalf("reply %+v: want the remote model's, on time", r)
	}
	if auth := seen(); len(auth) == 0 || auth[0] != "Bearer sk-test-123" {
		t.Fatalf("Authorization headers %q: want the key from -remote-key-env", seen())
	}
}

// recordingRemote starts llmsim behind a recording hop and returns the
// hop's API root and a function that returns the Authorization headers it
// has seen: a real remote model server that shows which key reached it.
func recordingRemote(t *testing.T) (baseURL string, seen func() []string) {
	t.Helper()
	s, err := llmsim.Start(llmsim.Profile{TTFTMedian: 5 * time.Millisecond, TokensPerSecond: 2000, ReplyTokens: 12, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var mu sync.Mutex
	var auth []string
	u, _ := url.Parse(s.BaseURL())
	proxy := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: u.Host})
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec.URL + "/v1", func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(auth)
	}
}

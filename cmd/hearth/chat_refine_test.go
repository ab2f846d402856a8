package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference/openai/llmsim"
)

// TestChatRefine: `hearth chat -embedded -remote URL -refine` with a remote
// model too slow for the 50 ms budget (llmsim on loopback, about 300 ms)
// prints the on-time reply, then the remote's refinement.
func TestChatRefine(t *testing.T) {
	sim, err := llmsim.Start(llmsim.Profile{TTFTMedian: 300 * time.Millisecond, TTFTSigma: 0.1, TokensPerSecond: 1000, ReplyTokens: 12, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err = cmdChat(ctx, []string{"-embedded", "-data", t.TempDir(), "-remote", sim.BaseURL(), "-remote-model", "large",
		"-refine", "-quiet", "-npc", "hobb-fairweather"},
		strings.NewReader("Who keeps the bridge toll?\n/quit\n"), &out, &errOut)
	if err != nil {
		t.Fatalf("chat: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	s := out.String()
	if !regexp.MustCompile(`\[\w+ · [0-9.]+ ms · on time`).MatchString(s) || !strings.Contains(s, "[refining…]") {
		t.Fatalf("no on-time reply marked refining:\n%s", s)
	}
	if !regexp.MustCompile(`\(refined\): .+\n  \[remote · [0-9.]+ ms\]`).MatchString(s) {
		t.Fatalf("no refinement from the remote:\n%s", s)
	}
}

// TestLlmsimCommand: `hearth llmsim` serves chat completions on the
// address given until its context ends.
func TestLlmsimCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut lockedBuffer // written by the command's goroutine
	done := make(chan error, 1)
	go func() {
		done <- cmdLlmsim(ctx, []string{"-addr", "127.0.0.1:0", "-ttft", "5ms", "-ttft-sigma", "0.1"}, nil, &out, &errOut)
	}()
	// -addr 127.0.0.1:0 picks a port: wait for the banner to learn it.
	re := regexp.MustCompile(`on (http://127\.0\.0\.1:\d+/v1)`)
	var base string
	for i := 0; base == "" && i < 200; i++ {
		time.Sleep(10 * time.Millisecond)
		if m := re.FindStringSubmatch(out.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("no banner: %q %q", out.String(), errOut.String())
	}
	var chat bytes.Buffer
	err := cmdChat(context.Background(), []string{"-embedded", "-data", t.TempDir(), "-remote", base, "-remote-model", "llmsim",
		"-budget", "5s", "-quiet", "-npc", "hobb-fairweather"}, strings.NewReader("Hello!\n/quit\n"), &chat, io.Discard)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(chat.String(), "[remote ·") {
		t.Fatalf("the simulated remote model did not answer a 5 s request:\n%s", chat.String())
	}
}

// lockedBuffer is a bytes.Buffer safe to write from one goroutine while
// another reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
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

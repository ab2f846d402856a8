package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestGuardEvalCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := cmdGuardEval(context.Background(), []string{"-misses"}, nil, &stdout, &stderr); err != nil {
		t.Fatalf("hearth guard-eval: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	t.Log("\n" + out)
	for _, want := range []string{"inputs (", "outputs (", "benign", "injection", "jailbreak", "secret_leak",
		"lore_leak", "false positives", "detection", "heldout_inputs.tsv", "heldout_outputs.tsv"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if err := cmdGuardEval(context.Background(), []string{"extra"}, nil, &stdout, &stderr); err == nil {
		t.Error("an extra argument was accepted")
	}
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestSemcacheEval: `hearth semcache-eval` prints both tables, the chosen
// threshold and its held-out rates; a bad -max-false is refused.
func TestSemcacheEval(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"semcache-eval"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"235 pairs", "embeddings alone:", "with the line-shape guard", "chosen on the tune part", "held out", "DefaultSemanticThreshold is 0.875"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if code := run(context.Background(), []string{"semcache-eval", "-max-false", "2"}, nil, &out, &errb); code == 0 {
		t.Error("-max-false 2 accepted")
	}
}

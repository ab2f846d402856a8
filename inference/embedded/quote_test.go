package embedded_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/inference/embedded"
	"github.com/hearth-ai/hearth/inference/embedded/shipped"
	"github.com/hearth-ai/hearth/npc/corpus"
)

// The quote lock on the shipped model and the labeled held-out lore
// questions: with the lock, every reply that begins a lore line of its
// prompt (8 bytes or more, from a word) goes on to quote a whole line;
// without it, some replies slip out of the line they began. The lock
// changes nothing else: replies that quote no line are the same.
func TestQuoteLockKeepsTheShippedModelsQuotesWhole(t *testing.T) {
	items, err := corpus.ReadJSONLFile("../../npc/corpus/testdata/eval.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var lore []corpus.Item
	for _, it := range items {
		if it.Kind == corpus.KindLoreQA {
			lore = append(lore, it)
		}
	}
	if testing.Short() {
		lore = lore[:60]
	}
	replies := func(quoteMin int) []string {
		e, err := shipped.Open(embedded.Options{QuoteMinBytes: quoteMin})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		out := make([]string, len(lore))
		for i, it := range lore {
			req := corpus.RequestFor(it)
			req.Seed = 1
			res, err := e.Generate(context.Background(), req, nil)
			if err != nil {
				t.Fatal(err)
			}
			out[i] = res.Text
		}
		return out
	}
	locked, free := replies(0), replies(-1)
	slips := 0
	for i, it := range lore {
		lines := corpus.RequestFor(it).Facts
		begun, whole := false, false
		for _, l := range lines {
			for _, at := range wordStarts(locked[i]) {
				tail := locked[i][at:]
				if len(l.Text) > 8 && strings.HasPrefix(tail, l.Text[:8]) {
					begun = true
				}
			}
			whole = whole || strings.Contains(locked[i], l.Text)
		}
		if begun && !whole {
			t.Errorf("item %d: the reply begins a lore line but quotes none whole:\n%q", i, locked[i])
		}
		if locked[i] != free[i] {
			slips++
			if !whole {
				t.Errorf("item %d: the lock changed a reply that quotes no line:\nlocked %q\nfree   %q", i, locked[i], free[i])
			}
		}
	}
	if slips == 0 {
		t.Fatal("the lock changed no reply: the test no longer sees a slip to catch")
	}
	t.Logf("%d of %d replies changed by the lock", slips, len(lore))
}

// wordStarts returns the byte offsets where a word of s begins.
func wordStarts(s string) []int {
	var out []int
	for i := range len(s) {
		if s[i] != ' ' && (i == 0 || s[i-1] == ' ') {
			out = append(out, i)
		}
	}
	return out
}

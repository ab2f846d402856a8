package corpus

import (
	"fmt"
	"io"
	"sort"
)

// Stats describes a corpus: items per kind, total bytes and the prompt
// length distribution.
type Stats struct {
	Items  int
	ByKind map[Kind]int
	// Bytes is the JSONL size in bytes (what WriteJSONL writes, newlines
	// included).
	Bytes int64
	// PromptBytes and PromptWords are distributions of the prompts' length
	// in bytes and in whitespace-separated words.
	PromptBytes, PromptWords Dist
	// MaxTokens is the largest prompt plus response in ApproxTokens.
	MaxTokens int
	// Dropped counts items over Options.MaxTokens, left out.
	Dropped int
	// Counterfactual counts the counterfactual lore_qa copies among Items
	// (Options.Counterfactual).
	Counterfactual int
	// Spliced counts the spliced lore_qa copies among Items (Options.Splice).
	Spliced int
	// Shuffled counts the shuffled lore_qa copies among Items (Options.Shuffle).
	Shuffled int

	pb, pw []int
}

// Dist summarises a distribution: 50th and 99th percentiles (nearest
// rank) and the maximum.
type Dist struct{ P50, P99, Max int }

func newStats() Stats { return Stats{ByKind: map[Kind]int{}} }

// Add counts one item (Generate does it for every item it emits).
func (s *Stats) Add(it Item) { s.add(it) }

func (s *Stats) add(it Item) {
	if s.ByKind == nil {
		s.ByKind = map[Kind]int{}
	}
	s.Items++
	s.ByKind[it.Kind]++
	s.pb = append(s.pb, len(it.Prompt))
	s.pw = append(s.pw, words(it.Prompt))
	s.MaxTokens = max(s.MaxTokens, ApproxTokens(it.Prompt)+ApproxTokens(it.Response))
	if line, err := encodeLine(it); err == nil {
		s.Bytes += int64(len(line))
	}
}

func (s Stats) finish() Stats {
	s.PromptBytes, s.PromptWords = dist(s.pb), dist(s.pw)
	return s
}

// Finish computes the distributions of the items added with Add.
func (s Stats) Finish() Stats { return s.finish() }

func dist(v []int) Dist {
	if len(v) == 0 {
		return Dist{}
	}
	c := append([]int(nil), v...)
	sort.Ints(c)
	rank := func(p int) int { return c[max(0, (p*len(c)+99)/100-1)] }
	return Dist{P50: rank(50), P99: rank(99), Max: c[len(c)-1]}
}

// Write prints the statistics as a small table.
func (s Stats) Write(w io.Writer) error {
	var err error
	pr := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	pr("%-12s %8s\n", "kind", "items")
	for _, k := range Kinds {
		pr("%-12s %8d\n", k, s.ByKind[k])
	}
	pr("%-12s %8d\n", "total", s.Items)
	if s.Counterfactual > 0 {
		pr("of which counterfactual lore_qa copies: %d\n", s.Counterfactual)
	}
	if s.Spliced > 0 {
		pr("of which spliced lore_qa copies: %d\n", s.Spliced)
	}
	if s.Shuffled > 0 {
		pr("of which shuffled lore_qa copies: %d\n", s.Shuffled)
	}
	pr("bytes: %d (%.1f MiB)\n", s.Bytes, float64(s.Bytes)/(1<<20))
	pr("prompt bytes: p50 %d, p99 %d, max %d\n", s.PromptBytes.P50, s.PromptBytes.P99, s.PromptBytes.Max)
	pr("prompt words: p50 %d, p99 %d, max %d\n", s.PromptWords.P50, s.PromptWords.P99, s.PromptWords.Max)
	pr("largest prompt+response: ~%d tokens (bytes/4) of a %d-token context; %d items over the limit dropped\n",
		s.MaxTokens, ContextTokens, s.Dropped)
	return err
}

func encodeLine(it Item) ([]byte, error) {
	var b lineBuf
	if err := NewEncoder(&b).Encode(it); err != nil {
		return nil, err
	}
	return b, nil
}

type lineBuf []byte

func (b *lineBuf) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

package corpus

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
)

// Copy drills teach a small model in-context copying before it sees the
// NPC corpus. A model trained only on the NPC corpus learns to recite the
// world's sentences, which it has seen many times, instead of copying the
// asked one from its prompt; a held-out sentence then gets a memorised one
// back (docs/models.md). Lines of random words of the world cannot be
// memorised: only an induction mechanism — find the earlier occurrence of
// the current token, predict the token that followed it (Olsson et al.
// 2022, "In-context Learning and Induction Heads") — lowers the loss on
// them. Measured at the shipped shape (d 128, 4 layers), the bare layout
// forms that mechanism in about 0.5 M tokens from random weights, while
// the NPC layout from random weights had not in 1 M; started from a model
// that copies in the bare layout, the NPC layout copied within 1.2 M more
// (docs/models.md, "A copy curriculum"). So the curriculum is bare drills,
// then NPC-layout drills, then the NPC corpus.

// KindCopy is a synthetic copy drill (CopyDrills): the response copies a
// line of random world words from the prompt.
const KindCopy Kind = "copy"

// CopyLayout is the prompt layout of a copy drill.
type CopyLayout string

const (
	// CopyBare is "copy: <words>\nagain:" answered " <words>": the
	// shortest prompt in which copying is all there is to learn.
	CopyBare CopyLayout = "bare"
	// CopyNPC is the small dialogue prompt's layout (npc.dialogue-small):
	// an NPC's persona prefix, "Lore:" with Lines lines "- [heading]
	// <words>.", a player's question naming two of the first line's words,
	// and the NPC's name; the response is one of the NPC's leads ("Aye.")
	// and the first line's words. The small prompt puts the line that
	// bears most on the question first (npc/small.go), so copying the first
	// line is what the NPC corpus asks of the model too.
	CopyNPC CopyLayout = "npc"
)

// CopyOptions shape CopyDrills' items. Zero fields take the defaults noted.
type CopyOptions struct {
	Seed   uint64
	Items  int        // drills to write (default 20,000)
	Layout CopyLayout // default CopyBare
	// Lines is the number of lore lines of a CopyNPC prompt (default 3);
	// the first is copied, the others are distractors.
	Lines int
	// MinWords and MaxWords bound the words of a line (defaults: 10 and 10
	// for CopyBare, 6 and 40 for CopyNPC: the demo world's facts run up to
	// 39 words, and a model drilled on at most 24 copied only a third of
	// the held-out facts longer than that).
	MinWords, MaxWords int
	// Confusable is the share (0 to 1) of CopyNPC drills made hard to copy
	// by position alone: the copied line repeats a span of its own words
	// further on with a different continuation ("1 penny each, or 10 for
	// 8" after "1 penny each"), and each distractor line forks from it,
	// starting with its first words and going on with others. Where a token
	// recurs, only the line and the place being copied say what comes next;
	// the shipped model's held-out failures were mostly such slips, or
	// replies that went on with another line (docs/models.md). 0 (the
	// default) draws no extra random numbers, so earlier drills stay
	// byte-identical.
	Confusable float64
}

func (o CopyOptions) withDefaults() CopyOptions {
	if o.Items == 0 {
		o.Items = 20000
	}
	if o.Layout == "" {
		o.Layout = CopyBare
	}
	if o.Lines == 0 {
		o.Lines = 3
	}
	if o.MinWords == 0 && o.MaxWords == 0 {
		o.MinWords, o.MaxWords = 10, 10
		if o.Layout == CopyNPC {
			o.MinWords, o.MaxWords = 6, 40
		}
	}
	return o
}

// copyVoice is what an NPC-layout drill borrows from a real lore answer:
// the persona prefix, the NPC's name and its leads.
type copyVoice struct {
	npc, prefix, name string // prefix: the prompt up to "Lore:"
	prefixBytes       int    // the item's PrefixBytes (the cacheable prefix)
	leads             []string
}

// CopyDrills writes opts.Items synthetic copy drills (KindCopy) whose lines
// are random words of the world's lore (w.Chunks), with the punctuation
// they carry there, and whose CopyNPC headings are the lore's heading
// paths. CopyNPC borrows each drill's persona prefix, NPC name and lead
// from a random lore_qa item of base (the corpus Generate writes);
// CopyBare needs no base. The same world, base and options give the same
// items.
//
// Errors: an unknown layout, Items < 0, Lines < 1, words out of order or
// below 2, no lore words, and for CopyNPC no lore_qa item in base.
func CopyDrills(w World, base []Item, opts CopyOptions) ([]Item, error) {
	opts = opts.withDefaults()
	switch {
	case opts.Layout != CopyBare && opts.Layout != CopyNPC:
		return nil, fmt.Errorf("corpus: copy layout %q: want %q or %q", opts.Layout, CopyBare, CopyNPC)
	case opts.Items < 0 || opts.Lines < 1:
		return nil, fmt.Errorf("corpus: copy drills: items %d must be ≥ 0 and lines %d ≥ 1", opts.Items, opts.Lines)
	case opts.MinWords < 2 || opts.MaxWords < opts.MinWords:
		return nil, fmt.Errorf("corpus: copy drills: words per line %d..%d: want 2 ≤ min ≤ max", opts.MinWords, opts.MaxWords)
	case !(opts.Confusable >= 0 && opts.Confusable <= 1):
		return nil, fmt.Errorf("corpus: copy drills: confusable share %g: want 0 to 1", opts.Confusable)
	}
	vocab, headings := map[string]bool{}, map[string]bool{}
	for _, c := range w.Chunks {
		// Whitespace-separated, with their punctuation ("air:", "rising,",
		// "\"Slow"): a model drilled on bare words stops copying a real
		// fact at its first comma.
		for _, word := range strings.Fields(c.Text) {
			if wordRE.MatchString(word) {
				vocab[word] = true
			}
		}
		if len(c.Heading) > 0 {
			headings[strings.Join(c.Heading, " > ")] = true
		}
	}
	words, heads := slices.Sorted(maps.Keys(vocab)), slices.Sorted(maps.Keys(headings))
	if len(words) == 0 {
		return nil, errors.New("corpus: copy drills: the world's lore has no words")
	}
	var voices []copyVoice
	if opts.Layout == CopyNPC {
		voices = copyVoices(base)
		if len(voices) == 0 || len(heads) == 0 {
			return nil, errors.New("corpus: copy drills in the NPC layout need lore_qa items (from Generate) and lore headings")
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x636f7079)) // "copy"
	line := func() []string {
		n := opts.MinWords + rng.IntN(opts.MaxWords-opts.MinWords+1)
		l := make([]string, n)
		for i := range l {
			l[i] = words[rng.IntN(len(words))]
		}
		return l
	}
	out := make([]Item, 0, opts.Items)
	for range opts.Items {
		if opts.Layout == CopyBare {
			s := strings.Join(line(), " ")
			out = append(out, Item{Prompt: "copy: " + s + "\nagain:", PrefixBytes: len("copy:"), Response: " " + s, Kind: KindCopy})
			continue
		}
		v := voices[rng.IntN(len(voices))]
		first := line()
		confusable := opts.Confusable > 0 && rng.Float64() < opts.Confusable
		if confusable {
			echoSpan(rng, first)
		}
		fact := strings.Join(first, " ") + "."
		var b strings.Builder
		b.WriteString(v.prefix)
		b.WriteString("Lore:\n")
		for i := range opts.Lines {
			text := fact
			if i > 0 {
				other := line()
				if confusable {
					// The distractor starts as the copied line does, then forks.
					k := 1 + rng.IntN(len(first)-1)
					other = append(append([]string(nil), first[:k]...), other[min(k, len(other)-1):]...)
				}
				text = strings.Join(other, " ") + "."
			}
			fmt.Fprintf(&b, "- [%s] %s\n", heads[rng.IntN(len(heads))], text)
		}
		a, c := rng.IntN(len(first)), rng.IntN(len(first))
		fmt.Fprintf(&b, "\n%s says: %s\n%s:\n", copyAskers[rng.IntN(len(copyAskers))],
			fmt.Sprintf(copyQuestions[rng.IntN(len(copyQuestions))], first[a]+" "+first[c]), v.name)
		out = append(out, Item{Prompt: b.String(), PrefixBytes: v.prefixBytes,
			Response: v.leads[rng.IntN(len(v.leads))] + fact, Kind: KindCopy, NPC: v.npc, Fact: fact})
	}
	return out, nil
}

// echoSpan copies a span of one to three of l's words to a later place in
// l, overwriting what was there, so that the span recurs with a different
// continuation. Lines of fewer than four words are left alone.
func echoSpan(rng *rand.Rand, l []string) {
	if len(l) < 4 {
		return
	}
	n := 1 + rng.IntN(min(3, (len(l)-1)/2))        // leaves from's range non-empty
	from := rng.IntN(len(l) - 2*n)                 // the span: l[from : from+n]
	to := from + n + 1 + rng.IntN(len(l)-from-2*n) // a later start, leaving a word between
	copy(l[to:to+n], l[from:from+n])
}

var (
	copyAskers    = []string{"A stranger", "A stranger", "Aria", "Bram", "Wren (you have met before)"}
	copyQuestions = []string{"What about %s?", "Tell me about %s.", "What do you know of %s?", "%s?", "Have you heard of %s?"}
)

// copyVoices collects, per NPC in base's order, the persona prefix and
// name of its lore_qa items and the distinct leads its answers put before
// the fact ("Aye. ", "" for none).
func copyVoices(base []Item) []copyVoice {
	var voices []copyVoice
	at := map[string]int{}
	seen := map[string]bool{}
	for _, it := range base {
		if it.Kind != KindLoreQA || it.Fact == "" || it.PrefixBytes <= 0 || it.PrefixBytes > len(it.Prompt) {
			continue
		}
		lead, ok := strings.CutSuffix(it.Response, it.Fact)
		lines := strings.Split(strings.TrimRight(it.Prompt, "\n"), "\n")
		k := strings.Index(it.Prompt, "\nLore:\n")
		if !ok || len(lines) < 2 || k < it.PrefixBytes {
			continue
		}
		i, known := at[it.NPC]
		if !known {
			i = len(voices)
			at[it.NPC] = i
			voices = append(voices, copyVoice{npc: it.NPC, prefix: it.Prompt[:k+1], prefixBytes: it.PrefixBytes,
				name: strings.TrimSuffix(lines[len(lines)-1], ":")})
		}
		if k := it.NPC + "\x00" + lead; !seen[k] {
			seen[k] = true
			voices[i].leads = append(voices[i].leads, lead)
		}
	}
	return voices
}

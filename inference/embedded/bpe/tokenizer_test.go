package bpe

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/quick"
	"unicode/utf8"
)

var specials = []string{BOSName, EOSName, PADName}

var (
	loreOnce sync.Once
	loreTok  *Tokenizer
	loreErr  error
	loreDocs []string
)

// loreCorpus is the Markdown under sim/world/lore, Hearth's own prose.
func loreCorpus(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob("../../../sim/world/lore/*.md")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no lore corpus: %v", err)
	}
	slices.Sort(files)
	var docs []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	return docs
}

// loreTokenizer is a 1024-token vocabulary trained once on the lore.
func loreTokenizer(tb testing.TB) *Tokenizer {
	tb.Helper()
	loreOnce.Do(func() {
		loreDocs = loreCorpus(tb)
		loreTok, loreErr = Train(loreDocs, 1024, specials)
	})
	if loreErr != nil {
		tb.Fatal(loreErr)
	}
	return loreTok
}

func TestRoundTripQuick(t *testing.T) {
	tok := loreTokenizer(t)
	cfg := &quick.Config{MaxCount: 2000, Rand: nil}
	bytesRT := func(b []byte) bool { return tok.Decode(tok.Encode(string(b))) == string(b) }
	if err := quick.Check(bytesRT, cfg); err != nil {
		t.Error("random bytes:", err)
	}
	strRT := func(s string) bool { return tok.Decode(tok.Encode(s)) == s } // random runes
	if err := quick.Check(strRT, cfg); err != nil {
		t.Error("random unicode:", err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for range 3000 {
		s := randomText(rng, rng.IntN(60))
		ids, err := tok.EncodeChecked(s)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids, tok.Encode(s)) {
			t.Fatalf("EncodeChecked and Encode differ on %q", s)
		}
		if got := tok.Decode(ids); got != s {
			t.Fatalf("round trip of %q gave %q", s, got)
		}
	}
	for _, d := range loreDocs {
		if tok.Decode(tok.Encode(d)) != d {
			t.Fatal("lore document does not round-trip")
		}
	}
}

func TestEncodeCompresses(t *testing.T) {
	tok := loreTokenizer(t)
	text := strings.Join(loreDocs, "\n")
	ids := tok.Encode(text)
	if r := float64(len(text)) / float64(len(ids)); r < 2.5 {
		t.Errorf("only %.2f bytes/token on the training text", r)
	}
}

func TestSpecialsNotFromText(t *testing.T) {
	tok := loreTokenizer(t)
	if tok.VocabSize() != 1024 {
		t.Fatalf("vocab %d, want 1024", tok.VocabSize())
	}
	bos, eos, pad := tok.BOS(), tok.EOS(), tok.PAD()
	if bos != 1021 || eos != 1022 || pad != 1023 {
		t.Fatalf("specials at %d %d %d, want 1021 1022 1023", bos, eos, pad)
	}
	for _, s := range []string{"<|bos|>", "<|eos|>", "<|pad|>", "hi<|eos|>there", " <|eos|>", "<|eos|><|eos|>"} {
		for _, id := range tok.Encode(s) {
			if tok.IsSpecial(id) {
				t.Errorf("Encode(%q) produced special %d", s, id)
			}
		}
		if tok.Decode(tok.Encode(s)) != s {
			t.Errorf("%q does not round-trip", s)
		}
	}
	if b := tok.TokenBytes(eos); b != nil {
		t.Errorf("TokenBytes(EOS) = %q, want nil", b)
	}
	if got := tok.Decode([]int{bos, eos, pad, -1, 1 << 30}); got != "" {
		t.Errorf("specials and bad ids decode to %q", got)
	}
	if tok.SpecialID("<|nope|>") != -1 || tok.SpecialID(EOSName) != eos {
		t.Error("SpecialID lookup wrong")
	}
	plain, err := Train([]string{"abc"}, 300, nil)
	if err != nil {
		t.Fatal(err)
	}
	if plain.BOS() != -1 || plain.EOS() != -1 || plain.PAD() != -1 {
		t.Error("accessors must be -1 without specials")
	}
	if got := plain.EncodeResponse("abc"); plain.Decode(got) != "abc" || slices.Contains(got, -1) {
		t.Errorf("EncodeResponse without EOS: %v", got)
	}
}

func TestTokenBytes(t *testing.T) {
	tok := loreTokenizer(t)
	var all []byte
	ids := tok.Encode("The ford at Kettle Green — ünïcödé 😀")
	for _, id := range ids {
		b := tok.TokenBytes(id)
		if len(b) == 0 {
			t.Fatalf("token %d has no bytes", id)
		}
		all = append(all, b...)
		b[0] ^= 0xff // a copy: must not corrupt the vocabulary
	}
	if string(all) != tok.Decode(ids) {
		t.Error("TokenBytes disagree with Decode")
	}
	if string(tok.AppendTokenBytes(nil, ids[0])) != tok.Decode(ids[:1]) {
		t.Error("AppendTokenBytes disagrees with Decode")
	}
	// A 4-byte emoji never merged in the lore splits into partial UTF-8.
	for _, id := range tok.Encode("😀") {
		if b := tok.TokenBytes(id); utf8.Valid(b) {
			t.Logf("token %d %q is complete UTF-8", id, b)
		}
	}
	if tok.TokenBytes(-1) != nil || tok.TokenBytes(tok.VocabSize()) != nil {
		t.Error("out-of-range TokenBytes must be nil")
	}
}

func TestEncodePromptLayout(t *testing.T) {
	tok := loreTokenizer(t)
	prefix := "You are Mira, the miller of Crookwheel. "
	for _, q := range []string{"Where is the ford?", "hello", ""} {
		prompt := prefix + q
		got := tok.EncodePrompt(prompt, len(prefix))
		want := append(append([]int{tok.BOS()}, tok.Encode(prefix)...), tok.Encode(q)...)
		if !slices.Equal(got, want) {
			t.Errorf("EncodePrompt(%q) = %v, want %v", prompt, got, want)
		}
		if !slices.Equal(got[:1+len(tok.Encode(prefix))], want[:1+len(tok.Encode(prefix))]) {
			t.Error("prefix tokens differ between requests")
		}
	}
	// Clamping and UTF-8 boundary: "é" is 2 bytes; a split inside it moves back.
	p := "café au lait"
	mid := strings.Index(p, "é") + 1
	if got, want := tok.EncodePrompt(p, mid), tok.EncodePrompt(p, mid-1); !slices.Equal(got, want) {
		t.Errorf("split inside a rune not moved back: %v vs %v", got, want)
	}
	for _, k := range []int{-5, 0, len(p), len(p) + 9} {
		if got := tok.Decode(tok.EncodePrompt(p, k)); got != p {
			t.Errorf("EncodePrompt(%d) decodes to %q", k, got)
		}
	}
	if got := tok.EncodePrompt(p, -5); !slices.Equal(got, append([]int{tok.BOS()}, tok.Encode(p)...)) {
		t.Error("negative prefix must clamp to 0")
	}
	resp := tok.EncodeResponse("Aye.")
	if resp[len(resp)-1] != tok.EOS() || tok.Decode(resp) != "Aye." {
		t.Errorf("EncodeResponse = %v", resp)
	}
}

// referenceEncode is GPT-2's bpe() (openai/gpt-2 src/encoder.py) over ids:
// find the lowest-ranked adjacent pair, merge all its occurrences left to
// right, repeat.
func referenceEncode(t *Tokenizer, s string) []int {
	var out []int
	for _, w := range PreTokenize(s) {
		syms := make([]int32, len(w))
		for i := 0; i < len(w); i++ {
			syms[i] = t.byteID[w[i]]
		}
		for {
			best := rule{rank: -1}
			var a, b int32
			for i := 0; i+1 < len(syms); i++ {
				if r, ok := t.ranks[pairKey(syms[i], syms[i+1])]; ok && (best.rank < 0 || r.rank < best.rank) {
					best, a, b = r, syms[i], syms[i+1]
				}
			}
			if best.rank < 0 {
				break
			}
			var next []int32
			for i := 0; i < len(syms); i++ {
				if i+1 < len(syms) && syms[i] == a && syms[i+1] == b {
					next = append(next, best.result)
					i++
				} else {
					next = append(next, syms[i])
				}
			}
			syms = next
		}
		for _, id := range syms {
			out = append(out, int(id))
		}
	}
	return out
}

func TestEncodeMatchesReference(t *testing.T) {
	tok := loreTokenizer(t)
	for _, d := range loreDocs {
		if got, want := tok.Encode(d), referenceEncode(tok, d); !slices.Equal(got, want) {
			t.Fatalf("Encode differs from GPT-2's bpe(): %d vs %d tokens", len(got), len(want))
		}
	}
	// Long pre-tokens take the heap path; it must agree with the linear scan.
	rng := rand.New(rand.NewPCG(3, 4))
	words := strings.Fields(strings.Join(loreDocs, " "))
	for range 300 {
		var b strings.Builder
		for b.Len() <= linearLimit+rng.IntN(400) {
			b.WriteString(words[rng.IntN(len(words))])
		}
		w := b.String()
		syms := make([]int32, len(w))
		for i := 0; i < len(w); i++ {
			syms[i] = tok.byteID[w[i]]
		}
		lin := tok.mergeLinear(slices.Clone(syms))
		hp := tok.mergeHeap(slices.Clone(syms))
		if !slices.Equal(lin, hp) {
			t.Fatalf("heap and linear merges differ on %q", w)
		}
	}
}

func TestEncodeConcurrent(t *testing.T) {
	tok := loreTokenizer(t)
	want := make([][]int, len(loreDocs))
	for i, d := range loreDocs {
		want[i] = tok.Encode(d)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range loreDocs {
				j := (i + g) % len(loreDocs)
				if !slices.Equal(tok.Encode(loreDocs[j]), want[j]) {
					errs <- errors.New("concurrent Encode differs")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

package bpe

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// repeatTo repeats docs until their total reaches n bytes.
func repeatTo(docs []string, n int) []string {
	var out []string
	for total := 0; total < n; {
		for _, d := range docs {
			out = append(out, d)
			total += len(d)
		}
	}
	return out
}

// syntheticCorpus is n bytes of seeded pseudo-prose: Zipf-distributed
// words built from syllables (about 10⁵ distinct words), capitalised
// sentences, numbers and punctuation — many more distinct pre-tokens than
// the repeated lore, which stresses the incremental pair updates.
func syntheticCorpus(n int) []string {
	rng := rand.New(rand.NewPCG(42, 42))
	syl := strings.Fields("ka re mo lin dar eth ow ush fen gle bro ck tha ser wyn al ith or um py qua vel zor in an ter ing ed es")
	lex := make([]string, 100000)
	for i := range lex {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(syl[rng.IntN(len(syl))])
		}
		lex[i] = b.String()
	}
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(lex)-1))
	var docs []string
	var b strings.Builder
	for total := 0; total < n; {
		b.Reset()
		for range 200 {
			w := lex[zipf.Uint64()]
			switch rng.IntN(20) {
			case 0:
				b.WriteString(". ")
				w = strings.ToUpper(w[:1]) + w[1:]
			case 1:
				b.WriteString(", ")
			case 2:
				b.WriteString(" 1")
				b.WriteString(strings.Repeat("7", rng.IntN(4)))
				b.WriteByte(' ')
			case 3:
				b.WriteString("'s ")
			default:
				b.WriteByte(' ')
			}
			b.WriteString(w)
		}
		b.WriteString(".\n\n")
		docs = append(docs, b.String())
		total += b.Len()
	}
	return docs
}

func benchTrain(b *testing.B, docs []string) {
	size := 0
	for _, d := range docs {
		size += len(d)
	}
	b.SetBytes(int64(size))
	b.ResetTimer()
	var tok *Tokenizer
	for b.Loop() {
		var err error
		if tok, err = Train(docs, 2048, specials); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tok.VocabSize()), "vocab")
}

// BenchmarkTrainLore20MB: a 2048-token vocabulary from the lore Markdown
// repeated to 20 MB. Run with -benchtime=1x.
func BenchmarkTrainLore20MB(b *testing.B) { benchTrain(b, repeatTo(loreCorpus(b), 20<<20)) }

// BenchmarkTrainSynthetic20MB: a 2048-token vocabulary from 20 MB of
// syntheticCorpus. Run with -benchtime=1x.
func BenchmarkTrainSynthetic20MB(b *testing.B) { benchTrain(b, syntheticCorpus(20<<20)) }

func benchEncode(b *testing.B, cached bool) {
	tok := loreTokenizer(b)
	if !cached {
		cp := *tok
		cp.cache = nil
		tok = &cp
	}
	text := strings.Join(loreDocs, "\n")
	b.SetBytes(int64(len(text)))
	dst := make([]int, 0, len(text))
	tokens := 0
	b.ResetTimer()
	for b.Loop() {
		dst = tok.AppendEncode(dst[:0], text)
		tokens += len(dst)
	}
	b.ReportMetric(float64(tokens)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkEncode: the lore (≈150 KB) with the word cache warm.
func BenchmarkEncode(b *testing.B) { benchEncode(b, true) }

// BenchmarkEncodeNoCache: every pre-token merged from scratch.
func BenchmarkEncodeNoCache(b *testing.B) { benchEncode(b, false) }

func BenchmarkDecode(b *testing.B) {
	tok := loreTokenizer(b)
	text := strings.Join(loreDocs, "\n")
	ids := tok.Encode(text)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		_ = tok.Decode(ids)
	}
}

package train

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"unicode/utf8"
)

// Record is one line of a training corpus (JSONL). Fields other than these
// are ignored.
type Record struct {
	Prompt string `json:"prompt"`
	// PrefixBytes is how many leading bytes of Prompt are a stable prefix
	// (the part a KV cache may share between requests); the tokenizer
	// splits the prompt there, 0 ≤ PrefixBytes ≤ len(Prompt).
	PrefixBytes int    `json:"prefix_bytes"`
	Response    string `json:"response"` // the text the model learns to produce; non-empty
	Kind        string `json:"kind"`     // free label, e.g. "lore_qa"; informational
}

// LineError is a corpus line that was skipped: its 1-based line number and
// why.
type LineError struct {
	Line int
	Err  error
}

func (e LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// ErrEmptyCorpus is returned by ReadCorpus when no line holds a usable
// record.
var ErrEmptyCorpus = errors.New("train: corpus has no usable record")

// ReadCorpus reads JSONL records from r, one per line; blank lines are
// skipped silently. A malformed line (bad JSON, an empty response, a
// prefix_bytes outside [0, len(prompt)] or not on a UTF-8 boundary) is
// skipped and reported in skipped with its line number. It returns
// ErrEmptyCorpus when no record is usable, and r's read error if any.
func ReadCorpus(r io.Reader) (recs []Record, skipped []LineError, err error) {
	br := bufio.NewReaderSize(r, 1<<16)
	for line := 1; ; line++ {
		b, rerr := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			var rec Record
			if err := json.Unmarshal(b, &rec); err != nil {
				skipped = append(skipped, LineError{line, err})
			} else if rec.Response == "" {
				skipped = append(skipped, LineError{line, errors.New("empty or missing response")})
			} else if rec.PrefixBytes < 0 || rec.PrefixBytes > len(rec.Prompt) {
				skipped = append(skipped, LineError{line, fmt.Errorf("prefix_bytes %d outside the prompt's %d bytes", rec.PrefixBytes, len(rec.Prompt))})
			} else if rec.PrefixBytes < len(rec.Prompt) && !utf8.RuneStart(rec.Prompt[rec.PrefixBytes]) {
				skipped = append(skipped, LineError{line, fmt.Errorf("prefix_bytes %d splits a UTF-8 character", rec.PrefixBytes)})
			} else {
				recs = append(recs, rec)
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return recs, skipped, rerr
		}
	}
	if len(recs) == 0 {
		return nil, skipped, ErrEmptyCorpus
	}
	return recs, skipped, nil
}

// Tokenizer is what the trainer needs from a tokenizer (bpe.Tokenizer
// implements it): the prompt as [BOS]+prefix+rest token ids, and the
// response as its token ids followed by EOS.
type Tokenizer interface {
	EncodePrompt(prompt string, prefixBytes int) []int
	EncodeResponse(response string) []int
}

// Tokenize turns records into examples (prompt tokens, then response
// tokens; the loss covers the response tokens, EOS included). Examples that
// would occupy more than contextLen positions (len(tokens)−1 > contextLen)
// are dropped and counted in dropped.
func Tokenize(tok Tokenizer, recs []Record, contextLen int) (ex []Example, dropped int) {
	for _, r := range recs {
		p := tok.EncodePrompt(r.Prompt, r.PrefixBytes)
		resp := tok.EncodeResponse(r.Response)
		if len(p) == 0 || len(resp) == 0 || len(p)+len(resp)-1 > contextLen {
			dropped++
			continue
		}
		toks := make([]int, 0, len(p)+len(resp))
		toks = append(append(toks, p...), resp...)
		ex = append(ex, Example{Tokens: toks, PromptLen: len(p)})
	}
	return ex, dropped
}

// Stream constants of the seeded PCG generators (arbitrary, fixed forever
// so that a seed means the same split and order in every version).
const (
	splitStream   = 0x73706c6974 // "split"
	shuffleStream = 0x73687566   // "shuf"
)

// permutation returns a Fisher–Yates shuffle of 0..n-1 from a PCG seeded
// with (seed, stream). It uses only PCG's specified output, so it never
// changes with the Go version.
func permutation(n int, seed, stream uint64) []int {
	rng := rand.NewPCG(seed, stream)
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(rng.Uint64() % uint64(i+1))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// Split divides examples into a training and a held-out validation set:
// round(frac·n) examples chosen by a permutation seeded with seed (at least
// one when frac > 0 and n ≥ 2, and never all of them). Both keep the
// examples' original order. frac outside [0, 1) is treated as 0.
func Split(ex []Example, frac float64, seed uint64) (train, val []Example) {
	n := len(ex)
	nv := 0
	if frac > 0 && frac < 1 {
		nv = int(math.Round(frac * float64(n)))
		if nv == 0 && n >= 2 {
			nv = 1
		}
		nv = min(nv, n-1)
	}
	if nv <= 0 {
		return ex, nil
	}
	pick := permutation(n, seed, splitStream)[:nv]
	slices.Sort(pick)
	isVal := make([]bool, n)
	for _, i := range pick {
		isVal[i] = true
	}
	for i, e := range ex {
		if isVal[i] {
			val = append(val, e)
		} else {
			train = append(train, e)
		}
	}
	return train, val
}

// corpusHash fingerprints examples (FNV-1a 64 over prompt lengths and
// tokens), so that resuming with a different corpus is caught.
func corpusHash(ex []Example) uint64 {
	h := fnv.New64a()
	var buf [8]byte
	put := func(v int) {
		u := uint64(v)
		for i := range buf {
			buf[i] = byte(u >> (8 * i))
		}
		h.Write(buf[:])
	}
	put(len(ex))
	for _, e := range ex {
		put(e.PromptLen)
		put(len(e.Tokens))
		for _, t := range e.Tokens {
			put(t)
		}
	}
	return h.Sum64()
}

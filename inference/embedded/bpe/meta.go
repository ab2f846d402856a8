package bpe

import (
	"fmt"
	"strings"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// Meta is the tokenizer as GGUF metadata (tokenizer.ggml.*): Model "gpt2",
// Pre "gpt-2", one string per token id (bytes through GPT-2's
// byte-to-unicode table; specials by name), token types (llama.TokenNormal,
// llama.TokenControl, or whatever FromMeta loaded), merges as "left right"
// in rank order, and the BOS/EOS/PAD ids (-1 where absent; a GGUF writer
// should then omit the key). ChatTemplate is left "". The slices are fresh
// copies.
func (t *Tokenizer) Meta() *llama.TokenizerMeta {
	m := &llama.TokenizerMeta{
		Model:      "gpt2",
		Pre:        "gpt-2",
		Tokens:     append([]string(nil), t.names...),
		TokenTypes: append([]int32(nil), t.types...),
		Merges:     make([]string, len(t.merges)),
		BOS:        t.bos,
		EOS:        t.eos,
		PAD:        t.pad,
	}
	for i, mg := range t.merges {
		m.Merges[i] = t.names[mg.left] + " " + t.names[mg.right]
	}
	return m
}

// FromMeta rebuilds a Tokenizer from GGUF metadata: Hearth's own (Meta) or
// a community gpt2-style vocabulary. Tokens of type llama.TokenControl (3)
// or TokenUserDefined (4) are specials, never produced by Encode (control
// tokens decode to nothing, user-defined ones to their literal text); every
// other token's string must be over GPT-2's byte alphabet. Merge ranks are
// rebuilt from Merges in order; each "left right" must name two non-special
// tokens whose concatenation is also a token. A vocabulary may lack some of
// the 256 byte tokens: it loads, MissingBytes lists them, Encode drops such
// bytes and EncodeChecked fails on them.
//
// Errors (wrapping ErrMeta): nil metadata; Model not "gpt2"; Pre neither
// "gpt-2" nor "" (other pre-tokenizers split text differently, so
// encodings would silently differ from llama.cpp's); no tokens; TokenTypes
// neither empty (all normal) nor one per token; a token string that is
// empty or outside the byte alphabet; a malformed merge or one naming an
// unknown token; BOS, EOS or PAD outside [-1, len(Tokens)).
func FromMeta(m *llama.TokenizerMeta) (*Tokenizer, error) {
	switch {
	case m == nil:
		return nil, fmt.Errorf("%w: nil metadata", ErrMeta)
	case m.Model != "gpt2":
		return nil, fmt.Errorf("%w: tokenizer model %q, want \"gpt2\" (byte-level BPE)", ErrMeta, m.Model)
	case m.Pre != "gpt-2" && m.Pre != "":
		return nil, fmt.Errorf("%w: pre-tokenizer %q is not supported (only \"gpt-2\")", ErrMeta, m.Pre)
	case len(m.Tokens) == 0:
		return nil, fmt.Errorf("%w: empty vocabulary", ErrMeta)
	case len(m.Tokens) > MaxVocab:
		return nil, fmt.Errorf("%w: %d tokens, at most %d supported", ErrMeta, len(m.Tokens), MaxVocab)
	case len(m.TokenTypes) != 0 && len(m.TokenTypes) != len(m.Tokens):
		return nil, fmt.Errorf("%w: %d token types for %d tokens", ErrMeta, len(m.TokenTypes), len(m.Tokens))
	}
	for _, x := range []struct {
		name string
		id   int
	}{{"BOS", m.BOS}, {"EOS", m.EOS}, {"PAD", m.PAD}} {
		if x.id < -1 || x.id >= len(m.Tokens) {
			return nil, fmt.Errorf("%w: %s id %d outside [-1, %d)", ErrMeta, x.name, x.id, len(m.Tokens))
		}
	}
	n := len(m.Tokens)
	bs := make([][]byte, n)
	names := append([]string(nil), m.Tokens...)
	types := make([]int32, n)
	special := make([]bool, n)
	byName := make(map[string]int32, n)
	for id, s := range m.Tokens {
		typ := llama.TokenNormal
		if len(m.TokenTypes) != 0 {
			typ = m.TokenTypes[id]
		}
		types[id] = typ
		switch typ {
		case llama.TokenControl:
			special[id] = true
		case TokenUserDefined:
			special[id] = true
			bs[id] = []byte(s)
		default:
			if s == "" {
				return nil, fmt.Errorf("%w: token %d is empty", ErrMeta, id)
			}
			b, bad, ok := decodeTokenString(s)
			if !ok {
				return nil, fmt.Errorf("%w: token %d %q has rune %U outside GPT-2's byte alphabet (mark it control or user-defined)", ErrMeta, id, s, bad)
			}
			bs[id] = b
			if _, dup := byName[s]; !dup {
				byName[s] = int32(id)
			}
		}
	}
	merges := make([]merge, len(m.Merges))
	for i, line := range m.Merges {
		sp := -1
		if len(line) > 1 {
			if k := strings.IndexByte(line[1:], ' '); k >= 0 {
				sp = k + 1
			}
		}
		if sp < 0 {
			return nil, fmt.Errorf("%w: merge %d %q is not \"left right\"", ErrMeta, i, line)
		}
		l, r := line[:sp], line[sp+1:]
		li, ok1 := byName[l]
		ri, ok2 := byName[r]
		zi, ok3 := byName[l+r]
		switch {
		case !ok1:
			return nil, fmt.Errorf("%w: merge %d %q names unknown token %q", ErrMeta, i, line, l)
		case !ok2:
			return nil, fmt.Errorf("%w: merge %d %q names unknown token %q", ErrMeta, i, line, r)
		case !ok3:
			return nil, fmt.Errorf("%w: merge %d %q makes %q, which is not a token", ErrMeta, i, line, l+r)
		}
		merges[i] = merge{li, ri, zi}
	}
	t := build(bs, names, types, special, merges)
	t.bos, t.eos, t.pad = m.BOS, m.EOS, m.PAD
	return t, nil
}

package bpe

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

func TestByteAlphabet(t *testing.T) {
	// GPT-2's table: printable bytes map to themselves, space to 'Ġ', '\n' to 'Ċ'.
	if byteToRune['a'] != 'a' || byteToRune[' '] != 'Ġ' || byteToRune['\n'] != 'Ċ' || byteToRune[0] != 'Ā' || byteToRune[0xAD] != 'Ń' {
		t.Fatalf("table wrong: %q %q %q %q %q", byteToRune['a'], byteToRune[' '], byteToRune['\n'], byteToRune[0], byteToRune[0xAD])
	}
	if len(runeToByte) != 256 {
		t.Fatal("table is not a bijection")
	}
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	s := encodeTokenString(all)
	if strings.ContainsAny(s, " \n\t") {
		t.Error("token strings must have no whitespace")
	}
	back, _, ok := decodeTokenString(s)
	if !ok || !slices.Equal(back, all) {
		t.Error("byte alphabet does not round-trip")
	}
}

func TestMetaRoundTrip(t *testing.T) {
	tok := loreTokenizer(t)
	m := tok.Meta()
	if m.Model != "gpt2" || m.Pre != "gpt-2" || len(m.Tokens) != 1024 || len(m.TokenTypes) != 1024 || len(m.Merges) != tok.NumMerges() {
		t.Fatalf("meta header wrong: %q %q %d %d %d", m.Model, m.Pre, len(m.Tokens), len(m.TokenTypes), len(m.Merges))
	}
	if m.BOS != tok.BOS() || m.EOS != tok.EOS() || m.PAD != tok.PAD() || m.TokenTypes[tok.EOS()] != llama.TokenControl || m.TokenTypes[300] != llama.TokenNormal {
		t.Error("meta specials wrong")
	}
	if m.Tokens[' '] != "Ġ" || m.Tokens[tok.EOS()] != EOSName {
		t.Errorf("token strings wrong: %q %q", m.Tokens[' '], m.Tokens[tok.EOS()])
	}
	back, err := FromMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Meta(), m) {
		t.Error("Meta → FromMeta → Meta changed the metadata")
	}
	for _, d := range append(slices.Clone(loreDocs), "<|eos|> \xff\x00 日本 😀") {
		if !slices.Equal(back.Encode(d), tok.Encode(d)) {
			t.Fatal("reloaded tokenizer encodes differently")
		}
	}
	if back.BOS() != tok.BOS() || back.EOS() != tok.EOS() || back.PAD() != tok.PAD() {
		t.Error("reloaded specials differ")
	}
}

// community builds a gpt2-style vocabulary the way GPT-2's encoder.json
// orders it (bytes in bytes_to_unicode order, then merges), with
// "<|endoftext|>" as control BOS/EOS and a user-defined "<tool>".
func community(skip func(b byte) bool) *llama.TokenizerMeta {
	m := &llama.TokenizerMeta{Model: "gpt2", Pre: "gpt-2", PAD: -1}
	add := func(s string, typ int32) {
		m.Tokens = append(m.Tokens, s)
		m.TokenTypes = append(m.TokenTypes, typ)
	}
	for _, r := range "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~" {
		if !skip(byte(r)) {
			add(string(r), llama.TokenNormal)
		}
	}
	for b := 0; b < 256; b++ {
		if byteToRune[b] >= 256 || b >= 0x80 {
			if !skip(byte(b)) {
				add(string(byteToRune[b]), llama.TokenNormal)
			}
		}
	}
	for _, mg := range []string{"Ġ t", "h e", "Ġt he", "l l", "he ll", "e ll", "hell o"} {
		l, r, _ := strings.Cut(mg, " ")
		m.Merges = append(m.Merges, mg)
		add(l+r, llama.TokenNormal)
	}
	add("<|endoftext|>", llama.TokenControl)
	add("<tool>", TokenUserDefined)
	m.BOS, m.EOS = len(m.Tokens)-2, len(m.Tokens)-2
	return m
}

func TestFromMetaCommunity(t *testing.T) {
	m := community(func(byte) bool { return false })
	tok, err := FromMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.MissingBytes()) != 0 {
		t.Fatalf("missing bytes %v", tok.MissingBytes())
	}
	ids := tok.Encode("hello the <tool><|endoftext|>")
	var strs []string
	for _, id := range ids {
		strs = append(strs, tok.TokenString(id))
		if tok.IsSpecial(id) {
			t.Errorf("special %d from text", id)
		}
	}
	// No merges cover the tail, so it is single-byte tokens.
	want := append([]string{"hello", "Ġthe"}, strings.Split(encodeTokenString([]byte(" <tool><|endoftext|>")), "")...)
	if !slices.Equal(strs, want) {
		t.Errorf("tokens %q, want %q", strs, want)
	}
	if tok.Decode(ids) != "hello the <tool><|endoftext|>" {
		t.Error("community vocab does not round-trip")
	}
	tool := tok.SpecialID("<tool>")
	if tok.Decode([]int{tool, tok.EOS()}) != "<tool>" || tok.BOS() != tok.EOS() {
		t.Error("user-defined tokens decode to their text, control tokens to nothing")
	}
	if !reflect.DeepEqual(tok.Meta().Tokens, m.Tokens) || !reflect.DeepEqual(tok.Meta().TokenTypes, m.TokenTypes) {
		t.Error("community metadata not preserved")
	}
	// Merge rank order decides: h+e (rank 1) before l+l (3) gives
	// he ll o → hell o → hello. With e+ll ranked above h+e, h e ll o
	// becomes h ell o, for which no rule applies.
	m2 := community(func(byte) bool { return false })
	m2.Merges = []string{"Ġ t", "l l", "e ll", "h e", "Ġt he", "he ll", "hell o"}
	tok2, err := FromMeta(m2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, id := range tok2.Encode("hello") {
		got = append(got, tok2.TokenString(id))
	}
	if !slices.Equal(got, []string{"h", "ell", "o"}) {
		t.Errorf("rank order: %q, want h ell o", got)
	}
}

func TestFromMetaMissingBytes(t *testing.T) {
	m := community(func(b byte) bool { return b == 0xC3 || b == 0 })
	tok, err := FromMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.MissingBytes(); !slices.Equal(got, []byte{0, 0xC3}) {
		t.Fatalf("MissingBytes = %x", got)
	}
	if _, err := tok.EncodeChecked("café"); !errors.Is(err, ErrMissingByte) || !strings.Contains(err.Error(), "0xc3 at offset 3") {
		t.Errorf("EncodeChecked err = %v", err)
	}
	if got := tok.Decode(tok.Encode("café\x00!")); got != "caf\xa9!" {
		t.Errorf("Encode must drop bytes without tokens, got %q", got)
	}
	if ids, err := tok.EncodeChecked("hello"); err != nil || tok.Decode(ids) != "hello" {
		t.Errorf("plain ASCII: %v %v", ids, err)
	}
}

func TestFromMetaErrors(t *testing.T) {
	good := func() *llama.TokenizerMeta { return community(func(byte) bool { return false }) }
	cases := map[string]func(m *llama.TokenizerMeta) *llama.TokenizerMeta{
		"nil":   func(*llama.TokenizerMeta) *llama.TokenizerMeta { return nil },
		"model": func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.Model = "llama"; return m },
		"pre":   func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.Pre = "llama-bpe"; return m },
		"empty": func(m *llama.TokenizerMeta) *llama.TokenizerMeta {
			m.Tokens, m.TokenTypes, m.Merges = nil, nil, nil
			return m
		},
		"types":          func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.TokenTypes = m.TokenTypes[:3]; return m },
		"unknown left":   func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.Merges[0] = "zz t"; return m },
		"unknown right":  func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.Merges[0] = "Ġ qq"; return m },
		"unknown result": func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.Merges[0] = "x y"; return m },
		"special merge":  func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.Merges[0] = "<tool> a"; return m },
		"no space":       func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.Merges[0] = "Ġt"; return m },
		"bos":            func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.BOS = len(m.Tokens); return m },
		"pad":            func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.PAD = -2; return m },
		"alphabet":       func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.Tokens[5] = "a b"; return m },
		"empty token":    func(m *llama.TokenizerMeta) *llama.TokenizerMeta { m.Tokens[5] = ""; return m },
	}
	for name, mod := range cases {
		if _, err := FromMeta(mod(good())); !errors.Is(err, ErrMeta) {
			t.Errorf("%s: err = %v, want ErrMeta", name, err)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	m := good()
	m.TokenTypes = nil // all normal: "<|endoftext|>" is then over the alphabet too
	m.BOS, m.EOS = -1, -1
	if _, err := FromMeta(m); err != nil {
		t.Errorf("absent token types: %v", err)
	}
}

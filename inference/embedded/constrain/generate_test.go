package constrain

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomModel samples a document: uniformly among allowed tokens, but with
// a probability rising with length (and always after softMax tokens) among
// allowed tokens that close something ('"', '}', ']') or EOS, so that
// generation terminates. It fails the test on an empty mask (dead end), on
// an allowed token that Accept refuses, and after hardMax tokens.
func randomModel(t *testing.T, s *Schema, v *Vocab, toks [][]byte, rng *rand.Rand, softMax, hardMax int, checkMask bool) []byte {
	t.Helper()
	m := s.NewMatcher(v)
	allowed := make([]bool, v.Size())
	var out []byte
	var ids, closers []int
	for step := 0; ; step++ {
		if step > hardMax {
			t.Fatalf("no EOS after %d tokens: %q", hardMax, out)
		}
		m.Mask(allowed)
		ids, closers = ids[:0], closers[:0]
		for id, ok := range allowed {
			if !ok {
				continue
			}
			ids = append(ids, id)
			if id == v.EOS() || hasCloser(toks[id]) {
				closers = append(closers, id)
			}
		}
		if len(ids) == 0 {
			t.Fatalf("dead end: empty mask after %q", out)
		}
		if checkMask {
			for id := range allowed {
				err := m.Clone().Accept(id)
				if (err == nil) != allowed[id] {
					t.Fatalf("after %q: mask[%d %q]=%v but Accept err=%v", out, id, toks[id], allowed[id], err)
				}
			}
		}
		pick := ids
		if len(closers) > 0 && (step >= softMax || rng.Float64() < 0.1+float64(step)/float64(softMax)) {
			pick = closers
		}
		id := pick[rng.IntN(len(pick))]
		if err := m.Accept(id); err != nil {
			t.Fatalf("after %q: allowed token %d %q refused: %v", out, id, toks[id], err)
		}
		if id == v.EOS() {
			if !m.Done() {
				t.Fatalf("Done false after EOS")
			}
			return out
		}
		out = append(out, toks[id]...)
	}
}

func checkDoc(t *testing.T, s *Schema, doc []byte) {
	t.Helper()
	var x any
	if err := json.Unmarshal(doc, &x); err != nil {
		t.Fatalf("encoding/json rejects %q: %v", doc, err)
	}
	if err := s.Validate(doc); err != nil {
		t.Fatalf("Validate rejects %q: %v", doc, err)
	}
	c, err := Canonical(s, doc)
	if err != nil {
		t.Fatalf("Canonical(%q): %v", doc, err)
	}
	m := s.NewMatcher(byteV)
	if err := feed(m, c); err != nil || !m.Done() {
		t.Fatalf("matcher rejects canonical %q (done=%v): %v", c, m.Done(), err)
	}
	c2, err := Canonical(s, c)
	if err != nil || !bytes.Equal(c, c2) {
		t.Fatalf("Canonical not idempotent: %q -> %q (%v)", c, c2, err)
	}
}

// TestGenerateRealisticVocab samples 1500 documents per schema with a 4k
// BPE-like vocabulary and checks each parses with encoding/json, passes
// Validate and canonicalises into the accepted language.
func TestGenerateRealisticVocab(t *testing.T) {
	v, toks := realisticVocab(4096, 1)
	names := []string{"quest", "action", "nested", "int", "str", "arr", "bool"}
	for si, name := range names {
		t.Run(name, func(t *testing.T) {
			s := mustCompile(t, testSchemas[name])
			rng := rand.New(rand.NewPCG(uint64(si), 42))
			n := 1500
			if testing.Short() {
				n = 200
			}
			for i := range n {
				doc := randomModel(t, s, v, toks, rng, 40, 2000, i < 3)
				checkDoc(t, s, doc)
			}
		})
	}
}

// TestGenerateBytesNoDeadEnd walks byte by byte (uniform among allowed
// bytes, so strings get arbitrary UTF-8 and escapes) and, at every step,
// checks that a completion exists from the current state and that it
// validates.
func TestGenerateBytesNoDeadEnd(t *testing.T) {
	v := byteVocab()
	toks := make([][]byte, v.Size())
	for i := range 256 {
		toks[i] = []byte{byte(i)}
	}
	toks[256] = nil
	names := []string{"quest", "action", "nested", "int", "str", "arr", "bool"}
	for si, name := range names {
		t.Run(name, func(t *testing.T) {
			s := mustCompile(t, testSchemas[name])
			rng := rand.New(rand.NewPCG(uint64(si), 7))
			for i := range 300 {
				m := s.NewMatcher(v)
				allowed := make([]bool, v.Size())
				var out []byte
				for step := 0; ; step++ {
					tail, ok, _ := greedyComplete(m)
					if !ok {
						t.Fatalf("no completion from %q (got %q)", out, tail)
					}
					if step%8 == 0 {
						checkDoc(t, s, append(slices.Clone(out), tail...))
					}
					m.Mask(allowed)
					var ids []int
					for id, a := range allowed {
						if a {
							ids = append(ids, id)
						}
					}
					if len(ids) == 0 {
						t.Fatalf("empty mask after %q", out)
					}
					id := ids[rng.IntN(len(ids))]
					if step > 200 || rng.Float64() < 0.02+float64(step)/400 {
						// Head home along the greedy completion.
						if len(tail) == 0 {
							id = 256
						} else {
							id = int(tail[0])
						}
					}
					if err := m.Accept(id); err != nil {
						t.Fatal(err)
					}
					if id == 256 {
						checkDoc(t, s, out)
						break
					}
					out = append(out, byte(id))
				}
				if i == 0 {
					t.Logf("sample: %q", out)
				}
			}
		})
	}
}

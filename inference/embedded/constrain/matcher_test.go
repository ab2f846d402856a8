package constrain

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// tokVocab builds a vocabulary from strings; id 0 is EOS, id 1 a control
// token, then toks in order from id 2.
func tokVocab(toks ...string) (*Vocab, map[string]int) {
	raw := [][]byte{[]byte("<eos>"), nil}
	ids := map[string]int{}
	for _, t := range toks {
		ids[t] = len(raw)
		raw = append(raw, []byte(t))
	}
	return NewVocab(raw, 0), ids
}

func allowedSet(m *Matcher, ids map[string]int) map[string]bool {
	allowed := make([]bool, m.v.Size())
	m.Mask(allowed)
	out := map[string]bool{}
	for t, id := range ids {
		out[t] = allowed[id]
	}
	out["<eos>"] = allowed[0]
	return out
}

func acceptAll(t *testing.T, m *Matcher, ids map[string]int, toks ...string) {
	t.Helper()
	for _, tok := range toks {
		id, ok := ids[tok]
		if !ok {
			t.Fatalf("token %q not in vocab", tok)
		}
		if err := m.Accept(id); err != nil {
			t.Fatalf("Accept(%q): %v", tok, err)
		}
	}
}

func expectMask(t *testing.T, m *Matcher, ids map[string]int, want map[string]bool) {
	t.Helper()
	got := allowedSet(m, ids)
	for tok, w := range want {
		if got[tok] != w {
			t.Errorf("mask[%q] = %v, want %v", tok, got[tok], w)
		}
	}
}

func TestStructuralTokens(t *testing.T) {
	s := mustCompile(t, questSchema)
	v, ids := tokVocab(`{"`, `title`, `giver`, `objectives`, `reward_gold`, `kind`, `target`, `count`,
		`":"`, `","`, `":[`, `]}`, `},{"`, `":`, `"}`, `Lost`, ` sword`, `npc_witch`, `npc_`, `witch`,
		`fetch`, `slay`, `[{"`, `"}]`, `","count`, `1`, `0`, `5`, `}]`, `,"`, `}`, `]`, `":[]`, `":{`, `"`,
		`"reward`, `_gold":`, `500}`, `501}`, `50`, `reward_gold`)
	m := s.NewMatcher(v)
	expectMask(t, m, ids, map[string]bool{`{"`: true, `"`: false, `<eos>`: false, `}`: false})
	acceptAll(t, m, ids, `{"`)
	// Properties in schema order: title is required and comes first.
	expectMask(t, m, ids, map[string]bool{`title`: true, `giver`: false, `reward_gold`: false})
	acceptAll(t, m, ids, `title`)
	expectMask(t, m, ids, map[string]bool{`":"`: true, `":[`: false, `":{`: false, `":`: true})
	acceptAll(t, m, ids, `":"`, `Lost`, ` sword`)
	// `","` closes the string and opens the next key; `"}` would skip
	// required properties; `":[` is not valid after a string value.
	expectMask(t, m, ids, map[string]bool{`","`: true, `"}`: false, `":[`: false, `]}`: true, `"`: true})
	acceptAll(t, m, ids, `","`, `giver`, `":"`)
	expectMask(t, m, ids, map[string]bool{`npc_witch`: true, `npc_`: true, `witch`: false, `fetch`: false})
	acceptAll(t, m, ids, `npc_`, `witch`)
	expectMask(t, m, ids, map[string]bool{`","`: true, `"}`: false, `",`: false})
	acceptAll(t, m, ids, `","`, `objectives`)
	expectMask(t, m, ids, map[string]bool{`":[`: true, `":[]`: true, `":"`: false})
	acceptAll(t, m, ids, `":[`)
	expectMask(t, m, ids, map[string]bool{`[{"`: false, `]`: true, `}`: false})
	acceptAll(t, m, ids, `]`, `,"`, `reward_gold`, `":`, `1`, `}`)
	if !m.Done() {
		t.Fatal("not done")
	}
}

func TestStructuralTokensObjectives(t *testing.T) {
	s := mustCompile(t, questSchema)
	v, ids := tokVocab(`{"title":"","giver":"npc_witch","objectives":[`, `{"`, `kind`, `":"`, `fetch`,
		`","`, `target`, `","count`, `":`, `1`, `0`, `5`, `},{"`, `}]`, `}],"`, `reward_gold`, `500}`, `501}`, `50`, `,"`)
	m := s.NewMatcher(v)
	acceptAll(t, m, ids, `{"title":"","giver":"npc_witch","objectives":[`, `{"`, `kind`, `":"`, `fetch`,
		`","`, `target`, `":"`, `","count`, `":`)
	expectMask(t, m, ids, map[string]bool{`1`: true, `5`: true, `0`: false, `50`: false})
	acceptAll(t, m, ids, `1`)
	expectMask(t, m, ids, map[string]bool{`0`: true, `5`: false, `},{"`: true, `}]`: true, `,"`: false})
	acceptAll(t, m, ids, `0`, `}],"`, `reward_gold`, `":`)
	expectMask(t, m, ids, map[string]bool{`500}`: true, `501}`: false, `50`: true})
	acceptAll(t, m, ids, `500}`)
	if !m.Done() {
		t.Fatal("not done after closing brace")
	}
	expectMask(t, m, ids, map[string]bool{`<eos>`: true, `,"`: false, `}]`: false})
}

func TestInvalidBytesMasked(t *testing.T) {
	s := mustCompile(t, `{"type":"object","properties":{"n":{"type":"integer","minimum":0,"maximum":99},"s":{"type":"string"}},"required":["n","s"]}`)
	v, ids := tokVocab(`{"n":`, `1`, `12`, `1a`, `1,`, `1,"`, `s":"`, "a\nb", `a\nb`, `\u00e9`, `\ud800`, `\x`,
		`a"b`, "\x01", `\"`, `"}`, `123`, `-1`, `0`, `01`, `9`)
	m := s.NewMatcher(v)
	acceptAll(t, m, ids, `{"n":`)
	expectMask(t, m, ids, map[string]bool{`1`: true, `12`: true, `1a`: false, `123`: false, `-1`: false,
		`0`: true, `01`: false, `1,"`: true, `1,`: true})
	acceptAll(t, m, ids, `1,"`, `s":"`)
	expectMask(t, m, ids, map[string]bool{"a\nb": false, `a\nb`: true, `\u00e9`: true, `\ud800`: false,
		`\x`: false, `a"b`: false, "\x01": false, `\"`: true, `"}`: true})
}

func TestUTF8SplitAcrossTokens(t *testing.T) {
	s := mustCompile(t, `{"type":"string","maxLength":2}`)
	v, ids := tokVocab(`"`, "\xe2", "\x82", "\xac", "\xe2\x82", "€", "a", "é", "\xc3", "\xa9\"", "\xc0\xaf",
		"\xed\xa0\x80", "\xe0\x80\x80", "\xf4\x90\x80\x80", "\xf0\x9f\x90\x89", "ab")
	m := s.NewMatcher(v)
	acceptAll(t, m, ids, `"`, "\xe2")
	expectMask(t, m, ids, map[string]bool{"\x82": true, "\xac": true, "a": false, `"`: false, "\xe2": false})
	acceptAll(t, m, ids, "\x82")
	expectMask(t, m, ids, map[string]bool{"\xac": true, "\x82": true, "a": false})
	acceptAll(t, m, ids, "\xac")
	// One code point used, one left: a 4-byte character fits, "ab" does not.
	expectMask(t, m, ids, map[string]bool{"\xf0\x9f\x90\x89": true, "ab": false, "a": true, "\xc3": true,
		"\xed\xa0\x80": false, "\xe0\x80\x80": false, "\xf4\x90\x80\x80": false, "\xc0\xaf": false, `"`: true})
	acceptAll(t, m, ids, "\xc3", "\xa9\"")
	if !m.Done() {
		t.Fatal("not done")
	}
	// maxLength counts code points, so "€€" is full.
	m = s.NewMatcher(v)
	acceptAll(t, m, ids, `"`, "€", "\xe2\x82", "\xac")
	expectMask(t, m, ids, map[string]bool{`"`: true, "a": false, "é": false})
}

// TestIntegerPrefixesExhaustive checks, for several ranges, every byte
// string over "-0123456789" up to 5 bytes: the matcher accepts it as a
// prefix iff some completion is a canonical integer in range, and accepts it
// as a complete document iff it is one.
func TestIntegerPrefixesExhaustive(t *testing.T) {
	ranges := [][2]int64{{1, 10}, {0, 500}, {-5, 100}, {1000, 1005}, {-120, -7}, {-3, -3}, {0, 0}, {7, 93}, {-999, 999}}
	alphabet := "-0123456789"
	canonical := func(s string) (int64, bool) {
		i, err := strconv.ParseInt(s, 10, 64)
		return i, err == nil && strconv.FormatInt(i, 10) == s
	}
	for _, r := range ranges {
		s := mustCompile(t, fmt.Sprintf(`{"type":"integer","minimum":%d,"maximum":%d}`, r[0], r[1]))
		// All valid documents, as strings, to decide prefix feasibility.
		prefixes := map[string]bool{}
		for i := r[0]; i <= r[1]; i++ {
			x := strconv.FormatInt(i, 10)
			for j := range len(x) + 1 {
				prefixes[x[:j]] = true
			}
		}
		var rec func(p string)
		rec = func(p string) {
			m := s.NewMatcher(byteV)
			err := feed(m, []byte(p))
			wantPrefix := prefixes[p]
			if (err == nil) != wantPrefix {
				t.Fatalf("range %v: prefix %q accepted=%v, want %v (%v)", r, p, err == nil, wantPrefix, err)
			}
			if err != nil {
				return
			}
			i, ok := canonical(p)
			wantDone := ok && i >= r[0] && i <= r[1]
			if m.Done() != wantDone {
				t.Fatalf("range %v: %q Done=%v, want %v", r, p, m.Done(), wantDone)
			}
			if len(p) < 5 {
				for _, c := range alphabet {
					rec(p + string(c))
				}
			}
		}
		rec("")
	}
}

func TestIntegerInt64Limits(t *testing.T) {
	s := mustCompile(t, `{"type":"integer"}`)
	for doc, ok := range map[string]bool{
		"9223372036854775807": true, "9223372036854775808": false, "-9223372036854775808": true,
		"-9223372036854775809": false, "92233720368547758070": false, "-0": false, "0": true, "00": false,
	} {
		m := s.NewMatcher(byteV)
		err := feed(m, []byte(doc))
		if got := err == nil && m.Done(); got != ok {
			t.Errorf("%s: accepted=%v, want %v (%v)", doc, got, ok, err)
		}
	}
	s = mustCompile(t, `{"type":"integer","minimum":-1e30,"exclusiveMaximum":1e300}`)
	if s.root.min != -1<<63 || s.root.max != 1<<63-1 {
		t.Errorf("clamped bounds = %d..%d", s.root.min, s.root.max)
	}
}

func TestEnumPrefixes(t *testing.T) {
	s := mustCompile(t, `{"enum":["fetch","fe","slay","a\"b"]}`)
	v, ids := tokVocab(`"`, `fe`, `tch`, `tch"`, `"fe"`, `fx`, `slay"`, `sl`, `a`, `\"`, `b"`, `"a`, `"}`)
	m := s.NewMatcher(v)
	expectMask(t, m, ids, map[string]bool{`"`: true, `"fe"`: true, `"a`: true, `fe`: false})
	acceptAll(t, m, ids, `"`)
	expectMask(t, m, ids, map[string]bool{`fe`: true, `fx`: false, `slay"`: true, `sl`: true, `a`: true, `"`: false})
	acceptAll(t, m, ids, `fe`)
	expectMask(t, m, ids, map[string]bool{`"`: true, `tch`: true, `tch"`: true, `fx`: false, `"}`: false})
	acceptAll(t, m, ids, `tch`)
	expectMask(t, m, ids, map[string]bool{`"`: true, `<eos>`: false, `tch`: false})
	m = s.NewMatcher(v)
	acceptAll(t, m, ids, `"a`, `\"`, `b"`)
	if !m.Done() {
		t.Fatal(`enum "a\"b" not done`)
	}
}

func TestArrayItemBounds(t *testing.T) {
	s := mustCompile(t, `{"type":"array","minItems":1,"maxItems":2,"items":{"type":"boolean"}}`)
	for doc, ok := range map[string]bool{
		"[]": false, "[true]": true, "[true,false]": true, "[true,false,true]": false, "[true,]": false,
	} {
		m := s.NewMatcher(byteV)
		err := feed(m, []byte(doc))
		if got := err == nil && m.Done(); got != ok {
			t.Errorf("%s: accepted=%v, want %v (%v)", doc, got, ok, err)
		}
	}
	z := mustCompile(t, `{"type":"array","maxItems":0,"items":{"type":"null"}}`)
	m := z.NewMatcher(byteV)
	if err := feed(m, []byte("[n")); err == nil {
		t.Error("maxItems 0 accepted an item")
	}
}

func TestObjectOrderAndOptional(t *testing.T) {
	s := mustCompile(t, actionSchema)
	for doc, ok := range map[string]bool{
		`{"action":"say"}`:                        true,
		`{"action":"say","urgent":true}`:          true,
		`{"action":"say","say":"hi","amount":-5}`: true,
		`{"urgent":true,"action":"say"}`:          false, // order
		`{"action":"say","action":"say"}`:         false, // duplicate
		`{"action":"say","other":1}`:              false, // additional
		`{}`:                                      false, // required
		`{"action":"say","target":""}`:            false, // minLength 1
		`{"action":"say","mood":-0.25}`:           true,
		`{"action":"say","mood":01}`:              false,
		`{"action":"say","mood":1.}`:              false,
		`{"action":"say","mood":1e5}`:             false,
		`{"action":"say","note":null}`:            true,
		`{"action":"say"} `:                       false, // no whitespace
		`{ "action":"say"}`:                       false,
	} {
		m := s.NewMatcher(byteV)
		err := feed(m, []byte(doc))
		if got := err == nil && m.Done(); got != ok {
			t.Errorf("%s: accepted=%v, want %v (%v)", doc, got, ok, err)
		}
		if ok {
			if err := s.Validate([]byte(doc)); err != nil {
				t.Errorf("%s: Validate: %v", doc, err)
			}
		}
	}
}

func TestEOSAndAcceptErrors(t *testing.T) {
	s := mustCompile(t, `{"type":"integer","minimum":5,"maximum":42}`)
	v, ids := tokVocab("4", "5", "0", "1")
	m := s.NewMatcher(v)
	if err := m.Accept(0); err == nil {
		t.Error("EOS accepted before any value")
	}
	if err := m.Accept(99); err == nil {
		t.Error("out-of-range id accepted")
	}
	if err := m.Accept(-1); err == nil {
		t.Error("negative id accepted")
	}
	if err := m.Accept(1); err == nil {
		t.Error("control token accepted")
	}
	acceptAll(t, m, ids, "4")
	if m.Done() {
		t.Error("4 is not in 5..50 but Done")
	}
	expectMask(t, m, ids, map[string]bool{"<eos>": false, "0": true, "5": false})
	if err := m.Accept(ids["5"]); err == nil {
		t.Error("45 accepted")
	}
	acceptAll(t, m, ids, "0") // 40: Accept errors above left the state unchanged
	c := m.Clone()
	expectMask(t, m, ids, map[string]bool{"<eos>": true, "0": false})
	if err := m.Accept(0); err != nil {
		t.Fatal(err)
	}
	if !m.Done() {
		t.Error("not Done after EOS")
	}
	expectMask(t, m, ids, map[string]bool{"<eos>": true, "0": false, "1": false})
	if err := m.Accept(ids["1"]); err == nil {
		t.Error("token after EOS accepted")
	}
	// The clone is independent of the EOS accepted by m.
	if err := c.Accept(ids["4"]); err == nil {
		t.Error("clone accepted 404")
	}
	// Short masks are filled as far as they go, without panicking.
	short := make([]bool, 2)
	c.Mask(short)
	if !short[0] {
		t.Error("EOS not allowed in short mask")
	}
	var nilM = s.NewMatcher(nil)
	nilM.Mask(nil)
	if err := nilM.Accept(0); err == nil {
		t.Error("nil vocab accepted a token")
	}
}

func TestVocabDuplicatesAndControls(t *testing.T) {
	raw := [][]byte{[]byte("x"), nil, []byte(`"`), []byte(`"`), {}, []byte(`"a"`), []byte(`"a`)}
	v := NewVocab(raw, 0)
	if v.EOS() != 0 || v.Size() != 7 {
		t.Fatalf("EOS %d size %d", v.EOS(), v.Size())
	}
	s := mustCompile(t, `{"type":"string"}`)
	m := s.NewMatcher(v)
	allowed := make([]bool, v.Size())
	m.Mask(allowed)
	want := []bool{false, false, true, true, false, true, true}
	if !slices.Equal(allowed, want) {
		t.Errorf("mask %v, want %v", allowed, want)
	}
	if NewVocab(raw, 99).EOS() != -1 {
		t.Error("out-of-range eos not dropped")
	}
}

// TestDeterminism: the same seed gives the same documents.
func TestDeterminism(t *testing.T) {
	v, toks := realisticVocab(2048, 3)
	s := mustCompile(t, questSchema)
	gen := func() []string {
		rng := rand.New(rand.NewPCG(9, 9))
		var docs []string
		for range 20 {
			docs = append(docs, string(randomModel(t, s, v, toks, rng, 30, 2000, false)))
		}
		return docs
	}
	if a, b := gen(), gen(); !slices.Equal(a, b) {
		t.Error("same seed, different documents")
	}
}

func TestMaskMatchesAcceptNearLimits(t *testing.T) {
	// maxLength pressure disables the plain-string fast path part way.
	s := mustCompile(t, `{"type":"object","properties":{"t":{"type":"string","maxLength":6}},"required":["t"]}`)
	v, toks := realisticVocab(3000, 5)
	for _, prefix := range []string{`{"t":"`, `{"t":"ab`, `{"t":"abcde`, `{"t":"abcdef`, `{"t":"ab\`, `{"t":"ab\u0`, `{"t":"é`} {
		m := s.NewMatcher(byteV)
		if err := feed(m, []byte(prefix)); err != nil {
			t.Fatal(err)
		}
		m.v = v
		allowed := make([]bool, v.Size())
		m.Mask(allowed)
		for id := range allowed {
			err := m.Clone().Accept(id)
			if (err == nil) != allowed[id] {
				t.Fatalf("%s: mask[%q]=%v, Accept err=%v", prefix, toks[id], allowed[id], err)
			}
		}
	}
}

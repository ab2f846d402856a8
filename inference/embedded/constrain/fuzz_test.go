package constrain

import (
	"strings"
	"testing"
)

// FuzzCompile compiles arbitrary bytes as a schema. It must never panic;
// errors must be prefixed "constrain:"; a compiled schema must have a
// completion from its start state (no dead end), that completion must pass
// Validate, and its Canonical form must be accepted by a fresh matcher.
// Seeds live in testdata/fuzz/FuzzCompile.
func FuzzCompile(f *testing.F) {
	for _, src := range testSchemas {
		f.Add([]byte(src))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Compile(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "constrain: ") {
				t.Fatalf("error without package prefix: %v", err)
			}
			return
		}
		_ = s.Validate(data) // must not panic
		m := s.NewMatcher(byteV)
		doc, ok, deadEnd := greedyComplete(m)
		if deadEnd {
			t.Fatalf("dead end at the start state after %q", doc)
		}
		if !ok {
			return // a completion exists but is very long (e.g. minLength 1e6)
		}
		if err := s.Validate(doc); err != nil {
			t.Fatalf("completion %q fails Validate: %v", doc, err)
		}
		c, err := Canonical(s, doc)
		if err != nil {
			t.Fatalf("Canonical(%q): %v", doc, err)
		}
		m = s.NewMatcher(byteV)
		if err := feed(m, c); err != nil || !m.Done() {
			t.Fatalf("canonical %q rejected: %v", c, err)
		}
	})
}

// FuzzMatcher is a differential check between the matcher and Validate /
// Canonical on arbitrary documents for the test schemas: everything the
// matcher completes validates and is its own canonical form, and every
// canonical form of a valid document is accepted by the matcher.
func FuzzMatcher(f *testing.F) {
	names := []string{"quest", "action", "nested", "int", "str", "arr", "bool"}
	schemas := make([]*Schema, len(names))
	for i, n := range names {
		schemas[i] = mustCompile(f, testSchemas[n])
	}
	f.Add(uint8(0), []byte(goodQuest))
	f.Add(uint8(1), []byte(`{"action":"say","say":"hi \"you\"\n","amount":-5,"mood":0.25,"note":null}`))
	f.Add(uint8(2), []byte(`{"grid":[[-7,-120],[]],"tags":["naïve","tab\there"],"weird \"key\"\n/é":true,"deep":[[{"y":"ab"}]]}`))
	f.Add(uint8(3), []byte(`-1000`))
	f.Add(uint8(4), []byte(`"\u00e9\ud83d\ude00"`))
	f.Add(uint8(5), []byte(`[1.5,-0,10000000000000000]`))
	f.Fuzz(func(t *testing.T, which uint8, doc []byte) {
		s := schemas[int(which)%len(schemas)]
		m := s.NewMatcher(byteV)
		accepted := feed(m, doc) == nil && m.Done()
		verr := s.Validate(doc)
		if accepted && verr != nil {
			t.Fatalf("matcher accepts %q but Validate: %v", doc, verr)
		}
		if verr != nil {
			return
		}
		c, err := Canonical(s, doc)
		if err != nil {
			return // e.g. a number the language cannot express
		}
		mc := s.NewMatcher(byteV)
		if err := feed(mc, c); err != nil || !mc.Done() {
			t.Fatalf("canonical %q of %q rejected: %v", c, doc, err)
		}
	})
}

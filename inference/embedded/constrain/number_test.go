package constrain

import (
	"fmt"
	"math/big"
	"strings"
	"testing"
)

// validBoundedNumber is an independent oracle for bounded numbers: the
// grammar -?(0|[1-9][0-9]{0,11})(\.[0-9]{1,6})? and lo <= value <= hi with
// exclusive flags, in exact rationals.
func validBoundedNumber(s string, lo, hi *big.Rat, loX, hiX bool) bool {
	t := strings.TrimPrefix(s, "-")
	ip, fp, hasDot := strings.Cut(t, ".")
	if ip == "" || len(ip) > 12 || (len(ip) > 1 && ip[0] == '0') {
		return false
	}
	if hasDot && (fp == "" || len(fp) > 6) {
		return false
	}
	for _, c := range ip + fp {
		if c < '0' || c > '9' {
			return false
		}
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return false
	}
	if lo != nil {
		if c := r.Cmp(lo); c < 0 || c == 0 && loX {
			return false
		}
	}
	if hi != nil {
		if c := r.Cmp(hi); c > 0 || c == 0 && hiX {
			return false
		}
	}
	return true
}

// TestBoundedNumbersExhaustive enumerates every string over "-.0125" up to
// 7 bytes for several ranges: the matcher completes exactly the strings the
// oracle accepts, and every prefix it accepts has a completion that
// validates (no dead ends).
func TestBoundedNumbersExhaustive(t *testing.T) {
	ranges := []string{
		`"minimum":0,"maximum":1`,
		`"minimum":-2.5,"maximum":2.25`,
		`"exclusiveMinimum":0,"exclusiveMaximum":1`,
		`"minimum":-0.001,"maximum":0.0012`,
		`"minimum":10,"maximum":12.5`,
		`"maximum":-1.25`,
		`"exclusiveMinimum":20.5`,
	}
	const alphabet = "-.0125"
	for _, r := range ranges {
		s := mustCompile(t, fmt.Sprintf(`{"type":"number",%s}`, r))
		nd := s.root
		var rec func(p string, st state, live bool)
		rec = func(p string, st state, live bool) {
			if live {
				if got, want := st.canEnd(), validBoundedNumber(p, nd.numLo, nd.numHi, nd.numLoX, nd.numHiX); got != want {
					t.Fatalf("{%s}: %q complete=%v, oracle %v", r, p, got, want)
				}
				if p != "" {
					tail, ok, _ := greedyComplete(&Matcher{v: byteV, st: st})
					if !ok {
						t.Fatalf("{%s}: dead end after %q", r, p)
					}
					if err := s.Validate([]byte(p + string(tail))); err != nil {
						t.Fatalf("{%s}: completion %q: %v", r, p+string(tail), err)
					}
				}
			} else if validBoundedNumber(p, nd.numLo, nd.numHi, nd.numLoX, nd.numHiX) {
				t.Fatalf("{%s}: matcher rejects a prefix of valid %q", r, p)
			}
			if len(p) == 7 {
				return
			}
			for i := range len(alphabet) {
				s2 := st
				rec(p+alphabet[i:i+1], s2, live && s2.step(alphabet[i]))
			}
		}
		m := s.NewMatcher(byteV)
		rec("", m.st, true)
	}
}

func TestBoundedNumberDigitsAndCanonical(t *testing.T) {
	s := mustCompile(t, `{"type":"number","minimum":-1e12,"maximum":1e12}`)
	for doc, ok := range map[string]bool{
		"999999999999": true, "1000000000000": false, "-999999999999.999999": true,
		"0.1234567": false, "0.123456": true, "-0": true, "-0.5": true, "01": false,
	} {
		m := s.NewMatcher(byteV)
		err := feed(m, []byte(doc))
		if got := err == nil && m.Done(); got != ok {
			t.Errorf("%s: accepted=%v, want %v (%v)", doc, got, ok, err)
		}
	}
	if _, err := Canonical(s, []byte(`0.1234567`)); err == nil {
		t.Error("Canonical wrote 7 fraction digits for a bounded number")
	}
	x := mustCompile(t, `{"type":"number","exclusiveMaximum":0.1}`)
	if err := x.Validate([]byte(`0.09999999999999999999`)); err != nil {
		t.Fatal(err)
	}
	// The shortest float64 form is 0.1, which the exclusive bound forbids.
	if _, err := Canonical(x, []byte(`0.09999999999999999999`)); err == nil {
		t.Error("Canonical rounded onto an exclusive bound")
	}
	if err := x.Validate([]byte(`0.1`)); err == nil || !strings.Contains(err.Error(), "exclusiveMaximum 0.1") {
		t.Errorf("0.1: %v", err)
	}
}

package constrain

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Validate parses doc as JSON (any valid JSON text: whitespace and member
// order are free) and checks it against the schema. Errors name the
// location as a JSONPath ("$.objectives[1].count"): invalid JSON, duplicate
// keys, wrong types, unknown or missing required properties, strings
// outside minLength/maxLength (code points) or not in the enum, integers
// that are not integral or out of range, numbers that are not finite
// float64 values or out of range, arrays outside minItems/maxItems, nesting
// deeper than 128 levels.
// Every document a Matcher completes passes Validate.
func (s *Schema) Validate(doc []byte) error {
	v, err := parseJSON(doc)
	if err != nil {
		return fmt.Errorf("constrain: document is not valid JSON: %w", err)
	}
	return check(s.root, v, "$")
}

// Canonical validates doc against schema (as Validate does) and re-encodes
// it into the compact form the matcher accepts (see the package comment):
// no whitespace, properties in schema order, strings in enc form, integers
// in plain decimal, numbers in shortest round-trip decimal without exponent.
// Besides Validate's errors it fails for a nil schema, for numbers whose
// decimal form exceeds the number digit limits (16 integer and 20 fraction
// digits; 12 and 6 for bounded numbers) and when rounding a number to its
// shortest float64 form breaks a bound. The output always passes Validate.
func Canonical(schema *Schema, doc []byte) ([]byte, error) {
	if schema == nil {
		return nil, fmt.Errorf("constrain: Canonical with a nil schema")
	}
	v, err := parseJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("constrain: document is not valid JSON: %w", err)
	}
	if err := check(schema.root, v, "$"); err != nil {
		return nil, err
	}
	out, err := encode(nil, schema.root, v, "$")
	if err != nil {
		return nil, err
	}
	// Rounding a number to its shortest float64 form can move it onto an
	// exclusive bound; make sure the output itself is valid.
	if err := schema.Validate(out); err != nil {
		return nil, fmt.Errorf("constrain: canonical form %s is invalid: %w", out, err)
	}
	return out, nil
}

func docErr(path, format string, args ...any) error {
	return fmt.Errorf("constrain: document %s: %s", path, fmt.Sprintf(format, args...))
}

// parseInt parses a JSON number literal that must denote an int64 (1.0 and
// 1e2 count as integers, as in JSON Schema).
func parseInt(lit string) (int64, bool) {
	if i, err := strconv.ParseInt(lit, 10, 64); err == nil {
		return i, true
	}
	r, ok := parseRat(lit)
	if !ok || !r.IsInt() || !r.Num().IsInt64() {
		return 0, false
	}
	return r.Num().Int64(), true
}

var wantKind = map[nkind]jkind{
	kObject: jObject, kArray: jArray, kString: jString, kInteger: jNumber,
	kNumber: jNumber, kBoolean: jBool, kNull: jNull,
}

func check(n *node, v *jval, path string) error {
	if v.kind != wantKind[n.kind] {
		return docErr(path, "expected %s, got %s", n.kind, v.kind)
	}
	switch n.kind {
	case kObject:
		for _, m := range v.obj {
			found := false
			for _, p := range n.props {
				if p.name == m.key {
					found = true
					break
				}
			}
			if !found {
				return docErr(pathKey(path, m.key), "property %q is not allowed by the schema", m.key)
			}
		}
		for _, p := range n.props {
			mv := v.get(p.name)
			if mv == nil {
				if p.required {
					return docErr(path, "missing required property %q", p.name)
				}
				continue
			}
			if err := check(p.node, mv, pathKey(path, p.name)); err != nil {
				return err
			}
		}
	case kArray:
		if l := len(v.arr); l < int(n.minItems) {
			return docErr(path, "array has %d items, fewer than minItems %d", l, n.minItems)
		} else if l > int(n.maxItems) {
			return docErr(path, "array has %d items, more than maxItems %d", l, n.maxItems)
		}
		for i, e := range v.arr {
			if err := check(n.items, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case kString:
		l := utf8.RuneCountInString(v.s)
		if l < int(n.minLen) {
			return docErr(path, "string has %d characters, fewer than minLength %d", l, n.minLen)
		}
		if l > int(n.maxLen) {
			return docErr(path, "string has %d characters, more than maxLength %d", l, n.maxLen)
		}
		if n.enum != nil {
			ok := false
			for _, e := range n.enum {
				if e == v.s {
					ok = true
					break
				}
			}
			if !ok {
				return docErr(path, "%q is not one of the enum values %q", v.s, n.enum)
			}
		}
	case kInteger:
		i, ok := parseInt(v.s)
		if !ok {
			return docErr(path, "%s is not an integer in the int64 range", v.s)
		}
		if i < n.min {
			return docErr(path, "%d is less than minimum %d", i, n.min)
		}
		if i > n.max {
			return docErr(path, "%d is greater than maximum %d", i, n.max)
		}
	case kNumber:
		f, err := strconv.ParseFloat(v.s, 64)
		if err != nil || math.IsInf(f, 0) {
			return docErr(path, "%s is not a finite float64", v.s)
		}
		if n.numLo == nil && n.numHi == nil {
			break
		}
		r, ok := parseRat(v.s)
		if !ok { // exponent beyond ±400 but finite: compare the float64
			r = new(big.Rat).SetFloat64(f)
		}
		if n.numLo != nil {
			if c := r.Cmp(n.numLo); c < 0 || c == 0 && n.numLoX {
				return docErr(path, "%s is less than %s %s", v.s, minName(n.numLoX), n.numLoS)
			}
		}
		if n.numHi != nil {
			if c := r.Cmp(n.numHi); c > 0 || c == 0 && n.numHiX {
				return docErr(path, "%s is greater than %s %s", v.s, maxName(n.numHiX), n.numHiS)
			}
		}
	}
	return nil
}

func minName(exclusive bool) string {
	if exclusive {
		return "exclusiveMinimum"
	}
	return "minimum"
}

func maxName(exclusive bool) string {
	if exclusive {
		return "exclusiveMaximum"
	}
	return "maximum"
}

// encode appends the canonical form of a checked value.
func encode(dst []byte, n *node, v *jval, path string) ([]byte, error) {
	var err error
	switch n.kind {
	case kObject:
		dst = append(dst, '{')
		first := true
		for _, p := range n.props {
			mv := v.get(p.name)
			if mv == nil {
				continue
			}
			if !first {
				dst = append(dst, ',')
			}
			first = false
			dst = append(dst, '"')
			dst = appendString(dst, p.name)
			dst = append(dst, '"', ':')
			if dst, err = encode(dst, p.node, mv, pathKey(path, p.name)); err != nil {
				return nil, err
			}
		}
		dst = append(dst, '}')
	case kArray:
		dst = append(dst, '[')
		for i, e := range v.arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = encode(dst, n.items, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	case kString:
		dst = append(dst, '"')
		dst = appendString(dst, v.s)
		dst = append(dst, '"')
	case kInteger:
		i, _ := parseInt(v.s)
		dst = strconv.AppendInt(dst, i, 10)
	case kNumber:
		f, _ := strconv.ParseFloat(v.s, 64)
		if f == 0 {
			f = 0 // drop the sign of -0
		}
		s := strconv.FormatFloat(f, 'f', -1, 64)
		ip, fp, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
		maxI, maxF := maxNumberIntDigits, maxNumberFracDigits
		if n.bounded {
			maxI, maxF = boundedIntDigits, boundedFracDigits
		}
		if len(ip) > maxI || len(fp) > maxF {
			return nil, docErr(path, "number %s needs more than %d integer or %d fraction digits, which the constrained language cannot express", v.s, maxI, maxF)
		}
		dst = append(dst, s...)
	case kBoolean:
		dst = strconv.AppendBool(dst, v.b)
	case kNull:
		dst = append(dst, "null"...)
	}
	return dst, nil
}

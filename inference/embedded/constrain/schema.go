package constrain

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// unbounded is the stored maxLength/maxItems of a string or array without
// one. Counters are int32 and never pass it.
const unbounded = math.MaxInt32

// maxSchemaDepth bounds the nesting of schema nodes (objects, arrays).
const maxSchemaDepth = 32

// nkind is the JSON type a schema node accepts.
type nkind uint8

const (
	kObject nkind = iota + 1
	kArray
	kString
	kInteger
	kNumber
	kBoolean
	kNull
)

var kindNames = map[string]nkind{
	"object": kObject, "array": kArray, "string": kString, "integer": kInteger,
	"number": kNumber, "boolean": kBoolean, "null": kNull,
}

func (k nkind) String() string {
	for name, v := range kindNames {
		if v == k {
			return name
		}
	}
	return "invalid"
}

// Schema is a compiled JSON Schema. It is immutable and safe for concurrent
// use; create one Matcher per generation with NewMatcher.
type Schema struct {
	root *node
	done *link // the bottom of every matcher stack: the "document complete" frame
}

// node is one compiled schema position.
type node struct {
	kind nkind
	path string // JSON Pointer of this node in the schema, e.g. "#/properties/a"

	// object
	props       []prop
	lastAllowed []int32 // [pos+1]: highest property index that may follow property pos
	reqAfter    []bool  // [pos+1]: a required property has index > pos
	keys        *btrie  // enc(name)+'"' for every property; leaf = property index

	// array
	items              *node
	minItems, maxItems int32

	// string
	minLen, maxLen int32
	enum           []string // nil: free string
	enumTrie       *btrie   // enc(value)+'"'; leaf = enum index

	// integer (inclusive bounds) and the derived magnitude ranges per sign;
	// bounded numbers use the same ranges in units of 10^-boundedFracDigits
	min, max       int64
	hasPos, hasNeg bool
	posLo, posHi   uint64 // magnitudes of allowed values >= 0
	negLo, negHi   uint64 // magnitudes of allowed values < 0 (numbers: <= 0, "-0")

	// number
	bounded        bool     // minimum/maximum given: digit limits and range checks apply
	numLo, numHi   *big.Rat // exact bounds for Validate (nil: none)
	numLoX, numHiX bool     // the bound is exclusive
	numLoS, numHiS string   // the bounds as written, for messages
}

type prop struct {
	name     string
	node     *node
	required bool
}

// btrie is a small byte trie over a fixed set of encoded strings (property
// names or enum values, each followed by the closing '"').
type btrie struct {
	nodes []btnode
}

type btnode struct {
	edges []btedge // sorted by byte
	leaf  int32    // index of the string ending here, or -1
	idx   []int32  // sorted indices of all strings in this subtree
}

type btedge struct {
	b     byte
	child int32
}

func newBtrie(strs [][]byte) *btrie {
	t := &btrie{nodes: []btnode{{leaf: -1}}}
	for i, s := range strs {
		cur := int32(0)
		t.nodes[0].idx = append(t.nodes[0].idx, int32(i))
		for _, b := range s {
			c := t.child(cur, b)
			if c < 0 {
				c = int32(len(t.nodes))
				t.nodes = append(t.nodes, btnode{leaf: -1})
				n := &t.nodes[cur]
				pos, _ := slices.BinarySearchFunc(n.edges, b, func(e btedge, b byte) int { return int(e.b) - int(b) })
				n.edges = slices.Insert(n.edges, pos, btedge{b, c})
			}
			cur = c
			t.nodes[cur].idx = append(t.nodes[cur].idx, int32(i))
		}
		t.nodes[cur].leaf = int32(i)
	}
	return t
}

// child returns the child of trie node n along byte b, or -1.
func (t *btrie) child(n int32, b byte) int32 {
	for _, e := range t.nodes[n].edges {
		if e.b == b {
			return e.child
		}
		if e.b > b {
			break
		}
	}
	return -1
}

// anyIn reports whether some string in the subtree of n has an index in
// [lo, hi].
func (t *btrie) anyIn(n, lo, hi int32) bool {
	for _, i := range t.nodes[n].idx {
		if i >= lo {
			return i <= hi
		}
	}
	return false
}

// annotations are keywords that carry no constraint and are ignored.
var annotations = map[string]bool{
	"title": true, "description": true, "$comment": true, "default": true,
	"examples": true, "$schema": true, "$id": true, "deprecated": true,
	"readOnly": true, "writeOnly": true,
}

// typeKeywords lists the constraint keywords supported per type ("type"
// itself is handled separately).
var typeKeywords = map[nkind][]string{
	kObject:  {"properties", "required", "additionalProperties"},
	kArray:   {"items", "minItems", "maxItems"},
	kString:  {"enum", "minLength", "maxLength"},
	kInteger: {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
	kNumber:  {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"},
	kBoolean: {},
	kNull:    {},
}

// Compile parses a JSON Schema (draft 2020-12 keywords) restricted to this
// subset:
//
//   - "type": one of "object", "array", "string", "integer", "number",
//     "boolean", "null" (a single string; type arrays are unsupported).
//     "type" may be omitted only when "enum" is given (a string enum).
//   - object: "properties" (member order defines output order), "required"
//     (names must be in "properties"), "additionalProperties" (only false;
//     false is assumed when absent).
//   - array: "items" (one schema, required), "minItems", "maxItems".
//   - string: "enum" (non-empty array of strings), "minLength", "maxLength"
//     (Unicode code points).
//   - integer: "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"
//     (any JSON numbers; rounded inward to integers, clamped to int64).
//   - number: "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"
//     (exact for Validate; see the package comment for the digit limits
//     the matcher applies).
//   - annotations ("title", "description", "$comment", "default",
//     "examples", "$schema", "$id", "deprecated", "readOnly", "writeOnly")
//     are ignored.
//
// Errors name the offending keyword and its location as a JSON Pointer
// ("#/properties/objectives/items"): invalid JSON, any other keyword
// ("$ref", "oneOf", "pattern", "format", ...), a keyword used with a type it
// does not apply to, a wrong keyword value type, an empty range (minimum >
// maximum, minLength > maxLength, minItems > maxItems, no enum value within
// the length bounds), unknown required names and nesting deeper than 32
// schema levels.
func Compile(schema []byte) (*Schema, error) {
	v, err := parseJSON(schema)
	if err != nil {
		return nil, fmt.Errorf("constrain: schema is not valid JSON: %w", err)
	}
	root, err := compileNode(v, "#", 0)
	if err != nil {
		return nil, err
	}
	return &Schema{root: root, done: &link{f: frame{kind: fDone}}}, nil
}

func schemaErr(path, format string, args ...any) error {
	return fmt.Errorf("constrain: schema %s: %s", path, fmt.Sprintf(format, args...))
}

func compileNode(v *jval, path string, depth int) (*node, error) {
	if depth > maxSchemaDepth {
		return nil, schemaErr(path, "schema nesting deeper than %d levels", maxSchemaDepth)
	}
	if v.kind != jObject {
		return nil, schemaErr(path, "a schema must be a JSON object, got %s", v.kind)
	}
	n := &node{path: path}
	// Unknown keywords first, in document order, so "$ref" or "oneOf" is
	// reported as such even without "type".
	for _, m := range v.obj {
		if m.key == "type" || annotations[m.key] {
			continue
		}
		known := false
		for _, kws := range typeKeywords {
			known = known || slices.Contains(kws, m.key)
		}
		if !known {
			return nil, schemaErr(pointerKey(path, m.key), "unsupported keyword %q", m.key)
		}
	}
	if t := v.get("type"); t != nil {
		if t.kind != jString {
			return nil, schemaErr(pointerKey(path, "type"), `keyword "type" must be a string (type arrays are unsupported), got %s`, t.kind)
		}
		k, ok := kindNames[t.s]
		if !ok {
			return nil, schemaErr(pointerKey(path, "type"), "unknown type %q", t.s)
		}
		n.kind = k
	} else if v.get("enum") != nil {
		n.kind = kString
	} else {
		return nil, schemaErr(path, `missing keyword "type" (required unless "enum" is given)`)
	}

	// Reject keywords that do not apply to this type, in document order.
	for _, m := range v.obj {
		if m.key == "type" || annotations[m.key] || slices.Contains(typeKeywords[n.kind], m.key) {
			continue
		}
		kp := pointerKey(path, m.key)
		if m.key == "enum" {
			return nil, schemaErr(kp, `keyword "enum" is supported only for strings, not type %q`, n.kind)
		}
		for _, k := range []nkind{kObject, kArray, kString, kInteger, kNumber} {
			if slices.Contains(typeKeywords[k], m.key) {
				return nil, schemaErr(kp, "keyword %q does not apply to type %q (it is for %q)", m.key, n.kind, k)
			}
		}
		return nil, schemaErr(kp, "unsupported keyword %q", m.key)
	}

	var err error
	switch n.kind {
	case kObject:
		err = compileObject(n, v, path, depth)
	case kArray:
		err = compileArray(n, v, path, depth)
	case kString:
		err = compileString(n, v, path)
	case kInteger:
		err = compileInteger(n, v, path)
	case kNumber:
		err = compileNumber(n, v, path)
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}

func compileObject(n *node, v *jval, path string, depth int) error {
	if ap := v.get("additionalProperties"); ap != nil && !(ap.kind == jBool && !ap.b) {
		return schemaErr(pointerKey(path, "additionalProperties"), `only "additionalProperties": false is supported`)
	}
	if p := v.get("properties"); p != nil {
		pp := pointerKey(path, "properties")
		if p.kind != jObject {
			return schemaErr(pp, `keyword "properties" must be an object, got %s`, p.kind)
		}
		for _, m := range p.obj {
			child, err := compileNode(m.val, pointerKey(pp, m.key), depth+1)
			if err != nil {
				return err
			}
			n.props = append(n.props, prop{name: m.key, node: child})
		}
	}
	if r := v.get("required"); r != nil {
		rp := pointerKey(path, "required")
		if r.kind != jArray {
			return schemaErr(rp, `keyword "required" must be an array of strings, got %s`, r.kind)
		}
		for i, e := range r.arr {
			if e.kind != jString {
				return schemaErr(rp, "entry %d must be a string, got %s", i, e.kind)
			}
			j := slices.IndexFunc(n.props, func(p prop) bool { return p.name == e.s })
			if j < 0 {
				return schemaErr(rp, "required property %q is not in \"properties\"", e.s)
			}
			n.props[j].required = true
		}
	}
	np := len(n.props)
	n.lastAllowed = make([]int32, np+1)
	n.reqAfter = make([]bool, np+1)
	last, req := int32(np-1), false
	for i := np; i >= 0; i-- {
		n.lastAllowed[i] = last
		n.reqAfter[i] = req
		if i > 0 && n.props[i-1].required {
			last, req = int32(i-1), true
		}
	}
	keys := make([][]byte, np)
	for i, p := range n.props {
		keys[i] = append(appendString(nil, p.name), '"')
	}
	n.keys = newBtrie(keys)
	return nil
}

func compileArray(n *node, v *jval, path string, depth int) error {
	it := v.get("items")
	if it == nil {
		return schemaErr(path, `type "array" requires keyword "items"`)
	}
	var err error
	if n.items, err = compileNode(it, pointerKey(path, "items"), depth+1); err != nil {
		return err
	}
	if n.minItems, n.maxItems, err = lengthBounds(v, path, "minItems", "maxItems"); err != nil {
		return err
	}
	return nil
}

func compileString(n *node, v *jval, path string) error {
	var err error
	if n.minLen, n.maxLen, err = lengthBounds(v, path, "minLength", "maxLength"); err != nil {
		return err
	}
	e := v.get("enum")
	if e == nil {
		return nil
	}
	ep := pointerKey(path, "enum")
	if e.kind != jArray || len(e.arr) == 0 {
		return schemaErr(ep, `keyword "enum" must be a non-empty array of strings`)
	}
	var encs [][]byte
	for i, x := range e.arr {
		if x.kind != jString {
			return schemaErr(ep, "entry %d is %s; only string enums are supported", i, x.kind)
		}
		if slices.Contains(n.enum, x.s) {
			continue
		}
		if l := utf8.RuneCountInString(x.s); l < int(n.minLen) || l > int(n.maxLen) {
			continue
		}
		n.enum = append(n.enum, x.s)
		encs = append(encs, append(appendString(nil, x.s), '"'))
	}
	if len(n.enum) == 0 {
		return schemaErr(ep, "no enum value satisfies minLength %d / maxLength %d", n.minLen, n.maxLen)
	}
	n.enumTrie = newBtrie(encs)
	return nil
}

// lengthBounds reads a minX/maxX pair of non-negative integers; max defaults
// to unbounded and values above it are treated as unbounded.
func lengthBounds(v *jval, path, minKw, maxKw string) (lo, hi int32, err error) {
	lo, hi = 0, unbounded
	if x := v.get(minKw); x != nil {
		if lo, err = nonNegInt(x, pointerKey(path, minKw), minKw); err != nil {
			return
		}
		if lo == unbounded {
			return 0, 0, schemaErr(pointerKey(path, minKw), "%s is too large", minKw)
		}
	}
	if x := v.get(maxKw); x != nil {
		if hi, err = nonNegInt(x, pointerKey(path, maxKw), maxKw); err != nil {
			return
		}
	}
	if lo > hi {
		return 0, 0, schemaErr(path, "%s %d is greater than %s %d", minKw, lo, maxKw, hi)
	}
	return lo, hi, nil
}

// nonNegInt reads a non-negative integer keyword value, clamped to
// unbounded.
func nonNegInt(x *jval, path, kw string) (int32, error) {
	if x.kind != jNumber {
		return 0, schemaErr(path, "keyword %q must be a non-negative integer, got %s", kw, x.kind)
	}
	r, ok := parseRat(x.s)
	if !ok || !r.IsInt() || r.Sign() < 0 {
		return 0, schemaErr(path, "keyword %q must be a non-negative integer, got %s", kw, x.s)
	}
	if r.Cmp(big.NewRat(unbounded, 1)) >= 0 {
		return unbounded, nil
	}
	return int32(r.Num().Int64()), nil
}

// parseRat parses a JSON number literal exactly. Literals with exponents
// beyond ±400 are refused (ok=false) so that hostile input cannot make
// big.Rat allocate huge numbers.
func parseRat(s string) (*big.Rat, bool) {
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(strings.TrimPrefix(s[i+1:], "+"))
		if err != nil || e > 400 || e < -400 {
			return nil, false
		}
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

var (
	bigMinInt64 = big.NewInt(math.MinInt64)
	bigMaxInt64 = big.NewInt(math.MaxInt64)
)

// ratFloor and ratCeil round a rational to an integer.
func ratFloor(r *big.Rat) *big.Int {
	// Euclidean division rounds toward -inf because Denom > 0.
	q, _ := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int))
	return q
}

func ratCeil(r *big.Rat) *big.Int {
	q := ratFloor(r)
	if !r.IsInt() {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func compileInteger(n *node, v *jval, path string) error {
	lo, hi := new(big.Int).Set(bigMinInt64), new(big.Int).Set(bigMaxInt64)
	bound := func(kw string) (*big.Rat, error) {
		x := v.get(kw)
		if x == nil {
			return nil, nil
		}
		if x.kind != jNumber {
			return nil, schemaErr(pointerKey(path, kw), "keyword %q must be a number, got %s", kw, x.kind)
		}
		r, ok := parseRat(x.s)
		if !ok {
			return nil, schemaErr(pointerKey(path, kw), "keyword %q: number %s is out of range", kw, x.s)
		}
		return r, nil
	}
	one := big.NewInt(1)
	for _, kw := range []string{"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"} {
		r, err := bound(kw)
		if err != nil {
			return err
		}
		if r == nil {
			continue
		}
		switch kw {
		case "minimum":
			if c := ratCeil(r); c.Cmp(lo) > 0 {
				lo = c
			}
		case "exclusiveMinimum":
			if c := new(big.Int).Add(ratFloor(r), one); c.Cmp(lo) > 0 {
				lo = c
			}
		case "maximum":
			if c := ratFloor(r); c.Cmp(hi) < 0 {
				hi = c
			}
		case "exclusiveMaximum":
			if c := new(big.Int).Sub(ratCeil(r), one); c.Cmp(hi) < 0 {
				hi = c
			}
		}
	}
	if lo.Cmp(hi) > 0 {
		return schemaErr(path, "empty integer range: minimum %s is greater than maximum %s", lo, hi)
	}
	n.min, n.max = lo.Int64(), hi.Int64()
	// Magnitude ranges per sign, for digit-by-digit feasibility.
	if n.max >= 0 {
		n.hasPos = true
		n.posLo, n.posHi = uint64(max(n.min, 0)), uint64(n.max)
	}
	if n.min < 0 {
		n.hasNeg = true
		n.negHi = negMag(n.min)
		n.negLo = 1
		if n.max < 0 {
			n.negLo = negMag(n.max)
		}
	}
	return nil
}

// negMag returns |x| for x < 0 without overflowing at math.MinInt64.
func negMag(x int64) uint64 { return uint64(-(x + 1)) + 1 }

// pow10 returns 10^k for 0 <= k <= 19.
func pow10(k int) uint64 {
	p := uint64(1)
	for range k {
		p *= 10
	}
	return p
}

// compileNumber reads the bounds of a "number". Bounds are kept exactly for
// Validate and, for the mask, turned into integer ranges of magnitudes in
// units of 10^-boundedFracDigits, clamped to what boundedIntDigits digits
// can write.
func compileNumber(n *node, v *jval, path string) error {
	scale := new(big.Rat).SetInt(new(big.Int).SetUint64(pow10(boundedFracDigits)))
	limit := new(big.Int).SetUint64(pow10(boundedIntDigits+boundedFracDigits) - 1)
	lo, hi := new(big.Int).Neg(limit), new(big.Int).Set(limit)
	one := big.NewInt(1)
	for _, kw := range []string{"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"} {
		x := v.get(kw)
		if x == nil {
			continue
		}
		kp := pointerKey(path, kw)
		if x.kind != jNumber {
			return schemaErr(kp, "keyword %q must be a number, got %s", kw, x.kind)
		}
		r, ok := parseRat(x.s)
		if !ok {
			return schemaErr(kp, "keyword %q: number %s is out of range", kw, x.s)
		}
		n.bounded = true
		scaled := new(big.Rat).Mul(r, scale)
		switch kw {
		case "minimum", "exclusiveMinimum":
			c := ratCeil(scaled)
			if kw == "exclusiveMinimum" {
				c = new(big.Int).Add(ratFloor(scaled), one)
			}
			if c.Cmp(lo) > 0 {
				lo = c
			}
			if n.numLo == nil || r.Cmp(n.numLo) > 0 || r.Cmp(n.numLo) == 0 && kw == "exclusiveMinimum" {
				n.numLo, n.numLoX, n.numLoS = r, kw == "exclusiveMinimum", x.s
			}
		default:
			c := ratFloor(scaled)
			if kw == "exclusiveMaximum" {
				c = new(big.Int).Sub(ratCeil(scaled), one)
			}
			if c.Cmp(hi) < 0 {
				hi = c
			}
			if n.numHi == nil || r.Cmp(n.numHi) < 0 || r.Cmp(n.numHi) == 0 && kw == "exclusiveMaximum" {
				n.numHi, n.numHiX, n.numHiS = r, kw == "exclusiveMaximum", x.s
			}
		}
	}
	if !n.bounded {
		return nil
	}
	if lo.Cmp(hi) > 0 {
		return schemaErr(path, "empty number range: no value with at most %d integer and %d fraction digits lies within the bounds", boundedIntDigits, boundedFracDigits)
	}
	l, h := lo.Int64(), hi.Int64()
	if h >= 0 {
		n.hasPos = true
		n.posLo, n.posHi = uint64(max(l, 0)), uint64(h)
	}
	if l <= 0 {
		n.hasNeg = true
		n.negLo, n.negHi = uint64(max(-h, 0)), uint64(-l)
	}
	return nil
}

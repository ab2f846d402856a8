package constrain

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Test schemas. questSchema is the quest offer from the issue.
const questSchema = `{
  "type": "object",
  "description": "a quest an NPC offers",
  "properties": {
    "title": {"type": "string", "maxLength": 60},
    "giver": {"enum": ["npc_blacksmith", "npc_innkeeper", "npc_guard_captain", "npc_witch"]},
    "objectives": {
      "type": "array", "maxItems": 3,
      "items": {
        "type": "object",
        "properties": {
          "kind": {"type": "string", "enum": ["fetch", "slay", "deliver", "visit"]},
          "target": {"type": "string"},
          "count": {"type": "integer", "minimum": 1, "maximum": 10}
        },
        "required": ["kind", "target", "count"]
      }
    },
    "reward_gold": {"type": "integer", "minimum": 0, "maximum": 500}
  },
  "required": ["title", "giver", "objectives", "reward_gold"],
  "additionalProperties": false
}`

const actionSchema = `{
  "type": "object",
  "properties": {
    "action": {"type": "string", "enum": ["say", "move", "attack", "give", "wait", "flee"]},
    "target": {"type": "string", "minLength": 1, "maxLength": 24},
    "say": {"type": "string", "maxLength": 120},
    "amount": {"type": "integer", "minimum": -5, "maximum": 100},
    "urgent": {"type": "boolean"},
    "mood": {"type": "number", "minimum": -1, "exclusiveMaximum": 1},
    "note": {"type": "null"}
  },
  "required": ["action"]
}`

const nestedSchema = `{
  "type": "object",
  "properties": {
    "grid": {"type": "array", "minItems": 1, "maxItems": 3,
      "items": {"type": "array", "maxItems": 4,
        "items": {"type": "integer", "minimum": -120, "maximum": -7}}},
    "tags": {"type": "array", "minItems": 2, "maxItems": 2,
      "items": {"enum": ["a", "ab", "abc", "\"q\"", "naïve", "tab\there", ""]}},
    "weird \"key\"\n/é": {"type": "boolean"},
    "deep": {"type": "array", "items": {"type": "array", "maxItems": 2, "items": {
      "type": "object",
      "properties": {
        "x": {"type": "integer", "exclusiveMinimum": 999.5, "maximum": 1005},
        "y": {"type": "string", "minLength": 2, "maxLength": 3}
      },
      "required": ["y"]}}},
    "big": {"type": "integer"}
  },
  "required": ["grid", "tags"]
}`

var testSchemas = map[string]string{
	"quest":  questSchema,
	"action": actionSchema,
	"nested": nestedSchema,
	"int":    `{"type": "integer", "minimum": -1000, "maximum": 37}`,
	"str":    `{"type": "string", "minLength": 1, "maxLength": 5}`,
	"arr":    `{"type": "array", "minItems": 1, "items": {"type": "number"}}`,
	"bool":   `{"type": "boolean"}`,
}

func mustCompile(t testing.TB, src string) *Schema {
	t.Helper()
	s, err := Compile([]byte(src))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

// byteVocab has one token per byte value (id = byte), EOS = 256 and a
// control token 257.
func byteVocab() *Vocab {
	toks := make([][]byte, 258)
	for i := range 256 {
		toks[i] = []byte{byte(i)}
	}
	toks[256] = []byte("</s>")
	return NewVocab(toks, 256)
}

var words = strings.Fields(`the a an of to and in is you that it he was for on are as with his they
at be this have from or one had by word but not what all were we when your can said there use each which
she do how their if will up other about out many then them these so some her would make like him into time
has look two more write go see number no way could people my than first water been call who oil its now
find long down day did get come made may part quest sword shield gold silver dragon goblin wolf bandit
village town castle forest cave river bridge tower inn tavern smith guard captain witch king queen merchant
herb potion ring amulet letter crate barrel chest key map fetch slay deliver visit bring kill find return
north south east west road hill mountain swamp ruins crypt temple shrine farm mill market harbor ship
title giver objectives kind target count reward_gold action amount urgent mood note say move attack give
wait flee grid tags deep npc_blacksmith npc_innkeeper npc_guard_captain npc_witch true false null`)

var structural = []string{
	`{`, `}`, `[`, `]`, `"`, `,`, `:`, `{"`, `"}`, `":"`, `","`, `":`, `":[`, `]}`, `},{"`,
	`"},{"`, `}]`, `"]`, `["`, `":{"`, `,"`, `":true`, `":false`, `"],"`, `},`, `}}`, `]]`, `],[`,
	`":[{"`, `"}]}`, `\"`, `\\`, `\n`, `\u00`, `\u`, `\t`, `."`, `!"`, `?"`, `."}`, `",`, `":"`,
	` "`, `" `, `""`, `"":`, `: "`, `, "`, `-`, `.`, `-1`, `0.`, `1.5`, `e5`, `null`, `true`, `false`,
}

var unicodeBits = []string{
	"é", "ü", "ï", "—", "€", "…", "日本", "語", "🐉", "⚔️", " é", "\xe2", "\x82", "\xac", "\xe2\x82",
	"\xf0\x9f", "\x90\x89", "naï", "ve",
}

// realisticVocab builds a deterministic vocabulary of about n tokens in the
// style of a small BPE tokenizer: id 0 control, id 1 EOS, 256 byte tokens,
// structural punctuation, digits, words with and without leading spaces,
// UTF-8 pieces, then random lowercase fillers (2-6 letters, one in ten 6-17).
func realisticVocab(n int, seed uint64) (*Vocab, [][]byte) {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	seen := map[string]bool{}
	toks := [][]byte{nil, []byte("<eos>")}
	add := func(s string) {
		if len(toks) < n && !seen[s] {
			seen[s] = true
			toks = append(toks, []byte(s))
		}
	}
	for b := range 256 {
		add(string([]byte{byte(b)}))
	}
	for _, s := range structural {
		add(s)
	}
	for i := range 1000 {
		add(fmt.Sprint(i))
		if i < 100 {
			add(" " + fmt.Sprint(i))
		}
	}
	for _, u := range unicodeBits {
		add(u)
	}
	for _, w := range words {
		add(w)
		add(" " + w)
		add(strings.ToUpper(w[:1]) + w[1:])
		add(" " + strings.ToUpper(w[:1]) + w[1:])
		add(w + "s")
		add(`"` + w + `"`)
		add(`"` + w)
		add(w + `"`)
		add(w + `":`)
	}
	for len(toks) < n {
		l := 2 + rng.IntN(5) // mostly 2-6 letters, one in ten 6-17
		if rng.IntN(10) == 0 {
			l = 6 + rng.IntN(12)
		}
		var sb strings.Builder
		if rng.IntN(2) == 0 {
			sb.WriteByte(' ')
		}
		for range l {
			sb.WriteByte(byte('a' + rng.IntN(26)))
		}
		add(sb.String())
	}
	return NewVocab(toks, 1), toks
}

// greedyComplete finishes the document from m's state one byte at a time,
// preferring bytes that close structures, and returns the bytes added.
// deadEnd is set if some state has no allowed byte; ok is false on a dead
// end or when the completion needs more than 100000 bytes.
func greedyComplete(m *Matcher) (out []byte, ok, deadEnd bool) {
	order := []byte(`"}]:,0123456789-tfn{[abcdefghijklmnopqrstuvwxyz`)
	for b := range 256 {
		order = append(order, byte(b))
	}
	s := m.st
	for range 100000 {
		if s.canEnd() {
			return out, true, false
		}
		stepped := false
		for _, b := range order {
			s2 := s
			if s2.step(b) {
				s, stepped = s2, true
				out = append(out, b)
				break
			}
		}
		if !stepped {
			return out, false, true
		}
	}
	return out, false, false
}

// feed steps a matcher over raw bytes using a byte vocabulary.
func feed(m *Matcher, doc []byte) error {
	for i, b := range doc {
		if err := m.Accept(int(b)); err != nil {
			return fmt.Errorf("byte %d of %q: %w", i, doc, err)
		}
	}
	return nil
}

func hasCloser(tok []byte) bool {
	return bytes.ContainsAny(tok, `"}]`)
}

// byteV is a shared byteVocab (read-only).
var byteV = byteVocab()

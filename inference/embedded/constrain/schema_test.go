package constrain

import (
	"strings"
	"testing"
)

func TestCompileErrors(t *testing.T) {
	cases := []struct{ schema, want string }{
		{`{"type":"object","properties":{"a":{"$ref":"#/defs/x"}}}`, `#/properties/a/$ref: unsupported keyword "$ref"`},
		{`{"oneOf":[{"type":"string"}],"type":"string"}`, `#/oneOf: unsupported keyword "oneOf"`},
		{`{"type":"object","properties":{"title":{"type":"string","pattern":"^a"}}}`, `#/properties/title/pattern: unsupported keyword "pattern"`},
		{`{"type":"string","format":"email"}`, `unsupported keyword "format"`},
		{`{"type":"strin"}`, `#/type: unknown type "strin"`},
		{`{"type":["string","null"]}`, `type arrays are unsupported`},
		{`{"type":3}`, `keyword "type" must be a string`},
		{`{}`, `missing keyword "type"`},
		{`[]`, `a schema must be a JSON object`},
		{`{"type":"integer","minimum":10,"maximum":5}`, `minimum 10 is greater than maximum 5`},
		{`{"type":"integer","exclusiveMinimum":5,"exclusiveMaximum":6}`, `empty integer range`},
		{`{"type":"integer","minimum":1.5,"maximum":1.9}`, `empty integer range`},
		{`{"type":"integer","minimum":"1"}`, `keyword "minimum" must be a number`},
		{`{"type":"integer","minimum":1e999}`, `out of range`},
		{`{"type":"string","minLength":5,"maxLength":2}`, `minLength 5 is greater than maxLength 2`},
		{`{"type":"string","maxLength":-1}`, `must be a non-negative integer`},
		{`{"type":"string","maxLength":2.5}`, `must be a non-negative integer`},
		{`{"type":"array","items":{"type":"null"},"minItems":3,"maxItems":1}`, `minItems 3 is greater than maxItems 1`},
		{`{"type":"array"}`, `requires keyword "items"`},
		{`{"type":"array","items":[{"type":"null"}]}`, `#/items: a schema must be a JSON object`},
		{`{"enum":[1,2]}`, `only string enums are supported`},
		{`{"enum":[]}`, `non-empty array of strings`},
		{`{"type":"integer","enum":["a"]}`, `"enum" is supported only for strings`},
		{`{"enum":["abc"],"maxLength":2}`, `no enum value satisfies`},
		{`{"type":"object","properties":{"a":{"type":"null"}},"required":["b"]}`, `required property "b" is not in "properties"`},
		{`{"type":"object","required":"a"}`, `must be an array of strings`},
		{`{"type":"object","additionalProperties":true}`, `only "additionalProperties": false`},
		{`{"type":"object","additionalProperties":{"type":"string"}}`, `only "additionalProperties": false`},
		{`{"type":"object","properties":[]}`, `"properties" must be an object`},
		{`{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":0.0000001}`, `empty number range`},
		{`{"type":"number","minimum":2e12}`, `empty number range`},
		{`{"type":"number","maximum":true}`, `keyword "maximum" must be a number`},
		{`{"type":"number","maxLength":1}`, `does not apply to type "number" (it is for "string")`},
		{`{"type":"integer","maxLength":3}`, `keyword "maxLength" does not apply to type "integer" (it is for "string")`},
		{`{"type":"boolean","items":{"type":"null"}}`, `does not apply to type "boolean"`},
		{`{"type":"string"`, `not valid JSON`},
		{`{"type":"string"} x`, `not valid JSON`},
		{`{"type":"string","type":"integer"}`, `duplicate object key "type"`},
		{`{"type":"object","properties":{"a/b~":{"type":"string","const":"x"}}}`, `#/properties/a~1b~0/const`},
		{strings.Repeat(`{"type":"array","items":`, 40) + `{"type":"null"}` + strings.Repeat(`}`, 40), `nesting deeper than 32`},
	}
	for _, c := range cases {
		_, err := Compile([]byte(c.schema))
		if err == nil {
			t.Errorf("Compile(%s): no error, want %q", c.schema, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Compile(%s):\n got  %v\n want %q", c.schema, err, c.want)
		}
	}
}

func TestCompileAccepts(t *testing.T) {
	for name, src := range testSchemas {
		if _, err := Compile([]byte(src)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	s := mustCompile(t, `{"$schema":"https://json-schema.org/draft/2020-12/schema","title":"x","description":"y",
		"type":"object","properties":{"a":{"type":"integer","exclusiveMinimum":-2.5,"exclusiveMaximum":3,"default":1,"examples":[1]}},
		"additionalProperties":false}`)
	a := s.root.props[0].node
	if a.min != -2 || a.max != 2 {
		t.Errorf("exclusive bounds -> %d..%d, want -2..2", a.min, a.max)
	}
}

const goodQuest = `{"title":"The Lost Sword","giver":"npc_witch","objectives":[{"kind":"fetch","target":"sword","count":1},{"kind":"slay","target":"wolves","count":10}],"reward_gold":120}`

func TestValidateErrors(t *testing.T) {
	s := mustCompile(t, questSchema)
	if err := s.Validate([]byte(goodQuest)); err != nil {
		t.Fatalf("good quest: %v", err)
	}
	long := strings.Repeat("é", 60)
	if err := s.Validate([]byte(strings.Replace(goodQuest, "The Lost Sword", long, 1))); err != nil {
		t.Errorf("60 code points rejected: %v", err)
	}
	cases := []struct{ from, to, want string }{
		{`"count":10`, `"count":11`, `$.objectives[1].count: 11 is greater than maximum 10`},
		{`"count":1}`, `"count":0}`, `$.objectives[0].count: 0 is less than minimum 1`},
		{`"count":1}`, `"count":1.5}`, `$.objectives[0].count: 1.5 is not an integer`},
		{`"kind":"slay"`, `"kind":"steal"`, `$.objectives[1].kind: "steal" is not one of the enum values`},
		{`"giver":"npc_witch",`, ``, `$: missing required property "giver"`},
		{`"reward_gold":120`, `"reward_gold":120,"bonus":1`, `$.bonus: property "bonus" is not allowed`},
		{`"reward_gold":120`, `"reward_gold":"120"`, `$.reward_gold: expected integer, got string`},
		{`"The Lost Sword"`, `"` + long + `x"`, `$.title: string has 61 characters, more than maxLength 60`},
		{`"target":"sword"`, `"target":null`, `$.objectives[0].target: expected string, got null`},
		{`[{"kind"`, `[{"kind":"visit","target":"","count":1},{"kind":"visit","target":"","count":1},{"kind"`, `$.objectives: array has 4 items, more than maxItems 3`},
		{`"title"`, `"title":"a","title"`, `duplicate object key "title"`},
		{`}`, `}}`, `not valid JSON`},
		{`"reward_gold":120}`, `"reward_gold":120`, `not valid JSON`},
	}
	for _, c := range cases {
		doc := strings.Replace(goodQuest, c.from, c.to, 1)
		err := s.Validate([]byte(doc))
		if err == nil {
			t.Errorf("Validate(%s): no error, want %q", doc, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate(%s):\n got  %v\n want %q", doc, err, c.want)
		}
	}
	odd := mustCompile(t, `{"type":"object","properties":{"a b":{"type":"integer","maximum":1}}}`)
	if err := odd.Validate([]byte(`{"a b":2}`)); err == nil || !strings.Contains(err.Error(), `$["a b"]: 2 is greater`) {
		t.Errorf("odd key path: %v", err)
	}
}

func TestCanonical(t *testing.T) {
	s := mustCompile(t, questSchema)
	messy := "{ \"reward_gold\" : 1.2e2,\n \"objectives\": [ {\"count\": 1.0, \"target\": \"a\\/b\\u0041\\t\\u0001\\ud83d\\ude00\", \"kind\": \"fetch\"} ],\n" +
		" \"giver\": \"npc_witch\", \"title\": \"\\\"Q\\\" \\u00e9\" }\n"
	got, err := Canonical(s, []byte(messy))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"title":"\"Q\" é","giver":"npc_witch","objectives":[{"kind":"fetch","target":"a/bA\t\u0001😀","count":1}],"reward_gold":120}`
	if string(got) != want {
		t.Errorf("Canonical:\n got  %s\n want %s", got, want)
	}
	m := s.NewMatcher(byteV)
	if err := feed(m, got); err != nil || !m.Done() {
		t.Errorf("matcher rejects canonical form: %v", err)
	}
	if _, err := Canonical(s, []byte(`{"title":1}`)); err == nil {
		t.Error("Canonical accepted an invalid document")
	}
	if _, err := Canonical(nil, []byte(`1`)); err == nil {
		t.Error("Canonical accepted a nil schema")
	}
	n := mustCompile(t, `{"type":"array","items":{"type":"number"}}`)
	got, err = Canonical(n, []byte(`[1E3, -0, 0.5, -12.250, 1e-3]`))
	if err != nil || string(got) != `[1000,0,0.5,-12.25,0.001]` {
		t.Errorf("numbers: %s %v", got, err)
	}
	if _, err := Canonical(n, []byte(`[1e300]`)); err == nil || !strings.Contains(err.Error(), "cannot express") {
		t.Errorf("1e300: %v", err)
	}
	if err := n.Validate([]byte(`[1e999]`)); err == nil {
		t.Error("1e999 validated")
	}
}

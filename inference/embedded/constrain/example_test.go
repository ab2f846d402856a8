package constrain_test

import (
	"fmt"

	"github.com/hearth-ai/hearth/inference/embedded/constrain"
)

// A decode loop: mask, pick (here: the first allowed token, standing in for
// sampling from masked logits), accept, until EOS.
func ExampleSchema_NewMatcher() {
	schema, err := constrain.Compile([]byte(`{
	  "type": "object",
	  "properties": {
	    "kind": {"enum": ["fetch", "slay"]},
	    "count": {"type": "integer", "minimum": 2, "maximum": 9}
	  },
	  "required": ["kind", "count"]
	}`))
	if err != nil {
		panic(err)
	}
	tokens := [][]byte{nil, []byte("<eos>"), []byte(`{"`), []byte(`kind`), []byte(`":"`), []byte(`slay`),
		[]byte(`","`), []byte(`count`), []byte(`":`), []byte(`1`), []byte(`7`), []byte(`}`), []byte(`"`)}
	vocab := constrain.NewVocab(tokens, 1)
	m := schema.NewMatcher(vocab)
	allowed := make([]bool, vocab.Size())
	var out []byte
	for {
		m.Mask(allowed)
		id := -1
		for i, ok := range allowed {
			if ok {
				id = i
				break
			}
		}
		if err := m.Accept(id); err != nil {
			panic(err)
		}
		if id == vocab.EOS() {
			break
		}
		out = append(out, tokens[id]...)
	}
	fmt.Println(string(out), schema.Validate(out) == nil)
	// Output: {"kind":"slay","count":7} true
}

// Canonical turns any valid document into the exact form the matcher
// accepts, for writing training targets.
func ExampleCanonical() {
	schema, _ := constrain.Compile([]byte(`{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}`))
	out, err := constrain.Canonical(schema, []byte("{ \"b\": 3.0,\n  \"a\": \"caf\\u00e9\" }"))
	fmt.Println(string(out), err)
	// Output: {"a":"café","b":3} <nil>
}

package corpus_test

import (
	"testing"

	"github.com/hearth-ai/hearth/inference/embedded/constrain"
	"github.com/hearth-ai/hearth/npc/corpus"
)

func questSchema(t testing.TB) *constrain.Schema {
	t.Helper()
	s, err := constrain.Compile(corpus.DemoQuestOfferSchema)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func constrainCanonical(s *constrain.Schema, doc string) (string, error) {
	b, err := constrain.Canonical(s, []byte(doc))
	return string(b), err
}

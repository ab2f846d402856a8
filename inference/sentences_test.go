package inference_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/inference"
)

func TestSplitSentences(t *testing.T) {
	got := inference.SplitSentences("The inn is old. \"Slow as the Crookwheel!\" is an insult.  Who knows? FR 339 ended it\n" +
		"- Eel: 1.5 pennies.\n| --- | --- |\n| Salt | 1 penny |\n\n")
	want := []string{"The inn is old.", `"Slow as the Crookwheel!" is an insult.`, "Who knows?", "FR 339 ended it",
		"Eel: 1.5 pennies.", "Salt | 1 penny |"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SplitSentences:\n%q\nwant\n%q", got, want)
	}
	long := strings.Repeat("word ", inference.SmallLoreWords+5) + "end."
	if got := inference.SplitSentences(long); len(got) != 1 || len(strings.Fields(got[0])) != inference.SmallLoreWords {
		t.Fatalf("a sentence of %d words came out as %q, want its first %d words", inference.SmallLoreWords+6, got, inference.SmallLoreWords)
	}
}

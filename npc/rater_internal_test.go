package npc

import (
	"context"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
)

// nine rates everything 9.
type nine struct{}

func (nine) Generate(context.Context, *inference.Request, inference.Sink) (inference.Result, error) {
	return inference.Result{Text: `{"rating": 9}`, Tier: inference.TierLocal}, nil
}

// TestModelRaterRatesMemories: with MemoryOptions.Rater a ModelRater, an
// observation written without an importance gets the model's.
func TestModelRaterRatesMemories(t *testing.T) {
	st := openStore(t)
	r := streamRoster(t, st, MemoryOptions{Rater: ModelRater{Model: nine{}}}, def("miller", "Wendel"))
	a := agent(t, r, "miller")
	gt := time.Date(1900, 5, 1, 8, 0, 0, 0, time.UTC)
	if err := a.Observe(Observation{Text: "The player burned down the mill.", GameTime: gt}); err != nil {
		t.Fatal(err)
	}
	got := a.Recall("", "mill burned", gt.Add(time.Hour), 1)
	if len(got) != 1 || got[0].Importance != 9 {
		t.Fatalf("recalled %+v, want the model's importance 9", got)
	}
}

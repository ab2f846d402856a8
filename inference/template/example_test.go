package template_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

func Example() {
	floor := template.New()
	brenna := inference.Persona{Name: "Brenna Ashdown", Role: "blacksmith", Traits: []string{"gruff"}}
	aboleth := inference.Fact{
		Heading: []string{"Monsters A–Z", "Aboleth"},
		Text:    "- Armor Class: 17\n- Hit Points: 150 (20d10 + 40)\n\nThe aboleth can breathe air and water.",
	}
	for _, req := range []*inference.Request{
		{Intent: inference.IntentGreeting, Persona: brenna, PlayerName: "Aria", Returning: true, Seed: 3,
			Memories: []inference.Memory{{Text: "Aria said: I'm looking for the old mill.", Kind: "dialogue", GameTime: time.Unix(60, 0)}}},
		{Intent: inference.IntentDialogue, Persona: brenna, UserText: "How many hit points does an aboleth have?", Facts: []inference.Fact{aboleth}, Seed: 3},
		{Intent: inference.IntentDialogue, Persona: brenna, UserText: "Who is the king of the north?", Facts: []inference.Fact{aboleth}, Seed: 3},
	} {
		res, _ := floor.Generate(context.Background(), req, nil)
		fmt.Println(res.Text)
	}
	// Output:
	// Aria. You again. Still on about this? "I'm looking for the old mill."
	// The Aboleth? Hit Points: 150 (20d10 + 40). That's all I know.
	// Ask someone else. I wouldn't know.
}

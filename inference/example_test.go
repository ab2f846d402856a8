package inference_test

import (
	"context"
	"fmt"
	"testing/fstest"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

// A Router with only the template floor answers a lore question from the
// request's facts, inside the deadline.
func ExampleRouter() {
	router, err := inference.NewRouter(template.New(), nil, inference.RouterOptions{})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	res, err := router.Generate(ctx, &inference.Request{
		Intent:   inference.IntentDialogue,
		Persona:  inference.Persona{Name: "Ilse Marrow", Role: "librarian", Traits: []string{"scholarly"}},
		UserText: "What is the aboleth's armor class?",
		Facts: []inference.Fact{{
			Heading: []string{"Monsters A–Z", "Aboleth"},
			Text:    "- Armor Class: 17\n- Hit Points: 150 (20d10 + 40)\n\nThe aboleth can breathe air and water.",
		}},
		Seed: 1,
	}, func(d inference.Delta) { /* forward d.Text to the game as it streams */ })
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Tier, res.Floor)
	fmt.Println(res.Text)
	// Output:
	// template false
	// On the Aboleth, the records say this. Armor Class: 17.
}

// Templates are files named name@version.tmpl; Render picks the latest
// version unless one is pinned.
func ExamplePrompts() {
	fsys := fstestFS()
	prompts, err := inference.LoadPrompts(fsys, "prompts")
	if err != nil {
		panic(err)
	}
	text, ref, err := prompts.Render("npc.greeting", inference.Persona{Name: "Brenna", Traits: []string{"gruff", "honest"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(ref)
	fmt.Println(text)
	// Output:
	// npc.greeting@2
	// You are Brenna (gruff, honest). Greet the player.
}

// fstestFS stands in for an embed.FS or os.DirFS("lore/prompts").
func fstestFS() fstest.MapFS {
	return fstest.MapFS{
		"prompts/npc.greeting@1.tmpl": {Data: []byte(`You are {{.Name}}. Say hello.`)},
		"prompts/npc.greeting@2.tmpl": {Data: []byte(`You are {{.Name}} ({{join .Traits ", "}}). Greet the player.`)},
	}
}

package middleware_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/sim/world"
)

// Example embeds the runtime in a game loop: the game submits a player's
// line, keeps ticking at 20 Hz and picks the reply up at a tick boundary.
// Nothing in the loop waits for a model.
func Example() {
	st, err := middleware.OpenStack(context.Background(), middleware.StackConfig{
		World:   world.FS(), // the demo village: lore/ and npcs/
		DataDir: "",         // in memory; give a folder to keep NPC memories
		Runtime: middleware.Options{TickRate: 20, Seed: 1},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	rt := st.Runtime

	ticket, err := rt.Submit(middleware.Talk{
		NPCID: "hobb-fairweather", PlayerID: "player-1", PlayerName: "Aria",
		Text:   "Who runs the Tipped Kettle?",
		Budget: time.Second, // a generous budget keeps this example's output stable on a busy machine
	})
	if err != nil {
		log.Fatal(err) // an unknown NPC, invalid text, or *OverloadError when saturated
	}

	ticker := time.NewTicker(50 * time.Millisecond) // the game's own tick
	defer ticker.Stop()
	for replied := false; !replied; {
		<-ticker.C
		// ... the game updates its world here ...
		for _, ev := range rt.Tick() { // never blocks; ordered by ticket
			if ev.Ticket == ticket && ev.Kind == middleware.EventReply {
				fmt.Printf("%s (tier %s, on time %v)\n", ev.Text, ev.Tier, ev.OnTime)
				replied = true
			}
		}
	}
	// Output:
	// The Tipped Kettle is Kettleford's only inn, a two-storey house of river stone and black timber on the north side of Kettle Green. Isn't that something? (tier template, on time true)
}

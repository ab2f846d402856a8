package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
)

// This example needs a Hearth server on 127.0.0.1:7777 (hearth serve), so it
// is compiled but not run by go test.
func ExampleClient_Talk() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "ws://127.0.0.1:7777/v1/ws", client.Options{PlayerID: "p1", PlayerName: "Aria"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	reply, err := c.Talk(ctx, "smith", "Any work for me?", 0, func(d protocol.DialogueDelta) {
		fmt.Print(d.Text)
	})
	if protocol.CodeOf(err) == protocol.CodeOverloaded {
		fmt.Println("The smith is busy.")
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\n%s (%s, %.1f ms)\n", reply.Text, reply.Tier, reply.LatencyMS)
}

// Closing reasons: a call that fails because the connection ended wraps
// client.ErrClosed, and the server's close code when it sent one.
func ExampleErrClosed() {
	var c *client.Client // from client.Dial
	if c == nil {
		return
	}
	_, err := c.Ping(context.Background())
	if errors.Is(err, client.ErrClosed) {
		fmt.Println("reconnect:", err)
	}
}

package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/middleware/server"
)

// TestWorldStateOverWebSocket (issue 6): a game server reports what the
// innkeeper holds with world.state; a player's "How much for an ale?" then
// comes back with a validated trade action on dialogue.done, which it did
// not before the report (nothing to sell). A player's own token may not
// report the world.
func TestWorldStateOverWebSocket(t *testing.T) {
	v, err := server.NewJWTVerifier(jwtSecret)
	if err != nil {
		t.Fatal(err)
	}
	keyGame, recGame := mint(t, "game", server.RoleClient, "acme")
	keys, err := server.NewKeyRing([]server.APIKeyRecord{recGame})
	if err != nil {
		t.Fatal(err)
	}
	ts := launch(t, t.TempDir(), server.Options{Keys: keys, JWT: v}, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	game, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "game-server", Header: bearer(keyGame)})
	if err != nil {
		t.Fatal(err)
	}
	defer game.Close()
	alice := signJWT(t, jwt.SigningMethodHS256, jwtSecret, playerClaims("alice", "client", time.Now().Add(time.Hour)))
	player, err := client.Dial(ctx, ts.wsURL, client.Options{PlayerID: "alice", Header: bearer(alice)})
	if err != nil {
		t.Fatal(err)
	}
	defer player.Close()

	ask := func() []protocol.Action {
		t.Helper()
		r, err := player.Talk(ctx, "hobb-fairweather", "How much for an ale?", 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r.Actions
	}
	for _, a := range ask() {
		if a.Kind == protocol.ActionTrade {
			t.Fatalf("a trade before the game server reported any stock: %+v", a)
		}
	}
	world := protocol.WorldState{NPCID: "hobb-fairweather", Items: []protocol.WorldItem{{Item: "ale", Name: "ale", Count: 40, Price: 2}}}
	if err := game.ReportWorld(ctx, world); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range ask() {
		found = found || a.Kind == protocol.ActionTrade && a.Item == "ale" && a.Price == 2
	}
	if !found {
		t.Fatal("no trade of ale at 2 after the report")
	}
	// The player's own token cannot restock the inn.
	wantCode(t, player.ReportWorld(ctx, world), protocol.CodeForbidden, "game server")
	// An unknown NPC is named.
	wantCode(t, game.ReportWorld(ctx, protocol.WorldState{NPCID: "nobody"}), protocol.CodeUnknownNPC, "nobody")
}

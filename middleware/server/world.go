package server

import (
	"errors"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/npc"
)

// worldState hands a game server's report of the world around an NPC to
// the runtime (Runtime.ReportWorld), which validates the NPC's actions
// against it, and answers with a world.ack. A connection bound to one
// player (a player's JWT) may not report: the world is the game server's
// to describe, and a player could otherwise stock an NPC with whatever it
// wants given.
func (c *conn) worldState(id uint64, m protocol.WorldState) {
	if c.principal.Player != "" {
		c.sendError(id, protocol.CodeForbidden, "world.state comes from the game server (an API key), not from a player's token")
		return
	}
	w := middleware.WorldState{Locations: m.Locations, Present: m.Present, Quests: m.Quests}
	for _, it := range m.Items {
		w.Items = append(w.Items, npc.Stock{Item: it.Item, Name: it.Name, Count: int(it.Count), Price: int(it.Price)})
	}
	switch err := c.s.rt.ReportWorld(c.principal.Tenant, m.NPCID, w); {
	case err == nil:
		c.send(protocol.Header{ID: id, Tick: c.s.tick.Load()}, protocol.WorldAck{})
	case errors.Is(err, npc.ErrUnknownNPC):
		c.sendError(id, protocol.CodeUnknownNPC, err.Error())
	default:
		c.sendError(id, protocol.CodeBadRequest, err.Error())
	}
}

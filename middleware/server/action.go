package server

import (
	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/protocol"
)

// wireActions converts a reply's validated actions for dialogue.done; nil
// when there are none (the field is then omitted). Validation bounds
// counts and prices (npc.MaxActionCount, npc.MaxActionPrice) and the
// number of actions (npc.MaxActions), so they fit the wire's.
func wireActions(acts []middleware.Action) []protocol.Action {
	if len(acts) == 0 {
		return nil
	}
	out := make([]protocol.Action, 0, min(len(acts), protocol.MaxActions))
	for _, a := range acts[:min(len(acts), protocol.MaxActions)] {
		out = append(out, protocol.Action{Kind: string(a.Kind), Item: a.Item, Count: protocol.U32(a.Count),
			Price: protocol.U32(a.Price), Quest: a.Quest, Location: a.Location, Target: a.Target})
	}
	return out
}

package middleware

import (
	"errors"
	"time"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/npc"
)

// Bark asks an NPC for an ambient one-liner on the game's initiative: a
// player came near (npc.TriggerProximity) or the NPC's schedule calls for
// it (npc.TriggerSchedule, e.g. dawn at the market). A bark is said to
// whoever is near, not to a player: it recalls no memory, is not written
// to any memory stream, and is shared through the response cache, so the
// same NPC, trigger and lore give every player the same line.
type Bark struct {
	NPCID string
	// Tenant is whose world the NPC barks in ("" for the default tenant);
	// a tenant's cached bark lines are its own.
	Tenant string
	// PlayerID is the player who came near, for the event only (routing,
	// logs); "" for a scheduled bark. It never changes the line.
	PlayerID string
	// Trigger says what set the bark off: 1..npc.MaxTriggerBytes of a-z,
	// 0-9, '-' and '_' (npc.CheckTrigger), e.g. "proximity", "schedule".
	Trigger string
	// Priority defaults to PriorityAmbient (the zero value,
	// PriorityInteractive, means PriorityAmbient): barks use spare
	// capacity and get the floor line when there is none.
	Priority Priority
	Budget   time.Duration // 0 means Options.Budget
	Tag      uint64        // the caller's correlation id, echoed on the event
	// GameTime is when the bark is said on the game's clock; zero means the
	// wall clock at submission.
	GameTime time.Time
}

// SubmitBark queues a bark and returns its ticket. The contract is
// Submit's: it never blocks, and an accepted bark gets exactly one
// EventReply (Kind reply, Text the line, PlayerID the Bark's) by its
// deadline, the floor's bark line when nothing better is ready. It fails
// at once with *npc.UnknownNPCError, an error naming a bad trigger,
// *OverloadError when the priority's queue is full, or ErrClosed.
func (rt *Runtime) SubmitBark(b Bark) (Ticket, error) {
	if b.Priority == PriorityInteractive {
		b.Priority = PriorityAmbient // the zero value: barks use spare capacity
	}
	if err := npc.CheckTrigger(b.Trigger); err != nil {
		return 0, err
	}
	if !utf8.ValidString(b.PlayerID) {
		return 0, errors.New("hearth: bark: player id is not valid UTF-8")
	}
	return rt.submitTurn("bark", Talk{NPCID: b.NPCID, Tenant: b.Tenant, PlayerID: b.PlayerID, Priority: b.Priority,
		Budget: b.Budget, Tag: b.Tag, GameTime: b.GameTime},
		npc.Turn{PlayerID: b.PlayerID, Trigger: b.Trigger})
}

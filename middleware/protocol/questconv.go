package protocol

import (
	"math"
	"time"

	"github.com/hearth-ai/hearth/quest"
)

// The conversions from the quest package's types to their wire form, shared
// by the server and by embedded hosts (the demo) that hand the game the
// same shapes. Arrays are never nil (they encode as [] rather than null),
// and counts are clamped into uint32.

// QuestInfoOf converts a quest for the wire. The time limit is rounded up
// to whole seconds, so a limit is never shown shorter than it is.
func QuestInfoOf(q *quest.Quest) QuestInfo {
	objs := make([]QuestObjective, len(q.Objectives))
	for i, o := range q.Objectives {
		objs[i] = QuestObjective{Action: string(o.Action), Targets: nonNil(o.Targets),
			Count: U32(o.Count), Location: o.Location}
	}
	return QuestInfo{
		ID: q.ID, World: q.World, Title: q.Title, Giver: q.Giver, Motivation: string(q.Motivation),
		Objectives: objs, Prerequisites: nonNil(q.Prerequisites), Reward: QuestRewardOf(q.Reward),
		Level:       QuestLevel{Min: U32(q.Level.Min), Max: U32(q.Level.Max)},
		Description: q.Description, Dialogue: q.Dialogue, Seed: q.Seed, Tier: string(q.Tier),
		TimeLimitS: U32(int((q.TimeLimit + time.Second - 1) / time.Second)),
	}
}

// QuestRewardOf converts a reward for the wire.
func QuestRewardOf(r quest.Reward) QuestReward {
	return QuestReward{XP: U32(r.XP), Gold: U32(r.Gold), Items: nonNil(r.Items)}
}

// QuestUpdateOf converts a tracker update for the wire; a completion
// carries its reward.
func QuestUpdateOf(u quest.Update) QuestUpdate {
	p := QuestUpdate{QuestID: u.QuestID, Kind: string(u.Kind), Objective: U32(u.Objective),
		Progress: U32(u.Progress), Count: U32(u.Count), Reason: u.Reason}
	if u.Kind == quest.UpdateCompleted {
		r := QuestRewardOf(u.Reward)
		p.Reward = &r
	}
	return p
}

// QuestAcceptedOf is the update that reports q accepted: progress 0 of the
// first objective's count (at least 1).
func QuestAcceptedOf(q *quest.Quest) QuestUpdate {
	u := QuestUpdate{QuestID: q.ID, Kind: QuestUpdateAccepted}
	if len(q.Objectives) > 0 {
		u.Count = U32(max(q.Objectives[0].Count, 1))
	}
	return u
}

// QuestLogEntryOf converts one entry of a player's quest log for the wire.
func QuestLogEntryOf(e *quest.Entry) QuestLogEntry {
	progress := make([]uint32, len(e.Progress))
	for j, p := range e.Progress {
		progress[j] = U32(p)
	}
	return QuestLogEntry{Quest: QuestInfoOf(&e.Quest), State: string(e.State),
		Objective: U32(e.Objective), Progress: progress, Reason: e.Reason}
}

// U32 clamps v into uint32, the wire's count type.
func U32(v int) uint32 {
	return uint32(min(max(int64(v), 0), math.MaxUint32))
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

package protocol

// MessagePack field decoders and encoders of the quest payloads. Like the
// others they skip unknown keys, and every array is bounded by the bytes
// left in the (validated) frame; quest.log entries are also capped at
// MaxQuestLogEntries before anything is allocated for them.

func (m *QuestRequest) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "level":
		m.Level, err = r.uint32("quest.request.level")
	case "location":
		m.Location, err = r.str("quest.request.location")
	case "motivation":
		m.Motivation, err = r.str("quest.request.motivation")
	case "giver":
		m.Giver, err = r.str("quest.request.giver")
	case "seed":
		m.Seed, err = r.uint64("quest.request.seed")
	case "after":
		m.After, err = r.str("quest.request.after")
	case "budget_ms":
		m.BudgetMS, err = r.uint32("quest.request.budget_ms")
	default:
		err = r.skip()
	}
	return err
}

func (m *QuestOffer) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "ticket":
		m.Ticket, err = r.uint64("quest.offer.ticket")
	case "quest":
		err = r.decodeMap("quest.offer.quest", &m.Quest)
	case "latency_ms":
		m.LatencyMS, err = r.float64("quest.offer.latency_ms")
	case "budget_ms":
		m.BudgetMS, err = r.uint32("quest.offer.budget_ms")
	case "on_time":
		m.OnTime, err = r.bool("quest.offer.on_time")
	case "floor":
		m.Floor, err = r.bool("quest.offer.floor")
	default:
		err = r.skip()
	}
	return err
}

func (m *QuestInfo) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "id":
		m.ID, err = r.str("quest.id")
	case "world":
		m.World, err = r.str("quest.world")
	case "title":
		m.Title, err = r.str("quest.title")
	case "giver":
		m.Giver, err = r.str("quest.giver")
	case "motivation":
		m.Motivation, err = r.str("quest.motivation")
	case "objectives":
		var n int
		if n, err = r.arrayLen("quest.objectives"); err != nil {
			return err
		}
		m.Objectives = make([]QuestObjective, n)
		for i := range m.Objectives {
			if err = r.decodeMap("quest.objectives[]", &m.Objectives[i]); err != nil {
				return err
			}
		}
	case "prerequisites":
		m.Prerequisites, err = r.strs("quest.prerequisites")
	case "reward":
		err = r.decodeMap("quest.reward", &m.Reward)
	case "level":
		err = r.decodeMap("quest.level", &m.Level)
	case "description":
		m.Description, err = r.str("quest.description")
	case "dialogue":
		m.Dialogue, err = r.str("quest.dialogue")
	case "seed":
		m.Seed, err = r.uint64("quest.seed")
	case "tier":
		m.Tier, err = r.str("quest.tier")
	case "time_limit_s":
		m.TimeLimitS, err = r.uint32("quest.time_limit_s")
	default:
		err = r.skip()
	}
	return err
}

func (m *QuestObjective) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "action":
		m.Action, err = r.str("quest.objectives[].action")
	case "targets":
		m.Targets, err = r.strs("quest.objectives[].targets")
	case "count":
		m.Count, err = r.uint32("quest.objectives[].count")
	case "location":
		m.Location, err = r.str("quest.objectives[].location")
	default:
		err = r.skip()
	}
	return err
}

func (m *QuestReward) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "xp":
		m.XP, err = r.uint32("reward.xp")
	case "gold":
		m.Gold, err = r.uint32("reward.gold")
	case "items":
		m.Items, err = r.strs("reward.items")
	default:
		err = r.skip()
	}
	return err
}

func (m *QuestLevel) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "min":
		m.Min, err = r.uint32("quest.level.min")
	case "max":
		m.Max, err = r.uint32("quest.level.max")
	default:
		err = r.skip()
	}
	return err
}

func (m *QuestAccept) decodeField(r *mpReader, key []byte) (err *Error) {
	if string(key) == "quest_id" {
		m.QuestID, err = r.str("quest.accept.quest_id")
		return err
	}
	return r.skip()
}

func (m *QuestAbandon) decodeField(r *mpReader, key []byte) (err *Error) {
	if string(key) == "quest_id" {
		m.QuestID, err = r.str("quest.abandon.quest_id")
		return err
	}
	return r.skip()
}

func (m *WorldEvent) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "kind":
		m.Kind, err = r.str("world.event.kind")
	case "target":
		m.Target, err = r.str("world.event.target")
	case "item":
		m.Item, err = r.str("world.event.item")
	case "location":
		m.Location, err = r.str("world.event.location")
	case "count":
		m.Count, err = r.uint32("world.event.count")
	default:
		err = r.skip()
	}
	return err
}

func (m *WorldAck) decodeField(r *mpReader, key []byte) (err *Error) {
	if string(key) == "updates" {
		m.Updates, err = r.uint32("world.ack.updates")
		return err
	}
	return r.skip()
}

func (m *QuestUpdate) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "quest_id":
		m.QuestID, err = r.str("quest.update.quest_id")
	case "kind":
		m.Kind, err = r.str("quest.update.kind")
	case "objective":
		m.Objective, err = r.uint32("quest.update.objective")
	case "progress":
		m.Progress, err = r.uint32("quest.update.progress")
	case "count":
		m.Count, err = r.uint32("quest.update.count")
	case "reward":
		if c, _ := r.code(); c == 0xc0 {
			r.off++
			m.Reward = nil
			return nil
		}
		m.Reward = new(QuestReward)
		err = r.decodeMap("quest.update.reward", m.Reward)
	case "reason":
		m.Reason, err = r.str("quest.update.reason")
	default:
		err = r.skip()
	}
	return err
}

func (m *QuestLog) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "entries":
		var n int
		if n, err = r.arrayLen("quest.log.entries"); err != nil {
			return err
		}
		if n > MaxQuestLogEntries {
			return countError("quest.log.entries", n, MaxQuestLogEntries)
		}
		m.Entries = make([]QuestLogEntry, n)
		for i := range m.Entries {
			if err = r.decodeMap("quest.log.entries[]", &m.Entries[i]); err != nil {
				return err
			}
		}
	case "total":
		m.Total, err = r.uint32("quest.log.total")
	default:
		err = r.skip()
	}
	return err
}

func (m *QuestLogEntry) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "quest":
		err = r.decodeMap("quest.log.entries[].quest", &m.Quest)
	case "state":
		m.State, err = r.str("quest.log.entries[].state")
	case "objective":
		m.Objective, err = r.uint32("quest.log.entries[].objective")
	case "progress":
		var n int
		if n, err = r.arrayLen("quest.log.entries[].progress"); err != nil {
			return err
		}
		m.Progress = make([]uint32, n)
		for i := range m.Progress {
			if m.Progress[i], err = r.uint32("quest.log.entries[].progress[]"); err != nil {
				return err
			}
		}
	case "reason":
		m.Reason, err = r.str("quest.log.entries[].reason")
	default:
		err = r.skip()
	}
	return err
}

// strs reads an array of strings (nil reads as an empty array).
func (r *mpReader) strs(field string) ([]string, *Error) {
	n, err := r.arrayLen(field)
	if err != nil {
		return nil, err
	}
	s := make([]string, n)
	for i := range s {
		if s[i], err = r.str(field); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (m QuestRequest) appendMsgpack(b []byte) []byte {
	n := 2 + boolInt(m.Motivation != "") + boolInt(m.Giver != "") + boolInt(m.Seed != 0) +
		boolInt(m.After != "") + boolInt(m.BudgetMS != 0)
	b = mpAppendMapHeader(b, n)
	b = mpAppendUint(mpAppendStr(b, "level"), uint64(m.Level))
	b = mpAppendKV(b, "location", m.Location)
	if m.Motivation != "" {
		b = mpAppendKV(b, "motivation", m.Motivation)
	}
	if m.Giver != "" {
		b = mpAppendKV(b, "giver", m.Giver)
	}
	if m.Seed != 0 {
		b = mpAppendUint(mpAppendStr(b, "seed"), m.Seed)
	}
	if m.After != "" {
		b = mpAppendKV(b, "after", m.After)
	}
	if m.BudgetMS != 0 {
		b = mpAppendUint(mpAppendStr(b, "budget_ms"), uint64(m.BudgetMS))
	}
	return b
}

func (m QuestOffer) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 6)
	b = mpAppendUint(mpAppendStr(b, "ticket"), m.Ticket)
	b = m.Quest.appendMsgpack(mpAppendStr(b, "quest"))
	b = mpAppendFloat64(mpAppendStr(b, "latency_ms"), m.LatencyMS)
	b = mpAppendUint(mpAppendStr(b, "budget_ms"), uint64(m.BudgetMS))
	b = mpAppendBool(mpAppendStr(b, "on_time"), m.OnTime)
	return mpAppendBool(mpAppendStr(b, "floor"), m.Floor)
}

func (q *QuestInfo) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 14)
	b = mpAppendKV(b, "id", q.ID)
	b = mpAppendKV(b, "world", q.World)
	b = mpAppendKV(b, "title", q.Title)
	b = mpAppendKV(b, "giver", q.Giver)
	b = mpAppendKV(b, "motivation", q.Motivation)
	b = mpAppendArrayHeader(mpAppendStr(b, "objectives"), len(q.Objectives))
	for i := range q.Objectives {
		o := &q.Objectives[i]
		b = mpAppendMapHeader(b, 4)
		b = mpAppendKV(b, "action", o.Action)
		b = mpAppendStrs(mpAppendStr(b, "targets"), o.Targets)
		b = mpAppendUint(mpAppendStr(b, "count"), uint64(o.Count))
		b = mpAppendKV(b, "location", o.Location)
	}
	b = mpAppendStrs(mpAppendStr(b, "prerequisites"), q.Prerequisites)
	b = q.Reward.appendMsgpack(mpAppendStr(b, "reward"))
	b = mpAppendMapHeader(mpAppendStr(b, "level"), 2)
	b = mpAppendUint(mpAppendStr(b, "min"), uint64(q.Level.Min))
	b = mpAppendUint(mpAppendStr(b, "max"), uint64(q.Level.Max))
	b = mpAppendKV(b, "description", q.Description)
	b = mpAppendKV(b, "dialogue", q.Dialogue)
	b = mpAppendUint(mpAppendStr(b, "seed"), q.Seed)
	b = mpAppendKV(b, "tier", q.Tier)
	return mpAppendUint(mpAppendStr(b, "time_limit_s"), uint64(q.TimeLimitS))
}

func (r *QuestReward) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 3)
	b = mpAppendUint(mpAppendStr(b, "xp"), uint64(r.XP))
	b = mpAppendUint(mpAppendStr(b, "gold"), uint64(r.Gold))
	return mpAppendStrs(mpAppendStr(b, "items"), r.Items)
}

func (m QuestAccept) appendMsgpack(b []byte) []byte {
	return mpAppendKV(mpAppendMapHeader(b, 1), "quest_id", m.QuestID)
}

func (m QuestAbandon) appendMsgpack(b []byte) []byte {
	return mpAppendKV(mpAppendMapHeader(b, 1), "quest_id", m.QuestID)
}

func (m WorldEvent) appendMsgpack(b []byte) []byte {
	n := 1 + boolInt(m.Target != "") + boolInt(m.Item != "") + boolInt(m.Location != "") + boolInt(m.Count != 0)
	b = mpAppendKV(mpAppendMapHeader(b, n), "kind", m.Kind)
	if m.Target != "" {
		b = mpAppendKV(b, "target", m.Target)
	}
	if m.Item != "" {
		b = mpAppendKV(b, "item", m.Item)
	}
	if m.Location != "" {
		b = mpAppendKV(b, "location", m.Location)
	}
	if m.Count != 0 {
		b = mpAppendUint(mpAppendStr(b, "count"), uint64(m.Count))
	}
	return b
}

func (m WorldAck) appendMsgpack(b []byte) []byte {
	return mpAppendUint(mpAppendStr(mpAppendMapHeader(b, 1), "updates"), uint64(m.Updates))
}

func (m QuestUpdate) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 5+boolInt(m.Reward != nil)+boolInt(m.Reason != ""))
	b = mpAppendKV(b, "quest_id", m.QuestID)
	b = mpAppendKV(b, "kind", m.Kind)
	b = mpAppendUint(mpAppendStr(b, "objective"), uint64(m.Objective))
	b = mpAppendUint(mpAppendStr(b, "progress"), uint64(m.Progress))
	b = mpAppendUint(mpAppendStr(b, "count"), uint64(m.Count))
	if m.Reward != nil {
		b = m.Reward.appendMsgpack(mpAppendStr(b, "reward"))
	}
	if m.Reason != "" {
		b = mpAppendKV(b, "reason", m.Reason)
	}
	return b
}

func (m QuestLog) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, boolInt(len(m.Entries) > 0)+boolInt(m.Total != 0))
	if len(m.Entries) > 0 {
		b = mpAppendArrayHeader(mpAppendStr(b, "entries"), len(m.Entries))
		for i := range m.Entries {
			e := &m.Entries[i]
			b = mpAppendMapHeader(b, 4+boolInt(e.Reason != ""))
			b = e.Quest.appendMsgpack(mpAppendStr(b, "quest"))
			b = mpAppendKV(b, "state", e.State)
			b = mpAppendUint(mpAppendStr(b, "objective"), uint64(e.Objective))
			b = mpAppendArrayHeader(mpAppendStr(b, "progress"), len(e.Progress))
			for _, p := range e.Progress {
				b = mpAppendUint(b, uint64(p))
			}
			if e.Reason != "" {
				b = mpAppendKV(b, "reason", e.Reason)
			}
		}
	}
	if m.Total != 0 {
		b = mpAppendUint(mpAppendStr(b, "total"), uint64(m.Total))
	}
	return b
}

func mpAppendStrs(b []byte, ss []string) []byte {
	b = mpAppendArrayHeader(b, len(ss))
	for _, s := range ss {
		b = mpAppendStr(b, s)
	}
	return b
}

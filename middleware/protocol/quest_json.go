package protocol

import (
	"encoding/json"
	"strconv"
)

// JSON encoders of the quest payloads, with the same keys, order and
// omissions as the MessagePack ones. Nil arrays are written as [].

func (m QuestRequest) appendJSON(b []byte) []byte {
	b = strconv.AppendUint(jsAppendKey(append(b, '{'), "level", true), uint64(m.Level), 10)
	b = jsAppendKV(b, "location", m.Location, false)
	if m.Motivation != "" {
		b = jsAppendKV(b, "motivation", m.Motivation, false)
	}
	if m.Giver != "" {
		b = jsAppendKV(b, "giver", m.Giver, false)
	}
	if m.Seed != 0 {
		b = strconv.AppendUint(jsAppendKey(b, "seed", false), m.Seed, 10)
	}
	if m.After != "" {
		b = jsAppendKV(b, "after", m.After, false)
	}
	if m.BudgetMS != 0 {
		b = strconv.AppendUint(jsAppendKey(b, "budget_ms", false), uint64(m.BudgetMS), 10)
	}
	return append(b, '}')
}

func (m QuestOffer) appendJSON(b []byte) []byte {
	b = strconv.AppendUint(jsAppendKey(append(b, '{'), "ticket", true), m.Ticket, 10)
	b = m.Quest.appendJSON(jsAppendKey(b, "quest", false))
	b = jsAppendFloat(jsAppendKey(b, "latency_ms", false), m.LatencyMS)
	b = strconv.AppendUint(jsAppendKey(b, "budget_ms", false), uint64(m.BudgetMS), 10)
	b = jsAppendBool(jsAppendKey(b, "on_time", false), m.OnTime)
	b = jsAppendBool(jsAppendKey(b, "floor", false), m.Floor)
	return append(b, '}')
}

func (q *QuestInfo) appendJSON(b []byte) []byte {
	b = jsAppendKV(append(b, '{'), "id", q.ID, true)
	b = jsAppendKV(b, "world", q.World, false)
	b = jsAppendKV(b, "title", q.Title, false)
	b = jsAppendKV(b, "giver", q.Giver, false)
	b = jsAppendKV(b, "motivation", q.Motivation, false)
	b = append(jsAppendKey(b, "objectives", false), '[')
	for i := range q.Objectives {
		o := &q.Objectives[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = jsAppendKV(append(b, '{'), "action", o.Action, true)
		b = jsAppendStrs(jsAppendKey(b, "targets", false), o.Targets)
		b = strconv.AppendUint(jsAppendKey(b, "count", false), uint64(o.Count), 10)
		b = jsAppendKV(b, "location", o.Location, false)
		b = append(b, '}')
	}
	b = append(b, ']')
	b = jsAppendStrs(jsAppendKey(b, "prerequisites", false), q.Prerequisites)
	b = q.Reward.appendJSON(jsAppendKey(b, "reward", false))
	b = strconv.AppendUint(jsAppendKey(append(jsAppendKey(b, "level", false), '{'), "min", true), uint64(q.Level.Min), 10)
	b = strconv.AppendUint(jsAppendKey(b, "max", false), uint64(q.Level.Max), 10)
	b = append(b, '}')
	b = jsAppendKV(b, "description", q.Description, false)
	b = jsAppendKV(b, "dialogue", q.Dialogue, false)
	b = strconv.AppendUint(jsAppendKey(b, "seed", false), q.Seed, 10)
	b = jsAppendKV(b, "tier", q.Tier, false)
	b = strconv.AppendUint(jsAppendKey(b, "time_limit_s", false), uint64(q.TimeLimitS), 10)
	return append(b, '}')
}

func (r *QuestReward) appendJSON(b []byte) []byte {
	b = strconv.AppendUint(jsAppendKey(append(b, '{'), "xp", true), uint64(r.XP), 10)
	b = strconv.AppendUint(jsAppendKey(b, "gold", false), uint64(r.Gold), 10)
	b = jsAppendStrs(jsAppendKey(b, "items", false), r.Items)
	return append(b, '}')
}

func (m QuestAccept) appendJSON(b []byte) []byte {
	return append(jsAppendKV(append(b, '{'), "quest_id", m.QuestID, true), '}')
}

func (m QuestAbandon) appendJSON(b []byte) []byte {
	return append(jsAppendKV(append(b, '{'), "quest_id", m.QuestID, true), '}')
}

func (m WorldEvent) appendJSON(b []byte) []byte {
	b = jsAppendKV(append(b, '{'), "kind", m.Kind, true)
	if m.Target != "" {
		b = jsAppendKV(b, "target", m.Target, false)
	}
	if m.Item != "" {
		b = jsAppendKV(b, "item", m.Item, false)
	}
	if m.Location != "" {
		b = jsAppendKV(b, "location", m.Location, false)
	}
	if m.Count != 0 {
		b = strconv.AppendUint(jsAppendKey(b, "count", false), uint64(m.Count), 10)
	}
	return append(b, '}')
}

func (m WorldAck) appendJSON(b []byte) []byte {
	b = strconv.AppendUint(jsAppendKey(append(b, '{'), "updates", true), uint64(m.Updates), 10)
	return append(b, '}')
}

func (m QuestUpdate) appendJSON(b []byte) []byte {
	b = jsAppendKV(append(b, '{'), "quest_id", m.QuestID, true)
	b = jsAppendKV(b, "kind", m.Kind, false)
	b = strconv.AppendUint(jsAppendKey(b, "objective", false), uint64(m.Objective), 10)
	b = strconv.AppendUint(jsAppendKey(b, "progress", false), uint64(m.Progress), 10)
	b = strconv.AppendUint(jsAppendKey(b, "count", false), uint64(m.Count), 10)
	if m.Reward != nil {
		b = m.Reward.appendJSON(jsAppendKey(b, "reward", false))
	}
	if m.Reason != "" {
		b = jsAppendKV(b, "reason", m.Reason, false)
	}
	return append(b, '}')
}

func (m QuestLog) appendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	if len(m.Entries) > 0 {
		b = append(jsAppendKey(b, "entries", true), '[')
		first = false
		for i := range m.Entries {
			e := &m.Entries[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = e.Quest.appendJSON(jsAppendKey(append(b, '{'), "quest", true))
			b = jsAppendKV(b, "state", e.State, false)
			b = strconv.AppendUint(jsAppendKey(b, "objective", false), uint64(e.Objective), 10)
			b = append(jsAppendKey(b, "progress", false), '[')
			for j, p := range e.Progress {
				if j > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendUint(b, uint64(p), 10)
			}
			b = append(b, ']')
			if e.Reason != "" {
				b = jsAppendKV(b, "reason", e.Reason, false)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if m.Total != 0 {
		b = strconv.AppendUint(jsAppendKey(b, "total", first), uint64(m.Total), 10)
	}
	return append(b, '}')
}

func jsAppendStrs(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsAppendStr(b, s)
	}
	return append(b, ']')
}

// UnmarshalJSON decodes a quest.log payload, refusing more than
// MaxQuestLogEntries entries before allocating them: an entry of two bytes
// ("{}") would otherwise cost a whole QuestLogEntry.
func (m *QuestLog) UnmarshalJSON(b []byte) error {
	var raw struct {
		Entries json.RawMessage `json:"entries"`
		Total   uint32          `json:"total"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.Total, m.Entries = raw.Total, nil
	if len(raw.Entries) == 0 || string(raw.Entries) == "null" {
		return nil
	}
	n, ok := jsonArrayLen(raw.Entries)
	if !ok {
		return badFrame("quest.log.entries: want array")
	}
	if n > MaxQuestLogEntries {
		return countError("quest.log.entries", n, MaxQuestLogEntries)
	}
	// Unmarshal appends to a slice from length 0: with the capacity set,
	// it allocates the entries once.
	entries := make([]QuestLogEntry, 0, n)
	if err := json.Unmarshal(raw.Entries, &entries); err != nil {
		return err
	}
	m.Entries = entries
	return nil
}

// jsonArrayLen counts the elements of the JSON array b, which is valid JSON
// (encoding/json accepted it). ok is false when b is not an array.
func jsonArrayLen(b []byte) (n int, ok bool) {
	if len(b) == 0 || b[0] != '[' {
		return 0, false
	}
	depth := 0
	inStr, esc, empty := false, false, true
	for _, c := range b {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		case '"':
			inStr = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 1 {
				n++
			}
		}
		if depth >= 1 && !(depth == 1 && (c == '[' || c == ',')) {
			empty = false
		}
	}
	if empty {
		return 0, true
	}
	return n + 1, true
}

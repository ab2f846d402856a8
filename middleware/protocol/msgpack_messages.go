package protocol

// MessagePack field decoders of the payload types. Unknown keys are skipped
// so that later minor versions can add fields.

func (m *Hello) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "player_id":
		m.PlayerID, err = r.str("hello.player_id")
	case "player_name":
		m.PlayerName, err = r.str("hello.player_name")
	case "client":
		m.Client, err = r.str("hello.client")
	default:
		err = r.skip()
	}
	return err
}

func (m *Talk) decodeField(r *mpReader, key []byte) (err *Error) {
	if string(key) == "refine" {
		m.Refine, err = r.bool("talk.refine")
		return err
	}
	return decodeNPCRequest(r, key, "talk", "text", &m.NPCID, &m.Text, &m.BudgetMS)
}

func (m *Ping) decodeField(r *mpReader, key []byte) (err *Error) {
	if string(key) == "t_ms" {
		m.TMS, err = r.int64("ping.t_ms")
		return err
	}
	return r.skip()
}

func (m *Pong) decodeField(r *mpReader, key []byte) (err *Error) {
	if string(key) == "t_ms" {
		m.TMS, err = r.int64("pong.t_ms")
		return err
	}
	return r.skip()
}

func (m *Welcome) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "session":
		m.Session, err = r.str("welcome.session")
	case "server":
		m.Server, err = r.str("welcome.server")
	case "tick_hz":
		m.TickHz, err = r.uint32("welcome.tick_hz")
	case "budget_ms":
		m.BudgetMS, err = r.uint32("welcome.budget_ms")
	case "npcs":
		var n int
		if n, err = r.arrayLen("welcome.npcs"); err != nil {
			return err
		}
		// n is bounded by the bytes left in the frame (validated), and every
		// element takes at least one byte.
		m.NPCs = make([]NPCInfo, n)
		for i := range m.NPCs {
			if err = r.decodeMap("welcome.npcs[]", &m.NPCs[i]); err != nil {
				return err
			}
		}
	default:
		err = r.skip()
	}
	return err
}

func (m *NPCInfo) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "id":
		m.ID, err = r.str("welcome.npcs[].id")
	case "name":
		m.Name, err = r.str("welcome.npcs[].name")
	case "role":
		m.Role, err = r.str("welcome.npcs[].role")
	default:
		err = r.skip()
	}
	return err
}

func (m *DialogueDelta) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "ticket":
		m.Ticket, err = r.uint64("dialogue.delta.ticket")
	case "npc_id":
		m.NPCID, err = r.str("dialogue.delta.npc_id")
	case "seq":
		m.Seq, err = r.uint32("dialogue.delta.seq")
	case "text":
		m.Text, err = r.str("dialogue.delta.text")
	case "reset":
		m.Reset, err = r.bool("dialogue.delta.reset")
	default:
		err = r.skip()
	}
	return err
}

func (m *DialogueDone) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "ticket":
		m.Ticket, err = r.uint64("dialogue.done.ticket")
	case "npc_id":
		m.NPCID, err = r.str("dialogue.done.npc_id")
	case "text":
		m.Text, err = r.str("dialogue.done.text")
	case "tier":
		m.Tier, err = r.str("dialogue.done.tier")
	case "backend":
		m.Backend, err = r.str("dialogue.done.backend")
	case "latency_ms":
		m.LatencyMS, err = r.float64("dialogue.done.latency_ms")
	case "budget_ms":
		m.BudgetMS, err = r.uint32("dialogue.done.budget_ms")
	case "on_time":
		m.OnTime, err = r.bool("dialogue.done.on_time")
	case "floor":
		m.Floor, err = r.bool("dialogue.done.floor")
	case "reason":
		m.Reason, err = r.str("dialogue.done.reason")
	case "predicted_ms":
		m.PredictedMS, err = r.float64("dialogue.done.predicted_ms")
	case "prompt":
		m.Prompt, err = r.str("dialogue.done.prompt")
	case "guard":
		m.Guard, err = r.str("dialogue.done.guard")
	case "prompt_tokens":
		m.PromptTokens, err = r.uint32("dialogue.done.prompt_tokens")
	case "tokens":
		m.Tokens, err = r.uint32("dialogue.done.tokens")
	case "cost_usd":
		m.CostUSD, err = r.float64("dialogue.done.cost_usd")
	case "affinity":
		m.Affinity, err = r.float64("dialogue.done.affinity")
	case "trust":
		m.Trust, err = r.float64("dialogue.done.trust")
	case "refining":
		m.Refining, err = r.bool("dialogue.done.refining")
	case "actions":
		var n int
		if n, err = r.arrayLen("dialogue.done.actions"); err != nil {
			return err
		}
		if n > MaxActions {
			return countError("dialogue.done.actions", n, MaxActions)
		}
		m.Actions = make([]Action, n)
		for i := range m.Actions {
			if err = r.decodeMap("dialogue.done.actions[]", &m.Actions[i]); err != nil {
				return err
			}
		}
	default:
		err = r.skip()
	}
	return err
}

func (m *Action) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "kind":
		m.Kind, err = r.str("dialogue.done.actions[].kind")
	case "item":
		m.Item, err = r.str("dialogue.done.actions[].item")
	case "count":
		m.Count, err = r.uint32("dialogue.done.actions[].count")
	case "price":
		m.Price, err = r.uint32("dialogue.done.actions[].price")
	case "quest":
		m.Quest, err = r.str("dialogue.done.actions[].quest")
	case "location":
		m.Location, err = r.str("dialogue.done.actions[].location")
	case "target":
		m.Target, err = r.str("dialogue.done.actions[].target")
	default:
		err = r.skip()
	}
	return err
}

func (m *ErrorPayload) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "code":
		m.Code, err = r.str("error.code")
	case "message":
		m.Message, err = r.str("error.message")
	default:
		err = r.skip()
	}
	return err
}

// MessagePack encoders of the payload types. Keys are written in the
// declaration order of the struct fields; optional fields are omitted when
// zero.

func (m Hello) appendMsgpack(b []byte) []byte {
	n := 1 + boolInt(m.PlayerName != "") + boolInt(m.Client != "")
	b = mpAppendMapHeader(b, n)
	b = mpAppendKV(b, "player_id", m.PlayerID)
	if m.PlayerName != "" {
		b = mpAppendKV(b, "player_name", m.PlayerName)
	}
	if m.Client != "" {
		b = mpAppendKV(b, "client", m.Client)
	}
	return b
}

func (m Talk) appendMsgpack(b []byte) []byte {
	return mpAppendNPCRequest(b, m.NPCID, "text", m.Text, m.BudgetMS, m.Refine)
}

func (m Ping) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 1)
	return mpAppendInt(mpAppendStr(b, "t_ms"), m.TMS)
}

func (m Pong) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 1)
	return mpAppendInt(mpAppendStr(b, "t_ms"), m.TMS)
}

func (m Welcome) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 5)
	b = mpAppendKV(b, "session", m.Session)
	b = mpAppendKV(b, "server", m.Server)
	b = mpAppendUint(mpAppendStr(b, "tick_hz"), uint64(m.TickHz))
	b = mpAppendUint(mpAppendStr(b, "budget_ms"), uint64(m.BudgetMS))
	b = mpAppendArrayHeader(mpAppendStr(b, "npcs"), len(m.NPCs))
	for _, npc := range m.NPCs {
		b = mpAppendMapHeader(b, 3)
		b = mpAppendKV(b, "id", npc.ID)
		b = mpAppendKV(b, "name", npc.Name)
		b = mpAppendKV(b, "role", npc.Role)
	}
	return b
}

func (m DialogueDelta) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 4+boolInt(m.Reset))
	b = mpAppendUint(mpAppendStr(b, "ticket"), m.Ticket)
	b = mpAppendKV(b, "npc_id", m.NPCID)
	b = mpAppendUint(mpAppendStr(b, "seq"), uint64(m.Seq))
	b = mpAppendKV(b, "text", m.Text)
	if m.Reset {
		b = mpAppendBool(mpAppendStr(b, "reset"), true)
	}
	return b
}

func (m DialogueDone) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 9+boolInt(m.Reason != "")+boolInt(m.PredictedMS != 0)+boolInt(m.Prompt != "")+boolInt(m.Guard != "")+
		boolInt(m.PromptTokens != 0)+boolInt(m.Tokens != 0)+boolInt(m.CostUSD != 0)+
		boolInt(m.Affinity != 0)+boolInt(m.Trust != 0)+boolInt(len(m.Actions) > 0)+boolInt(m.Refining))
	b = mpAppendUint(mpAppendStr(b, "ticket"), m.Ticket)
	b = mpAppendKV(b, "npc_id", m.NPCID)
	b = mpAppendKV(b, "text", m.Text)
	b = mpAppendKV(b, "tier", m.Tier)
	b = mpAppendKV(b, "backend", m.Backend)
	b = mpAppendFloat64(mpAppendStr(b, "latency_ms"), m.LatencyMS)
	b = mpAppendUint(mpAppendStr(b, "budget_ms"), uint64(m.BudgetMS))
	b = mpAppendBool(mpAppendStr(b, "on_time"), m.OnTime)
	b = mpAppendBool(mpAppendStr(b, "floor"), m.Floor)
	if m.Reason != "" {
		b = mpAppendKV(b, "reason", m.Reason)
	}
	if m.PredictedMS != 0 {
		b = mpAppendFloat64(mpAppendStr(b, "predicted_ms"), m.PredictedMS)
	}
	if m.Prompt != "" {
		b = mpAppendKV(b, "prompt", m.Prompt)
	}
	if m.Guard != "" {
		b = mpAppendKV(b, "guard", m.Guard)
	}
	if m.PromptTokens != 0 {
		b = mpAppendUint(mpAppendStr(b, "prompt_tokens"), uint64(m.PromptTokens))
	}
	if m.Tokens != 0 {
		b = mpAppendUint(mpAppendStr(b, "tokens"), uint64(m.Tokens))
	}
	if m.CostUSD != 0 {
		b = mpAppendFloat64(mpAppendStr(b, "cost_usd"), m.CostUSD)
	}
	if m.Affinity != 0 {
		b = mpAppendFloat64(mpAppendStr(b, "affinity"), m.Affinity)
	}
	if m.Trust != 0 {
		b = mpAppendFloat64(mpAppendStr(b, "trust"), m.Trust)
	}
	if len(m.Actions) > 0 {
		b = mpAppendArrayHeader(mpAppendStr(b, "actions"), len(m.Actions))
		for i := range m.Actions {
			b = m.Actions[i].appendMsgpack(b)
		}
	}
	if m.Refining {
		b = mpAppendBool(mpAppendStr(b, "refining"), true)
	}
	return b
}

func (a *Action) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 1+boolInt(a.Item != "")+boolInt(a.Count != 0)+boolInt(a.Price != 0)+
		boolInt(a.Quest != "")+boolInt(a.Location != "")+boolInt(a.Target != ""))
	b = mpAppendKV(b, "kind", a.Kind)
	if a.Item != "" {
		b = mpAppendKV(b, "item", a.Item)
	}
	if a.Count != 0 {
		b = mpAppendUint(mpAppendStr(b, "count"), uint64(a.Count))
	}
	if a.Price != 0 {
		b = mpAppendUint(mpAppendStr(b, "price"), uint64(a.Price))
	}
	if a.Quest != "" {
		b = mpAppendKV(b, "quest", a.Quest)
	}
	if a.Location != "" {
		b = mpAppendKV(b, "location", a.Location)
	}
	if a.Target != "" {
		b = mpAppendKV(b, "target", a.Target)
	}
	return b
}

func (m ErrorPayload) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 2)
	b = mpAppendKV(b, "code", m.Code)
	return mpAppendKV(b, "message", m.Message)
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}

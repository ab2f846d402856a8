package protocol

import "strconv"

// TypeDialogueRefine carries a better reply after a talk's
// [TypeDialogueDone] (server→client): "answer now, refine later". It is
// sent only for a talk with [Talk.Refine] whose done had
// [DialogueDone.Refining] set, exactly once, after that done.
const TypeDialogueRefine = "dialogue.refine"

// DialogueRefine is the better reply to a talk that allowed refinement
// ([Talk.Refine]): a backend too slow for the talk's budget (a remote large
// model) answered later. The client may show Text in place of the done's
// text, or keep the first line and use this one next time; when Reason is
// set no better reply came, Text is empty and the done's text stands. Its
// id is the talk's id.
type DialogueRefine struct {
	// Ticket is the server's id for the reply, as in its done.
	Ticket uint64 `json:"ticket" msgpack:"ticket"`
	// NPCID is the NPC speaking.
	NPCID string `json:"npc_id" msgpack:"npc_id"`
	// Text is the better reply; empty when Reason is set.
	Text string `json:"text" msgpack:"text"`
	// Tier and Backend name what wrote Text, as in [DialogueDone].
	Tier    string `json:"tier" msgpack:"tier"`
	Backend string `json:"backend" msgpack:"backend"`
	// LatencyMS is the time from the server's acceptance of the talk to
	// this refinement being ready, in milliseconds.
	LatencyMS float64 `json:"latency_ms" msgpack:"latency_ms"`
	// Prompt, PromptTokens, Tokens and CostUSD are as in [DialogueDone]
	// (the refinement's tokens also count against the daily quota).
	Prompt       string  `json:"prompt,omitempty" msgpack:"prompt,omitempty"`
	PromptTokens uint32  `json:"prompt_tokens,omitempty" msgpack:"prompt_tokens,omitempty"`
	Tokens       uint32  `json:"tokens,omitempty" msgpack:"tokens,omitempty"`
	CostUSD      float64 `json:"cost_usd,omitempty" msgpack:"cost_usd,omitempty"`
	// Reason says why no better reply came (the better backend failed or
	// ran out of its refinement budget, or the guardrails withheld its
	// reply); omitted on success.
	Reason string `json:"reason,omitempty" msgpack:"reason,omitempty"`
}

// Type returns [TypeDialogueRefine].
func (DialogueRefine) Type() string { return TypeDialogueRefine }

func (m DialogueRefine) appendJSON(b []byte) []byte {
	b = strconv.AppendUint(jsAppendKey(append(b, '{'), "ticket", true), m.Ticket, 10)
	b = jsAppendKV(b, "npc_id", m.NPCID, false)
	b = jsAppendKV(b, "text", m.Text, false)
	b = jsAppendKV(b, "tier", m.Tier, false)
	b = jsAppendKV(b, "backend", m.Backend, false)
	b = jsAppendFloat(jsAppendKey(b, "latency_ms", false), m.LatencyMS)
	if m.Prompt != "" {
		b = jsAppendKV(b, "prompt", m.Prompt, false)
	}
	if m.PromptTokens != 0 {
		b = strconv.AppendUint(jsAppendKey(b, "prompt_tokens", false), uint64(m.PromptTokens), 10)
	}
	if m.Tokens != 0 {
		b = strconv.AppendUint(jsAppendKey(b, "tokens", false), uint64(m.Tokens), 10)
	}
	if m.CostUSD != 0 {
		b = jsAppendFloat(jsAppendKey(b, "cost_usd", false), m.CostUSD)
	}
	if m.Reason != "" {
		b = jsAppendKV(b, "reason", m.Reason, false)
	}
	return append(b, '}')
}

func (m DialogueRefine) appendMsgpack(b []byte) []byte {
	b = mpAppendMapHeader(b, 6+boolInt(m.Prompt != "")+boolInt(m.PromptTokens != 0)+boolInt(m.Tokens != 0)+
		boolInt(m.CostUSD != 0)+boolInt(m.Reason != ""))
	b = mpAppendUint(mpAppendStr(b, "ticket"), m.Ticket)
	b = mpAppendKV(b, "npc_id", m.NPCID)
	b = mpAppendKV(b, "text", m.Text)
	b = mpAppendKV(b, "tier", m.Tier)
	b = mpAppendKV(b, "backend", m.Backend)
	b = mpAppendFloat64(mpAppendStr(b, "latency_ms"), m.LatencyMS)
	if m.Prompt != "" {
		b = mpAppendKV(b, "prompt", m.Prompt)
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
	if m.Reason != "" {
		b = mpAppendKV(b, "reason", m.Reason)
	}
	return b
}

func (m *DialogueRefine) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "ticket":
		m.Ticket, err = r.uint64("dialogue.refine.ticket")
	case "npc_id":
		m.NPCID, err = r.str("dialogue.refine.npc_id")
	case "text":
		m.Text, err = r.str("dialogue.refine.text")
	case "tier":
		m.Tier, err = r.str("dialogue.refine.tier")
	case "backend":
		m.Backend, err = r.str("dialogue.refine.backend")
	case "latency_ms":
		m.LatencyMS, err = r.float64("dialogue.refine.latency_ms")
	case "prompt":
		m.Prompt, err = r.str("dialogue.refine.prompt")
	case "prompt_tokens":
		m.PromptTokens, err = r.uint32("dialogue.refine.prompt_tokens")
	case "tokens":
		m.Tokens, err = r.uint32("dialogue.refine.tokens")
	case "cost_usd":
		m.CostUSD, err = r.float64("dialogue.refine.cost_usd")
	case "reason":
		m.Reason, err = r.str("dialogue.refine.reason")
	default:
		err = r.skip()
	}
	return err
}

package protocol

import "strconv"

// TypeBark asks an NPC for an ambient one-liner (client→server); answered
// like [TypeTalk], by zero or more [TypeDialogueDelta] and one
// [TypeDialogueDone], or by one [TypeError].
const TypeBark = "bark"

// MaxTriggerBytes bounds bark's trigger, which must also be non-empty.
const MaxTriggerBytes = 32

// Bark triggers every server understands; a server may accept any other
// trigger that satisfies [Bark.Validate].
const (
	// TriggerProximity: the player came near the NPC.
	TriggerProximity = "proximity"
	// TriggerSchedule: the NPC's schedule calls for a line (dawn at the
	// market).
	TriggerSchedule = "schedule"
)

// Bark asks an NPC for an ambient line on the game's initiative: the hello's
// player came near it, or its schedule calls for one. Unlike a talk it
// carries no player line, the NPC does not remember it, and every player
// near the NPC may hear the same line for the same trigger. The server
// answers with zero or more [DialogueDelta] and then one [DialogueDone],
// all echoing the bark's id, or with one error frame echoing it.
type Bark struct {
	// NPCID names the NPC, as listed in [Welcome.NPCs]. Required,
	// 1..[MaxIDBytes] bytes.
	NPCID string `json:"npc_id" msgpack:"npc_id"`
	// Trigger says what set the bark off, e.g. [TriggerProximity] or
	// [TriggerSchedule]. Required, 1..[MaxTriggerBytes] bytes of lowercase
	// ASCII letters, digits, '-' and '_'.
	Trigger string `json:"trigger" msgpack:"trigger"`
	// BudgetMS is the latency budget in milliseconds, as for [Talk.BudgetMS].
	BudgetMS uint32 `json:"budget_ms,omitempty" msgpack:"budget_ms,omitempty"`
}

// Type returns [TypeBark].
func (Bark) Type() string { return TypeBark }

// Validate checks the limits documented on the fields.
func (m Bark) Validate() error {
	if err := checkString("bark.npc_id", m.NPCID, 1, MaxIDBytes); err != nil {
		return err
	}
	if err := checkString("bark.trigger", m.Trigger, 1, MaxTriggerBytes); err != nil {
		return err
	}
	for i := 0; i < len(m.Trigger); i++ {
		if c := m.Trigger[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return badRequest("bark.trigger: want lowercase a-z, 0-9, '-' and '_', got " + strconv.Quote(m.Trigger))
		}
	}
	return nil
}

func (m *Bark) decodeField(r *mpReader, key []byte) *Error {
	return decodeNPCRequest(r, key, "bark", "trigger", &m.NPCID, &m.Trigger, &m.BudgetMS)
}

func (m Bark) appendMsgpack(b []byte) []byte {
	return mpAppendNPCRequest(b, m.NPCID, "trigger", m.Trigger, m.BudgetMS, false)
}

func (m Bark) appendJSON(b []byte) []byte {
	return jsAppendNPCRequest(b, m.NPCID, "trigger", m.Trigger, m.BudgetMS, false)
}

// The payloads of talk and bark share a shape: npc_id, one string field
// (talk's text, bark's trigger) and an optional budget_ms. These helpers
// decode and encode that shape for both.

// decodeNPCRequest decodes one field of a talk or bark payload of type
// typ whose string field is named field.
func decodeNPCRequest(r *mpReader, key []byte, typ, field string, npcID, val *string, budgetMS *uint32) (err *Error) {
	switch string(key) {
	case "npc_id":
		*npcID, err = r.str(typ + ".npc_id")
	case field:
		*val, err = r.str(typ + "." + field)
	case "budget_ms":
		*budgetMS, err = r.uint32(typ + ".budget_ms")
	default:
		err = r.skip()
	}
	return err
}

// mpAppendNPCRequest appends a talk or bark payload as a MessagePack map.
func mpAppendNPCRequest(b []byte, npcID, field, val string, budgetMS uint32, refine bool) []byte {
	b = mpAppendMapHeader(b, 2+boolInt(budgetMS != 0)+boolInt(refine))
	b = mpAppendKV(b, "npc_id", npcID)
	b = mpAppendKV(b, field, val)
	if budgetMS != 0 {
		b = mpAppendUint(mpAppendStr(b, "budget_ms"), uint64(budgetMS))
	}
	if refine {
		b = mpAppendBool(mpAppendStr(b, "refine"), true)
	}
	return b
}

// jsAppendNPCRequest appends a talk or bark payload as a JSON object.
func jsAppendNPCRequest(b []byte, npcID, field, val string, budgetMS uint32, refine bool) []byte {
	b = jsAppendKV(append(b, '{'), "npc_id", npcID, true)
	b = jsAppendKV(b, field, val, false)
	if budgetMS != 0 {
		b = strconv.AppendUint(jsAppendKey(b, "budget_ms", false), uint64(budgetMS), 10)
	}
	if refine {
		b = append(jsAppendKey(b, "refine", false), "true"...)
	}
	return append(b, '}')
}

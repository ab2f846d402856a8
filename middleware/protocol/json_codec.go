package protocol

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// JSONCodec is the [Codec] of [SubprotocolJSON]: JSON envelopes in text
// frames. The zero value is ready to use.
type JSONCodec struct{}

// Subprotocol returns [SubprotocolJSON].
func (JSONCodec) Subprotocol() string { return SubprotocolJSON }

// MessageType returns websocket.TextMessage.
func (JSONCodec) MessageType() int { return websocket.TextMessage }

// Encode implements [Codec].
func (c JSONCodec) Encode(h Header, payload any) ([]byte, error) {
	return c.AppendEncode(make([]byte, 0, 160), h, payload)
}

// AppendEncode implements [Codec]. The output is compact JSON with the
// envelope's keys in the order v, type, id, tick, payload.
func (JSONCodec) AppendEncode(dst []byte, h Header, payload any) ([]byte, error) {
	h, payload, err := resolve(h, payload)
	if err != nil {
		return dst, err
	}
	b := append(dst, `{"v":`...)
	b = strconv.AppendUint(b, uint64(h.Version), 10)
	b = append(b, `,"type":`...)
	b = jsAppendStr(b, h.Type)
	b = append(b, `,"id":`...)
	b = strconv.AppendUint(b, h.ID, 10)
	b = append(b, `,"tick":`...)
	b = strconv.AppendUint(b, h.Tick, 10)
	b = append(b, `,"payload":`...)
	switch p := payload.(type) {
	case nil:
		b = append(b, "{}"...)
	case wirePayload:
		b = p.appendJSON(b)
	default:
		pb, err := json.Marshal(payload)
		if err != nil {
			return dst, &Error{Code: CodeInternal, Message: "encode " + h.Type + " payload: " + err.Error()}
		}
		if len(pb) == 0 || pb[0] != '{' {
			return dst, &Error{Code: CodeInternal, Message: "encode " + h.Type + " payload: does not encode as an object"}
		}
		b = append(b, pb...)
	}
	return append(b, '}'), nil
}

// jsonEnvelope is the envelope as encoding/json sees it; pointers tell absent
// fields from zero ones.
type jsonEnvelope struct {
	V       *uint64         `json:"v"`
	Type    *string         `json:"type"`
	ID      uint64          `json:"id"`
	Tick    uint64          `json:"tick"`
	Payload json.RawMessage `json:"payload"`
}

// Decode implements [Codec]. Before encoding/json sees the frame (it would
// silently replace invalid UTF-8 and accept 10000 levels of nesting), Decode
// checks the size, that the whole frame is valid UTF-8 and that it nests no
// deeper than [MaxDepth].
func (JSONCodec) Decode(frame []byte) (Frame, error) {
	if len(frame) > MaxFrameBytes {
		return Frame{}, frameTooLarge(len(frame))
	}
	if !utf8.Valid(frame) {
		return Frame{}, newError(CodeInvalidUTF8, "frame is not valid UTF-8")
	}
	if !jsonDepthOK(frame, MaxDepth) {
		return Frame{}, badFrame("nesting deeper than " + strconv.Itoa(MaxDepth))
	}
	var env jsonEnvelope
	err := json.Unmarshal(frame, &env)
	f := Frame{enc: encJSON, Header: Header{ID: env.ID, Tick: env.Tick}}
	if err != nil {
		return f, badFrame("envelope: " + err.Error())
	}
	switch {
	case env.V == nil:
		return f, badFrame("envelope: missing v")
	case *env.V != Version:
		return f, unsupportedVersion(*env.V)
	case env.Type == nil || *env.Type == "":
		return f, badFrame("envelope: missing type")
	}
	f.Version = Version
	f.Type = *env.Type
	switch p := bytes.TrimSpace(env.Payload); {
	case len(p) == 0 || string(p) == "null":
	case p[0] == '{':
		f.payload = p
	default:
		return f, wrongType("payload", "object")
	}
	return f, nil
}

// jsonDepthOK reports whether the JSON text b nests objects and arrays no
// deeper than max. It does not check syntax.
func jsonDepthOK(b []byte, max int) bool {
	depth := 0
	inStr, esc := false, false
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
		case '"':
			inStr = true
		case '{', '[':
			if depth++; depth > max {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// jsAppendStr appends s as a JSON string, escaping as encoding/json does
// (without its HTML escaping) and replacing invalid UTF-8 with U+FFFD.
func jsAppendStr(b []byte, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		// U+2028 and U+2029 are valid JSON but not valid JavaScript string
		// literals; escape them as encoding/json does.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func jsAppendKV(b []byte, key, value string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = jsAppendStr(b, key)
	b = append(b, ':')
	return jsAppendStr(b, value)
}

func jsAppendKey(b []byte, key string, first bool) []byte {
	if !first {
		b = append(b, ',')
	}
	b = jsAppendStr(b, key)
	return append(b, ':')
}

// jsAppendFloat appends v as encoding/json would; JSON has no NaN or
// infinities, so those are written as null.
func jsAppendFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

func jsAppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}

// JSON encoders of the payload types, with the same keys, order and
// omissions as the MessagePack ones.

func (m Hello) appendJSON(b []byte) []byte {
	b = jsAppendKV(append(b, '{'), "player_id", m.PlayerID, true)
	if m.PlayerName != "" {
		b = jsAppendKV(b, "player_name", m.PlayerName, false)
	}
	if m.Client != "" {
		b = jsAppendKV(b, "client", m.Client, false)
	}
	return append(b, '}')
}

func (m Talk) appendJSON(b []byte) []byte {
	return jsAppendNPCRequest(b, m.NPCID, "text", m.Text, m.BudgetMS, m.Refine)
}

func (m Ping) appendJSON(b []byte) []byte {
	b = strconv.AppendInt(jsAppendKey(append(b, '{'), "t_ms", true), m.TMS, 10)
	return append(b, '}')
}

func (m Pong) appendJSON(b []byte) []byte {
	b = strconv.AppendInt(jsAppendKey(append(b, '{'), "t_ms", true), m.TMS, 10)
	return append(b, '}')
}

func (m Welcome) appendJSON(b []byte) []byte {
	b = jsAppendKV(append(b, '{'), "session", m.Session, true)
	b = jsAppendKV(b, "server", m.Server, false)
	b = strconv.AppendUint(jsAppendKey(b, "tick_hz", false), uint64(m.TickHz), 10)
	b = strconv.AppendUint(jsAppendKey(b, "budget_ms", false), uint64(m.BudgetMS), 10)
	b = append(jsAppendKey(b, "npcs", false), '[')
	for i, npc := range m.NPCs {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsAppendKV(append(b, '{'), "id", npc.ID, true)
		b = jsAppendKV(b, "name", npc.Name, false)
		b = jsAppendKV(b, "role", npc.Role, false)
		b = append(b, '}')
	}
	return append(b, ']', '}')
}

func (m DialogueDelta) appendJSON(b []byte) []byte {
	b = strconv.AppendUint(jsAppendKey(append(b, '{'), "ticket", true), m.Ticket, 10)
	b = jsAppendKV(b, "npc_id", m.NPCID, false)
	b = strconv.AppendUint(jsAppendKey(b, "seq", false), uint64(m.Seq), 10)
	b = jsAppendKV(b, "text", m.Text, false)
	if m.Reset {
		b = append(jsAppendKey(b, "reset", false), "true"...)
	}
	return append(b, '}')
}

func (m DialogueDone) appendJSON(b []byte) []byte {
	b = strconv.AppendUint(jsAppendKey(append(b, '{'), "ticket", true), m.Ticket, 10)
	b = jsAppendKV(b, "npc_id", m.NPCID, false)
	b = jsAppendKV(b, "text", m.Text, false)
	b = jsAppendKV(b, "tier", m.Tier, false)
	b = jsAppendKV(b, "backend", m.Backend, false)
	b = jsAppendFloat(jsAppendKey(b, "latency_ms", false), m.LatencyMS)
	b = strconv.AppendUint(jsAppendKey(b, "budget_ms", false), uint64(m.BudgetMS), 10)
	b = jsAppendBool(jsAppendKey(b, "on_time", false), m.OnTime)
	b = jsAppendBool(jsAppendKey(b, "floor", false), m.Floor)
	if m.Reason != "" {
		b = jsAppendKV(b, "reason", m.Reason, false)
	}
	if m.PredictedMS != 0 {
		b = jsAppendFloat(jsAppendKey(b, "predicted_ms", false), m.PredictedMS)
	}
	if m.Prompt != "" {
		b = jsAppendKV(b, "prompt", m.Prompt, false)
	}
	if m.Guard != "" {
		b = jsAppendKV(b, "guard", m.Guard, false)
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
	if m.Affinity != 0 {
		b = jsAppendFloat(jsAppendKey(b, "affinity", false), m.Affinity)
	}
	if m.Trust != 0 {
		b = jsAppendFloat(jsAppendKey(b, "trust", false), m.Trust)
	}
	if len(m.Actions) > 0 {
		b = append(jsAppendKey(b, "actions", false), '[')
		for i := range m.Actions {
			if i > 0 {
				b = append(b, ',')
			}
			b = m.Actions[i].appendJSON(b)
		}
		b = append(b, ']')
	}
	if m.Refining {
		b = append(jsAppendKey(b, "refining", false), "true"...)
	}
	return append(b, '}')
}

func (a *Action) appendJSON(b []byte) []byte {
	b = jsAppendKV(append(b, '{'), "kind", a.Kind, true)
	if a.Item != "" {
		b = jsAppendKV(b, "item", a.Item, false)
	}
	if a.Count != 0 {
		b = strconv.AppendUint(jsAppendKey(b, "count", false), uint64(a.Count), 10)
	}
	if a.Price != 0 {
		b = strconv.AppendUint(jsAppendKey(b, "price", false), uint64(a.Price), 10)
	}
	if a.Quest != "" {
		b = jsAppendKV(b, "quest", a.Quest, false)
	}
	if a.Location != "" {
		b = jsAppendKV(b, "location", a.Location, false)
	}
	if a.Target != "" {
		b = jsAppendKV(b, "target", a.Target, false)
	}
	return append(b, '}')
}

func (m ErrorPayload) appendJSON(b []byte) []byte {
	b = jsAppendKV(append(b, '{'), "code", m.Code, true)
	b = jsAppendKV(b, "message", m.Message, false)
	return append(b, '}')
}

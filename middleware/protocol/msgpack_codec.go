package protocol

import (
	"bytes"
	"math"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"
)

// MsgpackCodec is the [Codec] of [SubprotocolMsgpack]: MessagePack envelopes
// in binary frames. The zero value is ready to use.
type MsgpackCodec struct{}

// Subprotocol returns [SubprotocolMsgpack].
func (MsgpackCodec) Subprotocol() string { return SubprotocolMsgpack }

// MessageType returns websocket.BinaryMessage.
func (MsgpackCodec) MessageType() int { return websocket.BinaryMessage }

// Encode implements [Codec].
func (c MsgpackCodec) Encode(h Header, payload any) ([]byte, error) {
	return c.AppendEncode(make([]byte, 0, 128), h, payload)
}

// AppendEncode implements [Codec]. The envelope's keys are written in the
// order v, type, id, tick, payload.
func (MsgpackCodec) AppendEncode(dst []byte, h Header, payload any) ([]byte, error) {
	h, payload, err := resolve(h, payload)
	if err != nil {
		return dst, err
	}
	b := mpAppendMapHeader(dst, 5)
	b = mpAppendUint(mpAppendStr(b, keyVersion), uint64(h.Version))
	b = mpAppendKV(b, keyType, h.Type)
	b = mpAppendUint(mpAppendStr(b, keyID), h.ID)
	b = mpAppendUint(mpAppendStr(b, keyTick), h.Tick)
	b = mpAppendStr(b, keyPayload)
	switch p := payload.(type) {
	case nil:
		return mpAppendMapHeader(b, 0), nil
	case wirePayload:
		return p.appendMsgpack(b), nil
	}
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(payload); err != nil {
		return dst, &Error{Code: CodeInternal, Message: "encode " + h.Type + " payload: " + err.Error()}
	}
	pb := buf.Bytes()
	if len(pb) == 0 || !(pb[0]&0xf0 == 0x80 || pb[0] == 0xde || pb[0] == 0xdf) {
		return dst, &Error{Code: CodeInternal, Message: "encode " + h.Type + " payload: does not encode as a map"}
	}
	return append(b, pb...), nil
}

// Decode implements [Codec]: it checks the size, runs the allocation-free
// structural validator over the whole frame, and then reads the envelope.
func (MsgpackCodec) Decode(frame []byte) (Frame, error) {
	if len(frame) > MaxFrameBytes {
		return Frame{}, frameTooLarge(len(frame))
	}
	if err := validateMsgpack(frame); err != nil {
		return Frame{}, err
	}
	f, err := parseMsgpackEnvelope(frame)
	if err != nil {
		return f, err
	}
	return f, nil
}

// parseMsgpackEnvelope reads the envelope of a validated frame. It reads all
// keys before reporting the first error, so that the returned Frame carries
// the id whenever it is well-formed.
func parseMsgpackEnvelope(frame []byte) (Frame, *Error) {
	f := Frame{enc: encMsgpack}
	r := mpReader{b: frame}
	n, isNil, err := r.mapLen("envelope")
	if err != nil || isNil {
		return f, badFrame("envelope: want a map")
	}
	var (
		first          *Error
		version        uint64
		haveV, haveTyp bool
	)
	for i := 0; i < n; i++ {
		start := r.off
		key, err := r.keyBytes("envelope")
		if err != nil { // a nil or non-string key: skip the pair
			r.off = start
			if first == nil {
				first = err
			}
			if err := r.skip(); err != nil {
				return f, err
			}
			if err := r.skip(); err != nil {
				return f, err
			}
			continue
		}
		start = r.off
		switch string(key) {
		case keyVersion:
			version, err = r.uint("v", math.MaxUint64)
			haveV = err == nil
		case keyType:
			var t []byte
			if t, err = r.strBytes("type"); err == nil && len(t) > 0 {
				f.Type = internType(t)
				haveTyp = true
			}
		case keyID:
			f.ID, err = r.uint64("id")
		case keyTick:
			f.Tick, err = r.uint64("tick")
		case keyPayload:
			if c, _ := r.code(); c == 0xc0 {
				r.off++
				f.payload = nil
			} else if c&0xf0 == 0x80 || c == 0xde || c == 0xdf {
				err = r.skip()
				f.payload = frame[start:r.off]
			} else {
				err = wrongType("payload", "map")
			}
		default:
			err = r.skip()
		}
		if err != nil {
			if first == nil {
				first = err
			}
			r.off = start
			if err := r.skip(); err != nil {
				return f, err
			}
		}
	}
	switch {
	case first != nil:
		return f, first
	case !haveV:
		return f, badFrame("envelope: missing v")
	case version != Version:
		return f, unsupportedVersion(version)
	case !haveTyp:
		return f, badFrame("envelope: missing type")
	}
	f.Version = Version
	return f, nil
}

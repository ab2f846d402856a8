package protocol

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"

	"github.com/vmihailenco/msgpack/v5"
)

// Codec encodes and decodes frames for one subprotocol. Codecs are stateless
// and safe for concurrent use; get one with [CodecFor], or use [MsgpackCodec]
// or [JSONCodec] directly.
type Codec interface {
	// Subprotocol returns the subprotocol name, e.g. [SubprotocolMsgpack].
	Subprotocol() string
	// MessageType returns the gorilla/websocket message type the frames
	// travel in: websocket.BinaryMessage or websocket.TextMessage.
	MessageType() int
	// Encode returns the frame for an envelope with header h and payload. See
	// AppendEncode.
	Encode(h Header, payload any) ([]byte, error)
	// AppendEncode appends the frame for an envelope with header h and
	// payload to dst and returns the extended buffer; reusing dst makes
	// encoding allocation-free for this package's payload types.
	//
	// payload is one of this package's payload types (value or pointer), an
	// *Error (sent as an [ErrorPayload]), nil (an empty payload map), or any
	// other value that vmihailenco/msgpack or encoding/json encode as a map
	// (give it msgpack and json tags). A zero h.Version is written as
	// [Version]; an empty h.Type is taken from the payload's Type method, and
	// a non-empty one must agree with it. Strings that are not valid UTF-8 are
	// written with U+FFFD in place of the bad bytes.
	AppendEncode(dst []byte, h Header, payload any) ([]byte, error)
	// Decode parses and checks a frame's envelope. The returned Frame aliases
	// frame, which must not be modified while the Frame is in use; decode its
	// payload with [Frame.Decode] or [Frame.Message]. Decoding is bounded: it
	// never allocates more than a small multiple of len(frame).
	//
	// Errors are *Error with code [CodeFrameTooLarge], [CodeBadFrame],
	// [CodeInvalidUTF8] or [CodeUnsupportedVersion]. On error the returned
	// Frame's ID holds the envelope's id when it could be read, so that the
	// error frame can echo it. Decode does not reject unknown message types:
	// [Frame.Message] does.
	Decode(frame []byte) (Frame, error)
}

// CodecFor returns the codec of a subprotocol name, as negotiated in the
// WebSocket handshake.
func CodecFor(subprotocol string) (Codec, bool) {
	switch subprotocol {
	case SubprotocolMsgpack:
		return MsgpackCodec{}, true
	case SubprotocolJSON:
		return JSONCodec{}, true
	}
	return nil, false
}

type encoding uint8

const (
	encNone encoding = iota
	encMsgpack
	encJSON
)

// Frame is a decoded envelope whose payload has not been decoded yet.
type Frame struct {
	Header
	enc     encoding
	payload []byte // raw payload map, or nil when absent or nil/null
}

// RawPayload returns the payload as it appeared in the frame (a MessagePack
// or JSON map), or nil when the envelope had no payload or a nil/null one. It
// aliases the frame.
func (f *Frame) RawPayload() []byte { return f.payload }

// Decode decodes the payload into v, a pointer to the payload type that
// matches f.Type (for example *Talk when f.Type is [TypeTalk]). An absent
// payload leaves v's fields zero; unknown payload keys are ignored. When v
// is a [Validator], Decode then calls its Validate method, so client→server
// payloads come back checked.
//
// Decoding into this package's types is bounded and allocates only the
// decoded strings and slices. Other types are decoded by
// vmihailenco/msgpack or encoding/json (bounded too, since the frame was
// validated by [Codec.Decode]); decode only into typed structs, never into
// interface values or maps.
//
// Errors are *Error: [CodeBadFrame] for a field of the wrong type, and
// whatever Validate returns ([CodeBadRequest], [CodeInvalidUTF8]).
func (f *Frame) Decode(v any) error {
	switch f.enc {
	case encMsgpack:
		if fd, ok := v.(fieldDecoder); ok {
			if err := decodeMsgpackPayload(f.payload, f.Type, fd); err != nil {
				return err
			}
		} else if len(f.payload) > 0 {
			if err := msgpack.Unmarshal(f.payload, v); err != nil {
				return badFrame(f.Type + " payload: " + err.Error())
			}
		}
	case encJSON:
		if len(f.payload) > 0 {
			if err := json.Unmarshal(f.payload, v); err != nil {
				var pe *Error
				if errors.As(err, &pe) { // from an UnmarshalJSON method of this package
					return pe
				}
				return jsonPayloadError(f.Type, err)
			}
		}
	default:
		return badFrame("Decode called on a Frame that no Codec returned")
	}
	if val, ok := v.(Validator); ok {
		return val.Validate()
	}
	return nil
}

// jsonPayloadError turns an encoding/json error into a bad_frame error that
// names the field the way the MessagePack decoder does ("talk.text: ...").
func jsonPayloadError(typ string, err error) *Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return badFrame(typ + "." + te.Field + ": want " + te.Type.String() + ", got JSON " + te.Value)
	}
	return badFrame(typ + " payload: " + err.Error())
}

// Message decodes the payload into the type that matches f.Type and returns
// it as a value: [Hello], [Talk], [Bark], [Ping], [Welcome], [DialogueDelta],
// [DialogueDone], [DialogueRefine], [ErrorPayload], [Pong], [QuestRequest], [QuestOffer],
// [QuestAccept], [QuestAbandon], [WorldEvent], [WorldState], [WorldAck], [QuestUpdate] or
// [QuestLog]. Payloads with a Validate method are validated as by
// [Frame.Decode]. An unknown type gives an *Error with code
// [CodeUnknownType]. A server must still check that the type is one a client
// may send.
func (f *Frame) Message() (Message, error) {
	switch f.Type {
	case TypeHello:
		return decodeAs[Hello](f)
	case TypeTalk:
		return decodeAs[Talk](f)
	case TypeBark:
		return decodeAs[Bark](f)
	case TypePing:
		return decodeAs[Ping](f)
	case TypeWelcome:
		return decodeAs[Welcome](f)
	case TypeDialogueDelta:
		return decodeAs[DialogueDelta](f)
	case TypeDialogueDone:
		return decodeAs[DialogueDone](f)
	case TypeDialogueRefine:
		return decodeAs[DialogueRefine](f)
	case TypeError:
		return decodeAs[ErrorPayload](f)
	case TypePong:
		return decodeAs[Pong](f)
	case TypeQuestRequest:
		return decodeAs[QuestRequest](f)
	case TypeQuestOffer:
		return decodeAs[QuestOffer](f)
	case TypeQuestAccept:
		return decodeAs[QuestAccept](f)
	case TypeQuestAbandon:
		return decodeAs[QuestAbandon](f)
	case TypeWorldEvent:
		return decodeAs[WorldEvent](f)
	case TypeWorldState:
		return decodeAs[WorldState](f)
	case TypeWorldAck:
		return decodeAs[WorldAck](f)
	case TypeQuestUpdate:
		return decodeAs[QuestUpdate](f)
	case TypeQuestLog:
		return decodeAs[QuestLog](f)
	}
	return nil, UnknownType(f.Type)
}

// UnknownType returns the [CodeUnknownType] error for message type t (quoted
// and cut to 64 bytes in the message).
func UnknownType(t string) *Error {
	if len(t) > 64 {
		t = t[:64]
	}
	return newError(CodeUnknownType, "unknown message type "+strconv.Quote(t))
}

func decodeAs[T Message](f *Frame) (Message, error) {
	var m T
	if err := f.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

// wirePayload is implemented by this package's payload types.
type wirePayload interface {
	Message
	appendMsgpack(b []byte) []byte
	appendJSON(b []byte) []byte
}

// resolve fills in the defaults of h and checks it against payload, which it
// normalizes (an *Error becomes an ErrorPayload).
func resolve(h Header, payload any) (Header, any, error) {
	if v := reflect.ValueOf(payload); v.Kind() == reflect.Pointer && v.IsNil() {
		payload = nil // a nil *Talk, *Error, ... is an empty payload
	}
	if e, ok := payload.(*Error); ok {
		payload = e.Payload()
	}
	if h.Version == 0 {
		h.Version = Version
	}
	if m, ok := payload.(Message); ok {
		switch t := m.Type(); {
		case h.Type == "":
			h.Type = t
		case h.Type != t:
			return h, nil, &Error{Code: CodeInternal, Message: "encode: header type " +
				strconv.Quote(h.Type) + " does not match payload type " + strconv.Quote(t)}
		}
	}
	if h.Type == "" {
		return h, nil, &Error{Code: CodeInternal, Message: "encode: header has no type and the payload has no Type method"}
	}
	return h, payload, nil
}

// envelope keys, in the order the encoders write them.
const (
	keyVersion = "v"
	keyType    = "type"
	keyID      = "id"
	keyTick    = "tick"
	keyPayload = "payload"
)

// internType returns the constant for a known type without allocating.
func internType(b []byte) string {
	switch string(b) {
	case TypeHello:
		return TypeHello
	case TypeTalk:
		return TypeTalk
	case TypeBark:
		return TypeBark
	case TypePing:
		return TypePing
	case TypeWelcome:
		return TypeWelcome
	case TypeDialogueDelta:
		return TypeDialogueDelta
	case TypeDialogueDone:
		return TypeDialogueDone
	case TypeDialogueRefine:
		return TypeDialogueRefine
	case TypeError:
		return TypeError
	case TypePong:
		return TypePong
	case TypeQuestRequest:
		return TypeQuestRequest
	case TypeQuestOffer:
		return TypeQuestOffer
	case TypeQuestAccept:
		return TypeQuestAccept
	case TypeQuestAbandon:
		return TypeQuestAbandon
	case TypeWorldEvent:
		return TypeWorldEvent
	case TypeWorldState:
		return TypeWorldState
	case TypeWorldAck:
		return TypeWorldAck
	case TypeQuestUpdate:
		return TypeQuestUpdate
	case TypeQuestLog:
		return TypeQuestLog
	}
	return string(b)
}

func frameTooLarge(n int) *Error {
	return newError(CodeFrameTooLarge, "frame of "+strconv.Itoa(n)+" bytes exceeds the limit of "+
		strconv.Itoa(MaxFrameBytes))
}

func unsupportedVersion(v uint64) *Error {
	return newError(CodeUnsupportedVersion, "protocol version "+strconv.FormatUint(v, 10)+
		" is not supported; this peer speaks version "+strconv.Itoa(Version))
}

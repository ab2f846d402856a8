package protocol

import "github.com/gorilla/websocket"

// Version is the protocol version carried in every envelope's "v" field. A
// frame with any other version is answered with an error whose code is
// [CodeUnsupportedVersion].
const Version = 1

// Path is the HTTP path of the WebSocket endpoint.
const Path = "/v1/ws"

// Subprotocol names, negotiated through the Sec-WebSocket-Protocol header.
const (
	// SubprotocolMsgpack selects MessagePack envelopes in binary frames. It is
	// the preferred encoding.
	SubprotocolMsgpack = "hearth.v1.msgpack"
	// SubprotocolJSON selects JSON envelopes in text frames, for debugging and
	// for clients without a MessagePack library.
	SubprotocolJSON = "hearth.v1.json"
)

// Subprotocols returns the subprotocols this package implements, preferred
// first, in the form websocket.Upgrader.Subprotocols and
// websocket.Dialer.Subprotocols expect. It returns a new slice on every call.
func Subprotocols() []string {
	return []string{SubprotocolMsgpack, SubprotocolJSON}
}

// Frame size limits.
const (
	// MaxFrameBytes is the largest frame, in either direction, that a peer must
	// accept. A client frame larger than this is answered with an error whose
	// code is [CodeFrameTooLarge] and the connection continues; a server reads
	// at most MaxFrameBytes+1 bytes of such a frame and discards the rest.
	MaxFrameBytes = 64 << 10
	// MaxFrameHardBytes is the size above which a frame is not read at all: the
	// connection is closed with [CloseMessageTooBig]. It bounds the bytes a peer
	// has to discard to skip an oversized frame.
	MaxFrameHardBytes = 1 << 20
	// MaxDepth is the deepest nesting of maps and arrays a frame may contain.
	// The envelope is depth 1 and its payload depth 2; no message of this
	// version goes deeper than 8 (quest.log: entries, an entry, its quest,
	// objectives, an objective, its targets).
	MaxDepth = 32
)

// Field limits enforced by the Validate methods of client→server payloads.
// All lengths are in bytes of UTF-8, not characters.
const (
	// MaxIDBytes bounds player_id and npc_id; both must also be non-empty.
	MaxIDBytes = 64
	// MaxNameBytes bounds hello's player_name and client.
	MaxNameBytes = 64
	// MaxTalkTextBytes bounds talk's text, which must also be non-empty.
	MaxTalkTextBytes = 2000
)

// Message types, the envelope's "type" field.
const (
	// TypeHello opens a session (client→server); answered by [TypeWelcome].
	TypeHello = "hello"
	// TypeTalk is a player's line to an NPC (client→server); answered by zero
	// or more [TypeDialogueDelta] and one [TypeDialogueDone], or by one
	// [TypeError].
	TypeTalk = "talk"
	// TypePing asks for a [TypePong] (client→server).
	TypePing = "ping"
	// TypeWelcome answers hello (server→client).
	TypeWelcome = "welcome"
	// TypeDialogueDelta streams part of an NPC's reply (server→client).
	TypeDialogueDelta = "dialogue.delta"
	// TypeDialogueDone carries an NPC's final, authoritative reply
	// (server→client).
	TypeDialogueDone = "dialogue.done"
	// TypeError reports a failed request or a bad frame (server→client).
	TypeError = "error"
	// TypePong answers ping (server→client).
	TypePong = "pong"
)

// Tiers reported in [DialogueDone.Tier]: which kind of backend produced the
// final text, fastest first.
const (
	// TierCache: the response cache.
	TierCache = "cache"
	// TierTemplate: the deterministic, lore-grounded template generator (the
	// floor tier).
	TierTemplate = "template"
	// TierEmbedded: the in-process small model.
	TierEmbedded = "embedded"
	// TierLocal: a model server on the same host or network (GPU).
	TierLocal = "local"
	// TierRemote: a remote large-model API.
	TierRemote = "remote"
)

// WebSocket close codes used by Hearth servers. The close reason text is for
// humans; clients should act on the code.
const (
	// CloseNormal (1000) ends a session normally; clients close with it.
	CloseNormal = websocket.CloseNormalClosure
	// CloseGoingAway (1001): the server is shutting down. Reconnect later.
	CloseGoingAway = websocket.CloseGoingAway
	// CloseMessageTooBig (1009): the peer sent a frame larger than
	// [MaxFrameHardBytes]. Frames between [MaxFrameBytes] and
	// MaxFrameHardBytes get an error frame instead and the connection stays
	// open.
	CloseMessageTooBig = websocket.CloseMessageTooBig
	// CloseProtocolViolation (4000): the client broke the session rules in a
	// way the server does not answer with an error frame, such as sending
	// hello a second time.
	CloseProtocolViolation = 4000
	// CloseSlowConsumer (4008): the client did not read fast enough and the
	// server's bounded send queue for the connection overflowed. Nothing queued
	// for it is delivered; reconnect and, if needed, talk again.
	CloseSlowConsumer = 4008
)

// Header is the envelope of every frame, minus the payload.
type Header struct {
	// Version is the protocol version, "v" on the wire. Encoders write
	// [Version] when it is zero.
	Version uint32
	// Type is the message type, one of the Type* constants. Encoders take it
	// from the payload's Type method when it is empty.
	Type string
	// ID is the correlation id. Clients choose one per request (non-zero,
	// unique among their outstanding requests); every server message caused by
	// a client message echoes that message's id; unsolicited server messages
	// carry 0.
	ID uint64
	// Tick is the server's tick number when it sent the frame. Clients send 0.
	Tick uint64
}

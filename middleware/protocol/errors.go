package protocol

import "errors"

// Error codes, carried in [ErrorPayload.Code] and [Error.Code]. An error frame's
// envelope id echoes the id of the message that caused it, or is 0 when that
// id could not be read.
const (
	// CodeBadFrame: the frame could not be decoded: not MessagePack/JSON, not a
	// map, truncated, trailing bytes, nesting deeper than [MaxDepth], a length
	// header larger than the frame, a missing "v" or "type", or a field of the
	// wrong type. The connection continues.
	CodeBadFrame = "bad_frame"
	// CodeFrameTooLarge: the frame was larger than [MaxFrameBytes] (but not
	// larger than [MaxFrameHardBytes]). It was discarded unread; the connection
	// continues.
	CodeFrameTooLarge = "frame_too_large"
	// CodeUnknownType: the envelope's type is not a client→server message type
	// this server handles.
	CodeUnknownType = "unknown_type"
	// CodeInvalidUTF8: a string in the frame (anywhere in a JSON frame) is not
	// valid UTF-8.
	CodeInvalidUTF8 = "invalid_utf8"
	// CodeBadRequest: the frame decoded but a payload field is missing or out of
	// range; the message names the field, e.g. "talk.text: required, 1..2000
	// bytes".
	CodeBadRequest = "bad_request"
	// CodeUnsupportedVersion: the envelope's "v" is not [Version].
	CodeUnsupportedVersion = "unsupported_version"
	// CodeNotHello: a talk, bark or quest message arrived before the
	// session's hello.
	CodeNotHello = "not_hello"
	// CodeUnknownNPC: talk or bark named an npc_id the server does not host. The
	// welcome message lists the NPCs that exist.
	CodeUnknownNPC = "unknown_npc"
	// CodeOverloaded: the server's request queue is full; nothing was queued.
	// Retry later (with backoff), or let the NPC say something canned.
	CodeOverloaded = "overloaded"
	// CodeInternal: the server failed in a way that is not the client's fault.
	CodeInternal = "internal"
	// CodeQuestsUnavailable: a quest message (quest.request, quest.accept,
	// quest.abandon, quest.log, world.event) reached a server that hosts no
	// quests (its world has no quest.yaml, or quests are not configured).
	CodeQuestsUnavailable = "quests_unavailable"
	// CodeNoQuest: quest.request was valid but nothing suitable could be
	// grounded near the player; the message says why. Another location,
	// motivation or giver may work.
	CodeNoQuest = "no_quest"
	// CodeUnknownQuest: quest.accept named a quest id this connection was not
	// offered (or not among its last [MaxQuestOffers] offers), or
	// quest.abandon one that is not in the player's log.
	CodeUnknownQuest = "unknown_quest"

	// CodeUnauthorized is the code of the JSON body of an HTTP 401 answer
	// to the WebSocket upgrade or to an admin endpoint: the request carried
	// no credential, an unknown API key, or a JWT that is invalid (bad
	// signature, an algorithm other than HS256, expired, claims missing).
	// The message says which. No WebSocket connection is made.
	CodeUnauthorized = "unauthorized"
	// CodeForbidden: the credential is valid but does not allow the action.
	// As the JSON body of an HTTP 403: a client credential on an admin
	// endpoint, or an admin endpoint of a server that runs without
	// authentication. As an error frame answering hello: the player_id is
	// not the JWT's sub (a client cannot speak as another player); the
	// connection stays open without a session and may send hello again.
	CodeForbidden = "forbidden"
	// CodeRateLimited: the connection sent frames faster than its message
	// rate (a token bucket per connection); the frame was not processed.
	// Slow down; the connection continues. Error frames are themselves
	// rate limited: beyond that budget refused frames get no error of
	// their own, and a later error with id 0 counts them.
	CodeRateLimited = "rate_limited"
	// CodePlayerRateLimited: the player's connections together sent frames
	// faster than the per-player message rate; the frame was not
	// processed. As for [CodeRateLimited].
	CodePlayerRateLimited = "player_rate_limited"
	// CodeTooManyInFlight: a talk, bark or quest.request arrived while the
	// connection already had the maximum number of them waiting for their
	// answer; nothing was queued. Wait for an answer before sending more.
	CodeTooManyInFlight = "too_many_in_flight"
	// CodeStorageUnavailable: quest.accept, quest.abandon or world.event
	// changed a quest log that the server could not write and sync to
	// disk (a full disk, a read-only data directory); that change was not
	// made and is not acknowledged. Retry later; talk keeps working.
	CodeStorageUnavailable = "storage_unavailable"
	// CodeQuotaExceeded: a talk or bark from a player who has used up the
	// day's token or spend quota (docs/security.md, "Limits"); nothing was
	// queued. The quota resets at 00:00 UTC; the message says which cap
	// was reached and when it resets.
	CodeQuotaExceeded = "quota_exceeded"
)

// Close codes of authenticated servers (docs/security.md).
const (
	// CloseKicked (1008, policy violation) closes the connections of a
	// player an administrator kicked (POST /v1/admin/kick). Reconnecting
	// is allowed unless the credential was revoked.
	CloseKicked = 1008
	// CloseCredentialExpired (4001): the JWT the connection was opened
	// with has expired (its exp, plus the server's clock-skew leeway).
	// Reconnect with a fresh token.
	CloseCredentialExpired = 4001
)

// Error is a protocol error: either one this package detected while decoding
// or validating a frame, or one a server sent in an error frame. Test for it
// with errors.As, or compare codes with [CodeOf] or errors.Is against an
// *Error that has only Code set.
type Error struct {
	// Code is one of the Code* constants (a peer may send codes this version
	// does not know; treat those like [CodeInternal]).
	Code string
	// Message is human readable and not meant to be parsed.
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Message == "" {
		return "hearth protocol: " + e.Code
	}
	return "hearth protocol: " + e.Code + ": " + e.Message
}

// Is reports whether target is an *Error with the same code and, when the
// target's Message is not empty, the same message. It makes
// errors.Is(err, &protocol.Error{Code: protocol.CodeOverloaded}) work.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok || t == nil {
		return false
	}
	return t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Payload returns e as the payload of an error frame.
func (e *Error) Payload() ErrorPayload {
	return ErrorPayload{Code: e.Code, Message: e.Message}
}

// CodeOf returns the code of the first *Error in err's chain, or "" when
// there is none.
func CodeOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func newError(code, msg string) *Error { return &Error{Code: code, Message: msg} }

func badFrame(msg string) *Error { return &Error{Code: CodeBadFrame, Message: msg} }

func badRequest(msg string) *Error { return &Error{Code: CodeBadRequest, Message: msg} }

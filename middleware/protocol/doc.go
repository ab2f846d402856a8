// Package protocol defines Hearth's WebSocket wire format: the envelope, the
// message payloads, the error and close codes, the limits, and the two codecs
// (MessagePack in binary frames, JSON in text frames). docs/protocol.md is
// the language-neutral specification, with byte-exact examples that a test
// in this package checks against the encoders.
//
// Every frame is one envelope: a map with the keys v (protocol version), type
// (message type), id (correlation id), tick (the server's tick when sending)
// and payload (a map). A server reads frames like this:
//
//	codec, _ := protocol.CodecFor(conn.Subprotocol())
//	_, data, err := conn.ReadMessage()
//	// ...
//	frame, err := codec.Decode(data)
//	if err != nil {
//		// err is a *protocol.Error; frame.ID is the offending id when known.
//		out, _ := codec.Encode(protocol.Header{ID: frame.ID, Tick: tick}, err)
//		send(out)
//		return
//	}
//	msg, err := frame.Message() // decoded and, for client messages, validated
//	switch m := msg.(type) {
//	case protocol.Talk:
//		// submit m.NPCID, m.Text, m.BudgetMS; reply with the same id:
//		buf = buf[:0]
//		buf, _ = codec.AppendEncode(buf, protocol.Header{ID: frame.ID, Tick: tick},
//			protocol.DialogueDelta{Ticket: t, NPCID: m.NPCID, Seq: 0, Text: "Well met"})
//	}
//
// Decoding is bounded. gorilla/websocket and vmihailenco/msgpack both trust
// length headers, so [MsgpackCodec.Decode] first walks the whole frame with
// an allocation-free validator that rejects any length header larger than
// the bytes left, nesting deeper than [MaxDepth], invalid UTF-8 and trailing
// bytes; only then are the envelope and payload read, into typed structs.
// [JSONCodec.Decode] checks UTF-8 and nesting itself before encoding/json sees
// the frame. Every decoding failure is an [*Error] whose Code is the one to
// send back.
package protocol

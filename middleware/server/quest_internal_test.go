package server

import (
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/middleware/protocol"
)

func TestEncodeLogTrimsToTheFrameLimit(t *testing.T) {
	big := protocol.QuestInfo{ID: "q", Title: "t", Description: strings.Repeat("d", 1200), Dialogue: strings.Repeat("é", 600),
		Objectives: []protocol.QuestObjective{{Action: "kill", Targets: []string{"wolf"}, Count: 3}}}
	for _, codec := range []protocol.Codec{protocol.MsgpackCodec{}, protocol.JSONCodec{}} {
		m := protocol.QuestLog{Total: 100}
		for i := 0; i < protocol.MaxQuestLogEntries; i++ {
			q := big
			q.ID = strings.Repeat("x", i+1)
			m.Entries = append(m.Entries, protocol.QuestLogEntry{Quest: q, State: "active", Progress: []uint32{1}})
		}
		b, err := encodeLog(codec, protocol.Header{ID: 3}, m)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > protocol.MaxFrameBytes || len(b) < protocol.MaxFrameBytes-4000 {
			t.Fatalf("%s: %d bytes, want just under %d", codec.Subprotocol(), len(b), protocol.MaxFrameBytes)
		}
		f, err := codec.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Message()
		if err != nil {
			t.Fatal(err)
		}
		l := got.(protocol.QuestLog)
		if l.Total != 100 || len(l.Entries) >= protocol.MaxQuestLogEntries || len(l.Entries) < 10 || l.Entries[0].Quest.ID != "x" {
			t.Fatalf("%s: total %d, %d entries, first %q: want the first (newest) entries kept", codec.Subprotocol(), l.Total, len(l.Entries), l.Entries[0].Quest.ID)
		}
		t.Logf("%s: %d entries in %d bytes", codec.Subprotocol(), len(l.Entries), len(b))
	}
}

package village

import (
	"errors"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/middleware/protocol"
)

func TestDialogueTalkStreamsAndReveals(t *testing.T) {
	var d Dialogue
	d.OpenWith("hobb", "Hobb", "Come in, pet.")
	if !d.Open || len(d.History) != 1 || !d.Revealing() {
		t.Fatalf("after opening: %+v", d)
	}
	for d.Revealing() {
		d.Reveal(revealPerTick)
	}
	if got := d.Visible(); got[0].Text != "Come in, pet." {
		t.Fatalf("greeting shown as %q", got[0].Text)
	}

	d.Type([]rune("Hi\x08 there\n"))
	if string(d.Input) != "Hi there" {
		t.Fatalf("input %q: control characters must be dropped", string(d.Input))
	}
	d.Backspace()
	d.Type([]rune("e!"))
	cmd, text := d.Submit()
	if cmd != CmdSay || text != "Hi there!" || len(d.Input) != 0 {
		t.Fatalf("submit: %v %q, input %q", cmd, text, string(d.Input))
	}
	d.Said(7, "You", text)
	if !d.Waiting() {
		t.Fatal("not waiting after saying a line")
	}
	// Enter while waiting sends nothing and keeps what is typed.
	d.Type([]rune("more"))
	if cmd, _ := d.Submit(); cmd != CmdNone || string(d.Input) != "more" {
		t.Fatalf("submit while waiting: %v, input %q", cmd, string(d.Input))
	}
	d.Input = d.Input[:0]

	if d.Delta(8, "stray", false) || d.Reply(8, "stray", "") {
		t.Fatal("another request's answer was taken")
	}
	d.Delta(7, "Ah, ", false)
	d.Delta(7, "a visitor", false)
	if d.Streaming() != "Ah, a visitor" {
		t.Fatalf("streaming %q", d.Streaming())
	}
	d.Reveal(3)
	v := d.Visible()
	if last := v[len(v)-1]; !last.NPC || last.Text != "Ah," {
		t.Fatalf("revealed %q, want the first 3 runes of the stream", last.Text)
	}
	if !d.Reply(7, "Ah, a visitor! Sit down.", "template · 0.4 ms") {
		t.Fatal("the reply was not taken")
	}
	if d.Waiting() || !d.Revealing() {
		t.Fatal("after the reply: still waiting, or nothing left to reveal")
	}
	v = d.Visible()
	if last := v[len(v)-1]; last.Text != "Ah," || last.Meta != "" {
		t.Fatalf("the typewriter restarted or showed meta early: %+v", last)
	}
	for d.Revealing() {
		d.Reveal(revealPerTick)
	}
	v = d.Visible()
	if last := v[len(v)-1]; last.Text != "Ah, a visitor! Sit down." || last.Meta == "" {
		t.Fatalf("final line %+v", last)
	}

	// A reset mid-stream discards what streamed.
	d.Said(9, "You", "again")
	d.Delta(9, "wrong", false)
	d.Delta(9, "right", true)
	if d.Streaming() != "right" {
		t.Fatalf("after reset: %q", d.Streaming())
	}
	d.Failed(9, errors.New("overloaded"))
	if d.Waiting() || !strings.Contains(d.History[len(d.History)-1].Text, "overloaded") {
		t.Fatalf("failure not shown: %+v", d.History)
	}
	if len(d.History) > keepLines {
		t.Fatalf("%d lines kept", len(d.History))
	}
}

func TestDialogueCommandsAndOffers(t *testing.T) {
	var d Dialogue
	if cmd, _ := d.Submit(); cmd != CmdNone {
		t.Fatal("a closed dialogue submitted")
	}
	d.OpenWith("hobb", "Hobb", "")
	d.Type([]rune("   "))
	if cmd, _ := d.Submit(); cmd != CmdNone {
		t.Fatal("a blank line was sent")
	}
	d.Input = nil
	d.Type([]rune("/Quest"))
	if cmd, _ := d.Submit(); cmd != CmdQuest {
		t.Fatal("/quest is not a quest request")
	}
	d.AskedQuest(3)
	if !d.Waiting() {
		t.Fatal("not waiting for the quest")
	}
	q := protocol.QuestInfo{ID: "q1", Title: "Rats", Dialogue: "Rats in the cellar, pet."}
	if d.Offered(4, q) || !d.Offered(3, q) || d.Offer == nil || d.Waiting() {
		t.Fatalf("offer: %+v", d)
	}
	d.Type([]rune("x"))
	if cmd, _ := d.Submit(); cmd != CmdNone {
		t.Fatal("a line was sent while an offer waits for Y or N")
	}
	if got := d.Answer(true); got == nil || got.ID != "q1" || d.Offer != nil {
		t.Fatalf("accept: %v", got)
	}
	if d.Answer(true) != nil {
		t.Fatal("an offer was accepted twice")
	}
	d.AskedQuest(5)
	d.Offered(5, q)
	if d.Answer(false) != nil {
		t.Fatal("declining accepted")
	}
	d.Input = []rune("/bye")
	if cmd, _ := d.Submit(); cmd != CmdBye {
		t.Fatal("/bye")
	}
	d.AskedQuest(6)
	if !d.Failed(6, errors.New("no suitable quest")) || d.Waiting() {
		t.Fatal("a failed quest request still waits")
	}
	// Reopening with the same NPC keeps the conversation; another NPC
	// starts afresh.
	n := len(d.History)
	d.OpenWith("hobb", "Hobb", "hello")
	if len(d.History) != n {
		t.Fatal("reopening the same conversation reset it")
	}
	d.OpenWith("marta", "Marta", "")
	if d.NPC != "marta" || len(d.History) != 0 {
		t.Fatalf("%+v", d)
	}
	d.Close()
	if d.Open {
		t.Fatal("still open")
	}
}

func TestQuestLogLines(t *testing.T) {
	name := func(id string) string { return strings.ToUpper(id) }
	q := protocol.QuestInfo{ID: "q1", Title: "Ford Brown", Objectives: []protocol.QuestObjective{
		{Action: "gather", Targets: []string{"ford-brown"}, Count: 6, Location: "inn"},
		{Action: "deliver", Targets: []string{"ford-brown", "hobb"}, Count: 1, Location: "inn"},
		{Action: "goto", Count: 1, Location: "green"},
	}}
	entries := []protocol.QuestLogEntry{
		{Quest: protocol.QuestInfo{ID: "q0", Title: "Old"}, State: protocol.QuestStateCompleted},
		{Quest: q, State: protocol.QuestStateActive, Objective: 1, Progress: []uint32{6, 0, 0}},
	}
	got := QuestLogLines(entries, name)
	want := []LogLine{
		{Text: "Ford Brown", Header: true, State: "active"},
		{Text: "Gather 6 FORD-BROWN at INN (6/6)", Done: true, State: "active"},
		{Text: "Deliver FORD-BROWN to HOBB", Current: true, State: "active"},
		{Text: "Go to GREEN", State: "active"},
		{Text: "Old (completed)", Header: true, State: "completed"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	for _, a := range []string{"explore", "kill", "talk", "escort", "defend", "use", "dance"} {
		if s := ObjectiveText(protocol.QuestObjective{Action: a, Targets: []string{"x"}, Location: "y"}, 0, name); s == "" {
			t.Errorf("%s: empty", a)
		}
	}
}

func TestWrap(t *testing.T) {
	measure := func(s string) float64 { return float64(len(s)) }
	got := Wrap("the quick brown fox jumps\nover", 10, measure)
	want := []string{"the quick", "brown fox", "jumps", "over"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("%q", got)
	}
	if got := Wrap("supercalifragilistic ok", 5, measure); got[0] != "supercalifragilistic" || got[1] != "ok" {
		t.Fatalf("long word: %q", got)
	}
}

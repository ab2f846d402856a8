package village

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/hearth-ai/hearth/middleware/protocol"
)

// Limits of the conversation view.
const (
	maxInputRunes = 200 // a line the player types
	keepLines     = 8   // lines of history the dialogue box keeps
	revealPerTick = 3   // runes of a reply revealed per tick (a typewriter)
)

// Line is one line of a conversation.
type Line struct {
	Speaker string
	Text    string
	NPC     bool   // said by the NPC (else by the player or the game)
	Meta    string // tier and latency, for NPC replies
}

// Dialogue is the conversation state machine: closed, typing, waiting for
// a reply (which streams in), waiting for a quest, and a quest on offer
// that the player accepts or declines. It does no I/O: the game turns its
// results into backend calls.
type Dialogue struct {
	Open         bool
	NPC, NPCName string
	Input        []rune
	History      []Line

	talkTag  uint64 // the line awaiting its reply, 0 when none
	questTag uint64 // the quest request awaiting its offer, 0 when none
	stream   strings.Builder
	// Offer is the quest on offer, waiting for Y or N.
	Offer *protocol.QuestInfo
	// shown is how many runes of the last NPC line are revealed.
	shown int
}

// OpenWith starts a conversation with an NPC, greeting first when it has a
// greeting. An open conversation with another NPC is replaced.
func (d *Dialogue) OpenWith(id, name, greeting string) {
	if d.Open && d.NPC == id {
		return
	}
	*d = Dialogue{Open: true, NPC: id, NPCName: name}
	if greeting != "" {
		d.History = append(d.History, Line{Speaker: name, Text: greeting, NPC: true})
		d.shown = 0
	}
}

// Close ends the conversation. Answers still on their way are dropped when
// they come.
func (d *Dialogue) Close() { *d = Dialogue{} }

// Type appends typed characters, ignoring control characters.
func (d *Dialogue) Type(rs []rune) {
	for _, r := range rs {
		if unicode.IsControl(r) || len(d.Input) >= maxInputRunes {
			continue
		}
		d.Input = append(d.Input, r)
	}
}

// Backspace deletes the last typed character.
func (d *Dialogue) Backspace() {
	if n := len(d.Input); n > 0 {
		d.Input = d.Input[:n-1]
	}
}

// Command is what the player's Enter asks for.
type Command uint8

// Commands from Submit.
const (
	CmdNone  Command = iota
	CmdSay           // say the text to the NPC
	CmdQuest         // ask the NPC for a quest ("/quest")
	CmdBye           // end the conversation ("/bye")
)

// Submit takes the typed line. Nothing happens while a reply or a quest is
// still coming (the input stays), or for an empty line.
func (d *Dialogue) Submit() (Command, string) {
	if !d.Open || d.Waiting() || d.Offer != nil {
		return CmdNone, ""
	}
	text := strings.TrimSpace(string(d.Input))
	if text == "" {
		return CmdNone, ""
	}
	d.Input = d.Input[:0]
	switch strings.ToLower(text) {
	case "/quest":
		return CmdQuest, ""
	case "/bye", "/quit", "/exit":
		return CmdBye, ""
	}
	return CmdSay, text
}

// Said records the player's line, sent with tag.
func (d *Dialogue) Said(tag uint64, player, text string) {
	d.add(Line{Speaker: player, Text: text})
	d.talkTag = tag
	d.stream.Reset()
	d.shown = 0
}

// AskedQuest records a quest request sent with tag.
func (d *Dialogue) AskedQuest(tag uint64) {
	d.questTag = tag
	d.add(Line{Speaker: "", Text: "(you ask " + d.NPCName + " for work)"})
}

// Waiting reports an answer still on its way.
func (d *Dialogue) Waiting() bool { return d.talkTag != 0 || d.questTag != 0 }

// Revealing reports a reply still being revealed.
func (d *Dialogue) Revealing() bool { return d.shown < len([]rune(d.current())) }

// current is the text the typewriter reveals: the reply streaming in, or
// the last line when the NPC said it.
func (d *Dialogue) current() string {
	if d.talkTag != 0 {
		return d.stream.String()
	}
	if n := len(d.History); n > 0 && d.History[n-1].NPC {
		return d.History[n-1].Text
	}
	return ""
}

// Streaming returns the reply streamed so far for the line awaiting its
// answer.
func (d *Dialogue) Streaming() string {
	if d.talkTag == 0 {
		return ""
	}
	return d.stream.String()
}

// Delta adds a streamed piece of the reply to tag; reset discards what
// streamed before. It reports whether tag is this conversation's.
func (d *Dialogue) Delta(tag uint64, text string, reset bool) bool {
	if tag == 0 || tag != d.talkTag {
		return false
	}
	if reset {
		d.stream.Reset()
		d.shown = 0
	}
	d.stream.WriteString(text)
	return true
}

// Reply ends the wait for tag with the reply's final text (authoritative
// over the deltas). It reports whether tag is this conversation's.
func (d *Dialogue) Reply(tag uint64, text, meta string) bool {
	if tag == 0 || tag != d.talkTag {
		return false
	}
	// What streamed is on screen already: reveal from there.
	streamed := d.stream.String()
	shown := d.shown
	d.talkTag = 0
	d.stream.Reset()
	d.add(Line{Speaker: d.NPCName, Text: text, NPC: true, Meta: meta})
	if strings.HasPrefix(text, streamed) {
		// The typewriter carries on from what the deltas showed; a reply
		// that replaced them starts over.
		d.shown = shown
	}
	return true
}

// Failed ends the wait for tag (a line or a quest request) with an error.
func (d *Dialogue) Failed(tag uint64, err error) bool {
	if tag == 0 || (tag != d.talkTag && tag != d.questTag) {
		return false
	}
	if tag == d.talkTag {
		d.talkTag = 0
		d.stream.Reset()
	} else {
		d.questTag = 0
	}
	d.add(Line{Text: fmt.Sprintf("(%s does not answer: %v)", d.NPCName, err)})
	return true
}

// Offered ends the wait for quest tag with q, which then waits for Y or N.
func (d *Dialogue) Offered(tag uint64, q protocol.QuestInfo) bool {
	if tag == 0 || tag != d.questTag {
		return false
	}
	d.questTag = 0
	d.Offer = &q
	d.add(Line{Speaker: d.NPCName, Text: q.Dialogue, NPC: true, Meta: "quest: " + q.Title})
	return true
}

// Answer settles the offer: accepted or declined. It returns the quest
// accepted, or nil.
func (d *Dialogue) Answer(accept bool) *protocol.QuestInfo {
	q := d.Offer
	if q == nil {
		return nil
	}
	d.Offer = nil
	if accept {
		d.add(Line{Text: "(you accept \"" + q.Title + "\")"})
		return q
	}
	d.add(Line{Text: "(you decline)"})
	return nil
}

// Reveal advances the typewriter by n runes.
func (d *Dialogue) Reveal(n int) {
	d.shown = min(d.shown+n, len([]rune(d.current())))
}

// Visible returns the history as it should be shown now: the last NPC
// line cut to what is revealed, then the reply streaming in, if any.
func (d *Dialogue) Visible() []Line {
	out := append([]Line(nil), d.History...)
	if n := len(out); n > 0 && out[n-1].NPC && d.talkTag == 0 {
		r := []rune(out[n-1].Text)
		if d.shown < len(r) {
			out[n-1].Text = string(r[:d.shown])
			out[n-1].Meta = ""
		}
	}
	if s := []rune(d.Streaming()); len(s) > 0 {
		out = append(out, Line{Speaker: d.NPCName, Text: string(s[:min(d.shown, len(s))]), NPC: true})
	}
	return out
}

func (d *Dialogue) add(l Line) {
	if l.NPC {
		d.shown = 0
	}
	d.History = append(d.History, l)
	if over := len(d.History) - keepLines; over > 0 {
		d.History = append(d.History[:0], d.History[over:]...)
	}
}

// LogLine is one line of the quest log panel.
type LogLine struct {
	Text    string
	Header  bool // a quest's title
	Done    bool // an objective completed
	Current bool // the objective being worked on
	State   string
}

// QuestLogLines lays out the quest log: active quests first (most recently
// changed first, as the log comes), then finished ones, each a title and
// its objectives with progress. name turns entity ids into display names.
func QuestLogLines(entries []protocol.QuestLogEntry, name func(id string) string) []LogLine {
	var out []LogLine
	for pass := 0; pass < 2; pass++ {
		for _, e := range entries {
			if (e.State == protocol.QuestStateActive) != (pass == 0) {
				continue
			}
			title := e.Quest.Title
			if e.State != protocol.QuestStateActive {
				title += " (" + e.State + ")"
			}
			out = append(out, LogLine{Text: title, Header: true, State: e.State})
			if e.State != protocol.QuestStateActive {
				continue
			}
			for i, o := range e.Quest.Objectives {
				var p uint32
				if i < len(e.Progress) {
					p = e.Progress[i]
				}
				l := LogLine{Text: ObjectiveText(o, p, name), State: e.State}
				l.Done = uint32(i) < e.Objective
				l.Current = uint32(i) == e.Objective
				out = append(out, l)
			}
		}
	}
	return out
}

// ObjectiveText says an objective in words, with its progress when it
// counts more than one.
func ObjectiveText(o protocol.QuestObjective, progress uint32, name func(string) string) string {
	target := func(i int) string {
		if i < len(o.Targets) {
			return name(o.Targets[i])
		}
		return "?"
	}
	loc := name(o.Location)
	var s string
	switch o.Action {
	case "goto":
		s = "Go to " + loc
	case "explore":
		s = "Explore " + loc
	case "kill":
		s = fmt.Sprintf("Defeat %d %s at %s", max(o.Count, 1), target(0), loc)
	case "gather":
		s = fmt.Sprintf("Gather %d %s at %s", max(o.Count, 1), target(0), loc)
	case "deliver":
		s = "Deliver " + target(0) + " to " + target(1)
	case "talk":
		s = "Talk to " + target(0)
	case "escort":
		s = "Escort " + target(0) + " to " + loc
	case "defend":
		s = "Defend " + loc + " against " + target(0)
	case "use":
		s = "Use " + target(0) + " at " + loc
	default:
		s = o.Action + " " + strings.Join(o.Targets, ", ") + " at " + loc
	}
	if o.Count > 1 {
		s += fmt.Sprintf(" (%d/%d)", min(progress, o.Count), o.Count)
	}
	return s
}

// Wrap breaks text into lines no wider than width by words, by measure;
// a word wider than width gets a line of its own.
func Wrap(text string, width float64, measure func(string) float64) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, w := range strings.Fields(para) {
			try := w
			if line != "" {
				try = line + " " + w
			}
			if line != "" && measure(try) > width {
				out = append(out, line)
				line = w
				continue
			}
			line = try
		}
		out = append(out, line)
	}
	return out
}

package village

import (
	"fmt"
	"io"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/quest"
)

// ReplyStat is one reply as the overlay shows it.
type ReplyStat struct {
	NPC, Tier string
	LatencyMS float64
	OnTime    bool
	Floor     bool
}

// Notice is a message shown for a while at the top of the screen.
type Notice struct {
	Text  string
	Until int // tick
}

// State is the whole game state and its rules. Step advances it one tick
// from an Input; it needs no display, so the rules are tested headless and
// the screen (package main) only reads it.
type State struct {
	Map     *Map
	World   *quest.World
	Backend Backend

	Pos     Vec    // the player, in pixels
	Place   string // place id the player stands in, or ""
	Dlg     Dialogue
	ShowLog bool
	Log     []protocol.QuestLogEntry
	Notices []Notice
	Stats   []ReplyStat // the latest replies, newest last
	Tick    int

	names   map[string]NPCLayout
	titles  map[string]string // quest titles by id, from offers and the log
	player  string
	level   int
	out     io.Writer
	nextTag uint64
	msgs    []Msg

	replies, offers, shots int
}

// Config is what NewState needs besides the map and the backend.
type Config struct {
	Player string
	Level  int
	// Out receives one line per completed reply, quest offer, quest
	// update and screenshot (tab-separated), for tests and tools.
	Out io.Writer
}

// NewState starts a game on map m with its quest world w, talking to be.
func NewState(m *Map, w *quest.World, be Backend, cfg Config) *State {
	s := &State{Map: m, World: w, Backend: be, ShowLog: true, player: cfg.Player, level: max(cfg.Level, 1),
		out: cfg.Out, names: map[string]NPCLayout{}, titles: map[string]string{}}
	if s.out == nil {
		s.out = io.Discard
	}
	for _, n := range m.NPCs {
		s.names[n.ID] = n
	}
	s.Pos = TileCentre(m.Start)
	s.Place = m.PlaceAt(m.Start)
	be.RefreshLog()
	return s
}

// Step applies one tick: the backend's answers, then the input.
func (s *State) Step(in Input) {
	s.Tick++
	s.msgs = s.Backend.Poll(s.msgs[:0])
	for i := range s.msgs {
		s.handle(&s.msgs[i])
	}
	clear(s.msgs)
	if s.Dlg.Open {
		s.stepTalk(in)
	} else {
		s.stepWalk(in)
	}
	if p := s.Map.PlaceAt(TileOf(s.Pos)); p != s.Place {
		s.Place = p
		if p != "" {
			s.notify("Arrived at " + s.Name(p))
			s.Backend.Report(quest.Event{Kind: quest.EventArrive, Location: p})
		}
	}
	s.Dlg.Reveal(revealPerTick)
	if n := len(s.Notices); n > 0 && s.Notices[0].Until < s.Tick {
		s.Notices = s.Notices[1:]
	}
}

func (s *State) stepWalk(in Input) {
	dx, dy := in.Dir()
	s.Pos = s.Map.Move(s.Pos, dx, dy)
	near := s.Map.NearestNPC(s.Pos)
	switch {
	case in.Pressed[KeyLog]:
		s.ShowLog = !s.ShowLog
	case in.Pressed[KeyTalk] && near >= 0:
		s.open(near)
	case in.Pressed[KeyQuest] && near >= 0:
		s.open(near)
		s.askQuest()
	case in.Pressed[KeyAct]:
		s.act()
	}
}

func (s *State) stepTalk(in Input) {
	// Arrows still move while typing; walking away ends the conversation.
	dx, dy := in.Dir()
	s.Pos = s.Map.Move(s.Pos, dx, dy)
	if i := s.Map.NPCIndex(s.Dlg.NPC); i < 0 || !s.within(i, 2*talkRange) {
		s.Dlg.Close()
		return
	}
	switch {
	case in.Pressed[KeyEscape]:
		s.Dlg.Close()
		return
	case s.Dlg.Offer != nil:
		// Y and N answer the offer; nothing is typed meanwhile.
		if in.Pressed[KeyAccept] || in.Pressed[KeyDecline] {
			if q := s.Dlg.Answer(in.Pressed[KeyAccept]); q != nil {
				s.Backend.AcceptQuest(*q, s.level)
			}
		}
		return
	}
	s.Dlg.Type(in.Chars)
	if in.Pressed[KeyBackspace] {
		s.Dlg.Backspace()
	}
	if !in.Pressed[KeyEnter] {
		return
	}
	switch cmd, text := s.Dlg.Submit(); cmd {
	case CmdSay:
		tag := s.newTag()
		s.Dlg.Said(tag, "You", text)
		if err := s.Backend.Talk(s.Dlg.NPC, text, tag); err != nil {
			s.Dlg.Failed(tag, err)
			return
		}
		s.Backend.Report(quest.Event{Kind: quest.EventTalk, Target: s.Dlg.NPC, Location: s.names[s.Dlg.NPC].Home})
	case CmdQuest:
		s.askQuest()
	case CmdBye:
		s.Dlg.Close()
	}
}

// within reports whether NPC i is within r pixels of the player.
func (s *State) within(i int, r float64) bool {
	c := TileCentre(s.Map.NPCs[i].Tile)
	dx, dy := c.X-s.Pos.X, c.Y-s.Pos.Y
	return dx*dx+dy*dy <= r*r
}

func (s *State) open(i int) {
	n := s.Map.NPCs[i]
	s.Dlg.OpenWith(n.ID, n.Name, n.Greeting)
}

func (s *State) newTag() uint64 {
	s.nextTag++
	return s.nextTag
}

// askQuest asks the NPC in conversation for a quest, grounded where the
// player stands (or at the NPC's home when between places).
func (s *State) askQuest() {
	if s.Dlg.Waiting() || s.Dlg.Offer != nil {
		return
	}
	loc := s.Place
	if loc == "" {
		loc = s.names[s.Dlg.NPC].Home
	}
	tag := s.newTag()
	s.Dlg.AskedQuest(tag)
	if err := s.Backend.RequestQuest(s.Dlg.NPC, loc, s.level, tag); err != nil {
		s.Dlg.Failed(tag, err)
	}
}

// act acts out the current objective of each active quest that happens
// here and is not fulfilled by walking or talking (fight, gather, deliver,
// use): the demo has no combat or inventory, so F stands for doing it.
func (s *State) act() {
	did := false
	for _, e := range s.Log {
		if e.State != protocol.QuestStateActive || int(e.Objective) >= len(e.Quest.Objectives) {
			continue
		}
		o := objective(e.Quest.Objectives[e.Objective])
		if o.Location != "" && o.Location != s.Place {
			continue
		}
		switch o.Action {
		case quest.GoTo, quest.Explore, quest.TalkTo:
			continue // reported by arriving and talking
		}
		ev := s.World.EventFor(s.player, o)
		if ev.Kind == "" {
			continue
		}
		if ev.Location == "" {
			ev.Location = s.Place
		}
		s.Backend.Report(ev)
		s.notify(ObjectiveText(e.Quest.Objectives[e.Objective], uint32(max(o.Count, 1)), s.Name) + ": done")
		did = true
	}
	if !did {
		s.notify("Nothing to do here")
	}
}

func (s *State) notify(text string) {
	s.Notices = append(s.Notices, Notice{Text: text, Until: s.Tick + 180})
	if len(s.Notices) > 4 {
		s.Notices = s.Notices[1:]
	}
}

// Name is an entity's display name, its id when the world does not know
// it.
func (s *State) Name(id string) string {
	if n := s.World.DisplayName(id); n != "" {
		return n
	}
	return id
}

// NPC returns the layout of NPC id.
func (s *State) NPC(id string) (NPCLayout, bool) {
	n, ok := s.names[id]
	return n, ok
}

// handle applies one backend message.
func (s *State) handle(m *Msg) {
	switch m.Kind {
	case MsgDelta:
		s.Dlg.Delta(m.Tag, m.Text, m.Reset)
	case MsgReply:
		meta := fmt.Sprintf("%s · %.2f ms", m.Tier, m.LatencyMS)
		if s.Dlg.Reply(m.Tag, m.Text, meta) {
			s.replies++
		}
		s.stat(ReplyStat{NPC: m.NPC, Tier: m.Tier, LatencyMS: m.LatencyMS, OnTime: m.OnTime, Floor: m.Floor})
		fmt.Fprintf(s.out, "reply\t%s\t%s\t%.3f ms\t%s\n", m.NPC, m.Tier, m.LatencyMS, m.Text)
	case MsgError:
		if !s.Dlg.Failed(m.Tag, m.Err) {
			s.notify("error: " + m.Err.Error())
		}
		fmt.Fprintf(s.out, "error\t%s\t%v\n", m.NPC, m.Err)
	case MsgOffer:
		s.titles[m.Quest.ID] = m.Quest.Title
		if s.Dlg.Offered(m.Tag, m.Quest) {
			s.offers++
		}
		s.stat(ReplyStat{NPC: m.NPC, Tier: "quest/" + m.Tier, LatencyMS: m.LatencyMS, OnTime: m.OnTime, Floor: m.Floor})
		fmt.Fprintf(s.out, "quest\t%s\t%s\t%.3f ms\t%s\n", m.NPC, m.Quest.ID, m.LatencyMS, m.Quest.Title)
	case MsgLog:
		s.Log = m.Log
		for _, e := range m.Log {
			s.titles[e.Quest.ID] = e.Quest.Title
		}
	case MsgUpdates:
		for _, u := range m.Updates {
			s.notify(updateText(u, s.titles))
			fmt.Fprintf(s.out, "update\t%s\t%s\t%d/%d\n", u.QuestID, u.Kind, u.Progress, u.Count)
		}
	case MsgNotice:
		s.notify(m.Text)
	}
}

func (s *State) stat(r ReplyStat) {
	s.Stats = append(s.Stats, r)
	if len(s.Stats) > 5 {
		s.Stats = s.Stats[1:]
	}
}

// updateText says a quest update in words.
func updateText(u protocol.QuestUpdate, titles map[string]string) string {
	title := titles[u.QuestID]
	if title == "" {
		title = u.QuestID
	}
	switch u.Kind {
	case protocol.QuestUpdateAccepted:
		return "Quest accepted: " + title
	case protocol.QuestUpdateProgress:
		return fmt.Sprintf("%s: %d/%d", title, u.Progress, u.Count)
	case protocol.QuestUpdateObjective:
		return title + ": objective complete"
	case protocol.QuestUpdateCompleted:
		if u.Reward != nil {
			return fmt.Sprintf("Quest complete: %s (+%d XP, %d gp)", title, u.Reward.XP, u.Reward.Gold)
		}
		return "Quest complete: " + title
	}
	text := title + ": " + u.Kind
	if u.Reason != "" {
		text += " (" + u.Reason + ")"
	}
	return text
}

// ShotTaken records a screenshot written to path.
func (s *State) ShotTaken(name, path string) {
	s.shots++
	fmt.Fprintf(s.out, "shot\t%s\t%s\n", name, path)
}

// The ScriptView methods.

// Replies counts completed replies in conversations.
func (s *State) Replies() int { return s.replies }

// Offers counts quest offers.
func (s *State) Offers() int { return s.offers }

// Shots counts screenshots taken.
func (s *State) Shots() int { return s.shots }

// Busy reports an answer on its way or still being revealed.
func (s *State) Busy() bool { return s.Dlg.Waiting() || s.Dlg.Revealing() }

// PlayerPos is the player's position in pixels.
func (s *State) PlayerPos() Vec { return s.Pos }

// PathTo plans a walk from the player to an NPC.
func (s *State) PathTo(npcID string) ([]Point, error) {
	i := s.Map.NPCIndex(npcID)
	if i < 0 {
		return nil, fmt.Errorf("unknown NPC %q", npcID)
	}
	p := s.Map.Path(TileOf(s.Pos), s.Map.NPCs[i].Tile)
	if p == nil {
		return nil, fmt.Errorf("no path to %s", npcID)
	}
	return p, nil
}

// InRange reports whether the NPC is the one E would talk to.
func (s *State) InRange(npcID string) bool {
	i := s.Map.NearestNPC(s.Pos)
	return i >= 0 && s.Map.NPCs[i].ID == npcID
}

// Meter records how long each tick's work took, after a warm-up, and the
// ticks per second achieved.
type Meter struct {
	Warmup int // ticks not measured
	hist   *hdrhistogram.Histogram
	n      int
	first  time.Time // start of the first measured tick
	last   time.Time // end of the last measured tick
}

// UpdateStats summarises a Meter.
type UpdateStats struct {
	Ticks         int64
	P50, P99, Max time.Duration
	TPS           float64 // achieved ticks per second
}

// Record adds one tick that ran from start to end.
func (m *Meter) Record(start, end time.Time) {
	m.n++
	if m.n <= m.Warmup {
		return
	}
	if m.hist == nil {
		// 1 ns to 10 s at 3 significant digits.
		m.hist = hdrhistogram.New(1, int64(10*time.Second), 3)
		m.first = start
	}
	m.last = end
	_ = m.hist.RecordValue(int64(end.Sub(start)))
}

// Stats returns the percentiles of the measured ticks and the rate at which
// they came.
func (m *Meter) Stats() UpdateStats {
	if m.hist == nil {
		return UpdateStats{}
	}
	s := UpdateStats{Ticks: m.hist.TotalCount(),
		P50: time.Duration(m.hist.ValueAtQuantile(50)), P99: time.Duration(m.hist.ValueAtQuantile(99)),
		Max: time.Duration(m.hist.Max())}
	if el := m.last.Sub(m.first); el > 0 {
		s.TPS = float64(s.Ticks) / el.Seconds()
	}
	return s
}

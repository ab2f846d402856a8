package village

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Key is a game action key. The keyboard and scripts both produce Input in
// these terms, so a script drives exactly the code the keyboard drives.
type Key uint8

// The game's keys.
const (
	KeyUp Key = iota
	KeyDown
	KeyLeft
	KeyRight
	KeyTalk      // E: open a conversation with the NPC in range
	KeyQuest     // Q: ask the NPC in range (or in conversation) for a quest
	KeyLog       // L: show or hide the quest log
	KeyEnter     // send the typed line
	KeyBackspace // delete the last typed character
	KeyEscape    // close the conversation
	KeyAccept    // Y: accept the quest on offer
	KeyDecline   // N: decline it
	KeyAct       // F: act out the current objective here (fight, gather, deliver, use)
	numKeys
)

// Input is one tick's input.
type Input struct {
	Held    [numKeys]bool // down during this tick
	Pressed [numKeys]bool // went down this tick
	Chars   []rune        // typed this tick
}

// Dir returns the movement direction the held keys ask for.
func (in *Input) Dir() (dx, dy int) {
	if in.Held[KeyLeft] {
		dx--
	}
	if in.Held[KeyRight] {
		dx++
	}
	if in.Held[KeyUp] {
		dy--
	}
	if in.Held[KeyDown] {
		dy++
	}
	return dx, dy
}

// StepKind is what a script step does.
type StepKind uint8

// Script steps.
const (
	StepHold      StepKind = iota // hold Key for N ticks
	StepPress                     // press Key for one tick
	StepType                      // type Text, a few characters a tick
	StepWait                      // do nothing for N ticks
	StepWaitReply                 // wait (at most N ticks) until the reply to the last line sent is complete
	StepWaitQuest                 // wait (at most N ticks) until the quest asked for is offered
	StepWalkTo                    // walk (at most N ticks) until the NPC Text is in talking range
	StepShot                      // take a screenshot named Text
)

// Step is one step of an input script.
type Step struct {
	Kind StepKind
	Key  Key
	N    int
	Text string
	Line int // 1-based step number, for errors
}

// Default timeouts, in ticks (60 a second).
const (
	defaultWaitTicks = 60 * 20
	defaultWalkTicks = 60 * 60
	typeRunesPerTick = 4
)

var holdKeys = map[string]Key{
	"up": KeyUp, "down": KeyDown, "left": KeyLeft, "right": KeyRight,
	"w": KeyUp, "s": KeyDown, "a": KeyLeft, "d": KeyRight,
}

var pressKeys = map[string]Key{
	"e": KeyTalk, "talk": KeyTalk, "q": KeyQuest, "quest": KeyQuest, "l": KeyLog, "log": KeyLog,
	"enter": KeyEnter, "backspace": KeyBackspace, "esc": KeyEscape, "escape": KeyEscape,
	"y": KeyAccept, "accept": KeyAccept, "n": KeyDecline, "decline": KeyDecline, "f": KeyAct, "act": KeyAct,
	"up": KeyUp, "down": KeyDown, "left": KeyLeft, "right": KeyRight,
}

// ScriptHelp documents the script language for -h.
const ScriptHelp = `steps separated by newlines or ';' ('#' starts a comment):
  hold KEY N      hold up/down/left/right (or w/a/s/d) for N ticks
  press KEY       press e, q, l, enter, backspace, esc, y, n or f for one tick
  type TEXT       type TEXT (the rest of the step)
  wait N          do nothing for N ticks
  waitreply [N]   wait until the reply to the last line sent is shown (default 1200 ticks)
  waitquest [N]   wait until the quest asked for is offered (default 1200 ticks)
  walkto NPC [N]  walk to the NPC with that id until in talking range (default 3600 ticks)
  shot NAME       save a screenshot NAME.png in -screenshots
The game exits when the script ends; a wait that runs out fails the run.`

// ParseScript parses a script (see ScriptHelp). An argument that names a
// readable file is read from it.
func ParseScript(src string) ([]Step, error) {
	var steps []Step
	n := 0
	for _, line := range strings.Split(src, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		for _, part := range strings.Split(line, ";") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			n++
			st, err := parseStep(part)
			if err != nil {
				return nil, fmt.Errorf("script step %d %q: %w", n, part, err)
			}
			st.Line = n
			steps = append(steps, st)
		}
	}
	return steps, nil
}

// LoadScript returns the script in arg: a file's contents when arg names a
// file, arg itself otherwise.
func LoadScript(arg string) ([]Step, error) {
	if b, err := os.ReadFile(arg); err == nil {
		return ParseScript(string(b))
	}
	return ParseScript(arg)
}

func parseStep(s string) (Step, error) {
	verb, rest, _ := strings.Cut(s, " ")
	rest = strings.TrimSpace(rest)
	args := strings.Fields(rest)
	count := func(i, def int) (int, error) {
		if len(args) <= i {
			if def < 0 {
				return 0, fmt.Errorf("want a number of ticks")
			}
			return def, nil
		}
		v, err := strconv.Atoi(args[i])
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%q is not a number of ticks", args[i])
		}
		return v, nil
	}
	switch strings.ToLower(verb) {
	case "hold":
		if len(args) != 2 {
			return Step{}, fmt.Errorf("want: hold KEY N")
		}
		k, ok := holdKeys[strings.ToLower(args[0])]
		if !ok {
			return Step{}, fmt.Errorf("unknown key %q (up, down, left, right, w, a, s, d)", args[0])
		}
		n, err := count(1, -1)
		return Step{Kind: StepHold, Key: k, N: n}, err
	case "press":
		if len(args) != 1 {
			return Step{}, fmt.Errorf("want: press KEY")
		}
		k, ok := pressKeys[strings.ToLower(args[0])]
		if !ok {
			return Step{}, fmt.Errorf("unknown key %q", args[0])
		}
		return Step{Kind: StepPress, Key: k}, nil
	case "type":
		if rest == "" {
			return Step{}, fmt.Errorf("want: type TEXT")
		}
		return Step{Kind: StepType, Text: rest}, nil
	case "wait":
		if len(args) != 1 {
			return Step{}, fmt.Errorf("want: wait N")
		}
		n, err := count(0, -1)
		return Step{Kind: StepWait, N: n}, err
	case "waitreply", "waitquest":
		if len(args) > 1 {
			return Step{}, fmt.Errorf("want: %s [N]", verb)
		}
		n, err := count(0, defaultWaitTicks)
		kind := StepWaitReply
		if strings.ToLower(verb) == "waitquest" {
			kind = StepWaitQuest
		}
		return Step{Kind: kind, N: n}, err
	case "walkto":
		if len(args) < 1 || len(args) > 2 {
			return Step{}, fmt.Errorf("want: walkto NPC [N]")
		}
		n, err := count(1, defaultWalkTicks)
		return Step{Kind: StepWalkTo, Text: args[0], N: n}, err
	case "shot", "screenshot":
		if len(args) != 1 || strings.ContainsAny(args[0], `/\`) {
			return Step{}, fmt.Errorf("want: shot NAME (no slashes)")
		}
		return Step{Kind: StepShot, Text: args[0]}, nil
	}
	return Step{}, fmt.Errorf("unknown step %q", verb)
}

// ScriptView is what a script needs to see of the game to know when a
// step is over.
type ScriptView interface {
	// Replies counts completed NPC replies (fully shown), Offers quest
	// offers, Shots screenshots written.
	Replies() int
	Offers() int
	Shots() int
	// Busy reports a line or quest request still waiting for its answer.
	Busy() bool
	// PlayerPos is the player's position in pixels.
	PlayerPos() Vec
	// PathTo plans a walk to the NPC; InRange says whether it is reached.
	PathTo(npcID string) ([]Point, error)
	InRange(npcID string) bool
}

// Runner plays a script one tick at a time.
type Runner struct {
	steps []Step
	i     int // current step
	t     int // ticks spent in it
	typed int // runes of a type step already typed

	replies, offers, shots int // counts when the step began, or at the last press
	path                   []Point
	err                    error
}

// NewRunner returns a runner over steps.
func NewRunner(steps []Step) *Runner { return &Runner{steps: steps} }

// Err is why the script failed (a wait ran out, an NPC is unknown), or nil.
func (r *Runner) Err() error { return r.err }

// Done reports that the script has ended, failed or not.
func (r *Runner) Done() bool { return r.err != nil || r.i >= len(r.steps) }

func (r *Runner) fail(st Step, format string, args ...any) {
	r.err = fmt.Errorf("script step %d: "+format, append([]any{st.Line}, args...)...)
}

// Next returns this tick's input and, for a shot step, the screenshot to
// take. Steps that take no time (a finished wait) fall through to the next
// in the same tick, so scripts do not drift by a tick per step.
func (r *Runner) Next(v ScriptView) (in Input, shot string) {
	for !r.Done() {
		st := r.steps[r.i]
		if r.t == 0 {
			r.begin(st, v)
			if r.err != nil {
				return in, ""
			}
		}
		switch st.Kind {
		case StepHold:
			if r.t < st.N {
				in.Held[st.Key] = true
				in.Pressed[st.Key] = r.t == 0
				r.t++
				return in, ""
			}
		case StepPress:
			if r.t == 0 {
				in.Held[st.Key], in.Pressed[st.Key] = true, true
				r.t++
				return in, ""
			}
		case StepType:
			runes := []rune(st.Text)
			if r.typed < len(runes) {
				end := min(len(runes), r.typed+typeRunesPerTick)
				in.Chars = runes[r.typed:end]
				r.typed = end
				r.t++
				return in, ""
			}
		case StepWait:
			if r.t < st.N {
				r.t++
				return in, ""
			}
		case StepWaitReply, StepWaitQuest:
			got := v.Replies() > r.replies
			what := "reply"
			if st.Kind == StepWaitQuest {
				got, what = v.Offers() > r.offers, "quest offer"
			}
			if !got || v.Busy() {
				if r.t >= st.N {
					r.fail(st, "no %s after %d ticks", what, st.N)
					return in, ""
				}
				r.t++
				return in, ""
			}
		case StepWalkTo:
			if !v.InRange(st.Text) {
				if r.t >= st.N {
					r.fail(st, "did not reach %s in %d ticks", st.Text, st.N)
					return in, ""
				}
				r.t++
				r.steer(v.PlayerPos(), &in)
				return in, ""
			}
		case StepShot:
			if v.Shots() <= r.shots {
				if r.t >= 120 {
					r.fail(st, "screenshot %q was not taken (no frame drawn in 2 s)", st.Text)
					return in, ""
				}
				r.t++
				return in, st.Text
			}
		}
		r.i++
		r.t, r.typed = 0, 0
	}
	return in, ""
}

// begin records what a step waits for against. Replies and offers are
// counted from the last press, not from the wait itself, because an answer
// may arrive in the very tick its request was sent.
func (r *Runner) begin(st Step, v ScriptView) {
	switch st.Kind {
	case StepPress:
		r.replies, r.offers = v.Replies(), v.Offers()
	case StepShot:
		r.shots = v.Shots()
	case StepWalkTo:
		p, err := v.PathTo(st.Text)
		if err != nil {
			r.fail(st, "%v", err)
		}
		r.path = p
	}
}

// steer presses the arrow key towards the next tile of the planned path,
// one axis at a time, as a player on a keyboard would.
func (r *Runner) steer(pos Vec, in *Input) {
	for len(r.path) > 0 {
		c := TileCentre(r.path[0])
		dx, dy := c.X-pos.X, c.Y-pos.Y
		const near = playerSpeed / 2
		switch {
		case dx > near:
			in.Held[KeyRight] = true
		case dx < -near:
			in.Held[KeyLeft] = true
		case dy > near:
			in.Held[KeyDown] = true
		case dy < -near:
			in.Held[KeyUp] = true
		default:
			r.path = r.path[1:]
			continue
		}
		return
	}
}

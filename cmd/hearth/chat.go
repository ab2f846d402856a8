package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/middleware"
	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
)

// answer is a reply as the chat loop prints it.
type answer struct {
	text, tier, backend string
	latencyMS           float64
	onTime, floor       bool
	// refinement, when set (-refine and the reply was refining), waits
	// for the better reply: it returns it, or why there is none.
	refinement func(ctx context.Context) (answer, string, error)
}

// talker is a conversation partner: the embedded runtime or a server.
type talker interface {
	npcs() []protocol.NPCInfo
	talk(ctx context.Context, npcID, text string, onDelta func(string)) (answer, error)
	close() error
}

func cmdChat(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var sf stackFlags
	sf.register(fs, ".hearth/data")
	sf.registerModel(fs, "shipped")
	sf.registerRemote(fs)
	serverURL := fs.String("server", "", "talk to a running server, e.g. ws://127.0.0.1:7777/v1/ws (default: embedded)")
	fs.Bool("embedded", false, "run the runtime in this process (the default when -server is empty)")
	npcID := fs.String("npc", "", "NPC to talk to (default: the first listed)")
	player := fs.String("player", "player-1", "your player id (NPCs remember you by it)")
	name := fs.String("name", "", "your name, as NPCs should call you")
	quiet := fs.Bool("quiet", false, "do not stream deltas; print whole replies")
	refine := fs.Bool("refine", false, "answer now, refine later: when a better model (e.g. -remote) cannot make the budget,\n"+
		"print its answer too when it arrives (talk.refine, dialogue.refine)")
	keyEnv := fs.String("key-env", "", "with -server: name of the environment variable holding your API key or JWT,\n"+
		"sent as Authorization: Bearer (a server started with -auth-keys or -jwt-secret-env needs one); never the key itself")
	if err := sf.parse(fs, args); err != nil {
		return err
	}
	var t talker
	var err error
	if *serverURL != "" {
		// -budget, when given, is asked of the server for every line (it
		// may clamp it); otherwise the server's default applies.
		var budgetMS uint32
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "budget" {
				budgetMS = uint32(min(sf.budget.Milliseconds(), math.MaxUint32))
			}
		})
		var header http.Header
		if *keyEnv != "" {
			cred := os.Getenv(*keyEnv)
			if cred == "" {
				return fmt.Errorf("-key-env %s: the environment variable is unset or empty", *keyEnv)
			}
			header = http.Header{"Authorization": {"Bearer " + cred}}
		}
		t, err = dialTalker(ctx, *serverURL, *player, *name, budgetMS, header, *refine)
	} else {
		t, err = embeddedTalker(ctx, &sf, *player, *name, stderr, *refine)
	}
	if err != nil {
		return err
	}
	defer t.close()
	npcs := t.npcs()
	if len(npcs) == 0 {
		return errors.New("the world has no NPCs")
	}
	current := npcs[0]
	if *npcID != "" {
		found := false
		for _, n := range npcs {
			if n.ID == *npcID {
				current, found = n, true
			}
		}
		if !found {
			return fmt.Errorf("-npc %q: unknown; known: %s", *npcID, npcList(npcs))
		}
	}
	fmt.Fprintf(stdout, "Talking to %s (%s). Commands: /npcs, /npc ID, /quit.\n", current.Name, current.Role)
	in := bufio.NewScanner(stdin)
	for {
		fmt.Fprint(stdout, "> ")
		if !in.Scan() {
			fmt.Fprintln(stdout)
			return in.Err()
		}
		line := strings.TrimSpace(in.Text())
		switch {
		case line == "":
			continue
		case line == "/quit" || line == "/exit":
			return nil
		case line == "/npcs":
			for _, n := range npcs {
				fmt.Fprintf(stdout, "  %-20s %s, %s\n", n.ID, n.Name, n.Role)
			}
			continue
		case strings.HasPrefix(line, "/npc "):
			id := strings.TrimSpace(strings.TrimPrefix(line, "/npc "))
			ok := false
			for _, n := range npcs {
				if n.ID == id {
					current, ok = n, true
				}
			}
			if !ok {
				fmt.Fprintf(stdout, "unknown NPC %q; try /npcs\n", id)
				continue
			}
			fmt.Fprintf(stdout, "Talking to %s (%s).\n", current.Name, current.Role)
			continue
		}
		streamed := false
		var got strings.Builder
		onDelta := func(d string) {
			got.WriteString(d)
			if *quiet {
				return
			}
			if !streamed {
				fmt.Fprintf(stdout, "%s: ", current.Name)
				streamed = true
			}
			fmt.Fprint(stdout, d)
		}
		a, err := t.talk(ctx, current.ID, line, onDelta)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			fmt.Fprintf(stdout, "error: %v\n", err)
			continue
		}
		if streamed {
			fmt.Fprintln(stdout)
			if got.String() != a.text {
				// A fallback replaced what streamed; the done text is
				// authoritative.
				fmt.Fprintf(stdout, "%s (revised): %s\n", current.Name, a.text)
			}
		} else {
			fmt.Fprintf(stdout, "%s: %s\n", current.Name, a.text)
		}
		status := "on time"
		if !a.onTime {
			status = "LATE"
		}
		if a.floor {
			status += ", floor"
		}
		fmt.Fprintf(stdout, "  [%s · %.2f ms · %s]\n", a.tier, a.latencyMS, status)
		if a.refinement != nil {
			fmt.Fprintln(stdout, "  [refining…]")
			r, why, err := a.refinement(ctx)
			switch {
			case err != nil:
				if ctx.Err() != nil {
					return nil
				}
				fmt.Fprintf(stdout, "error: %v\n", err)
			case why != "":
				fmt.Fprintf(stdout, "  [no refinement: %s]\n", why)
			default:
				fmt.Fprintf(stdout, "%s (refined): %s\n  [%s · %.2f ms]\n", current.Name, r.text, r.tier, r.latencyMS)
			}
		}
	}
}

func npcList(npcs []protocol.NPCInfo) string {
	ids := make([]string, len(npcs))
	for i, n := range npcs {
		ids[i] = n.ID
	}
	return strings.Join(ids, ", ")
}

// remoteTalker talks to a server through the Go client, asking for
// budgetMS per line (0: the server's default).
type remoteTalker struct {
	c        *client.Client
	budgetMS uint32
	refine   bool
}

func dialTalker(ctx context.Context, url, player, name string, budgetMS uint32, header http.Header, refine bool) (talker, error) {
	c, err := client.Dial(ctx, url, client.Options{PlayerID: player, PlayerName: name, ClientName: "hearth-chat/" + version, Header: header})
	if err != nil {
		return nil, err
	}
	return remoteTalker{c, budgetMS, refine}, nil
}

func (r remoteTalker) npcs() []protocol.NPCInfo { return r.c.Welcome().NPCs }
func (r remoteTalker) close() error             { return r.c.Close() }
func (r remoteTalker) talk(ctx context.Context, npcID, text string, onDelta func(string)) (answer, error) {
	deltas := func(d protocol.DialogueDelta) { onDelta(d.Text) }
	if !r.refine {
		reply, err := r.c.Talk(ctx, npcID, text, r.budgetMS, deltas)
		if err != nil {
			return answer{}, err
		}
		return answer{text: reply.Text, tier: reply.Tier, backend: reply.Backend, latencyMS: reply.LatencyMS,
			onTime: reply.OnTime, floor: reply.Floor}, nil
	}
	// The refinement outlives this call under the same context: the chat's.
	reply, refined, err := r.c.TalkRefine(ctx, npcID, text, r.budgetMS, deltas)
	if err != nil {
		return answer{}, err
	}
	a := answer{text: reply.Text, tier: reply.Tier, backend: reply.Backend, latencyMS: reply.LatencyMS,
		onTime: reply.OnTime, floor: reply.Floor}
	if reply.Refining {
		a.refinement = func(ctx context.Context) (answer, string, error) {
			select {
			case m, ok := <-refined:
				if !ok {
					return answer{}, "", errors.New("the connection ended before the refinement")
				}
				return answer{text: m.Text, tier: m.Tier, backend: m.Backend, latencyMS: m.LatencyMS}, m.Reason, nil
			case <-ctx.Done():
				return answer{}, "", ctx.Err()
			}
		}
	}
	return a, nil
}

// localTalker hosts the runtime in-process and ticks it like a game loop.
type localTalker struct {
	st           *middleware.Stack
	player, name string
	tickEvery    time.Duration
	refine       bool
}

func embeddedTalker(ctx context.Context, sf *stackFlags, player, name string, stderr io.Writer, refine bool) (talker, error) {
	sf.quiet() // keep the terminal for the command's own output
	st, _, err := sf.open(ctx, stderr)
	if err != nil {
		return nil, err
	}
	return &localTalker{st: st, player: player, name: name, refine: refine,
		tickEvery: time.Duration(float64(time.Second) / st.Runtime.Options().TickRate)}, nil
}

func (l *localTalker) npcs() []protocol.NPCInfo {
	var out []protocol.NPCInfo
	for _, d := range l.st.Roster.Definitions() {
		out = append(out, protocol.NPCInfo{ID: d.ID, Name: d.Name, Role: d.Role})
	}
	return out
}

func (l *localTalker) close() error { return l.st.Close() }

func (l *localTalker) talk(ctx context.Context, npcID, text string, onDelta func(string)) (answer, error) {
	ticket, err := l.st.Runtime.Submit(middleware.Talk{NPCID: npcID, PlayerID: l.player, PlayerName: l.name, Text: text, Refine: l.refine})
	if err != nil {
		return answer{}, err
	}
	var a answer
	var failed error
	var refinedEv *middleware.Event // an EventRefine that came in the reply's tick
	err = l.tickUntil(ctx, func(ev middleware.Event) bool {
		switch ev.Kind {
		case middleware.EventDelta:
			onDelta(ev.Text)
		case middleware.EventError:
			failed = ev.Err
			return true
		case middleware.EventRefine:
			refinedEv = &ev
		case middleware.EventReply:
			a = answer{text: ev.Text, tier: string(ev.Tier), backend: ev.Backend,
				latencyMS: float64(ev.Latency) / 1e6, onTime: ev.OnTime, floor: ev.Floor}
			if ev.Refining {
				a.refinement = func(ctx context.Context) (answer, string, error) { return l.refinement(ctx, ticket, refinedEv) }
			}
			return true
		}
		return false
	}, ticket)
	if err == nil {
		err = failed
	}
	return a, err
}

// refinement ticks until ticket's EventRefine (early: already seen).
func (l *localTalker) refinement(ctx context.Context, ticket middleware.Ticket, early *middleware.Event) (answer, string, error) {
	var got middleware.Event
	if early != nil {
		got = *early
	} else if err := l.tickUntil(ctx, func(ev middleware.Event) bool {
		if ev.Kind == middleware.EventRefine {
			got = ev
			return true
		}
		return false
	}, ticket); err != nil {
		return answer{}, "", err
	}
	if got.Err != nil {
		return answer{}, got.Err.Error(), nil
	}
	return answer{text: got.Text, tier: string(got.Tier), backend: got.Backend, latencyMS: float64(got.Latency) / 1e6}, "", nil
}

// tickUntil ticks the runtime like a game loop, handing ticket's events to
// fn until it returns true: the game loop's side of the contract, Tick
// hands over whatever is ready and nothing here waits on a model.
func (l *localTalker) tickUntil(ctx context.Context, fn func(middleware.Event) bool, ticket middleware.Ticket) error {
	tick := time.NewTicker(l.tickEvery)
	defer tick.Stop()
	for {
		done := false
		for _, ev := range l.st.Runtime.Tick() {
			if ev.Ticket == ticket && fn(ev) {
				done = true // the rest of this tick's events still reach fn
			}
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

package npc

import (
	"context"
	"math"
	"strings"
	"sync"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/npc/guard"
)

// Guardrails configure the checks Agent.Respond runs around the model
// (package guard). The zero value turns them all on: default input limits
// (guard.DefaultMaxBytes, guard.DefaultMaxRunes), a teen rating with the
// built-in topic and profanity lists, the NPC's secrets, and a lore-leak
// check built from Deps.Lore.
type Guardrails struct {
	// Off turns every check off.
	Off bool
	// Limits bound the player's line; zero fields take the defaults.
	Limits guard.Limits
	// Policy configures the output filters (rating, topics, profanity).
	Policy guard.Policy
	// LoreLeak, when set, replaces the built-in lore-leak check: it
	// returns a blocking verdict (guard.ReasonLoreLeak) when reply states
	// lore outside def's knowledge scope. It must be safe for concurrent
	// use and fast (it runs once per reply, on the request's goroutine).
	LoreLeak func(def Definition, reply string) guard.Verdict
}

// leakSearchK is how many chunks the built-in lore-leak check compares a
// reply with: the reply is the query, so a chunk it copies ranks first.
const leakSearchK = 6

// everything is the filter that sees every chunk of every source, at any
// secrecy level a world may define (a chunk the leak check cannot see is
// one it cannot catch).
var everything = lore.Filter{MaxSecrecy: math.MaxInt}

// agentGuard is an agent's compiled guardrails.
type agentGuard struct {
	off     bool
	limits  guard.Limits
	filter  *guard.Filter
	secrets *guard.Secrets
	// gossipSecrets is what gossip refuses to tell when the reply
	// guardrails are off (secrets is nil then): the secrets alone.
	gossipSecrets *guard.Secrets
}

func newAgentGuard(d Definition, g Guardrails, f *guard.Filter) *agentGuard {
	if g.Off {
		return &agentGuard{off: true, gossipSecrets: guard.NewSecrets(d.Secrets)}
	}
	public := []string{d.Name, d.Role, strings.Join(d.Traits, ", "), d.SpeechStyle, d.Faction, d.Home, d.Greeting}
	public = append(public, d.Goals...)
	return &agentGuard{limits: g.Limits, filter: f, secrets: guard.NewSecrets(d.Secrets, public...)}
}

// checkInput runs the input checks on a player's line; barks have none.
func (a *Agent) checkInput(t Turn) guard.Verdict {
	if a.guard.off || t.Trigger != "" {
		return guard.Verdict{}
	}
	return guard.CheckInput(t.Text, a.guard.limits)
}

// checkOutput runs the output filters on a reply, the lore-leak check
// last (it searches the lore) and only when the others pass.
func (a *Agent) checkOutput(text string) guard.Verdict {
	return a.checkReply(text, true)
}

func (a *Agent) checkReply(text string, withLore bool) guard.Verdict {
	if a.guard.off || text == "" {
		return guard.Verdict{}
	}
	t := guard.Normalize(text)
	if v := guard.CheckReply(t, a.guard.filter, a.guard.secrets, nil); v.Blocked() || !withLore {
		return v
	}
	if f := a.deps.Guard.LoreLeak; f != nil {
		return f(a.def, text)
	}
	return a.loreLeak(t, text)
}

// loreLeak is the built-in lore-leak check. It searches (BM25, no I/O)
// the whole library with the reply as the query: a chunk the reply copies
// ranks near the top. Chunks outside the NPC's filter (lore.Filter.Allows)
// are out of scope; the NPC's own best matches
// (a second search under its filter) are allowed, so lore that the NPC
// knows in another chunk is no leak. See guard.LoreIndex for the test.
func (a *Agent) loreLeak(t guard.Text, text string) guard.Verdict {
	if a.deps.Lore == nil {
		return guard.Verdict{}
	}
	bm25 := lore.SearchOptions{Mode: lore.SearchBM25}
	var out []string
	for _, h := range a.deps.Lore.SearchWith(text, leakSearchK, everything, bm25) {
		if !a.filter.Allows(&h.Chunk) {
			out = append(out, h.Chunk.Text)
		}
	}
	if len(out) == 0 {
		return guard.Verdict{}
	}
	ix := guard.NewLoreIndex(out, 0)
	for _, h := range a.deps.Lore.SearchWith(text, leakSearchK, a.filter, bm25) {
		ix.Allow(h.Chunk.Text)
	}
	return ix.Check(t)
}

// deflection is the reply to a turn the guard blocked: an in-character
// line (guard.Deflect, seeded by the turn's seed) from the "guard"
// backend at the template tier.
func (a *Agent) deflection(t Turn, v guard.Verdict) Reply {
	text := guard.Deflect(a.persona, v.Reason, t.Seed)
	a.deps.Logger.Info("npc: guard blocked", "npc", a.def.ID, "player", t.PlayerID,
		"reason", string(v.Reason), "detail", v.Detail)
	return Reply{Result: inference.Result{Text: text, Tier: inference.TierTemplate, Backend: "guard",
		Tokens: len(strings.Fields(text))}, Guard: v.Reason}
}

// streamCheckWords is how many complete words a streamed reply gathers
// before they are checked and forwarded (a sentence end forwards
// sooner): the stream runs at most this many words behind the model.
const streamCheckWords = 4

// guardedSink filters a reply while it streams. It forwards complete
// words only, a few at a time (streamCheckWords), holding back the word
// still being written, and checks the text before each forward with the
// cheap output filters (everything but the lore-leak search): once they
// block, nothing more is forwarded, so the words that tripped them never
// reach the player. The lore-leak check runs on the finished reply only:
// words of a leak may have streamed before it blocks, and the reset then
// withdraws them. Respond then sends a reset and the deflection. A reset from the Router (a fallback
// starting over) clears the state and is forwarded.
type guardedSink struct {
	a    *Agent
	next inference.Sink

	mu      sync.Mutex
	text    strings.Builder // everything received since the last reset
	sent    int             // bytes of text forwarded
	blocked bool
}

func (g *guardedSink) push(d inference.Delta) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if d.Reset {
		g.text.Reset()
		g.sent, g.blocked = 0, false
		g.next(inference.Delta{Reset: true})
	}
	g.text.WriteString(d.Text)
	if g.blocked {
		return
	}
	s := g.text.String()
	cut := strings.LastIndexAny(s, " \n\t") + 1 // forward up to the last complete word
	if cut <= g.sent {
		return
	}
	// Check (and forward) every streamCheckWords words, or at the end of
	// a sentence: a check of a 60-word reply costs about 50 µs, too much
	// to repeat on every token.
	pending := s[g.sent:cut]
	end := strings.TrimRight(pending, " \n\t")
	if len(strings.Fields(pending)) < streamCheckWords && !strings.HasSuffix(end, ".") &&
		!strings.HasSuffix(end, "!") && !strings.HasSuffix(end, "?") && !strings.HasSuffix(end, "\n") {
		return
	}
	if g.a.checkReply(s[:cut], false).Blocked() {
		g.blocked = true
		return
	}
	g.next(inference.Delta{Text: s[g.sent:cut]})
	g.sent = cut
}

// finish ends the stream for the final text: the held-back rest when the
// reply passed, or a reset and the replacement when it did not.
func (g *guardedSink) finish(final string, replaced bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.blocked = true // late deltas (there should be none) go nowhere
	if replaced {
		g.next(inference.Delta{Reset: true, Text: final})
		return
	}
	if s := g.text.String(); s == final && g.sent < len(s) {
		g.next(inference.Delta{Text: s[g.sent:]})
		g.sent = len(s)
	} else if s != final {
		g.next(inference.Delta{Reset: true, Text: final})
	}
}

// respondGuarded is Respond with the guardrails on.
func (a *Agent) respondGuarded(ctx context.Context, t Turn, sink inference.Sink) (Reply, error) {
	if v := a.checkInput(t); v.Blocked() {
		r := a.deflection(t, v)
		if sink != nil {
			sink(inference.Delta{Text: r.Text})
		}
		return r, nil
	}
	req, ref, err := a.Prepare(ctx, t)
	if err != nil {
		return Reply{}, err
	}
	a.refineInto(req, ref, t)
	var gs *guardedSink
	var inner inference.Sink
	if sink != nil {
		gs = &guardedSink{a: a, next: sink}
		inner = gs.push
	}
	res, err := a.deps.Router.Generate(ctx, req, inner)
	reply := Reply{Result: res, Prompt: ref}
	if err != nil {
		return reply, err
	}
	if v := a.checkOutput(res.Text); v.Blocked() {
		d := a.deflection(t, v)
		reply.Text, reply.Tokens, reply.Guard = d.Text, d.Tokens, d.Guard
	}
	if gs != nil {
		gs.finish(reply.Text, reply.Guard != "")
	}
	return reply, nil
}

package npc

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/npc/guard"
)

// Gossip (DESIGN §7, issue 6 part 4): what one NPC learns spreads to the
// NPCs it meets.
//
// When two NPCs meet (Meet), each tells the other its most gossip-worthy
// world knowledge: observations and gossip it heard (never dialogue,
// per-player memories, reflections or summaries), ranked by importance ×
// recency (MemoryOptions.DecayPerHour per game hour since the teller
// learnt it), at most GossipOptions.PerMeeting a meeting. A memory is told
// only when
//   - the listener's knowledge scope allows it: the memory's Region, Tags
//     and Secrecy go through the listener's Knowledge.Filter with the lore
//     rules (lore.Filter.Allows; the Sources rule does not apply, a memory
//     coming from no lore source);
//   - it states none of the teller's Definition.Secrets (the guardrails'
//     secret matcher, guard.Secrets);
//   - the listener does not know the event yet (same origin id);
//   - it is fewer than MaxHops tellings from the witness, and the listener
//     would hold it at an importance of at least Floor.
//
// The listener stores "Heard from <teller's name>: <the event>" as a
// KindGossip world memory, one hop further, at the teller's importance ×
// HopDecay × (1 + TrustWeight × the listener's trust in the teller),
// never above the teller's. With the defaults (0.7, 0.3, floor 3, 3 hops)
// an event of importance 9 reaches a stranger's ear at 6.3, then 4.41,
// then 3.09, and goes no further; one of importance 5 is heard once (3.5)
// and not retold (2.45 < 3).

// Defaults of GossipOptions.
const (
	DefaultGossipPerMeeting  = 3
	DefaultGossipHopDecay    = 0.7
	DefaultGossipFloor       = 3.0
	DefaultGossipMaxHops     = 3
	DefaultGossipTrustWeight = 0.3
)

// GossipOptions tune how rumours spread. Zero fields take the defaults.
type GossipOptions struct {
	// PerMeeting is the most memories one NPC tells another in a meeting
	// (default DefaultGossipPerMeeting).
	PerMeeting int
	// HopDecay multiplies a memory's importance (1..10) at each telling
	// (default DefaultGossipHopDecay); in (0, 1].
	HopDecay float64
	// Floor is the least importance (1..10) a listener keeps a rumour at:
	// a telling that would fall below it does not happen (default
	// DefaultGossipFloor).
	Floor float64
	// MaxHops is how many tellings an event travels from its witness at
	// most (default DefaultGossipMaxHops).
	MaxHops int
	// TrustWeight scales the listener's trust in the teller (in [-1, 1])
	// into the importance it gives the rumour: × (1 + TrustWeight·trust),
	// capped at the teller's importance (default DefaultGossipTrustWeight;
	// negative: trust plays no part).
	TrustWeight float64
}

func (o GossipOptions) withDefaults() GossipOptions {
	if o.PerMeeting <= 0 {
		o.PerMeeting = DefaultGossipPerMeeting
	}
	if o.HopDecay <= 0 || o.HopDecay > 1 {
		o.HopDecay = DefaultGossipHopDecay
	}
	if o.Floor <= 0 {
		o.Floor = DefaultGossipFloor
	}
	if o.MaxHops <= 0 {
		o.MaxHops = DefaultGossipMaxHops
	}
	if o.TrustWeight == 0 {
		o.TrustWeight = DefaultGossipTrustWeight
	} else if o.TrustWeight < 0 {
		o.TrustWeight = 0
	}
	return o
}

// Rumour is one memory told at a meeting.
type Rumour struct {
	Teller, Listener string  // NPC ids
	Origin           string  // the event's id (see store.MemoryRecord.Origin)
	Text             string  // as the listener remembers it: "Heard from Hobb Fairweather: …"
	Importance       float64 // the listener's, 1..10
	Hops             int     // tellings from the witness: 1 when heard from it
}

// MeetReport says what was told at a meeting.
type MeetReport struct {
	Told []Rumour // a's to b first, then b's to a; each in the order chosen
}

// ErrGossipTenants is matched (errors.Is) by Meet's error for two agents
// of different tenants: gossip never crosses tenants.
var ErrGossipTenants = errors.New("npc: gossip between tenants")

// Meet makes a and b, two NPCs of one tenant, tell each other what they
// know (see the rules above). Both choose what to tell from what they knew
// before the meeting, so the order does not matter. gameTime (zero: now)
// ranks recency and dates what is heard. It blocks on the store (the
// relationship's first read, the memory writes); hosts call middleware's
// Runtime.Meet, which does not. It returns what was told, and an error for
// a == b, agents of different tenants (ErrGossipTenants), or the store's
// error (the direction that failed has told nothing).
func Meet(a, b *Agent, gameTime time.Time, opts GossipOptions) (MeetReport, error) {
	if a == nil || b == nil {
		return MeetReport{}, errors.New("npc: meet: nil agent")
	}
	if a.def.ID == b.def.ID {
		return MeetReport{}, fmt.Errorf("npc: meet: %q cannot meet itself", a.def.ID)
	}
	if a.deps.Store.TenantName() != b.deps.Store.TenantName() {
		return MeetReport{}, fmt.Errorf("%w: %q of %q and %q of %q", ErrGossipTenants,
			a.def.ID, a.deps.Store.TenantName(), b.def.ID, b.deps.Store.TenantName())
	}
	if gameTime.IsZero() {
		gameTime = time.Now()
	}
	o := opts.withDefaults()
	// Lock both listeners in id order, so that two meetings sharing an
	// NPC never deadlock.
	first, second := a, b
	if second.def.ID < first.def.ID {
		first, second = second, first
	}
	first.memory.gossipMu.Lock()
	defer first.memory.gossipMu.Unlock()
	second.memory.gossipMu.Lock()
	defer second.memory.gossipMu.Unlock()

	ab, err := a.chooseGossip(b, gameTime, o)
	if err != nil {
		return MeetReport{}, err
	}
	ba, err := b.chooseGossip(a, gameTime, o)
	if err != nil {
		return MeetReport{}, err
	}
	var rep MeetReport
	err1 := b.hear(a, ab, gameTime)
	if err1 == nil {
		rep.Told = appendRumours(rep.Told, ab)
	}
	err2 := a.hear(b, ba, gameTime)
	if err2 == nil {
		rep.Told = appendRumours(rep.Told, ba)
	}
	return rep, errors.Join(err1, err2)
}

// Gossip tells listener (an NPC of the same tenant) what a has to tell it,
// one way: Meet is both ways. It returns what was told; errors as Meet's.
func (a *Agent) Gossip(listener *Agent, gameTime time.Time, opts GossipOptions) ([]Rumour, error) {
	if listener == nil {
		return nil, errors.New("npc: gossip: nil listener")
	}
	if a.def.ID == listener.def.ID {
		return nil, fmt.Errorf("npc: gossip: %q cannot tell itself", a.def.ID)
	}
	if a.deps.Store.TenantName() != listener.deps.Store.TenantName() {
		return nil, fmt.Errorf("%w: %q of %q and %q of %q", ErrGossipTenants,
			a.def.ID, a.deps.Store.TenantName(), listener.def.ID, listener.deps.Store.TenantName())
	}
	if gameTime.IsZero() {
		gameTime = time.Now()
	}
	listener.memory.gossipMu.Lock()
	defer listener.memory.gossipMu.Unlock()
	told, err := a.chooseGossip(listener, gameTime, opts.withDefaults())
	if err != nil {
		return nil, err
	}
	if err := listener.hear(a, told, gameTime); err != nil {
		return nil, err
	}
	return appendRumours(nil, told), nil
}

func appendRumours(out []Rumour, told []telling) []Rumour {
	for _, t := range told {
		out = append(out, t.Rumour)
	}
	return out
}

// chooseGossip picks what a tells listener at game time now: up to
// o.PerMeeting of a's world memories that pass the rules, best first. The
// caller holds listener.memory.gossipMu.
func (a *Agent) chooseGossip(listener *Agent, now time.Time, o GossipOptions) ([]telling, error) {
	if err := a.memory.load(); err != nil {
		return nil, err
	}
	known, err := listener.knownEvents()
	if err != nil {
		return nil, err
	}
	a.memory.mu.RLock()
	world := a.memory.buckets[""] // a snapshot: never modified below its length
	a.memory.mu.RUnlock()

	type cand struct {
		rec    *store.MemoryRecord
		score  float64
		origin string // originOf, once: the sort compares it
	}
	lnDecay := math.Log(a.memory.opts.DecayPerHour)
	nowNs := now.UnixNano()
	var cands []cand
	for i := range world {
		r := &world[i].rec
		if (r.Kind != KindObservation && r.Kind != KindGossip) || r.Hops >= o.MaxHops {
			continue
		}
		hours := math.Max(0, float64(nowNs-r.GameTime)/float64(time.Hour))
		cands = append(cands, cand{r, r.Importance * expNeg(lnDecay*hours), originOf(a.def.ID, *r)})
	}
	if len(cands) == 0 {
		return nil, nil
	}
	// Best first; ties to the newer, then to the lower origin, so that
	// the choice is deterministic.
	sort.SliceStable(cands, func(i, j int) bool {
		x, y := cands[i], cands[j]
		if x.score != y.score {
			return x.score > y.score
		}
		if x.rec.GameTime != y.rec.GameTime {
			return x.rec.GameTime > y.rec.GameTime
		}
		return x.origin < y.origin
	})
	rel, err := listener.Relationship(a.def.ID)
	if err != nil {
		return nil, err
	}
	belief := o.HopDecay * (1 + o.TrustWeight*rel.Trust)
	scope := listener.filter
	scope.Sources = nil // a memory comes from no lore source
	var secrets *guard.Secrets
	var told []telling
	for _, c := range cands {
		r, origin := c.rec, c.origin
		if known[origin] {
			continue
		}
		imp := math.Min(r.Importance, r.Importance*belief)
		if imp < o.Floor {
			continue
		}
		if !scope.Allows(&lore.Chunk{Region: r.Region, Tags: r.Tags, Secrecy: r.Secrecy}) {
			continue
		}
		story := storyOf(*r)
		if secrets == nil {
			secrets = a.secretMatcher()
		}
		// Last: the secret check normalises the text, the dearest test.
		if secrets.Check(guard.Normalize(story)).Blocked() {
			continue
		}
		known[origin] = true // two memories of one event: tell the better
		told = append(told, telling{Rumour: Rumour{Teller: a.def.ID, Listener: listener.def.ID, Origin: origin,
			Text: "Heard from " + a.def.Name + ": " + story, Importance: math.Min(10, imp), Hops: r.Hops + 1},
			src: *r})
		if len(told) == o.PerMeeting {
			break
		}
	}
	return told, nil
}

// telling is a Rumour chosen to be told, with the teller's memory of it.
type telling struct {
	Rumour
	src store.MemoryRecord
}

// hear stores what teller told a as world memories, with the scope and
// the story of the teller's memory. The caller holds a.memory.gossipMu.
func (a *Agent) hear(teller *Agent, told []telling, gameTime time.Time) error {
	if len(told) == 0 {
		return nil
	}
	recs := make([]store.MemoryRecord, len(told))
	for i, t := range told {
		recs[i] = store.MemoryRecord{Kind: KindGossip, Text: t.Text, Importance: t.Importance,
			GameTime: gameTime.UnixNano(), Region: t.src.Region, Tags: t.src.Tags, Secrecy: t.src.Secrecy,
			Origin: t.Origin, Story: storyOf(t.src), Teller: teller.def.ID, Hops: t.Hops}
	}
	return a.memory.append("", recs...)
}

// knownEvents returns the origins of the NPC's world memories: the events
// it witnessed or heard of. Per-player memories are not gossip and cannot
// be told, so they are not consulted.
func (a *Agent) knownEvents() (map[string]bool, error) {
	if err := a.memory.load(); err != nil {
		return nil, err
	}
	a.memory.mu.RLock()
	defer a.memory.mu.RUnlock()
	world := a.memory.buckets[""]
	known := make(map[string]bool, len(world))
	for i := range world {
		known[originOf(a.def.ID, world[i].rec)] = true
		for _, o := range world[i].rec.Origins { // what compaction summarised
			known[o] = true
		}
	}
	return known, nil
}

// originOf is the id of the event memory r of NPC npcID is about: its
// Origin when set (an event the host named, or gossip), else one derived
// from what is persisted of the memory (the NPC, the wall time it was
// written and its text), so it survives a restart and an export/import.
func originOf(npcID string, r store.MemoryRecord) string {
	if r.Origin != "" {
		return r.Origin
	}
	h := fnv.New64a()
	h.Write([]byte(r.Text))
	return fmt.Sprintf("%s@%d#%016x", npcID, r.WallTime, h.Sum64())
}

// storyOf is the event a memory tells, without who it was heard from.
func storyOf(r store.MemoryRecord) string {
	if r.Story != "" {
		return r.Story
	}
	return strings.TrimSpace(r.Text)
}

// secretMatcher returns the NPC's secret matcher: the guardrails' when
// they are on, else one built from the secrets alone, since gossip keeps
// secrets even where a studio turned the reply guardrails off.
func (a *Agent) secretMatcher() *guard.Secrets {
	if a.guard.secrets != nil {
		return a.guard.secrets
	}
	return a.guard.gossipSecrets
}

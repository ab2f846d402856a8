package middleware

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/npc"
)

// Gossip (issue 6 part 4): NPCs who meet tell each other what they know,
// within each one's knowledge scope (npc.Meet has the rules). The host
// reports meetings it sees (Meet: two NPCs talked in the street), or lets
// the NPCs that are at one place meet in pairs when the server is idle
// (Gossip), so that a rumour spreads through the village over a few
// rounds.

// maxPlaceBytes bounds a place id given to Locate.
const maxPlaceBytes = 256

// gossiper holds where the host says NPCs are (Locate). One per Runtime,
// made by the first Locate or Gossip.
type gossiper struct {
	mu     sync.Mutex
	places map[string]map[string]string // tenant → NPC id → place id
}

// Meet reports that NPCs npcA and npcB of tenant ("" for the default one)
// met at gameTime (zero: now): each tells the other up to three things it
// knows that the other may know and does not yet (npc.Meet). Like Observe
// it never blocks: it validates and queues the meeting for a background
// writer (which reads relationships and writes memories) and returns; a
// turn sees what was heard once it is written, and Settle waits for that.
// It returns an error for npcA == npcB, *npc.UnknownNPCError,
// *OverloadError (PriorityAmbient) when AmbientQueueSize pieces of
// ambient work are waiting, or ErrClosed. A meeting whose write fails later is logged.
func (rt *Runtime) Meet(tenant, npcA, npcB string, gameTime time.Time) error {
	if npcA == npcB {
		return fmt.Errorf("hearth: meet: %q cannot meet itself", npcA)
	}
	roster := rt.rosterOf(tenant)
	a, err := roster.Get(npcA)
	if err != nil {
		return err
	}
	b, err := roster.Get(npcB)
	if err != nil {
		return err
	}
	if gameTime.IsZero() {
		gameTime = time.Now() // when it was reported, not when it is applied
	}
	return rt.queueAmbient(func() {
		if _, err := npc.Meet(a, b, gameTime, npc.GossipOptions{}); err != nil {
			rt.opts.Logger.Warn("hearth: meeting write failed", "a", npcA, "b", npcB, "tenant", tenant, "err", err)
		}
	})
}

// Locate tells the runtime where NPC npcID of tenant is now: a place id
// of the host's choosing (a building, a square, a region). Gossip makes
// NPCs at one place meet; an NPC never located is at its Definition.Home,
// and place "" sends it back there. It returns *npc.UnknownNPCError, an
// error for a place that is not valid UTF-8 or longer than 256 bytes, or
// ErrClosed.
func (rt *Runtime) Locate(tenant, npcID, place string) error {
	if !utf8.ValidString(place) || len(place) > maxPlaceBytes {
		return fmt.Errorf("hearth: locate: place must be valid UTF-8 of at most %d bytes", maxPlaceBytes)
	}
	if _, err := rt.rosterOf(tenant).Get(npcID); err != nil {
		return err
	}
	rt.submitMu.Lock()
	if rt.closed {
		rt.submitMu.Unlock()
		return ErrClosed
	}
	g := rt.gossiper()
	rt.submitMu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	if place == "" {
		delete(g.places[tenant], npcID)
		return nil
	}
	if g.places[tenant] == nil {
		g.places[tenant] = map[string]string{}
	}
	g.places[tenant][npcID] = place
	return nil
}

// GossipReport says what a round of ambient gossip did.
type GossipReport struct {
	Places   int // places with two NPCs or more
	Meetings int // pairs that met
	Told     int // memories told (each one way)
}

// Gossip is a round of ambient gossip in tenant ("" for the default one):
// the NPCs at each place (Locate, else their Definition.Home; NPCs with
// neither take no part) are shuffled and met in pairs (npc.Meet), the odd
// one out waiting for the next round. The shuffle is seeded by gameTime
// (and the tenant and place), so a round at the same game time on the same
// state makes the same meetings, and rounds at different times pair NPCs
// differently: a rumour reaches the whole place in a few rounds. It is
// ambient work, like Maintain: the host calls it when the server is idle,
// never from a turn, and it blocks on the store. Meetings queued by Meet
// are not waited for (Settle does). It stops at ctx's end and returns
// what it did with the first error; a failed meeting does not stop the
// others.
func (rt *Runtime) Gossip(ctx context.Context, tenant string, gameTime time.Time) (GossipReport, error) {
	var rep GossipReport
	if gameTime.IsZero() {
		gameTime = time.Now()
	}
	roster := rt.rosterOf(tenant)
	var located map[string]string
	if g := rt.gossip.Load(); g != nil {
		g.mu.Lock()
		located = make(map[string]string, len(g.places[tenant]))
		for id, p := range g.places[tenant] {
			located[id] = p
		}
		g.mu.Unlock()
	}
	at := map[string][]string{}
	for _, d := range roster.Definitions() { // sorted by id
		p := d.Home
		if l, ok := located[d.ID]; ok {
			p = l
		}
		if p != "" {
			at[p] = append(at[p], d.ID)
		}
	}
	places := make([]string, 0, len(at))
	for p, ids := range at {
		if len(ids) >= 2 {
			places = append(places, p)
		}
	}
	sort.Strings(places)
	rep.Places = len(places)
	var first error
	for _, p := range places {
		ids := at[p]
		h := fnv.New64a()
		h.Write([]byte(tenant))
		h.Write([]byte{0})
		h.Write([]byte(p))
		rng := rand.New(rand.NewPCG(uint64(gameTime.UnixNano()), h.Sum64()))
		rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
		for i := 0; i+1 < len(ids); i += 2 {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			a, errA := roster.Get(ids[i])
			b, errB := roster.Get(ids[i+1])
			if err := errors.Join(errA, errB); err != nil {
				first = cmpErr(first, err)
				continue
			}
			m, err := npc.Meet(a, b, gameTime, npc.GossipOptions{})
			rep.Meetings++
			rep.Told += len(m.Told)
			if err != nil {
				first = cmpErr(first, err)
			}
		}
	}
	return rep, first
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// gossiper returns rt's gossiper, making it on first use.
func (rt *Runtime) gossiper() *gossiper {
	if g := rt.gossip.Load(); g != nil {
		return g
	}
	rt.gossip.CompareAndSwap(nil, &gossiper{places: map[string]map[string]string{}})
	return rt.gossip.Load()
}

// checkScope validates an observation's knowledge scope (Region, Tags,
// Secrecy, Event).
func checkScope(o Observation) error {
	if o.Secrecy < 0 {
		return fmt.Errorf("hearth: observe: secrecy %d: want 0 or more", o.Secrecy)
	}
	ok := utf8.ValidString(o.Region) && utf8.ValidString(o.Event)
	n := len(o.Region) + len(o.Event)
	for _, t := range o.Tags {
		ok = ok && utf8.ValidString(t)
		n += len(t)
	}
	switch {
	case !ok:
		return errors.New("hearth: observe: region, tags or event are not valid UTF-8")
	case n > MaxTextBytes:
		return fmt.Errorf("hearth: observe: region, tags and event are %d bytes; the limit is %d", n, MaxTextBytes)
	}
	return nil
}

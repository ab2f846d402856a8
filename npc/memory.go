package npc

import (
	"container/list"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/internal/store"
)

// memoryCachePlayers bounds how many players' memory windows one NPC keeps
// in RAM (least recently used are dropped; the store still has them).
// Reading the window from Badger on every turn cost a third of the server's
// CPU under 200 clients, so turns read it from here.
const memoryCachePlayers = 4096

// memory is one cached memory with its terms, for relevance scoring.
type memory struct {
	rec   store.MemoryRecord
	terms []string // distinct lowercased words of rec.Text
}

// window is the recent memory stream of one (NPC, player) pair, oldest
// first, at most recallWindow long. Its slice is replaced, never modified
// in place below its length, so a reader may keep a snapshot after
// unlocking.
type window struct {
	playerID string
	mems     []memory
}

// memoryCache is an NPC's write-through LRU of player windows over the
// store. Safe for concurrent use.
type memoryCache struct {
	npcID string
	st    *store.Store

	mu      sync.Mutex
	lru     *list.List // of *window, most recent at the front
	players map[string]*list.Element
}

func newMemoryCache(npcID string, st *store.Store) *memoryCache {
	return &memoryCache{npcID: npcID, st: st, lru: list.New(), players: map[string]*list.Element{}}
}

// recent returns a snapshot of the player's window, oldest first, loading
// it from the store on a miss.
func (c *memoryCache) recent(playerID string) ([]memory, error) {
	c.mu.Lock()
	if e, ok := c.players[playerID]; ok {
		c.lru.MoveToFront(e)
		mems := e.Value.(*window).mems
		c.mu.Unlock()
		return mems, nil
	}
	c.mu.Unlock()
	recs, err := c.st.RecentMemories(c.npcID, playerID, recallWindow)
	if err != nil {
		return nil, err
	}
	mems := make([]memory, len(recs))
	for i, r := range recs { // newest first from the store
		mems[len(recs)-1-i] = newMemory(r)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.players[playerID]; ok { // loaded meanwhile by another turn
		return e.Value.(*window).mems, nil
	}
	c.players[playerID] = c.lru.PushFront(&window{playerID: playerID, mems: mems})
	for c.lru.Len() > memoryCachePlayers {
		old := c.lru.Back()
		delete(c.players, old.Value.(*window).playerID)
		c.lru.Remove(old)
	}
	return mems, nil
}

// append writes recs to the store and, once they are written, to the
// cached window.
func (c *memoryCache) append(playerID string, recs ...store.MemoryRecord) error {
	if err := c.st.AppendMemories(c.npcID, playerID, recs...); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.players[playerID]
	if !ok {
		return nil // not cached: the next turn loads it, writes included
	}
	w := e.Value.(*window)
	mems := w.mems
	for _, r := range recs {
		mems = append(mems, newMemory(r))
	}
	if len(mems) > recallWindow {
		mems = append([]memory(nil), mems[len(mems)-recallWindow:]...)
	}
	w.mems = mems
	return nil
}

func newMemory(r store.MemoryRecord) memory {
	set := termSet(r.Text)
	terms := make([]string, 0, len(set))
	for t := range set {
		terms = append(terms, t)
	}
	return memory{rec: r, terms: terms}
}

// recall ranks memories by the Generative Agents score: the sum of
// recency (exponential decay in game hours), importance and relevance
// (share of the query's words the memory contains), each min-max
// normalised over the candidates (Park et al. 2023, §4.1). It returns up to
// k, oldest first.
func recall(mems []memory, query map[string]bool, now time.Time, k int) []inference.Memory {
	if len(mems) == 0 {
		return nil
	}
	type scored struct {
		m                        *memory
		recency, imp, rel, total float64
	}
	c := make([]scored, len(mems))
	for i := range mems {
		m := &mems[i]
		hours := math.Max(0, now.Sub(time.Unix(0, m.rec.GameTime)).Hours())
		rel := 0.0
		if len(query) > 0 {
			n := 0
			for _, w := range m.terms {
				if query[w] {
					n++
				}
			}
			rel = float64(n) / float64(len(query))
		}
		c[i] = scored{m: m, recency: math.Pow(recencyDecayPerHour, hours), imp: m.rec.Importance, rel: rel}
	}
	norm := func(get func(*scored) *float64) {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range c {
			v := *get(&c[i])
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		for i := range c {
			if hi > lo {
				*get(&c[i]) = (*get(&c[i]) - lo) / (hi - lo)
			} else {
				*get(&c[i]) = 1
			}
		}
	}
	norm(func(s *scored) *float64 { return &s.recency })
	norm(func(s *scored) *float64 { return &s.imp })
	norm(func(s *scored) *float64 { return &s.rel })
	for i := range c {
		c[i].total = c[i].recency + c[i].imp + c[i].rel
	}
	// Ties go to the newer memory: the window is oldest first.
	sort.SliceStable(c, func(i, j int) bool { return c[i].total > c[j].total })
	if len(c) > k {
		c = c[:k]
	}
	sort.SliceStable(c, func(i, j int) bool { return c[i].m.rec.GameTime < c[j].m.rec.GameTime })
	out := make([]inference.Memory, len(c))
	for i, s := range c {
		out[i] = inference.Memory{Text: s.m.rec.Text, Kind: s.m.rec.Kind, Importance: s.m.rec.Importance,
			GameTime: time.Unix(0, s.m.rec.GameTime)}
	}
	return out
}

// termSet returns the distinct lowercased words of s longer than two
// letters: the relevance vocabulary of recall.
func termSet(s string) map[string]bool {
	out := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len(w) > 2 {
			out[w] = true
		}
	}
	return out
}

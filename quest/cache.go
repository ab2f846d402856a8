package quest

import (
	"container/list"
	"strings"
	"sync"
)

// DefaultCacheSize is the number of quests a Generator keeps when
// GeneratorOptions.CacheSize is 0.
const DefaultCacheSize = 1024

// cacheKey is everything in a Request that changes the quest. PlayerID and
// Budget do not (the budget only matters when it runs out, and such
// quests are not cached).
type cacheKey struct {
	world      string
	level      int
	location   string
	motivation Motivation
	giver      string
	seed       uint64
	after      string
	recent     string // RecentActions joined by "\x00"
}

func keyOf(world string, req Request) cacheKey {
	return cacheKey{world: world, level: req.Level, location: req.Location, motivation: req.Motivation,
		giver: req.Giver, seed: req.Seed, after: req.After, recent: strings.Join(req.RecentActions, "\x00")}
}

// lru is a bounded least-recently-used cache of quests, safe for
// concurrent use. A full cache evicts its least recently used entry.
type lru struct {
	mu    sync.Mutex
	size  int
	order *list.List // front = most recent; values are *cacheEntry
	items map[cacheKey]*list.Element
}

type cacheEntry struct {
	key cacheKey
	q   Quest
}

func newLRU(size int) *lru {
	return &lru{size: size, order: list.New(), items: make(map[cacheKey]*list.Element, size)}
}

// get returns a copy of the cached quest for k.
func (c *lru) get(k cacheKey) (Quest, bool) {
	if c == nil {
		return Quest{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[k]
	if !ok {
		return Quest{}, false
	}
	c.order.MoveToFront(e)
	return cloneQuest(e.Value.(*cacheEntry).q), true
}

func (c *lru) put(k cacheKey, q Quest) {
	if c == nil {
		return
	}
	q = cloneQuest(q)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[k]; ok {
		e.Value.(*cacheEntry).q = q
		c.order.MoveToFront(e)
		return
	}
	c.items[k] = c.order.PushFront(&cacheEntry{key: k, q: q})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*cacheEntry).key)
	}
}

func (c *lru) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

// cloneQuest copies q's slices so a caller cannot change a cached quest.
func cloneQuest(q Quest) Quest {
	q.Objectives = append([]Objective(nil), q.Objectives...)
	for i := range q.Objectives {
		q.Objectives[i].Targets = append([]string(nil), q.Objectives[i].Targets...)
	}
	q.Prerequisites = append([]string(nil), q.Prerequisites...)
	q.Reward.Items = append([]string(nil), q.Reward.Items...)
	return q
}

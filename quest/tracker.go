package quest

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/hearth-ai/hearth/internal/store"
)

// State is where a quest stands in a player's log.
type State string

// Quest states. Active quests advance; the others are final.
const (
	Active    State = "active"
	Completed State = "completed"
	Failed    State = "failed"
	Abandoned State = "abandoned"
)

// EventKind is a kind of world event the host reports to the Tracker.
type EventKind string

// World events. Each advances the objectives whose action it fulfils:
//
//	kill    Target creature killed (kill; defend when at the objective's Location)
//	collect Target item picked up, Count of them (gather)
//	arrive  the player reached Location (goto, explore); with Target set to
//	        an NPC travelling with the player, it completes escort
//	talk    the player talked to Target NPC (talk)
//	deliver the player handed Item to Target NPC (deliver)
//	use     the player used Target item at Location (use)
//	died    Target NPC died: quests given by it, or escorting it, fail
const (
	EventKill    EventKind = "kill"
	EventCollect EventKind = "collect"
	EventArrive  EventKind = "arrive"
	EventTalk    EventKind = "talk"
	EventDeliver EventKind = "deliver"
	EventUse     EventKind = "use"
	EventDied    EventKind = "died"
)

// Event is something that happened in the game world.
type Event struct {
	Kind     EventKind
	PlayerID string // whose action it was; "" for died (it concerns everyone)
	Target   string // entity id: creature, item or NPC
	Item     string // deliver: the item handed over
	Location string // place id where it happened
	Count    int    // how many (kills, items); 0 means 1
	Time     time.Time
}

// Entry is one quest in a player's log.
type Entry struct {
	Quest      Quest
	State      State
	Objective  int   // index of the current objective (objectives are done in order)
	Progress   []int // per objective, up to its Count
	AcceptedAt time.Time
	UpdatedAt  time.Time
	Deadline   time.Time // zero when the quest has no time limit
	Reason     string    // why it failed or was abandoned
}

// UpdateKind says what changed.
type UpdateKind string

// Update kinds.
const (
	UpdateProgress  UpdateKind = "progress"  // an objective advanced
	UpdateObjective UpdateKind = "objective" // an objective was completed; the next begins
	UpdateCompleted UpdateKind = "completed"
	UpdateFailed    UpdateKind = "failed"
	UpdateAbandoned UpdateKind = "abandoned"
)

// Update is what the Tracker reports after an event.
type Update struct {
	PlayerID  string
	QuestID   string
	Kind      UpdateKind
	Objective int // index of the objective concerned
	Progress  int // its progress after the event
	Count     int // its target count
	Reward    Reward
	Reason    string
}

// Tracker errors, matched with errors.Is.
var (
	ErrNotInLog         = errors.New("quest: not in the player's log")
	ErrAlreadyAccepted  = errors.New("quest: already in the player's log")
	ErrPrerequisites    = errors.New("quest: prerequisites not completed")
	ErrNotActive        = errors.New("quest: not active")
	ErrInvalidForPlayer = errors.New("quest: not valid for this player")
)

// Tracker keeps every player's quest log, advances active quests from
// world events and persists each change in the store, synced to disk
// (store.PutQuestLog), before reporting it: what a server acknowledges
// survives a crash. A change the store cannot write is not made, and its
// error wraps store.ErrWriteFailed.
// It is safe for concurrent use.
type Tracker struct {
	world  *World
	st     *store.Store
	tenant string

	mu   sync.Mutex
	logs map[string]map[string]*Entry // player → quest id → entry; loaded lazily

	// tenants holds the trackers of every tenant used so far, shared by
	// all of them (see Tenant).
	tenantsMu *sync.Mutex
	tenants   map[string]*Tracker
}

// NewTracker returns a Tracker for quests of world w, persisted in st:
// the quest logs of st's tenant (store.Store.Tenant; the default tenant
// for the Store that store.Open returns).
func NewTracker(w *World, st *store.Store) *Tracker {
	t := &Tracker{world: w, st: st, tenant: st.TenantName(), logs: map[string]map[string]*Entry{},
		tenantsMu: &sync.Mutex{}, tenants: map[string]*Tracker{}}
	t.tenants[t.tenant] = t
	return t
}

// Tenant returns the tracker of tenant's quest logs (issue 9: tenants'
// quests are isolated): the same world, its own players, persisted under
// the tenant's keys. Every call with the same tenant returns the same
// tracker, so one tenant's locking never waits on another's.
func (t *Tracker) Tenant(tenant string) *Tracker {
	t.tenantsMu.Lock()
	defer t.tenantsMu.Unlock()
	if tt, ok := t.tenants[tenant]; ok {
		return tt
	}
	tt := &Tracker{world: t.world, st: t.st.Tenant(tenant), tenant: tenant, logs: map[string]map[string]*Entry{},
		tenantsMu: t.tenantsMu, tenants: t.tenants}
	t.tenants[tenant] = tt
	return tt
}

// TenantName returns the tenant whose quest logs t keeps ("" for the
// default one).
func (t *Tracker) TenantName() string { return t.tenant }

// Tenants returns the tracker of every tenant used so far, sorted by
// tenant: what a server's expiry loop walks.
func (t *Tracker) Tenants() []*Tracker {
	t.tenantsMu.Lock()
	defer t.tenantsMu.Unlock()
	out := make([]*Tracker, 0, len(t.tenants))
	for _, tt := range t.tenants {
		out = append(out, tt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].tenant < out[j].tenant })
	return out
}

// log returns the player's log, loading it from the store once. Call with
// t.mu held.
func (t *Tracker) log(playerID string) (map[string]*Entry, error) {
	if l, ok := t.logs[playerID]; ok {
		return l, nil
	}
	l, err := t.stored(playerID)
	if err != nil {
		return nil, err
	}
	for _, e := range l {
		slim(e)
	}
	t.logs[playerID] = l
	return l, nil
}

// stored reads the player's whole log from the store.
func (t *Tracker) stored(playerID string) (map[string]*Entry, error) {
	recs, err := t.st.QuestLog(playerID)
	if err != nil {
		return nil, err
	}
	l := make(map[string]*Entry, len(recs))
	for _, r := range recs {
		var q Quest
		if err := msgpack.Unmarshal(r.Quest, &q); err != nil {
			return nil, fmt.Errorf("quest: log of %s: decode %s: %w", playerID, r.QuestID, err)
		}
		l[r.QuestID] = &Entry{Quest: q, State: State(r.State), Objective: r.Objective, Progress: r.Progress,
			AcceptedAt: unixTime(r.AcceptedAt), UpdatedAt: unixTime(r.UpdatedAt), Deadline: unixTime(r.Deadline), Reason: r.Reason}
	}
	return l, nil
}

// slim drops what a finished entry no longer needs in RAM: its quest's
// text, objectives and rewards (kilobytes; a long session finishes
// thousands of quests) are read back from the store by Log. Only the id
// and the state stay, which is all prerequisites and "already accepted"
// checks read. Active entries are left whole.
func slim(e *Entry) {
	if e.State != Active {
		e.Quest = Quest{ID: e.Quest.ID}
		e.Progress = nil
	}
}

func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// save persists e. Call with t.mu held; on error the caller must not
// report the change.
func (t *Tracker) save(playerID string, e *Entry) error {
	q, err := msgpack.Marshal(&e.Quest)
	if err != nil {
		return fmt.Errorf("quest: encode %s: %w", e.Quest.ID, err)
	}
	return t.st.PutQuestLog(playerID, store.QuestLogRecord{QuestID: e.Quest.ID, State: string(e.State),
		Objective: e.Objective, Progress: e.Progress, AcceptedAt: unixNano(e.AcceptedAt),
		UpdatedAt: unixNano(e.UpdatedAt), Deadline: unixNano(e.Deadline), Reason: e.Reason, Quest: q})
}

// Accept puts q in the player's log as active, at game time now. It fails
// with ErrAlreadyAccepted, with ErrPrerequisites (naming the missing
// quests) when a chain's earlier quest is not completed, with
// ErrInvalidForPlayer (wrapping the validator's problems) when q is not
// valid for this world and level, or with the store's error.
func (t *Tracker) Accept(playerID string, level int, q Quest, now time.Time) (Entry, error) {
	if probs := Validate(t.world, q, level); len(probs) > 0 {
		return Entry{}, fmt.Errorf("%w: %v", ErrInvalidForPlayer, probs)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	l, err := t.log(playerID)
	if err != nil {
		return Entry{}, err
	}
	if _, ok := l[q.ID]; ok {
		return Entry{}, fmt.Errorf("%w: %s", ErrAlreadyAccepted, q.ID)
	}
	var missing []string
	for _, p := range q.Prerequisites {
		if e, ok := l[p]; !ok || e.State != Completed {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return Entry{}, fmt.Errorf("%w: complete %v first", ErrPrerequisites, missing)
	}
	e := &Entry{Quest: q, State: Active, Progress: make([]int, len(q.Objectives)), AcceptedAt: now, UpdatedAt: now}
	if q.TimeLimit > 0 {
		e.Deadline = now.Add(q.TimeLimit)
	}
	if err := t.save(playerID, e); err != nil {
		return Entry{}, err
	}
	l[q.ID] = e
	return *e, nil
}

// Abandon ends an active quest at the player's request.
func (t *Tracker) Abandon(playerID, questID string, now time.Time) (Update, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, err := t.log(playerID)
	if err != nil {
		return Update{}, err
	}
	e, ok := l[questID]
	if !ok {
		return Update{}, fmt.Errorf("%w: %s", ErrNotInLog, questID)
	}
	if e.State != Active {
		return Update{}, fmt.Errorf("%w: %s is %s", ErrNotActive, questID, e.State)
	}
	u, err := t.finish(playerID, e, Abandoned, "abandoned by the player", now)
	return u, err
}

// finish moves e to a final state and persists it. Call with t.mu held.
func (t *Tracker) finish(playerID string, e *Entry, s State, reason string, now time.Time) (Update, error) {
	old := *e
	e.State, e.Reason, e.UpdatedAt = s, reason, now
	if err := t.save(playerID, e); err != nil {
		*e = old
		return Update{}, err
	}
	kind := map[State]UpdateKind{Completed: UpdateCompleted, Failed: UpdateFailed, Abandoned: UpdateAbandoned}[s]
	u := Update{PlayerID: playerID, QuestID: e.Quest.ID, Kind: kind, Objective: e.Objective, Reason: reason}
	if s == Completed {
		u.Reward = e.Quest.Reward
	}
	slim(e)
	return u, nil
}

// Apply advances the active quests an event concerns and returns what
// changed, in quest id order. A died event concerns every player whose
// quest was given by, or escorts, that NPC. Each change is persisted
// before it is reported; on a store error the updates made so far are
// returned with the error.
func (t *Tracker) Apply(ev Event) ([]Update, error) {
	if ev.Count <= 0 {
		ev.Count = 1
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	players := []string{ev.PlayerID}
	if ev.Kind == EventDied {
		// Every player with a log, loaded or not: deaths are rare, and a
		// quest must not survive its giver because its log was cold.
		stored, err := t.st.QuestPlayers()
		if err != nil {
			return nil, err
		}
		set := map[string]bool{}
		for _, p := range stored {
			set[p] = true
		}
		for p := range t.logs {
			set[p] = true
		}
		players = sortedKeys(set)
	} else if ev.PlayerID == "" {
		return nil, errors.New("quest: event without a player id")
	}
	var out []Update
	for _, p := range players {
		l, err := t.log(p)
		if err != nil {
			return out, err
		}
		for _, id := range sortedKeys(l) {
			e := l[id]
			if e.State != Active {
				continue
			}
			ups, err := t.advance(p, e, ev)
			out = append(out, ups...)
			if err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// advance applies ev to one active entry. Call with t.mu held.
func (t *Tracker) advance(playerID string, e *Entry, ev Event) ([]Update, error) {
	if ev.Kind == EventDied {
		if e.Quest.Giver == ev.Target {
			u, err := t.finish(playerID, e, Failed, t.world.DisplayName(ev.Target)+" died", ev.Time)
			return []Update{u}, err
		}
		obj := e.Quest.Objectives[e.Objective]
		if obj.Action == Escort && contains(obj.Targets, ev.Target) {
			u, err := t.finish(playerID, e, Failed, t.world.DisplayName(ev.Target)+" died on the way", ev.Time)
			return []Update{u}, err
		}
		return nil, nil
	}
	obj := e.Quest.Objectives[e.Objective]
	n := progressFor(obj, ev)
	if n == 0 {
		return nil, nil
	}
	old := *e
	e.Progress = append([]int(nil), e.Progress...)
	count := max(obj.Count, 1)
	e.Progress[e.Objective] = min(count, e.Progress[e.Objective]+n)
	e.UpdatedAt = ev.Time
	u := Update{PlayerID: playerID, QuestID: e.Quest.ID, Kind: UpdateProgress, Objective: e.Objective,
		Progress: e.Progress[e.Objective], Count: count}
	if e.Progress[e.Objective] < count {
		if err := t.save(playerID, e); err != nil {
			*e = old
			return nil, err
		}
		return []Update{u}, nil
	}
	u.Kind = UpdateObjective
	if e.Objective+1 < len(e.Quest.Objectives) {
		e.Objective++
		if err := t.save(playerID, e); err != nil {
			*e = old
			return nil, err
		}
		return []Update{u}, nil
	}
	done, err := t.finish(playerID, e, Completed, "", ev.Time)
	if err != nil {
		*e = old
		return nil, err
	}
	return []Update{u, done}, nil
}

// EventFor returns the world event that fulfils objective o when playerID
// reports it at o.Location, with o.Count: the inverse of how Apply reads
// events (see EventKind). Games report their own events; simulations and
// tests use it to act a quest out. Targets are told apart by their kind in
// w (a deliver names an item and an NPC). The zero Event is returned for
// an action it does not know.
func (w *World) EventFor(playerID string, o Objective) Event {
	ev := Event{PlayerID: playerID, Location: o.Location, Count: o.Count}
	var npc, item, creature string
	for _, t := range o.Targets {
		switch w.Kind(t) {
		case KindNPC:
			npc = t
		case KindItem:
			item = t
		case KindCreature:
			creature = t
		}
	}
	switch o.Action {
	case Kill, Defend:
		ev.Kind, ev.Target = EventKill, creature
	case Gather:
		ev.Kind, ev.Target = EventCollect, item
	case GoTo, Explore:
		ev.Kind = EventArrive
	case Escort:
		ev.Kind, ev.Target = EventArrive, npc
	case TalkTo:
		ev.Kind, ev.Target = EventTalk, npc
	case Deliver:
		ev.Kind, ev.Target, ev.Item = EventDeliver, npc, item
	case Use:
		ev.Kind, ev.Target = EventUse, item
	default:
		return Event{}
	}
	return ev
}

// progressFor is how much ev advances obj: 0 when it does not concern it.
func progressFor(obj Objective, ev Event) int {
	at := ev.Location == "" || obj.Location == "" || ev.Location == obj.Location
	switch obj.Action {
	case Kill:
		if ev.Kind == EventKill && contains(obj.Targets, ev.Target) {
			return ev.Count
		}
	case Defend:
		if ev.Kind == EventKill && contains(obj.Targets, ev.Target) && at && ev.Location != "" {
			return ev.Count
		}
	case Gather:
		if ev.Kind == EventCollect && contains(obj.Targets, ev.Target) {
			return ev.Count
		}
	case GoTo, Explore:
		if ev.Kind == EventArrive && ev.Location == obj.Location {
			return 1
		}
	case TalkTo:
		if ev.Kind == EventTalk && contains(obj.Targets, ev.Target) {
			return 1
		}
	case Escort:
		if ev.Kind == EventArrive && ev.Location == obj.Location && contains(obj.Targets, ev.Target) {
			return 1
		}
	case Deliver:
		// Targets holds the item and the NPC who receives it.
		if ev.Kind == EventDeliver && contains(obj.Targets, ev.Target) && contains(obj.Targets, ev.Item) {
			return ev.Count
		}
	case Use:
		if ev.Kind == EventUse && contains(obj.Targets, ev.Target) && at {
			return 1
		}
	}
	return 0
}

// Expire fails every active quest whose time limit has passed at game
// time now, for players whose logs are loaded (a log loads on the
// player's first Accept, Apply, Abandon or Log after a start, so call
// Log when a player joins).
func (t *Tracker) Expire(now time.Time) ([]Update, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []Update
	players := sortedKeys(t.logs)
	for _, p := range players {
		l := t.logs[p]
		for _, id := range sortedKeys(l) {
			e := l[id]
			if e.State == Active && !e.Deadline.IsZero() && now.After(e.Deadline) {
				u, err := t.finish(p, e, Failed, "time ran out", now)
				if err != nil {
					return out, err
				}
				out = append(out, u)
			}
		}
	}
	return out, nil
}

// Log returns the player's quest log, ordered by quest id, read whole from
// the store (finished entries are kept slim in RAM: see slim). It also
// loads the log into RAM, so Expire sees the player's timed quests.
func (t *Tracker) Log(playerID string) ([]Entry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	l, err := t.stored(playerID)
	if err != nil {
		return nil, err
	}
	if _, loaded := t.logs[playerID]; !loaded {
		// Load it into RAM from this one read: slim clones of the entries.
		ram := make(map[string]*Entry, len(l))
		for id, e := range l {
			c := *e
			c.Progress = append([]int(nil), e.Progress...)
			slim(&c)
			ram[id] = &c
		}
		t.logs[playerID] = ram
	}
	out := make([]Entry, 0, len(l))
	for _, id := range sortedKeys(l) {
		e := *l[id]
		e.Progress = append([]int(nil), e.Progress...)
		out = append(out, e)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

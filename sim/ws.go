package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hearth-ai/hearth/middleware/client"
	"github.com/hearth-ai/hearth/middleware/protocol"
	"github.com/hearth-ai/hearth/quest"
)

// WebSocketConfig configures NewWebSocket.
type WebSocketConfig struct {
	// URL is the server's WebSocket URL, e.g. ws://localhost:8080/v1/ws.
	URL string
	// Players is the number of players: one connection each, with player
	// ids as Run gives them (PlayerID).
	Players int
	// Concurrent sends each tick's requests from all players at once
	// instead of one at a time in player order. It is much faster, but the
	// server then numbers the requests in network order, and the reply
	// texts (seeded by ticket) are no longer reproducible: the actions and
	// quests still are.
	Concurrent bool
	// BudgetMS is each talk's and quest request's budget; 0 is the
	// server's default.
	BudgetMS uint32
}

// WebSocket is the transport over a running Hearth server: one
// middleware/client.Client per player. By default a tick's requests are
// sent one at a time in player order, so that a fresh server assigns the
// same tickets (and so the same reply seeds) in every run; replies are
// matched to requests by the client, never by arrival order.
type WebSocket struct {
	cfg     WebSocketConfig
	clients []*client.Client
	npcs    []NPCInfo
}

// NewWebSocket dials one connection per player.
func NewWebSocket(ctx context.Context, cfg WebSocketConfig) (_ *WebSocket, err error) {
	if cfg.Players <= 0 {
		return nil, errors.New("sim: WebSocketConfig.Players must be positive")
	}
	t := &WebSocket{cfg: cfg, clients: make([]*client.Client, cfg.Players)}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	for i := range t.clients {
		c, err := client.Dial(ctx, cfg.URL, client.Options{PlayerID: PlayerID(i), PlayerName: PlayerName(i),
			ClientName: "hearth-sim"})
		if err != nil {
			return nil, fmt.Errorf("sim: dial %s as %s: %w", cfg.URL, PlayerID(i), err)
		}
		t.clients[i] = c
	}
	homes := demoHomes()
	for _, n := range t.clients[0].Welcome().NPCs {
		t.npcs = append(t.npcs, NPCInfo{ID: n.ID, Name: n.Name, Home: homes[n.ID]})
	}
	slices.SortFunc(t.npcs, func(a, b NPCInfo) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return t, nil
}

// NPCs lists the server's NPCs, sorted by id.
func (t *WebSocket) NPCs() []NPCInfo { return t.npcs }

// Do implements Transport.
func (t *WebSocket) Do(ctx context.Context, now time.Time, reqs []Request, out []Response) error {
	if !t.cfg.Concurrent {
		for i := range reqs {
			out[i] = t.do(ctx, &reqs[i])
		}
		return ctx.Err()
	}
	// Each player's requests in order on its own goroutine.
	var wg sync.WaitGroup
	for start := 0; start < len(reqs); {
		end := start + 1
		for end < len(reqs) && reqs[end].Player == reqs[start].Player {
			end++
		}
		wg.Add(1)
		go func(start, end int) {
			defer wg.Done()
			for i := start; i < end; i++ {
				out[i] = t.do(ctx, &reqs[i])
			}
		}(start, end)
		start = end
	}
	wg.Wait()
	return ctx.Err()
}

func (t *WebSocket) do(ctx context.Context, r *Request) Response {
	if r.Player < 0 || r.Player >= len(t.clients) {
		return Response{Err: fmt.Errorf("sim: player %d has no connection", r.Player)}
	}
	c := t.clients[r.Player]
	switch r.Kind {
	case RequestTalk:
		rep, err := c.Talk(ctx, r.NPC, r.Text, t.cfg.BudgetMS, nil)
		if err != nil {
			return Response{Err: err}
		}
		return Response{Text: rep.Text, Tier: rep.Tier, Backend: rep.Backend, Floor: rep.Floor, OnTime: rep.OnTime}
	case RequestQuest:
		of, err := c.RequestQuest(ctx, protocol.QuestRequest{Level: uint32(r.Quest.Level), Location: r.Quest.Location,
			Motivation: string(r.Quest.Motivation), Giver: r.Quest.Giver, Seed: r.Quest.Seed, After: r.Quest.After,
			BudgetMS: t.cfg.BudgetMS})
		if err != nil {
			return Response{Err: err}
		}
		q := of.Quest
		o := &Offer{ID: q.ID, Title: q.Title, Giver: q.Giver}
		for _, ob := range q.Objectives {
			o.Objectives = append(o.Objectives, quest.Objective{Action: quest.Action(ob.Action),
				Targets: ob.Targets, Count: int(ob.Count), Location: ob.Location})
		}
		return Response{Offer: o, Tier: q.Tier, Floor: of.Floor, OnTime: of.OnTime}
	case RequestAccept:
		if r.Offer == nil {
			return Response{Err: errors.New("sim: accept without an offer")}
		}
		u, err := c.AcceptQuest(ctx, r.Offer.ID)
		if err != nil {
			return Response{Err: err}
		}
		return Response{Updates: []Update{wsUpdate(u)}}
	case RequestEvent:
		ev := r.Event
		ups, err := c.ReportEvent(ctx, protocol.WorldEvent{Kind: string(ev.Kind), Target: ev.Target, Item: ev.Item,
			Location: ev.Location, Count: uint32(max(ev.Count, 0))})
		res := Response{Err: err}
		for _, u := range ups {
			res.Updates = append(res.Updates, wsUpdate(u))
		}
		return res
	}
	return Response{Err: fmt.Errorf("sim: unknown request kind %d", r.Kind)}
}

func wsUpdate(u protocol.QuestUpdate) Update {
	return Update{QuestID: u.QuestID, Kind: u.Kind, Objective: int(u.Objective), Progress: int(u.Progress), Count: int(u.Count)}
}

// Close closes every connection.
func (t *WebSocket) Close() error {
	var errs []error
	for _, c := range t.clients {
		if c != nil {
			errs = append(errs, c.Close())
		}
	}
	return errors.Join(errs...)
}

package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/npc"
)

// Direct is the "without the stack" Transport (issue 8): every request
// goes straight to one model — in practice the large remote model — and
// waits for its whole answer, with no cache, no routing, no budget and no
// floor. Dialogue and bark prompts are the npc package's (the same
// persona, lore and prompt templates the stack renders), so the two runs differ only in
// what the stack adds; a quest is one JSON-writing prompt per request.
// Nothing is remembered: every turn is a first meeting.
type Direct struct {
	model   inference.Model
	roster  *npc.Roster
	world   string
	places  []string
	budget  time.Duration
	players []string
	npcs    []string
	// Timeout bounds each request (default 60 s): the baseline waits for
	// the model however long it takes.
	Timeout time.Duration
}

// DirectQuestTokens is the reply length asked of the model for a quest:
// a quest as JSON (title, giver, summary, three objectives, reward) is
// about this many tokens.
const DirectQuestTokens = 300

// NewDirect returns a transport that sends every request to model. The
// roster renders dialogue prompts (Agent.Prepare); world and places name
// the quest world for quest prompts; budget is the latency budget the
// report judges answers against (the model is not held to it).
func NewDirect(model inference.Model, roster *npc.Roster, world string, places []string, budget time.Duration, players int) *Direct {
	d := &Direct{model: model, roster: roster, world: world, places: places, budget: budget, Timeout: 60 * time.Second}
	for i := range max(1, players) {
		d.players = append(d.players, fmt.Sprintf("bench-%d", i))
	}
	for _, def := range roster.Definitions() {
		d.npcs = append(d.npcs, def.ID)
	}
	return d
}

// Name returns "direct".
func (d *Direct) Name() string { return "direct" }

// Players returns the number of simulated players.
func (d *Direct) Players() int { return len(d.players) }

// NPCs returns the roster's NPC ids.
func (d *Direct) NPCs() []string { return d.npcs }

// Send runs the request on its own goroutine (the baseline holds one
// request open per player line, however many that is).
func (d *Direct) Send(ctx context.Context, req Request, done func(Result, error)) {
	go func() {
		ctx, cancel := context.WithTimeout(ctx, d.Timeout)
		defer cancel()
		start := time.Now()
		ireq, err := d.request(ctx, req)
		if err != nil {
			done(Result{}, err)
			return
		}
		res, err := d.model.Generate(ctx, ireq, nil)
		if err != nil {
			done(Result{}, err)
			return
		}
		lat := time.Since(start)
		done(Result{Ready: lat, Budget: d.budget, Tier: string(res.Tier), OnTime: lat <= d.budget, Cost: res.CostUSD}, nil)
	}()
}

func (d *Direct) request(ctx context.Context, req Request) (*inference.Request, error) {
	player := d.players[req.Player%len(d.players)]
	if req.Kind == KindQuest {
		prompt := fmt.Sprintf("You design quests for the world of %s. Its places are: %s.\n"+
			"Write one quest for a level %d player who stands at %s, as JSON with the fields "+
			"title, giver, summary, objectives (each with kind, target and count) and reward_gold. "+
			"Use only places, people and creatures of this world.\n",
			d.world, strings.Join(d.places, ", "), req.Level, req.Place)
		return &inference.Request{Intent: inference.IntentDialogue, PlayerID: player, UserText: prompt,
			Prompt: prompt, MaxTokens: DirectQuestTokens}, nil
	}
	agent, err := d.roster.Get(req.NPCID)
	if err != nil {
		return nil, err
	}
	turn := npc.Turn{PlayerID: player, Text: req.Text}
	if req.Kind == KindBark {
		turn = npc.Turn{PlayerID: player, Trigger: req.Trigger} // the npc.bark prompt
	}
	ireq, _, err := agent.Prepare(ctx, turn)
	return ireq, err
}

// Close does nothing: requests in flight end with their contexts.
func (d *Direct) Close() error { return nil }

package npc

import (
	"context"
	"time"

	"github.com/hearth-ai/hearth/inference"
)

// PregenLines are the player lines Pregenerate answers by default: the
// greetings and requests for news a player opens with, whose first-meeting
// replies every player shares (issue 6: "likely lines (greetings,
// rumours) are pre-generated into the cache, so the first line is
// instant"). A line matches the cache after inference.NormalizeLine (case,
// spacing and trailing punctuation do not matter).
var PregenLines = []string{
	"Hello!", "Hi.", "Hey.", "Good day.", "Good morning.", "Good evening.", "Greetings.", "Well met.",
	"What news?", "Any news?", "Any rumours?", "What's new?",
}

// PregenTriggers are the bark triggers Pregenerate answers by default.
var PregenTriggers = []string{TriggerProximity, TriggerSchedule}

// pregenPlayer is the player id of pre-generated turns: a stranger with no
// memories, name or feelings, so each turn's request is the shared one.
const pregenPlayer = "hearth:pregen"

// PregenReport counts what Pregenerate did.
type PregenReport struct {
	Asked int // turns asked (lines and triggers)
	// Cached is how many replies a model above the floor produced and the
	// router cached; Fresh how many of those were already cached at that
	// quality (asked again, answered from the cache).
	Cached, Fresh int
	// Floor is how many only the floor answered in budget: nothing worth
	// holding was cached for them (the floor answers in microseconds
	// anyway). Unshareable counts turns whose request is not shared
	// (never, for a stranger; reported so a change would show).
	Floor, Unshareable int
}

// Pregenerate answers, ahead of any player, the first-meeting turns whose
// reply every player shares — each of lines (default PregenLines) and a
// bark for each of triggers (default PregenTriggers) — through the router
// with budget per turn (default 5 s, so the best backend answers), and
// the router's response cache keeps the replies: a new player's "Hello!"
// then gets the large model's greeting in microseconds, within any
// budget. It is ambient work: call it when the server is idle
// (Runtime.Pregenerate does for one tenant's NPCs; hearth serve, for the
// default tenant at start). The guardrails still check a cached reply when it is
// delivered. It stops at ctx's end and returns what it did with ctx's
// error; without a response cache it returns at once, having asked
// nothing.
func (a *Agent) Pregenerate(ctx context.Context, lines, triggers []string, budget time.Duration) (PregenReport, error) {
	var rep PregenReport
	if a.deps.Router == nil || !a.deps.Router.Caches() {
		return rep, nil
	}
	if lines == nil {
		lines = PregenLines
	}
	if triggers == nil {
		triggers = PregenTriggers
	}
	if budget <= 0 {
		budget = 5 * time.Second
	}
	turns := make([]Turn, 0, len(lines)+len(triggers))
	for _, l := range lines {
		turns = append(turns, Turn{PlayerID: pregenPlayer, Text: l})
	}
	for _, tr := range triggers {
		turns = append(turns, Turn{Trigger: tr})
	}
	for _, t := range turns {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		rep.Asked++
		tctx, cancel := context.WithTimeout(ctx, budget)
		req, _, err := a.Prepare(tctx, t)
		if err != nil {
			cancel()
			return rep, err
		}
		if req.CacheKey == "" {
			cancel()
			rep.Unshareable++
			continue
		}
		res, err := a.deps.Router.Generate(tctx, req, nil)
		cancel()
		switch {
		case err != nil:
			return rep, err
		case res.Tier == inference.TierCache:
			rep.Fresh++
			rep.Cached++
		case res.Floor || res.Tier == inference.TierTemplate:
			rep.Floor++
		default:
			rep.Cached++
		}
	}
	return rep, nil
}

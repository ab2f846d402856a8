package npc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hearth-ai/hearth/inference"
)

// Refinement asks for "answer now, refine later" on a turn (issue 4,
// inference.Refinement): the turn is answered inside its deadline as
// usual, and a better backend that does not fit that deadline is started
// beside it; its reply reaches Done afterwards.
type Refinement struct {
	// Ctx bounds the refinement: its deadline is the refinement's budget
	// (inference.DefaultRefineBudget when it has none); cancelling it
	// abandons the refinement.
	Ctx context.Context
	// Done receives the refined reply exactly once when Respond's Reply
	// has Refining set, never otherwise, and never before Respond's
	// Router call has returned. A refinement carries words only: the
	// on-time reply's actions and relationship stand, and the memory
	// stream keeps the on-time reply (what the player was sure to see).
	// The error wraps inference.ErrNoRefinement when no better backend
	// answered, or ErrRefinementBlocked when the guardrails stopped the
	// better reply (the on-time reply then stands).
	Done func(Reply, error)
}

// ErrRefinementBlocked is wrapped by the error a Refinement's Done
// receives when the output guardrails blocked the better reply.
var ErrRefinementBlocked = errors.New("npc: the guardrails blocked the refinement")

// refineInto asks req's Router call for a refinement when t wants one. A
// bark is never refined: it is said once, in passing.
func (a *Agent) refineInto(req *inference.Request, ref inference.PromptRef, t Turn) {
	if t.Refine == nil || t.Refine.Ctx == nil || t.Refine.Done == nil || t.Trigger != "" {
		return
	}
	asked := a.modelActions()
	done := t.Refine.Done
	req.Refine = &inference.Refinement{Ctx: t.Refine.Ctx, Done: func(res inference.Result, err error) {
		if err != nil {
			done(Reply{}, err)
			return
		}
		r := Reply{Result: res, Prompt: ref}
		if asked {
			if say, _, _, ok := ParseModelReply(r.Text); ok {
				r.Text = say
			}
		}
		if strings.TrimSpace(r.Text) == "" {
			done(Reply{}, fmt.Errorf("%w: %s said nothing", inference.ErrNoRefinement, res.Backend))
			return
		}
		if v := a.checkOutput(r.Text); v.Blocked() {
			done(Reply{}, fmt.Errorf("%w (%s)", ErrRefinementBlocked, v.Reason))
			return
		}
		done(r, nil)
	}}
}

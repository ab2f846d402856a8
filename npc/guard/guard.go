// Package guard holds Hearth's guardrails: checks of a player's line before
// it reaches a model (length, control characters, prompt injection,
// role-play jailbreaks), filters of a model's reply before it reaches the
// player (persona breaks, blocked topics per game rating, profanity, an
// NPC's secrets, lore outside the NPC's knowledge scope), and the
// in-character line that replaces whatever is blocked.
//
// Everything here is a pure function over text: no model, no I/O, no
// clock. Patterns are matched on a normalised form of the text (see
// Normalize) so that fullwidth letters, homoglyphs, zero-width characters,
// leetspeak and spaced-out letters do not slip past them.
//
// The detection and false-positive rates of these checks on the labeled
// sets in testdata/ are printed by `hearth guard-eval` and asserted by
// TestLabeledSets; see EvalInputs and EvalOutputs.
package guard

// Reason is why a check blocked a text: a short stable code a game may log
// or count. The empty Reason means nothing was blocked.
type Reason string

// Reason codes. Input checks return the first four; output filters the
// others.
const (
	ReasonTooLong      Reason = "too_long"      // input longer than Limits allow
	ReasonControlChars Reason = "control_chars" // control, bidi-override, invisible or invalid-UTF-8 characters
	ReasonInjection    Reason = "injection"     // prompt-injection pattern
	ReasonJailbreak    Reason = "jailbreak"     // role-play jailbreak pattern
	ReasonPersonaBreak Reason = "persona_break" // the reply speaks as an AI, of prompts or instructions
	ReasonTopic        Reason = "blocked_topic" // a topic the Policy blocks at its rating
	ReasonProfanity    Reason = "profanity"     // a word the Policy's rating does not allow
	ReasonSecretLeak   Reason = "secret_leak"   // the reply states one of the NPC's secrets
	ReasonLoreLeak     Reason = "lore_leak"     // the reply copies lore outside the NPC's knowledge
)

// IsInput reports whether r is a reason an input check gives.
func (r Reason) IsInput() bool {
	switch r {
	case ReasonTooLong, ReasonControlChars, ReasonInjection, ReasonJailbreak:
		return true
	}
	return false
}

// Verdict is the outcome of a check. The zero Verdict passes.
type Verdict struct {
	Reason Reason
	// Detail says what matched (a pattern name, a word, an n-gram), for
	// logs and evaluation; it is never shown to a player.
	Detail string
}

// Blocked reports whether the check blocked the text.
func (v Verdict) Blocked() bool { return v.Reason != "" }

func block(r Reason, detail string) Verdict { return Verdict{Reason: r, Detail: detail} }

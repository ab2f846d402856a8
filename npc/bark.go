package npc

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/inference"
)

// BarkPrompt is the template name barks render.
const BarkPrompt = "npc.bark"

// Bark triggers a game commonly uses. Any other trigger that passes
// CheckTrigger is accepted too (e.g. "dawn", "combat"); it reaches the
// prompt as its own word.
const (
	// TriggerProximity: a player came near the NPC.
	TriggerProximity = "proximity"
	// TriggerSchedule: the NPC's schedule calls for a line (dawn at the
	// market, closing time at the inn).
	TriggerSchedule = "schedule"
)

// MaxTriggerBytes bounds a bark trigger, in bytes.
const MaxTriggerBytes = 32

// barkLoreTopK is how many lore chunks colour a bark: a bark is one line,
// so a couple of facts about the NPC's home and trade are plenty.
const barkLoreTopK = 2

// barkMaxTokens caps a bark's length in tokens (one short line).
const barkMaxTokens = 32

// occasions describes the common triggers in the bark prompt.
var occasions = map[string]string{
	TriggerProximity: "someone comes near you",
	TriggerSchedule:  "the hour of your usual call in your day's routine",
}

// CheckTrigger reports whether trigger is a valid bark trigger: 1 to
// MaxTriggerBytes bytes of lowercase ASCII letters, digits, '-' and '_'.
// Triggers are part of a bark's cache key, so they are short tokens, not
// free text.
func CheckTrigger(trigger string) error {
	if trigger == "" || len(trigger) > MaxTriggerBytes {
		return fmt.Errorf("npc: bark trigger %q: want 1..%d bytes", trigger, MaxTriggerBytes)
	}
	for i := 0; i < len(trigger); i++ {
		c := trigger[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("npc: bark trigger %q: want lowercase letters, digits, '-' and '_'", trigger)
		}
	}
	return nil
}

// barkText is what a bark's request carries as UserText: the trigger in
// parentheses, so that the exact cache key (inference.ExactKey, which
// reads UserText) tells a proximity bark from a scheduled one and never
// matches a player's line.
func barkText(trigger string) string { return "(" + trigger + ")" }

// barkRequest is the part of a bark's request the worker and the floor
// share: intent, persona and trigger, nothing about any player.
func (a *Agent) barkRequest(t Turn) *inference.Request {
	return &inference.Request{Intent: inference.IntentBark, Persona: a.persona, Tenant: a.deps.Store.TenantName(), PlayerID: t.PlayerID,
		UserText: barkText(t.Trigger), Seed: t.Seed, MaxTokens: barkMaxTokens}
}

// prepareBark builds the request for a bark (t.Trigger set): the persona,
// a little lore from the NPC's own scope about its home, role and the
// occasion, and the npc.bark prompt. Nothing is recalled: a bark is said
// to whoever is near, so it is shareable and gets an exact cache key that
// covers the NPC, the trigger, the lore and the template, never the player.
func (a *Agent) prepareBark(ctx context.Context, t Turn) (*inference.Request, inference.PromptRef, error) {
	if err := CheckTrigger(t.Trigger); err != nil {
		return nil, inference.PromptRef{}, err
	}
	req := a.barkRequest(t)
	if dl, ok := ctx.Deadline(); ok {
		req.BudgetMS = float64(time.Until(dl)) / 1e6
	}
	query := strings.Join([]string{t.Trigger, a.def.Home, a.def.Role}, " ")
	for _, h := range a.deps.Lore.Search(query, barkLoreTopK, a.filter) {
		req.Facts = append(req.Facts, inference.Fact{Source: h.Chunk.Source, DocPath: h.Chunk.DocPath,
			Heading: h.Chunk.Heading, Text: h.Chunk.Text, Score: h.Score})
	}
	occasion := occasions[t.Trigger]
	if occasion == "" {
		occasion = t.Trigger
	}
	text, ref, err := a.deps.Prompts.RenderFor(BarkPrompt, t.PlayerID, promptData{Persona: a.def, Facts: req.Facts,
		Occasion: occasion})
	if err != nil {
		return nil, ref, fmt.Errorf("npc %q: %w", a.def.ID, err)
	}
	req.Prompt, req.PromptName, req.PromptHash = text, ref.String(), ref.Hash
	req.PrefixBytes = stablePrefix(text)
	if err := a.renderSmall(req, SmallBarkPrompt, "", promptData{Persona: a.def, Occasion: occasion}); err != nil {
		return nil, ref, fmt.Errorf("npc %q: %w", a.def.ID, err)
	}
	req.CacheKey = inference.ExactKey(req)
	return req, ref, nil
}

// floorBark is the floor's bark: the router's floor on the persona and
// trigger alone (no lore, no disk). Its seed comes from the NPC and the
// trigger, so every player near the NPC hears the same floor line for
// the same occasion.
func (a *Agent) floorBark(t Turn) Reply {
	req := a.barkRequest(t)
	req.CacheKey = inference.ExactKey(req) // marks it shareable: the floor then ignores the player
	h := fnv.New64a()
	h.Write([]byte(req.CacheKey))
	req.Seed = h.Sum64()
	return Reply{Result: a.deps.Router.Floor(req)}
}

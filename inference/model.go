// Package inference owns what every model backend shares: the Model
// interface, the request and result types, the Router that picks a backend
// under a deadline and always has a floor answer, and versioned prompt
// templates.
//
// A backend implements one method, Generate, that streams text through a
// sink and returns the final result. The Router wraps backends the way
// database/sql wraps drivers: callers hold one *Router and never see which
// tier answered except in the Result.
package inference

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Tier names a class of backend, fastest first. It is reported on every
// reply so a game can see who answered.
type Tier string

// The tiers of DESIGN §4, fastest first.
const (
	TierCache    Tier = "cache"    // exact or semantic response cache
	TierTemplate Tier = "template" // deterministic lore-grounded grammar: the floor
	TierEmbedded Tier = "embedded" // in-process small transformer (CPU)
	TierLocal    Tier = "local"    // local model server on a GPU (OpenAI-compatible)
	TierRemote   Tier = "remote"   // remote large model (OpenAI / Anthropic)
)

// IsModel reports whether a reply of tier t is a model's work, whose
// token counts are tokens (the embedded, local and remote tiers); the
// cache did no work and the template floor counts words.
func (t Tier) IsModel() bool {
	switch t {
	case TierTemplate, TierCache, "":
		return false
	}
	return true
}

// Intent says what a request is for; backends and the floor shape their
// output by it.
type Intent string

// Intents known to the floor generator.
const (
	IntentGreeting Intent = "greeting" // the player opened a conversation
	IntentDialogue Intent = "dialogue" // a free-form player line
	IntentFarewell Intent = "farewell" // the player is leaving
	IntentBark     Intent = "bark"     // an ambient one-liner
)

// Persona is the part of an NPC a backend needs to speak as it.
type Persona struct {
	ID          string   // stable NPC id, e.g. "brenna-smith"
	Name        string   // display name, e.g. "Brenna Ashdown"
	Role        string   // e.g. "blacksmith"
	Traits      []string // e.g. ["gruff", "honest"]
	SpeechStyle string   // free text, e.g. "short sentences, calls everyone 'friend'"
	Faction     string   // faction entity id
	Home        string   // place entity id or name
}

// Fact is one piece of retrieved lore offered to the model as grounding.
type Fact struct {
	Source  string   // lore source name, e.g. "village" or "srd"
	DocPath string   // path of the document inside its source
	Heading []string // heading path, outermost first, e.g. ["Monsters A–Z", "Aboleth"]
	Text    string   // the chunk text (Markdown stripped of emphasis)
	Score   float64  // retrieval score; higher is better, only comparable within one request
}

// Memory is one recalled memory offered to the model.
type Memory struct {
	Text       string    // e.g. "Aria said: I'm looking for the old mill."
	Kind       string    // "dialogue", "observation" or "reflection"
	Importance float64   // 1..10, Park et al. 2023
	GameTime   time.Time // when it happened in game time
}

// Relationship is how the NPC feels about the player it answers, and its
// mood, as the prompt shows them (npc.dialogue@2): scores rounded to one
// decimal and their words, so that requests that show the same feelings
// share cached replies (ExactKey).
type Relationship struct {
	Affinity float64 // -1 (hatred) … 1 (devotion), rounded to 0.1; 0 neutral
	Trust    float64 // -1 (expects betrayal) … 1 (complete trust), rounded to 0.1
	// Feeling is Affinity and Trust in words, e.g. "wary, distrustful";
	// "" when both are neutral (the prompt then shows no feeling line).
	Feeling string
	// Mood is the NPC's mood in words, e.g. "uneasy" or "cheerful"; ""
	// when it is even (the prompt then shows no mood line).
	Mood string
}

// Message is one turn of a chat transcript in OpenAI/Anthropic shape.
type Message struct {
	Role    string // "system", "user" or "assistant"
	Content string
}

// Request is everything a backend may use to produce one reply. Text
// backends read Prompt (rendered from a versioned template, stable part
// first); the template floor reads the structured fields, so both see the
// same context.
type Request struct {
	Intent  Intent
	Persona Persona
	// Tenant is the studio or game the request belongs to ("" for the
	// default tenant); it scopes the response cache (ExactKey).
	Tenant     string
	PlayerID   string
	PlayerName string // "" when the NPC does not know the player's name
	Returning  bool   // the NPC has met this player before
	UserText   string // the player's line, verbatim
	Facts      []Fact
	Memories   []Memory
	// Relationship is how the NPC feels about this player and its mood,
	// with the player's line already weighed in; nil when it feels
	// nothing in particular (neutral, even mood). It is part of ExactKey.
	Relationship *Relationship

	Prompt string // rendered prompt for text models
	// PrefixBytes is the length of Prompt's stable prefix (persona and
	// world rules, the same for every request to this NPC), for prefix
	// caches such as Anthropic's cache_control; 0 when unknown.
	PrefixBytes int
	// SmallPrompt is the same turn rendered for small-context models such
	// as the embedded transformer (npc.dialogue-small, npc.bark-small):
	// the same layout, with only the few retrieved sentences that bear on
	// the line, at most two memories and no secrets, so it fits a 512-token
	// context and a 50 ms CPU budget. "" when the caller did not render
	// one; backends then use Prompt.
	SmallPrompt string
	// SmallPrefixBytes is the length of SmallPrompt's stable prefix.
	SmallPrefixBytes int
	PromptName       string // template name@version that produced Prompt
	PromptHash       string // hex content hash of the template
	// SmallPromptHash is the hex content hash of the template that
	// produced SmallPrompt ("" without one): part of the cache keys, so a
	// reload that changes only the small template is not answered from
	// replies the old one led to.
	SmallPromptHash string
	MaxTokens       int // reply length cap in tokens; 0 means the backend default
	Temperature     float64
	Seed            uint64   // same seed, same output on deterministic backends
	Stop            []string // stop sequences
	BudgetMS        float64  // the caller's budget, for reporting; the deadline is ctx's
	// MaxCostUSD caps this request's predicted cost in US dollars
	// (RouterOptions.MaxRequestCostUSD); 0: the Router's cap.
	MaxCostUSD float64
	// Refine, when set, asks for "answer now, refine later": a better
	// backend that does not fit the deadline is started beside the
	// on-time answer and its reply arrives later through Refine.Done
	// (see Refinement). Backends ignore it; ExactKey does not include it.
	Refine *Refinement
	// ResponseSchema, when set, is a JSON Schema the reply must validate
	// against: the embedded model enforces it by constrained decoding
	// (inference/embedded/constrain documents the subset). nil: free text.
	ResponseSchema []byte
	// CacheKey, when set, makes the answer shareable: any request with the
	// same key may receive it from the Router's ResponseCache. The caller
	// sets it (usually to ExactKey(req)) only when the answer does not
	// depend on anything outside the key; "" means never cached.
	CacheKey string
}

// Result is a finished reply.
type Result struct {
	Text         string
	Tier         Tier
	Backend      string        // backend name, e.g. "template" or "openai:gpt-x"
	Floor        bool          // true when the floor answered because nothing better was ready
	Tokens       int           // output tokens (words for the template tier)
	PromptTokens int           // input tokens, where the backend reports them
	CostUSD      float64       // what the call cost, from the backend's prices; 0 for in-process tiers
	TTFT         time.Duration // time to first token
	Latency      time.Duration // from Generate's start to the final token
	FallbackFrom string        // backend that failed or ran out of time, if any
	// Hedged is set when this reply came from a hedge: a second backend
	// the Router started because the first was slow to begin
	// (RouterOptions.MaxHedgeShare); FallbackFrom names the first.
	Hedged bool
	// Reason says why the Router chose the backend that answered
	// (ReasonFit, ReasonFallback, ReasonFloorNoFit, …); ReasonNone when no Router
	// was involved.
	Reason Reason
	// Predicted is the completion time the Router predicted for the
	// answering backend's attempt when it chose it, measured from that
	// attempt's start (after a fallback, Latency also holds the failed
	// attempts); 0 for the cache and the floor, which are not predicted.
	Predicted time.Duration
	// Refining is set when a refinement (Request.Refine) is under way: a
	// better backend's answer will reach Refine.Done after this one.
	Refining bool
}

// Delta is a piece of streamed text. When Reset is true the receiver must
// discard the text streamed so far for this request (a backend failed
// mid-stream and a fallback is starting over); Text then starts the new
// attempt.
type Delta struct {
	Text  string
	Reset bool
}

// Sink receives streamed deltas in order. It must not block; it is called
// from the backend's goroutine. A nil Sink is allowed everywhere.
type Sink func(Delta)

// Info describes a backend to the Router.
type Info struct {
	Name string
	Tier Tier
	// Quality orders backends: the Router prefers higher quality when the
	// predicted latency fits the budget. The floor has the lowest.
	Quality int
	// ExpectedTTFT and ExpectedTokensPerSecond seed the Router's latency
	// estimate before it has observed the backend.
	ExpectedTTFT            time.Duration
	ExpectedTokensPerSecond float64
	// MaxInFlight caps the attempts the Router runs on this backend at
	// once (a GPU server's batch, a provider's concurrency limit); beyond
	// it the Router passes the request to the next tier. 0: no cap.
	MaxInFlight int
	// Inline is set by an in-process backend that honours ctx within
	// microseconds (the embedded model): the Router calls it on the
	// caller's goroutine instead of its own, saving two goroutine
	// hand-offs (a few µs at p50, tens of µs at p99 on a busy 2-core
	// machine: docs/benchmarks.md), and neither hedges it nor watches it
	// for stalls. The deadline then rests on the backend's promise; a
	// backend that can block past ctx (anything on the network) must
	// leave it false, so that an overrun never delays the floor.
	Inline bool
	// Prices are what the backend charges per token, for the Router's
	// cost prediction (RouterOptions.MaxRequestCostUSD); zero for
	// in-process tiers. A backend with prices is billed: the daily spend
	// cap (RouterOptions.DailySpendCapUSD) stops it, as it stops one whose
	// replies carried a cost.
	Prices Prices
}

// Model is a text generation backend. Generate streams deltas to sink (which
// may be nil) and returns the final result. It must return promptly, with
// ctx.Err() wrapped, when ctx is done. Implementations must be safe for
// concurrent use.
//
// The Router runs each backend call on its own goroutine and abandons it at
// the deadline; honouring ctx is what lets that goroutine end. A backend
// should not call sink after Generate returns (the Router drops such
// deltas).
type Model interface {
	Info() Info
	Generate(ctx context.Context, req *Request, sink Sink) (Result, error)
}

// ErrUnsuitable is wrapped by a backend's error when it cannot take this
// particular request (a prompt longer than its context, its queue full),
// though it is healthy: the Router moves on to the next tier without
// counting a failure against the backend's circuit.
var ErrUnsuitable = errors.New("inference: backend cannot take this request")

// ErrPromptTooLong is wrapped by a backend's error when the prompt does not
// fit its context window: the request is unsuitable for it (it wraps
// ErrUnsuitable), not the backend broken. The OpenAI-compatible server
// answers it with 400 context_length_exceeded, as OpenAI does, and the
// OpenAI backend maps that answer back to it.
var ErrPromptTooLong = fmt.Errorf("inference: prompt longer than the model's context (%w)", ErrUnsuitable)

// ErrNoBackend is returned when a Router has no backend that can run.
var ErrNoBackend = errors.New("inference: no backend available")

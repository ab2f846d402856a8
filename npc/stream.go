package npc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
)

// RecallWeights weigh the three normalised recall scores (Park et al.
// 2023, §4.1: score = α_recency·recency + α_importance·importance +
// α_relevance·relevance, each in [0, 1] after min-max normalisation).
type RecallWeights struct {
	Recency, Importance, Relevance float64
}

// DefaultRecallWeights weigh relevance double. Park et al. weigh all
// three 1, but min-max normalisation stretches any spread of ages over
// [0, 1], so with equal weights a fact buried under a thousand newer
// memories loses to a newer memory half as relevant. On the memory
// benchmark (TestMemoryBenchmarkRecallAt3: 10 facts under 1,000
// distractors) recall@3 is 0.80 with equal weights and 1.00 with
// relevance at 2 or 3.
var DefaultRecallWeights = RecallWeights{Recency: 1, Importance: 1, Relevance: 2}

// Defaults of MemoryOptions.
const (
	// DefaultReflectionThreshold is the importance (sum of 1..10 ratings)
	// accumulated since the last reflection that makes an NPC reflect
	// (Park et al. 2023, §4.2: 150).
	DefaultReflectionThreshold = 150
	// DefaultMemoryCap is how many memories an NPC keeps before
	// compaction folds the oldest unimportant ones into summaries.
	DefaultMemoryCap = 2000
)

// MemoryOptions configure every NPC's memory stream (Deps.Memory). Zero
// fields take the defaults.
type MemoryOptions struct {
	// Weights of recall (zero value: DefaultRecallWeights).
	Weights RecallWeights
	// DecayPerHour is the recency factor per game hour (default 0.995,
	// Park et al. 2023, §4.1).
	DecayPerHour float64
	// Embedder embeds memories and queries (default NewHashEmbedder()).
	// Memory vectors are not persisted: they are recomputed when an NPC's
	// stream loads, so changing the embedder needs no migration.
	Embedder lore.Embedder
	// Rater rates memories written without an importance (default
	// HeuristicRater).
	Rater ImportanceRater
	// Reflector synthesises reflections (default HeuristicReflector).
	Reflector Reflector
	// ReflectionThreshold (default DefaultReflectionThreshold).
	ReflectionThreshold float64
	// Cap is the number of memories per NPC above which compaction folds
	// memories into summaries, down to three quarters of it (default
	// DefaultMemoryCap). Between compactions a stream may grow a quarter
	// past it, at which point the write that crossed it compacts.
	Cap int
}

func (o MemoryOptions) withDefaults() MemoryOptions {
	if o.Weights == (RecallWeights{}) {
		o.Weights = DefaultRecallWeights
	}
	if o.DecayPerHour <= 0 || o.DecayPerHour > 1 {
		o.DecayPerHour = recencyDecayPerHour
	}
	if o.Embedder == nil {
		o.Embedder = NewHashEmbedder()
	}
	if o.Rater == nil {
		o.Rater = HeuristicRater{}
	}
	if o.Reflector == nil {
		o.Reflector = HeuristicReflector{}
	}
	if o.ReflectionThreshold <= 0 {
		o.ReflectionThreshold = DefaultReflectionThreshold
	}
	if o.Cap <= 0 {
		o.Cap = DefaultMemoryCap
	}
	return o
}

// ImportanceRater rates how important a memory is, 1 (mundane) to 10
// (poignant) (Park et al. 2023, §4.1). A model can implement it; it runs
// when a memory is written without an importance, on the writer's
// goroutine (Runtime.Observe's background writer, or after a reply is
// delivered), never before a reply.
type ImportanceRater interface {
	Rate(kind, text string) float64
}

// HeuristicRater is the keyword fallback: Importance.
type HeuristicRater struct{}

// Rate returns Importance(text).
func (HeuristicRater) Rate(_, text string) float64 { return Importance(text) }

// Observation is a game event an NPC witnessed or learnt, reported by the
// host (Runtime.Observe).
type Observation struct {
	Text       string    // what happened, in words: "The player hid the key under the blue stone."
	GameTime   time.Time // when, on the game's clock (stored as Unix ns: years 1678 to 2262); zero means now
	PlayerID   string    // the player it concerns; "" for world knowledge every player may hear of
	PlayerName string    // optional
	Importance float64   // 1..10; 0 means rated by MemoryOptions.Rater

	// Knowledge scope, as a lore document's front matter: which NPCs may
	// learn of it by gossip (Meet passes it only to a listener whose
	// Knowledge.Filter allows it). Empty is common knowledge.
	Region  string   // region id; "" = everywhere
	Tags    []string // topic tags; none = common knowledge
	Secrecy int      // 0 public, 1 local knowledge, 2 secret; negative is an error
	// Event optionally names the event, so that NPCs who witnessed it and
	// NPCs who heard of it know it is one: gossip never gives an NPC a
	// second memory of an event it knows. "": the observation is an event
	// of its own.
	Event string
}

// Observe adds an observation to the NPC's memory stream and the store.
// It blocks on the store write; hosts call Runtime.Observe, which does not.
// It returns an error for an observation without text or with a negative
// secrecy, or the store's error.
func (a *Agent) Observe(o Observation) error {
	if o.Text == "" {
		return errors.New("npc: observation without text")
	}
	if o.Secrecy < 0 {
		return fmt.Errorf("npc: observation secrecy %d: want 0 or more", o.Secrecy)
	}
	if o.GameTime.IsZero() {
		o.GameTime = time.Now()
	}
	return a.memory.append(o.PlayerID, store.MemoryRecord{PlayerName: o.PlayerName, Kind: KindObservation,
		Text: o.Text, Importance: o.Importance, GameTime: o.GameTime.UnixNano(),
		Region: o.Region, Tags: slices.Clone(o.Tags), Secrecy: o.Secrecy, Origin: o.Event})
}

// Recall returns up to k memories for a query about playerID ("" for world
// knowledge only), ranked as a dialogue turn ranks them (see
// MemoryOptions), oldest first.
func (a *Agent) Recall(playerID, query string, now time.Time, k int) []inference.Memory {
	return a.memory.recall(playerID, query, now, k)
}

// MemoryStats describe an NPC's memory footprint.
type MemoryStats struct {
	Count      int     // memories in RAM (all players and world knowledge)
	StoreCount int     // memories in the store
	StoreBytes int64   // their keys and msgpack values, bytes
	RAMBytes   int64   // estimate: texts, terms and embeddings, bytes
	Reflection float64 // importance written since the last reflection (sum of 1..10 ratings)
}

// MemoryStats reports the NPC's memory footprint. It scans the NPC's keys
// in the store.
func (a *Agent) MemoryStats() (MemoryStats, error) {
	c := a.memory
	if err := c.load(); err != nil {
		return MemoryStats{}, err
	}
	var s MemoryStats
	c.mu.RLock()
	s.Count, s.Reflection = c.count, c.since
	for _, b := range c.buckets {
		for i := range b {
			m := &b[i]
			s.RAMBytes += int64(len(m.key)+len(m.rec.Text)+len(m.rec.PlayerName)+len(m.rec.Story)+len(m.rec.Origin)+
				4*len(m.vec)+4*len(m.feats)) + 200
			for _, t := range m.terms {
				s.RAMBytes += int64(len(t)) + 16
			}
		}
	}
	c.mu.RUnlock()
	n, bytes, err := c.st.StreamFootprint(a.def.ID)
	s.StoreCount, s.StoreBytes = n, bytes
	return s, err
}

// MaintainReport says what Maintain did.
type MaintainReport struct {
	Reflections int // reflections written
	Folded      int // memories folded into summaries
}

// Maintain is the memory stream's ambient work: it reflects when the
// importance accumulated since the last reflection has passed
// MemoryOptions.ReflectionThreshold, and compacts when the stream is over
// MemoryOptions.Cap. Call it when the server is idle (Runtime.Maintain);
// it never runs on a turn's path. now is the game time reflections are
// dated (zero: now).
func (a *Agent) Maintain(ctx context.Context, now time.Time) (MaintainReport, error) {
	var rep MaintainReport
	if now.IsZero() {
		now = time.Now()
	}
	n, err := a.memory.reflect(ctx, now)
	rep.Reflections = n
	if err != nil {
		return rep, fmt.Errorf("npc %q: reflect: %w", a.def.ID, err)
	}
	a.memory.mu.RLock()
	over := a.memory.count > a.memory.opts.Cap
	a.memory.mu.RUnlock()
	if over {
		rep.Folded, err = a.memory.compact()
		if err != nil {
			return rep, fmt.Errorf("npc %q: compact: %w", a.def.ID, err)
		}
	}
	return rep, nil
}

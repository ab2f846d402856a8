package middleware

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
	"github.com/hearth-ai/hearth/internal/store"
	"github.com/hearth-ai/hearth/lore"
	"github.com/hearth-ai/hearth/npc"
	"github.com/hearth-ai/hearth/quest"
)

// LoreSource is a folder of lore ingested under a source name that NPC
// knowledge scopes refer to (e.g. "srd").
type LoreSource struct {
	Name string
	Dir  string
}

// StackConfig describes a whole Hearth deployment on the embedded default:
// a data directory, a world (lore and NPCs) and the runtime options.
type StackConfig struct {
	// DataDir holds the Badger store. "" keeps everything in memory.
	DataDir string
	// World holds the world's files: lore/ (Markdown), npcs/ (YAML) and,
	// optionally, quest.yaml (the quest world: see quest.LoadWorld).
	World fs.FS
	// WorldSource is the lore source name of World's lore. Default "village".
	WorldSource string
	// ExtraLore are more lore folders, ingested after the world's.
	ExtraLore []LoreSource
	// Runtime configures the runtime.
	Runtime Options
	// Backends are the model backends above the template floor (for
	// example a local model server or a remote large model through
	// inference/openai, or the embedded transformer of
	// inference/embedded). None: the floor answers every request. The
	// Stack owns them: Close closes each one that is an io.Closer.
	Backends []inference.Model
	// Cache sizes the exact response cache (DESIGN §4); zero values take
	// inference.CacheOptions' defaults (64 MiB, 10 minutes).
	Cache inference.CacheOptions
	// Router tunes the router (fit quantile, breaker, relax interval,
	// hedging, floor reserve); its Cache field is ignored (see Cache and
	// NoCache). Zero values take inference's defaults.
	Router inference.RouterOptions
	// NoCache turns the response cache off (baselines, comparisons).
	NoCache bool
	// PersistCache keeps a copy of the exact response cache in the store
	// (inference.CacheOptions.Store: write-behind, bounded like the cache),
	// so a restarted server starts warm. Without DataDir the copy lives
	// in memory and dies with the process.
	PersistCache bool
	// SemanticCache adds the semantic cache behind the exact one
	// (inference.SemanticCache), embedding players' lines with the lore
	// library's embedder (the world's LSA, or StackConfig's lore
	// embedder). Off by default: on the labeled set the LSA embedder hits
	// only 6–8 % of paraphrases at a 1 % false-hit rate (docs/architecture.md,
	// "Semantic cache"). Needs lore vectors (not NoLoreVectors).
	SemanticCache bool
	// SemanticThreshold is the semantic cache's cosine threshold; 0 means
	// inference.DefaultSemanticThreshold.
	SemanticThreshold float64
	// NoLoreVectors keeps lore search to BM25: no embedded LSA embedder is
	// trained, and queries skip the vector half of hybrid search.
	NoLoreVectors bool
	// ModelImportance rates each memory's importance with the router's
	// best backend (npc.ModelRater, Park et al. 2023 §4.1) instead of the
	// keyword heuristic, which remains the fallback whenever no model
	// answers within 2 s. It costs one model call per memory written
	// (every turn), off the reply's path.
	ModelImportance bool
	// ModelActions asks the models for actions as structured output
	// (npc.Deps.ModelActions: a {say, actions} JSON schema) for NPCs that
	// may do more than end a conversation. Off by default: the shipped
	// embedded model was not trained for it; rules still propose actions.
	ModelActions bool
	// Prompts are the NPCs' prompt templates (npc.OpenPrompts: a studio's
	// directory, A/B weights, hot reload); nil: the shipped ones
	// (npc.DefaultPrompts). The caller keeps them and closes them after
	// the Stack.
	Prompts *inference.Prompts
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Stack is every layer of Hearth wired together: store, lore, router,
// NPCs and the runtime. Close it once.
type Stack struct {
	Store   *store.Store
	Lore    *lore.Library
	Router  *inference.Router
	Cache   *inference.ResponseCache // nil when StackConfig.NoCache
	Roster  *npc.Roster
	Runtime *Runtime
	// Ingested reports each lore source's ingestion.
	Ingested []lore.IngestReport
	// QuestWorld, Quests and QuestLog are set when the world has a
	// quest.yaml: the world graph quests are checked against, the
	// generator behind Runtime.SubmitQuest, and the tracker of players'
	// quest logs. The tracker writes to the store: call it from the game
	// server's goroutines, not from the tick.
	QuestWorld *quest.World
	Quests     *quest.Generator
	QuestLog   *quest.Tracker

	// Semantic is the semantic cache; nil unless StackConfig.SemanticCache.
	Semantic *inference.SemanticCache

	backends []inference.Model // closed by Close after the runtime
}

// OpenStack opens the store, ingests the world's lore and the extra lore
// (skipping unchanged files), loads the NPCs and starts the runtime. Lore
// files with errors are logged with their path and line and skipped; NPC
// definition errors and unreadable folders fail the call.
func OpenStack(ctx context.Context, cfg StackConfig) (_ *Stack, err error) {
	if cfg.World == nil {
		return nil, errors.New("middleware: StackConfig.World is required")
	}
	if cfg.WorldSource == "" {
		cfg.WorldSource = "village"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Stack{backends: cfg.Backends}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	so := store.DefaultOptions(cfg.DataDir)
	so.Logger = cfg.Logger
	if s.Store, err = store.Open(so); err != nil {
		return nil, err
	}
	if s.Lore, err = lore.OpenWith(ctx, s.Store, cfg.Logger, lore.Options{LSA: !cfg.NoLoreVectors}); err != nil {
		return nil, err
	}
	rep, err := s.Lore.IngestFS(ctx, cfg.WorldSource, cfg.World, "lore")
	if err != nil {
		return nil, fmt.Errorf("middleware: ingest world lore: %w", err)
	}
	s.Ingested = append(s.Ingested, rep)
	for _, src := range cfg.ExtraLore {
		rep, err := s.Lore.IngestDir(ctx, src.Name, src.Dir)
		if err != nil {
			return nil, fmt.Errorf("middleware: ingest lore %q from %s: %w", src.Name, src.Dir, err)
		}
		s.Ingested = append(s.Ingested, rep)
	}
	for _, rep := range s.Ingested {
		cfg.Logger.Info("lore ingested", "source", rep.Source, "documents", rep.Documents,
			"skipped", rep.Skipped, "updated", rep.Updated, "removed", rep.Removed,
			"chunks", rep.Chunks, "entities", rep.Entities, "errors", len(rep.Errors),
			"ms", float64(rep.Duration)/float64(time.Millisecond))
	}
	if !cfg.NoCache {
		co := cfg.Cache
		if cfg.PersistCache {
			co.Store, co.Logger = s.Store, cfg.Logger
		}
		if s.Cache, err = inference.NewResponseCache(co); err != nil {
			return nil, err
		}
		if cfg.SemanticCache {
			if s.Lore.Embedder() == nil {
				return nil, errors.New("middleware: the semantic cache embeds lines with the lore embedder: turn lore vectors on (NoLoreVectors is set)")
			}
			if s.Semantic, err = inference.NewSemanticCache(inference.SemanticOptions{Embedder: loreLines{s.Lore},
				Threshold: cfg.SemanticThreshold, TTL: cfg.Cache.TTL}); err != nil {
				return nil, err
			}
		}
	}
	ro := cfg.Router
	ro.Cache, ro.Semantic = s.Cache, s.Semantic
	if s.Router, err = inference.NewRouter(template.New(), cfg.Backends, ro); err != nil {
		return nil, err
	}
	defs, err := npc.LoadDefinitions(cfg.World, "npcs")
	if err != nil {
		return nil, err
	}
	deps := npc.Deps{Lore: s.Lore, Store: s.Store, Router: s.Router, Prompts: cfg.Prompts, Logger: cfg.Logger, ModelActions: cfg.ModelActions}
	if cfg.ModelImportance {
		deps.Memory.Rater = npc.ModelRater{Model: s.Router}
	}
	if s.Roster, err = npc.NewRoster(defs, deps); err != nil {
		return nil, err
	}
	if cfg.Runtime.Workers == 0 && networkBackends(cfg.Backends) {
		// A worker waits on a model server for hundreds of milliseconds
		// without using a CPU: with one worker per core the queue, not
		// the model, would eat a 2 s budget (issue 4's proof found this).
		cfg.Runtime.Workers = NetworkWorkers
	}
	if cfg.Runtime.Logger == nil {
		cfg.Runtime.Logger = cfg.Logger
	}
	switch data, err := fs.ReadFile(cfg.World, "quest.yaml"); {
	case err == nil:
		// "": the file names its world.
		if s.QuestWorld, err = quest.LoadWorld("", data); err != nil {
			return nil, fmt.Errorf("middleware: quest.yaml: %w", err)
		}
		if s.Quests, err = quest.NewGenerator(s.QuestWorld, quest.GeneratorOptions{}); err != nil {
			return nil, err
		}
		s.QuestLog = quest.NewTracker(s.QuestWorld, s.Store)
		cfg.Runtime.Quests = s.Quests
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("middleware: read quest.yaml: %w", err)
	}
	if s.Runtime, err = New(s.Roster, cfg.Runtime); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops the runtime (answering what it accepted) and closes the
// store.
func (s *Stack) Close() error {
	var errs []error
	if s.Runtime != nil {
		errs = append(errs, s.Runtime.Close())
	}
	for _, b := range s.backends {
		if c, ok := b.(io.Closer); ok {
			errs = append(errs, c.Close())
		}
	}
	if s.Cache != nil {
		s.Cache.Close() // before the store: it writes its queue there
	}
	if s.Semantic != nil {
		s.Semantic.Close()
	}
	if s.Store != nil {
		errs = append(errs, s.Store.Close())
	}
	return errors.Join(errs...)
}

// loreLines embeds players' lines for the semantic cache with the lore
// library's current embedder (re-ingested lore may retrain the LSA; the
// cache skips entries of another length, and entries of a retrained
// model of the same length age out within the cache's TTL).
type loreLines struct{ l *lore.Library }

func (e loreLines) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	emb := e.l.Embedder()
	if emb == nil {
		return nil, errors.New("middleware: the lore library has no embedder")
	}
	return emb.Embed(ctx, texts)
}

// NetworkWorkers is the runtime's default worker pool (Options.Workers)
// when a stack has a backend across the network (TierLocal or TierRemote):
// workers then mostly wait on sockets, so the pool bounds requests in
// flight to the model servers, not CPU use. Backends' own Info.MaxInFlight
// caps still apply.
const NetworkWorkers = 64

// networkBackends reports whether any backend is a model server reached
// over the network.
func networkBackends(ms []inference.Model) bool {
	for _, m := range ms {
		if t := m.Info().Tier; t == inference.TierLocal || t == inference.TierRemote {
			return true
		}
	}
	return false
}

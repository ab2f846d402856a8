package main

// hearth serve -prompts DIR: the studio's prompt templates over the
// built-in ones, hot reloaded, with the deployment file's A/B weights
// (docs/config.md, "Prompts").

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/npc"
)

// promptFlags are serve's -prompts and -prompts-watch.
type promptFlags struct {
	dir   string
	watch bool
	set   *inference.Prompts // opened by openPrompts; serve closes it after the Stack
}

// registerPrompts adds -prompts and -prompts-watch. Only serve calls it.
func (f *stackFlags) registerPrompts(fs *flag.FlagSet) {
	fs.StringVar(&f.prompts.dir, "prompts", "", "directory of prompt templates named name@version.tmpl (e.g. npc.dialogue@3.tmpl) over the built-in ones:\n"+
		"a file adds a version or replaces the built-in one of the same name@version (docs/config.md)")
	fs.BoolVar(&f.prompts.watch, "prompts-watch", true, "with -prompts: reload the directory when a file in it changes; a broken file is logged and the previous templates keep serving")
}

// openPrompts opens the NPCs' templates: the built-in ones, -prompts'
// directory over them and the deployment file's A/B weights, watched
// when watch and -prompts-watch. A template that does not parse or names
// a field the NPCs do not have fails here, naming the file and the field.
func (f *stackFlags) openPrompts(stderr io.Writer, watch bool) (*inference.Prompts, error) {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: f.level}))
	opts := inference.PromptOptions{Dir: f.prompts.dir, Watch: watch && f.prompts.watch && f.prompts.dir != "", Logger: logger}
	if c := f.cfg.file; c != nil {
		opts.Weights = inference.PromptWeights(c.Prompts.Weights)
	}
	p, err := npc.OpenPrompts(opts)
	if err != nil {
		return nil, fmt.Errorf("prompts: %w", err)
	}
	return p, nil
}

// describePromptWeights writes weights as "npc.dialogue {2: 90, 3: 10}",
// sorted by name; "none" when there are none.
func describePromptWeights(w inference.PromptWeights) string {
	if len(w) == 0 {
		return "none"
	}
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(w)) {
		var arms []string
		for _, v := range slices.Sorted(maps.Keys(w[name])) {
			arms = append(arms, fmt.Sprintf("%d: %d", v, w[name][v]))
		}
		parts = append(parts, name+" {"+strings.Join(arms, ", ")+"}")
	}
	return strings.Join(parts, "; ")
}

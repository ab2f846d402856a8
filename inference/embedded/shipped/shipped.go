// Package shipped holds the model Hearth ships: a small llama-architecture
// transformer trained by Hearth's own trainer on the demo world's corpus
// (hearth corpus, then hearth train; `make model` rebuilds it), built into
// the binary so a neural tier needs no download (`hearth serve -model
// shipped`, `hearth serve -openai`). Its model card is docs/models.md.
package shipped

import (
	_ "embed"

	"github.com/hearth-ai/hearth/inference/embedded"
)

// FileName is the GGUF file embedded here; it runs unchanged in llama.cpp.
const FileName = "hearth-village.gguf"

//go:embed hearth-village.gguf
var gguf []byte

// GGUF returns the shipped model file's bytes (read-only: do not modify).
func GGUF() []byte { return gguf }

// Open starts an engine on the shipped model. Errors are the loader's (a
// corrupt build) or the engine's.
func Open(opts embedded.Options) (*embedded.Engine, error) {
	if opts.Name == "" {
		opts.Name = "embedded:hearth-village"
	}
	return embedded.OpenBytes(FileName, gguf, opts)
}

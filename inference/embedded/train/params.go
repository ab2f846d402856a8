package train

import (
	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// span is one tensor's place in the flat parameter vector.
type span struct {
	name   string
	off, n int
	decay  bool // weight decay applies (matrices other than embeddings)
}

// layout lists the tensors of cfg in llama.Weights.Tensors order with
// their offsets in one flat vector, and returns its total length.
func layout(cfg llama.Config) ([]span, int) {
	w, err := llama.Allocate(cfg)
	if err != nil {
		return nil, 0
	}
	var spans []span
	off := 0
	for _, t := range w.Tensors() {
		decay := len(t.Dims) == 2 && t.Name != "token_embd.weight"
		spans = append(spans, span{t.Name, off, len(t.Data), decay})
		off += len(t.Data)
	}
	return spans, off
}

// view returns Weights of cfg whose slices alias flat (laid out by layout).
func view(cfg llama.Config, flat []float64) *llama.Weights {
	w := &llama.Weights{Config: cfg, Layers: make([]llama.Layer, cfg.Layers)}
	hd := cfg.HeadDim()
	h, k := cfg.Heads*hd, cfg.KVHeads*hd
	off := 0
	take := func(n int) []float64 {
		s := flat[off : off+n : off+n]
		off += n
		return s
	}
	d := cfg.Dim
	w.TokenEmbed = take(cfg.VocabSize * d)
	for i := range w.Layers {
		l := &w.Layers[i]
		l.AttnNorm = take(d)
		l.Wq = take(h * d)
		l.Wk = take(k * d)
		l.Wv = take(k * d)
		l.Wo = take(d * h)
		l.FFNNorm = take(d)
		l.WGate = take(cfg.FFNDim * d)
		l.WUp = take(cfg.FFNDim * d)
		l.WDown = take(d * cfg.FFNDim)
	}
	w.OutputNorm = take(d)
	if !cfg.TiedEmbeddings {
		w.Output = take(cfg.VocabSize * d)
	}
	return w
}

// flatten copies w into a new flat vector in layout order.
func flatten(w *llama.Weights) []float64 {
	var flat []float64
	for _, t := range w.Tensors() {
		flat = append(flat, t.Data...)
	}
	return flat
}

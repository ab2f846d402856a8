package train

import (
	"errors"
	"fmt"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// Average returns the element-wise mean of the weights of models of one
// shape: checkpoint averaging (Vaswani et al. 2017, "Attention Is All You
// Need", §6.1, averaged the last 5 or 20 checkpoints; Izmailov et al. 2018,
// "Averaging Weights Leads to Wider Optima and Better Generalization").
// Snapshots of one run taken while the learning rate is still high sit
// around a minimum rather than in it, and their mean can be better than
// each: the shipped model is the mean of its last stage's snapshots, which
// scored 69.7–75.3 % on the held-out lore eval alone and 78.8 % averaged
// (docs/models.md, "Training").
//
// The inputs are not modified. Errors: no input, or a model whose Config
// (shape, context, RoPE, norm) differs from the first's.
func Average(ws ...*llama.Weights) (*llama.Weights, error) {
	if len(ws) == 0 {
		return nil, errors.New("train: Average: no model")
	}
	cfg := ws[0].Config
	sum := flatten(ws[0])
	for i, w := range ws[1:] {
		if w.Config != cfg {
			return nil, fmt.Errorf("train: Average: model %d has shape %+v, model 0 %+v", i+1, w.Config, cfg)
		}
		k := 0
		for _, t := range w.Tensors() {
			for _, v := range t.Data {
				sum[k] += v
				k++
			}
		}
	}
	inv := 1 / float64(len(ws))
	for i := range sum {
		sum[i] *= inv
	}
	return view(cfg, sum), nil
}

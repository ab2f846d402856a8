package inference

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// SemanticPair is one labeled pair of player lines said to the same NPC:
// Same pairs (paraphrases) must share an answer, the others (near-misses:
// another entity, a negation, another quantity, another attribute or
// time) must not.
type SemanticPair struct {
	NPC  string `json:"npc"`
	A    string `json:"a"`
	B    string `json:"b"`
	Same bool   `json:"same"`
	Kind string `json:"kind"` // "paraphrase", or the near-miss's kind: entity, negation, quantity, attribute, time
}

//go:embed testdata/semcache/labeled.jsonl
var semanticLabeled []byte

// SemanticLabeledSet returns the labeled set shipped with Hearth
// (inference/testdata/semcache/labeled.jsonl): hand-written paraphrases
// and near-misses for the demo world's NPCs (sim/world).
func SemanticLabeledSet() []SemanticPair {
	p, err := ReadSemanticPairs(bytes.NewReader(semanticLabeled))
	if err != nil {
		panic(err) // the embedded file is checked by TestSemanticLabeledSet
	}
	return p
}

// ReadSemanticPairs reads a labeled set in JSON Lines, one SemanticPair a
// line (blank lines skipped). Errors name the line.
func ReadSemanticPairs(r io.Reader) ([]SemanticPair, error) {
	var out []SemanticPair
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var p SemanticPair
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("inference: labeled pairs line %d: %w", n, err)
		}
		if p.A == "" || p.B == "" || p.NPC == "" {
			return nil, fmt.Errorf("inference: labeled pairs line %d: npc, a and b are required", n)
		}
		if p.Same != (p.Kind == "paraphrase") {
			return nil, fmt.Errorf("inference: labeled pairs line %d: kind %q with same=%v (paraphrases, and only they, are the same)", n, p.Kind, p.Same)
		}
		out = append(out, p)
	}
	return out, sc.Err()
}

// SplitSemanticPairs splits a labeled set into the pairs a threshold is
// chosen on (tune) and held-out ones to report it on: every third pair
// (index 2, 5, 8…) is held out, so both halves have every NPC and kind.
func SplitSemanticPairs(pairs []SemanticPair) (tune, holdout []SemanticPair) {
	for i, p := range pairs {
		if i%3 == 2 {
			holdout = append(holdout, p)
		} else {
			tune = append(tune, p)
		}
	}
	return tune, holdout
}

// ThresholdRate is how a threshold does on a labeled set: the share of
// paraphrase pairs whose similarity reaches it (hits the cache should
// make) and of near-miss pairs that do (false hits: a wrong answer served).
type ThresholdRate struct {
	Threshold   float64
	Hits        int // paraphrases at or above the threshold
	Paraphrases int
	FalseHits   int // near-misses at or above the threshold
	NearMisses  int
}

// HitRate is Hits / Paraphrases (0 without paraphrases).
func (r ThresholdRate) HitRate() float64 { return ratio(r.Hits, r.Paraphrases) }

// FalseHitRate is FalseHits / NearMisses (0 without near-misses).
func (r ThresholdRate) FalseHitRate() float64 { return ratio(r.FalseHits, r.NearMisses) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// PairSimilarities returns the cosine similarity of each pair's lines
// under e (Similarity). With shapes, a pair whose lines differ in
// LineShape gets -1, as the cache never compares them.
func PairSimilarities(ctx context.Context, e LineEmbedder, pairs []SemanticPair, shapes bool) ([]float64, error) {
	out := make([]float64, len(pairs))
	for i, p := range pairs {
		if shapes && LineShape(NormalizeLine(p.A)) != LineShape(NormalizeLine(p.B)) {
			out[i] = -1
			continue
		}
		s, err := Similarity(ctx, e, p.A, p.B)
		if err != nil {
			return nil, fmt.Errorf("inference: embed pair %d (%q / %q): %w", i, p.A, p.B, err)
		}
		out[i] = s
	}
	return out, nil
}

// RateThresholds counts, for each threshold, the pairs whose similarity
// (sims, as PairSimilarities returns for pairs) reaches it.
func RateThresholds(pairs []SemanticPair, sims []float64, thresholds []float64) []ThresholdRate {
	out := make([]ThresholdRate, len(thresholds))
	for i, t := range thresholds {
		r := ThresholdRate{Threshold: t}
		for j, p := range pairs {
			hit := sims[j] >= t
			if p.Same {
				r.Paraphrases++
				if hit {
					r.Hits++
				}
			} else {
				r.NearMisses++
				if hit {
					r.FalseHits++
				}
			}
		}
		out[i] = r
	}
	return out
}

// ChooseThreshold returns the lowest threshold of rates (sorted
// ascending) whose false-hit rate is at most maxFalse and whose hit rate
// is above 0, and whether there is one.
func ChooseThreshold(rates []ThresholdRate, maxFalse float64) (ThresholdRate, bool) {
	for _, r := range rates {
		if r.FalseHitRate() <= maxFalse && r.Hits > 0 {
			return r, true
		}
	}
	return ThresholdRate{}, false
}

// SemanticThresholds are the thresholds the evaluation reports: 0.50 to
// 1.00 by 0.025.
func SemanticThresholds() []float64 {
	var out []float64
	for i := 0; i <= 20; i++ {
		out = append(out, 0.5+0.025*float64(i))
	}
	return out
}

// WriteSemanticTable writes rates as an aligned text table: threshold,
// paraphrase hit rate and near-miss false-hit rate with their counts.
func WriteSemanticTable(w io.Writer, rates []ThresholdRate) {
	fmt.Fprintf(w, "%-9s  %-17s  %-17s\n", "threshold", "paraphrase hits", "near-miss false hits")
	for _, r := range rates {
		fmt.Fprintf(w, "%-9.3f  %5.1f %% (%3d/%3d)  %5.1f %% (%3d/%3d)\n", r.Threshold,
			100*r.HitRate(), r.Hits, r.Paraphrases, 100*r.FalseHitRate(), r.FalseHits, r.NearMisses)
	}
}

// SemanticEval is an evaluation of an embedder on a labeled set: the
// rates at each of SemanticThresholds on the whole set, the threshold
// chosen on the tune part (SplitSemanticPairs) and that threshold's rates
// on the held-out part.
type SemanticEval struct {
	Shapes   bool    // lines compared only within one LineShape, as the cache does
	MaxFalse float64 // the false-hit rate the choice allows
	All      []ThresholdRate
	Chosen   ThresholdRate // on the tune part; valid when Found
	Found    bool
	Holdout  ThresholdRate // the chosen threshold on the held-out part
	// FalseByKind counts the near-misses at or above the chosen threshold
	// on the whole set, by kind (valid when Found).
	FalseByKind map[string]int
}

// EvalSemantic evaluates e on pairs: see SemanticEval. The error is the
// embedder's.
func EvalSemantic(ctx context.Context, e LineEmbedder, pairs []SemanticPair, shapes bool, maxFalse float64) (SemanticEval, error) {
	ev := SemanticEval{Shapes: shapes, MaxFalse: maxFalse}
	sims, err := PairSimilarities(ctx, e, pairs, shapes)
	if err != nil {
		return ev, err
	}
	ths := SemanticThresholds()
	ev.All = RateThresholds(pairs, sims, ths)
	var tune, hold []SemanticPair
	var tuneSims, holdSims []float64
	for i, p := range pairs {
		if i%3 == 2 { // as SplitSemanticPairs
			hold, holdSims = append(hold, p), append(holdSims, sims[i])
		} else {
			tune, tuneSims = append(tune, p), append(tuneSims, sims[i])
		}
	}
	ev.Chosen, ev.Found = ChooseThreshold(RateThresholds(tune, tuneSims, ths), maxFalse)
	if ev.Found {
		ev.Holdout = RateThresholds(hold, holdSims, []float64{ev.Chosen.Threshold})[0]
		ev.FalseByKind = map[string]int{}
		for i, p := range pairs {
			if !p.Same && sims[i] >= ev.Chosen.Threshold {
				ev.FalseByKind[p.Kind]++
			}
		}
	}
	return ev, nil
}

// Write prints the evaluation: the table, then the choice.
func (ev SemanticEval) Write(w io.Writer) {
	WriteSemanticTable(w, ev.All)
	if !ev.Found {
		fmt.Fprintf(w, "no threshold has a false-hit rate <= %.1f %% and any hit on the tune part\n", 100*ev.MaxFalse)
		return
	}
	fmt.Fprintf(w, "chosen on the tune part (%d paraphrases, %d near-misses): %.3f, the lowest with false hits <= %.1f %%: hits %.1f %%, false hits %.1f %%\n",
		ev.Chosen.Paraphrases, ev.Chosen.NearMisses, ev.Chosen.Threshold, 100*ev.MaxFalse, 100*ev.Chosen.HitRate(), 100*ev.Chosen.FalseHitRate())
	fmt.Fprintf(w, "held out (%d paraphrases, %d near-misses) at %.3f: hits %.1f %% (%d), false hits %.1f %% (%d)\n",
		ev.Holdout.Paraphrases, ev.Holdout.NearMisses, ev.Holdout.Threshold, 100*ev.Holdout.HitRate(), ev.Holdout.Hits,
		100*ev.Holdout.FalseHitRate(), ev.Holdout.FalseHits)
	if len(ev.FalseByKind) > 0 {
		fmt.Fprintf(w, "false hits by kind at %.3f (whole set): %v\n", ev.Chosen.Threshold, ev.FalseByKind)
	}
}

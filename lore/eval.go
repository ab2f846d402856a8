package lore

import (
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"go.yaml.in/yaml/v3"
)

// EvalSet is a labeled query set (lore/testdata/eval/*.yaml): queries over
// one lore source, each with the chunks that answer it.
type EvalSet struct {
	Name    string      `yaml:"name"`
	Source  string      `yaml:"source"` // the lore source name the targets belong to
	Queries []EvalQuery `yaml:"queries"`
}

// EvalQuery is one labeled query.
type EvalQuery struct {
	Query string `yaml:"q"`
	// Kind groups queries in the report: "name" (names the thing),
	// "paraphrase" (describes it in other words), "table" (the answer is a
	// table row), "similar" (the right creature or item among similar ones).
	Kind     string       `yaml:"kind"`
	Relevant []EvalTarget `yaml:"relevant"`
}

// EvalTarget names the chunks of one section: the document path inside the
// source and the heading path joined by " > ", e.g. "Monsters A–Z > Aboleth".
// Every chunk of that section counts as the target (a long section may be
// several chunks); the target is found at the rank of the first of them.
type EvalTarget struct {
	Doc     string `yaml:"doc"`
	Heading string `yaml:"heading"`
}

func (t EvalTarget) matches(c *Chunk) bool {
	return c.DocPath == t.Doc && strings.Join(c.Heading, " > ") == t.Heading
}

// LoadEvalSet reads an EvalSet from a YAML file.
func LoadEvalSet(path string) (EvalSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return EvalSet{}, fmt.Errorf("lore: eval set: %w", err)
	}
	var s EvalSet
	if err := yaml.Unmarshal(data, &s); err != nil {
		return EvalSet{}, fmt.Errorf("lore: eval set %s: %w", path, err)
	}
	for i, q := range s.Queries {
		if q.Query == "" || len(q.Relevant) == 0 {
			return EvalSet{}, fmt.Errorf("lore: eval set %s: query %d (%q) needs q and relevant", path, i+1, q.Query)
		}
	}
	return s, nil
}

// EvalMetrics are the mean retrieval metrics over a set of queries, each
// in [0, 1]: recall at 5 and 10 (the share of a query's targets found in
// the top k), the mean reciprocal rank of the first target found in the
// top 10 (MRR@10), and nDCG@10 with binary gains (Järvelin and Kekäläinen,
// "Cumulated gain-based evaluation of IR techniques", TOIS 20(4), 2002).
type EvalMetrics struct {
	Queries                          int
	RecallAt5, RecallAt10, MRR, NDCG float64
}

// EvalResult is the evaluation of one search mode.
type EvalResult struct {
	Mode    SearchMode
	All     EvalMetrics
	ByKind  map[string]EvalMetrics
	Misses  []string // queries with no target in the top 10
	Options SearchOptions
}

// Evaluate runs every query of set against l in each mode (with o's other
// options) under a Filter restricted to set.Source that admits every secrecy level, and returns the
// metrics per mode. It fails when a target matches no chunk of l (a
// mislabeled query or a changed corpus).
func Evaluate(l *Library, set EvalSet, modes []SearchMode, o SearchOptions) ([]EvalResult, error) {
	l.mu.RLock()
	ix := l.idx
	l.mu.RUnlock()
	for _, q := range set.Queries {
		for _, t := range q.Relevant {
			if !slices.ContainsFunc(ix.chunks, func(c *indexedChunk) bool { return c.chunk.Source == set.Source && t.matches(&c.chunk) }) {
				return nil, fmt.Errorf("lore: eval set %q: query %q: target %s # %s matches no chunk of source %q",
					set.Name, q.Query, t.Doc, t.Heading, set.Source)
			}
		}
	}
	f := Filter{Sources: []string{set.Source}, MaxSecrecy: math.MaxInt}
	var out []EvalResult
	for _, m := range modes {
		o.Mode = m
		r := EvalResult{Mode: m, ByKind: map[string]EvalMetrics{}, Options: o}
		var sum EvalMetrics
		kinds := map[string]*EvalMetrics{}
		for _, q := range set.Queries {
			hits := l.SearchWith(q.Query, 10, f, o)
			qm := scoreQuery(q, hits)
			add(&sum, qm)
			km := kinds[q.Kind]
			if km == nil {
				km = &EvalMetrics{}
				kinds[q.Kind] = km
			}
			add(km, qm)
			if qm.RecallAt10 == 0 {
				r.Misses = append(r.Misses, q.Query)
			}
		}
		r.All = mean(sum)
		for k, m := range kinds {
			r.ByKind[k] = mean(*m)
		}
		out = append(out, r)
	}
	return out, nil
}

func scoreQuery(q EvalQuery, hits []Hit) EvalMetrics {
	found := make([]bool, len(q.Relevant))
	var m EvalMetrics
	m.Queries = 1
	n5, n10 := 0, 0
	var dcg float64
	for rank, h := range hits {
		if rank >= 10 {
			break
		}
		for i, t := range q.Relevant {
			if found[i] || !t.matches(&h.Chunk) {
				continue
			}
			found[i] = true
			if m.MRR == 0 {
				m.MRR = 1 / float64(rank+1)
			}
			dcg += 1 / math.Log2(float64(rank+2))
			if rank < 5 {
				n5++
			}
			n10++
			break
		}
	}
	var idcg float64
	for i := range min(len(q.Relevant), 10) {
		idcg += 1 / math.Log2(float64(i+2))
	}
	m.RecallAt5 = float64(n5) / float64(len(q.Relevant))
	m.RecallAt10 = float64(n10) / float64(len(q.Relevant))
	m.NDCG = dcg / idcg
	return m
}

func add(s *EvalMetrics, m EvalMetrics) {
	s.Queries += m.Queries
	s.RecallAt5 += m.RecallAt5
	s.RecallAt10 += m.RecallAt10
	s.MRR += m.MRR
	s.NDCG += m.NDCG
}

func mean(s EvalMetrics) EvalMetrics {
	if s.Queries == 0 {
		return s
	}
	n := float64(s.Queries)
	return EvalMetrics{Queries: s.Queries, RecallAt5: s.RecallAt5 / n, RecallAt10: s.RecallAt10 / n, MRR: s.MRR / n, NDCG: s.NDCG / n}
}

// WriteEvalTable writes results as a text table, one row per mode, then
// one row per mode and query kind.
func WriteEvalTable(w io.Writer, set EvalSet, results []EvalResult) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "set\tmode\tkind\tqueries\trecall@5\trecall@10\tMRR\tnDCG@10\t\n")
	row := func(mode SearchMode, kind string, m EvalMetrics) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.3f\t%.3f\t%.3f\t%.3f\t\n", set.Name, mode, kind, m.Queries, m.RecallAt5, m.RecallAt10, m.MRR, m.NDCG)
	}
	for _, r := range results {
		row(r.Mode, "all", r.All)
	}
	for _, r := range results {
		for _, k := range slices.Sorted(maps.Keys(r.ByKind)) {
			row(r.Mode, k, r.ByKind[k])
		}
	}
	return tw.Flush()
}

package guard

import (
	"embed"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// The labeled sets are testdata/inputs.tsv (player lines: benign, or
// the input reason a check must give), testdata/outputs.tsv (NPC
// replies: ok, or the output reason a filter must give, with the game's
// rating and the NPC whose secrets and out-of-scope lore apply) and
// testdata/context.json (those NPCs, from the demo world).
//
// Held-out rates. The sets grew in batches, and the rates each batch got
// from the patterns as they stood before it was added are the best
// estimate of how the checks fare on phrasings nobody tuned them for
// (measured with EvalInputs/EvalOutputs on the batch alone):
//
//   - inputs batch 2 (40 benign, 35 attacks), patterns tuned on batch 1:
//     detection 0.54 (19/35), false positives 0/40;
//   - inputs batch 3 (30 benign, 25 attacks, phrased further from the
//     usual attacks), patterns tuned on batches 1-2: detection 0.24
//     (6/25 blocked), false positives 0/30;
//   - outputs batch 2 (22 ok, 29 blocked), filters tuned on batch 1:
//     detection 0.72 (21/29: persona breaks 5/10, lore leaks 2/4,
//     profanity 4/5, topics 5/5, secrets 5/5), false positives 0/22.
//
// The patterns were then widened to cover those batches too, so the
// rates on the whole sets (TestLabeledSets, `hearth guard-eval`) measure
// coverage of the listed phrasings, not generalisation. A last batch,
// testdata/heldout_inputs.tsv and testdata/heldout_outputs.tsv (SetHeldOut),
// was written after the patterns were final and is never tuned against;
// `hearth guard-eval` prints it. When committed it measured: inputs
// detection 0.13 (4/30 with their own reason, 6/30 blocked), false
// positives 0/30; outputs detection 0.47 (7/15: persona breaks 0/5, lore
// paraphrases 0/2, secrets 3/4, topics 2/2, profanity 2/2), false
// positives 1/15. Pattern lists keep false positives near zero but miss
// novel wordings; a learned classifier is the next step.
//
//go:embed testdata/inputs.tsv testdata/outputs.tsv testdata/context.json
//go:embed testdata/heldout_inputs.tsv testdata/heldout_outputs.tsv
var labeled embed.FS

// Benign is the label of lines that must pass.
const Benign = "benign"

// OK is the label of replies that must pass.
const OK = "ok"

// Example is one labeled line of a set.
type Example struct {
	Line   int    // 1-based line in its file
	Label  string // Benign/OK or a Reason
	Rating Rating // outputs only
	NPC    string // outputs only: an entry of context.json, "" for none
	Text   string
}

// LabeledInputs returns the labeled player lines of testdata/inputs.tsv.
func LabeledInputs() ([]Example, error) {
	return parseSet("testdata/inputs.tsv", 2)
}

// LabeledOutputs returns the labeled replies of testdata/outputs.tsv.
func LabeledOutputs() ([]Example, error) {
	return parseSet("testdata/outputs.tsv", 4)
}

// Set names for EvalInputsSet and EvalOutputsSet.
const (
	SetMain    = ""        // inputs.tsv, outputs.tsv: the tuned sets
	SetHeldOut = "heldout" // heldout_*.tsv: never tuned against
)

func parseSet(name string, cols int) ([]Example, error) {
	data, err := labeled.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var out []Example
	for i, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "\t", cols)
		if len(f) != cols {
			return nil, fmt.Errorf("guard: %s:%d: want %d tab-separated fields", name, i+1, cols)
		}
		ex := Example{Line: i + 1, Label: f[0]}
		if cols == 4 {
			ex.Rating, ex.NPC = Rating(f[1]), f[2]
			if ex.NPC == "-" {
				ex.NPC = ""
			}
		}
		if ex.Text, err = unescape(f[cols-1]); err != nil {
			return nil, fmt.Errorf("guard: %s:%d: %w", name, i+1, err)
		}
		out = append(out, ex)
	}
	return out, nil
}

// unescape decodes \uXXXX, \UXXXXXXXX, \xHH (a raw byte), \t, \n, \r and
// \\, and a leading "repeat:N:" that repeats the rest N times.
func unescape(s string) (string, error) {
	n := 1
	if rest, ok := strings.CutPrefix(s, "repeat:"); ok {
		num, body, ok := strings.Cut(rest, ":")
		k, err := strconv.Atoi(num)
		if !ok || err != nil || k < 1 {
			return "", fmt.Errorf("bad repeat prefix in %q", s)
		}
		n, s = k, body
	}
	var b []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b = append(b, c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b = append(b, '\t')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case '\\':
			b = append(b, '\\')
		case 'x', 'u', 'U':
			w := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[i]]
			if i+1+w > len(s) {
				return "", fmt.Errorf("short escape in %q", s)
			}
			v, err := strconv.ParseUint(s[i+1:i+1+w], 16, 32)
			if err != nil {
				return "", fmt.Errorf("bad escape in %q: %w", s, err)
			}
			if s[i] == 'x' {
				b = append(b, byte(v))
			} else {
				b = append(b, string(rune(v))...)
			}
			i += w
		default:
			b = append(b, '\\', s[i])
		}
	}
	return strings.Repeat(string(b), n), nil
}

// EvalContext is the per-NPC context of the output set: secrets and
// lore out of scope, from testdata/context.json.
type EvalContext struct {
	NPCs map[string]struct {
		Public     []string `json:"public"`
		Secrets    []string `json:"secrets"`
		OutOfScope []string `json:"out_of_scope"`
		InScope    []string `json:"in_scope"`
	} `json:"npcs"`
}

// LabeledContext returns the context of the output set.
func LabeledContext() (*EvalContext, error) {
	data, err := labeled.ReadFile("testdata/context.json")
	if err != nil {
		return nil, err
	}
	var c EvalContext
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("guard: testdata/context.json: %w", err)
	}
	return &c, nil
}

// Score is the outcome of one category of a labeled set.
type Score struct {
	Label string
	N     int // examples with this label
	// Hits: for an attack label, the examples blocked with that reason
	// (detection); for Benign/OK, the examples blocked for any reason
	// (false positives).
	Hits int
	// Misses lists the examples counted against the score, with what the
	// check said, for reports.
	Misses []string
}

// Rate is Hits/N, 0 for an empty category.
func (s Score) Rate() float64 {
	if s.N == 0 {
		return 0
	}
	return float64(s.Hits) / float64(s.N)
}

// Report is the evaluation of a labeled set: one Score per label, the
// benign (or ok) one first, then by label.
type Report struct {
	Set    string
	Scores []Score
}

// Score returns the score of label (zero when absent).
func (r Report) Score(label string) Score {
	for _, s := range r.Scores {
		if s.Label == label {
			return s
		}
	}
	return Score{Label: label}
}

// Detection is the share of all attack examples blocked with their
// label's reason.
func (r Report) Detection() float64 {
	n, h := 0, 0
	for _, s := range r.Scores {
		if s.Label != Benign && s.Label != OK {
			n += s.N
			h += s.Hits
		}
	}
	if n == 0 {
		return 0
	}
	return float64(h) / float64(n)
}

func (r Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", r.Set)
	for _, s := range r.Scores {
		what := "detection"
		if s.Label == Benign || s.Label == OK {
			what = "false positives"
		}
		fmt.Fprintf(&b, "  %-14s n=%-4d %-15s %.3f (%d/%d)\n", s.Label, s.N, what, s.Rate(), s.Hits, s.N)
	}
	fmt.Fprintf(&b, "  %-14s        detection       %.3f\n", "all attacks", r.Detection())
	return b.String()
}

func score(set string, exs []Example, neutral string, check func(Example) Verdict) Report {
	by := map[string]*Score{}
	for _, ex := range exs {
		s := by[ex.Label]
		if s == nil {
			s = &Score{Label: ex.Label}
			by[ex.Label] = s
		}
		s.N++
		v := check(ex)
		switch {
		case ex.Label == neutral && v.Blocked():
			s.Hits++
			s.Misses = append(s.Misses, fmt.Sprintf("line %d: %s (%s): %q", ex.Line, v.Reason, v.Detail, ex.Text))
		case ex.Label != neutral && string(v.Reason) == ex.Label:
			s.Hits++
		case ex.Label != neutral:
			s.Misses = append(s.Misses, fmt.Sprintf("line %d: got %q (%s): %q", ex.Line, v.Reason, v.Detail, ex.Text))
		}
	}
	r := Report{Set: set}
	for _, s := range by {
		r.Scores = append(r.Scores, *s)
	}
	sort.Slice(r.Scores, func(i, j int) bool {
		a, b := r.Scores[i].Label, r.Scores[j].Label
		if (a == neutral) != (b == neutral) {
			return a == neutral
		}
		return a < b
	})
	return r
}

// EvalInputs runs CheckInput with default Limits on the labeled inputs.
func EvalInputs() (Report, error) { return EvalInputsSet(SetMain) }

// EvalOutputs runs the output filters on the labeled replies; see
// EvalOutputsSet.
func EvalOutputs() (Report, error) { return EvalOutputsSet(SetMain) }

func setFile(set, kind string) (string, error) {
	switch set {
	case SetMain:
		return "testdata/" + kind + ".tsv", nil
	case SetHeldOut:
		return "testdata/heldout_" + kind + ".tsv", nil
	}
	return "", fmt.Errorf("guard: unknown labeled set %q", set)
}

// EvalInputsSet runs CheckInput with default Limits on the labeled
// inputs of set (SetMain or SetHeldOut).
func EvalInputsSet(set string) (Report, error) {
	name, err := setFile(set, "inputs")
	if err != nil {
		return Report{}, err
	}
	exs, err := parseSet(name, 2)
	if err != nil {
		return Report{}, err
	}
	return score("inputs ("+name+")", exs, Benign, func(ex Example) Verdict {
		return CheckInput(ex.Text, Limits{})
	}), nil
}

// EvalOutputsSet runs the output filters on the labeled replies of set
// (SetMain or SetHeldOut), each under its rating's Policy with the
// built-in lists and, for a named NPC, its secrets and out-of-scope lore
// (DefaultNGram).
func EvalOutputsSet(set string) (Report, error) {
	name, err := setFile(set, "outputs")
	if err != nil {
		return Report{}, err
	}
	exs, err := parseSet(name, 4)
	if err != nil {
		return Report{}, err
	}
	ctx, err := LabeledContext()
	if err != nil {
		return Report{}, err
	}
	filters := map[Rating]*Filter{}
	secrets := map[string]*Secrets{}
	loreIx := map[string]*LoreIndex{}
	for id, n := range ctx.NPCs {
		secrets[id] = NewSecrets(n.Secrets, n.Public...)
		ix := NewLoreIndex(n.OutOfScope, 0)
		ix.Allow(n.InScope...)
		loreIx[id] = ix
	}
	for _, ex := range exs {
		if ex.NPC != "" && secrets[ex.NPC] == nil {
			return Report{}, fmt.Errorf("guard: outputs.tsv:%d: npc %q not in context.json", ex.Line, ex.NPC)
		}
		if _, err := ParseRating(string(ex.Rating)); err != nil {
			return Report{}, fmt.Errorf("guard: outputs.tsv:%d: %w", ex.Line, err)
		}
	}
	return score("outputs ("+name+")", exs, OK, func(ex Example) Verdict {
		f := filters[ex.Rating]
		if f == nil {
			f = NewFilter(Policy{Rating: ex.Rating})
			filters[ex.Rating] = f
		}
		return CheckReply(Normalize(ex.Text), f, secrets[ex.NPC], loreIx[ex.NPC])
	}), nil
}

// CheckReply runs every output filter on a normalised reply, in the order
// a report names them: persona break, secret leak, lore leak, blocked
// topic, profanity. secrets and lore may be nil.
func CheckReply(t Text, f *Filter, secrets *Secrets, lore interface{ Check(Text) Verdict }) Verdict {
	if v := CheckPersona(t); v.Blocked() {
		return v
	}
	if v := secrets.Check(t); v.Blocked() {
		return v
	}
	if lore != nil {
		if v := lore.Check(t); v.Blocked() {
			return v
		}
	}
	if v := f.CheckTopics(t); v.Blocked() {
		return v
	}
	return f.CheckProfanity(t)
}

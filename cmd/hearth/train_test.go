package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// writeTrainCorpus writes a 50-line corpus with a learnable pattern, plus
// one malformed line (line 3).
func writeTrainCorpus(t *testing.T, path string) {
	t.Helper()
	names := []string{"Mira", "Oswin", "Tamsin", "Brann", "Elda"}
	places := []string{"bridge", "mill", "gate", "well", "forge", "inn", "chapel", "market", "tower", "docks"}
	var b strings.Builder
	line := 0
	for i, p := range places {
		for j, n := range names {
			prefix := "You are " + n + ", a villager. "
			rec := map[string]any{
				"prompt":       prefix + "Q: Who keeps the " + p + "?",
				"prefix_bytes": len(prefix),
				"response":     names[(i+j)%len(names)] + " keeps the " + p + ".",
				"kind":         "lore_qa",
				"extra":        i,
			}
			js, _ := json.Marshal(rec)
			b.Write(js)
			b.WriteByte('\n')
			line++
			if line == 2 {
				b.WriteString("{not json\n")
			}
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func runTrain(t *testing.T, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if err := cmdTrain(context.Background(), args, nil, &out, &errb); err != nil {
		t.Fatalf("hearth train %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

func floatAfter(t *testing.T, s, re string) float64 {
	t.Helper()
	m := regexp.MustCompile(re + ` ([0-9.]+)`).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no %q in output:\n%s", re, s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestTrainCommand trains a tiny model for 30 steps, checks the GGUF loads
// and the loss fell, then stops a second run at step 12 and resumes it,
// which must write the same file byte for byte.
func TestTrainCommand(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.jsonl")
	writeTrainCorpus(t, corpus)
	common := []string{"-corpus", corpus, "-steps", "30", "-vocab", "300", "-dim", "16", "-layers", "1", "-heads", "2",
		"-kv-heads", "1", "-ffn", "32", "-ctx", "96", "-lr", "1e-2", "-batch-tokens", "600", "-val", "0.1",
		"-eval-every", "10", "-progress", "off"}
	a := filepath.Join(dir, "a.gguf")
	out, errs := runTrain(t, append(common, "-out", a)...)
	t.Logf("stdout:\n%s", out)
	if !strings.Contains(errs, "line 3") {
		t.Errorf("the malformed line 3 is not reported:\n%s", errs)
	}
	if !strings.Contains(errs, "step 30/30") {
		t.Errorf("no progress lines on stderr:\n%s", errs)
	}
	before := floatAfter(t, out, "val loss before:")
	after := floatAfter(t, out, ", val loss")
	if !(after < before-0.5) {
		t.Errorf("validation loss %g → %g did not fall", before, after)
	}
	if !strings.Contains(out, "50 examples") || !strings.Contains(out, "wrote "+a) {
		t.Errorf("summary lines missing:\n%s", out)
	}
	w, tok, err := llama.LoadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if w.Config.Dim != 16 || w.Config.Layers != 1 || len(tok.Tokens) != w.Config.VocabSize {
		t.Fatalf("loaded config %+v with %d tokens", w.Config, len(tok.Tokens))
	}

	// Quantised export loads too.
	q := filepath.Join(dir, "q.gguf")
	runTrain(t, "-corpus", corpus, "-steps", "2", "-vocab", "300", "-dim", "32", "-layers", "1", "-heads", "2",
		"-kv-heads", "1", "-ffn", "64", "-ctx", "96", "-progress", "off", "-type", "q8_0", "-out", q)
	if _, _, err := llama.LoadFile(q); err != nil {
		t.Fatalf("q8_0 export: %v", err)
	}

	// Stop at step 12, then resume to 30.
	ck := filepath.Join(dir, "ck")
	b := filepath.Join(dir, "b.gguf")
	out, _ = runTrain(t, append(common, "-out", b, "-checkpoint", ck, "-stop-at", "12", "-checkpoint-every", "10", "-snapshots")...)
	if !strings.Contains(out, "stopped at step 12") {
		t.Fatalf("no stop message:\n%s", out)
	}
	// -snapshots wrote the model at the step-10 checkpoint, loadable.
	if sw, _, err := llama.LoadFile(filepath.Join(ck, "step-10.gguf")); err != nil || sw.Config.Dim != 16 {
		t.Fatalf("snapshot at step 10: %v", err)
	}
	if _, err := os.Stat(b); err == nil {
		t.Fatal("a stopped run wrote the GGUF")
	}
	out, errs = runTrain(t, "-corpus", corpus, "-out", b, "-checkpoint", ck, "-resume", "-progress", "off", "-dim", "99")
	if !strings.Contains(out, "from step 12") || !strings.Contains(errs, "-dim ignored") {
		t.Fatalf("resume output:\n%s\n%s", out, errs)
	}
	ga, _ := os.ReadFile(a)
	gb, _ := os.ReadFile(b)
	if !bytes.Equal(ga, gb) {
		t.Fatal("the stopped-and-resumed run wrote a different GGUF than the uninterrupted one")
	}
}

func TestTrainCommandErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.jsonl")
	os.WriteFile(empty, []byte("\n{bad\n"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-out", "x.gguf"}, "need -corpus"},
		{[]string{"-corpus", empty, "-out", filepath.Join(dir, "x.gguf")}, "no usable record"},
		{[]string{"-corpus", empty, "-out", "x", "-type", "q4"}, "-type"},
		{[]string{"-corpus", empty, "-out", "x", "-resume"}, "-resume needs -checkpoint"},
		{[]string{"-corpus", empty, "-out", "x", "-snapshots"}, "-snapshots needs -checkpoint"},
		{[]string{"-corpus", empty, "-out", "x", "-steps", "3", "-epochs", "2"}, "not both"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		err := cmdTrain(context.Background(), c.args, nil, &out, &errb)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want %q", c.args, err, c.want)
		}
	}
	// A corrupt checkpoint is a clear error.
	ck := filepath.Join(dir, "ck")
	os.MkdirAll(ck, 0o755)
	os.WriteFile(filepath.Join(ck, checkpointFile), []byte("garbage"), 0o644)
	corpus := filepath.Join(dir, "c.jsonl")
	writeTrainCorpus(t, corpus)
	var out, errb bytes.Buffer
	err := cmdTrain(context.Background(), []string{"-corpus", corpus, "-out", "x", "-checkpoint", ck, "-resume"}, nil, &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "not a Hearth training checkpoint") {
		t.Errorf("corrupt checkpoint: %v", err)
	}
}

// -init starts a second stage from a trained model: its tokenizer and
// shape carry over, and training starts from its loss, not from random.
func TestTrainCommandInitFromModel(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.jsonl")
	writeTrainCorpus(t, corpus)
	common := []string{"-corpus", corpus, "-lr", "1e-2", "-batch-tokens", "600", "-val", "0.1", "-eval-every", "0", "-progress", "off"}
	a := filepath.Join(dir, "a.gguf")
	out, _ := runTrain(t, append(common, "-out", a, "-steps", "30", "-vocab", "300", "-dim", "16", "-layers", "1",
		"-heads", "2", "-kv-heads", "1", "-ffn", "32", "-ctx", "96")...)
	first := floatAfter(t, out, ", val loss")
	b := filepath.Join(dir, "b.gguf")
	out, errs := runTrain(t, append(common, "-out", b, "-steps", "5", "-init", a, "-dim", "64")...)
	if !strings.Contains(errs, "-dim ignored") {
		t.Errorf("the ignored shape flag is not reported:\n%s", errs)
	}
	if before := floatAfter(t, out, "val loss before:"); before > first+1e-9 || before < first-1e-9 {
		t.Fatalf("second stage starts at val loss %g, the first ended at %g", before, first)
	}
	wa, ta := loadModel(t, a)
	wb, tb := loadModel(t, b)
	if wb.Config != wa.Config || !sameVocabulary(ta, tb) {
		t.Fatalf("-init changed the shape or the tokenizer: %+v vs %+v", wb.Config, wa.Config)
	}
	var out2, errb strings.Builder
	if err := cmdTrain(context.Background(), append(common, "-out", b, "-init", filepath.Join(dir, "missing.gguf")), nil, &out2, &errb); err == nil || !strings.Contains(err.Error(), "-init") {
		t.Fatalf("missing -init file: %v", err)
	}
}

// -tokenizer starts random weights on another model's vocabulary (a
// curriculum's first stage), and -ctx with -init lengthens the context of
// the next stage (RoPE has no learned positions).
func TestTrainCommandTokenizerAndLongerContext(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.jsonl")
	writeTrainCorpus(t, corpus)
	common := []string{"-corpus", corpus, "-lr", "1e-2", "-batch-tokens", "600", "-val", "0.1", "-eval-every", "0", "-progress", "off",
		"-layers", "1", "-heads", "2", "-kv-heads", "1", "-ffn", "32"}
	a := filepath.Join(dir, "a.gguf")
	runTrain(t, append(common, "-out", a, "-steps", "3", "-vocab", "300", "-dim", "16", "-ctx", "96")...)
	b := filepath.Join(dir, "b.gguf")
	runTrain(t, append(common, "-out", b, "-steps", "3", "-tokenizer", a, "-vocab", "400", "-dim", "24", "-ctx", "96")...)
	c := filepath.Join(dir, "c.gguf")
	runTrain(t, append(common, "-out", c, "-steps", "3", "-init", b, "-ctx", "192")...)
	wa, ta := loadModel(t, a)
	wb, tb := loadModel(t, b)
	wc, tc := loadModel(t, c)
	if !sameVocabulary(ta, tb) || !sameVocabulary(tb, tc) {
		t.Fatal("-tokenizer or -init did not keep the vocabulary")
	}
	if wa.Config.Dim != 16 || wb.Config.Dim != 24 || wc.Config.Dim != 24 {
		t.Fatalf("widths %d, %d, %d; want 16, then 24 from -dim (-tokenizer takes no weights), kept by -init", wa.Config.Dim, wb.Config.Dim, wc.Config.Dim)
	}
	if wa.Config.ContextLen != 96 || wb.Config.ContextLen != 96 || wc.Config.ContextLen != 192 {
		t.Fatalf("contexts %d, %d, %d; want 96, 96, 192", wa.Config.ContextLen, wb.Config.ContextLen, wc.Config.ContextLen)
	}
	var out, errb strings.Builder
	if err := cmdTrain(context.Background(), append(common, "-out", filepath.Join(dir, "d.gguf"), "-init", b, "-ctx", "0"), nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "-ctx") {
		t.Fatalf("-init with -ctx 0: error %v, want one naming -ctx", err)
	}
	for _, bad := range [][]string{{"-tokenizer", filepath.Join(dir, "missing.gguf")}, {"-tokenizer", a, "-init", b}} {
		if err := cmdTrain(context.Background(), append(common, append([]string{"-out", filepath.Join(dir, "d.gguf")}, bad...)...), nil, &out, &errb); err == nil || !strings.Contains(err.Error(), "-tokenizer") {
			t.Fatalf("%v: error %v, want one naming -tokenizer", bad, err)
		}
	}
}

// hearth model-average writes the mean of models that share a shape and a
// vocabulary, and refuses models that do not.
func TestModelAverageCommand(t *testing.T) {
	dir := t.TempDir()
	corpus := filepath.Join(dir, "corpus.jsonl")
	writeTrainCorpus(t, corpus)
	common := []string{"-corpus", corpus, "-lr", "1e-2", "-batch-tokens", "600", "-val", "0.1", "-eval-every", "0", "-progress", "off",
		"-layers", "1", "-heads", "2", "-kv-heads", "1", "-ffn", "32", "-dim", "16", "-vocab", "300", "-ctx", "96", "-steps", "3"}
	a, b, c := filepath.Join(dir, "a.gguf"), filepath.Join(dir, "b.gguf"), filepath.Join(dir, "c.gguf")
	runTrain(t, append(common, "-out", a)...)
	runTrain(t, append(common, "-out", b, "-seed", "2", "-tokenizer", a)...)
	runTrain(t, append(common, "-out", c, "-vocab", "280")...)
	avg := filepath.Join(dir, "avg.gguf")
	var out, errb bytes.Buffer
	if err := cmdModelAverage(context.Background(), []string{"-out", avg, a, b}, nil, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	wa, _ := loadModel(t, a)
	wb, _ := loadModel(t, b)
	wm, _ := loadModel(t, avg)
	if !strings.Contains(out.String(), "mean of 2 models") {
		t.Fatalf("report: %s", out.String())
	}
	// F32 on disk: the mean of two float32 values, rounded once.
	for i, v := range wm.TokenEmbed {
		if want := float64(float32((wa.TokenEmbed[i] + wb.TokenEmbed[i]) / 2)); v != want {
			t.Fatalf("token_embd[%d] = %g, want %g", i, v, want)
		}
	}
	for _, bad := range [][]string{{"-out", avg}, {a, b}, {"-out", avg, a, c}, {"-out", avg, "-type", "q4", a}} {
		if err := cmdModelAverage(context.Background(), bad, nil, &out, &errb); err == nil {
			t.Fatalf("%v: no error", bad)
		}
	}
}

// loadModel reads a GGUF model the trainer wrote, failing the test on error.
func loadModel(t *testing.T, path string) (*llama.Weights, *llama.TokenizerMeta) {
	t.Helper()
	w, tok, err := llama.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return w, tok
}

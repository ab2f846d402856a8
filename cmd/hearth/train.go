package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/hearth-ai/hearth/inference/embedded/bpe"
	"github.com/hearth-ai/hearth/inference/embedded/gguf"
	"github.com/hearth-ai/hearth/inference/embedded/llama"
	"github.com/hearth-ai/hearth/inference/embedded/train"
)

// checkpointFile is the checkpoint's name inside the -checkpoint folder.
const checkpointFile = "train.ckpt"

// errStopped is the cause of the run's context when -stop-at is reached.
var errStopped = errors.New("stopped at -stop-at")

// cmdTrain trains the embedded llama model on a JSONL corpus and writes it
// as GGUF. It prints to stdout the corpus, tokenizer and model sizes, the
// validation loss before training, then the final train and validation
// losses, throughput and the output path; progress goes to stderr (a bar on
// a terminal, plain lines otherwise), as do skipped corpus lines.
func cmdTrain(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth train", flag.ContinueOnError)
	fs.SetOutput(stderr)
	corpus := fs.String("corpus", "", `training corpus, JSONL: {"prompt", "prefix_bytes", "response", "kind"} per line (required)`)
	out := fs.String("out", "", "GGUF file to write (required)")
	ckDir := fs.String("checkpoint", "", "folder for the checkpoint ("+checkpointFile+"); none when empty")
	resume := fs.Bool("resume", false, "continue the run checkpointed in -checkpoint (model, tokenizer and options come from it)")
	seed := fs.Uint64("seed", 1, "seed of the initialisation, validation split and shuffles")
	steps := fs.Int("steps", 0, "optimizer steps (0: from -epochs)")
	epochs := fs.Float64("epochs", 1, "passes over the training split, when -steps is 0")
	vocab := fs.Int("vocab", 2048, "tokenizer vocabulary size (byte-level BPE, trained on the corpus)")
	dim := fs.Int("dim", 128, "model width")
	layers := fs.Int("layers", 4, "transformer blocks")
	heads := fs.Int("heads", 4, "attention heads")
	kvHeads := fs.Int("kv-heads", 2, "key/value heads (grouped-query attention)")
	ffn := fs.Int("ffn", 384, "SwiGLU hidden width")
	ctxLen := fs.Int("ctx", 512, "context length in tokens; longer examples are dropped")
	tied := fs.Bool("tied", false, "tie the output projection to the token embedding")
	lr := fs.Float64("lr", 3e-3, "peak learning rate (AdamW, warmup then cosine to 10%)")
	warmup := fs.Int("warmup", -1, "warmup steps (-1: 5% of the steps, at most 200)")
	batch := fs.Int("batch-tokens", 16384, "tokens per batch")
	shards := fs.Int("shards", 16, "pieces a batch is cut into for parallel workers, the most cores a step uses (part of what the result depends on)")
	val := fs.Float64("val", 0.05, "fraction of the examples held out for validation")
	typ := fs.String("type", "f32", "GGUF tensor type of the matrices: f32, f16 or q8_0")
	name := fs.String("name", "hearth-npc", "model name written to the GGUF (general.name)")
	threads := fs.Int("threads", 0, "cores to use (0: all)")
	evalEvery := fs.Int("eval-every", 50, "validation loss every this many steps (0: only at the end)")
	ckEvery := fs.Int("checkpoint-every", 100, "checkpoint every this many steps (0: only at the end and on interrupt)")
	snapshots := fs.Bool("snapshots", false, "with -checkpoint, also write the model as GGUF at every checkpoint (DIR/step-N.gguf), to evaluate a long run while it trains")
	stopAt := fs.Int("stop-at", 0, "stop after this step with a checkpoint, to continue later with -resume (0: run to the end)")
	tokFrom := fs.String("tokenizer", "", "take the tokenizer from this GGUF model instead of training one on the corpus (random weights of the shape flags; so that stages trained from scratch on different corpora share one vocabulary); -vocab is then ignored")
	initFrom := fs.String("init", "", "start from this GGUF model's weights and tokenizer (a second stage or fine-tuning) instead of random weights; the shape flags and -vocab are then ignored, except -ctx (RoPE positions are not learned)")
	progress := fs.String("progress", "auto", "progress bar on stderr: auto (when stderr is a terminal), on or off (plain lines)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hearth train -corpus corpus.jsonl -out model.gguf [-checkpoint DIR [-resume]] [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags go before it; see -h)", fs.Arg(0))
	}
	start := time.Now()
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	gtype, err := ggufType(*typ)
	if err != nil {
		return err
	}
	var bar bool
	switch *progress {
	case "auto":
		bar = isTerminal(stderr)
	case "on":
		bar = true
	case "off":
	default:
		return fmt.Errorf("-progress %q: want auto, on or off", *progress)
	}
	switch {
	case *corpus == "" || *out == "":
		fs.Usage()
		return errors.New("need -corpus and -out")
	case *resume && *ckDir == "":
		return errors.New("-resume needs -checkpoint DIR")
	case *snapshots && *ckDir == "":
		return errors.New("-snapshots needs -checkpoint DIR")
	case *resume && *initFrom != "":
		return errors.New("give -resume or -init, not both")
	case *tokFrom != "" && (*resume || *initFrom != ""):
		return errors.New("-tokenizer is for a run from random weights: -init and -resume bring their own tokenizer")
	case set["steps"] && set["epochs"]:
		return errors.New("give -steps or -epochs, not both")
	case *steps < 0 || !(*epochs > 0):
		return fmt.Errorf("-steps %d must be ≥ 0 and -epochs %g positive", *steps, *epochs)
	case *threads < 0 || *evalEvery < 0 || *ckEvery < 0 || *stopAt < 0:
		return errors.New("-threads, -eval-every, -checkpoint-every and -stop-at must be ≥ 0")
	}
	if *threads > 0 {
		// gonum's Dgemm parallelises over GOMAXPROCS too: bound both.
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(*threads))
	}

	f, err := os.Open(*corpus)
	if err != nil {
		return err
	}
	recs, skipped, err := train.ReadCorpus(f)
	f.Close()
	for i, s := range skipped {
		if i == 20 {
			fmt.Fprintf(stderr, "skipped: … and %d more lines\n", len(skipped)-20)
			break
		}
		fmt.Fprintf(stderr, "skipped: %s: %v\n", *corpus, s)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", *corpus, err)
	}

	var (
		tok      *bpe.Tokenizer
		cp       *train.Checkpoint
		cfg      llama.Config
		ckpt     string
		initW    *llama.Weights
		initMeta *llama.TokenizerMeta
	)
	if *ckDir != "" {
		ckpt = filepath.Join(*ckDir, checkpointFile)
	}
	if *resume {
		if cp, err = train.LoadCheckpoint(ckpt); err != nil {
			return err
		}
		if cp.Tokenizer == nil {
			return fmt.Errorf("%s holds no tokenizer", ckpt)
		}
		if tok, err = bpe.FromMeta(cp.Tokenizer); err != nil {
			return fmt.Errorf("%s: %w", ckpt, err)
		}
		cfg = cp.Config
		var ignored []string
		for _, n := range []string{"seed", "steps", "epochs", "vocab", "dim", "layers", "heads", "kv-heads", "ffn", "ctx", "tied", "lr", "warmup", "batch-tokens", "shards", "val"} {
			if set[n] {
				ignored = append(ignored, "-"+n)
			}
		}
		if len(ignored) > 0 {
			fmt.Fprintf(stderr, "resuming: %s ignored (the checkpoint's settings continue)\n", strings.Join(ignored, " "))
		}
	} else if *initFrom != "" {
		if initW, initMeta, err = llama.LoadFile(*initFrom); err != nil {
			return fmt.Errorf("-init: %w", err)
		}
		if tok, err = bpe.FromMeta(initMeta); err != nil {
			return fmt.Errorf("-init %s: %w", *initFrom, err)
		}
		if set["ctx"] {
			// RoPE has no learned position table, so a stage may train on
			// longer (or shorter) sequences than the model it starts from.
			initW.Config.ContextLen = *ctxLen
			if err := initW.Config.Validate(); err != nil {
				return fmt.Errorf("-ctx: %w", err)
			}
		}
		cfg = initW.Config
		for _, n := range []string{"vocab", "dim", "layers", "heads", "kv-heads", "ffn", "tied"} {
			if set[n] {
				fmt.Fprintf(stderr, "-init: -%s ignored (the model's shape continues)\n", n)
			}
		}
	} else {
		if *tokFrom != "" {
			if tok, err = tokenizerOf(*tokFrom); err != nil {
				return fmt.Errorf("-tokenizer: %w", err)
			}
		} else {
			texts := make([]string, 0, 2*len(recs))
			for _, r := range recs {
				texts = append(texts, r.Prompt, r.Response)
			}
			if tok, err = bpe.Train(texts, *vocab, []string{bpe.BOSName, bpe.EOSName, bpe.PADName}); err != nil {
				return err
			}
		}
		cfg = llama.Config{VocabSize: tok.VocabSize(), Dim: *dim, Layers: *layers, Heads: *heads, KVHeads: *kvHeads,
			FFNDim: *ffn, ContextLen: *ctxLen, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: *tied}
		if err := cfg.Validate(); err != nil {
			return err
		}
	}
	examples, dropped := train.Tokenize(tok, recs, cfg.ContextLen)
	if len(examples) == 0 {
		return fmt.Errorf("all %d examples are longer than the context of %d tokens", len(recs), cfg.ContextLen)
	}
	tokens := 0
	for _, e := range examples {
		tokens += len(e.Tokens)
	}
	fmt.Fprintf(stdout, "corpus: %d examples, %d tokens (skipped lines: %d; dropped, longer than %d tokens: %d)\n",
		len(examples), tokens, len(skipped), cfg.ContextLen, dropped)
	fmt.Fprintf(stdout, "tokenizer: %d tokens, %d merges\n", tok.VocabSize(), tok.NumMerges())
	fmt.Fprintf(stdout, "model: %d params (dim %d, %d layers, %d/%d heads, ffn %d, ctx %d, tied %v)\n",
		cfg.Params(), cfg.Dim, cfg.Layers, cfg.Heads, cfg.KVHeads, cfg.FFNDim, cfg.ContextLen, cfg.TiedEmbeddings)

	rt := train.Runtime{Workers: *threads, EvalEvery: *evalEvery, CheckpointEvery: *ckEvery, CheckpointPath: ckpt}
	var tr *train.Trainer
	if *resume {
		if tr, err = train.Resume(cp, examples, rt); err != nil {
			return err
		}
	} else {
		opt := train.DefaultOptions()
		opt.Seed, opt.LR, opt.BatchTokens, opt.Shards, opt.ValFraction = *seed, *lr, *batch, *shards, *val
		opt.Steps = *steps
		if opt.Steps == 0 {
			trn, _ := train.Split(examples, *val, *seed)
			n := 0
			for _, e := range trn {
				n += len(e.Tokens)
			}
			opt.Steps = max(1, int(math.Ceil(*epochs*float64(n)/float64(*batch))))
		}
		opt.WarmupSteps = *warmup
		if *warmup < 0 {
			opt.WarmupSteps = min(200, opt.Steps/20)
		}
		w := initW
		if w == nil {
			if w, err = llama.NewRandom(cfg, *seed); err != nil {
				return err
			}
		}
		if tr, err = train.New(w, tok.Meta(), examples, opt, rt); err != nil {
			return err
		}
	}
	opt := tr.Options()
	ntr, nval := tr.Split()
	fmt.Fprintf(stdout, "training: %d/%d examples train/validation, %d steps of %d tokens, lr %g, from step %d\n",
		ntr, nval, opt.Steps, opt.BatchTokens, opt.LR, tr.Step())
	fmt.Fprintf(stdout, "val loss before: %.4f\n", tr.ValLoss())

	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var pb *progressbar.ProgressBar
	if bar {
		pb = progressbar.NewOptions(opt.Steps,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("train"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetItsString("steps"),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish())
		_ = pb.Set(tr.Step())
	}
	every := max(1, opt.Steps/50)
	lastVal := math.NaN()
	tr.SetProgress(func(p train.Progress) {
		if !math.IsNaN(p.ValLoss) {
			lastVal = p.ValLoss
		}
		if pb != nil {
			pb.Describe(fmt.Sprintf("train loss %.3f val %.3f lr %.2g %.0f tok/s", p.Loss, lastVal, p.LR, p.TokensPerS))
			_ = pb.Set(p.Step)
		} else if p.Step%every == 0 || !math.IsNaN(p.ValLoss) || p.Step == p.Steps {
			v := "-"
			if !math.IsNaN(p.ValLoss) {
				v = fmt.Sprintf("%.4f", p.ValLoss)
			}
			fmt.Fprintf(stderr, "step %d/%d loss %.4f val %s lr %.3g grad-norm %.3g %.0f tokens/s %v\n",
				p.Step, p.Steps, p.Loss, v, p.LR, p.GradNorm, p.TokensPerS, p.Elapsed.Round(time.Second))
		}
		if *snapshots && p.Checkpoint && p.Step < p.Steps {
			// Between steps, on the training goroutine: the weights are still.
			snap := filepath.Join(*ckDir, fmt.Sprintf("step-%d.gguf", p.Step))
			if err := llama.WriteFile(snap, tr.Weights(), tr.Tokenizer(), gtype, *name); err != nil {
				fmt.Fprintf(stderr, "snapshot %s: %v\n", snap, err)
			}
		}
		if *stopAt > 0 && p.Step >= *stopAt && p.Step < p.Steps {
			cancel(errStopped)
		}
	})
	res, err := tr.Run(runCtx)
	if pb != nil {
		_ = pb.Exit()
	}
	if err != nil {
		if errors.Is(context.Cause(runCtx), errStopped) && ctx.Err() == nil {
			fmt.Fprintf(stdout, "stopped at step %d of %d; checkpoint %s; continue with -resume\n", res.Steps, opt.Steps, ckpt)
			return nil
		}
		if ckpt != "" && errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "interrupted at step %d; checkpoint %s; continue with -resume\n", res.Steps, ckpt)
		}
		return err
	}
	fmt.Fprintf(stdout, "train loss %.4f, val loss %.4f after %d steps\n", res.TrainLoss, res.ValLoss, res.Steps)
	fmt.Fprintf(stdout, "%d tokens in %v: %.0f tokens/s\n", res.Tokens, res.Duration.Round(time.Millisecond), res.TokensPerS)
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := llama.WriteFile(*out, tr.Weights(), tr.Tokenizer(), gtype, *name); err != nil {
		return err
	}
	if st, err := os.Stat(*out); err == nil {
		fmt.Fprintf(stdout, "wrote %s (%s, %.1f MB); total wall time %v\n", *out, strings.ToUpper(*typ), float64(st.Size())/1e6, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// tokenizerOf reads the byte-level BPE tokenizer of the GGUF model at path
// (its weights are read and dropped). Errors are the loader's.
func tokenizerOf(path string) (*bpe.Tokenizer, error) {
	_, meta, err := llama.LoadFile(path)
	if err != nil {
		return nil, err
	}
	return bpe.FromMeta(meta)
}

// ggufType is the GGUF tensor type named by a -type flag.
func ggufType(name string) (gguf.Type, error) {
	switch strings.ToLower(name) {
	case "f32":
		return gguf.TypeF32, nil
	case "f16":
		return gguf.TypeF16, nil
	case "q8_0":
		return gguf.TypeQ8_0, nil
	}
	return 0, fmt.Errorf("-type %q: want f32, f16 or q8_0", name)
}

// cmdModelAverage writes the element-wise mean of GGUF models of one shape
// and vocabulary (train.Average): checkpoint averaging of a run's
// snapshots (hearth train -snapshots), the last step of `make model`.
func cmdModelAverage(_ context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth model-average", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "GGUF file to write (required)")
	typ := fs.String("type", "f32", "GGUF tensor type of the matrices: f32, f16 or q8_0")
	name := fs.String("name", "hearth-npc", "model name written to the GGUF (general.name)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hearth model-average -out model.gguf [-type f32] [-name N] a.gguf b.gguf ...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("need -out and at least one model")
	}
	gtype, err := ggufType(*typ)
	if err != nil {
		return err
	}
	var ws []*llama.Weights
	var tok *llama.TokenizerMeta
	for _, path := range fs.Args() {
		w, t, err := llama.LoadFile(path)
		if err != nil {
			return err
		}
		if tok == nil {
			tok = t
		} else if !sameVocabulary(t, tok) {
			return fmt.Errorf("%s: its vocabulary differs from %s's; models to average must share one", path, fs.Arg(0))
		}
		ws = append(ws, w)
	}
	avg, err := train.Average(ws...)
	if err != nil {
		return err
	}
	if err := llama.WriteFile(*out, avg, tok, gtype, *name); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: the mean of %d models (%s)\n", *out, len(ws), gtype)
	return nil
}

// sameVocabulary reports whether two tokenizers have the same tokens and
// merges, so that token ids mean the same in both models.
func sameVocabulary(a, b *llama.TokenizerMeta) bool {
	return slices.Equal(a.Tokens, b.Tokens) && slices.Equal(a.Merges, b.Merges)
}

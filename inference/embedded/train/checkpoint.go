package train

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/hearth-ai/hearth/inference/embedded/llama"
)

// CheckpointVersion is the checkpoint format version written by
// SaveCheckpoint; LoadCheckpoint accepts only this version.
const CheckpointVersion = 1

// checkpointMagic opens every checkpoint file, before the zstd stream.
var checkpointMagic = []byte("HEARTHCK")

// ErrCheckpoint is wrapped by LoadCheckpoint's errors for a file that is not
// a checkpoint, is corrupt or truncated, or is inconsistent.
var ErrCheckpoint = errors.New("train: bad checkpoint")

// ErrCheckpointVersion is wrapped when a checkpoint has another format
// version than CheckpointVersion.
var ErrCheckpointVersion = errors.New("train: unsupported checkpoint version")

// ErrCorpusMismatch is returned by Resume when the examples are not the
// ones the checkpointed run trained on.
var ErrCorpusMismatch = errors.New("train: the corpus differs from the checkpointed run's")

// Checkpoint is a training run's full state: enough to resume it so that
// the weights come out bit-identical to an uninterrupted run.
type Checkpoint struct {
	Version    int
	Config     llama.Config
	Tokenizer  *llama.TokenizerMeta // nil when the run had none
	Options    Options
	Step       int    // optimizer steps taken
	Epoch      int    // shuffle epoch of the next batch
	Cursor     int    // next position in that epoch's shuffle
	CorpusHash uint64 // fingerprint of the examples (before the split)
	// Params, M, V: weights and AdamW moments, flat in
	// llama.Weights.Tensors order.
	Params, M, V []float64
	Recent       []float64 // the last batch losses (for Result.TrainLoss)
}

// Weights returns the checkpoint's weights (aliasing cp.Params).
func (cp *Checkpoint) Weights() *llama.Weights { return view(cp.Config, cp.Params) }

// wire is the msgpack form; float slices travel as little-endian bytes.
type wire struct {
	Version    int                  `msgpack:"version"`
	Config     llama.Config         `msgpack:"config"`
	Tokenizer  *llama.TokenizerMeta `msgpack:"tokenizer"`
	Options    Options              `msgpack:"options"`
	Step       int                  `msgpack:"step"`
	Epoch      int                  `msgpack:"epoch"`
	Cursor     int                  `msgpack:"cursor"`
	CorpusHash uint64               `msgpack:"corpus_hash"`
	Params     []byte               `msgpack:"params"`
	M          []byte               `msgpack:"adam_m"`
	V          []byte               `msgpack:"adam_v"`
	Recent     []float64            `msgpack:"recent"`
}

func floatsToBytes(x []float64) []byte {
	b := make([]byte, 8*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
	}
	return b
}

func bytesToFloats(b []byte) []float64 {
	x := make([]float64, len(b)/8)
	for i := range x {
		x[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return x
}

// Checkpoint returns a deep copy of the trainer's state.
func (t *Trainer) Checkpoint() *Checkpoint {
	return &Checkpoint{Version: CheckpointVersion, Config: t.cfg, Tokenizer: t.tok, Options: t.opt,
		Step: t.step, Epoch: t.epoch, Cursor: t.cursor, CorpusHash: t.hash,
		Params: append([]float64(nil), t.params...), M: append([]float64(nil), t.mom...),
		V: append([]float64(nil), t.vel...), Recent: append([]float64(nil), t.recent...)}
}

// SaveCheckpoint writes the trainer's state to path atomically: to a
// temporary file in the same directory, fsynced, then renamed over path
// (and the directory fsynced). The file is "HEARTHCK" followed by a zstd
// stream of the msgpack-encoded state. The directory is created if needed.
func (t *Trainer) SaveCheckpoint(path string) error {
	cp := t.Checkpoint()
	body, err := msgpack.Marshal(&wire{Version: cp.Version, Config: cp.Config, Tokenizer: cp.Tokenizer, Options: cp.Options,
		Step: cp.Step, Epoch: cp.Epoch, Cursor: cp.Cursor, CorpusHash: cp.CorpusHash,
		Params: floatsToBytes(cp.Params), M: floatsToBytes(cp.M), V: floatsToBytes(cp.V), Recent: cp.Recent})
	if err != nil {
		return fmt.Errorf("train: encode checkpoint: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".checkpoint-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("train: write checkpoint: %w", err)
	}
	if _, err := f.Write(checkpointMagic); err != nil {
		return fail(err)
	}
	zw, err := zstd.NewWriter(f, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(true))
	if err != nil {
		return fail(err)
	}
	if _, err := zw.Write(body); err != nil {
		zw.Close()
		return fail(err)
	}
	if err := zw.Close(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("train: write checkpoint: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("train: write checkpoint: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: not every filesystem syncs directories
		d.Close()
	}
	return nil
}

// LoadCheckpoint reads a checkpoint written by SaveCheckpoint. It returns
// an error wrapping ErrCheckpoint for a file that is not a checkpoint, is
// corrupt (zstd checksum, msgpack) or inconsistent (sizes, options), one
// wrapping ErrCheckpointVersion for another format version, or the file's
// read error.
func LoadCheckpoint(path string) (*Checkpoint, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(raw, checkpointMagic) {
		return nil, fmt.Errorf("%w: %s is not a Hearth training checkpoint", ErrCheckpoint, path)
	}
	zr, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(16<<30), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	body, err := zr.DecodeAll(raw[len(checkpointMagic):], nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s is corrupt: %v", ErrCheckpoint, path, err)
	}
	var head struct {
		Version int `msgpack:"version"`
	}
	if err := msgpack.Unmarshal(body, &head); err != nil {
		return nil, fmt.Errorf("%w: %s is corrupt: %v", ErrCheckpoint, path, err)
	}
	if head.Version != CheckpointVersion {
		return nil, fmt.Errorf("%w: %s has version %d, this build reads version %d", ErrCheckpointVersion, path, head.Version, CheckpointVersion)
	}
	var wr wire
	if err := msgpack.Unmarshal(body, &wr); err != nil {
		return nil, fmt.Errorf("%w: %s is corrupt: %v", ErrCheckpoint, path, err)
	}
	cp := &Checkpoint{Version: wr.Version, Config: wr.Config, Tokenizer: wr.Tokenizer, Options: wr.Options,
		Step: wr.Step, Epoch: wr.Epoch, Cursor: wr.Cursor, CorpusHash: wr.CorpusHash,
		Params: bytesToFloats(wr.Params), M: bytesToFloats(wr.M), V: bytesToFloats(wr.V), Recent: wr.Recent}
	if err := cp.validate(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCheckpoint, path, err)
	}
	return cp, nil
}

func (cp *Checkpoint) validate() error {
	if err := cp.Config.Validate(); err != nil {
		return err
	}
	if err := cp.Options.Validate(); err != nil {
		return err
	}
	n := cp.Config.Params()
	if len(cp.Params) != n || len(cp.M) != n || len(cp.V) != n {
		return fmt.Errorf("%d weights and %d/%d moments, config needs %d", len(cp.Params), len(cp.M), len(cp.V), n)
	}
	if cp.Step < 0 || cp.Step > cp.Options.Steps || cp.Epoch < 0 || cp.Cursor < 0 {
		return fmt.Errorf("step %d of %d, epoch %d, cursor %d out of range", cp.Step, cp.Options.Steps, cp.Epoch, cp.Cursor)
	}
	if cp.Tokenizer != nil && len(cp.Tokenizer.Tokens) != cp.Config.VocabSize {
		return fmt.Errorf("tokenizer has %d tokens, config says vocabulary %d", len(cp.Tokenizer.Tokens), cp.Config.VocabSize)
	}
	return nil
}

// Resume returns a trainer that continues the checkpointed run on
// examples, which must be the examples the run started with (same
// tokenizer, same order): it returns ErrCorpusMismatch otherwise, and New's
// errors. The run continues bit-identically to one never interrupted.
func Resume(cp *Checkpoint, examples []Example, rt Runtime) (*Trainer, error) {
	if err := cp.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	if corpusHash(examples) != cp.CorpusHash {
		return nil, ErrCorpusMismatch
	}
	t, err := newTrainer(cp.Config, cp.Tokenizer, examples, cp.Options, rt)
	if err != nil {
		return nil, err
	}
	if cp.Cursor > len(t.train) {
		return nil, fmt.Errorf("%w: cursor %d beyond %d training examples", ErrCheckpoint, cp.Cursor, len(t.train))
	}
	copy(t.params, cp.Params)
	copy(t.mom, cp.M)
	copy(t.vel, cp.V)
	t.step, t.epoch, t.cursor = cp.Step, cp.Epoch, cp.Cursor
	t.perm = permutation(len(t.train), cp.Options.Seed, shuffleStream+uint64(cp.Epoch))
	t.recent = append([]float64(nil), cp.Recent...)
	return t, nil
}

// Tokenizer returns the tokenizer metadata the trainer stores in
// checkpoints (nil if none was given).
func (t *Trainer) Tokenizer() *llama.TokenizerMeta { return t.tok }

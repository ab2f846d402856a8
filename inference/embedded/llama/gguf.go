package llama

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/hearth-ai/hearth/inference/embedded/gguf"
)

// ErrModelFile is wrapped by every error about a GGUF file's content that
// LoadGGUF rejects: another architecture, missing or extra tensors, dims
// that disagree with the metadata, features this implementation does not
// run, an unsupported tokenizer. Errors of the file format itself wrap the
// gguf package's sentinels instead.
var ErrModelFile = errors.New("llama: unusable model file")

// General.file_type values (llama.cpp's enum llama_ftype) that Encode
// writes.
const (
	FileTypeAllF32     = 0 // LLAMA_FTYPE_ALL_F32
	FileTypeMostlyF16  = 1 // LLAMA_FTYPE_MOSTLY_F16
	FileTypeMostlyQ8_0 = 7 // LLAMA_FTYPE_MOSTLY_Q8_0
)

// Metadata keys (llama.cpp's LLM_KV names for the "llama" architecture).
const (
	keyArch        = "general.architecture"
	keyName        = "general.name"
	keyFileType    = "general.file_type"
	keyQuantVer    = "general.quantization_version"
	keyContext     = "llama.context_length"
	keyEmbedding   = "llama.embedding_length"
	keyBlocks      = "llama.block_count"
	keyFFN         = "llama.feed_forward_length"
	keyHeads       = "llama.attention.head_count"
	keyKVHeads     = "llama.attention.head_count_kv"
	keyRopeBase    = "llama.rope.freq_base"
	keyRopeDims    = "llama.rope.dimension_count"
	keyNormEps     = "llama.attention.layer_norm_rms_epsilon"
	keyVocab       = "llama.vocab_size"
	keyKeyLen      = "llama.attention.key_length"
	keyValueLen    = "llama.attention.value_length"
	keyExperts     = "llama.expert_count"
	keyRopeScaling = "llama.rope.scaling.type"
	keyTokModel    = "tokenizer.ggml.model"
	keyTokPre      = "tokenizer.ggml.pre"
	keyTokens      = "tokenizer.ggml.tokens"
	keyTokenTypes  = "tokenizer.ggml.token_type"
	keyMerges      = "tokenizer.ggml.merges"
	keyBOS         = "tokenizer.ggml.bos_token_id"
	keyEOS         = "tokenizer.ggml.eos_token_id"
	keyPAD         = "tokenizer.ggml.padding_token_id"
	keyChat        = "tokenizer.chat_template"
)

// ggufContents builds the metadata and tensors Encode writes.
func ggufContents(w *Weights, tok *TokenizerMeta, typ gguf.Type, name string) ([]gguf.KV, []gguf.TensorData, error) {
	if w == nil {
		return nil, nil, fmt.Errorf("%w: nil weights", ErrInput)
	}
	if err := w.Validate(); err != nil {
		return nil, nil, err
	}
	if typ != gguf.TypeF32 && typ != gguf.TypeF16 && typ != gguf.TypeQ8_0 {
		return nil, nil, fmt.Errorf("%w: tensor type %v (%d): want F32 (0), F16 (1) or Q8_0 (8)", ErrInput, typ, uint32(typ))
	}
	if err := checkTokenizer(tok, w.Config.VocabSize); err != nil {
		return nil, nil, err
	}
	c := w.Config
	u32 := func(n int) uint32 { return uint32(n) }
	if c.VocabSize > math.MaxUint32 || c.Dim > math.MaxUint32 || c.FFNDim > math.MaxUint32 || c.ContextLen > math.MaxUint32 || c.Layers > math.MaxUint32 {
		return nil, nil, fmt.Errorf("%w: a size exceeds GGUF's UINT32 metadata", ErrConfig)
	}

	var ts []gguf.TensorData
	fileType := uint32(FileTypeAllF32)
	for _, t := range w.Tensors() {
		dims := make([]int64, len(t.Dims))
		for i, d := range t.Dims {
			dims[i] = int64(d)
		}
		tt := typ
		switch {
		case len(dims) == 1: // norm gains stay F32, as llama.cpp keeps them
			tt = gguf.TypeF32
		case typ == gguf.TypeQ8_0 && dims[0]%gguf.Q8_0BlockSize != 0:
			tt = gguf.TypeF32
		}
		switch tt {
		case gguf.TypeQ8_0:
			fileType = FileTypeMostlyQ8_0
		case gguf.TypeF16:
			fileType = FileTypeMostlyF16
		}
		ts = append(ts, gguf.TensorData{Name: t.Name, Dims: dims, Type: tt, Data: t.Data})
	}

	kv := []gguf.KV{
		{Key: keyArch, Value: "llama"},
		{Key: keyName, Value: name},
		{Key: gguf.KeyAlignment, Value: uint32(gguf.DefaultAlignment)},
		{Key: keyFileType, Value: fileType},
	}
	if fileType == FileTypeMostlyQ8_0 {
		kv = append(kv, gguf.KV{Key: keyQuantVer, Value: uint32(2)}) // GGML_QNT_VERSION
	}
	kv = append(kv,
		gguf.KV{Key: keyContext, Value: u32(c.ContextLen)},
		gguf.KV{Key: keyEmbedding, Value: u32(c.Dim)},
		gguf.KV{Key: keyBlocks, Value: u32(c.Layers)},
		gguf.KV{Key: keyFFN, Value: u32(c.FFNDim)},
		gguf.KV{Key: keyHeads, Value: u32(c.Heads)},
		gguf.KV{Key: keyKVHeads, Value: u32(c.KVHeads)},
		gguf.KV{Key: keyRopeBase, Value: float32(c.RopeTheta)},
		gguf.KV{Key: keyRopeDims, Value: u32(c.HeadDim())},
		gguf.KV{Key: keyNormEps, Value: float32(c.NormEps)},
		gguf.KV{Key: keyVocab, Value: u32(c.VocabSize)},
		gguf.KV{Key: keyTokModel, Value: tok.Model},
	)
	if tok.Pre != "" {
		kv = append(kv, gguf.KV{Key: keyTokPre, Value: tok.Pre})
	}
	kv = append(kv, gguf.KV{Key: keyTokens, Value: tok.Tokens})
	if len(tok.TokenTypes) > 0 {
		kv = append(kv, gguf.KV{Key: keyTokenTypes, Value: tok.TokenTypes})
	}
	kv = append(kv, gguf.KV{Key: keyMerges, Value: nonNil(tok.Merges)})
	for _, id := range []struct {
		key string
		v   int
	}{{keyBOS, tok.BOS}, {keyEOS, tok.EOS}, {keyPAD, tok.PAD}} {
		if id.v >= 0 {
			kv = append(kv, gguf.KV{Key: id.key, Value: uint32(id.v)})
		}
	}
	if tok.BOS >= 0 {
		// Hearth's prompt layout starts with BOS (bpe.EncodePrompt); llama.cpp's
		// gpt2 default is not to add one, so say so, and llama-server prompts
		// see the same tokens Hearth's do.
		kv = append(kv, gguf.KV{Key: "tokenizer.ggml.add_bos_token", Value: true})
	}
	if tok.ChatTemplate != "" {
		kv = append(kv, gguf.KV{Key: keyChat, Value: tok.ChatTemplate})
	}
	return kv, ts, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// checkTokenizer validates tok against a vocabulary of vocab tokens.
func checkTokenizer(tok *TokenizerMeta, vocab int) error {
	switch {
	case tok == nil:
		return fmt.Errorf("%w: nil tokenizer", ErrInput)
	case tok.Model == "":
		return fmt.Errorf("%w: tokenizer model is empty", ErrInput)
	case len(tok.Tokens) != vocab:
		return fmt.Errorf("%w: tokenizer has %d tokens, model vocabulary is %d", ErrInput, len(tok.Tokens), vocab)
	case len(tok.TokenTypes) != 0 && len(tok.TokenTypes) != vocab:
		return fmt.Errorf("%w: tokenizer has %d token types for %d tokens", ErrInput, len(tok.TokenTypes), vocab)
	}
	for _, id := range []struct {
		name string
		v    int
	}{{"bos", tok.BOS}, {"eos", tok.EOS}, {"padding", tok.PAD}} {
		if id.v >= vocab {
			return fmt.Errorf("%w: %s token id %d is outside the vocabulary of %d", ErrInput, id.name, id.v, vocab)
		}
	}
	return nil
}

// Encode writes w and tok as a GGUF v3 file of the "llama" architecture
// that llama.cpp loads, with general.name set to name. Matrices are stored
// as typ (gguf.TypeF32, TypeF16 or TypeQ8_0); norm gains (1-D) always as
// F32, and in a Q8_0 file a matrix whose ne[0] is not a multiple of 32 as
// F32. Metadata: general.{architecture,name,alignment,file_type} (plus
// general.quantization_version 2 when any tensor is Q8_0), the llama.*
// hyperparameters of Config (see its field comments), and tokenizer.ggml.*
// and tokenizer.chat_template from tok (token_type only when tok has types,
// bos/eos/padding ids only when ≥ 0, chat template only when set).
//
// Errors wrap ErrInput (nil or inconsistent tokenizer, unsupported typ),
// ErrConfig (w.Validate), gguf.ErrInvalid (e.g. a weight beyond F16's
// range in an F16 file) or come from out.
func Encode(out io.Writer, w *Weights, tok *TokenizerMeta, typ gguf.Type, name string) error {
	kv, ts, err := ggufContents(w, tok, typ, name)
	if err != nil {
		return err
	}
	return gguf.Write(out, kv, ts)
}

// WriteFile writes Encode's output to path atomically: it writes a
// temporary file in the same directory, fsyncs it, renames it over path and
// fsyncs the directory, so a crash leaves either the old file or the whole
// new one. The file gets mode 0644. On error the temporary file is removed.
func WriteFile(path string, w *Weights, tok *TokenizerMeta, typ gguf.Type, name string) (err error) {
	kv, ts, err := ggufContents(w, tok, typ, name)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("llama: writing %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			err = fmt.Errorf("llama: writing %s: %w", path, err)
		}
	}()
	if err = gguf.Write(tmp, kv, ts); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync() // best effort: not every platform can sync a directory
		d.Close()
	}
	return nil
}

// LoadFile reads a GGUF file of the "llama" architecture with a "gpt2"
// (byte-level BPE) tokenizer and F32, F16, BF16 or Q8_0 tensors; see
// LoadGGUF. Errors name the file.
func LoadFile(path string) (*Weights, *TokenizerMeta, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("llama: %w", err) // gguf.Open names the path
	}
	defer f.Close()
	w, tok, err := LoadGGUF(f)
	if err != nil {
		return nil, nil, fmt.Errorf("llama: loading %s: %w", path, err)
	}
	return w, tok, nil
}

// LoadGGUF reads the weights and tokenizer of a parsed GGUF file.
//
// It requires general.architecture "llama" and reads Config from the
// llama.* keys: context_length, embedding_length, block_count,
// feed_forward_length, attention.head_count and
// attention.layer_norm_rms_epsilon are required; attention.head_count_kv
// defaults to head_count and rope.freq_base to 10000 (llama.cpp's
// defaults); vocab_size, when present, must equal the token list's length,
// which is the vocabulary otherwise. FLOAT32 values are widened through
// their shortest decimal form, so 1e-5 written as FLOAT32 reads back as the
// float64 1e-5. Features the forward pass does not run are rejected: rope
// scaling, mixture of experts, partial RoPE (rope.dimension_count ≠ head
// dim), key/value lengths ≠ head dim.
//
// The file must hold exactly the tensors Weights.Tensors lists, with those
// dims; output.weight may be absent, which ties the embeddings. Tensors of
// type F32, F16, BF16 or Q8_0 are decoded to float64.
//
// The tokenizer must be tokenizer.ggml.model "gpt2" with tokens and merges;
// pre, token_type and chat_template are optional; bos, eos and padding ids
// are -1 when absent.
//
// Errors wrap ErrModelFile, ErrConfig, or a gguf sentinel
// (gguf.ErrNotFound, gguf.ErrWrongType, gguf.ErrUnsupported,
// gguf.ErrTruncated), and name the key or tensor concerned.
func LoadGGUF(f *gguf.File) (*Weights, *TokenizerMeta, error) {
	arch, err := f.String(keyArch)
	if err != nil {
		return nil, nil, err
	}
	if arch != "llama" {
		return nil, nil, fmt.Errorf("%w: architecture %q, want \"llama\"", ErrModelFile, arch)
	}
	tok, err := loadTokenizer(f)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := loadConfig(f, len(tok.Tokens))
	if err != nil {
		return nil, nil, err
	}
	if err := checkTokenizer(tok, cfg.VocabSize); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrModelFile, err)
	}
	if err := checkTensors(f, &cfg); err != nil {
		return nil, nil, err
	}
	// Every tensor is now known to match cfg and to lie inside the file,
	// so the allocation below is bounded by the file's size.
	w, err := Allocate(cfg)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range w.Tensors() {
		if err := f.ReadFloat64(t.Name, t.Data); err != nil {
			return nil, nil, err
		}
	}
	return w, tok, nil
}

// f32Decimal widens a FLOAT32 through its shortest decimal representation.
func f32Decimal(x float32) float64 {
	v, err := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	if err != nil {
		return float64(x)
	}
	return v
}

// metaFloat reads a float key; FLOAT32 values go through f32Decimal.
func metaFloat(f *gguf.File, key string) (float64, error) {
	if v, ok := f.Get(key); ok {
		if x, ok := v.(float32); ok {
			return f32Decimal(x), nil
		}
	}
	return f.Float(key)
}

// metaSize reads a positive integer key of at most math.MaxInt32.
func metaSize(f *gguf.File, key string) (int, error) {
	u, err := f.Uint(key)
	if err != nil {
		return 0, err
	}
	if u == 0 || u > math.MaxInt32 {
		return 0, fmt.Errorf("%w: %s is %d, want 1 to %d", ErrModelFile, key, u, math.MaxInt32)
	}
	return int(u), nil
}

func loadConfig(f *gguf.File, nTokens int) (Config, error) {
	var c Config
	var err error
	for _, p := range []struct {
		key string
		dst *int
	}{
		{keyContext, &c.ContextLen}, {keyEmbedding, &c.Dim}, {keyBlocks, &c.Layers},
		{keyFFN, &c.FFNDim}, {keyHeads, &c.Heads},
	} {
		if *p.dst, err = metaSize(f, p.key); err != nil {
			return c, err
		}
	}
	c.KVHeads = c.Heads
	if f.Has(keyKVHeads) {
		if c.KVHeads, err = metaSize(f, keyKVHeads); err != nil {
			return c, err
		}
	}
	c.VocabSize = nTokens
	if f.Has(keyVocab) {
		if c.VocabSize, err = metaSize(f, keyVocab); err != nil {
			return c, err
		}
		if c.VocabSize != nTokens {
			return c, fmt.Errorf("%w: %s is %d but the tokenizer has %d tokens", ErrModelFile, keyVocab, c.VocabSize, nTokens)
		}
	}
	c.RopeTheta = 10000
	if f.Has(keyRopeBase) {
		if c.RopeTheta, err = metaFloat(f, keyRopeBase); err != nil {
			return c, err
		}
	}
	if c.NormEps, err = metaFloat(f, keyNormEps); err != nil {
		return c, err
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	hd := c.HeadDim()
	for _, key := range []string{keyRopeDims, keyKeyLen, keyValueLen} {
		if !f.Has(key) {
			continue
		}
		n, err := f.Uint(key)
		if err != nil {
			return c, err
		}
		if n != uint64(hd) {
			return c, fmt.Errorf("%w: %s is %d, but only a head dim of %d (embedding_length/head_count) is supported", ErrModelFile, key, n, hd)
		}
	}
	if f.Has(keyExperts) {
		if n, err := f.Uint(keyExperts); err != nil || n > 0 {
			return c, fmt.Errorf("%w: %s is set: mixture-of-experts models are not supported", ErrModelFile, keyExperts)
		}
	}
	if f.Has(keyRopeScaling) {
		if s, err := f.String(keyRopeScaling); err != nil || s != "none" {
			return c, fmt.Errorf("%w: %s is %q: RoPE scaling is not supported", ErrModelFile, keyRopeScaling, s)
		}
	}
	return c, nil
}

// trimOnes drops trailing dims of 1, which do not change a tensor's layout.
func trimOnes(d []int64) []int64 {
	for len(d) > 1 && d[len(d)-1] == 1 {
		d = d[:len(d)-1]
	}
	return d
}

// checkTensors verifies that f holds exactly the tensors cfg implies, with
// their dims and decodable types; it sets cfg.TiedEmbeddings when
// output.weight is absent.
func checkTensors(f *gguf.File, cfg *Config) error {
	_, hasOutput := f.Tensor("output.weight")
	cfg.TiedEmbeddings = !hasOutput
	// Bound the layer count by the tensors present before building the
	// expected list (each block has nine tensors).
	if cfg.Layers > len(f.Tensors) {
		return fmt.Errorf("%w: tensor %q missing (%s is %d)", ErrModelFile, fmt.Sprintf("blk.%d.attn_norm.weight", cfg.Layers-1), keyBlocks, cfg.Layers)
	}
	shape := &Weights{Config: *cfg, Layers: make([]Layer, cfg.Layers)}
	want := map[string]bool{}
	for _, t := range shape.Tensors() {
		want[t.Name] = true
		info, ok := f.Tensor(t.Name)
		if !ok {
			return fmt.Errorf("%w: tensor %q missing", ErrModelFile, t.Name)
		}
		exp := make([]int64, len(t.Dims))
		for i, d := range t.Dims {
			exp[i] = int64(d)
		}
		if !slices.Equal(trimOnes(info.Dims), trimOnes(exp)) {
			return fmt.Errorf("%w: tensor %q has dims %v, the metadata implies %v", ErrModelFile, t.Name, info.Dims, exp)
		}
		if !info.Type.Decodable() {
			return fmt.Errorf("%w: tensor %q has type %v (%d); supported types are F32 (0), F16 (1), Q8_0 (8) and BF16 (30)",
				gguf.ErrUnsupported, t.Name, info.Type, uint32(info.Type))
		}
	}
	for _, t := range f.Tensors {
		if !want[t.Name] {
			return fmt.Errorf("%w: unexpected tensor %q: not part of the llama architecture this package runs", ErrModelFile, t.Name)
		}
	}
	return nil
}

func loadTokenizer(f *gguf.File) (*TokenizerMeta, error) {
	model, err := f.String(keyTokModel)
	if err != nil {
		return nil, err
	}
	if model != "gpt2" {
		return nil, fmt.Errorf("%w: tokenizer model %q not supported, want gpt2 (byte-level BPE)", ErrModelFile, model)
	}
	tok := &TokenizerMeta{Model: model, BOS: -1, EOS: -1, PAD: -1}
	if f.Has(keyTokPre) {
		if tok.Pre, err = f.String(keyTokPre); err != nil {
			return nil, err
		}
	}
	tokens, err := f.Strings(keyTokens)
	if err != nil {
		return nil, err
	}
	tok.Tokens = slices.Clone(tokens)
	if f.Has(keyTokenTypes) {
		if tok.TokenTypes, err = f.Int32s(keyTokenTypes); err != nil {
			return nil, err
		}
	}
	merges, err := f.Strings(keyMerges)
	if err != nil {
		return nil, err
	}
	tok.Merges = slices.Clone(merges)
	for _, id := range []struct {
		key string
		dst *int
	}{{keyBOS, &tok.BOS}, {keyEOS, &tok.EOS}, {keyPAD, &tok.PAD}} {
		if !f.Has(id.key) {
			continue
		}
		u, err := f.Uint(id.key)
		if err != nil {
			return nil, err
		}
		if u >= uint64(len(tok.Tokens)) {
			return nil, fmt.Errorf("%w: %s is %d, outside the %d tokens", ErrModelFile, id.key, u, len(tok.Tokens))
		}
		*id.dst = int(u)
	}
	if f.Has(keyChat) {
		if tok.ChatTemplate, err = f.String(keyChat); err != nil {
			return nil, err
		}
	}
	return tok, nil
}

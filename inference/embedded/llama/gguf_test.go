package llama

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/inference/embedded/gguf"
)

// ggConfig is tiny; FFNDim 80 is not a multiple of 32, so ffn_down stays
// F32 in a Q8_0 file.
var ggConfig = Config{VocabSize: 48, Dim: 64, Layers: 2, Heads: 4, KVHeads: 2, FFNDim: 80,
	ContextLen: 128, RopeTheta: 10000, NormEps: 1e-5}

func ggTokenizer(vocab int) *TokenizerMeta {
	tok := &TokenizerMeta{Model: "gpt2", Pre: "gpt-2", BOS: 0, EOS: 1, PAD: -1,
		Merges: []string{"a b", "ab c", "Ġ t"}, ChatTemplate: "{{ messages }}"}
	for i := 0; i < vocab; i++ {
		tt := TokenNormal
		s := fmt.Sprintf("t%d", i)
		switch i {
		case 0:
			s, tt = "<|bos|>", TokenControl
		case 1:
			s, tt = "<|eos|>", TokenControl
		}
		tok.Tokens = append(tok.Tokens, s)
		tok.TokenTypes = append(tok.TokenTypes, tt)
	}
	return tok
}

func ggWeights(t testing.TB, cfg Config) *Weights {
	t.Helper()
	w, err := NewRandom(cfg, 42)
	if err != nil {
		t.Fatal(err)
	}
	// Norm gains other than 1 so that they are really compared.
	for i := range w.OutputNorm {
		w.OutputNorm[i] = 1 + 0.01*float64(i)
	}
	return w
}

func ggEncode(t testing.TB, w *Weights, tok *TokenizerMeta, typ gguf.Type) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Encode(&buf, w, tok, typ, "tiny"); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func ggLoad(b []byte) (*Weights, *TokenizerMeta, error) {
	f, err := gguf.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, nil, err
	}
	return LoadGGUF(f)
}

// q8Tol is the Q8_0 error bound on a block (see gguf's test): half a
// quantum plus 127 times the float16 error of the scale.
func q8Tol(blk []float64) float64 {
	amax := 0.0
	for _, x := range blk {
		amax = max(amax, math.Abs(x))
	}
	d := amax / 127
	return d/2 + 127*max(d*math.Ldexp(1, -11), math.Ldexp(1, -25)) + 1e-12
}

func TestGGUFRoundTrip(t *testing.T) {
	tied := ggConfig
	tied.TiedEmbeddings = true
	for _, cfg := range []Config{ggConfig, tied} {
		w := ggWeights(t, cfg)
		tok := ggTokenizer(cfg.VocabSize)
		for _, typ := range []gguf.Type{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0} {
			t.Run(fmt.Sprintf("%v/tied=%v", typ, cfg.TiedEmbeddings), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "m.gguf")
				if err := WriteFile(path, w, tok, typ, "tiny"); err != nil {
					t.Fatal(err)
				}
				got, gotTok, err := LoadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if got.Config != cfg {
					t.Fatalf("config %+v, want %+v", got.Config, cfg)
				}
				if !reflect.DeepEqual(gotTok, tok) {
					t.Fatalf("tokenizer %+v, want %+v", gotTok, tok)
				}
				f, err := gguf.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				wantFT := map[gguf.Type]uint64{gguf.TypeF32: 0, gguf.TypeF16: 1, gguf.TypeQ8_0: 7}[typ]
				if ft, err := f.Uint("general.file_type"); err != nil || ft != wantFT {
					t.Errorf("file_type %d, %v; want %d", ft, err, wantFT)
				}
				if n, _ := f.String("general.name"); n != "tiny" {
					t.Errorf("general.name %q", n)
				}
				gt := got.Tensors()
				for i, wt := range w.Tensors() {
					info, _ := f.Tensor(wt.Name)
					wantType := typ
					if len(wt.Dims) == 1 || (typ == gguf.TypeQ8_0 && wt.Dims[0]%32 != 0) {
						wantType = gguf.TypeF32
					}
					if info.Type != wantType {
						t.Errorf("%s stored as %v, want %v", wt.Name, info.Type, wantType)
					}
					for j, x := range wt.Data {
						y := gt[i].Data[j]
						var tol float64
						switch info.Type {
						case gguf.TypeF32:
							if y != float64(float32(x)) {
								t.Fatalf("%s[%d] = %g, want %g", wt.Name, j, y, float64(float32(x)))
							}
							continue
						case gguf.TypeF16:
							tol = max(math.Abs(x)*math.Ldexp(1, -11), math.Ldexp(1, -25))
						case gguf.TypeQ8_0:
							tol = q8Tol(wt.Data[j/32*32 : j/32*32+32])
						}
						if math.Abs(x-y) > tol {
							t.Fatalf("%s[%d] = %g, want %g ± %g", wt.Name, j, y, x, tol)
						}
					}
				}
				// Loading and writing again reproduces the file exactly.
				orig, _ := os.ReadFile(path)
				if again := ggEncode(t, got, gotTok, typ); !bytes.Equal(orig, again) {
					t.Errorf("re-encoding the loaded model differs (%d vs %d bytes)", len(orig), len(again))
				}
			})
		}
	}
}

func TestGGUFMetadata(t *testing.T) {
	w := ggWeights(t, ggConfig)
	b := ggEncode(t, w, ggTokenizer(48), gguf.TypeQ8_0)
	f, err := gguf.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"general.architecture": "llama", "general.alignment": uint32(32), "general.file_type": uint32(7),
		"general.quantization_version": uint32(2),
		"llama.context_length":         uint32(128), "llama.embedding_length": uint32(64), "llama.block_count": uint32(2),
		"llama.feed_forward_length": uint32(80), "llama.attention.head_count": uint32(4),
		"llama.attention.head_count_kv": uint32(2), "llama.rope.freq_base": float32(10000),
		"llama.rope.dimension_count": uint32(16), "llama.attention.layer_norm_rms_epsilon": float32(1e-5),
		"llama.vocab_size": uint32(48), "tokenizer.ggml.model": "gpt2", "tokenizer.ggml.pre": "gpt-2",
		"tokenizer.ggml.bos_token_id": uint32(0), "tokenizer.ggml.eos_token_id": uint32(1),
		"tokenizer.chat_template": "{{ messages }}",
	}
	for k, v := range want {
		if got, ok := f.Get(k); !ok || !reflect.DeepEqual(got, v) {
			t.Errorf("%s = %#v, want %#v", k, got, v)
		}
	}
	if f.Has("tokenizer.ggml.padding_token_id") {
		t.Error("padding id written though PAD is -1")
	}
	if f.KVs[0].Key != "general.architecture" {
		t.Errorf("first key %q", f.KVs[0].Key)
	}
}

// ggMutate encodes the tiny model after letting edit change its metadata
// and tensors.
func ggMutate(t *testing.T, edit func(kv []gguf.KV, ts []gguf.TensorData) ([]gguf.KV, []gguf.TensorData)) []byte {
	t.Helper()
	kv, ts, err := ggufContents(ggWeights(t, ggConfig), ggTokenizer(48), gguf.TypeF32, "tiny")
	if err != nil {
		t.Fatal(err)
	}
	kv, ts = edit(kv, ts)
	var buf bytes.Buffer
	if err := gguf.Write(&buf, kv, ts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func setKV(kv []gguf.KV, key string, v any) []gguf.KV {
	for i := range kv {
		if kv[i].Key == key {
			if v == nil {
				return append(kv[:i:i], kv[i+1:]...)
			}
			kv[i].Value = v
			return kv
		}
	}
	if v == nil {
		return kv
	}
	return append(kv, gguf.KV{Key: key, Value: v})
}

func dropTensor(ts []gguf.TensorData, name string) []gguf.TensorData {
	for i := range ts {
		if ts[i].Name == name {
			return append(ts[:i:i], ts[i+1:]...)
		}
	}
	return ts
}

func TestGGUFLoadErrors(t *testing.T) {
	kvEdit := func(key string, v any) func([]gguf.KV, []gguf.TensorData) ([]gguf.KV, []gguf.TensorData) {
		return func(kv []gguf.KV, ts []gguf.TensorData) ([]gguf.KV, []gguf.TensorData) { return setKV(kv, key, v), ts }
	}
	cases := []struct {
		name string
		edit func([]gguf.KV, []gguf.TensorData) ([]gguf.KV, []gguf.TensorData)
		want error
		msg  string
	}{
		{"wrong arch", kvEdit("general.architecture", "qwen2"), ErrModelFile, `architecture "qwen2", want "llama"`},
		{"no arch", kvEdit("general.architecture", nil), gguf.ErrNotFound, "general.architecture"},
		{"arch type", kvEdit("general.architecture", uint32(1)), gguf.ErrWrongType, "general.architecture"},
		{"spm tokenizer", kvEdit("tokenizer.ggml.model", "llama"), ErrModelFile, `tokenizer model "llama" not supported, want gpt2 (byte-level BPE)`},
		{"no merges", kvEdit("tokenizer.ggml.merges", nil), gguf.ErrNotFound, "tokenizer.ggml.merges"},
		{"no tokens", kvEdit("tokenizer.ggml.tokens", nil), gguf.ErrNotFound, "tokenizer.ggml.tokens"},
		{"bos out of range", kvEdit("tokenizer.ggml.bos_token_id", uint32(48)), ErrModelFile, "bos_token_id is 48"},
		{"vocab mismatch", kvEdit("llama.vocab_size", uint32(50)), ErrModelFile, "vocab_size is 50 but the tokenizer has 48"},
		{"no eps", kvEdit("llama.attention.layer_norm_rms_epsilon", nil), gguf.ErrNotFound, "layer_norm_rms_epsilon"},
		{"zero blocks", kvEdit("llama.block_count", uint32(0)), ErrModelFile, "block_count is 0"},
		{"negative heads", kvEdit("llama.attention.head_count", int32(-4)), gguf.ErrWrongType, "head_count"},
		{"bad heads", kvEdit("llama.attention.head_count", uint32(3)), ErrConfig, "not a multiple of heads 3"},
		{"huge blocks", kvEdit("llama.block_count", uint32(1<<30)), ErrModelFile, `"blk.1073741823.attn_norm.weight" missing`},
		{"partial rope", kvEdit("llama.rope.dimension_count", uint32(8)), ErrModelFile, "rope.dimension_count is 8"},
		{"moe", kvEdit("llama.expert_count", uint32(8)), ErrModelFile, "mixture-of-experts"},
		{"rope scaling", kvEdit("llama.rope.scaling.type", "linear"), ErrModelFile, "RoPE scaling"},
		{"missing tensor", func(kv []gguf.KV, ts []gguf.TensorData) ([]gguf.KV, []gguf.TensorData) {
			return kv, dropTensor(ts, "blk.1.ffn_up.weight")
		}, ErrModelFile, `tensor "blk.1.ffn_up.weight" missing`},
		{"extra tensor", func(kv []gguf.KV, ts []gguf.TensorData) ([]gguf.KV, []gguf.TensorData) {
			return kv, append(ts, gguf.TensorData{Name: "rope_freqs.weight", Dims: []int64{8}, Type: gguf.TypeF32, Data: make([]float64, 8)})
		}, ErrModelFile, `unexpected tensor "rope_freqs.weight"`},
		{"wrong dims", func(kv []gguf.KV, ts []gguf.TensorData) ([]gguf.KV, []gguf.TensorData) {
			for i := range ts {
				if ts[i].Name == "blk.0.attn_k.weight" {
					ts[i].Dims = []int64{64, 16}
					ts[i].Data = ts[i].Data[:64*16]
				}
			}
			return kv, ts
		}, ErrModelFile, `tensor "blk.0.attn_k.weight" has dims [64 16], the metadata implies [64 32]`},
		{"block count too small", kvEdit("llama.block_count", uint32(1)), ErrModelFile, `unexpected tensor "blk.1.attn_norm.weight"`},
	}
	for _, c := range cases {
		_, _, err := ggLoad(ggMutate(t, c.edit))
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: err = %v\nwant %v containing %q", c.name, err, c.want, c.msg)
		}
	}
}

func TestGGUFOptionalMetadata(t *testing.T) {
	// Without vocab_size, head_count_kv (for an MHA model), rope.freq_base,
	// token types, pre and special ids the file still loads, with
	// llama.cpp's defaults; a [Dim, 1] norm is the same as [Dim].
	cfg := ggConfig
	cfg.KVHeads = cfg.Heads
	w := ggWeights(t, cfg)
	tok := ggTokenizer(48)
	tok.TokenTypes, tok.Pre, tok.BOS, tok.EOS, tok.ChatTemplate = nil, "", -1, -1, ""
	kv, ts, err := ggufContents(w, tok, gguf.TypeF16, "x")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"llama.vocab_size", "llama.attention.head_count_kv", "llama.rope.freq_base", "llama.rope.dimension_count"} {
		kv = setKV(kv, k, nil)
	}
	kv = setKV(kv, "llama.context_length", uint64(128)) // any integer type
	ts[1].Dims = []int64{64, 1}
	var buf bytes.Buffer
	if err := gguf.Write(&buf, kv, ts); err != nil {
		t.Fatal(err)
	}
	got, gotTok, err := ggLoad(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.Config != cfg {
		t.Errorf("config %+v, want %+v", got.Config, cfg)
	}
	if !reflect.DeepEqual(gotTok, tok) {
		t.Errorf("tokenizer %+v, want %+v", gotTok, tok)
	}
}

func TestGGUFUnsupportedTypeAndVersion(t *testing.T) {
	b := ggEncode(t, ggWeights(t, ggConfig), ggTokenizer(48), gguf.TypeQ8_0)
	// Relabel blk.0.attn_q.weight (Q8_0, 64×64) as Q4_0: same block size,
	// smaller data, so the layout stays valid.
	name := []byte("blk.0.attn_q.weight")
	i := bytes.Index(b, name)
	typeAt := i + len(name) + 4 + 2*8
	if binary.LittleEndian.Uint32(b[typeAt:]) != uint32(gguf.TypeQ8_0) {
		t.Fatal("did not find the tensor's type field")
	}
	q4 := bytes.Clone(b)
	binary.LittleEndian.PutUint32(q4[typeAt:], uint32(gguf.TypeQ4_0))
	_, _, err := ggLoad(q4)
	if !errors.Is(err, gguf.ErrUnsupported) || !strings.Contains(err.Error(), `tensor "blk.0.attn_q.weight" has type Q4_0 (2)`) {
		t.Errorf("Q4_0: %v", err)
	}
	v7 := bytes.Clone(b)
	v7[4] = 7
	if _, _, err := ggLoad(v7); !errors.Is(err, gguf.ErrUnsupported) || !strings.Contains(err.Error(), "version 7") {
		t.Errorf("version 7: %v", err)
	}
	magic := bytes.Clone(b)
	copy(magic, "GGML")
	if _, _, err := ggLoad(magic); !errors.Is(err, gguf.ErrBadMagic) {
		t.Errorf("bad magic: %v", err)
	}
}

// TestGGUFTruncated cuts a valid file at many offsets before the end of
// its tensor data; every prefix must fail cleanly with ErrTruncated.
func TestGGUFTruncated(t *testing.T) {
	b := ggEncode(t, ggWeights(t, ggConfig), ggTokenizer(48), gguf.TypeQ8_0)
	f, err := gguf.Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	end := int64(0)
	for _, ti := range f.Tensors {
		end = max(end, f.DataOffset+int64(ti.Offset)+ti.Size)
	}
	step := 1
	for n := 0; n < int(end); n += step {
		if n > int(f.DataOffset) {
			step = 61 // every byte of the header, then a sample of the data
		}
		_, _, err := ggLoad(b[:n])
		if !errors.Is(err, gguf.ErrTruncated) {
			t.Fatalf("cut at %d of %d: err = %v, want ErrTruncated", n, len(b), err)
		}
	}
	for _, n := range []int64{end - 1, end - 17} {
		if _, _, err := ggLoad(b[:n]); !errors.Is(err, gguf.ErrTruncated) {
			t.Fatalf("cut at %d: err = %v", n, err)
		}
	}
}

func TestGGUFEncodeErrors(t *testing.T) {
	w := ggWeights(t, ggConfig)
	tok := ggTokenizer(48)
	short := ggTokenizer(47)
	badTypes := ggTokenizer(48)
	badTypes.TokenTypes = badTypes.TokenTypes[:3]
	badEOS := ggTokenizer(48)
	badEOS.EOS = 48
	noModel := ggTokenizer(48)
	noModel.Model = ""
	big := ggWeights(t, ggConfig)
	big.Layers[0].Wq[5] = 1e6
	broken := ggWeights(t, ggConfig)
	broken.Layers[1].WUp = broken.Layers[1].WUp[:10]
	for _, c := range []struct {
		name string
		w    *Weights
		tok  *TokenizerMeta
		typ  gguf.Type
		want error
	}{
		{"nil weights", nil, tok, gguf.TypeF32, ErrInput},
		{"nil tokenizer", w, nil, gguf.TypeF32, ErrInput},
		{"token count", w, short, gguf.TypeF32, ErrInput},
		{"token types", w, badTypes, gguf.TypeF32, ErrInput},
		{"eos", w, badEOS, gguf.TypeF32, ErrInput},
		{"no model", w, noModel, gguf.TypeF32, ErrInput},
		{"q4_k", w, tok, gguf.TypeQ4_K, ErrInput},
		{"f16 overflow", big, tok, gguf.TypeF16, gguf.ErrInvalid},
		{"bad weights", broken, tok, gguf.TypeF32, ErrConfig},
	} {
		var buf bytes.Buffer
		if err := Encode(&buf, c.w, c.tok, c.typ, "x"); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %d bytes", c.name, buf.Len())
		}
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.gguf")
	w := ggWeights(t, ggConfig)
	tok := ggTokenizer(48)
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A failing write leaves the old file and no temporary file.
	bad := ggTokenizer(47)
	if err := WriteFile(path, w, bad, gguf.TypeF32, "x"); err == nil {
		t.Fatal("no error")
	}
	big := ggWeights(t, ggConfig)
	big.Output[0] = 1e9
	if err := WriteFile(path, big, tok, gguf.TypeF16, "x"); !errors.Is(err, gguf.ErrInvalid) || !strings.Contains(err.Error(), path) {
		t.Fatalf("F16 overflow: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatal("old file changed by a failed write")
	}
	if err := WriteFile(path, w, tok, gguf.TypeF16, "x"); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1 (temporary files left?)", len(entries))
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("stat: %v %v", st, err)
	}
	if _, _, err := LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir.gguf"), w, tok, gguf.TypeF32, "x"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing directory: %v", err)
	}
	if _, _, err := LoadFile(filepath.Join(dir, "absent.gguf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(path, []byte("GGUF\x03\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadFile(path); !errors.Is(err, gguf.ErrTruncated) || !strings.Contains(err.Error(), path) {
		t.Errorf("truncated file: %v", err)
	}
}

// ggBenchConfig gives an F32 file of about 11 MB (2.74 M weights).
var ggBenchConfig = Config{VocabSize: 2048, Dim: 256, Layers: 3, Heads: 8, KVHeads: 4, FFNDim: 704,
	ContextLen: 512, RopeTheta: 10000, NormEps: 1e-5, TiedEmbeddings: true}

func BenchmarkLoadFile(b *testing.B) {
	w := ggWeights(b, ggBenchConfig)
	tok := ggTokenizer(ggBenchConfig.VocabSize)
	for _, typ := range []gguf.Type{gguf.TypeF32, gguf.TypeF16, gguf.TypeQ8_0} {
		b.Run(typ.String(), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "m.gguf")
			if err := WriteFile(path, w, tok, typ, "bench"); err != nil {
				b.Fatal(err)
			}
			st, _ := os.Stat(path)
			b.SetBytes(st.Size())
			for b.Loop() {
				if _, _, err := LoadFile(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteFile(b *testing.B) {
	w := ggWeights(b, ggBenchConfig)
	tok := ggTokenizer(ggBenchConfig.VocabSize)
	for _, typ := range []gguf.Type{gguf.TypeF32, gguf.TypeQ8_0} {
		b.Run(typ.String(), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "m.gguf")
			for b.Loop() {
				if err := WriteFile(path, w, tok, typ, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/embedded"
	"github.com/hearth-ai/hearth/inference/embedded/bpe"
	"github.com/hearth-ai/hearth/inference/embedded/constrain"
	"github.com/hearth-ai/hearth/inference/embedded/llama"
	"github.com/hearth-ai/hearth/sim/world"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var (
	tokOnce sync.Once
	tok     *bpe.Tokenizer
	tokErr  error
)

// worldTokenizer is a BPE tokenizer trained on the demo world's lore.
func worldTokenizer(t testing.TB) *bpe.Tokenizer {
	tokOnce.Do(func() {
		var texts []string
		tokErr = fs.WalkDir(world.FS(), "lore", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(world.FS(), p)
			texts = append(texts, string(b))
			return err
		})
		if tokErr == nil {
			tok, tokErr = bpe.Train(texts, 512, []string{"<|bos|>", "<|eos|>", "<|pad|>"})
		}
	})
	if tokErr != nil {
		t.Fatal(tokErr)
	}
	return tok
}

// newEngine starts an engine on random weights of a tiny model: the tests
// here check the machinery (batching, caching, streaming, constraints),
// which must be exact whatever the weights; the quality of the shipped
// model is measured by `hearth model-eval`.
func newEngine(t testing.TB, opts embedded.Options) *embedded.Engine {
	t.Helper()
	tk := worldTokenizer(t)
	w, err := llama.NewRandom(llama.Config{VocabSize: tk.VocabSize(), Dim: 32, Layers: 2, Heads: 4, KVHeads: 2,
		FFNDim: 64, ContextLen: 256, RopeTheta: 10000, NormEps: 1e-5}, 42)
	if err != nil {
		t.Fatal(err)
	}
	// Random weights make near-uniform logits; sharpen them so greedy
	// choices are far from ties and sampling is not uniform noise.
	for i := range w.Output {
		w.Output[i] *= 40
	}
	e, err := embedded.New(w, tk, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

const persona = "You are Hobb Fairweather, innkeeper of the Tipped Kettle.\nRules: stay in character."

func request(line string, seed uint64) *inference.Request {
	p := persona + "\n\nLore:\n- [The Tipped Kettle] The inn has a copper kettle over the door.\n\nA stranger says: " + line + "\nHobb Fairweather:\n"
	return &inference.Request{SmallPrompt: p, SmallPrefixBytes: len(persona), MaxTokens: 12, Seed: seed, Temperature: 0.8}
}

func generate(t testing.TB, e *embedded.Engine, req *inference.Request) (inference.Result, string) {
	t.Helper()
	var streamed strings.Builder
	res, err := e.Generate(context.Background(), req, func(d inference.Delta) { streamed.WriteString(d.Text) })
	if err != nil {
		t.Fatal(err)
	}
	return res, streamed.String()
}

func TestSameSeedSameReplyAndStreamEqualsResult(t *testing.T) {
	e := newEngine(t, embedded.Options{Stop: []string{}})
	a, sa := generate(t, e, request("Who made the kettle?", 7))
	b, _ := generate(t, e, request("Who made the kettle?", 7))
	c, _ := generate(t, e, request("Who made the kettle?", 8))
	if a.Text != b.Text {
		t.Fatalf("same seed: %q then %q", a.Text, b.Text)
	}
	if a.Text == c.Text {
		t.Logf("seeds 7 and 8 happened to agree: %q", a.Text)
	}
	if sa != a.Text || a.Tokens == 0 || a.Tokens > 12 || a.PromptTokens == 0 || a.Tier != inference.TierEmbedded {
		t.Fatalf("result %+v, streamed %q", a, sa)
	}
	if a.TTFT <= 0 || a.Latency < a.TTFT {
		t.Fatalf("ttft %v, latency %v", a.TTFT, a.Latency)
	}
}

// The prefix cache and batching are exact: a reply is the same whether the
// persona's KV came from the cache or was computed, and whether the
// request ran alone or beside others.
func TestPrefixCacheAndBatchingDoNotChangeReplies(t *testing.T) {
	lines := []string{"Who made the kettle?", "Is the ale good?", "Where is the mill?", "Tell me of the ford.",
		"Any news?", "What do you sell?"}
	alone := map[string]string{}
	for i, l := range lines {
		e := newEngine(t, embedded.Options{Stop: []string{}}) // cold: no prefix cached
		r, _ := generate(t, e, request(l, uint64(i)))
		alone[l] = r.Text
		e.Close()
	}
	e := newEngine(t, embedded.Options{Stop: []string{}, MaxBatch: 4})
	var wg sync.WaitGroup
	got := make([]string, len(lines))
	for i, l := range lines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.Generate(context.Background(), request(l, uint64(i)), nil)
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = r.Text
		}()
	}
	wg.Wait()
	for i, l := range lines {
		if got[i] != alone[l] {
			t.Errorf("%q: batched with a cached prefix %q, alone and cold %q", l, got[i], alone[l])
		}
	}
	hits, misses := e.PrefixCacheStats()
	if hits == 0 || misses == 0 || hits+misses != uint64(len(lines)) {
		t.Fatalf("prefix cache: %d hits, %d misses for %d requests sharing one persona", hits, misses, len(lines))
	}
}

func TestStopSequencesCutTheReply(t *testing.T) {
	e := newEngine(t, embedded.Options{Stop: []string{}})
	full, _ := generate(t, e, request("Who made the kettle?", 3))
	if len(full.Text) < 4 {
		t.Skipf("reply %q too short to cut", full.Text)
	}
	stop := full.Text[2:4]
	req := request("Who made the kettle?", 3)
	req.Stop = []string{stop}
	cut, streamed := generate(t, e, req)
	want := strings.TrimSpace(full.Text[:strings.Index(full.Text, stop)])
	if cut.Text != want || strings.TrimSpace(streamed) != want {
		t.Fatalf("stop %q: text %q streamed %q, want %q (full %q)", stop, cut.Text, streamed, want, full.Text)
	}
}

const questSchema = `{"type":"object","properties":{
 "title":{"type":"string","maxLength":40},
 "giver":{"type":"string","enum":["hobb-fairweather","brenna-ashdown"]},
 "objectives":{"type":"array","maxItems":2,"items":{"type":"object","properties":{
   "kind":{"type":"string","enum":["fetch","slay","visit"]},
   "count":{"type":"integer","minimum":1,"maximum":10}},"required":["kind","count"]}},
 "reward_gold":{"type":"integer","minimum":0,"maximum":500}},
 "required":["title","giver","objectives","reward_gold"]}`

// Whatever the weights, a constrained reply parses and validates.
func TestConstrainedRepliesAlwaysValidate(t *testing.T) {
	e := newEngine(t, embedded.Options{})
	schema, err := constrain.Compile([]byte(questSchema))
	if err != nil {
		t.Fatal(err)
	}
	for seed := range uint64(20) {
		req := request("Have you any work for me?", seed)
		req.Temperature = 1
		req.ResponseSchema = []byte(questSchema)
		res, err := e.Generate(context.Background(), req, nil)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if err := schema.Validate([]byte(res.Text)); err != nil {
			t.Fatalf("seed %d: %q: %v", seed, res.Text, err)
		}
	}
}

func TestBadRequestsFailClearly(t *testing.T) {
	e := newEngine(t, embedded.Options{})
	if _, err := e.Generate(context.Background(), &inference.Request{}, nil); !errors.Is(err, embedded.ErrEmptyPrompt) {
		t.Fatalf("empty prompt: %v", err)
	}
	long := &inference.Request{Prompt: strings.Repeat("the kettle and the ford ", 400)}
	if _, err := e.Generate(context.Background(), long, nil); !errors.Is(err, embedded.ErrPromptTooLong) {
		t.Fatalf("long prompt: %v", err)
	}
	bad := request("x", 1)
	bad.ResponseSchema = []byte(`{"type":"object","oneOf":[]}`)
	if _, err := e.Generate(context.Background(), bad, nil); err == nil || !strings.Contains(err.Error(), "oneOf") {
		t.Fatalf("unsupported schema: %v", err)
	}
}

// A caller that gives up gets its context error at once, and nothing is
// streamed to it afterwards.
func TestCancelledRequestReturnsAndIsNotStreamedTo(t *testing.T) {
	e := newEngine(t, embedded.Options{Stop: []string{}})
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	returned := false
	lateDelta := false
	req := request("Tell me everything.", 1)
	req.MaxTokens = 200
	go func() { time.Sleep(2 * time.Millisecond); cancel() }()
	_, err := e.Generate(ctx, req, func(inference.Delta) {
		mu.Lock()
		defer mu.Unlock()
		if returned {
			lateDelta = true
		}
	})
	mu.Lock()
	returned = true
	mu.Unlock()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// The engine keeps serving.
	if r, _ := generate(t, e, request("Hello?", 2)); r.Text == "" && r.Tokens == 0 {
		t.Fatal("engine stopped answering after a cancellation")
	}
	mu.Lock()
	defer mu.Unlock()
	if lateDelta {
		t.Fatal("a delta arrived after Generate returned")
	}
}

func TestClosedEngineRefuses(t *testing.T) {
	e := newEngine(t, embedded.Options{})
	e.Close()
	if _, err := e.Generate(context.Background(), request("hi", 1), nil); !errors.Is(err, embedded.ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
}

func TestEmbedIsNormalisedAndDeterministic(t *testing.T) {
	e := newEngine(t, embedded.Options{})
	a, err := e.Embed(context.Background(), []string{"the copper kettle", "the copper kettle", "a wolf in the Gloamwood"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 3 || len(a[0]) != e.Dim() {
		t.Fatalf("shape %d×%d", len(a), len(a[0]))
	}
	norm := 0.0
	for k := range a[0] {
		if a[0][k] != a[1][k] {
			t.Fatal("same text, different vectors")
		}
		norm += float64(a[0][k] * a[0][k])
	}
	if norm < 0.999 || norm > 1.001 {
		t.Fatalf("norm² %v, want 1", norm)
	}
}

func ExampleEngine() {
	tk, _ := bpe.Train([]string{"The kettle hangs over the door of the inn."}, 300, []string{"<|bos|>", "<|eos|>", "<|pad|>"})
	w, _ := llama.NewRandom(llama.Config{VocabSize: tk.VocabSize(), Dim: 16, Layers: 1, Heads: 2, KVHeads: 1,
		FFNDim: 32, ContextLen: 64, RopeTheta: 10000, NormEps: 1e-5}, 1)
	e, err := embedded.New(w, tk, embedded.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	res, err := e.Generate(context.Background(), &inference.Request{Prompt: "Where is the kettle?", MaxTokens: 4, Seed: 1}, nil)
	fmt.Println(err == nil, res.Tier, res.Tokens <= 4)
	// Output: true embedded true
}

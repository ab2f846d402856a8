package openaiserve

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"go.uber.org/goleak"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testModelID = "hearth-test"

// harness is a live server on loopback and an official SDK client for it.
type harness struct {
	srv    *Server
	url    string // base URL, ".../v1"
	client sdk.Client
	http   *http.Client
}

// serve starts s on loopback; everything is closed when the test ends.
func serve(t *testing.T, m inference.Model, opts Options) *harness {
	t.Helper()
	if opts.ModelID == "" {
		opts.ModelID = testModelID
	}
	s, err := New(m, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	tr := &http.Transport{}
	hc := &http.Client{Transport: tr}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		ts.Close()
	})
	h := &harness{srv: s, url: ts.URL + "/v1", http: hc}
	h.client = sdk.NewClient(option.WithBaseURL(h.url), option.WithAPIKey("unused"),
		option.WithMaxRetries(0), option.WithHTTPClient(hc))
	return h
}

// trickle is the template floor streamed the way a token-by-token model
// streams: its line cut into deltas of at most n bytes (cutting multi-byte
// runes too), checking ctx between deltas.
type trickle struct {
	floor *template.Model
	n     int
}

func (tr *trickle) Info() inference.Info {
	i := tr.floor.Info()
	i.Name = "trickle"
	return i
}

func (tr *trickle) Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	res, err := tr.floor.Generate(ctx, req, nil)
	if err != nil {
		return res, err
	}
	for s := res.Text; s != ""; {
		if err := ctx.Err(); err != nil {
			return inference.Result{}, err
		}
		k := min(tr.n, len(s))
		if sink != nil {
			sink(inference.Delta{Text: s[:k]})
		}
		s = s[k:]
	}
	return res, nil
}

// recorder passes requests to a model and keeps the last one.
type recorder struct {
	inference.Model
	mu   sync.Mutex
	last inference.Request
}

func (r *recorder) Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	r.mu.Lock()
	r.last = *req
	r.mu.Unlock()
	return r.Model.Generate(ctx, req, sink)
}

func (r *recorder) request() inference.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

// blocker is a model that streams prefix (if any), then blocks until its
// context is done and returns ctx's error. Each Generate's error is sent
// on returned once it has returned.
type blocker struct {
	prefix   string
	started  chan struct{} // receives once per Generate, when it starts blocking
	returned chan error
}

func newBlocker(prefix string) *blocker {
	return &blocker{prefix: prefix, started: make(chan struct{}, 8), returned: make(chan error, 8)}
}

func (b *blocker) Info() inference.Info {
	return inference.Info{Name: "blocker", Tier: inference.TierEmbedded}
}

func (b *blocker) Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (res inference.Result, err error) {
	defer func() { b.returned <- err }()
	if b.prefix != "" && sink != nil {
		sink(inference.Delta{Text: b.prefix})
	}
	b.started <- struct{}{}
	<-ctx.Done()
	return inference.Result{}, ctx.Err()
}

// waitReturned waits for the blocker's Generate to return and checks it
// returned a context error.
func (b *blocker) waitReturned(t *testing.T, want error) {
	t.Helper()
	select {
	case err := <-b.returned:
		if !errors.Is(err, want) {
			t.Fatalf("Generate returned %v, want %v", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Generate did not return after the request ended")
	}
}

// scripted is a model that streams deltas then returns err (nil: success).
type scripted struct {
	deltas []inference.Delta
	text   string
	err    error
}

func (s *scripted) Info() inference.Info {
	return inference.Info{Name: "scripted", Tier: inference.TierEmbedded}
}

func (s *scripted) Generate(ctx context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	for _, d := range s.deltas {
		if sink != nil {
			sink(d)
		}
	}
	if s.err != nil {
		return inference.Result{}, s.err
	}
	return inference.Result{Text: s.text, Tokens: len(strings.Fields(s.text)), PromptTokens: 7}, nil
}

// hashEmbedder is a test-only Embedder: signed feature hashing of
// lower-cased word unigrams (Weinberger et al. 2009, "Feature Hashing for
// Large Scale Multitask Learning") into dim buckets with FNV-1a, then L2
// normalisation. Deterministic; texts sharing words have positive cosine.
type hashEmbedder struct{ dim int }

func (h hashEmbedder) Dim() int { return h.dim }

func (h hashEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v := make([]float32, h.dim)
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			f := fnv.New64a()
			f.Write([]byte(w))
			x := f.Sum64()
			sign := float32(1)
			if x>>63 == 1 {
				sign = -1
			}
			v[x%uint64(h.dim)] += sign
		}
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		if n > 0 {
			inv := float32(1 / math.Sqrt(n))
			for j := range v {
				v[j] *= inv
			}
		}
		out[i] = v
	}
	return out, nil
}

// apiErr asserts err is the SDK's *Error with the status and code.
func apiErr(t *testing.T, err error, status int, code string) *sdk.Error {
	t.Helper()
	var e *sdk.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *openai.Error", err, err)
	}
	if e.StatusCode != status || e.Code != code {
		t.Fatalf("status %d code %q (%s), want %d %q", e.StatusCode, e.Code, e.Message, status, code)
	}
	if e.Message == "" || e.Type == "" {
		t.Fatalf("error without message or type: %s", e.RawJSON())
	}
	return e
}

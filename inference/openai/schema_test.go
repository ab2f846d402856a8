package openai_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/inference/openaiserve"
)

// schemaSeen records the ResponseSchema each request carries.
type schemaSeen struct{ last atomic.Pointer[[]byte] }

func (s *schemaSeen) Info() inference.Info {
	return inference.Info{Name: "seen", Tier: inference.TierLocal}
}

func (s *schemaSeen) Generate(_ context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	b := req.ResponseSchema
	s.last.Store(&b)
	sink(inference.Delta{Text: `{"say":"Aye."}`})
	return inference.Result{Text: `{"say":"Aye."}`, Tokens: 3}, nil
}

// TestResponseSchemaIsSentAsJSONSchema: Request.ResponseSchema reaches an
// OpenAI-compatible server as the json_schema response format (here
// Hearth's own server, which hands it to its model as ResponseSchema
// again), and a request without one asks for free text.
func TestResponseSchemaIsSentAsJSONSchema(t *testing.T) {
	m := &schemaSeen{}
	srv, err := openaiserve.New(m, openaiserve.Options{ModelID: "seen"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: srv.Handler()}
	go hs.Serve(ln)
	defer hs.Close()
	b, err := openai.New(openai.Config{BaseURL: "http://" + ln.Addr().String() + "/v1", Model: "seen"})
	if err != nil {
		t.Fatal(err)
	}
	schema := []byte(`{"type":"object","properties":{"say":{"type":"string"}},"required":["say"]}`)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := b.Generate(ctx, &inference.Request{Prompt: "Say aye.", MaxTokens: 8, ResponseSchema: schema}, nil); err != nil {
		t.Fatal(err)
	}
	var want, got any
	json.Unmarshal(schema, &want)
	if p := m.last.Load(); p == nil || json.Unmarshal(*p, &got) != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("the server's model got schema %s, want %s", derefOr(m.last.Load()), schema)
	}
	if _, err := b.Generate(ctx, &inference.Request{Prompt: "Say aye.", MaxTokens: 8}, nil); err != nil {
		t.Fatal(err)
	}
	if p := m.last.Load(); p == nil || len(*p) != 0 {
		t.Fatalf("a request without a schema sent %s", derefOr(p))
	}
	if _, err := b.Generate(ctx, &inference.Request{Prompt: "x", ResponseSchema: []byte(`[1]`)}, nil); err == nil {
		t.Fatal("a schema that is not an object was sent")
	}
}

func derefOr(p *[]byte) string {
	if p == nil {
		return "<none>"
	}
	return string(*p)
}

// TestTokensCountedWithoutUsage: a server that streams no usage (some
// OpenAI-compatible servers do not) still yields token counts and a cost,
// from OpenAI's tokenizer offline.
func TestTokensCountedWithoutUsage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, piece := range []string{"Well ", "met, ", "traveller."} {
			fmt.Fprintf(w, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", piece)
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()
	b, err := openai.New(openai.Config{BaseURL: srv.URL + "/v1", Model: "gpt-4o", Prices: inference.Prices{InputPerMTok: 2.5, OutputPerMTok: 10}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := b.Generate(context.Background(), &inference.Request{Prompt: "You are Hobb. A stranger says: hello."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "Well met, traveller." || res.Tokens != inference.CountTokens("gpt-4o", res.Text) || res.Tokens == 0 ||
		res.PromptTokens == 0 || res.CostUSD <= 0 {
		t.Fatalf("result %+v: want tokens counted offline and a cost", res)
	}
}

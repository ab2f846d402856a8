package openaiserve

import (
	"errors"
	"net/http"
	"testing"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hearth-ai/hearth/inference/template"
)

// TestAuthenticate: with Options.Authenticate set, every path refuses a
// request whose credential fails, with 401 in OpenAI's error shape, before
// any other check; the official client with the right key is served.
func TestAuthenticate(t *testing.T) {
	h := serve(t, template.New(), Options{Authenticate: func(r *http.Request) error {
		if r.Header.Get("Authorization") != "Bearer sesame" {
			return errors.New("unknown API key")
		}
		return nil
	}})
	ctx := t.Context()
	// The harness's client sends the key "unused".
	_, err := h.client.Models.List(ctx)
	apiErr(t, err, http.StatusUnauthorized, "invalid_api_key")
	_, err = h.client.Chat.Completions.New(ctx, sdk.ChatCompletionNewParams{Model: testModelID,
		Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage("hello")}})
	apiErr(t, err, http.StatusUnauthorized, "invalid_api_key")
	// Before routing: an unknown path is refused the same way, not 404.
	resp, err := h.http.Get(h.url + "/nowhere")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("unknown path without a key: %d %v", resp.StatusCode, resp.Header)
	}
	good := sdk.NewClient(option.WithBaseURL(h.url), option.WithAPIKey("sesame"), option.WithMaxRetries(0), option.WithHTTPClient(h.http))
	if _, err := good.Models.List(ctx); err != nil {
		t.Fatalf("with the key: %v", err)
	}
	c, err := good.Chat.Completions.New(ctx, sdk.ChatCompletionNewParams{Model: testModelID,
		Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage("hello")}})
	if err != nil || len(c.Choices) != 1 || c.Choices[0].Message.Content == "" {
		t.Fatalf("chat with the key: %v %v", c, err)
	}
}

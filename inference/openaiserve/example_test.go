package openaiserve_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/hearth-ai/hearth/inference/openaiserve"
	"github.com/hearth-ai/hearth/inference/template"
)

// Serve a model and talk to it with the official OpenAI SDK. In production
// the model is the embedded transformer and the handler is served with
// http.Server on a real address; clients use base URL
// "http://<addr>/v1".
func Example() {
	s, err := openaiserve.New(template.New(), openaiserve.Options{ModelID: "hearth-embedded"})
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := sdk.NewClient(option.WithBaseURL(ts.URL+"/v1"), option.WithAPIKey("unused"),
		option.WithHTTPClient(&http.Client{Transport: tr}))

	reply, err := client.Chat.Completions.New(context.Background(), sdk.ChatCompletionNewParams{
		Model:    "hearth-embedded",
		Messages: []sdk.ChatCompletionMessageParamUnion{sdk.UserMessage("Goodbye, friend.")},
		Seed:     sdk.Int(1),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(reply.Model, reply.Choices[0].Message.Role, reply.Choices[0].FinishReason, reply.Choices[0].Message.Content != "")
	// Output: hearth-embedded assistant stop true
}

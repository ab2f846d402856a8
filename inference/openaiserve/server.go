// Package openaiserve serves any inference.Model (in production the
// embedded transformer) over an OpenAI-compatible HTTP API, so engine
// teams, tools and tests can use it as a real local model server: the
// official OpenAI SDKs, curl and Hearth's own inference/openai backend all
// speak to it unchanged.
//
// Endpoints (the subset of https://platform.openai.com/docs/api-reference
// that a single text model can honour):
//
//	GET  /v1/models             the one model, as a list
//	GET  /v1/models/{id}        the model, or 404
//	POST /v1/chat/completions   chat completions, streaming (SSE) or not
//	POST /v1/embeddings         embeddings, when Options.Embedder is set
//
// Every error is a JSON body in OpenAI's shape,
// {"error":{"message","type","param","code"}}, with the status OpenAI uses:
// 400 for a request the server cannot accept (bad JSON, missing or unknown
// model, no messages, n>1, unsupported response_format, tools), 404 for an
// unknown path or model, 405 for a wrong method (with an Allow header), 413
// for a body over Options.MaxBodyBytes, 500 for an embedder that breaks its
// contract, 503 when the model or embedder fails and 504 when it runs past
// Options.Timeout.
//
// # Request mapping
//
// A chat request becomes one inference.Request: Prompt (below), UserText
// (the last user message's text), Intent dialogue, MaxTokens from
// max_completion_tokens, else max_tokens, else Options.DefaultMaxTokens,
// Temperature (0..2; absent is 0, which backends read as their default),
// Seed (the signed 64-bit seed reinterpreted as uint64, two's complement,
// so distinct seeds stay distinct), Stop, and BudgetMS = Options.Timeout.
// The model's context ends at Options.Timeout or when the client
// disconnects, whichever is first. top_p is validated (0..1) but not passed:
// inference.Request has no such field. n must be 1. response_format
// "text" is accepted; "json_schema" and "json_object" are rejected with 400
// (param "response_format.type", code "unsupported_value") because the
// server does not pass schemas to the model yet. tools, logprobs and
// non-text content parts are rejected with 400; unknown fields are ignored.
//
// usage reports Result.PromptTokens and Result.Tokens as the model counts
// them (the template floor counts words and reports no prompt tokens).
// finish_reason is "length" when the model produced at least MaxTokens
// tokens, "stop" otherwise.
//
// # Prompt rendering
//
// inference.Model reads a single text prompt, so a chat transcript is
// rendered as plain text (see renderPrompt): the contents of every system
// (or developer) message first, in order, separated by a blank line and
// followed by one; then each user or assistant turn on its own line as
// "User: <content>" or "Assistant: <content>"; then a final "Assistant:"
// cue for the model to continue. When the last message is an assistant
// message, it is the start of the reply (a prefill) and the rendering ends
// with its content instead of the cue. Array content ([{type:"text",
// text}]) is joined with "\n".
//
// A request without system message whose last message is a user message
// holding a complete Hearth NPC prompt (one rendered from
// npc/prompts/npc.*.tmpl: it starts with "You are ", has a "Rules: " line
// and ends with the speaker cue line "<Name>:") is passed through
// verbatim as Request.Prompt, so Hearth's prompts reach the model
// byte-for-byte, as sent by inference/openai. Its structured parts (speaker
// name, traits, speech style, lore facts, memories, the player's line) are
// also parsed back into the Request on a best-effort basis, so backends
// that read structured fields (the template floor) answer it as they would
// in-process.
//
// # Streaming
//
// Streams follow OpenAI's wire format exactly: "data: <chunk>\n\n" events
// of object "chat.completion.chunk", the first carrying role "assistant"
// and empty content, one per delta of text, a final chunk with an empty
// delta and the finish_reason, a usage chunk (empty choices) when
// stream_options.include_usage is true, then "data: [DONE]\n\n"; every
// event is flushed as it is written. Headers (status 200) go out with the
// first text, so a model that fails before producing any text still gets a
// proper error status. A failure after that ends the stream with an
// {"error":{...}} event and no [DONE], which the official SDKs surface as a
// stream error.
//
// An inference.Delta with Reset=true (a backend starting its reply over)
// cannot be expressed in an OpenAI stream, which only appends. Before any
// text has reached the client the reset is honoured silently; after that
// the stream ends with an error event (type "server_error", code
// "stream_reset") and the generation is cancelled. The embedded model never
// resets; only a Router with fallbacks does, and a Router should be served
// non-streaming or with fallbacks that start over before the first text.
//
// Text is released to the client on UTF-8 rune boundaries (a model that
// splits a multi-byte character across deltas has the partial bytes held
// back until the rest arrives), so streamed chunks never carry U+FFFD
// replacement characters that the whole text would not.
//
// # Stop sequences
//
// Stop sequences are passed to the model in Request.Stop and also enforced
// here, as OpenAI does: the reply ends before the earliest occurrence of
// any stop sequence, which is not returned, finish_reason is "stop" and
// the generation is cancelled as soon as the sequence appears, and
// completion_tokens is an estimate (the model's count scaled by the share
// of its text kept, or the deltas received when the cancelled model
// returned no result). While
// streaming, up to len(longest stop)-1 bytes are held back until it is
// known they do not start a stop sequence.
package openaiserve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/hearth-ai/hearth/inference"
)

// Embedder turns texts into vectors for /v1/embeddings. Implementations
// must be safe for concurrent use and honour ctx.
type Embedder interface {
	// Embed returns one vector of Dim() float32 values per text, in the
	// order of texts. An error fails the whole request (503, or 504 when
	// ctx's deadline passed).
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Dim is the length of every vector Embed returns; it must be positive.
	Dim() int
}

// Defaults and limits of the server.
const (
	// DefaultMaxBodyBytes is the request body limit when
	// Options.MaxBodyBytes is 0: 1 MiB.
	DefaultMaxBodyBytes int64 = 1 << 20
	// DefaultTimeout is the per-request cap when Options.Timeout is 0.
	DefaultTimeout = 30 * time.Second
	// MaxEmbeddingInputs caps the texts of one /v1/embeddings request.
	MaxEmbeddingInputs = 256
	// MaxEmbeddingInputBytes caps one embeddings input, in bytes (32 KiB,
	// about OpenAI's 8,192-token limit at 4 bytes per token).
	MaxEmbeddingInputBytes = 32 << 10
	// MaxStopSequences caps the stop sequences of one request (OpenAI's
	// limit is 4).
	MaxStopSequences = 4
	// MaxStopBytes caps one stop sequence, in bytes.
	MaxStopBytes = 256
)

// Options configures a Server. Every zero field picks its default.
type Options struct {
	// ModelID is the id /v1/models reports and the only model id requests
	// may name, e.g. "hearth-embedded". Default: the model's Info().Name.
	ModelID string
	// Embedder serves /v1/embeddings; nil answers that path with 404 in
	// OpenAI's error shape.
	Embedder Embedder
	// MaxBodyBytes caps a request body in bytes; larger bodies get 413.
	// 0 means DefaultMaxBodyBytes; negative is an error.
	MaxBodyBytes int64
	// DefaultMaxTokens is Request.MaxTokens (reply cap in tokens) when a
	// request sets neither max_tokens nor max_completion_tokens; 0 leaves
	// it to the model's default. Negative is an error.
	DefaultMaxTokens int
	// Timeout caps each request, from the start of the handler to the
	// model's last token; past it the model's context is cancelled and
	// the client gets 504 (or an error event mid-stream). 0 means
	// DefaultTimeout; negative is an error.
	Timeout time.Duration
	// Logger receives one record per request (Debug on success, Warn on a
	// model or embedder failure). nil discards.
	Logger *slog.Logger
	// Authenticate, when set, checks every request's credential before
	// anything else (OpenAI clients send their API key as
	// `Authorization: Bearer`); an error answers 401 in OpenAI's error
	// shape (type invalid_request_error, code invalid_api_key) with the
	// error's text as the message. nil serves anyone who can connect.
	// hearth serve -openai passes the WebSocket server's check
	// (server.Security.Authenticate), so the same API keys and JWTs work.
	Authenticate func(r *http.Request) error
}

// Server is an OpenAI-compatible HTTP front for one inference.Model. It is
// safe for concurrent use; every request runs its own Generate call.
type Server struct {
	model    inference.Model
	opts     Options
	created  int64 // unix seconds, reported as the model's creation time
	log      *slog.Logger
	modelObj []byte // the /v1/models/{id} body
	listObj  []byte // the /v1/models body
}

// New returns a Server for m. It fails when m is nil, when ModelID (after
// defaulting to m.Info().Name) is empty or holds whitespace or control
// characters, when MaxBodyBytes, DefaultMaxTokens or Timeout is negative,
// or when the Embedder's Dim() is not positive.
func New(m inference.Model, opts Options) (*Server, error) {
	if m == nil {
		return nil, errors.New("openaiserve: nil model")
	}
	if opts.ModelID == "" {
		opts.ModelID = m.Info().Name
	}
	if opts.ModelID == "" {
		return nil, errors.New("openaiserve: Options.ModelID is empty and the model has no Info().Name")
	}
	if strings.IndexFunc(opts.ModelID, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return nil, fmt.Errorf("openaiserve: Options.ModelID %q holds whitespace or control characters", opts.ModelID)
	}
	switch {
	case opts.MaxBodyBytes < 0:
		return nil, fmt.Errorf("openaiserve: Options.MaxBodyBytes %d is negative", opts.MaxBodyBytes)
	case opts.MaxBodyBytes == 0:
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.DefaultMaxTokens < 0 {
		return nil, fmt.Errorf("openaiserve: Options.DefaultMaxTokens %d is negative", opts.DefaultMaxTokens)
	}
	switch {
	case opts.Timeout < 0:
		return nil, fmt.Errorf("openaiserve: Options.Timeout %v is negative", opts.Timeout)
	case opts.Timeout == 0:
		opts.Timeout = DefaultTimeout
	}
	if opts.Embedder != nil {
		if d := opts.Embedder.Dim(); d <= 0 {
			return nil, fmt.Errorf("openaiserve: Embedder.Dim() is %d, want > 0", d)
		}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{model: m, opts: opts, created: time.Now().Unix(), log: log}
	obj := modelObject{ID: opts.ModelID, Object: "model", Created: s.created, OwnedBy: "hearth"}
	var err error
	if s.modelObj, err = json.Marshal(obj); err != nil {
		return nil, fmt.Errorf("openaiserve: encoding the model object: %w", err)
	}
	if s.listObj, err = json.Marshal(modelList{Object: "list", Data: []modelObject{obj}}); err != nil {
		return nil, fmt.Errorf("openaiserve: encoding the model list: %w", err)
	}
	return s, nil
}

// ModelID returns the model id the server reports and accepts.
func (s *Server) ModelID() string { return s.opts.ModelID }

// Handler returns the HTTP handler serving /v1/models, /v1/models/{id},
// /v1/chat/completions and /v1/embeddings. Any other path answers 404 and
// a wrong method 405, both in OpenAI's error shape. Mount it at the root
// (the paths are absolute), e.g. http.ListenAndServe(addr, s.Handler()),
// and point clients at base URL "http://host:port/v1".
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.route)
}

func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if s.opts.Authenticate != nil {
		if err := s.opts.Authenticate(r); err != nil {
			s.log.Debug("openaiserve: request refused", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
			w.Header().Set("WWW-Authenticate", `Bearer realm="hearth"`)
			writeError(w, &apiError{status: http.StatusUnauthorized, typ: typeInvalidRequest, code: "invalid_api_key",
				msg: "Unauthorized: " + err.Error()})
			return
		}
	}
	p := r.URL.Path
	switch {
	case p == "/v1/models":
		if !allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		writeRaw(w, http.StatusOK, s.listObj)
	case strings.HasPrefix(p, "/v1/models/"):
		if !allow(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		if id := strings.TrimPrefix(p, "/v1/models/"); id != s.opts.ModelID {
			writeError(w, &apiError{status: http.StatusNotFound, typ: typeInvalidRequest, code: "model_not_found",
				msg: fmt.Sprintf("The model %q does not exist; this server serves %q.", id, s.opts.ModelID)})
			return
		}
		writeRaw(w, http.StatusOK, s.modelObj)
	case p == "/v1/chat/completions":
		if !allow(w, r, http.MethodPost) {
			return
		}
		s.chat(w, r)
	case p == "/v1/embeddings":
		if s.opts.Embedder == nil {
			writeError(w, &apiError{status: http.StatusNotFound, typ: typeInvalidRequest, code: "unknown_url",
				msg: "This server has no embedding model: /v1/embeddings is not served."})
			return
		}
		if !allow(w, r, http.MethodPost) {
			return
		}
		s.embeddings(w, r)
	default:
		writeError(w, &apiError{status: http.StatusNotFound, typ: typeInvalidRequest, code: "unknown_url",
			msg: fmt.Sprintf("Unknown request URL: %s %s.", r.Method, p)})
	}
}

// allow answers 405 with an Allow header unless r's method is one of
// methods.
func allow(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, &apiError{status: http.StatusMethodNotAllowed, typ: typeInvalidRequest, code: "method_not_allowed",
		msg: fmt.Sprintf("Method %s is not allowed on %s; use %s.", r.Method, r.URL.Path, strings.Join(methods, " or "))})
	return false
}

type modelObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

type modelList struct {
	Object string        `json:"object"`
	Data   []modelObject `json:"data"`
}

// Error types of OpenAI's error object.
const (
	typeInvalidRequest = "invalid_request_error"
	typeServer         = "server_error"
)

// apiError is an error answered in OpenAI's shape.
type apiError struct {
	status int
	typ    string
	msg    string
	param  string // "" encodes as null
	code   string // "" encodes as null
}

func (e *apiError) Error() string { return e.msg }

// badRequest is a 400 invalid_request_error about param.
func badRequest(param, code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, typ: typeInvalidRequest, param: param, code: code,
		msg: fmt.Sprintf(format, args...)}
}

type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func (e *apiError) body() errorBody {
	o := errorObject{Message: e.msg, Type: e.typ}
	if e.param != "" {
		o.Param = &e.param
	}
	if e.code != "" {
		o.Code = &e.code
	}
	return errorBody{Error: o}
}

func writeError(w http.ResponseWriter, e *apiError) {
	b, err := json.Marshal(e.body())
	if err != nil { // unreachable: only strings
		b = []byte(`{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}`)
	}
	writeRaw(w, e.status, b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, &apiError{status: http.StatusInternalServerError, typ: typeServer,
			msg: "The server could not encode its response: " + err.Error()})
		return
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", fmt.Sprint(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	_, _ = w.Write([]byte{'\n'})
}

// readJSON reads r's body (at most max bytes) into v. Errors: 413 for a
// body over max, 400 for anything that is not one JSON object of v's
// shape.
func readJSON(w http.ResponseWriter, r *http.Request, max int64, v any) *apiError {
	tooLarge := &apiError{status: http.StatusRequestEntityTooLarge, typ: typeInvalidRequest, code: "request_too_large",
		msg: fmt.Sprintf("The request body exceeds this server's limit of %d bytes.", max)}
	if r.ContentLength > max {
		return tooLarge
	}
	body := http.MaxBytesReader(w, r.Body, max)
	dec := json.NewDecoder(body)
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return tooLarge
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				return badRequest("", "invalid_json", "The request body must be a JSON object, not JSON %s.", te.Value)
			}
			return badRequest(field, "invalid_type", "Invalid type for %q: expected %s, got JSON %s.", field, te.Type, te.Value)
		default:
			return badRequest("", "invalid_json", "We could not parse the JSON body of your request: %v.", err)
		}
	}
	// Exactly one JSON value: anything but whitespace after it is an error.
	if _, err := dec.Token(); err != io.EOF {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge
		}
		return badRequest("", "invalid_json", "We could not parse the JSON body of your request: data after the JSON object.")
	}
	return nil
}

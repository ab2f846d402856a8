package openaiserve

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/inference"
)

// chatRequest is the subset of OpenAI's chat completion request the server
// reads. Unknown fields are ignored, as OpenAI-compatible servers do, so
// that clients sending newer optional fields keep working.
type chatRequest struct {
	Model               string          `json:"model"`
	Messages            []chatMessage   `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Seed                *int64          `json:"seed"`
	Stop                json.RawMessage `json:"stop"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	N              *int `json:"n"`
	ResponseFormat *struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Name   string          `json:"name"`
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
	Tools    json.RawMessage `json:"tools"`
	Logprobs bool            `json:"logprobs"`
}

type chatMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type contentPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// turn is a message reduced to its role and text.
type turn struct {
	role string // "system" (also for "developer"), "user" or "assistant"
	text string
}

// plan is a validated chat request.
type plan struct {
	req          inference.Request
	stream       bool
	includeUsage bool
}

// buildRequest validates cr and maps it to an inference.Request.
func (s *Server) buildRequest(cr *chatRequest) (*plan, *apiError) {
	switch {
	case cr.Model == "":
		return nil, badRequest("model", "missing_required_parameter", "You must provide a model parameter; this server serves %q.", s.opts.ModelID)
	case cr.Model != s.opts.ModelID:
		return nil, badRequest("model", "model_not_found", "The model %q does not exist; this server serves %q.", cr.Model, s.opts.ModelID)
	case len(cr.Messages) == 0:
		return nil, badRequest("messages", "missing_required_parameter", "messages must hold at least one message.")
	case cr.N != nil && *cr.N != 1:
		return nil, badRequest("n", "unsupported_value", "n is %d; this server returns exactly one choice per request (n=1).", *cr.N)
	case cr.Logprobs:
		return nil, badRequest("logprobs", "unsupported_value", "logprobs are not supported by this server.")
	}
	if len(cr.Tools) > 0 && string(cr.Tools) != "null" {
		var tools []json.RawMessage
		if err := json.Unmarshal(cr.Tools, &tools); err != nil || len(tools) > 0 {
			return nil, badRequest("tools", "unsupported_value", "Tools (function calling) are not supported by this server.")
		}
	}
	var schema []byte
	if rf := cr.ResponseFormat; rf != nil {
		switch rf.Type {
		case "", "text":
		case "json_schema":
			// The schema reaches the model as Request.ResponseSchema; the
			// embedded model enforces it by constrained decoding.
			if rf.JSONSchema == nil || len(rf.JSONSchema.Schema) == 0 || string(rf.JSONSchema.Schema) == "null" {
				return nil, badRequest("response_format.json_schema.schema", "missing_required_parameter",
					"response_format json_schema needs json_schema.schema.")
			}
			schema = rf.JSONSchema.Schema
		case "json_object":
			return nil, badRequest("response_format.type", "unsupported_value",
				"response_format \"json_object\" is not supported: send \"json_schema\" with a schema, which the model is constrained to.")
		default:
			return nil, badRequest("response_format.type", "invalid_value", "Unknown response_format type %q; this server supports \"text\" and \"json_schema\".", rf.Type)
		}
	}

	p := &plan{stream: cr.Stream}
	p.req.ResponseSchema = schema
	p.includeUsage = cr.Stream && cr.StreamOptions != nil && cr.StreamOptions.IncludeUsage
	req := &p.req
	req.Intent = inference.IntentDialogue
	req.BudgetMS = float64(s.opts.Timeout) / float64(time.Millisecond)

	req.MaxTokens = s.opts.DefaultMaxTokens
	for _, mt := range []struct {
		name string
		v    *int
	}{{"max_tokens", cr.MaxTokens}, {"max_completion_tokens", cr.MaxCompletionTokens}} {
		if mt.v == nil {
			continue
		}
		if *mt.v < 1 {
			return nil, badRequest(mt.name, "invalid_value", "%s is %d; it must be at least 1.", mt.name, *mt.v)
		}
		req.MaxTokens = *mt.v // max_completion_tokens, read last, wins
	}
	if t := cr.Temperature; t != nil {
		if *t < 0 || *t > 2 {
			return nil, badRequest("temperature", "invalid_value", "temperature is %g; it must be between 0 and 2.", *t)
		}
		req.Temperature = *t
	}
	if tp := cr.TopP; tp != nil && (*tp < 0 || *tp > 1) {
		// Validated for compatibility; inference.Request has no top_p, so
		// the model's own nucleus setting applies.
		return nil, badRequest("top_p", "invalid_value", "top_p is %g; it must be between 0 and 1.", *tp)
	}
	if cr.Seed != nil {
		req.Seed = uint64(*cr.Seed) // two's complement: a bijection of int64 onto uint64
	}
	stops, e := parseStop(cr.Stop)
	if e != nil {
		return nil, e
	}
	req.Stop = stops

	turns := make([]turn, len(cr.Messages))
	hasSystem := false
	for i, m := range cr.Messages {
		t, e := parseMessage(i, m)
		if e != nil {
			return nil, e
		}
		turns[i] = t
		hasSystem = hasSystem || t.role == "system"
	}
	for i := len(turns) - 1; i >= 0; i-- {
		if turns[i].role == "user" {
			req.UserText = turns[i].text
			break
		}
	}
	last := turns[len(turns)-1]
	if !hasSystem && last.role == "user" && isHearthPrompt(last.text) {
		req.Prompt = last.text
		parseHearthPrompt(last.text, req)
	} else {
		req.Prompt, req.PrefixBytes = renderPrompt(turns)
	}
	return p, nil
}

// parseStop reads stop: null, a string or an array of strings.
func parseStop(raw json.RawMessage) ([]string, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var stops []string
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		stops = []string{one}
	} else if err := json.Unmarshal(raw, &stops); err != nil {
		return nil, badRequest("stop", "invalid_type", "stop must be a string or an array of strings.")
	}
	if len(stops) > MaxStopSequences {
		return nil, badRequest("stop", "invalid_value", "stop holds %d sequences; at most %d are allowed.", len(stops), MaxStopSequences)
	}
	for _, st := range stops {
		if st == "" || len(st) > MaxStopBytes || !utf8.ValidString(st) {
			return nil, badRequest("stop", "invalid_value", "Each stop sequence must be non-empty valid UTF-8 of at most %d bytes.", MaxStopBytes)
		}
	}
	if len(stops) == 0 {
		return nil, nil
	}
	return stops, nil
}

// parseMessage reads message i: its role and its content as text.
func parseMessage(i int, m chatMessage) (turn, *apiError) {
	var t turn
	switch m.Role {
	case "system", "developer":
		t.role = "system"
	case "user", "assistant":
		t.role = m.Role
	case "tool", "function":
		return t, badRequest(fmt.Sprintf("messages[%d].role", i), "unsupported_value",
			"Role %q is not supported: this server has no tool calling.", m.Role)
	case "":
		return t, badRequest(fmt.Sprintf("messages[%d].role", i), "missing_required_parameter", "messages[%d] has no role.", i)
	default:
		return t, badRequest(fmt.Sprintf("messages[%d].role", i), "invalid_value",
			"Invalid role %q; expected one of system, developer, user, assistant.", m.Role)
	}
	param := fmt.Sprintf("messages[%d].content", i)
	if len(m.Content) == 0 || string(m.Content) == "null" {
		if t.role == "assistant" {
			return t, nil
		}
		return t, badRequest(param, "missing_required_parameter", "%s is required.", param)
	}
	if m.Content[0] == '"' {
		if err := json.Unmarshal(m.Content, &t.text); err != nil {
			return t, badRequest(param, "invalid_type", "%s: %v.", param, err)
		}
		return t, nil
	}
	var parts []contentPart
	if err := json.Unmarshal(m.Content, &parts); err != nil {
		return t, badRequest(param, "invalid_type", "%s must be a string or an array of {\"type\":\"text\",\"text\":...} parts.", param)
	}
	texts := make([]string, 0, len(parts))
	for j, part := range parts {
		if part.Type != "text" {
			return t, badRequest(fmt.Sprintf("%s[%d].type", param, j), "unsupported_value",
				"Content part type %q is not supported; this model reads text parts only.", part.Type)
		}
		texts = append(texts, part.Text)
	}
	t.text = strings.Join(texts, "\n")
	return t, nil
}

// renderPrompt renders a chat transcript as one plain-text prompt (see the
// package doc): system texts first, each followed by a blank line, then
// "User: …" / "Assistant: …" lines, then the "Assistant:" cue, or the
// trailing assistant message's text as a prefill. It also returns the
// length in bytes of the system part (the stable prefix, for prefix
// caches; 0 without system messages).
func renderPrompt(turns []turn) (string, int) {
	var b strings.Builder
	for _, t := range turns {
		if t.role == "system" {
			b.WriteString(t.text)
			b.WriteString("\n\n")
		}
	}
	prefix := b.Len()
	var conv []turn
	for _, t := range turns {
		if t.role != "system" {
			conv = append(conv, t)
		}
	}
	prefill := len(conv) > 0 && conv[len(conv)-1].role == "assistant"
	for i, t := range conv {
		if t.role == "user" {
			b.WriteString("User: ")
		} else {
			b.WriteString("Assistant: ")
		}
		b.WriteString(t.text)
		if prefill && i == len(conv)-1 {
			return b.String(), prefix
		}
		b.WriteByte('\n')
	}
	b.WriteString("Assistant:")
	return b.String(), prefix
}

// Wire types of chat completions.

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   usage              `json:"usage"`
}

type completionChoice struct {
	Index        int               `json:"index"`
	Message      completionMessage `json:"message"`
	Logprobs     *struct{}         `json:"logprobs"`
	FinishReason string            `json:"finish_reason"`
}

type completionMessage struct {
	Role    string  `json:"role"`
	Content string  `json:"content"`
	Refusal *string `json:"refusal"`
}

type chunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	// Usage is JSON null on every chunk but the last when the client asked
	// for usage (as OpenAI sends it), absent otherwise.
	Usage any `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	Logprobs     *struct{}  `json:"logprobs"`
	FinishReason *string    `json:"finish_reason"`
}

type chunkDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

var jsonNull = json.RawMessage("null")

// chat serves POST /v1/chat/completions.
func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var cr chatRequest
	if e := readJSON(w, r, s.opts.MaxBodyBytes, &cr); e != nil {
		writeError(w, e)
		return
	}
	p, e := s.buildRequest(&cr)
	if e != nil {
		writeError(w, e)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
	defer cancel()
	// Bound writes to a stalled client by the same cap; the connection
	// may serve later requests, so the deadline is cleared on return.
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(start.Add(s.opts.Timeout + time.Second))
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()

	c := &call{s: s, w: w, r: r, rc: rc, ctx: ctx, cancel: cancel, plan: p, start: start,
		id: "chatcmpl-" + rand.Text(), created: start.Unix(), stop: inference.NewStopStream(p.req.Stop)}
	if p.stream {
		c.streamReply()
	} else {
		c.reply()
	}
}

// call is one chat completion in flight.
type call struct {
	s       *Server
	w       http.ResponseWriter
	r       *http.Request
	rc      *http.ResponseController
	ctx     context.Context
	cancel  context.CancelFunc
	plan    *plan
	start   time.Time
	id      string
	created int64

	stop    *inference.StopStream
	stopped bool // a stop sequence was found: the reply is complete
	deltas  int  // non-empty deltas received since the last reset
}

// generate runs the model, turning a panic into an error so that one bad
// request cannot take the server down.
func (c *call) generate(sink inference.Sink) (res inference.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("openaiserve: model %s panicked: %v", c.s.model.Info().Name, p)
		}
	}()
	return c.s.model.Generate(c.ctx, &c.plan.req, sink)
}

// failure maps a model error to the answer: nil when the client is gone
// (nothing can reach it), 400 context_length_exceeded for a prompt longer
// than the model's context (as OpenAI answers it), 504 for a deadline,
// 503 otherwise.
func (c *call) failure(err error) *apiError {
	if c.r.Context().Err() != nil {
		return nil
	}
	if errors.Is(err, inference.ErrPromptTooLong) {
		return &apiError{status: http.StatusBadRequest, typ: typeInvalidRequest, code: "context_length_exceeded",
			msg: "This model's context is too short for the prompt: " + err.Error()}
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(c.ctx.Err(), context.DeadlineExceeded) {
		return &apiError{status: http.StatusGatewayTimeout, typ: typeServer, code: "timeout",
			msg: fmt.Sprintf("The model did not finish within this server's %v request timeout.", c.s.opts.Timeout)}
	}
	return &apiError{status: http.StatusServiceUnavailable, typ: typeServer, code: "model_error",
		msg: "The model failed: " + err.Error()}
}

// finishReason is "stop" unless the model used its whole token budget.
func (c *call) finishReason(res *inference.Result) string {
	if !c.stopped && c.plan.req.MaxTokens > 0 && res.Tokens >= c.plan.req.MaxTokens {
		return "length"
	}
	return "stop"
}

// usageOf reports the model's token counts for a reply of kept bytes.
// When the server cut the reply at a stop sequence, the completion tokens
// are estimated: the model's count scaled by the share of its text kept,
// or, when the cancelled model returned no result, the deltas received.
func (c *call) usageOf(res *inference.Result, err error, kept int) usage {
	u := usage{PromptTokens: res.PromptTokens, CompletionTokens: res.Tokens}
	if c.stopped {
		if err == nil && len(res.Text) > 0 && kept <= len(res.Text) {
			u.CompletionTokens = (res.Tokens*kept + len(res.Text) - 1) / len(res.Text)
		} else {
			u.CompletionTokens = c.deltas
		}
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

func (c *call) logDone(status int, res *inference.Result, err error) {
	level := slog.LevelDebug
	if err != nil && !c.stopped && status != statusOf(nil) { // a client hanging up is routine
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String("id", c.id), slog.Bool("stream", c.plan.stream), slog.Int("status", status),
		slog.Duration("latency", time.Since(c.start)), slog.Int("tokens", res.Tokens), slog.Bool("stopped", c.stopped)}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	c.s.log.LogAttrs(c.r.Context(), level, "openaiserve: chat completion", attrs...)
}

// reply serves a non-streaming completion.
func (c *call) reply() {
	var mu sync.Mutex
	var released strings.Builder
	var sink inference.Sink
	if c.stop.Active() {
		// Watch the stream only to cut generation short at a stop sequence.
		sink = func(d inference.Delta) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case c.stopped:
			case d.Reset:
				c.stop.Reset()
				released.Reset()
				c.deltas = 0
			case d.Text != "":
				c.deltas++
				released.WriteString(c.stop.Feed(d.Text))
				if c.stop.Stopped() {
					c.stopped = true
					c.cancel()
				}
			}
		}
	}
	res, err := c.generate(sink)
	mu.Lock() // a misbehaving model may still call sink; read under the lock
	defer mu.Unlock()
	var text string
	switch {
	case c.stopped:
		text = released.String()
	case err != nil:
		e := c.failure(err)
		c.logDone(statusOf(e), &res, err)
		if e != nil {
			writeError(c.w, e)
		}
		return
	default:
		var cut bool
		text, cut = inference.CutAtStop(res.Text, c.plan.req.Stop)
		c.stopped = c.stopped || cut
	}
	writeJSON(c.w, http.StatusOK, completion{
		ID: c.id, Object: "chat.completion", Created: c.created, Model: c.s.opts.ModelID,
		Choices: []completionChoice{{Message: completionMessage{Role: "assistant", Content: text},
			FinishReason: c.finishReason(&res)}},
		Usage: c.usageOf(&res, err, len(text)),
	})
	c.logDone(http.StatusOK, &res, err)
}

func statusOf(e *apiError) int {
	if e == nil {
		return 499 // client closed the request (nginx's convention)
	}
	return e.status
}

// deltaQueue hands deltas from the model's goroutine to the handler's
// without ever blocking the model (Sink must not block). It is unbounded;
// its size is bounded by the reply, which the token cap and the timeout
// bound.
type deltaQueue struct {
	mu   sync.Mutex
	q    []inference.Delta
	wake chan struct{} // capacity 1: "the queue may be non-empty"
}

func (q *deltaQueue) push(d inference.Delta) {
	q.mu.Lock()
	q.q = append(q.q, d)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *deltaQueue) take(buf []inference.Delta) []inference.Delta {
	q.mu.Lock()
	buf = append(buf[:0], q.q...)
	clear(q.q)
	q.q = q.q[:0]
	q.mu.Unlock()
	return buf
}

type outcome struct {
	res inference.Result
	err error
}

// streamState is the handler side of a streaming completion.
type streamState struct {
	*call
	committed bool // headers and the role chunk are written
	aborted   bool // an error event ended the stream
	writeErr  error
	chunkBuf  []byte
	sent      int // content bytes streamed
}

// streamReply serves a streaming completion (see the package doc).
func (c *call) streamReply() {
	st := &streamState{call: c}
	q := &deltaQueue{wake: make(chan struct{}, 1)}
	done := make(chan outcome, 1)
	go func() {
		res, err := c.generate(q.push)
		done <- outcome{res, err}
	}()
	var out outcome
	var buf []inference.Delta
	for running := true; running; {
		select {
		case <-q.wake:
			buf = q.take(buf)
			st.process(buf)
		case out = <-done:
			running = false
		}
	}
	st.process(q.take(buf)) // what arrived before Generate returned
	st.finish(out)
}

// process handles deltas in order: releases text, detects stop sequences
// and resets.
func (st *streamState) process(ds []inference.Delta) {
	for _, d := range ds {
		if st.stopped || st.aborted {
			return
		}
		if d.Reset {
			if !st.committed {
				st.stop.Reset()
				st.deltas = 0
				continue
			}
			st.abort(&apiError{status: http.StatusInternalServerError, typ: typeServer, code: "stream_reset",
				msg: "The model restarted its reply after text was streamed; an OpenAI stream cannot retract text. Retry, or use stream=false."})
			return
		}
		if d.Text == "" {
			continue
		}
		st.deltas++
		text := st.stop.Feed(d.Text)
		if st.stop.Stopped() {
			st.stopped = true
			st.cancel() // the reply is complete: stop generating
		}
		st.content(text)
	}
}

// content streams text as one chunk (nothing for "").
func (st *streamState) content(text string) {
	if text == "" {
		return
	}
	st.commit()
	st.sent += len(text)
	st.send(chunkChoice{Delta: chunkDelta{Content: &text}})
}

// commit writes the headers and the role chunk once.
func (st *streamState) commit() {
	if st.committed {
		return
	}
	st.committed = true
	h := st.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // tell reverse proxies not to buffer the stream
	st.w.WriteHeader(http.StatusOK)
	empty := ""
	st.send(chunkChoice{Delta: chunkDelta{Role: "assistant", Content: &empty}})
}

// send writes one chat.completion.chunk with the given choice.
func (st *streamState) send(ch chunkChoice) {
	c := chunk{ID: st.id, Object: "chat.completion.chunk", Created: st.created, Model: st.s.opts.ModelID,
		Choices: []chunkChoice{ch}}
	if st.plan.includeUsage {
		c.Usage = jsonNull
	}
	st.event(c)
}

// event writes "data: <json>\n\n" and flushes. After a write error (the
// client is gone) it cancels the generation and writes nothing more.
func (st *streamState) event(v any) {
	if st.writeErr != nil {
		return
	}
	b, err := json.Marshal(v)
	if err != nil { // unreachable: strings and numbers only
		b = []byte(`{"error":{"message":"internal encoding error","type":"server_error","param":null,"code":null}}`)
	}
	st.raw(b)
}

func (st *streamState) raw(b []byte) {
	if st.writeErr != nil {
		return
	}
	st.chunkBuf = append(append(append(st.chunkBuf[:0], "data: "...), b...), "\n\n"...)
	if _, err := st.w.Write(st.chunkBuf); err != nil {
		st.writeErr = err
	} else if err := st.rc.Flush(); err != nil {
		st.writeErr = err
	}
	if st.writeErr != nil {
		st.cancel()
	}
}

// abort ends the stream with an error event (or, before any text, an
// error response) and cancels the generation.
func (st *streamState) abort(e *apiError) {
	st.aborted = true
	st.cancel()
	if e == nil {
		return
	}
	if !st.committed {
		writeError(st.w, e)
		st.committed = true
		return
	}
	st.event(e.body())
}

// finish completes the stream once Generate has returned.
func (st *streamState) finish(out outcome) {
	if st.aborted {
		st.logDone(http.StatusOK, &out.res, errors.New("stream aborted"))
		return
	}
	if out.err != nil && st.writeErr != nil { // the client went away mid-stream
		st.logDone(statusOf(nil), &out.res, out.err)
		return
	}
	if out.err != nil && !st.stopped {
		e := st.failure(out.err)
		committed := st.committed
		st.abort(e)
		status := statusOf(e)
		if committed && e != nil {
			status = http.StatusOK
		}
		st.logDone(status, &out.res, out.err)
		return
	}
	if st.deltas == 0 && !st.stopped && out.res.Text != "" {
		// The model returned its text without streaming it.
		st.process([]inference.Delta{{Text: out.res.Text}})
	}
	if !st.stopped {
		st.content(st.stop.Flush())
	}
	st.commit()
	reason := st.finishReason(&out.res)
	st.send(chunkChoice{Delta: chunkDelta{}, FinishReason: &reason})
	if st.plan.includeUsage {
		u := st.usageOf(&out.res, out.err, st.sent)
		st.event(chunk{ID: st.id, Object: "chat.completion.chunk", Created: st.created, Model: st.s.opts.ModelID,
			Choices: []chunkChoice{}, Usage: &u})
	}
	st.raw([]byte("[DONE]"))
	st.logDone(http.StatusOK, &out.res, st.writeErr)
}

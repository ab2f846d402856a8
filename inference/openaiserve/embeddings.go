package openaiserve

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"time"
)

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	EncodingFormat string          `json:"encoding_format"`
	Dimensions     *int            `json:"dimensions"`
}

type embeddingResponse struct {
	Object string          `json:"object"`
	Data   []embeddingData `json:"data"`
	Model  string          `json:"model"`
	Usage  embeddingUsage  `json:"usage"`
}

type embeddingData struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float32, or a base64 string
}

type embeddingUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// parseInput reads input: a string or an array of 1..MaxEmbeddingInputs
// non-empty strings of at most MaxEmbeddingInputBytes each. Token arrays
// (OpenAI's other input forms) are rejected: the server does not know the
// embedder's vocabulary.
func parseInput(raw json.RawMessage) ([]string, *apiError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, badRequest("input", "missing_required_parameter", "You must provide an input.")
	}
	var texts []string
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		texts = []string{one}
	} else if err := json.Unmarshal(raw, &texts); err != nil {
		return nil, badRequest("input", "invalid_type", "input must be a string or an array of strings; token arrays are not supported.")
	}
	if len(texts) == 0 {
		return nil, badRequest("input", "invalid_value", "input must hold at least one string.")
	}
	if len(texts) > MaxEmbeddingInputs {
		return nil, badRequest("input", "invalid_value", "input holds %d strings; at most %d are allowed per request.", len(texts), MaxEmbeddingInputs)
	}
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			return nil, badRequest(fmt.Sprintf("input[%d]", i), "invalid_value", "input[%d] is empty.", i)
		}
		if len(t) > MaxEmbeddingInputBytes {
			return nil, badRequest(fmt.Sprintf("input[%d]", i), "invalid_value", "input[%d] is %d bytes; at most %d are allowed.", i, len(t), MaxEmbeddingInputBytes)
		}
	}
	return texts, nil
}

// embeddings serves POST /v1/embeddings. usage counts whitespace-separated
// words (the Embedder reports no tokens).
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var er embeddingRequest
	if e := readJSON(w, r, s.opts.MaxBodyBytes, &er); e != nil {
		writeError(w, e)
		return
	}
	dim := s.opts.Embedder.Dim()
	switch {
	case er.Model == "":
		writeError(w, badRequest("model", "missing_required_parameter", "You must provide a model parameter; this server serves %q.", s.opts.ModelID))
		return
	case er.Model != s.opts.ModelID:
		writeError(w, badRequest("model", "model_not_found", "The model %q does not exist; this server serves %q.", er.Model, s.opts.ModelID))
		return
	case er.EncodingFormat != "" && er.EncodingFormat != "float" && er.EncodingFormat != "base64":
		writeError(w, badRequest("encoding_format", "invalid_value", "encoding_format %q: expected \"float\" or \"base64\".", er.EncodingFormat))
		return
	case er.Dimensions != nil && *er.Dimensions != dim:
		writeError(w, badRequest("dimensions", "unsupported_value", "dimensions is %d; this model's embeddings have exactly %d.", *er.Dimensions, dim))
		return
	}
	texts, e := parseInput(er.Input)
	if e != nil {
		writeError(w, e)
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
	defer cancel()
	vecs, err := s.embed(ctx, texts)
	if err == nil {
		err = checkVectors(vecs, len(texts), dim)
		if err != nil {
			s.log.LogAttrs(r.Context(), slog.LevelError, "openaiserve: embedder broke its contract", slog.String("error", err.Error()))
			writeError(w, &apiError{status: http.StatusInternalServerError, typ: typeServer, code: "embedder_error", msg: err.Error()})
			return
		}
	}
	if err != nil {
		level := slog.LevelWarn
		if r.Context().Err() != nil { // client gone: nothing to answer
			level = slog.LevelDebug
		}
		s.log.LogAttrs(r.Context(), level, "openaiserve: embeddings failed", slog.Int("inputs", len(texts)),
			slog.Duration("latency", time.Since(start)), slog.String("error", err.Error()))
		if r.Context().Err() != nil {
			return
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			writeError(w, &apiError{status: http.StatusGatewayTimeout, typ: typeServer, code: "timeout",
				msg: fmt.Sprintf("The embedder did not finish within this server's %v request timeout.", s.opts.Timeout)})
			return
		}
		writeError(w, &apiError{status: http.StatusServiceUnavailable, typ: typeServer, code: "embedder_error",
			msg: "The embedder failed: " + err.Error()})
		return
	}

	resp := embeddingResponse{Object: "list", Data: make([]embeddingData, len(vecs)), Model: s.opts.ModelID}
	for i, v := range vecs {
		d := embeddingData{Object: "embedding", Index: i, Embedding: v}
		if er.EncodingFormat == "base64" {
			d.Embedding = encodeBase64(v)
		}
		resp.Data[i] = d
		resp.Usage.PromptTokens += len(strings.Fields(texts[i]))
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	writeJSON(w, http.StatusOK, resp)
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "openaiserve: embeddings", slog.Int("inputs", len(texts)),
		slog.Duration("latency", time.Since(start)))
}

// embed runs the Embedder, turning a panic into an error.
func (s *Server) embed(ctx context.Context, texts []string) (vecs [][]float32, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("openaiserve: embedder panicked: %v", p)
		}
	}()
	return s.opts.Embedder.Embed(ctx, texts)
}

// checkVectors verifies the Embedder's contract: n vectors of dim finite
// values.
func checkVectors(vecs [][]float32, n, dim int) error {
	if len(vecs) != n {
		return fmt.Errorf("openaiserve: the embedder returned %d vectors for %d inputs", len(vecs), n)
	}
	for i, v := range vecs {
		if len(v) != dim {
			return fmt.Errorf("openaiserve: the embedder returned a vector of %d values for input %d; Dim() is %d", len(v), i, dim)
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("openaiserve: the embedder returned a non-finite value for input %d", i)
			}
		}
	}
	return nil
}

// encodeBase64 encodes v as OpenAI's encoding_format "base64": the
// little-endian IEEE 754 float32 bytes, in standard base64 with padding.
func encodeBase64(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

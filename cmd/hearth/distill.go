package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/embedded/constrain"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/npc/corpus"
)

// distillErrorsShown caps the per-line errors printed.
const distillErrorsShown = 10

// cmdDistill replaces the responses of a corpus file with an
// OpenAI-compatible model's, through Hearth's own openai backend: every
// prompt is sent as it is (the small prompt the embedded model will see),
// and the output keeps each line's kind, npc and fact, with source
// "distill:<model>". Quest offers are kept only when the reply validates
// against the quest offer schema, rewritten in the canonical compact form.
// Failed lines are reported and counted and left out of the output; the
// command fails only when every line fails.
func cmdDistill(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth distill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "corpus JSONL whose prompts are sent (hearth corpus -out)")
	out := fs.String("out", "", "output JSONL: the same items with the model's responses")
	baseURL := fs.String("base-url", "", "API root of the OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1")
	model := fs.String("model", "", "model name the server expects")
	keyEnv := fs.String("api-key-env", "", "environment variable holding the API key (none: local servers)")
	concurrency := fs.Int("concurrency", 4, "requests in flight at once")
	maxTokens := fs.Int("max-tokens", 80, "reply cap in tokens (quest offers get at least 192)")
	timeout := fs.Duration("timeout", 2*time.Minute, "deadline of each request")
	seed := fs.Uint64("seed", 0, "when non-zero, line i is sent with seed+i (servers that honour seeds repeat their answers)")
	schemaPath := fs.String("quest-schema", "", "quest offer JSON schema (default: the demo world's, npc/corpus/schemas/quest_offer.json)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: hearth distill -in prompts.jsonl -out out.jsonl -base-url URL -model NAME [-api-key-env VAR] [-concurrency 4] [-max-tokens 80]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *in == "" || *out == "":
		return errors.New("-in and -out are required")
	case *model == "":
		return errors.New("-model is required")
	case *baseURL == "":
		return errors.New("-base-url is required (e.g. http://127.0.0.1:8080/v1)")
	case *concurrency < 1 || *concurrency > 256:
		return fmt.Errorf("-concurrency %d: want 1..256", *concurrency)
	case *maxTokens < 1:
		return fmt.Errorf("-max-tokens %d: must be positive", *maxTokens)
	case *timeout <= 0:
		return fmt.Errorf("-timeout %v: must be positive", *timeout)
	}
	key := ""
	if *keyEnv != "" {
		if key = os.Getenv(*keyEnv); key == "" {
			return fmt.Errorf("-api-key-env %s: the variable is empty or unset", *keyEnv)
		}
	}
	rawSchema := corpus.DemoQuestOfferSchema
	if *schemaPath != "" {
		b, err := os.ReadFile(*schemaPath)
		if err != nil {
			return err
		}
		rawSchema = b
	}
	schema, err := constrain.Compile(rawSchema)
	if err != nil {
		return fmt.Errorf("quest offer schema: %w", err)
	}
	backend, err := openai.New(openai.Config{BaseURL: *baseURL, Model: *model, APIKey: key, Tier: inference.TierLocal})
	if err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	type line struct {
		n   int
		it  corpus.Item
		err error
	}
	var lines []line
	err = corpus.ScanJSONL(f, func(n int, it corpus.Item, err error) error {
		lines = append(lines, line{n, it, err})
		return nil
	})
	f.Close()
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		return fmt.Errorf("%s: no items", *in)
	}
	start := time.Now()
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range *concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				l := &lines[i]
				if l.err != nil {
					continue
				}
				l.it, l.err = distillOne(ctx, backend, schema, l.it, *maxTokens, *timeout, *seed, i)
			}
		}()
	}
feed:
	for i := range lines {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	failed := 0
	err = writeFileAtomic(*out, func(w io.Writer) error {
		enc := corpus.NewEncoder(w)
		for _, l := range lines {
			if l.err != nil {
				if failed < distillErrorsShown {
					fmt.Fprintf(stderr, "hearth distill: %s:%d: %v\n", *in, l.n, l.err)
				}
				failed++
				continue
			}
			if err := enc.Encode(l.it); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if failed > distillErrorsShown {
		fmt.Fprintf(stderr, "hearth distill: … and %d more failed lines\n", failed-distillErrorsShown)
	}
	fmt.Fprintf(stdout, "distill: %d of %d lines written to %s, %d failed, in %.1fs (%s at %s)\n",
		len(lines)-failed, len(lines), *out, failed, time.Since(start).Seconds(), *model, *baseURL)
	if failed == len(lines) {
		return fmt.Errorf("every line failed (first: see above)")
	}
	return nil
}

// distillOne asks the backend for one item's response.
func distillOne(ctx context.Context, m inference.Model, schema *constrain.Schema, it corpus.Item, maxTokens int,
	timeout time.Duration, seed uint64, i int) (corpus.Item, error) {
	if strings.TrimSpace(it.Prompt) == "" {
		return it, errors.New("empty prompt")
	}
	req := corpus.RequestFor(it)
	req.MaxTokens = maxTokens
	if it.Kind == corpus.KindQuestOffer {
		req.MaxTokens = max(maxTokens, 192)
	}
	if seed != 0 {
		req.Seed = seed + uint64(i)
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	res, err := m.Generate(cctx, req, nil)
	if err != nil {
		return it, err
	}
	text := strings.TrimSpace(res.Text)
	if text == "" {
		return it, errors.New("empty reply")
	}
	if it.Kind == corpus.KindQuestOffer {
		canon, err := constrain.Canonical(schema, []byte(stripFence(text)))
		if err != nil {
			return it, fmt.Errorf("quest offer reply rejected: %w", err)
		}
		text = string(canon)
	}
	it.Response = text
	it.Source = "distill:" + m.Info().Name
	if name, ok := strings.CutPrefix(it.Source, "distill:openai:"); ok {
		it.Source = "distill:" + name
	}
	return it, nil
}

// stripFence removes a Markdown code fence (```json … ```) a chat model
// may wrap JSON in.
func stripFence(s string) string {
	if !strings.HasPrefix(s, "```") {
		return s
	}
	s = strings.TrimPrefix(s, "```")
	if k := strings.IndexByte(s, '\n'); k >= 0 {
		s = s[k+1:]
	}
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "```"))
}

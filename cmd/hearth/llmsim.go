package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hearth-ai/hearth/inference/openai/llmsim"
)

// cmdLlmsim serves the simulated large model (inference/openai/llmsim) on
// an OpenAI-compatible API until interrupted: a stand-in for a remote
// provider when trying -remote, -refine or the router's budgets without
// one. Its replies are filler words; only their timing and usage are real.
func cmdLlmsim(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hearth llmsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on")
	ttft := fs.Duration("ttft", 300*time.Millisecond, "median time to first token (log-normal)")
	sigma := fs.Float64("ttft-sigma", 0.8156, "log-space standard deviation of the time to first token (0.8156: p99 = 6.67 × median, 2 s for 300 ms)")
	tps := fs.Float64("tokens-per-second", 60, "decode rate after the first token")
	tokens := fs.Int("reply-tokens", 60, "reply length when a request sets no max_tokens")
	seed := fs.Uint64("seed", 1, "seed of the latency draws")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ttft <= 0 || *sigma < 0 || *tps <= 0 || *tokens <= 0 {
		return fmt.Errorf("-ttft, -tokens-per-second and -reply-tokens must be positive and -ttft-sigma not negative")
	}
	s, err := llmsim.Start(llmsim.Profile{Addr: *addr, TTFTMedian: *ttft, TTFTSigma: *sigma, TokensPerSecond: *tps,
		ReplyTokens: *tokens, Seed: *seed})
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Fprintf(stdout, "llmsim: a simulated remote model on %s (model name: any; time to first token median %v, sigma %g; %g tokens/s)\n",
		s.BaseURL(), *ttft, *sigma, *tps)
	fmt.Fprintf(stdout, "try: hearth chat -remote %s -remote-model llmsim -refine\n", s.BaseURL())
	<-ctx.Done()
	return nil
}

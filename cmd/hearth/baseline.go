package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hearth-ai/hearth/bench"
	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/inference/openai/llmsim"
)

// remoteFlags describe the large model of the baseline comparison: a real
// OpenAI-compatible endpoint, or (default) llmsim on loopback.
type remoteFlags struct {
	url, model     string
	ttft           time.Duration
	tokensPerS     float64
	priceIn, price float64
}

func (r *remoteFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.url, "remote-url", "", "baseline mode: OpenAI-compatible API root of the large model, e.g. https://api.openai.com/v1\n"+
		"(key from HEARTH_REMOTE_API_KEY); default: a simulated model on loopback (inference/openai/llmsim)")
	fs.StringVar(&r.model, "remote-model", "llmsim", "baseline mode: model name at -remote-url")
	fs.DurationVar(&r.ttft, "remote-ttft", 600*time.Millisecond, "baseline mode: the simulated model's median time to first token (log-normal, sigma 0.35)")
	fs.Float64Var(&r.tokensPerS, "remote-tps", 60, "baseline mode: the simulated model's decode rate, tokens/s")
	fs.Float64Var(&r.priceIn, "remote-price-in", 2.5, "baseline mode: input price, USD per million tokens (an example; set your provider's)")
	fs.Float64Var(&r.price, "remote-price-out", 10, "baseline mode: output price, USD per million tokens (an example; set your provider's)")
}

// benchBaseline runs the same open-loop load twice in this process: once
// with every request sent straight to the large model (bench.Direct), once
// through the stack with that model as its remote tier, and prints the
// comparison (issue 8).
func benchBaseline(ctx context.Context, sf *stackFlags, of *openFlags, rf *remoteFlags, cfg bench.Config, args []string, stdout, stderr io.Writer) error {
	sf.quiet()
	modelDesc := fmt.Sprintf("%s at %s", rf.model, rf.url)
	baseURL, key := rf.url, os.Getenv("HEARTH_REMOTE_API_KEY")
	if baseURL == "" {
		sim, err := llmsim.Start(llmsim.Profile{TTFTMedian: rf.ttft, TokensPerSecond: rf.tokensPerS, Seed: cfg.Seed})
		if err != nil {
			return err
		}
		defer sim.Close()
		baseURL = sim.BaseURL()
		modelDesc = fmt.Sprintf("simulated (llmsim on loopback: TTFT median %v, log-normal sigma 0.35, %g tokens/s; "+
			"prices %g / %g USD per million input / output tokens)", rf.ttft, rf.tokensPerS, rf.priceIn, rf.price)
	}
	// One connection per request in flight: the baseline holds hundreds.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4096, MaxIdleConns: 4096}}
	defer hc.CloseIdleConnections()
	remote, err := openai.New(openai.Config{BaseURL: baseURL, APIKey: key, Model: rf.model, HTTPClient: hc,
		Tier: inference.TierRemote, Quality: 10, ExpectedTTFT: rf.ttft, ExpectedTokensPerSecond: rf.tokensPerS,
		Prices: inference.Prices{InputPerMTok: rf.priceIn, OutputPerMTok: rf.price}})
	if err != nil {
		return err
	}
	rate := of.rates[0]
	scenario := of.scenList[0]
	run := func(name string, tr bench.Transport, budget time.Duration) (*bench.OpenReport, error) {
		fmt.Fprintf(stdout, "%s: %s at %g requests/s for %v…\n", name, scenario, rate, cfg.Duration)
		rep, err := bench.RunOpen(ctx, tr, bench.OpenConfig{Scenario: scenario, Rate: rate, Duration: cfg.Duration,
			Seed: cfg.Seed, Mix: of.mixWeight, Drain: max(of.drain, 60*time.Second), Budget: budget})
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(stdout, "  %d replies, %d errors, on time %.2f %%, ready p99 %.1f ms, cost %.4f USD\n",
			rep.Replies, rep.Errors, 100*rep.OnTimeShare, rep.Ready.P99, rep.CostUSD)
		return &rep, nil
	}

	// Without the stack: prompts from a roster, every request to the model.
	noCache := sf.noCache
	sf.noCache = true
	st, _, err := sf.open(ctx, stderr)
	sf.noCache = noCache
	if err != nil {
		return err
	}
	world, places := "", []string(nil)
	if st.QuestWorld != nil {
		world, places = st.QuestWorld.Name, st.QuestWorld.Places()
	}
	direct := bench.NewDirect(remote, st.Roster, world, places, sf.budget, cfg.Clients)
	without, err := run("without the stack", direct, sf.budget)
	st.Close()
	if err != nil {
		return err
	}

	// With the stack: the same model as the remote tier, behind the cache
	// and the router.
	sf.backends = []inference.Model{remote}
	st, _, err = sf.open(ctx, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	in := bench.NewInProcess(st.Runtime, cfg.Clients)
	defer in.Close()
	with, err := run("with the stack", in, sf.budget)
	if err != nil {
		return err
	}

	c := &bench.Comparison{
		Command: "hearth bench " + strings.Join(args, " "),
		Machine: fmt.Sprintf("%s/%s, %d CPUs, GOMAXPROCS %d, %s; %d players; both runs in this process (no WebSocket)",
			runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), cfg.Clients),
		Model: modelDesc, Without: without, With: with,
	}
	md := c.Markdown()
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, md)
	if of.out != "" {
		if err := os.MkdirAll(of.out, 0o755); err != nil {
			return err
		}
		js, err := json.MarshalIndent(c, "", "  ")
		if err != nil {
			return err
		}
		mdPath, jsPath := filepath.Join(of.out, "baseline.md"), filepath.Join(of.out, "baseline.json")
		if err := os.WriteFile(mdPath, []byte(md), 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(jsPath, append(js, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s, %s\n", mdPath, jsPath)
	}
	return nil
}

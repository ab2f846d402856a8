package main

// hearth serve -config FILE: the deployment file (package config,
// docs/config.md) as the defaults of serve's flags. A flag given on the
// command line wins over the file; -check validates the file, prints the
// effective configuration with secrets redacted, and exits.

import (
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/hearth-ai/hearth/config"
	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/anthropic"
	"github.com/hearth-ai/hearth/inference/openai"
	"github.com/hearth-ai/hearth/middleware/server"
)

// configFlags are serve's -config and -check, and what they loaded.
type configFlags struct {
	path  string
	check bool
	file  *config.File    // nil without -config
	given map[string]bool // flags given on the command line, which win over the file
	cache inference.CacheOptions
}

// registerConfig adds -config and -check. Only serve calls it.
func (f *stackFlags) registerConfig(fs *flag.FlagSet) {
	fs.StringVar(&f.cfg.path, "config", "", "deployment file (YAML: runtime, backends, prices, router, cache, security, lore; docs/config.md);\n"+
		"its values are the defaults of the flags: a flag given on the command line wins")
	fs.BoolVar(&f.cfg.check, "check", false, "with -config: validate the file, print the effective configuration (secrets redacted) and exit 0, or 1 on an error")
}

// fileFlags maps the file's fields to the flags they set, for the fields
// that have a flag. Backends, cache sizes and router tuning have none and
// are applied in open.
func fileFlags(c *config.File) []struct{ path, flag, value string } {
	s := &c.Security
	return []struct{ path, flag, value string }{
		{"addr", "addr", c.Addr},
		{"data", "data", c.Data},
		{"runtime.tick_hz", "tick-hz", fmt.Sprint(c.Runtime.TickHz)},
		{"runtime.budget", "budget", c.Runtime.Budget.String()},
		{"runtime.workers", "workers", fmt.Sprint(c.Runtime.Workers)},
		{"runtime.seed", "seed", fmt.Sprint(c.Runtime.Seed)},
		{"cache.off", "no-cache", fmt.Sprint(c.Cache.Off)},
		{"cache.persist", "persist-cache", fmt.Sprint(c.Cache.Persist)},
		{"cache.semantic", "semantic-cache", fmt.Sprint(c.Cache.Semantic)},
		{"cache.semantic_threshold", "semantic-threshold", fmt.Sprint(c.Cache.SemanticThreshold)},
		{"security.auth_keys", "auth-keys", s.AuthKeys},
		{"security.jwt_secret_env", "jwt-secret-env", s.JWTSecretEnv},
		{"security.audit_log", "audit-log", s.AuditLog},
		{"security.conn_rate", "conn-rate", fmt.Sprint(s.ConnRate)},
		{"security.player_rate", "player-rate", fmt.Sprint(s.PlayerRate)},
		{"security.max_in_flight", "max-in-flight", fmt.Sprint(s.MaxInFlight)},
		{"security.player_daily_tokens", "player-daily-tokens", fmt.Sprint(s.PlayerDailyTokens)},
		{"security.player_daily_usd", "player-daily-usd", fmt.Sprint(s.PlayerDailyUSD)},
		{"prompts.dir", "prompts", c.Prompts.Dir},
		{"prompts.watch", "prompts-watch", fmt.Sprint(c.Prompts.Watch)},
	}
}

// applyConfig loads -config, when given, and sets every flag the command
// line did not from the file. It runs between parsing and the flags'
// checks, so that the file's values pass the same checks as the flags'.
func (f *stackFlags) applyConfig(fs *flag.FlagSet, getenv func(string) string) error {
	if f.cfg.path == "" {
		if f.cfg.check {
			return fmt.Errorf("-check: set -config FILE, the file to check")
		}
		return nil
	}
	c, err := config.Load(f.cfg.path, getenv)
	if err != nil {
		return err
	}
	f.cfg.file = c
	f.cfg.given = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.cfg.given[fl.Name] = true })
	set := func(path, name, value string) error {
		if f.cfg.given[name] || fs.Lookup(name) == nil {
			return nil
		}
		if err := fs.Set(name, value); err != nil {
			return fmt.Errorf("%s: %s: %w", c.Path, path, err)
		}
		return nil
	}
	for _, m := range fileFlags(c) {
		if c.Has(m.path) {
			if err := set(m.path, m.flag, m.value); err != nil {
				return err
			}
		}
	}
	// -lore given on the command line replaces the file's list as a whole,
	// like any other flag.
	for _, l := range c.Lore {
		if err := set("lore."+l.Name, "lore", l.Name+"="+l.Dir); err != nil {
			return err
		}
	}
	for _, b := range c.Backends {
		if b.Kind == config.KindEmbedded {
			if err := set("backends", "model", b.Model); err != nil {
				return err
			}
		}
	}
	f.cfg.cache = inference.CacheOptions{MaxBytes: uint64(c.Cache.SizeMiB) << 20, TTL: c.Cache.TTL.D()}
	return nil
}

// inFlightCap caps the calls the Router runs on an OpenAI-compatible
// backend, whose Config has no such field (the Anthropic one has).
// Embedding keeps every other method of the backend visible.
type inFlightCap struct {
	*openai.Backend
	max int
}

func (c inFlightCap) Info() inference.Info {
	i := c.Backend.Info()
	i.MaxInFlight = c.max
	return i
}

// configBackends builds the file's openai and anthropic backends (the
// embedded one is -model's). Each has its own HTTP client that keeps up
// to conns idle connections, like -remote's.
func configBackends(c *config.File, conns int) ([]inference.Model, error) {
	var out []inference.Model
	for i, b := range c.Backends {
		hc := modelServerClient(conns)
		prices := inference.Prices{InputPerMTok: b.Prices.InputPerMTok, OutputPerMTok: b.Prices.OutputPerMTok,
			CacheReadPerMTok: b.Prices.CacheReadPerMTok, CacheWritePerMTok: b.Prices.CacheWritePerMTok}
		var m inference.Model
		var err error
		switch b.Kind {
		case config.KindOpenAI:
			var ob *openai.Backend
			ob, err = openai.New(openai.Config{Name: b.Name, BaseURL: b.BaseURL, APIKey: b.APIKey, Model: b.Model, HTTPClient: hc,
				Tier: inference.Tier(b.Tier), Quality: b.Quality, ExpectedTTFT: b.ExpectedTTFT.D(),
				ExpectedTokensPerSecond: b.ExpectedTokensPerSecond, Prices: prices})
			m = ob
			if err == nil && b.MaxInFlight > 0 {
				m = inFlightCap{ob, b.MaxInFlight}
			}
		case config.KindAnthropic:
			m, err = anthropic.New(anthropic.Config{Name: b.Name, BaseURL: b.BaseURL, APIKey: b.APIKey, Model: b.Model, HTTPClient: hc,
				Quality: b.Quality, ExpectedTTFT: b.ExpectedTTFT.D(), ExpectedTokensPerSecond: b.ExpectedTokensPerSecond,
				MaxInFlight: b.MaxInFlight, Prices: prices})
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: backends[%d]: %w", c.Path, i, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// routerOptions is the file's router section as inference.RouterOptions
// (zero values: the Router's defaults); without a file, the defaults.
func (c *configFlags) routerOptions() inference.RouterOptions {
	if c.file == nil {
		return inference.RouterOptions{}
	}
	r := c.file.Router
	return inference.RouterOptions{FitQuantile: r.FitQuantile, BreakerFailures: r.BreakerFailures,
		BreakerCooldown: r.BreakerCooldown.D(), RelaxInterval: r.RelaxInterval.D(), FloorReserve: r.FloorReserve.D(),
		MaxHedgeShare: r.MaxHedgeShare, NoHedging: r.NoHedging, DailySpendCapUSD: r.DailySpendCapUSD,
		StallTimeout: r.StallTimeout.D(), MaxRequestCostUSD: r.MaxRequestCostUSD}
}

// printConfig writes the effective configuration: every setting with its
// value and where it came from (flag, file or default). API keys and the
// JWT secret appear only as the name of their environment variable.
func (f *stackFlags) printConfig(fs *flag.FlagSet, w io.Writer) {
	c := f.cfg.file
	fmt.Fprintf(w, "config %s: OK\n\n", c.Path)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	source := func(path, name string) string {
		switch {
		case f.cfg.given[name]:
			return "flag -" + name
		case c.Has(path):
			return "file"
		}
		return "default"
	}
	for _, m := range fileFlags(c) {
		v := fs.Lookup(m.flag).Value.String()
		if v == "" {
			v = `""`
		}
		fmt.Fprintf(tw, "%s\t%s\t(%s)\n", m.path, v, source(m.path, m.flag))
	}
	lore := fs.Lookup("lore").Value.String()
	fmt.Fprintf(tw, "lore\t%s\t(%s)\n", orNone(lore), source("lore", "lore"))
	fmt.Fprintf(tw, "cache.size_mib\t%d\t(%s)\n", c.Cache.SizeMiB, source("cache.size_mib", ""))
	fmt.Fprintf(tw, "cache.ttl\t%v\t(%s)\n", c.Cache.TTL, source("cache.ttl", ""))
	fmt.Fprintf(tw, "prompts.weights\t%s\t(%s)\n", describePromptWeights(inference.PromptWeights(c.Prompts.Weights)), source("prompts.weights", ""))
	r := c.Router
	for _, e := range []struct {
		path, value string
	}{
		{"router.fit_quantile", orZero(r.FitQuantile, inference.DefaultFitQuantile)},
		{"router.breaker_failures", orZero(float64(r.BreakerFailures), inference.DefaultBreakerFailures)},
		{"router.breaker_cooldown", orZero(r.BreakerCooldown.D(), inference.DefaultBreakerCooldown)},
		{"router.relax_interval", orZero(r.RelaxInterval.D(), inference.DefaultRelaxInterval)},
		{"router.floor_reserve", orZero(r.FloorReserve.D(), inference.DefaultFloorReserve)},
		{"router.max_hedge_share", orZero(r.MaxHedgeShare, inference.DefaultMaxHedgeShare)},
		{"router.no_hedging", fmt.Sprint(r.NoHedging)},
		{"router.stall_timeout", orZero(r.StallTimeout.D(), inference.DefaultStallTimeout)},
		{"router.max_request_cost_usd", orZero(r.MaxRequestCostUSD, "0 (no cap)")},
		{"router.daily_spend_cap_usd", orZero(r.DailySpendCapUSD, "0 (no cap)")},
	} {
		fmt.Fprintf(tw, "%s\t%s\t(%s)\n", e.path, e.value, source(e.path, ""))
	}
	tw.Flush()
	fmt.Fprintln(w, "\nbackends (above the template floor):")
	if fs.Lookup("model").Value.String() != "off" {
		fmt.Fprintf(w, "  embedded: model %s (%s)\n", fs.Lookup("model").Value, source("backends", "model"))
	}
	for _, b := range c.Backends {
		if b.Kind == config.KindEmbedded {
			continue
		}
		key := "none"
		if b.APIKeyEnv != "" {
			key = "$" + b.APIKeyEnv + " (set, redacted)"
		}
		fmt.Fprintf(w, "  %s: kind %s, tier %s, quality %d, model %s, base_url %s, expected_ttft %v, %g tokens/s,\n"+
			"    prices USD/Mtok input %g output %g cache_read %g cache_write %g, max_in_flight %d, api key %s\n",
			b.Name, b.Kind, orDefault(b.Tier, "remote"), b.Quality, b.Model, orDefault(b.BaseURL, "(the vendor's)"), b.ExpectedTTFT,
			b.ExpectedTokensPerSecond, b.Prices.InputPerMTok, b.Prices.OutputPerMTok, b.Prices.CacheReadPerMTok, b.Prices.CacheWritePerMTok,
			b.MaxInFlight, key)
	}
	if f.remote.url != "" {
		fmt.Fprintf(w, "  -remote %s: model %s (flag)\n", f.remote.url, f.remote.model)
	}
}

func orNone(s string) string { return orDefault(s, "none") }

// orZero prints v, or def when v is its zero value (the Router's default).
func orZero[T comparable](v T, def any) string {
	var zero T
	if v == zero {
		return fmt.Sprint(def)
	}
	return fmt.Sprint(v)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// checkConfig is serve -config FILE -check: everything serve checks
// before it listens (the file, the flags, the API keys file, the JWT
// secret, the limits, the backends' settings, the prompt templates and
// their A/B weights), then the effective
// configuration on w. It opens no port, store or model, and does not
// create the audit log.
func checkConfig(f *stackFlags, fs *flag.FlagSet, sec server.SecurityConfig, w io.Writer) error {
	sec.AuditFile = "" // checking must not create it
	s, err := server.LoadSecurity(sec, os.Getenv)
	if err != nil {
		return err
	}
	s.Close()
	bs, err := configBackends(f.cfg.file, 1)
	if err != nil {
		return err
	}
	for _, b := range bs {
		if c, ok := b.(io.Closer); ok {
			c.Close()
		}
	}
	// The templates and the weights, checked as serve loads them (not
	// watched).
	p, err := f.openPrompts(io.Discard, false)
	if err != nil {
		return err
	}
	p.Close()
	f.printConfig(fs, w)
	return nil
}

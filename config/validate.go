package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"time"
)

var pathf = fmt.Sprintf

// promptName is what a prompt template's name may contain (as
// inference.LoadPrompts checks).
var promptName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// envName is what a POSIX shell accepts as a variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Defaults filled in for backends that do not say: the seeds the CLI's
// -remote uses, and qualities that rank a configured model above the
// embedded tier (3).
const (
	DefaultExpectedTTFT            = Duration(600 * time.Millisecond)
	DefaultExpectedTokensPerSecond = 60.0 // tokens per second
	DefaultRemoteQuality           = 10
	DefaultLocalQuality            = 5
)

// validate checks ranges and cross-field rules, fills defaults, resolves
// relative paths against the file's folder and reads the environment
// variables the file names.
func (p *parser) validate(getenv func(string) string) {
	f := p.f
	base := filepath.Dir(f.Path)
	resolve := func(s string) string {
		if s == "" || filepath.IsAbs(s) {
			return s
		}
		return filepath.Join(base, s)
	}
	line := func(path string) int { return p.lines[path] }
	nonNeg := func(path string, v float64) {
		if v < 0 {
			p.add(line(path), path, "%g: must not be negative", v)
		}
	}
	env := func(path, name string) string {
		if !envName.MatchString(name) {
			p.add(line(path), path, "%q: want the NAME of an environment variable (letters, digits, _), e.g. OPENAI_API_KEY; never the secret itself", name)
			return ""
		}
		v := getenv(name)
		if v == "" {
			p.add(line(path), path, "the environment variable %s is unset or empty; export it before starting hearth", name)
		}
		return v
	}

	if f.Has("addr") {
		if _, _, err := net.SplitHostPort(f.Addr); err != nil {
			p.add(line("addr"), "addr", "%q: want host:port, e.g. 127.0.0.1:7777 (port 0 picks a free one)", f.Addr)
		}
	}
	f.Data = resolve(f.Data)

	rt := &f.Runtime
	if f.Has("runtime.tick_hz") && (rt.TickHz <= 0 || rt.TickHz > 1000) {
		p.add(line("runtime.tick_hz"), "runtime.tick_hz", "%g: want a rate in Hz, 0 < rate <= 1000", rt.TickHz)
	}
	if f.Has("runtime.budget") && rt.Budget <= 0 {
		p.add(line("runtime.budget"), "runtime.budget", "%v: must be positive, e.g. \"50ms\"", rt.Budget)
	}
	if rt.Workers < 0 {
		p.add(line("runtime.workers"), "runtime.workers", "%d: want 0 (all cores) or a positive count", rt.Workers)
	}

	names := map[string]string{} // name → the path that took it
	embedded := ""
	for i := range f.Backends {
		b := &f.Backends[i]
		at := func(field string) string { return pathf("backends[%d].%s", i, field) }
		item := pathf("backends[%d]", i)
		switch b.Kind {
		case KindOpenAI, KindAnthropic, KindEmbedded:
		case "":
			p.add(line(item), at("kind"), "missing; want openai, anthropic or embedded")
		default:
			p.add(line(at("kind")), at("kind"), "%q: want openai, anthropic or embedded", b.Kind)
		}
		if b.Model == "" {
			want := "the model name the server expects, e.g. gpt-4o-mini"
			if b.Kind == KindEmbedded {
				want = "\"shipped\" or a GGUF file"
			}
			p.add(line(item), at("model"), "missing; want %s", want)
		}
		if b.Name == "" && b.Kind != "" && b.Model != "" {
			b.Name = b.Kind + ":" + b.Model
		}
		if prev, ok := names[b.Name]; ok && b.Name != "" {
			p.add(line(item), at("name"), "%q is already the name of %s; backend names must be unique (set name: on one of them)", b.Name, prev)
		} else if b.Name != "" {
			names[b.Name] = item
		}
		switch b.Tier {
		case "", "local", "remote":
		default:
			p.add(line(at("tier")), at("tier"), "%q: want local (a model server on this host's GPU) or remote", b.Tier)
		}
		if b.Kind == KindAnthropic && b.Tier == "local" {
			p.add(line(at("tier")), at("tier"), "anthropic backends are remote; remove tier or set it to remote")
		}
		if b.Kind == KindEmbedded {
			for _, field := range []string{"base_url", "tier", "api_key_env", "expected_ttft", "expected_tokens_per_second", "quality", "prices", "max_in_flight"} {
				if f.Has(at(field)) {
					p.add(line(at(field)), at(field), "not used by an embedded backend (it runs in-process on the embedded tier); remove it")
				}
			}
			if embedded != "" {
				p.add(line(item), item, "a second embedded backend; the process hosts one embedded model (the first is %s)", embedded)
			}
			embedded = item
			if b.Model != "" && b.Model != "shipped" && b.Model != "off" {
				b.Model = resolve(b.Model)
				if st, err := os.Stat(b.Model); err != nil || st.IsDir() {
					p.add(line(at("model")), at("model"), "%q: want \"shipped\" or a readable GGUF file", b.Model)
				}
			}
			continue
		}
		if b.BaseURL != "" {
			u, err := url.Parse(b.BaseURL)
			switch {
			case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
				p.add(line(at("base_url")), at("base_url"), "%q: want an http:// or https:// API root with a host, e.g. http://127.0.0.1:8080/v1", b.BaseURL)
			case u.User != nil:
				p.add(line(at("base_url")), at("base_url"), "%q: remove the credentials from the URL and name the key's environment variable with api_key_env", u.Redacted())
			case u.RawQuery != "" || u.Fragment != "":
				p.add(line(at("base_url")), at("base_url"), "%q: want an API root without query or fragment", b.BaseURL)
			}
		}
		if b.Tier == "" {
			b.Tier = "remote"
		}
		if b.Quality < 0 {
			p.add(line(at("quality")), at("quality"), "%d: must not be negative (higher ranks the backend higher)", b.Quality)
		}
		if !f.Has(at("quality")) {
			b.Quality = DefaultRemoteQuality
			if b.Tier == "local" {
				b.Quality = DefaultLocalQuality
			}
		}
		if b.ExpectedTTFT < 0 {
			p.add(line(at("expected_ttft")), at("expected_ttft"), "%v: must not be negative", b.ExpectedTTFT)
		} else if b.ExpectedTTFT == 0 {
			b.ExpectedTTFT = DefaultExpectedTTFT
		}
		nonNeg(at("expected_tokens_per_second"), b.ExpectedTokensPerSecond)
		if b.ExpectedTokensPerSecond == 0 {
			b.ExpectedTokensPerSecond = DefaultExpectedTokensPerSecond
		}
		nonNeg(at("prices.input_per_mtok"), b.Prices.InputPerMTok)
		nonNeg(at("prices.output_per_mtok"), b.Prices.OutputPerMTok)
		nonNeg(at("prices.cache_read_per_mtok"), b.Prices.CacheReadPerMTok)
		nonNeg(at("prices.cache_write_per_mtok"), b.Prices.CacheWritePerMTok)
		if b.MaxInFlight < 0 {
			p.add(line(at("max_in_flight")), at("max_in_flight"), "%d: want 0 (no cap) or a positive count", b.MaxInFlight)
		}
		if b.APIKeyEnv != "" {
			b.APIKey = env(at("api_key_env"), b.APIKeyEnv)
		}
	}

	r := f.Router
	if f.Has("router.max_hedge_share") && !(r.MaxHedgeShare >= 0 && r.MaxHedgeShare <= 1) {
		p.add(line("router.max_hedge_share"), "router.max_hedge_share", "%g: want a share between 0 and 1, e.g. 0.1", r.MaxHedgeShare)
	}
	if r.MaxRequestCostUSD < 0 {
		p.add(line("router.max_request_cost_usd"), "router.max_request_cost_usd", "%g: want 0 (no cap) or a positive number of US dollars", r.MaxRequestCostUSD)
	}
	if r.DailySpendCapUSD < 0 {
		p.add(line("router.daily_spend_cap_usd"), "router.daily_spend_cap_usd", "%g: want 0 (no cap) or a positive number of US dollars", r.DailySpendCapUSD)
	}
	if f.Has("router.fit_quantile") && (r.FitQuantile <= 0 || r.FitQuantile >= 1) {
		p.add(line("router.fit_quantile"), "router.fit_quantile", "%g: want a quantile strictly between 0 and 1, e.g. 0.9", r.FitQuantile)
	}
	if r.BreakerFailures < 0 {
		p.add(line("router.breaker_failures"), "router.breaker_failures", "%d: must not be negative", r.BreakerFailures)
	}
	for path, d := range map[string]Duration{"router.breaker_cooldown": r.BreakerCooldown, "router.relax_interval": r.RelaxInterval,
		"router.floor_reserve": r.FloorReserve, "router.stall_timeout": r.StallTimeout, "cache.ttl": f.Cache.TTL} {
		if d < 0 {
			p.add(line(path), path, "%v: must not be negative", d)
		}
	}
	if t := f.Cache.SemanticThreshold; !(t >= 0 && t <= 1) {
		p.add(line("cache.semantic_threshold"), "cache.semantic_threshold", "%g: want a cosine similarity between 0 and 1 (0: the default)", t)
	}
	if f.Cache.SizeMiB < 0 {
		p.add(line("cache.size_mib"), "cache.size_mib", "%d: want 0 (the default, 64) or a positive size in MiB", f.Cache.SizeMiB)
	}

	s := &f.Security
	if s.AuthKeys != "" {
		s.AuthKeys = resolve(s.AuthKeys)
		if st, err := os.Stat(s.AuthKeys); err != nil || st.IsDir() {
			p.add(line("security.auth_keys"), "security.auth_keys", "%q: want a readable API keys file (docs/security.md)", s.AuthKeys)
		}
	}
	if s.JWTSecretEnv != "" {
		env("security.jwt_secret_env", s.JWTSecretEnv)
	}
	s.AuditLog = resolve(s.AuditLog)
	nonNeg("security.conn_rate", s.ConnRate)
	nonNeg("security.player_rate", s.PlayerRate)
	nonNeg("security.player_daily_usd", s.PlayerDailyUSD)
	if s.MaxInFlight < 0 {
		p.add(line("security.max_in_flight"), "security.max_in_flight", "%d: want 0 (no cap) or a positive count", s.MaxInFlight)
	}
	if s.PlayerDailyTokens < 0 {
		p.add(line("security.player_daily_tokens"), "security.player_daily_tokens", "%d: want 0 (no cap) or a positive count", s.PlayerDailyTokens)
	}

	pr := &f.Prompts
	if pr.Dir != "" {
		pr.Dir = resolve(pr.Dir)
		if st, err := os.Stat(pr.Dir); err != nil || !st.IsDir() {
			p.add(line("prompts.dir"), "prompts.dir", "%q: not a readable directory of name@version.tmpl files", pr.Dir)
		}
	}
	if !f.Has("prompts.watch") {
		pr.Watch = true
	}
	weighted := make([]string, 0, len(pr.Weights))
	for name := range pr.Weights {
		weighted = append(weighted, name)
	}
	sort.Strings(weighted)
	for _, name := range weighted {
		if !promptName.MatchString(name) {
			p.add(line("prompts.weights"), "prompts.weights."+name, "%q: want a template name of letters, digits, '.', '_' and '-', e.g. npc.dialogue", name)
		}
		total := 0
		for _, w := range pr.Weights[name] {
			total += w
		}
		if total == 0 {
			p.add(line("prompts.weights"), "prompts.weights."+name, "the weights sum to 0; give at least one version a positive weight")
		}
	}

	lore := map[string]bool{}
	for i := range f.Lore {
		l := &f.Lore[i]
		path := "lore." + l.Name
		if lore[l.Name] {
			p.add(l.line, path, "a second folder named %q; lore names must be unique", l.Name)
		}
		lore[l.Name] = true
		l.Dir = resolve(l.Dir)
		if st, err := os.Stat(l.Dir); err != nil || !st.IsDir() {
			p.add(l.line, path, "%q: not a readable directory", l.Dir)
		}
	}

	if tr := f.Tracing; tr.OTLPEndpoint != "" {
		u, err := url.Parse(tr.OTLPEndpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add(line("tracing.otlp_endpoint"), "tracing.otlp_endpoint", "%q: want an http:// or https:// URL with a host, e.g. http://127.0.0.1:4318", tr.OTLPEndpoint)
		}
	}
	if f.Has("tracing.sample_ratio") && !(f.Tracing.SampleRatio > 0 && f.Tracing.SampleRatio <= 1) {
		p.add(line("tracing.sample_ratio"), "tracing.sample_ratio", "%g: want a share in (0, 1], e.g. 0.1 to trace one request in ten", f.Tracing.SampleRatio)
	}
}

// Package config parses and validates Hearth's deployment file: one YAML
// file declaring the runtime, the model backends with their tiers, prices
// and budgets, the router, the response cache, security and lore
// (issue 4, item 6). The schema is documented in docs/config.md.
//
// The file is strict: an unknown key, a value of the wrong type, a bad
// duration or a negative number is an error that names the file, the line
// and the field, and says what is expected. Secrets never live in the
// file: a field that names an environment variable (api_key_env,
// jwt_secret_env) is the only way in, and a literal key (a field called
// api_key, secret, token…, or a value that looks like "sk-…") is refused.
// Relative paths are resolved against the file's folder, so a file works
// from any working directory.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// File is a loaded, validated deployment file. Zero values mean "not set":
// the command's own default applies (Has says whether the file set a
// field).
type File struct {
	// Path is the file as given to Load.
	Path string `yaml:"-"`
	// Addr is the listen address, host:port (hearth serve -addr).
	Addr string `yaml:"addr"`
	// Data is the data directory (-data), resolved against the file's
	// folder.
	Data string `yaml:"data"`
	// Runtime is the tick loop and worker pool.
	Runtime Runtime `yaml:"runtime"`
	// Backends are the model backends above the template floor, in the
	// order given.
	Backends []Backend `yaml:"backends"`
	// Router tunes the inference Router.
	Router Router `yaml:"router"`
	// Cache sizes the exact response cache.
	Cache Cache `yaml:"cache"`
	// Security is authentication, audit and limits (docs/security.md).
	Security Security `yaml:"security"`
	// Lore are extra lore folders, name → folder, ingested in file order
	// after the world's own lore.
	Lore Lore `yaml:"lore"`
	// Prompts are the studio's prompt templates and their A/B weights.
	Prompts Prompts `yaml:"prompts"`
	// Tracing exports OpenTelemetry spans of every request over OTLP/HTTP.
	Tracing Tracing `yaml:"tracing"`

	set map[string]bool // dotted paths the file set, e.g. "runtime.tick_hz"
}

// Has reports whether the file set the field at path, e.g.
// "runtime.budget" or "security.auth_keys".
func (f *File) Has(path string) bool { return f.set[path] }

// Runtime is the runtime section.
type Runtime struct {
	// TickHz is the tick rate in Hz, 0 < TickHz <= 1000 (-tick-hz).
	TickHz float64 `yaml:"tick_hz"`
	// Budget is the default latency budget per request (-budget), e.g.
	// "50ms"; positive.
	Budget Duration `yaml:"budget"`
	// Workers is the model worker pool size (-workers); 0 = all cores.
	Workers int `yaml:"workers"`
	// Seed makes replies reproducible (-seed).
	Seed uint64 `yaml:"seed"`
}

// Kinds of backend.
const (
	KindOpenAI    = "openai"    // an OpenAI-compatible API (llama.cpp, vLLM, OpenAI…)
	KindAnthropic = "anthropic" // the Anthropic Messages API
	KindEmbedded  = "embedded"  // the in-process model: "shipped" or a GGUF file
)

// Backend is one entry of the backends list.
type Backend struct {
	// Name identifies the backend in replies and metrics; default
	// kind + ":" + model. Names are unique.
	Name string `yaml:"name"`
	// Kind is openai, anthropic or embedded.
	Kind string `yaml:"kind"`
	// BaseURL is the http(s) API root, e.g. http://127.0.0.1:8080/v1
	// (default: the vendor's). Not for embedded.
	BaseURL string `yaml:"base_url"`
	// Model is the model name the server expects; for embedded,
	// "shipped" or a GGUF file (resolved against the file's folder).
	Model string `yaml:"model"`
	// Tier is local (a model server on this host's GPU) or remote (the
	// default). Anthropic is always remote; embedded has its own tier.
	Tier string `yaml:"tier"`
	// Quality orders the backends (higher is better); default 10 for
	// remote, 5 for local, both above the embedded tier's 3.
	Quality int `yaml:"quality"`
	// ExpectedTTFT seeds the Router's time-to-first-token estimate;
	// default 600ms.
	ExpectedTTFT Duration `yaml:"expected_ttft"`
	// ExpectedTokensPerSecond seeds the Router's decode-rate estimate, in
	// tokens per second; default 60.
	ExpectedTokensPerSecond float64 `yaml:"expected_tokens_per_second"`
	// APIKeyEnv names the environment variable that holds the API key;
	// it must be set when the file is loaded. "" sends no key (local
	// servers).
	APIKeyEnv string `yaml:"api_key_env"`
	// Prices are what the backend charges, in US dollars per million
	// tokens.
	Prices Prices `yaml:"prices"`
	// MaxInFlight caps the calls the Router runs on this backend at once;
	// 0 = no cap.
	MaxInFlight int `yaml:"max_in_flight"`

	// APIKey is the value of APIKeyEnv, read at load; never printed.
	APIKey string `yaml:"-"`
}

// Prices are a backend's prices in US dollars per million tokens; cache
// reads and writes at 0 are billed as input.
type Prices struct {
	InputPerMTok      float64 `yaml:"input_per_mtok"`
	OutputPerMTok     float64 `yaml:"output_per_mtok"`
	CacheReadPerMTok  float64 `yaml:"cache_read_per_mtok"`
	CacheWritePerMTok float64 `yaml:"cache_write_per_mtok"`
}

// Router is the router section (inference.RouterOptions); zero values
// take the Router's defaults.
type Router struct {
	// FitQuantile is the latency quantile that predicts completion, in
	// (0, 1).
	FitQuantile float64 `yaml:"fit_quantile"`
	// BreakerFailures consecutive failures open a backend's circuit.
	BreakerFailures int `yaml:"breaker_failures"`
	// BreakerCooldown is how long an open circuit waits before a probe.
	BreakerCooldown Duration `yaml:"breaker_cooldown"`
	// RelaxInterval moves a skipped backend's estimates back toward
	// their seeds after this long.
	RelaxInterval Duration `yaml:"relax_interval"`
	// FloorReserve is the time kept before the deadline for the floor.
	FloorReserve Duration `yaml:"floor_reserve"`
	// MaxHedgeShare caps the share of requests hedged with the next
	// tier, in [0, 1]; NoHedging turns hedging off.
	MaxHedgeShare float64 `yaml:"max_hedge_share"`
	NoHedging     bool    `yaml:"no_hedging"`
	// DailySpendCapUSD caps what billed backends (those with prices) may
	// charge per UTC day over every player, in US dollars; past it they
	// are not called until 00:00 UTC. 0: no cap.
	DailySpendCapUSD float64 `yaml:"daily_spend_cap_usd"`
	// StallTimeout abandons a stream that sends nothing for this long
	// once started, and falls back to the next tier.
	StallTimeout Duration `yaml:"stall_timeout"`
	// MaxRequestCostUSD caps one request's predicted cost, in US dollars;
	// a backend predicted above it is passed over. 0: no cap.
	MaxRequestCostUSD float64 `yaml:"max_request_cost_usd"`
}

// Cache is the exact response cache section.
type Cache struct {
	// SizeMiB bounds the cache, in MiB; 0 = the default (64 MiB).
	SizeMiB int `yaml:"size_mib"`
	// TTL is how long an entry lives; 0 = the default (10 minutes).
	TTL Duration `yaml:"ttl"`
	// Off turns the cache off (-no-cache).
	Off bool `yaml:"off"`
	// Persist keeps a copy of the cache in the data directory's store, so
	// a restarted server starts warm (-persist-cache).
	Persist bool `yaml:"persist"`
	// Semantic adds the semantic cache behind the exact one
	// (-semantic-cache; off by default, docs/architecture.md).
	Semantic bool `yaml:"semantic"`
	// SemanticThreshold is its cosine threshold in [0, 1]; 0 = the
	// default (-semantic-threshold).
	SemanticThreshold float64 `yaml:"semantic_threshold"`
}

// Security is the security section; each field is the hearth serve flag
// of the same name (docs/security.md).
type Security struct {
	// AuthKeys is the API keys file (-auth-keys), resolved against the
	// file's folder.
	AuthKeys string `yaml:"auth_keys"`
	// JWTSecretEnv names the environment variable holding the HS256
	// secret (-jwt-secret-env); it must be set at load.
	JWTSecretEnv string `yaml:"jwt_secret_env"`
	// AuditLog is the JSON-lines audit log (-audit-log).
	AuditLog string `yaml:"audit_log"`
	// ConnRate is frames per second per connection (-conn-rate); 0 = no
	// limit.
	ConnRate float64 `yaml:"conn_rate"`
	// PlayerRate is frames per second per player (-player-rate); 0 = no
	// limit.
	PlayerRate float64 `yaml:"player_rate"`
	// MaxInFlight caps the requests a connection has waiting
	// (-max-in-flight); 0 = no cap.
	MaxInFlight int `yaml:"max_in_flight"`
	// PlayerDailyTokens is each player's model tokens per UTC day
	// (-player-daily-tokens); 0 = no cap.
	PlayerDailyTokens int64 `yaml:"player_daily_tokens"`
	// PlayerDailyUSD is each player's spend per UTC day, in US dollars
	// (-player-daily-usd); 0 = no cap.
	PlayerDailyUSD float64 `yaml:"player_daily_usd"`
}

// Prompts is the prompts section: a directory of name@version.tmpl
// templates over the built-in ones, hot reloaded, and A/B weights
// between versions (docs/config.md).
type Prompts struct {
	// Dir is the templates' directory (-prompts), resolved against the
	// file's folder; it must exist.
	Dir string `yaml:"dir"`
	// Watch reloads Dir when a file in it changes (-prompts-watch);
	// default true.
	Watch bool `yaml:"watch"`
	// Weights split players between a template's versions: name →
	// version → weight, e.g. npc.dialogue: {2: 90, 3: 10}.
	Weights PromptWeights `yaml:"weights"`
}

// Tracing is the tracing section (docs/config.md, "tracing").
type Tracing struct {
	// OTLPEndpoint is the OTLP/HTTP receiver's base URL, e.g.
	// http://127.0.0.1:4318 (-otlp-endpoint); "" falls back to the
	// standard OTEL_EXPORTER_OTLP_ENDPOINT variable, and without either
	// nothing is traced.
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// ServiceName is the service.name of the spans; default "hearth".
	ServiceName string `yaml:"service_name"`
	// SampleRatio is the share of requests traced, in (0, 1]; default 1.
	SampleRatio float64 `yaml:"sample_ratio"`
}

// PromptWeights are A/B weights: template name → version → weight. Each
// version is a positive integer, each weight a non-negative integer, and
// a name's weights sum to more than 0.
type PromptWeights map[string]map[int]int

// UnmarshalYAML reads a mapping of name: {version: weight, …}, refusing
// what is not a whole number with the line and the template's name.
func (w *PromptWeights) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &fieldError{line: n.Line, msg: "want a mapping of template name: {version: weight, …}, e.g. npc.dialogue: {2: 90, 3: 10}"}
	}
	out := PromptWeights{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := out[k.Value]; dup {
			return &fieldError{line: k.Line, field: k.Value, msg: "set twice; keep one"}
		}
		if v.Kind != yaml.MappingNode {
			return &fieldError{line: v.Line, field: k.Value, msg: fmt.Sprintf("want a mapping of version: weight, e.g. {2: 90, 3: 10}, got %s", describe(v))}
		}
		arms := map[int]int{}
		for j := 0; j+1 < len(v.Content); j += 2 {
			vk, vv := v.Content[j], v.Content[j+1]
			ver, err := strconv.Atoi(vk.Value)
			if err != nil || ver <= 0 || vk.Tag != "!!int" {
				return &fieldError{line: vk.Line, field: k.Value, msg: fmt.Sprintf("version %q: want a positive whole number (the N of %s@N.tmpl)", vk.Value, k.Value)}
			}
			wt, err := strconv.Atoi(vv.Value)
			if err != nil || wt < 0 || vv.Tag != "!!int" {
				return &fieldError{line: vv.Line, field: fmt.Sprintf("%s.%d", k.Value, ver), msg: fmt.Sprintf("weight %q: want a whole number >= 0", vv.Value)}
			}
			if _, dup := arms[ver]; dup {
				return &fieldError{line: vk.Line, field: k.Value, msg: fmt.Sprintf("version %d set twice; keep one", ver)}
			}
			arms[ver] = wt
		}
		out[k.Value] = arms
	}
	*w = out
	return nil
}

// LoreDir is one extra lore folder.
type LoreDir struct {
	Name string // the source name lore entries are tagged with
	Dir  string // resolved against the file's folder
	line int
}

// Lore is the lore section: a mapping name → folder, kept in file order
// (ingestion order decides which source wins a tie).
type Lore []LoreDir

// UnmarshalYAML keeps the mapping's order.
func (l *Lore) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &fieldError{line: n.Line, msg: "want a mapping of name: folder"}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			return &fieldError{line: v.Line, field: k.Value, msg: "want a folder path"}
		}
		*l = append(*l, LoreDir{Name: k.Value, Dir: v.Value, line: k.Line})
	}
	return nil
}

// Duration is a time.Duration written as a Go duration string ("50ms",
// "1.5s", "2m").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML parses a duration string; a bare number is refused, since
// its unit would be a guess.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return &fieldError{line: n.Line, msg: fmt.Sprintf("%q: want a duration with a unit, e.g. \"50ms\" or \"2s\"", n.Value)}
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &fieldError{line: n.Line, msg: fmt.Sprintf("%q: want a duration with a unit, e.g. \"50ms\" or \"2s\"", n.Value)}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes d as a duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// fieldError is one problem at a line of the file.
type fieldError struct {
	line  int
	field string // dotted path
	msg   string
}

// Load reads, parses and validates the deployment file at path. getenv
// (os.Getenv in production) reads the environment variables the file
// names; each must be set and non-empty. The error lists every problem
// found, one per line, as "FILE:LINE: FIELD: what is expected".
func Load(path string, getenv func(string) string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, getenv)
}

// Parse is Load on data already read; path names the file in errors and
// anchors relative paths.
func Parse(path string, data []byte, getenv func(string) string) (*File, error) {
	p := &parser{path: path, f: &File{Path: path, set: map[string]bool{}}, lines: map[string]int{}}
	empty := func() error {
		return fmt.Errorf("%s: the file is empty; want a YAML mapping with at least one of: %s", path, strings.Join(fieldNames(reflect.TypeFor[File]()), ", "))
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, empty() // nothing but comments and blank lines
	} else if err != nil {
		// yaml's messages carry "line N:" already.
		return nil, fmt.Errorf("%s: not valid YAML: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if dec.Decode(&extra) == nil {
		return nil, fmt.Errorf("%s:%d: a second YAML document; want one document", path, extra.Line)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: the top level is not a mapping; want keys such as runtime:, backends:, security:", path, root.Line)
	}
	p.secrets(root, "")
	if len(p.errs) == 0 {
		p.decode(root, reflect.ValueOf(p.f).Elem(), "")
	}
	if len(p.errs) == 0 {
		p.validate(getenv)
	}
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	return p.f, nil
}

type parser struct {
	path  string
	f     *File
	errs  []fieldError
	lines map[string]int // dotted path → line of its value
}

func (p *parser) add(line int, field, format string, args ...any) {
	p.errs = append(p.errs, fieldError{line: line, field: field, msg: fmt.Sprintf(format, args...)})
}

func (p *parser) err() error {
	const max = 20
	var b strings.Builder
	for i, e := range p.errs {
		if i == max {
			fmt.Fprintf(&b, "\n… and %d more", len(p.errs)-max)
			break
		}
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s:%d: ", p.path, e.line)
		if e.field != "" {
			b.WriteString(e.field + ": ")
		}
		b.WriteString(e.msg)
	}
	return errors.New(b.String())
}

// secretKey matches key names that would hold a secret itself rather than
// the name of the variable holding it.
var secretKey = regexp.MustCompile(`(?i)^(api[_-]?key|key|secret|jwt[_-]?secret|password|passwd|token|access[_-]?token|bearer|credentials?|auth[_-]?token)$`)

// secretValue matches values shaped like well-known credentials: OpenAI
// and Anthropic keys (sk-…), GitHub and Slack tokens, AWS key ids,
// bearer headers and JWTs.
var secretValue = regexp.MustCompile(`^(sk-[A-Za-z0-9_-]{6,}|sk-ant-\S+|gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-\S+|AKIA[0-9A-Z]{16}|(?i:bearer)\s+\S+|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.\S*)$`)

// secrets refuses literal credentials anywhere in the tree, before any
// other check, so that the error is about the secret and not about an
// unknown field called api_key.
func (p *parser) secrets(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			field := join(path, k.Value)
			if secretKey.MatchString(k.Value) {
				p.add(k.Line, field, "literal secrets are refused: a file gets copied, committed and printed; put the value in an environment variable and name the variable with %s_env (e.g. api_key_env: OPENAI_API_KEY)", strings.ToLower(strings.ReplaceAll(k.Value, "-", "_")))
				continue
			}
			p.secrets(v, field)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p.secrets(c, fmt.Sprintf("%s[%d]", path, i))
		}
	case yaml.ScalarNode:
		if secretValue.MatchString(strings.TrimSpace(n.Value)) {
			p.add(n.Line, path, "the value looks like a literal API key or token; secrets come only from environment variables: set one and name it with api_key_env or jwt_secret_env")
		} else if u, err := url.Parse(n.Value); err == nil && u.User != nil && u.Host != "" {
			if _, hasPass := u.User.Password(); hasPass {
				p.add(n.Line, path, "%q carries credentials; remove them from the URL and name the key's environment variable with api_key_env", u.Redacted())
			}
		}
	}
}

func join(path, field string) string {
	if field == "" {
		return path
	}
	if path == "" {
		return field
	}
	return path + "." + field
}

// fieldNames lists a struct's yaml keys, for "want one of" messages.
func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if tag := yamlName(t.Field(i)); tag != "" {
			names = append(names, tag)
		}
	}
	return names
}

func yamlName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if tag == "-" || !f.IsExported() {
		return ""
	}
	return tag
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// decode walks n into v, checking keys against v's struct fields, so
// that an unknown key and a mistyped value each get their line and the
// field's full path.
func (p *parser) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if path != "" && !(n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		p.f.set[path] = true
		p.lines[path] = n.Line
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := v.Addr().Interface().(yaml.Unmarshaler).UnmarshalYAML(n); err != nil {
			var fe *fieldError
			if errors.As(err, &fe) {
				p.add(fe.line, join(path, fe.field), "%s", fe.msg)
			} else {
				p.add(n.Line, path, "%v", err)
			}
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return // "cache:" with nothing under it
		}
		if n.Kind != yaml.MappingNode {
			p.add(n.Line, path, "want a mapping with keys %s, got %s", strings.Join(fieldNames(v.Type()), ", "), describe(n))
			return
		}
		byName := map[string]int{}
		for i := range v.NumField() {
			if name := yamlName(v.Type().Field(i)); name != "" {
				byName[name] = i
			}
		}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if first, dup := seen[k.Value]; dup {
				p.add(k.Line, join(path, k.Value), "set twice (first at line %d); keep one", first)
				continue
			}
			seen[k.Value] = k.Line
			idx, ok := byName[k.Value]
			if !ok {
				p.add(k.Line, join(path, k.Value), "unknown field; want one of %s", strings.Join(fieldNames(v.Type()), ", "))
				continue
			}
			p.decode(val, v.Field(idx), join(path, k.Value))
		}
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		if n.Kind != yaml.SequenceNode {
			p.add(n.Line, path, "want a list (items starting with \"- \"), got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, c := range n.Content {
			p.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	default:
		if n.Kind != yaml.ScalarNode {
			p.add(n.Line, path, "want %s, got %s", want(v.Kind()), describe(n))
			return
		}
		if n.Tag == "!!null" {
			return
		}
		// yaml would take "20" (quoted) for a number's string field and
		// the reverse: a quoted number for a number is a typo worth
		// naming, as is a number for a string.
		if n.Tag == "!!str" && v.Kind() != reflect.String {
			p.add(n.Line, path, "want %s, got the string %q", want(v.Kind()), n.Value)
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			p.add(n.Line, path, "want %s, got %q", want(v.Kind()), n.Value)
		}
	}
}

func want(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int64:
		return "a whole number"
	case reflect.Uint64:
		return "a whole number >= 0"
	case reflect.Float64:
		return "a number"
	}
	return k.String()
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%q", n.Value)
}

func (e *fieldError) Error() string {
	if e.field != "" {
		return fmt.Sprintf("line %d: %s: %s", e.line, e.field, e.msg)
	}
	return fmt.Sprintf("line %d: %s", e.line, e.msg)
}

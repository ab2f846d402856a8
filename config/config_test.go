package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/config"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// The shipped example loads with its one key set, and its values arrive
// where the docs say, with defaults filled and paths left absolute.
func TestExampleLoads(t *testing.T) {
	f, err := config.Load("example.yaml", env(map[string]string{"OPENAI_API_KEY": "k-test"}))
	if err != nil {
		t.Fatal(err)
	}
	if f.Addr != "127.0.0.1:7777" || f.Runtime.TickHz != 20 || f.Runtime.Budget.D() != 50*time.Millisecond || f.Runtime.Seed != 1 {
		t.Fatalf("runtime: %+v addr %q", f.Runtime, f.Addr)
	}
	if len(f.Backends) != 1 {
		t.Fatalf("backends: %+v", f.Backends)
	}
	b := f.Backends[0]
	if b.Name != "openai:gpt-4o-mini" || b.Tier != "remote" || b.Quality != 10 || b.APIKey != "k-test" ||
		b.Prices.InputPerMTok != 0.15 || b.Prices.OutputPerMTok != 0.60 || b.ExpectedTTFT.D() != 600*time.Millisecond {
		t.Fatalf("backend: %+v", b)
	}
	if f.Cache.SizeMiB != 64 || f.Cache.TTL.D() != 10*time.Minute || !f.Has("cache.off") || f.Has("data") {
		t.Fatalf("cache: %+v", f.Cache)
	}
	if f.Security.PlayerDailyTokens != 200000 || f.Security.PlayerDailyUSD != 0.5 || f.Security.MaxInFlight != 16 {
		t.Fatalf("security: %+v", f.Security)
	}
}

// Relative paths are resolved against the file's folder; lore keeps the
// file's order; defaults are filled for a local backend.
func TestPathsAndDefaults(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"zeta", "alpha"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}
	os.WriteFile(filepath.Join(dir, "keys.yaml"), []byte("keys: []\n"), 0o600)
	p := filepath.Join(dir, "h.yaml")
	os.WriteFile(p, []byte("data: store\nsecurity:\n  auth_keys: keys.yaml\n  jwt_secret_env: JWT\nlore:\n  z: zeta\n  a: alpha\n"+
		"backends:\n  - {kind: openai, model: m, tier: local}\n"), 0o600)
	f, err := config.Load(p, env(map[string]string{"JWT": "x"}))
	if err != nil {
		t.Fatal(err)
	}
	if f.Data != filepath.Join(dir, "store") || f.Security.AuthKeys != filepath.Join(dir, "keys.yaml") {
		t.Fatalf("paths: %q %q", f.Data, f.Security.AuthKeys)
	}
	if len(f.Lore) != 2 || f.Lore[0].Name != "z" || f.Lore[1].Dir != filepath.Join(dir, "alpha") {
		t.Fatalf("lore: %+v", f.Lore)
	}
	if b := f.Backends[0]; b.Quality != config.DefaultLocalQuality || b.ExpectedTokensPerSecond != 60 || b.Name != "openai:m" {
		t.Fatalf("defaults: %+v", b)
	}
}

// Every class of bad input fails with the file, the line, the field and
// what is expected; a secret is never echoed back.
func TestBadInput(t *testing.T) {
	ok := "backends:\n  - kind: openai\n    model: m\n"
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"empty file", "", []string{"h.yaml: the file is empty", "runtime"}},
		{"comments only", "# nothing\n", []string{"the file is empty"}},
		{"not YAML", "runtime: [tick_hz: 20\n", []string{"h.yaml: not valid YAML", "line"}},
		{"not a mapping", "- a\n- b\n", []string{"h.yaml:1: the top level is not a mapping"}},
		{"two documents", "addr: a:1\n---\naddr: b:2\n", []string{"second YAML document"}},
		{"unknown top key", "addr: 127.0.0.1:1\nruntme:\n  tick_hz: 20\n", []string{"h.yaml:2: runtme: unknown field; want one of addr, data, runtime"}},
		{"unknown nested key", "runtime:\n  tick_hz: 20\n  tickhz: 5\n", []string{"h.yaml:3: runtime.tickhz: unknown field; want one of tick_hz, budget, workers, seed"}},
		{"unknown backend key", ok + "    modle: x\n", []string{"h.yaml:4: backends[0].modle: unknown field"}},
		{"duplicate key", "runtime:\n  seed: 1\n  seed: 2\n", []string{"h.yaml:3: runtime.seed: set twice (first at line 2)"}},
		{"wrong type number", "runtime:\n  tick_hz: fast\n", []string{"h.yaml:2: runtime.tick_hz: want a number, got the string \"fast\""}},
		{"quoted number", "runtime:\n  workers: \"4\"\n", []string{"h.yaml:2: runtime.workers: want a whole number"}},
		{"wrong type bool", "cache:\n  off: maybe\n", []string{"h.yaml:2: cache.off: want true or false"}},
		{"wrong type section", "runtime: 20\n", []string{"h.yaml:1: runtime: want a mapping with keys tick_hz"}},
		{"backends not a list", "backends:\n  kind: openai\n", []string{"h.yaml:2: backends: want a list"}},
		{"bad duration", "runtime:\n  budget: 50 ms\n", []string{"h.yaml:2: runtime.budget: \"50 ms\": want a duration with a unit, e.g. \"50ms\""}},
		{"duration without unit", "runtime:\n  budget: 50\n", []string{"runtime.budget: \"50\": want a duration with a unit"}},
		{"negative duration", "cache:\n  ttl: -1m\n", []string{"h.yaml:2: cache.ttl: -1m0s: must not be negative"}},
		{"zero budget", "runtime:\n  budget: 0s\n", []string{"runtime.budget: 0s: must be positive"}},
		{"negative workers", "runtime:\n  workers: -1\n", []string{"h.yaml:2: runtime.workers: -1: want 0 (all cores) or a positive count"}},
		{"negative seed", "runtime:\n  seed: -1\n", []string{"runtime.seed: want a whole number >= 0"}},
		{"tick out of range", "runtime:\n  tick_hz: 5000\n", []string{"runtime.tick_hz: 5000: want a rate in Hz"}},
		{"negative price", ok + "    prices:\n      output_per_mtok: -2\n", []string{"h.yaml:5: backends[0].prices.output_per_mtok: -2: must not be negative"}},
		{"negative quota", "security:\n  player_daily_tokens: -5\n", []string{"security.player_daily_tokens: -5"}},
		{"negative rate", "security:\n  conn_rate: -1\n", []string{"security.conn_rate: -1: must not be negative"}},
		{"negative cache size", "cache:\n  size_mib: -64\n", []string{"cache.size_mib: -64"}},
		{"negative in flight", ok + "    max_in_flight: -1\n", []string{"backends[0].max_in_flight: -1"}},
		{"fit quantile", "router:\n  fit_quantile: 1.5\n", []string{"h.yaml:2: router.fit_quantile: 1.5: want a quantile strictly between 0 and 1"}},
		{"spend cap", "router:\n  daily_spend_cap_usd: -5\n", []string{"h.yaml:2: router.daily_spend_cap_usd: -5: want 0 (no cap) or a positive number of US dollars"}},
		{"duplicate names", ok + "  - kind: openai\n    model: m\n", []string{"h.yaml:4: backends[1].name: \"openai:m\" is already the name of backends[0]"}},
		{"duplicate explicit names", "backends:\n  - {name: a, kind: openai, model: x}\n  - {name: a, kind: anthropic, model: y}\n", []string{"backends[1].name: \"a\" is already"}},
		{"missing model", "backends:\n  - kind: openai\n    base_url: http://h/v1\n", []string{"h.yaml:2: backends[0].model: missing; want the model name"}},
		{"missing kind", "backends:\n  - model: m\n", []string{"h.yaml:2: backends[0].kind: missing; want openai, anthropic or embedded"}},
		{"unknown kind", "backends:\n  - kind: gemini\n    model: m\n", []string{"h.yaml:2: backends[0].kind: \"gemini\": want openai, anthropic or embedded"}},
		{"unknown tier", ok + "    tier: cloud\n", []string{"h.yaml:4: backends[0].tier: \"cloud\": want local"}},
		{"anthropic local", "backends:\n  - {kind: anthropic, model: c, tier: local}\n", []string{"anthropic backends are remote"}},
		{"embedded with url", "backends:\n  - kind: embedded\n    model: shipped\n    base_url: http://h/v1\n", []string{"h.yaml:4: backends[0].base_url: not used by an embedded backend"}},
		{"two embedded", "backends:\n  - {kind: embedded, model: shipped}\n  - {kind: embedded, model: shipped, name: e2}\n", []string{"a second embedded backend"}},
		{"missing gguf", "backends:\n  - {kind: embedded, model: nope.gguf}\n", []string{"backends[0].model", "want \"shipped\" or a readable GGUF file"}},
		{"bad url", ok + "    base_url: 127.0.0.1:8080\n", []string{"backends[0].base_url: \"127.0.0.1:8080\": want an http:// or https:// API root"}},
		{"bad addr", "addr: 7777\n", []string{"h.yaml:1: addr: \"7777\": want host:port"}},
		{"literal api_key", ok + "    api_key: hunter2hunter2\n", []string{"h.yaml:4: backends[0].api_key: literal secrets are refused", "api_key_env"}},
		{"literal secret key", "security:\n  jwt_secret: abcdefabcdefabcdefabcdefabcdefabcdef\n", []string{"security.jwt_secret: literal secrets are refused", "jwt_secret_env"}},
		{"literal key field", "key: abc\n", []string{"h.yaml:1: key: literal secrets are refused"}},
		{"sk value", ok + "    api_key_env: sk-proj-abcdefghijklmnop\n", []string{"h.yaml:4: backends[0].api_key_env: the value looks like a literal API key"}},
		{"sk value in an unknown field", "notes: sk-ant-api03-xyzxyzxyz\n", []string{"h.yaml:1: notes: the value looks like a literal API key"}},
		{"bearer value", ok + "    name: Bearer abcdef123\n", []string{"looks like a literal API key"}},
		{"credentials in url", ok + "    base_url: https://user:pw123@api.example.com/v1\n", []string{"carries credentials", "xxxxx"}},
		{"bad env name", ok + "    api_key_env: my key\n", []string{"backends[0].api_key_env: \"my key\": want the NAME of an environment variable"}},
		{"unset env var", ok + "    api_key_env: HEARTH_TEST_UNSET\n", []string{"h.yaml:4: backends[0].api_key_env: the environment variable HEARTH_TEST_UNSET is unset or empty"}},
		{"unset jwt env", "security:\n  jwt_secret_env: HEARTH_TEST_UNSET_JWT\n", []string{"security.jwt_secret_env: the environment variable HEARTH_TEST_UNSET_JWT is unset"}},
		{"missing keys file", "security:\n  auth_keys: nokeys.yaml\n", []string{"h.yaml:2: security.auth_keys", "want a readable API keys file"}},
		{"missing lore dir", "lore:\n  srd: nowhere\n", []string{"h.yaml:2: lore.srd", "not a readable directory"}},
		{"lore not a mapping", "lore: [a, b]\n", []string{"h.yaml:1: lore: want a mapping of name: folder"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "h.yaml")
			if err := os.WriteFile(p, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := config.Load(p, env(nil))
			if err == nil {
				t.Fatalf("%q loaded; want an error", tc.yaml)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Fatalf("error %q\nwant it to contain %q", msg, w)
				}
			}
			if !strings.Contains(msg, p) {
				t.Fatalf("error %q does not name the file", msg)
			}
			for _, secret := range []string{"hunter2", "abcdefabcdef", "pw123"} {
				if strings.Contains(msg, secret) {
					t.Fatalf("error %q echoes the secret", msg)
				}
			}
		})
	}
}

// All problems are reported at once, each on its own line.
func TestEveryProblemReported(t *testing.T) {
	_, err := config.Parse("h.yaml", []byte("runtime:\n  workers: -1\n  budget: soon\n  tick_hz: x\ncache:\n  size_mib: -1\n"), env(nil))
	if err == nil || strings.Count(err.Error(), "\n") != 1 || !strings.Contains(err.Error(), "h.yaml:3: runtime.budget") {
		// budget fails while decoding, so validation (workers, size) waits
		// for a file that decodes.
		t.Fatalf("%v", err)
	}
	_, err = config.Parse("h.yaml", []byte("runtime:\n  workers: -1\ncache:\n  size_mib: -1\n"), env(nil))
	if err == nil || strings.Count(err.Error(), "\n") != 1 {
		t.Fatalf("%v: want two lines", err)
	}
}

// The prompts section: the directory resolves against the file's folder,
// watch defaults to true, weights arrive by name and version; bad ones
// name the line and the template.
func TestPromptsSection(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "prompts"), 0o755)
	p := filepath.Join(dir, "h.yaml")
	os.WriteFile(p, []byte("prompts:\n  dir: prompts\n  weights:\n    npc.dialogue: {2: 90, 3: 10}\n    npc.bark:\n      1: 1\n"), 0o600)
	f, err := config.Load(p, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	pr := f.Prompts
	if pr.Dir != filepath.Join(dir, "prompts") || !pr.Watch || pr.Weights["npc.dialogue"][3] != 10 || pr.Weights["npc.bark"][1] != 1 || len(pr.Weights) != 2 {
		t.Fatalf("prompts: %+v", pr)
	}
	os.WriteFile(p, []byte("prompts:\n  watch: false\n"), 0o600)
	if f, err := config.Load(p, env(nil)); err != nil || f.Prompts.Watch {
		t.Fatalf("watch: false: %+v %v", f, err)
	}
	for yaml, want := range map[string]string{
		"prompts:\n  dir: nowhere\n":                             `h.yaml:2: prompts.dir: "` + filepath.Join(dir, "nowhere") + `": not a readable directory`,
		"prompts:\n  weights:\n    npc.dialogue: {two: 90}\n":    `h.yaml:3: prompts.weights.npc.dialogue: version "two": want a positive whole number`,
		"prompts:\n  weights:\n    npc.dialogue: {0: 90}\n":      `version "0": want a positive whole number`,
		"prompts:\n  weights:\n    npc.dialogue: {2: -1}\n":      `h.yaml:3: prompts.weights.npc.dialogue.2: weight "-1": want a whole number >= 0`,
		"prompts:\n  weights:\n    npc.dialogue: {2: \"90\"}\n":  `weight "90": want a whole number >= 0`,
		"prompts:\n  weights:\n    npc.dialogue: {2: 0, 3: 0}\n": `prompts.weights.npc.dialogue: the weights sum to 0`,
		"prompts:\n  weights:\n    npc.dialogue: 90\n":           `prompts.weights.npc.dialogue: want a mapping of version: weight`,
		"prompts:\n  weights:\n    \"bad name\": {1: 1}\n":       `prompts.weights.bad name: "bad name": want a template name`,
		"prompts:\n  weights: [1]\n":                             `prompts.weights: want a mapping of template name`,
		"prompts:\n  wieghts: {}\n":                              `prompts.wieghts: unknown field; want one of dir, watch, weights`,
	} {
		os.WriteFile(p, []byte(yaml), 0o600)
		_, err := config.Load(p, env(nil))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", yaml, err, want)
		}
	}
}

// The tracing section: its values arrive, and a bad endpoint or ratio
// is an error naming the line.
func TestTracingSection(t *testing.T) {
	p := filepath.Join(t.TempDir(), "h.yaml")
	os.WriteFile(p, []byte("tracing:\n  otlp_endpoint: http://127.0.0.1:4318\n  service_name: inn\n  sample_ratio: 0.25\n"), 0o600)
	f, err := config.Load(p, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if tr := f.Tracing; tr.OTLPEndpoint != "http://127.0.0.1:4318" || tr.ServiceName != "inn" || tr.SampleRatio != 0.25 {
		t.Fatalf("tracing: %+v", tr)
	}
	for yaml, want := range map[string]string{
		"tracing:\n  otlp_endpoint: 127.0.0.1:4318\n": `h.yaml:2: tracing.otlp_endpoint: "127.0.0.1:4318": want an http:// or https:// URL with a host`,
		"tracing:\n  sample_ratio: 0\n":               `h.yaml:2: tracing.sample_ratio: 0: want a share in (0, 1]`,
		"tracing:\n  sample_ratio: 1.5\n":             `tracing.sample_ratio: 1.5: want a share in (0, 1]`,
		"tracing:\n  sampel_ratio: 1\n":               `h.yaml:2: tracing.sampel_ratio: unknown field; want one of otlp_endpoint, service_name, sample_ratio`,
	} {
		os.WriteFile(p, []byte(yaml), 0o600)
		if _, err := config.Load(p, env(nil)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", yaml, err, want)
		}
	}
}

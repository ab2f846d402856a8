package main

import (
	"context"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// exampleAt writes config/example.yaml into a temporary folder with its
// OpenAI backend pointed at baseURL, and returns the copy's path.
func exampleAt(t *testing.T, baseURL string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "config", "example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const vendor = "base_url: https://api.openai.com/v1"
	if !strings.Contains(string(b), vendor) {
		t.Fatalf("example.yaml no longer has %q", vendor)
	}
	p := filepath.Join(t.TempDir(), "hearth.yaml")
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), vendor, "base_url: "+baseURL, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// `hearth serve -config` with the example file, its backend on a
// loopback llmsim: a talk is answered by the file's remote backend, under
// the file's name for it, with the key from the variable api_key_env
// names. -addr and -data on the command line win over the file's.
func TestServeConfigAnswersFromTheRemoteTier(t *testing.T) {
	remote, seen := recordingRemote(t)
	cmd := exec.Command(hearthBin, "serve", "-config", exampleAt(t, remote), "-addr", "127.0.0.1:0", "-data", t.TempDir(), "-log", "warn")
	cmd.Env = append(os.Environ(), "OPENAI_API_KEY=sk-config-test-1")
	p := startProc(t, cmd)
	c := dial(t, p.url, "config-player", "Aria")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := c.Talk(ctx, srdNPC(t), "Who runs the inn?", 5000, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Tier != "remote" || r.Backend != "openai:gpt-4o-mini" || r.Text == "" || !r.OnTime {
		t.Fatalf("reply %+v: want the configured remote backend's, on time", r)
	}
	if auth := seen(); len(auth) == 0 || auth[0] != "Bearer sk-config-test-1" {
		t.Fatalf("Authorization headers %q: want the key from api_key_env", seen())
	}
}

// serve -config FILE -check prints the effective configuration, each
// value's source, and never the key; a flag wins over the file; a bad
// file exits 1 naming the line.
func TestServeConfigCheck(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-must-not-print-0123")
	file := filepath.Join(repoRoot(t), "config", "example.yaml")
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"serve", "-config", file, "-check", "-budget", "2s"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	o := out.String()
	for _, want := range []string{"config " + file + ": OK", "openai:gpt-4o-mini: kind openai, tier remote, quality 10", "$OPENAI_API_KEY (set, redacted)"} {
		if !strings.Contains(o, want) {
			t.Fatalf("-check output lacks %q:\n%s", want, o)
		}
	}
	// Each setting: its value and where it came from.
	for _, want := range [][]string{{"runtime.budget", "2s", "(flag", "-budget)"}, {"runtime.tick_hz", "20", "(file)"},
		{"security.player_daily_tokens", "200000", "(file)"}, {"security.auth_keys", `""`, "(default)"},
		{"router.stall_timeout", "500ms", "(default)"}, {"router.fit_quantile", "0.9", "(default)"},
		{"cache.semantic_threshold", "0.875", "(default)"}} {
		found := false
		for line := range strings.Lines(o) {
			found = found || slices.Equal(strings.Fields(line), want)
		}
		if !found {
			t.Fatalf("-check output lacks the line %q:\n%s", want, o)
		}
	}
	if strings.Contains(o, "must-not-print") || strings.Contains(errOut.String(), "must-not-print") {
		t.Fatalf("-check printed the key:\n%s", o)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("runtime:\n  budget: 50\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-config", bad, "-check"}, bad + ":2: runtime.budget: \"50\": want a duration with a unit"},
		{[]string{"-config", bad}, bad + ":2: runtime.budget"}, // serve itself fails at start, before listening
		{[]string{"-check"}, "-check: set -config FILE"},
		{[]string{"-config", filepath.Join(t.TempDir(), "none.yaml")}, "none.yaml: no such file"},
		{[]string{"-config", file, "-openai"}, "-config"},
	} {
		var errOut strings.Builder
		args := append([]string{"serve", "-addr", "127.0.0.1:0", "-data", ""}, tc.args...)
		if code := run(context.Background(), args, strings.NewReader(""), io.Discard, &errOut); code != 1 {
			t.Fatalf("%v: exit %d, want 1", tc.args, code)
		}
		if !strings.Contains(errOut.String(), tc.want) {
			t.Fatalf("%v: stderr %q, want %q", tc.args, errOut.String(), tc.want)
		}
	}
}

// The file's settings reach the flags they stand for, the backends and
// the cache; a flag on the command line wins.
func TestConfigAppliesToFlags(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "extra"), 0o755)
	p := filepath.Join(dir, "h.yaml")
	os.WriteFile(p, []byte("runtime: {tick_hz: 10, budget: 80ms}\ncache: {size_mib: 3, ttl: 1m}\nlore: {extra: extra}\n"+
		"router: {fit_quantile: 0.8, relax_interval: 5s, max_hedge_share: 0.2, no_hedging: true, daily_spend_cap_usd: 40}\n"+
		"backends:\n  - {kind: embedded, model: shipped}\n  - {name: gpu, kind: openai, base_url: 'http://127.0.0.1:1/v1', model: m, tier: local, max_in_flight: 3}\n"), 0o600)
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var sf stackFlags
	sf.register(fs, "")
	sf.registerModel(fs, "off")
	sf.registerRemote(fs)
	sf.registerConfig(fs)
	if err := sf.parse(fs, []string{"-config", p, "-tick-hz", "5"}); err != nil {
		t.Fatal(err)
	}
	if sf.tickHz != 5 || sf.budget != 80*time.Millisecond || sf.model != "shipped" || len(sf.lore) != 1 || sf.lore[0].Dir != filepath.Join(dir, "extra") {
		t.Fatalf("flags: tick %g budget %v model %q lore %v", sf.tickHz, sf.budget, sf.model, sf.lore)
	}
	if sf.cfg.cache.MaxBytes != 3<<20 || sf.cfg.cache.TTL != time.Minute {
		t.Fatalf("cache %+v", sf.cfg.cache)
	}
	bs, err := configBackends(sf.cfg.file, 1)
	if err != nil || len(bs) != 1 {
		t.Fatalf("backends %v, %v", bs, err)
	}
	if i := bs[0].Info(); i.Name != "gpu" || i.Tier != "local" || i.Quality != 5 || i.MaxInFlight != 3 {
		t.Fatalf("backend info %+v", i)
	}
	if ro := sf.cfg.routerOptions(); ro.FitQuantile != 0.8 || ro.RelaxInterval != 5*time.Second || ro.MaxHedgeShare != 0.2 || !ro.NoHedging || ro.DailySpendCapUSD != 40 {
		t.Fatalf("router options %+v", ro)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearth-ai/hearth/internal/shareddata"
)

// questsSRD is the shared SRD corpus, "" when it is absent.
func questsSRD() string {
	dir, _ := shareddata.FindSRD()
	return dir
}

// TestQuestsCommand runs "hearth quests -n 200" in process and checks the
// issue's bar: every emitted quest valid and lore-consistent, on the demo
// world and (when the SRD is here) the SRD world.
func TestQuestsCommand(t *testing.T) {
	srd := questsSRD()
	args := []string{"-n", "200", "-json", filepath.Join(t.TempDir(), "quests.json")}
	want := []string{"kettleford"}
	if srd != "" {
		args = append(args, "-srd", srd)
		want = append(want, "srd")
	} else {
		t.Log("SRD 5.2 not found above the working directory: measuring the demo world only")
		args = append(args, "-world", "demo")
	}
	var stdout, stderr bytes.Buffer
	if err := cmdQuests(context.Background(), args, nil, &stdout, &stderr); err != nil {
		t.Fatalf("hearth quests: %v\n%s", err, stderr.String())
	}
	t.Log("\n" + stdout.String())
	data, err := os.ReadFile(args[3])
	if err != nil {
		t.Fatal(err)
	}
	var out questsOutput
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Worlds) != len(want) {
		t.Fatalf("%d worlds in the report, want %v", len(out.Worlds), want)
	}
	for i, r := range out.Worlds {
		if r.World != want[i] || r.Requests != 200 || r.Errors != 0 || r.Quests != 200 {
			t.Errorf("%s: %d requests, %d quests, %d errors", r.World, r.Requests, r.Quests, r.Errors)
		}
		if r.ValidPct != 100 || r.ConsistentPct != 100 {
			t.Errorf("%s: validity %.1f %%, lore consistency %.1f %%: want 100 %% (%v)", r.World, r.ValidPct, r.ConsistentPct, r.Problems)
		}
		if r.Structures < r.StructuresPoss/2 || r.Distinct2 <= 0 || r.P99us <= 0 || r.P99us > 50_000 {
			t.Errorf("%s: %d structures, distinct-2 %.3f, p99 %.0f µs", r.World, r.Structures, r.Distinct2, r.P99us)
		}
	}
	if !strings.Contains(stdout.String(), "| lore consistency |") {
		t.Errorf("no Markdown table:\n%s", stdout.String())
	}
}

func TestQuestsCommandFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-world", "mars"}, {"-n", "0"}, {"-world", "srd", "-srd", filepath.Join(t.TempDir(), "none")}, {"stray"},
	} {
		var stdout, stderr bytes.Buffer
		if err := cmdQuests(context.Background(), args, nil, &stdout, &stderr); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	// Both worlds with no SRD: the SRD is skipped with a message.
	var stdout, stderr bytes.Buffer
	err := cmdQuests(context.Background(), []string{"-n", "20", "-srd", filepath.Join(t.TempDir(), "none")}, nil, &stdout, &stderr)
	if err != nil || !strings.Contains(stderr.String(), "srd world skipped") || strings.Contains(stdout.String(), "| srd |") {
		t.Errorf("missing SRD: %v\n%s\n%s", err, stderr.String(), stdout.String())
	}
}

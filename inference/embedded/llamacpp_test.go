package embedded_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/embedded"
	"github.com/hearth-ai/hearth/inference/embedded/shipped"
)

// The shipped GGUF runs unchanged in llama.cpp: llama.cpp (node-llama-cpp's
// prebuilt CPU build, installed by .ci/run into testdata/llamacpp) reads
// the file, tokenizes a real NPC prompt into the same tokens Hearth does,
// and decodes greedily the same reply (float32 there, float64 here: the
// replies agree while no two logits are within rounding of each other,
// which for a trained model is the whole reply in practice).
//
// It skips when node or the node modules are missing, unless
// HEARTH_REQUIRE_LLAMACPP=1 (set by .ci/run).
func TestLlamaCppRunsTheShippedModel(t *testing.T) {
	dir, err := filepath.Abs("testdata/llamacpp")
	if err != nil {
		t.Fatal(err)
	}
	_, errNode := exec.LookPath("node")
	_, errMod := os.Stat(filepath.Join(dir, "node_modules", "node-llama-cpp"))
	if errNode != nil || errMod != nil {
		msg := "llama.cpp check needs node and `npm ci` in inference/embedded/testdata/llamacpp"
		if os.Getenv("HEARTH_REQUIRE_LLAMACPP") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	tmp := t.TempDir()
	model := filepath.Join(tmp, shipped.FileName)
	if err := os.WriteFile(model, shipped.GGUF(), 0o644); err != nil {
		t.Fatal(err)
	}
	prompt := "You are Hobb Fairweather, innkeeper of the Tipped Kettle of tipped-kettle, of the ford-moot.\n" +
		"Traits: jovial, gossipy, shrewd, warm-hearted.\n" +
		"Rules: stay in character. Speak only from the lore below; if it does not answer, say you do not know. Answer in one or two sentences.\n\n" +
		"Lore:\n- [The Tipped Kettle] The Tipped Kettle is Kettleford's only inn, a two-storey house of river stone and black timber on the north side of Kettle Green.\n\n" +
		"A stranger says: What is the Tipped Kettle?\nHobb Fairweather:\n"
	promptFile := filepath.Join(tmp, "prompt.txt")
	if err := os.WriteFile(promptFile, []byte(prompt), 0o644); err != nil {
		t.Fatal(err)
	}
	const maxTokens = 24
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "check.mjs", model, promptFile, "24")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("llama.cpp: %v\n%s", err, stderr)
	}
	var got struct {
		PromptTokens []int `json:"prompt_tokens"`
		ReplyTokens  []int `json:"reply_tokens"`
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &got); err != nil {
		t.Fatalf("llama.cpp output %q: %v", out, err)
	}

	e, err := shipped.Open(embedded.Options{Sampling: embedded.Sampling{RepetitionPenalty: 1}, Stop: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tok := e.Tokenizer()
	if want := tok.EncodePrompt(prompt, 0); !slices.Equal(got.PromptTokens, want) {
		t.Fatalf("llama.cpp tokenizes the prompt into\n%v\nHearth into\n%v", got.PromptTokens, want)
	}
	res, err := e.Generate(ctx, &inference.Request{Prompt: prompt, MaxTokens: maxTokens}, nil)
	if err != nil {
		t.Fatal(err)
	}
	theirs := strings.TrimSpace(tok.Decode(got.ReplyTokens))
	t.Logf("llama.cpp: %q\nHearth:    %q", theirs, res.Text)
	if theirs != res.Text {
		t.Fatalf("greedy replies differ:\nllama.cpp %q\nHearth    %q", theirs, res.Text)
	}
}

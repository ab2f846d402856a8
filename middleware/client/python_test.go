package client

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hearth-ai/hearth/middleware/protocol"
)

// The Python client (clients/python/hearth_client.py) is written from
// docs/protocol.md alone; running it against the test peer checks that the
// document is enough to interoperate.

const (
	pythonBin    = "/usr/bin/python3"
	pythonClient = "../../clients/python/hearth_client.py"
)

func runPython(t *testing.T, args ...string) (lines []map[string]any, exitCode int) {
	t.Helper()
	if _, err := os.Stat(pythonBin); err != nil {
		t.Skip("no " + pythonBin)
	}
	if err := exec.Command(pythonBin, "-c", "import websockets, msgpack").Run(); err != nil {
		t.Skip("python3 lacks websockets or msgpack")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, pythonBin, append([]string{pythonClient}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		exitCode = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("python printed %q: %v (stderr: %s)", line, err, stderr.String())
		}
		lines = append(lines, m)
	}
	if stderr.Len() > 0 {
		t.Logf("python stderr: %s", stderr.String())
	}
	return lines, exitCode
}

func TestPythonClientTalks(t *testing.T) {
	p := newTestPeer(t)
	for _, mode := range [][]string{nil, {"--json"}} {
		args := append([]string{"--url", p.URL, "--player", "p1", "--name", "Aria", "--npc", "smith",
			"--say", "Any work for me?", "--say", "reset this", "--timeout", "10"}, mode...)
		lines, code := runPython(t, args...)
		if code != 0 || len(lines) != 2 {
			t.Fatalf("%v: exit %d, output %v", mode, code, lines)
		}
		if lines[0]["text"] != "Brom hears: Any work for me?" || lines[0]["deltas"] != 6.0 || lines[0]["tier"] != "template" ||
			lines[0]["npc_id"] != "smith" || lines[0]["ticket"] != 1.0 || lines[0]["floor"] != true {
			t.Errorf("%v: first reply %v", mode, lines[0])
		}
		if lines[1]["text"] != "Brom hears: reset this" || lines[1]["deltas"] != 5.0 {
			t.Errorf("%v: second reply %v", mode, lines[1])
		}
	}
}

func TestPythonClientServerError(t *testing.T) {
	p := newTestPeer(t)
	lines, code := runPython(t, "--url", p.URL, "--player", "p1", "--npc", "ghost", "--say", "hello?")
	if code != 2 || len(lines) != 1 || lines[0]["error"] != protocol.CodeUnknownNPC {
		t.Errorf("exit %d, output %v", code, lines)
	}
}

func TestPythonClientRawFrames(t *testing.T) {
	p := newTestPeer(t)
	talk, _ := protocol.MsgpackCodec{}.Encode(protocol.Header{ID: 7}, protocol.Talk{NPCID: "smith", Text: "hi"})
	lines, code := runPython(t, "--url", p.URL, "--player", "p1", "--wait", "0.5",
		"--raw-hex", "c1", // never-used MessagePack byte
		"--raw-hex", "db ff ff ff ff 00", // str32 claiming 4 GiB
		"--raw-hex", hex.EncodeToString(talk)) // talk before hello
	if code != 0 || len(lines) != 3 {
		t.Fatalf("exit %d, output %v", code, lines)
	}
	want := []struct {
		id   float64
		code string
	}{{0, protocol.CodeBadFrame}, {0, protocol.CodeBadFrame}, {7, protocol.CodeNotHello}}
	for i, w := range want {
		payload, _ := lines[i]["payload"].(map[string]any)
		if lines[i]["type"] != protocol.TypeError || lines[i]["id"] != w.id || payload["code"] != w.code {
			t.Errorf("reply %d = %v, want error %s with id %v", i, lines[i], w.code, w.id)
		}
	}
}

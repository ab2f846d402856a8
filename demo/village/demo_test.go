//go:build unix

package village

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// demoScript walks to Hobb, talks, waits for the reply, asks for a quest
// and accepts it, taking screenshots on the way.
const demoScript = `shot start
walkto hobb-fairweather
shot near
press e
wait 20
type Hello, who are you?
shot typed
press enter
waitreply
shot reply
type /quest
press enter
waitquest
shot quest
press y
wait 30
shot accepted`

// TestDemoUnderXvfb builds the demo (package main, one folder up) and plays
// demoScript in it under a virtual X server: the real window, renderer,
// input path and embedded runtime. It lives here, not in package main,
// because ebiten panics at init without a display, which would fail a
// headless `go test ./...`.
func TestDemoUnderXvfb(t *testing.T) {
	required := os.Getenv("HEARTH_REQUIRE_XVFB") == "1"
	xvfb, err := exec.LookPath("xvfb-run")
	if err != nil {
		if required {
			t.Fatal("HEARTH_REQUIRE_XVFB=1 but xvfb-run is not installed (Debian: xvfb xauth)")
		}
		t.Skip("xvfb-run is not installed (Debian: xvfb xauth, plus libx11-dev libxrandr-dev libxcursor-dev " +
			"libxinerama-dev libxi-dev libxxf86vm-dev libgl1-mesa-dev to build); HEARTH_REQUIRE_XVFB=1 fails instead")
	}
	if testing.Short() && !required {
		t.Skip("-short: skipping the game under Xvfb")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatal("go is not on PATH:", err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "demo")
	// The first cgo build of ebiten takes minutes on a small machine; the
	// game itself gets a minute.
	bctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	build := exec.CommandContext(bctx, goBin, "build", "-o", bin, "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ctx, cancel2 := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel2()
	shots := filepath.Join(dir, "shots")
	cmd := exec.CommandContext(ctx, xvfb, "-a", "-s", "-screen 0 1024x768x24", bin,
		"-script", demoScript, "-screenshots", shots, "-name", "Aria")
	cmd.Dir = dir
	// xvfb-run starts Xvfb as a child: kill the whole group on timeout so
	// no X server outlives the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("demo: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	t.Logf("demo stdout:\n%s", stdout.String())

	// Each completed reply is printed: reply, NPC, tier, latency, text.
	var reply, offer, accepted bool
	for _, line := range strings.Split(stdout.String(), "\n") {
		f := strings.Split(line, "\t")
		switch {
		case len(f) == 5 && f[0] == "reply" && f[1] == "hobb-fairweather" && f[2] != "" && strings.TrimSpace(f[4]) != "":
			reply = true
		case len(f) == 5 && f[0] == "quest" && f[1] == "hobb-fairweather" && f[2] != "" && f[4] != "":
			offer = true
		case len(f) == 4 && f[0] == "update" && f[2] == "accepted":
			accepted = true
		}
	}
	if !reply || !offer || !accepted {
		t.Fatalf("reply printed %v, quest offered %v, accepted %v; stdout:\n%s", reply, offer, accepted, stdout.String())
	}

	frames := map[string]*image.RGBA{}
	for _, name := range []string{"start", "near", "typed", "reply", "quest", "accepted"} {
		frames[name] = readPNG(t, filepath.Join(shots, name+".png"))
	}
	full := frames["start"].Bounds()
	if full.Dx() != 960 || full.Dy() != 540 {
		t.Fatalf("screenshot is %v, want 960x540", full)
	}
	if n := colours(frames["start"]); n < 8 {
		t.Fatalf("the first frame has %d colours: nothing was drawn", n)
	}
	// Walking moves the camera; the reply fills the dialogue box; the
	// quest offer and its acceptance change it again.
	box := image.Rect(0, full.Dy()-188, full.Dx(), full.Dy())
	for _, c := range []struct {
		a, b string
		r    image.Rectangle
		min  float64
	}{
		{"start", "near", full, 0.05},
		{"typed", "reply", box, 0.005},
		{"reply", "quest", box, 0.005},
		{"quest", "accepted", full, 0.001},
	} {
		if d := diff(frames[c.a], frames[c.b], c.r); d < c.min {
			t.Errorf("%s → %s: %.4f of the pixels in %v differ, want at least %.4f", c.a, c.b, d, c.r, c.min)
		}
	}
}

func readPNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	rgba, ok := img.(*image.RGBA)
	if !ok {
		b := img.Bounds()
		rgba = image.NewRGBA(b)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				rgba.Set(x, y, img.At(x, y))
			}
		}
	}
	return rgba
}

// diff returns the share of pixels in r whose colour differs noticeably.
func diff(a, b *image.RGBA, r image.Rectangle) float64 {
	n, total := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			i, j := a.PixOffset(x, y), b.PixOffset(x, y)
			total++
			for c := range 3 {
				if d := int(a.Pix[i+c]) - int(b.Pix[j+c]); d > 16 || d < -16 {
					n++
					break
				}
			}
		}
	}
	if total == 0 {
		return 0
	}
	return float64(n) / float64(total)
}

func colours(img *image.RGBA) int {
	seen := map[[3]uint8]bool{}
	for i := 0; i+3 < len(img.Pix) && len(seen) < 1000; i += 4 {
		seen[[3]uint8{img.Pix[i], img.Pix[i+1], img.Pix[i+2]}] = true
	}
	return len(seen)
}

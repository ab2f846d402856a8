package village

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseScript(t *testing.T) {
	steps, err := ParseScript(`# walk, talk, look
hold right 30; hold W 2
walkto hobb-fairweather
press e; type Hello there, pet!
press enter; waitreply; waitquest 90
wait 5; shot after-reply`)
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		{Kind: StepHold, Key: KeyRight, N: 30, Line: 1},
		{Kind: StepHold, Key: KeyUp, N: 2, Line: 2},
		{Kind: StepWalkTo, Text: "hobb-fairweather", N: defaultWalkTicks, Line: 3},
		{Kind: StepPress, Key: KeyTalk, Line: 4},
		{Kind: StepType, Text: "Hello there, pet!", Line: 5},
		{Kind: StepPress, Key: KeyEnter, Line: 6},
		{Kind: StepWaitReply, N: defaultWaitTicks, Line: 7},
		{Kind: StepWaitQuest, N: 90, Line: 8},
		{Kind: StepWait, N: 5, Line: 9},
		{Kind: StepShot, Text: "after-reply", Line: 10},
	}
	if len(steps) != len(want) {
		t.Fatalf("%d steps, want %d: %+v", len(steps), len(want), steps)
	}
	for i := range want {
		if steps[i] != want[i] {
			t.Errorf("step %d: %+v, want %+v", i, steps[i], want[i])
		}
	}
	for _, bad := range []string{"hold right", "hold jump 3", "press", "press z", "type", "wait", "wait -1",
		"waitreply x", "walkto", "shot a/b", "dance"} {
		if _, err := ParseScript(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if s, err := ParseScript("  \n# nothing\n ; "); err != nil || len(s) != 0 {
		t.Fatalf("empty script: %v, %v", s, err)
	}
}

func TestLoadScriptFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.txt")
	if err := os.WriteFile(path, []byte("wait 2\nshot x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	steps, err := LoadScript(path)
	if err != nil || len(steps) != 2 {
		t.Fatalf("%v, %v", steps, err)
	}
	if steps, err = LoadScript("wait 1"); err != nil || len(steps) != 1 {
		t.Fatalf("inline: %v, %v", steps, err)
	}
}

// fakeView is a ScriptView whose answers the test sets.
type fakeView struct {
	replies, offers, shots int
	busy                   bool
	pos                    Vec
	m                      *Map
	target                 string
}

func (v *fakeView) Replies() int   { return v.replies }
func (v *fakeView) Offers() int    { return v.offers }
func (v *fakeView) Shots() int     { return v.shots }
func (v *fakeView) Busy() bool     { return v.busy }
func (v *fakeView) PlayerPos() Vec { return v.pos }
func (v *fakeView) PathTo(id string) ([]Point, error) {
	i := v.m.NPCIndex(id)
	if i < 0 {
		return nil, errors.New("unknown NPC")
	}
	return v.m.Path(TileOf(v.pos), v.m.NPCs[i].Tile), nil
}
func (v *fakeView) InRange(id string) bool {
	i := v.m.NearestNPC(v.pos)
	return i >= 0 && v.m.NPCs[i].ID == id
}

func TestRunnerTimesSteps(t *testing.T) {
	steps, _ := ParseScript("hold left 3; press e; type abcdef; wait 2; shot s")
	r := NewRunner(steps)
	v := &fakeView{}
	var log []string
	for tick := 0; !r.Done() && tick < 50; tick++ {
		in, shot := r.Next(v)
		var b strings.Builder
		for k, held := range in.Held {
			if held {
				b.WriteString("H" + string(rune('0'+k)))
			}
			if in.Pressed[k] {
				b.WriteString("P" + string(rune('0'+k)))
			}
		}
		b.WriteString(string(in.Chars))
		if shot != "" {
			b.WriteString("shot:" + shot)
			v.shots++ // the frame is drawn
		}
		log = append(log, b.String())
	}
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	left, talk := string(rune('0'+KeyLeft)), string(rune('0'+KeyTalk))
	want := []string{"H" + left + "P" + left, "H" + left, "H" + left, "H" + talk + "P" + talk,
		"abcd", "ef", "", "", "shot:s", ""}
	if strings.Join(log, "|") != strings.Join(want, "|") {
		t.Fatalf("ticks:\n%q\nwant\n%q", log, want)
	}
}

func TestRunnerWaitsForAnswers(t *testing.T) {
	steps, _ := ParseScript("press enter; waitreply 10; press q; waitquest 10")
	r := NewRunner(steps)
	v := &fakeView{}
	r.Next(v) // enter
	// The reply arrives in the very tick its line is sent: it still counts.
	v.replies, v.busy = 1, true
	r.Next(v)
	if r.i != 1 {
		t.Fatalf("at step %d while the reply is still revealing, want 1", r.i)
	}
	v.busy = false
	if in, _ := r.Next(v); !in.Pressed[KeyQuest] {
		t.Fatal("waitreply did not end when the reply was shown")
	}
	for range 11 {
		r.Next(v)
	}
	if r.Err() == nil || !strings.Contains(r.Err().Error(), "no quest offer") {
		t.Fatalf("err %v, want a timeout naming the quest offer", r.Err())
	}
	if !r.Done() {
		t.Fatal("a failed script is not done")
	}
}

func TestRunnerWalksToAnNPC(t *testing.T) {
	m := loadTestMap(t)
	for _, id := range []string{"hobb-fairweather", "orla-fenn"} {
		steps, _ := ParseScript("walkto " + id)
		r := NewRunner(steps)
		v := &fakeView{m: m, pos: TileCentre(m.Start)}
		ticks := 0
		for ; !r.Done() && ticks < defaultWalkTicks+1; ticks++ {
			in, _ := r.Next(v)
			dx, dy := in.Dir()
			v.pos = m.Move(v.pos, dx, dy)
		}
		if r.Err() != nil {
			t.Fatalf("%s: %v after %d ticks at %v", id, r.Err(), ticks, v.pos)
		}
		if !v.InRange(id) {
			t.Fatalf("%s: ended at %v, out of range", id, v.pos)
		}
	}
	r := NewRunner([]Step{{Kind: StepWalkTo, Text: "nobody", N: 5, Line: 1}})
	r.Next(&fakeView{m: m})
	if r.Err() == nil {
		t.Fatal("walking to an unknown NPC did not fail")
	}
}

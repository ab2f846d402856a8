package main

import (
	"sync/atomic"
	"time"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/inpututil"

	v "github.com/hearth-ai/hearth/demo/village"
)

// Screen size in logical pixels.
const (
	screenW = 960
	screenH = 540
)

// Game is the ebiten side of the game: it feeds the keyboard (or a
// script) to the rules in village.State, times each Update, and draws.
type Game struct {
	st     *v.State
	script *v.Runner // nil: the keyboard plays

	pendingShot string
	shotDir     string

	meter  v.Meter
	stopAt time.Time // zero: run until closed
	quit   atomic.Bool
	err    error // why the game ended early

	gfx *graphics
}

// warmupTicks are not measured: the first frame builds the map picture and
// the fonts' glyphs, and ebiten does not replay the ticks that stalls.
const warmupTicks = 60

// Update runs one tick: input (keyboard or script), then the rules. Its
// duration is recorded, since keeping it short while NPCs think is the
// point of the demo.
func (g *Game) Update() error {
	start := time.Now()
	var in v.Input
	if g.script != nil {
		var shot string
		in, shot = g.script.Next(g.st)
		if shot != "" {
			g.pendingShot = shot
		}
		if g.script.Done() {
			if g.err == nil {
				g.err = g.script.Err()
			}
			return ebiten.Termination
		}
	} else {
		in = keyboardInput(g.st.Dlg.Open)
	}
	g.st.Step(in)
	if g.err != nil || g.quit.Load() || (!g.stopAt.IsZero() && start.After(g.stopAt)) {
		return ebiten.Termination
	}
	g.meter.Record(start, time.Now())
	return nil
}

// interrupt ends the game at the next tick; any goroutine may call it.
func (g *Game) interrupt() { g.quit.Store(true) }

// keys maps keyboard keys to game keys.
var keys = [...][]ebiten.Key{
	v.KeyUp:        {ebiten.KeyArrowUp, ebiten.KeyW},
	v.KeyDown:      {ebiten.KeyArrowDown, ebiten.KeyS},
	v.KeyLeft:      {ebiten.KeyArrowLeft, ebiten.KeyA},
	v.KeyRight:     {ebiten.KeyArrowRight, ebiten.KeyD},
	v.KeyTalk:      {ebiten.KeyE},
	v.KeyQuest:     {ebiten.KeyQ},
	v.KeyLog:       {ebiten.KeyL},
	v.KeyEnter:     {ebiten.KeyEnter, ebiten.KeyNumpadEnter},
	v.KeyBackspace: {ebiten.KeyBackspace},
	v.KeyEscape:    {ebiten.KeyEscape},
	v.KeyAccept:    {ebiten.KeyY},
	v.KeyDecline:   {ebiten.KeyN},
	v.KeyAct:       {ebiten.KeyF},
}

// keyboardInput reads this tick's keys. While typing, letters are text:
// only the arrows move, and Backspace repeats when held.
func keyboardInput(typing bool) v.Input {
	var in v.Input
	for k, list := range keys {
		for i, ek := range list {
			if typing && i > 0 && v.Key(k) <= v.KeyRight {
				continue // WASD are letters while typing
			}
			if ebiten.IsKeyPressed(ek) {
				in.Held[k] = true
			}
			if inpututil.IsKeyJustPressed(ek) {
				in.Pressed[k] = true
			}
		}
	}
	if d := inpututil.KeyPressDuration(ebiten.KeyBackspace); d > 30 && d%3 == 0 {
		in.Pressed[v.KeyBackspace] = true
	}
	if typing {
		in.Chars = ebiten.AppendInputChars(nil)
	}
	return in
}

// Layout fixes the logical screen size; ebiten scales it to the window.
func (g *Game) Layout(_, _ int) (int, int) { return screenW, screenH }

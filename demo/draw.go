package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"

	"github.com/hajimehoshi/ebiten/v2"
	"github.com/hajimehoshi/ebiten/v2/text" //nolint:staticcheck // text/v2 needs go-text/typesetting, which go.mod does not list
	"github.com/hajimehoshi/ebiten/v2/vector"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"

	v "github.com/hearth-ai/hearth/demo/village"
	"github.com/hearth-ai/hearth/middleware/protocol"
)

// Palette. Everything is drawn in code: no image assets.
var (
	colGrass    = color.RGBA{0x5d, 0x8a, 0x3c, 0xff}
	colRoad     = color.RGBA{0xb8, 0x9a, 0x6a, 0xff}
	colTree     = color.RGBA{0x2e, 0x55, 0x2a, 0xff}
	colTrunk    = color.RGBA{0x5a, 0x3d, 0x22, 0xff}
	colEdge     = color.RGBA{0x1d, 0x2b, 0x1a, 0xff}
	colPlayer   = color.RGBA{0xf2, 0xd0, 0x4a, 0xff}
	colNPC      = color.RGBA{0xd9, 0x5d, 0x4a, 0xff}
	colPanel    = color.RGBA{0x14, 0x16, 0x1c, 0xdd}
	colText     = color.RGBA{0xf0, 0xee, 0xe6, 0xff}
	colDim      = color.RGBA{0xa8, 0xa8, 0xa0, 0xff}
	colAccent   = color.RGBA{0xf2, 0xc1, 0x4e, 0xff}
	colGood     = color.RGBA{0x8f, 0xd6, 0x7a, 0xff}
	colBad      = color.RGBA{0xe8, 0x6a, 0x5a, 0xff}
	colShadow   = color.RGBA{0x00, 0x00, 0x00, 0x60}
	colLawn     = color.RGBA{0x7c, 0xb0, 0x4f, 0xff}
	colStone    = color.RGBA{0x9a, 0x9a, 0x92, 0xff}
	colWater    = color.RGBA{0x3d, 0x7a, 0xb8, 0xff}
	regionYard  = map[string]color.RGBA{"kettleford": {0xc9, 0xb2, 0x7f, 0xff}, "gloamwood": {0x6f, 0x7e, 0x4f, 0xff}, "sallow-fens": {0x7d, 0x9c, 0x93, 0xff}}
	regionRoof  = map[string]color.RGBA{"kettleford": {0x9c, 0x3e, 0x2b, 0xff}, "gloamwood": {0x4a, 0x3b, 0x2a, 0xff}, "sallow-fens": {0x3f, 0x5d, 0x6e, 0xff}}
	defaultYard = color.RGBA{0xb0, 0xa0, 0x80, 0xff}
	defaultRoof = color.RGBA{0x80, 0x50, 0x40, 0xff}
)

// graphics holds what is drawn once: the fonts and the map picture.
//
// Antialiased vector fills are drawn only into these small sprites, once:
// each such fill is a separate GPU pass with a stencil, which is slow on a
// software renderer (Xvfb's llvmpipe) when done thousands of times. Frames
// then draw sprites and plain rectangles, which ebiten batches.
type graphics struct {
	face, small, bold font.Face
	mapImg            *ebiten.Image
	tree, npc, ring   *ebiten.Image
	well              *ebiten.Image
	player            *ebiten.Image
}

func newGraphics() (*graphics, error) {
	reg, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, err
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, err
	}
	face := func(f *opentype.Font, size float64) (font.Face, error) {
		return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	}
	gr := &graphics{tree: ebiten.NewImage(v.TileSize, v.TileSize), npc: ebiten.NewImage(20, 28),
		ring: ebiten.NewImage(26, 26), player: ebiten.NewImage(16, 18), well: ebiten.NewImage(24, 24)}
	vector.DrawFilledCircle(gr.well, 12, 12, 11, colStone, true)
	vector.DrawFilledCircle(gr.well, 12, 12, 7, colWater, true)
	vector.DrawFilledRect(gr.tree, 6, 9, 4, 7, colTrunk, false)
	vector.DrawFilledCircle(gr.tree, 8, 7, 7, colTree, true)
	vector.DrawFilledCircle(gr.npc, 10, 20, 7, colShadow, true)
	vector.DrawFilledCircle(gr.npc, 10, 15, 7, colNPC, true)
	vector.DrawFilledCircle(gr.npc, 10, 7, 5, color.RGBA{0xf1, 0xc2, 0x9a, 0xff}, true)
	vector.StrokeCircle(gr.ring, 13, 13, 11, 2, colAccent, true)
	vector.DrawFilledCircle(gr.player, 8, 12, 6, colShadow, true)
	vector.DrawFilledRect(gr.player, 3, 3, v.PlayerSize, v.PlayerSize, colPlayer, false)
	vector.StrokeRect(gr.player, 3, 3, v.PlayerSize, v.PlayerSize, 1, color.Black, false)
	if gr.face, err = face(reg, 15); err != nil {
		return nil, err
	}
	if gr.small, err = face(reg, 12); err != nil {
		return nil, err
	}
	if gr.bold, err = face(bold, 15); err != nil {
		return nil, err
	}
	return gr, nil
}

// Alignments for drawText.
const (
	alignLeft = iota
	alignCenter
)

// drawText draws s with its top at y: left-aligned at x, or centred on x.
// An outline in black keeps it readable on any ground.
func drawText(dst *ebiten.Image, s string, face font.Face, x, y float64, align int, c color.Color, outline bool) {
	if align == alignCenter {
		x -= advance(s, face) / 2
	}
	m := face.Metrics()
	bx, by := int(x), int(y)+m.Ascent.Ceil()
	if outline {
		for _, d := range [4][2]int{{-1, 0}, {1, 0}, {0, -1}, {0, 1}} {
			text.Draw(dst, s, face, bx+d[0], by+d[1], color.RGBA{0, 0, 0, 0xc0})
		}
	}
	text.Draw(dst, s, face, bx, by, c)
}

// advance is the width of s in face, in pixels.
func advance(s string, face font.Face) float64 {
	return float64(font.MeasureString(face, s)) / 64
}

// drawMap paints the whole map once; each frame then copies the visible
// part with one draw call.
func (gr *graphics) drawMap(m *v.Map, name func(string) string) {
	img := ebiten.NewImage(m.W*v.TileSize, m.H*v.TileSize)
	img.Fill(colGrass)
	const ts = float32(v.TileSize)
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			px, py := float32(x)*ts, float32(y)*ts
			switch m.Tile(v.Point{X: x, Y: y}) {
			case v.Road:
				vector.DrawFilledRect(img, px, py, ts, ts, colRoad, false)
			case v.Tree:
				op := &ebiten.DrawImageOptions{}
				op.GeoM.Translate(float64(px), float64(py))
				img.DrawImage(gr.tree, op)
			case v.Edge:
				vector.DrawFilledRect(img, px, py, ts, ts, colEdge, false)
			}
		}
	}
	for _, p := range m.Places {
		yard, roof := regionYard[p.Region], regionRoof[p.Region]
		if yard.A == 0 {
			yard, roof = defaultYard, defaultRoof
		}
		x, y := float32(p.Plot.X)*ts, float32(p.Plot.Y)*ts
		w, h := float32(p.Plot.W)*ts, float32(p.Plot.H)*ts
		if p.ID == m.Root {
			// The green: lawn, with the well in the middle.
			vector.DrawFilledRect(img, x, y, w, h, colLawn, false)
			img.DrawImage(gr.well, wellAt(x+w/2-12, y+ts))
			vector.StrokeRect(img, x, y, w, h, 1, colShadow, false)
		} else {
			vector.DrawFilledRect(img, x, y, w, h, yard, false)
			vector.DrawFilledRect(img, x+4, y+4, w-8, v.RoofRows*ts-4, roof, false)
			vector.DrawFilledRect(img, x+w/2-5, y+v.RoofRows*ts-12, 10, 12, colTrunk, false)
			vector.StrokeRect(img, x, y, w, h, 1, colShadow, false)
		}
		drawText(img, name(p.ID), gr.small, float64(x+w/2), float64(y+h)+2, alignCenter, colText, true)
	}
	gr.mapImg = img
}

// Draw renders a frame and, when a script asked for one, saves it.
func (g *Game) Draw(screen *ebiten.Image) {
	if g.gfx == nil {
		gr, err := newGraphics()
		if err != nil {
			g.err = err
			return
		}
		gr.drawMap(g.st.Map, g.st.Name)
		g.gfx = gr
	}
	gr := g.gfx
	// The camera follows the player, clamped to the map.
	camX := clampF(g.st.Pos.X-screenW/2, 0, float64(g.st.Map.W*v.TileSize-screenW))
	camY := clampF(g.st.Pos.Y-screenH/2, 0, float64(g.st.Map.H*v.TileSize-screenH))
	screen.Fill(colEdge)
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(-camX, -camY)
	screen.DrawImage(gr.mapImg, op)

	near := g.st.Map.NearestNPC(g.st.Pos)
	for i, n := range g.st.Map.NPCs {
		c := v.TileCentre(n.Tile)
		x, y := float32(c.X-camX), float32(c.Y-camY)
		if x < -40 || y < -40 || x > screenW+40 || y > screenH+40 {
			continue
		}
		if i == near {
			sprite(screen, gr.ring, x-13, y-13)
		}
		sprite(screen, gr.npc, x-10, y-15)
		// Neighbours in one yard take turns above and below, so their
		// names do not overlap.
		ly := float64(y) - 30
		if n.Slot%2 == 1 {
			ly = float64(y) + 10
		}
		drawText(screen, n.Name, gr.small, float64(x), ly, alignCenter, colText, true)
	}
	px, py := float32(g.st.Pos.X-camX), float32(g.st.Pos.Y-camY)
	sprite(screen, gr.player, px-8, py-8)

	g.drawOverlay(screen)
	if g.st.ShowLog {
		g.drawLog(screen)
	}
	if g.st.Dlg.Open {
		g.drawDialogue(screen)
	} else if near >= 0 {
		g.drawHint(screen, "E talk · Q ask for a quest · talking to "+g.st.Map.NPCs[near].Name)
	} else {
		g.drawHint(screen, "Arrows/WASD walk · E talk · Q quest · L quest log · F act out an objective")
	}
	g.drawNotices(screen)
	if g.pendingShot != "" {
		g.saveShot(screen, g.pendingShot)
		g.pendingShot = ""
	}
}

func wellAt(x, y float32) *ebiten.DrawImageOptions {
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(float64(x), float64(y))
	return op
}

// sprite draws img with its top left corner at (x, y).
func sprite(dst, img *ebiten.Image, x, y float32) {
	op := &ebiten.DrawImageOptions{}
	op.GeoM.Translate(float64(x), float64(y))
	dst.DrawImage(img, op)
}

func clampF(v, lo, hi float64) float64 {
	if hi < lo {
		return lo
	}
	return min(max(v, lo), hi)
}

func (g *Game) textAt(dst *ebiten.Image, s string, face font.Face, x, y float64, c color.Color) {
	drawText(dst, s, face, x, y, alignLeft, c, false)
}

// drawOverlay shows FPS/TPS, the backend, where the player is, and the
// tier and latency of the latest replies.
func (g *Game) drawOverlay(dst *ebiten.Image) {
	gr := g.gfx
	lines := 2 + len(g.st.Stats)
	vector.DrawFilledRect(dst, 8, 8, 330, float32(10+lines*16), colPanel, false)
	where := "on the road"
	if g.st.Place != "" {
		where = g.st.Name(g.st.Place)
	}
	g.textAt(dst, fmt.Sprintf("FPS %.0f  TPS %.0f  · %s", ebiten.ActualFPS(), ebiten.ActualTPS(), g.st.Backend.Name()), gr.small, 16, 13, colText)
	g.textAt(dst, where, gr.small, 16, 29, colAccent)
	for i, s := range g.st.Stats {
		status, c := "on time", colGood
		if !s.OnTime {
			status, c = "LATE", colBad
		}
		if s.Floor {
			status += ", floor"
		}
		who := s.NPC
		if n, ok := g.st.NPC(s.NPC); ok {
			who = n.Name
		}
		g.textAt(dst, fmt.Sprintf("%s · %s · %.2f ms · %s", who, s.Tier, s.LatencyMS, status), gr.small, 16, float64(45+i*16), c)
	}
}

// drawLog is the quest log side panel.
func (g *Game) drawLog(dst *ebiten.Image) {
	gr := g.gfx
	const x, w = screenW - 300, 292
	lines := v.QuestLogLines(g.st.Log, g.st.Name)
	var rows []struct {
		s string
		c color.Color
		f font.Face
	}
	add := func(s string, c color.Color, f font.Face) {
		rows = append(rows, struct {
			s string
			c color.Color
			f font.Face
		}{s, c, f})
	}
	if len(lines) == 0 {
		add("No quests yet: press Q near someone.", colDim, gr.small)
	}
	for _, l := range lines {
		switch {
		case l.Header:
			c := colAccent
			if l.State != protocol.QuestStateActive {
				c = colDim
			}
			for _, s := range v.Wrap(l.Text, w-16, func(s string) float64 { return advance(s, gr.small) }) {
				add(s, c, gr.small)
			}
		default:
			mark, c := "[ ] ", colDim
			if l.Done {
				mark, c = "[x] ", colGood
			} else if l.Current {
				mark, c = "[>] ", colText
			}
			for i, s := range v.Wrap(l.Text, w-36, func(s string) float64 { return advance(s, gr.small) }) {
				if i == 0 {
					s = mark + s
				} else {
					s = "     " + s
				}
				add(s, c, gr.small)
			}
		}
		if len(rows) > 20 {
			break
		}
	}
	h := float32(28 + len(rows)*15)
	vector.DrawFilledRect(dst, x, 8, w, h, colPanel, false)
	g.textAt(dst, "Quest log (L)", gr.bold, x+8, 11, colText)
	for i, r := range rows {
		g.textAt(dst, r.s, r.f, x+8, float64(30+i*15), r.c)
	}
}

// drawDialogue is the conversation box at the bottom of the screen.
func (g *Game) drawDialogue(dst *ebiten.Image) {
	gr := g.gfx
	const x, y, w, h = 8, screenH - 188, screenW - 16, 180
	vector.DrawFilledRect(dst, x, y, w, h, colPanel, false)
	vector.StrokeRect(dst, x, y, w, h, 1, colAccent, false)
	npc, _ := g.st.NPC(g.st.Dlg.NPC)
	role := npc.Role
	g.textAt(dst, g.st.Dlg.NPCName+" — "+role, gr.bold, x+10, y+6, colAccent)
	measure := func(s string) float64 { return advance(s, gr.face) }
	var rows []struct {
		s string
		c color.Color
	}
	for _, l := range g.st.Dlg.Visible() {
		prefix, c := "", colDim
		if l.Speaker != "" {
			prefix = l.Speaker + ": "
			c = colText
			if !l.NPC {
				c = colGood
			}
		}
		for i, s := range v.Wrap(prefix+l.Text, w-24, measure) {
			if i > 0 {
				s = "   " + s
			}
			rows = append(rows, struct {
				s string
				c color.Color
			}{s, c})
		}
		if l.Meta != "" {
			rows = append(rows, struct {
				s string
				c color.Color
			}{"   [" + l.Meta + "]", colDim})
		}
	}
	const maxRows = 7
	if len(rows) > maxRows {
		rows = rows[len(rows)-maxRows:]
	}
	for i, r := range rows {
		g.textAt(dst, r.s, gr.face, x+10, float64(y+28+i*18), r.c)
	}
	var prompt string
	switch {
	case g.st.Dlg.Offer != nil:
		prompt = "Accept \"" + g.st.Dlg.Offer.Title + "\"?  Y accept · N decline"
	case g.st.Dlg.Waiting():
		prompt = "… " + g.st.Dlg.NPCName + " is thinking"
	default:
		cursor := ""
		if g.st.Tick/30%2 == 0 {
			cursor = "_"
		}
		prompt = "> " + string(g.st.Dlg.Input) + cursor + "   (Enter say · /quest · Esc leave)"
	}
	g.textAt(dst, prompt, gr.face, x+10, float64(y+h-24), colAccent)
}

func (g *Game) drawHint(dst *ebiten.Image, s string) {
	gr := g.gfx
	w := advance(s, gr.small) + 20
	vector.DrawFilledRect(dst, float32(screenW/2-w/2), screenH-30, float32(w), 22, colPanel, false)
	drawText(dst, s, gr.small, screenW/2, screenH-26, alignCenter, colText, false)
}

func (g *Game) drawNotices(dst *ebiten.Image) {
	gr := g.gfx
	for i, n := range g.st.Notices {
		// Small type keeps notices between the overlay and the quest log.
		w := advance(n.Text, gr.small) + 16
		y := float32(10 + i*20)
		vector.DrawFilledRect(dst, float32(screenW/2-w/2), y, float32(w), 18, colPanel, false)
		drawText(dst, n.Text, gr.small, screenW/2, float64(y)+2, alignCenter, colAccent, false)
	}
}

// saveShot writes the frame as NAME.png in the screenshot folder.
func (g *Game) saveShot(screen *ebiten.Image, name string) {
	b := screen.Bounds()
	pix := make([]byte, 4*b.Dx()*b.Dy())
	screen.ReadPixels(pix)
	img := &image.RGBA{Pix: pix, Stride: 4 * b.Dx(), Rect: image.Rect(0, 0, b.Dx(), b.Dy())}
	dir := g.shotDir
	if dir == "" {
		dir = "."
	}
	path := filepath.Join(dir, name+".png")
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err == nil {
		err = os.WriteFile(path, buf.Bytes(), 0o644)
		if err != nil {
			g.err = err
		}
	}
	g.st.ShotTaken(name, path)
}

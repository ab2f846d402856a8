package village

import (
	"fmt"
	"io/fs"
	"math"
	"slices"

	"github.com/hearth-ai/hearth/npc"
	"github.com/hearth-ai/hearth/quest"
)

// Map geometry, in tiles and pixels. A place gets one cell of the layout
// grid; its plot (a building with a yard in front) sits inside the cell,
// leaving room for roads and trees between plots.
const (
	TileSize = 16 // pixels per tile
	cellSize = 10 // tiles per layout cell, each way
	plotSize = 6  // tiles per plot, each way
	plotOff  = 2  // tiles from a cell's corner to its plot
	RoofRows = 2  // rows of the plot taken by the (solid) building
)

// Tile is what one map tile is made of.
type Tile uint8

// Tile kinds. Grass, Road and Yard are walkable; the others block.
const (
	Grass Tile = iota
	Road
	Yard     // a place's open ground, in front of its building
	Building // a place's building
	Tree
	Edge // the map's border
)

// Solid reports whether the player cannot walk on t.
func (t Tile) Solid() bool { return t == Building || t == Tree || t == Edge }

// Point is a position in tiles (integers) or pixels, by context.
type Point struct{ X, Y int }

// Rect is an axis-aligned rectangle in tiles: [X, X+W) × [Y, Y+H).
type Rect struct{ X, Y, W, H int }

// Contains reports whether tile p is inside r.
func (r Rect) Contains(p Point) bool {
	return p.X >= r.X && p.X < r.X+r.W && p.Y >= r.Y && p.Y < r.Y+r.H
}

// PlaceLayout is one place of the world on the map.
type PlaceLayout struct {
	ID, Name, Region string
	Cell             Point // in layout cells
	Plot             Rect  // in tiles: building on top, yard below
}

// Yard is the walkable part of the plot, where the player arrives.
func (p PlaceLayout) Yard() Rect {
	return Rect{p.Plot.X, p.Plot.Y + RoofRows, p.Plot.W, p.Plot.H - RoofRows}
}

// NPCLayout is an NPC standing at its home.
type NPCLayout struct {
	ID, Name, Role, Home string
	Greeting             string
	Tile                 Point // where it stands
	Slot                 int   // its place among the NPCs sharing its home, from 0
}

// Map is the tile map of a world, computed from its place graph.
type Map struct {
	W, H   int // in tiles
	Tiles  []Tile
	Places []PlaceLayout
	NPCs   []NPCLayout
	Start  Point // the player's starting tile: the root place's yard
	Root   string
	// Edges are the place graph's undirected edges, by index into Places
	// (a < b), for drawing.
	Edges  [][2]int
	byID   map[string]int
	placeT []int16 // per tile: index into Places of the plot it lies in, or -1
}

// Tile returns the tile at p; outside the map it is Edge.
func (m *Map) Tile(p Point) Tile {
	if p.X < 0 || p.Y < 0 || p.X >= m.W || p.Y >= m.H {
		return Edge
	}
	return m.Tiles[p.Y*m.W+p.X]
}

func (m *Map) set(p Point, t Tile) {
	if p.X >= 0 && p.Y >= 0 && p.X < m.W && p.Y < m.H {
		m.Tiles[p.Y*m.W+p.X] = t
	}
}

// Place returns the layout of place id.
func (m *Map) Place(id string) (PlaceLayout, bool) {
	i, ok := m.byID[id]
	if !ok {
		return PlaceLayout{}, false
	}
	return m.Places[i], true
}

// PlaceAt returns the id of the place whose plot holds tile p, or "".
func (m *Map) PlaceAt(p Point) string {
	if p.X < 0 || p.Y < 0 || p.X >= m.W || p.Y >= m.H {
		return ""
	}
	if i := m.placeT[p.Y*m.W+p.X]; i >= 0 {
		return m.Places[i].ID
	}
	return ""
}

// LoadMap lays out the world in fsys: the place graph of quest.yaml and the
// NPCs of npcs/*.yaml. The game uses the same files the runtime serves, so
// the map and the NPCs' knowledge agree.
func LoadMap(fsys fs.FS) (*Map, *quest.World, error) {
	data, err := fs.ReadFile(fsys, "quest.yaml")
	if err != nil {
		return nil, nil, fmt.Errorf("demo: the world needs a quest.yaml with its places: %w", err)
	}
	w, err := quest.LoadWorld("", data)
	if err != nil {
		return nil, nil, err
	}
	defs, err := npc.LoadDefinitions(fsys, "npcs")
	if err != nil {
		return nil, nil, err
	}
	var places []PlaceInfo
	for _, id := range w.Places() {
		p, _ := w.Place(id)
		places = append(places, PlaceInfo{ID: p.ID, Name: p.Name, Region: p.Region, Neighbors: p.Neighbors})
	}
	var npcs []NPCInfo
	for _, d := range defs {
		npcs = append(npcs, NPCInfo{ID: d.ID, Name: d.Name, Role: d.Role, Home: d.Home, Greeting: d.Greeting})
	}
	m, err := Layout(places, npcs, "kettle-green")
	return m, w, err
}

// PlaceInfo is what the layout needs of a place.
type PlaceInfo struct {
	ID, Name, Region string
	Neighbors        []string
}

// NPCInfo is what the layout needs of an NPC.
type NPCInfo struct {
	ID, Name, Role, Home string
	Greeting             string
}

// Layout computes a deterministic tile map from a place graph: root (or
// the first place when root is unknown) in the middle, then each place in
// breadth-first order in the free cell nearest its parent, preferring cells
// further out, so that neighbours stay close and the graph grows outwards
// like a village does. Roads join neighbours; trees fill the rest.
func Layout(places []PlaceInfo, npcs []NPCInfo, root string) (*Map, error) {
	if len(places) == 0 {
		return nil, fmt.Errorf("demo: the world has no places")
	}
	idx := map[string]int{}
	for i, p := range places {
		if _, dup := idx[p.ID]; dup {
			return nil, fmt.Errorf("demo: place %q listed twice", p.ID)
		}
		idx[p.ID] = i
	}
	// Undirected adjacency, sorted, ignoring unknown ids.
	adj := make([][]int, len(places))
	for i, p := range places {
		for _, n := range p.Neighbors {
			if j, ok := idx[n]; ok && j != i {
				adj[i] = append(adj[i], j)
				adj[j] = append(adj[j], i)
			}
		}
	}
	for i := range adj {
		slices.SortFunc(adj[i], func(a, b int) int { return cmpStr(places[a].ID, places[b].ID) })
		adj[i] = slices.Compact(adj[i])
	}
	r, ok := idx[root]
	if !ok {
		r = 0
	}
	cells := make([]Point, len(places))
	placed := make([]bool, len(places))
	used := map[Point]bool{}
	put := func(i int, c Point) { cells[i], placed[i], used[c] = c, true, true }
	put(r, Point{})
	order := []int{r}
	for len(order) < len(places) {
		// Breadth-first from what is placed; an unreachable place starts
		// from the root.
		for q := 0; q < len(order); q++ {
			for _, j := range adj[order[q]] {
				if !placed[j] {
					put(j, freeCellNear(cells[order[q]], used))
					order = append(order, j)
				}
			}
		}
		for i := range places {
			if !placed[i] {
				put(i, freeCellNear(cells[r], used))
				order = append(order, i)
				break
			}
		}
	}
	// Shift cells to start at 0, with one empty cell of margin all round.
	minX, minY, maxX, maxY := 0, 0, 0, 0
	for _, c := range cells {
		minX, minY = min(minX, c.X), min(minY, c.Y)
		maxX, maxY = max(maxX, c.X), max(maxY, c.Y)
	}
	m := &Map{
		W: (maxX - minX + 3) * cellSize, H: (maxY - minY + 3) * cellSize,
		byID: map[string]int{}, Root: places[r].ID,
	}
	m.Tiles = make([]Tile, m.W*m.H)
	m.placeT = make([]int16, m.W*m.H)
	for i := range m.placeT {
		m.placeT[i] = -1
	}
	for i, p := range places {
		c := Point{cells[i].X - minX + 1, cells[i].Y - minY + 1}
		plot := Rect{c.X*cellSize + plotOff, c.Y*cellSize + plotOff, plotSize, plotSize}
		m.byID[p.ID] = i
		m.Places = append(m.Places, PlaceLayout{ID: p.ID, Name: p.Name, Region: p.Region, Cell: c, Plot: plot})
	}
	// Roads first (L-shaped, between yard centres), then plots on top, so
	// a road never cuts through a building.
	for i := range places {
		for _, j := range adj[i] {
			if i < j {
				m.Edges = append(m.Edges, [2]int{i, j})
				a, b := yardCentre(m.Places[i]), yardCentre(m.Places[j])
				for x := min(a.X, b.X); x <= max(a.X, b.X); x++ {
					m.set(Point{x, a.Y}, Road)
				}
				for y := min(a.Y, b.Y); y <= max(a.Y, b.Y); y++ {
					m.set(Point{b.X, y}, Road)
				}
			}
		}
	}
	for i, p := range m.Places {
		for y := p.Plot.Y; y < p.Plot.Y+p.Plot.H; y++ {
			for x := p.Plot.X; x < p.Plot.X+p.Plot.W; x++ {
				t := Yard
				// The root is the village green: open ground, no building.
				if y < p.Plot.Y+RoofRows && i != r {
					t = Building
				}
				m.set(Point{x, y}, t)
				m.placeT[y*m.W+x] = int16(i)
			}
		}
	}
	// Trees on grass away from roads and plots; the border is solid.
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			p := Point{x, y}
			switch {
			case x == 0 || y == 0 || x == m.W-1 || y == m.H-1:
				m.set(p, Edge)
			case m.Tile(p) == Grass && treeAt(x, y) && !m.nearOpen(p):
				m.set(p, Tree)
			}
		}
	}
	m.Start = yardCentre(m.Places[r])
	// NPCs stand in their home's yard, side by side when they share one;
	// an NPC whose home is not on the map stands at the root.
	perHome := map[string]int{}
	for _, n := range npcs {
		home := n.Home
		if _, ok := m.byID[home]; !ok {
			home = m.Root
		}
		p := m.Places[m.byID[home]]
		k := perHome[home]
		perHome[home]++
		y := p.Plot.Y + RoofRows + 1 + (k/3)*2
		tile := Point{p.Plot.X + 1 + (k%3)*2, min(y, p.Plot.Y+p.Plot.H-1)}
		m.NPCs = append(m.NPCs, NPCLayout{ID: n.ID, Name: n.Name, Role: n.Role, Home: home, Greeting: n.Greeting, Tile: tile, Slot: k})
	}
	return m, nil
}

func cmpStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// yardCentre is the tile roads lead to and the player starts on.
func yardCentre(p PlaceLayout) Point {
	y := p.Yard()
	return Point{y.X + y.W/2, y.Y + y.H - 1}
}

// freeCellNear returns the free cell nearest to c (squared distance), ties
// broken towards the outside (further from the origin, where the root is),
// then by row and column, so the layout is the same on every run.
func freeCellNear(c Point, used map[Point]bool) Point {
	for r := 1; ; r++ {
		best, found := Point{}, false
		bestD, bestOut := 0, 0
		for y := c.Y - r; y <= c.Y+r; y++ {
			for x := c.X - r; x <= c.X+r; x++ {
				p := Point{x, y}
				if used[p] {
					continue
				}
				d := (x-c.X)*(x-c.X) + (y-c.Y)*(y-c.Y)
				out := x*x + y*y
				if !found || d < bestD || (d == bestD && out > bestOut) ||
					(d == bestD && out == bestOut && (y < best.Y || (y == best.Y && x < best.X))) {
					best, bestD, bestOut, found = p, d, out, true
				}
			}
		}
		if found {
			return best
		}
	}
}

// treeAt is a fixed pseudo-random scatter (a hash of the tile), so that the
// woods look the same on every run without a seed to carry around.
func treeAt(x, y int) bool {
	h := uint32(x)*73856093 ^ uint32(y)*19349663
	h ^= h >> 13
	h *= 0x5bd1e995
	h ^= h >> 15
	return h%5 == 0
}

// nearOpen reports whether a road or plot is within one tile of p, so trees
// never narrow a road to less than three tiles.
func (m *Map) nearOpen(p Point) bool {
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			if t := m.Tile(Point{p.X + dx, p.Y + dy}); t == Road || t == Yard || t == Building {
				return true
			}
		}
	}
	return false
}

// Player movement, in pixels. The player is a square of PlayerSize centred
// on its position.
const (
	playerSpeed = 2.0 // pixels per tick (120 px/s at 60 TPS)
	PlayerSize  = 10.0
	talkRange   = 30.0 // pixels between centres
)

// Vec is a position in pixels.
type Vec struct{ X, Y float64 }

// TileCentre returns the pixel position of tile p's centre.
func TileCentre(p Point) Vec {
	return Vec{float64(p.X*TileSize) + TileSize/2, float64(p.Y*TileSize) + TileSize/2}
}

// TileOf returns the tile under pixel position v.
func TileOf(v Vec) Point {
	return Point{int(math.Floor(v.X / TileSize)), int(math.Floor(v.Y / TileSize))}
}

// blocked reports whether the player's square at v overlaps a solid tile.
func (m *Map) blocked(v Vec) bool {
	const h = PlayerSize / 2
	x0, y0 := int(math.Floor((v.X-h)/TileSize)), int(math.Floor((v.Y-h)/TileSize))
	x1, y1 := int(math.Floor((v.X+h-0.001)/TileSize)), int(math.Floor((v.Y+h-0.001)/TileSize))
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			if m.Tile(Point{x, y}).Solid() {
				return true
			}
		}
	}
	return false
}

// Move moves the player from v by one tick of input direction (dx, dy, each
// -1, 0 or 1), one axis at a time so that the player slides along walls
// instead of sticking to them. Diagonal moves are not faster.
func (m *Map) Move(v Vec, dx, dy int) Vec {
	if dx == 0 && dy == 0 {
		return v
	}
	step := playerSpeed
	if dx != 0 && dy != 0 {
		step /= math.Sqrt2
	}
	if dx != 0 {
		if n := (Vec{v.X + float64(dx)*step, v.Y}); !m.blocked(n) {
			v = n
		}
	}
	if dy != 0 {
		if n := (Vec{v.X, v.Y + float64(dy)*step}); !m.blocked(n) {
			v = n
		}
	}
	return v
}

// NearestNPC returns the index of the NPC nearest to v within talkRange, or
// -1.
func (m *Map) NearestNPC(v Vec) int {
	best, bestD := -1, talkRange*talkRange
	for i, n := range m.NPCs {
		c := TileCentre(n.Tile)
		d := (c.X-v.X)*(c.X-v.X) + (c.Y-v.Y)*(c.Y-v.Y)
		if d <= bestD {
			best, bestD = i, d
		}
	}
	return best
}

// NPCIndex returns the index of NPC id, or -1.
func (m *Map) NPCIndex(id string) int {
	for i, n := range m.NPCs {
		if n.ID == id {
			return i
		}
	}
	return -1
}

// Path returns the tiles of a shortest 4-connected walk from a to b over
// walkable tiles (b excluded when it is solid: the walk then ends next to
// it), without a; nil when b cannot be reached. Scripts use it to walk to
// an NPC through the same input the keyboard drives.
func (m *Map) Path(a, b Point) []Point {
	if a == b {
		return []Point{}
	}
	prev := make([]int32, m.W*m.H)
	for i := range prev {
		prev[i] = -2
	}
	id := func(p Point) int32 { return int32(p.Y*m.W + p.X) }
	queue := []Point{a}
	prev[id(a)] = -1
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, d := range [4]Point{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			n := Point{p.X + d.X, p.Y + d.Y}
			if n.X < 0 || n.Y < 0 || n.X >= m.W || n.Y >= m.H || prev[id(n)] != -2 {
				continue
			}
			if n != b && m.Tile(n).Solid() {
				continue
			}
			prev[id(n)] = id(p)
			if n == b {
				var out []Point
				for c := id(n); c != id(a); c = prev[c] {
					out = append(out, Point{int(c) % m.W, int(c) / m.W})
				}
				slices.Reverse(out)
				if m.Tile(b).Solid() {
					out = out[:len(out)-1]
				}
				return out
			}
			queue = append(queue, n)
		}
	}
	return nil
}

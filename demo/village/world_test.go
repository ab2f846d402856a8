package village

import (
	"reflect"
	"testing"

	"go.uber.org/goleak"

	"github.com/hearth-ai/hearth/sim/world"
)

// TestMain fails the package's tests if any leaves a goroutine behind
// (the backends start workers and client goroutines).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func loadTestMap(t *testing.T) *Map {
	t.Helper()
	m, _, err := LoadMap(world.FS())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLayoutIsDeterministicAndCentred(t *testing.T) {
	a, b := loadTestMap(t), loadTestMap(t)
	if !reflect.DeepEqual(a.Tiles, b.Tiles) || !reflect.DeepEqual(a.Places, b.Places) || !reflect.DeepEqual(a.NPCs, b.NPCs) {
		t.Fatal("two layouts of the same world differ")
	}
	if a.Root != "kettle-green" {
		t.Fatalf("root %q, want kettle-green", a.Root)
	}
	if got := a.PlaceAt(a.Start); got != "kettle-green" {
		t.Fatalf("the player starts at %q, want the green", got)
	}
	// The green's cell is the middle of the occupied cells' bounding box,
	// give or take the graph's lopsidedness: it must be inside it, at
	// least one cell from each side that has places.
	green, _ := a.Place("kettle-green")
	minX, minY, maxX, maxY := green.Cell.X, green.Cell.Y, green.Cell.X, green.Cell.Y
	for _, p := range a.Places {
		minX, minY = min(minX, p.Cell.X), min(minY, p.Cell.Y)
		maxX, maxY = max(maxX, p.Cell.X), max(maxY, p.Cell.Y)
	}
	if green.Cell.X == minX || green.Cell.X == maxX || green.Cell.Y == minY || green.Cell.Y == maxY {
		t.Fatalf("the green is at the edge: cell %v in [%d..%d]x[%d..%d]", green.Cell, minX, maxX, minY, maxY)
	}
}

func TestLayoutPlacesEverythingReachably(t *testing.T) {
	m := loadTestMap(t)
	if len(m.Places) < 30 || len(m.NPCs) != 10 {
		t.Fatalf("%d places, %d NPCs; want the whole demo world (38, 10)", len(m.Places), len(m.NPCs))
	}
	cells := map[Point]string{}
	for _, p := range m.Places {
		if other, dup := cells[p.Cell]; dup {
			t.Fatalf("%s and %s share cell %v", p.ID, other, p.Cell)
		}
		cells[p.Cell] = p.ID
		y := p.Yard()
		for _, c := range []Point{{y.X, y.Y}, {y.X + y.W - 1, y.Y + y.H - 1}} {
			if m.PlaceAt(c) != p.ID || m.Tile(c).Solid() {
				t.Fatalf("%s: yard tile %v is %v, place %q", p.ID, c, m.Tile(c), m.PlaceAt(c))
			}
		}
		if p.ID != m.Root && !m.Tile(Point{p.Plot.X, p.Plot.Y}).Solid() {
			t.Fatalf("%s has no building", p.ID)
		}
		if m.Path(m.Start, yardCentre(p)) == nil {
			t.Fatalf("%s cannot be reached from the green", p.ID)
		}
	}
	// Places the graph joins are laid out near each other: every place
	// within reach of one of its neighbours, and edges short on average.
	nearest := map[int]int{}
	total := 0
	for _, e := range m.Edges {
		a, b := m.Places[e[0]].Cell, m.Places[e[1]].Cell
		d := max(abs(a.X-b.X), abs(a.Y-b.Y))
		total += d
		for _, i := range e {
			if n, ok := nearest[i]; !ok || d < n {
				nearest[i] = d
			}
		}
	}
	for i, d := range nearest {
		// A hub has 8 adjacent cells; its ninth neighbour is 2 away.
		if d > 2 {
			t.Errorf("%s is %d cells from its nearest neighbour", m.Places[i].ID, d)
		}
	}
	if avg := float64(total) / float64(len(m.Edges)); avg > 2.5 {
		t.Errorf("edges are %.1f cells long on average", avg)
	}
	for _, n := range m.NPCs {
		home, ok := m.Place(n.Home)
		if !ok {
			t.Fatalf("%s: home %q not on the map", n.ID, n.Home)
		}
		if !home.Yard().Contains(n.Tile) {
			t.Fatalf("%s stands at %v, outside its home's yard %v", n.ID, n.Tile, home.Yard())
		}
		if m.Path(m.Start, n.Tile) == nil {
			t.Fatalf("%s cannot be reached", n.ID)
		}
	}
	hobb := m.NPCs[m.NPCIndex("hobb-fairweather")]
	if hobb.Home != "tipped-kettle" {
		t.Fatalf("Hobb stands at %s, want the Tipped Kettle", hobb.Home)
	}
}

func abs(v int) int { return max(v, -v) }

func TestLayoutSmallGraphs(t *testing.T) {
	if _, err := Layout(nil, nil, ""); err == nil {
		t.Fatal("an empty world was laid out")
	}
	if _, err := Layout([]PlaceInfo{{ID: "a"}, {ID: "a"}}, nil, "a"); err == nil {
		t.Fatal("a duplicate place was accepted")
	}
	// Unknown root, an unreachable place, an unknown neighbour and an
	// NPC whose home is not a place: all laid out, nothing lost.
	m, err := Layout([]PlaceInfo{{ID: "b", Neighbors: []string{"c", "nowhere"}}, {ID: "c"}, {ID: "island"}},
		[]NPCInfo{{ID: "x", Home: "atlantis"}, {ID: "y", Home: "c"}}, "missing")
	if err != nil {
		t.Fatal(err)
	}
	if m.Root != "b" || len(m.Places) != 3 || len(m.NPCs) != 2 || m.NPCs[0].Home != "b" {
		t.Fatalf("root %q, %d places, NPCs %+v", m.Root, len(m.Places), m.NPCs)
	}
	if p := m.Path(m.Start, m.NPCs[1].Tile); p == nil {
		t.Fatal("no path from b to c")
	}
}

func TestMoveCollidesAndSlides(t *testing.T) {
	m := loadTestMap(t)
	hobb := m.NPCs[m.NPCIndex("hobb-fairweather")]
	home, _ := m.Place(hobb.Home)
	// From the yard, walking up runs into the building and stops there.
	v := TileCentre(Point{home.Plot.X + 2, home.Plot.Y + RoofRows + 1})
	for range 100 {
		v = m.Move(v, 0, -1)
	}
	wall := float64((home.Plot.Y+RoofRows)*TileSize) + PlayerSize/2
	if v.Y < wall || v.Y >= wall+playerSpeed {
		t.Fatalf("stopped at y=%v, want against the wall at %v", v.Y, wall)
	}
	// Pushing diagonally into the wall still slides along it.
	x := v.X
	v = m.Move(v, 1, -1)
	if v.X <= x || v.Y < wall || v.Y >= wall+playerSpeed {
		t.Fatalf("diagonal into the wall: %v, want sliding right at y=%v", v, wall)
	}
	// The map's border holds.
	v = TileCentre(Point{1, 1})
	for range 50 {
		v = m.Move(v, -1, -1)
	}
	if v.X < TileSize || v.Y < TileSize {
		t.Fatalf("walked through the border to %v", v)
	}
	if got := m.Move(v, 0, 0); got != v {
		t.Fatal("standing still moved")
	}
}

func TestNearestNPC(t *testing.T) {
	m := loadTestMap(t)
	i := m.NPCIndex("hobb-fairweather")
	c := TileCentre(m.NPCs[i].Tile)
	if got := m.NearestNPC(Vec{c.X + 10, c.Y + 10}); got != i {
		t.Fatalf("nearest to Hobb is %d, want %d", got, i)
	}
	if got := m.NearestNPC(TileCentre(m.Start)); got != -1 {
		t.Fatalf("an NPC (%d) is in range at the start", got)
	}
	if m.NPCIndex("nobody") != -1 {
		t.Fatal("unknown NPC found")
	}
}

package sim

import (
	"fmt"
	"math/rand/v2"

	"github.com/hearth-ai/hearth/npc"
	"github.com/hearth-ai/hearth/quest"
	"github.com/hearth-ai/hearth/sim/world"
)

// Word banks of generated villagers. Names are original to Hearth.
var (
	firstNames = []string{"Ada", "Bennet", "Cora", "Dunstan", "Edda", "Fenwick", "Greta", "Hal", "Ione", "Jory",
		"Kit", "Lettice", "Mabry", "Ned", "Osmund", "Perrin", "Quenna", "Rook", "Sabine", "Tam", "Ulla", "Wat",
		"Yolande", "Ansel", "Bryony", "Cob", "Dilys", "Emmet", "Florian", "Gil"}
	lastNames = []string{"Ashdown", "Brackett", "Coldwell", "Dimmock", "Eversley", "Furze", "Gorse", "Hatherley",
		"Inchbold", "Jessop", "Kettering", "Larch", "Mossop", "Nettlefold", "Oakes", "Pennick", "Quarrie",
		"Rushby", "Sedge", "Thorne", "Underhill", "Withy", "Yarrow", "Alder", "Birchall"}
	roles = []string{"farmer", "fisher", "weaver", "carter", "reed-cutter", "miner", "charcoal burner",
		"baker", "chandler", "cooper", "herd", "ferryman's hand", "tinker", "midwife", "net-mender", "potter"}
	traits = []string{"cheerful", "gruff", "shy", "talkative", "suspicious", "kind", "proud", "curious",
		"tired", "superstitious", "practical", "nosy"}
	styles = []string{"Short plain sentences.", "Rambling, full of asides about the weather.",
		"Polite and careful, never says more than asked.", "Loud, laughs at own jokes.",
		"Speaks in local sayings."}
	regionTags = map[string][]string{
		"kettleford":  {"village", "people", "rumours", "trade", "festivals"},
		"gloamwood":   {"forest", "creatures", "herbs", "rumours"},
		"sallow-fens": {"fens", "river", "creatures", "rumours"},
	}
)

// GenerateNPCs returns n villager definitions made deterministically from
// seed and the places of w: ids "villager-00001" onwards, generated names,
// roles, traits and speech styles, a home drawn from w's places, and a
// knowledge scope like the demo NPCs' (the demo world's lore source, the
// home's region, a few topic tags, public or local secrecy).
func GenerateNPCs(w *quest.World, n int, seed uint64) []npc.Definition {
	if n <= 0 {
		return nil
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed_000c))
	places := w.Places()
	out := make([]npc.Definition, n)
	for i := range out {
		home := places[rng.IntN(len(places))]
		p, _ := w.Place(home)
		tags := regionTags[p.Region]
		d := npc.Definition{
			ID:          fmt.Sprintf("villager-%05d", i+1),
			Name:        firstNames[rng.IntN(len(firstNames))] + " " + lastNames[rng.IntN(len(lastNames))],
			Role:        roles[rng.IntN(len(roles))],
			Traits:      []string{traits[rng.IntN(len(traits))], traits[rng.IntN(len(traits))]},
			SpeechStyle: styles[rng.IntN(len(styles))],
			Home:        home,
			Knowledge:   npc.Knowledge{Sources: []string{world.Source}, MaxSecrecy: rng.IntN(2)},
		}
		if p.Region != "" {
			d.Knowledge.Regions = []string{p.Region}
		}
		if len(tags) > 0 {
			d.Knowledge.Tags = append([]string(nil), tags...)
		}
		if d.Traits[0] == d.Traits[1] {
			d.Traits = d.Traits[:1]
		}
		out[i] = d
	}
	return out
}

package quest

import (
	"slices"
	"strings"
)

// The SRD world's setting. The SRD has creatures and items but no map, so
// SRDWorld places them in a small generic country written for Hearth: a
// market town at a crossroads, ringed by farmland, forest, hills and coast,
// with swamp, mountains, desert, arctic, ruins, the underdark and a planar
// rift further out. The names, people and goods below are original to
// Hearth (MIT, like the rest of the repository), not SRD content.
//
// Hops from Crossroads Town: 1 to the farms, forest, hills and coast; 2 to
// the swamp, mountains, desert and abbey ruins; 3 to the underdark, the
// arctic and the rift, so danger grows with distance.

// Place ids of the SRD world.
const (
	SRDTown      = "crossroads-town"
	SRDFarmland  = "greenacre-farms"
	SRDForest    = "thornwald"
	SRDHills     = "barrow-hills"
	SRDMountains = "greyspire-mountains"
	SRDSwamp     = "mirewater-swamp"
	SRDCoast     = "saltcliff-coast"
	SRDUnderdark = "the-deepways"
	SRDRuins     = "ashen-abbey"
	SRDDesert    = "ember-waste"
	SRDArctic    = "rimefrost-reach"
	SRDRift      = "sundered-gate"
)

// srdPlaces is the SRD world's map; edges are undirected.
func srdPlaces() []Place {
	return []Place{
		{ID: SRDTown, Name: "Crossroads Town", Aliases: []string{"Crossroads", "the town", "the market town"}, Region: "heartland",
			Neighbors: []string{SRDFarmland, SRDForest, SRDHills, SRDCoast}},
		{ID: SRDFarmland, Name: "The Greenacre Farms", Aliases: []string{"Greenacre", "the farms", "the farmland", "the fields"}, Region: "heartland",
			Neighbors: []string{SRDTown, SRDForest, SRDSwamp}},
		{ID: SRDForest, Name: "The Thornwald", Aliases: []string{"the forest", "the woods", "the old forest"}, Region: "heartland",
			Neighbors: []string{SRDTown, SRDFarmland, SRDHills, SRDSwamp}},
		{ID: SRDHills, Name: "The Barrow Hills", Aliases: []string{"the hills", "the downs", "the barrows"}, Region: "heartland",
			Neighbors: []string{SRDTown, SRDForest, SRDMountains, SRDRuins, SRDDesert}},
		{ID: SRDCoast, Name: "The Saltcliff Coast", Aliases: []string{"Saltcliff", "the coast", "the shore", "the sea"}, Region: "coast",
			Neighbors: []string{SRDTown, SRDSwamp, SRDDesert}},
		{ID: SRDSwamp, Name: "The Mirewater", Aliases: []string{"Mirewater Swamp", "the swamp", "the marsh", "the bog"}, Region: "wilds",
			Neighbors: []string{SRDFarmland, SRDForest, SRDCoast}},
		{ID: SRDMountains, Name: "The Greyspire Mountains", Aliases: []string{"the Greyspires", "the mountains", "the peaks"}, Region: "highlands",
			Neighbors: []string{SRDHills, SRDUnderdark, SRDArctic}},
		{ID: SRDRuins, Name: "The Ashen Abbey", Aliases: []string{"the abbey", "the ruins", "the crypts", "the catacombs"}, Region: "heartland",
			Neighbors: []string{SRDHills, SRDUnderdark, SRDRift}},
		{ID: SRDDesert, Name: "The Ember Waste", Aliases: []string{"the desert", "the dunes", "the waste"}, Region: "southlands",
			Neighbors: []string{SRDHills, SRDCoast}},
		{ID: SRDUnderdark, Name: "The Deepways", Aliases: []string{"the underdark", "the caverns", "the deep tunnels"}, Region: "underdark",
			Neighbors: []string{SRDMountains, SRDRuins, SRDRift}},
		{ID: SRDArctic, Name: "The Rimefrost Reach", Aliases: []string{"the tundra", "the ice", "the frozen north"}, Region: "north",
			Neighbors: []string{SRDMountains}},
		{ID: SRDRift, Name: "The Sundered Gate", Aliases: []string{"the rift", "the gate", "the planar breach"}, Region: "beyond",
			Neighbors: []string{SRDRuins, SRDUnderdark}},
	}
}

// srdTypeHabitats maps each SRD creature type to where the SRD world keeps
// it when neither its tag nor its name says better:
//
//	aberration  the Deepways, the Sundered Gate
//	beast       the farms, the Thornwald, the Barrow Hills
//	celestial   the Sundered Gate, the Greyspire Mountains
//	construct   the Ashen Abbey, the Deepways
//	dragon      the Greyspire Mountains (chromatic and metallic dragons by colour, below)
//	elemental   the Sundered Gate, the Greyspire Mountains
//	fey         the Thornwald
//	fiend       the Sundered Gate, the Ashen Abbey
//	giant       the Barrow Hills, the Greyspire Mountains
//	humanoid    the Thornwald, the Barrow Hills, the Ashen Abbey
//	monstrosity the Thornwald, the Barrow Hills, the Greyspire Mountains
//	ooze        the Deepways, the Ashen Abbey
//	plant       the Thornwald, the Mirewater
//	undead      the Ashen Abbey, the Mirewater
var srdTypeHabitats = map[string][]string{
	"aberration":  {SRDUnderdark, SRDRift},
	"beast":       {SRDFarmland, SRDForest, SRDHills},
	"celestial":   {SRDRift, SRDMountains},
	"construct":   {SRDRuins, SRDUnderdark},
	"dragon":      {SRDMountains},
	"elemental":   {SRDRift, SRDMountains},
	"fey":         {SRDForest},
	"fiend":       {SRDRift, SRDRuins},
	"giant":       {SRDHills, SRDMountains},
	"humanoid":    {SRDForest, SRDHills, SRDRuins},
	"monstrosity": {SRDForest, SRDHills, SRDMountains},
	"ooze":        {SRDUnderdark, SRDRuins},
	"plant":       {SRDForest, SRDSwamp},
	"undead":      {SRDRuins, SRDSwamp},
}

// srdDragonColours maps a dragon's colour to its lair terrain, after the
// SRD's descriptions of where each kind lairs.
var srdDragonColours = map[string][]string{
	"black": {SRDSwamp}, "blue": {SRDDesert}, "green": {SRDForest}, "red": {SRDMountains}, "white": {SRDArctic},
	"brass": {SRDDesert}, "bronze": {SRDCoast}, "copper": {SRDHills}, "gold": {SRDMountains}, "silver": {SRDMountains, SRDArctic},
}

// srdTagHabitats maps type tags to terrain, before the type's default.
var srdTagHabitats = map[string][]string{
	"dinosaur": {SRDForest, SRDHills},
	"demon":    {SRDRift, SRDRuins},
	"devil":    {SRDRift, SRDRuins},
	"angel":    {SRDRift, SRDMountains},
	"genie":    {SRDRift, SRDDesert},
	"titan":    {SRDMountains},
}

// srdNameHabitats maps words and two-word phrases of a creature's name to
// terrain. The first match, left to right and phrases before words,
// replaces the type's default: sharks live on the coast whatever their
// type, polar bears in the arctic (not with other bears in the forest).
var srdNameHabitats = map[string][]string{
	// Sea and shore.
	"shark": {SRDCoast}, "octopus": {SRDCoast}, "crab": {SRDCoast}, "whale": {SRDCoast}, "seahorse": {SRDCoast},
	"merfolk": {SRDCoast}, "merrow": {SRDCoast}, "sahuagin": {SRDCoast},
	"plesiosaurus": {SRDCoast}, "archelon": {SRDCoast}, "kraken": {SRDCoast}, "turtle": {SRDCoast}, "pirate": {SRDCoast},
	"water elemental": {SRDCoast}, "sea hag": {SRDCoast}, "storm giant": {SRDCoast, SRDMountains},
	// Cold.
	"polar": {SRDArctic}, "mammoth": {SRDArctic}, "frost": {SRDArctic}, "winter": {SRDArctic}, "ice": {SRDArctic},
	"remorhaz": {SRDArctic}, "saber-toothed": {SRDArctic},
	// Desert.
	"camel": {SRDDesert}, "vulture": {SRDDesert}, "hyena": {SRDDesert}, "jackal": {SRDDesert}, "scorpion": {SRDDesert},
	"lamia": {SRDDesert}, "mummy": {SRDDesert}, "sphinx": {SRDDesert}, "dust": {SRDDesert}, "salamander": {SRDDesert},
	"fire elemental": {SRDDesert}, "lion": {SRDDesert}, "elephant": {SRDDesert}, "rhinoceros": {SRDDesert},
	"gnoll": {SRDDesert, SRDHills},
	// Swamp.
	"crocodile": {SRDSwamp}, "frog": {SRDSwamp}, "toad": {SRDSwamp}, "hydra": {SRDSwamp}, "hag": {SRDSwamp, SRDForest},
	"shambling": {SRDSwamp}, "piranha": {SRDSwamp}, "piranhas": {SRDSwamp}, "insects": {SRDSwamp}, "hippopotamus": {SRDSwamp}, "will-o'-wisp": {SRDSwamp},
	"stirge": {SRDSwamp}, "snake": {SRDSwamp, SRDForest}, "snakes": {SRDSwamp, SRDForest}, "lizard": {SRDSwamp, SRDUnderdark},
	// Caves and the underdark.
	"bat": {SRDUnderdark, SRDForest}, "bats": {SRDUnderdark, SRDForest}, "spider": {SRDForest, SRDUnderdark},
	"beetle": {SRDUnderdark}, "centipede": {SRDUnderdark}, "worm": {SRDUnderdark}, "xorn": {SRDUnderdark},
	"earth elemental": {SRDUnderdark}, "rust": {SRDUnderdark}, "drider": {SRDUnderdark}, "fungus": {SRDUnderdark},
	"kobold": {SRDUnderdark, SRDHills}, "mimic": {SRDRuins, SRDUnderdark},
	// Heights.
	"goat": {SRDMountains, SRDFarmland}, "eagle": {SRDMountains}, "roc": {SRDMountains}, "griffon": {SRDMountains},
	"hippogriff": {SRDMountains}, "pteranodon": {SRDMountains}, "air elemental": {SRDMountains}, "pegasus": {SRDMountains},
	"wyvern": {SRDMountains, SRDHills}, "manticore": {SRDMountains}, "chimera": {SRDMountains}, "magma": {SRDMountains},
	"magmin": {SRDMountains},
	// Woods.
	"owl": {SRDForest}, "owlbear": {SRDForest}, "boar": {SRDForest}, "elk": {SRDForest}, "deer": {SRDForest},
	"bear": {SRDForest}, "panther": {SRDForest}, "tiger": {SRDForest}, "wolf": {SRDForest, SRDHills},
	"worg": {SRDForest, SRDHills}, "ape": {SRDForest}, "ettercap": {SRDForest}, "treant": {SRDForest},
	"awakened": {SRDForest}, "unicorn": {SRDForest}, "pseudodragon": {SRDForest}, "druid": {SRDForest},
	// Fields and town.
	"horse": {SRDFarmland}, "warhorse": {SRDFarmland}, "pony": {SRDFarmland}, "mule": {SRDFarmland},
	"ankheg": {SRDFarmland}, "axe beak": {SRDFarmland}, "cockatrice": {SRDFarmland}, "centaur": {SRDFarmland, SRDForest},
	"rat": {SRDTown, SRDRuins}, "rats": {SRDTown, SRDRuins}, "wererat": {SRDTown, SRDRuins}, "cat": {SRDTown},
	"mastiff": {SRDTown, SRDFarmland}, "commoner": {SRDTown}, "guard": {SRDTown}, "noble": {SRDTown},
	"spy": {SRDTown}, "assassin": {SRDTown}, "gladiator": {SRDTown}, "doppelganger": {SRDTown},
	"acolyte": {SRDTown}, "priest": {SRDTown},
	// Ruins.
	"cultist": {SRDRuins}, "warhorse skeleton": {SRDRuins}, "vampire": {SRDRuins}, "gargoyle": {SRDRuins}, "bandit": {SRDForest, SRDHills},
}

// srdHabitats returns where a creature of the SRD world lives: by colour for
// chromatic and metallic dragons, else by the first word or phrase of its
// name in srdNameHabitats, else by its type tag, else by its type
// (srdTypeHabitats); the Barrow Hills when nothing matches. The result is
// in map order and never empty.
func srdHabitats(name, typ, tag string) []string {
	words := strings.Fields(strings.ToLower(name))
	var out []string
	if typ == "dragon" && (tag == "chromatic" || tag == "metallic") {
		for _, w := range words {
			out = append(out, srdDragonColours[w]...)
		}
	}
	for i := 0; i < len(words) && len(out) == 0; i++ {
		if i+1 < len(words) {
			out = append(out, srdNameHabitats[words[i]+" "+words[i+1]]...)
		}
		if len(out) == 0 {
			out = append(out, srdNameHabitats[words[i]]...)
		}
	}
	if len(out) == 0 {
		out = append(out, srdTagHabitats[tag]...)
	}
	if len(out) == 0 {
		out = append(out, srdTypeHabitats[typ]...)
	}
	if len(out) == 0 {
		out = []string{SRDHills}
	}
	order := map[string]int{}
	for i, p := range srdPlaces() {
		order[p.ID] = i
	}
	slices.SortFunc(out, func(a, b string) int { return order[a] - order[b] })
	return slices.Compact(out)
}

// srdGoods are mundane, gatherable goods of the SRD world (values in gold
// pieces, one bundle as a quest counts it), so that gather quests have
// something to gather; magic items cannot be gathered.
func srdGoods() []Item {
	return []Item{
		{ID: "wild-herbs", Name: "Wild Herbs", Aliases: []string{"healing herbs", "herbs"}, Value: 1, Rarity: "common",
			Places: []string{SRDFarmland, SRDForest, SRDHills}, Reward: true},
		{ID: "iron-ore", Name: "Iron Ore", Aliases: []string{"ore"}, Value: 1, Rarity: "common",
			Places: []string{SRDMountains, SRDUnderdark}},
		{ID: "fine-furs", Name: "Fine Furs", Aliases: []string{"furs", "pelts"}, Value: 5, Rarity: "common",
			Places: []string{SRDForest, SRDArctic}, Reward: true},
		{ID: "marsh-lotus", Name: "Marsh Lotus", Aliases: []string{"lotus blossoms"}, Value: 10, Rarity: "uncommon",
			Places: []string{SRDSwamp}, Reward: true},
		{ID: "cave-pearls", Name: "Cave Pearls", Aliases: []string{"pearls"}, Value: 25, Rarity: "uncommon",
			Places: []string{SRDUnderdark, SRDCoast}, Reward: true},
		{ID: "sunstone-shards", Name: "Sunstone Shards", Aliases: []string{"sunstones"}, Value: 50, Rarity: "rare",
			Places: []string{SRDDesert}, Reward: true},
	}
}

// srdNPCs are the SRD world's quest givers.
func srdNPCs() []NPC {
	return []NPC{
		{ID: "halden-brook", Name: "Halden Brook", Aliases: []string{"Reeve Brook", "the reeve"}, Home: SRDTown,
			Faction: "crossroads-council", Alive: true, Motivations: []Motivation{Protection, Serenity, Reputation, Conquest}},
		{ID: "ysolde-amberlay", Name: "Ysolde Amberlay", Aliases: []string{"Mother Ysolde", "the priestess"}, Home: SRDTown,
			Faction: "dawnhouse", Alive: true, Motivations: []Motivation{Serenity, Protection, Knowledge}},
		{ID: "corin-ashby", Name: "Corin Ashby", Aliases: []string{"Guildmaster Ashby", "the guildmaster"}, Home: SRDTown,
			Faction: "waymark-guild", Alive: true, Motivations: []Motivation{Conquest, Reputation, Wealth, Ability}},
		{ID: "wren-thackery", Name: "Wren Thackery", Aliases: []string{"Wren", "the ranger"}, Home: SRDForest,
			Faction: "greenwatch", Alive: true, Motivations: []Motivation{Protection, Serenity, Knowledge}},
		{ID: "obed-quillon", Name: "Obed Quillon", Aliases: []string{"Master Quillon", "the sage"}, Home: SRDTown,
			Faction: "brasskey-archive", Alive: true, Motivations: []Motivation{Knowledge, Equipment}},
		{ID: "delphine-marrick", Name: "Delphine Marrick", Aliases: []string{"Mistress Marrick", "the merchant"}, Home: SRDCoast,
			Faction: "saltcliff-compact", Alive: true, Motivations: []Motivation{Wealth, Equipment, Comfort}},
		{ID: "tobiah-greenacre", Name: "Tobiah Greenacre", Aliases: []string{"Farmer Greenacre", "old Tobiah"}, Home: SRDFarmland,
			Faction: "greenacre-grange", Alive: true, Motivations: []Motivation{Comfort, Protection, Wealth}},
		{ID: "brenna-ironside", Name: "Brenna Ironside", Aliases: []string{"Old Brenna", "the old adventurer"}, Home: SRDHills,
			Faction: "waymark-guild", Alive: true, Motivations: []Motivation{Ability, Equipment, Reputation, Conquest, Knowledge}},
	}
}

// srdOthers are the factions the SRD world's quest givers belong to.
func srdOthers() map[string][]string {
	return map[string][]string{
		"crossroads-council": {"The Crossroads Council", "the council"},
		"dawnhouse":          {"The Dawnhouse", "the temple"},
		"waymark-guild":      {"The Waymark Guild", "the adventurers' guild"},
		"greenwatch":         {"The Greenwatch", "the rangers"},
		"brasskey-archive":   {"The Brasskey Archive", "the archive"},
		"saltcliff-compact":  {"The Saltcliff Compact", "the traders"},
		"greenacre-grange":   {"The Greenacre Grange", "the grange"},
	}
}

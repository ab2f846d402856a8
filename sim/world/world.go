// Package world embeds Hearth's demo world: Kettleford, a small river village
// at the only ford of the River Sallow, with the Gloamwood forest to the north
// and west and the Sallow Fens to the south.
//
// The content is plain data, not code:
//
//   - lore/*.md: lore documents in Markdown. Each starts with a YAML front
//     matter block naming its primary entity (id, type, name, aliases, tags,
//     region, secrecy) and any extra entities it declares. The documents
//     cover places, factions, history, creatures, items, events and people,
//     across three regions: kettleford, gloamwood and sallow-fens. Secrecy
//     ranges from 0 (public) through 1 (local knowledge) to 2 (secrets that
//     only some NPCs may know). One document, almanac-weather.md, has no front
//     matter at all, like a page imported from a wiki.
//   - npcs/*.yaml: NPC personas (role, traits, speech style, faction, home,
//     goals, secrets, greeting) with a knowledge scope that selects which
//     lore sources, regions, topic tags and secrecy levels each NPC may draw
//     on. Every NPC, faction and home is declared as an entity in the lore.
//   - quest.yaml: the game-mechanical layer quests are generated against
//     (DESIGN §8): the map graph of every lore place, challenge ratings and
//     habitats of the creatures, item values and gathering places, the quest
//     givers' homes and motivations, and every other proper noun of the lore.
//     It uses exactly the entity ids, names and aliases the lore declares.
//     Load it with quest.LoadWorld("kettleford", data).
//
// All of it is original material written for Hearth; it borrows no setting,
// names or text from any other game or book, and is distributed under the same
// licence as the rest of the Hearth repository (MIT; see LICENSE at the root).
package world

import (
	"embed"
	"io/fs"
)

// Source is the lore source name under which the demo world's documents are
// ingested. NPC knowledge scopes refer to it in knowledge.sources.
const Source = "village"

//go:embed lore npcs quest.yaml
var files embed.FS

// FS returns the demo world's files as a read-only file system rooted at this
// package: lore documents under lore/*.md, NPC personas under npcs/*.yaml
// and the quest world at quest.yaml. Paths are slash-separated, as io/fs
// requires. Ingesting lore from it with root "lore" sees only the lore
// documents.
func FS() fs.FS { return files }

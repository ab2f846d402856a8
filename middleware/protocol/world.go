package protocol

import "strconv"

// TypeWorldState reports, from a game server, the world around one NPC:
// what it holds, where it can go, who is near and which quests it may
// offer. Actions are validated against the latest report (issue 6:
// "validated against the NPC's allow-list and the world state the host
// reports"). The server answers with one [WorldAck] echoing its id.
const TypeWorldState = "world.state"

// Bounds of a [WorldState].
const (
	// MaxWorldEntries bounds each list of a world.state (items,
	// locations, present, quests).
	MaxWorldEntries = 256
	// MaxWorldNameBytes bounds an item's name.
	MaxWorldNameBytes = 256
)

// WorldState is the world around one NPC as the game server knows it; the
// latest report replaces the previous one for that NPC (in the
// connection's tenant). Only connections that are not bound to one player
// may send it: API keys (game servers) and open servers; a player's JWT
// gets [CodeForbidden].
type WorldState struct {
	// NPCID is the NPC the report is about. Required, up to [MaxIDBytes].
	NPCID string `json:"npc_id" msgpack:"npc_id"`
	// Items the NPC holds (give_item, trade), at most [MaxWorldEntries].
	Items []WorldItem `json:"items,omitempty" msgpack:"items,omitempty"`
	// Locations are the place ids it can reach (move_to); Present the
	// entity ids near it (follow, attack; the player it answers always
	// counts); Quests the quest ids it may offer (offer_quest). Each at
	// most [MaxWorldEntries] ids of 1..[MaxIDBytes] bytes.
	Locations []string `json:"locations,omitempty" msgpack:"locations,omitempty"`
	Present   []string `json:"present,omitempty" msgpack:"present,omitempty"`
	Quests    []string `json:"quests,omitempty" msgpack:"quests,omitempty"`
}

// WorldItem is one item an NPC holds.
type WorldItem struct {
	// Item is the item id, 1..[MaxIDBytes] bytes. Required.
	Item string `json:"item" msgpack:"item"`
	// Name is the words players use for it ("mug of ale"), up to
	// [MaxWorldNameBytes]; optional.
	Name string `json:"name,omitempty" msgpack:"name,omitempty"`
	// Count is how many it holds; Price its asking price in the smallest
	// coin (0: not for sale).
	Count uint32 `json:"count" msgpack:"count"`
	Price uint32 `json:"price,omitempty" msgpack:"price,omitempty"`
}

// Type returns [TypeWorldState].
func (WorldState) Type() string { return TypeWorldState }

// Validate checks the limits documented on the fields.
func (m WorldState) Validate() error {
	if err := checkString("world.state.npc_id", m.NPCID, 1, MaxIDBytes); err != nil {
		return err
	}
	if n := len(m.Items); n > MaxWorldEntries {
		return countError("world.state.items", n, MaxWorldEntries)
	}
	for i, it := range m.Items {
		f := "world.state.items[" + strconv.Itoa(i) + "]"
		if err := checkString(f+".item", it.Item, 1, MaxIDBytes); err != nil {
			return err
		}
		if err := checkString(f+".name", it.Name, 0, MaxWorldNameBytes); err != nil {
			return err
		}
	}
	for _, l := range [...]struct {
		name string
		ids  []string
	}{{"world.state.locations", m.Locations}, {"world.state.present", m.Present}, {"world.state.quests", m.Quests}} {
		if n := len(l.ids); n > MaxWorldEntries {
			return countError(l.name, n, MaxWorldEntries)
		}
		for _, id := range l.ids {
			if err := checkString(l.name+"[]", id, 1, MaxIDBytes); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *WorldState) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "npc_id":
		m.NPCID, err = r.str("world.state.npc_id")
	case "items":
		var n int
		if n, err = r.arrayLen("world.state.items"); err != nil {
			return err
		}
		if n > MaxWorldEntries { // before allocating
			return countError("world.state.items", n, MaxWorldEntries)
		}
		m.Items = make([]WorldItem, n)
		for i := range m.Items {
			if err = r.decodeMap("world.state.items[]", &m.Items[i]); err != nil {
				return err
			}
		}
	case "locations", "present", "quests":
		var n int
		field := "world.state." + string(key)
		if n, err = r.arrayLen(field); err != nil {
			return err
		}
		if n > MaxWorldEntries {
			return countError(field, n, MaxWorldEntries)
		}
		ids := make([]string, n)
		for i := range ids {
			if ids[i], err = r.str(field + "[]"); err != nil {
				return err
			}
		}
		switch string(key) {
		case "locations":
			m.Locations = ids
		case "present":
			m.Present = ids
		default:
			m.Quests = ids
		}
	default:
		err = r.skip()
	}
	return err
}

func (m *WorldItem) decodeField(r *mpReader, key []byte) (err *Error) {
	switch string(key) {
	case "item":
		m.Item, err = r.str("world.state.items[].item")
	case "name":
		m.Name, err = r.str("world.state.items[].name")
	case "count":
		m.Count, err = r.uint32("world.state.items[].count")
	case "price":
		m.Price, err = r.uint32("world.state.items[].price")
	default:
		err = r.skip()
	}
	return err
}

func (m WorldState) appendMsgpack(b []byte) []byte {
	n := 1 + boolInt(len(m.Items) > 0) + boolInt(len(m.Locations) > 0) + boolInt(len(m.Present) > 0) + boolInt(len(m.Quests) > 0)
	b = mpAppendKV(mpAppendMapHeader(b, n), "npc_id", m.NPCID)
	if len(m.Items) > 0 {
		b = mpAppendArrayHeader(mpAppendStr(b, "items"), len(m.Items))
		for _, it := range m.Items {
			b = mpAppendMapHeader(b, 2+boolInt(it.Name != "")+boolInt(it.Price != 0))
			b = mpAppendKV(b, "item", it.Item)
			if it.Name != "" {
				b = mpAppendKV(b, "name", it.Name)
			}
			b = mpAppendUint(mpAppendStr(b, "count"), uint64(it.Count))
			if it.Price != 0 {
				b = mpAppendUint(mpAppendStr(b, "price"), uint64(it.Price))
			}
		}
	}
	for _, l := range [...]struct {
		key string
		ids []string
	}{{"locations", m.Locations}, {"present", m.Present}, {"quests", m.Quests}} {
		if len(l.ids) > 0 {
			b = mpAppendStrs(mpAppendStr(b, l.key), l.ids)
		}
	}
	return b
}

func (m WorldState) appendJSON(b []byte) []byte {
	b = jsAppendKV(append(b, '{'), "npc_id", m.NPCID, true)
	if len(m.Items) > 0 {
		b = append(jsAppendKey(b, "items", false), '[')
		for i, it := range m.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsAppendKV(append(b, '{'), "item", it.Item, true)
			if it.Name != "" {
				b = jsAppendKV(b, "name", it.Name, false)
			}
			b = strconv.AppendUint(jsAppendKey(b, "count", false), uint64(it.Count), 10)
			if it.Price != 0 {
				b = strconv.AppendUint(jsAppendKey(b, "price", false), uint64(it.Price), 10)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	for _, l := range [...]struct {
		key string
		ids []string
	}{{"locations", m.Locations}, {"present", m.Present}, {"quests", m.Quests}} {
		if len(l.ids) > 0 {
			b = jsAppendStrs(jsAppendKey(b, l.key, false), l.ids)
		}
	}
	return append(b, '}')
}

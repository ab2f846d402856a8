package corpus

import (
	"math/rand/v2"
	"strings"

	"github.com/hearth-ai/hearth/npc"
)

// voice is how an NPC opens an answer and says it does not know, drawn
// from its traits and speech style. Leads carry no information: the facts
// come only from the copied lore sentence.
type voice struct {
	leads    []string // before a lore answer; "" is a plain answer
	dontKnow []string // whole replies; {v} is the vocative
	vocative string   // how the NPC addresses people ("pet", "sir"), or ""
}

// traitVoices maps trait words (and speech-style words) to extra leads
// and don't-know lines. Matching is by substring of the lower-cased
// traits and speech style.
var traitVoices = []struct {
	keys     []string
	leads    []string
	dontKnow []string
}{
	{[]string{"jovial", "gossip", "warm", "rolling"},
		[]string{"Ah, now.", "Oh, that one I can tell you.", "Well now, here's the thing.", "Sit, sit.", "Ha! Easy."},
		[]string{"Ha! You've stumped me there, {v}. I don't know.", "Now that I've never heard tell of.", "Not a whisper of that has reached me, and I hear most things."}},
	{[]string{"blunt", "exacting", "hammer", "proud"},
		[]string{"Listen.", "Plainly:", "Right.", "Short answer:"},
		[]string{"Don't know.", "Not my business. I don't know it.", "Cold copper. I can't tell you that."}},
	{[]string{"curious", "eager", "pedantic", "excitable"},
		[]string{"Fascinating question!", "Oh! Yes, yes.", "Ah, I know this one.", "Oh, splendid."},
		[]string{"Oh dear. I have no record of that at all.", "I'm afraid my notes say nothing of it.", "Fascinating, but I simply don't know."}},
	{[]string{"serene", "perceptive", "grieving", "soft, slow"},
		[]string{"Softly, then.", "Be still, and hear it.", "Hm.", "The Lamp shows me this."},
		[]string{"That lies beyond my lamp's light. I do not know.", "I cannot say. It is hidden from me.", "Some doors I have never opened. I do not know."}},
	{[]string{"soft-spoken", "halting", "guilt"},
		[]string{"Well...", "Hm... aye.", "Let me think... yes.", "Aye, {v}."},
		[]string{"I... don't rightly know, {v}.", "Can't say I know that, {v}.", "That's past me, I'm afraid."}},
	{[]string{"sardonic", "wise", "riddle", "proverb"},
		[]string{"Well now.", "Hah.", "Listen close, for I'll say it once.", "Even the raven knows this."},
		[]string{"Even Magistrate doesn't know that one, and he knows most things.", "The wood keeps that to itself. I do not know.", "Not a thing I know, and I know a great many."}},
	{[]string{"dutiful", "formal", "clipped", "stubborn"},
		[]string{"For the record:", "Understood.", "Noted. Here it is.", "Very well, {v}."},
		[]string{"No record of that, {v}.", "That is not something I know.", "I cannot answer that, {v}."}},
	{[]string{"devout", "fen", "water knows"},
		[]string{"Pole steady, then.", "The water knows, and so do I.", "Hm. Listen.", "Aye, {v}."},
		[]string{"The water hasn't told me that one, {v}.", "I don't know, and I'll not guess.", "Not a thing I know."}},
}

var neutralLeads = []string{"", "", "Aye.", "Well.", "Hm.", "I can tell you that.", "Yes.", "So.", "Ah."}

var neutralDontKnow = []string{
	"I don't know.",
	"I couldn't tell you that.",
	"That I don't know, {v}.",
	"Never heard of it.",
	"I know nothing of that.",
	"Can't help you there; I don't know.",
}

func newVoice(d npc.Definition) voice {
	text := strings.ToLower(strings.Join(d.Traits, " ") + " " + d.SpeechStyle)
	v := voice{vocative: vocative(d.SpeechStyle), leads: append([]string(nil), neutralLeads...),
		dontKnow: append([]string(nil), neutralDontKnow...)}
	for _, tv := range traitVoices {
		for _, k := range tv.keys {
			if strings.Contains(text, k) {
				// Trait lines twice: the NPC's own voice outweighs the neutral one.
				v.leads = append(v.leads, tv.leads...)
				v.leads = append(v.leads, tv.leads...)
				v.dontKnow = append(v.dontKnow, tv.dontKnow...)
				v.dontKnow = append(v.dontKnow, tv.dontKnow...)
				break
			}
		}
	}
	return v
}

// fill puts the vocative (or "friend") for {v}.
func (v voice) fill(s string) string {
	voc := v.vocative
	if voc == "" {
		voc = "friend"
	}
	return strings.ReplaceAll(s, "{v}", voc)
}

func (v voice) lead(rng *rand.Rand) string { return v.fill(v.leads[rng.IntN(len(v.leads))]) }

func (v voice) unknown(rng *rand.Rand) string { return v.fill(v.dontKnow[rng.IntN(len(v.dontKnow))]) }

// vocative extracts how a speech style says the NPC addresses people: the
// first short quoted word after "call" or "address" (e.g. Calls everyone
// "pet"), or "".
func vocative(style string) string {
	low := strings.ToLower(style)
	k := strings.Index(low, "call")
	if a := strings.Index(low, "address"); a >= 0 && (k < 0 || a < k) {
		k = a
	}
	if k < 0 {
		return ""
	}
	rest := style[k:]
	for _, q := range [][2]string{{"\"", "\""}, {"“", "”"}, {"'", "'"}, {"‘", "’"}} {
		a := strings.Index(rest, q[0])
		if a < 0 || a > 40 {
			continue
		}
		inner := rest[a+len(q[0]):]
		b := strings.Index(inner, q[1])
		if b <= 0 || b > 20 || strings.Count(inner[:b], " ") > 1 {
			continue
		}
		return inner[:b]
	}
	return ""
}

// playerNames are the names players give (invented for Hearth, varied in
// origin and length).
var playerNames = []string{
	"Aria", "Tomas", "Mira", "Jory", "Elsbeth", "Kade", "Wren", "Osk", "Lio", "Sabine",
	"Doran", "Fen", "Ilsa", "Rook", "Maelis", "Tamsin", "Cormac", "Yara", "Bex", "Halden",
	"Nim", "Corra", "Ansel", "Petra", "Quill", "Reyna", "Sorrel", "Tobin", "Ulla", "Vash",
}

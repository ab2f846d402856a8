package openaiserve

import (
	"strings"

	"github.com/hearth-ai/hearth/inference"
)

// Recognising Hearth's own NPC prompts (npc/prompts/npc.dialogue@1,
// npc.bark@1 and their -small variants), which inference/openai sends as a
// single user message. Layout, stable part first:
//
//	You are <Name>, <Role>[ of <Home>][, of the <Faction>].
//	Traits: <t1>, <t2>.
//	Speech: <style>
//	[Goals: …] [Secrets you must never reveal: …]
//	Rules: …
//
//	Lore you know:            (or "Lore:")
//	- [<h1> > <h2>] <text>
//
//	What you remember of this traveller:   (or "You remember:")
//	- <memory>
//
//	<Player|A stranger>[ (you have met before)] says: <line>
//	<Name>:
//
// A bark ends with "Occasion: <occasion>." and "<Name> (aloud):" instead.

// Section headers of Hearth prompts.
var (
	loreHeaders   = []string{"Lore you know:", "Lore:"}
	memoryHeaders = []string{"What you remember of this traveller:", "You remember:"}
)

const (
	saysMarker     = " says: "
	occasionPrefix = "Occasion: "
	metBefore      = " (you have met before)"
	aloudSuffix    = " (aloud):"
)

// isHearthPrompt reports whether s has the shape of a complete Hearth NPC
// prompt: it starts with "You are ", has a "Rules: " line, a player line
// (" says: ") or an occasion line, and ends with the speaker cue "<Name>:".
func isHearthPrompt(s string) bool {
	if !strings.HasPrefix(s, "You are ") || !strings.Contains(s, "\nRules: ") {
		return false
	}
	if !strings.Contains(s, saysMarker) && !strings.Contains(s, "\n"+occasionPrefix) {
		return false
	}
	body := strings.TrimRight(s, "\n")
	last := body[strings.LastIndexByte(body, '\n')+1:]
	return len(last) > 1 && strings.HasSuffix(last, ":") && !strings.Contains(last, saysMarker)
}

// parseHearthPrompt fills req's structured fields from a Hearth prompt
// (isHearthPrompt is true): Intent (bark for an occasion, else dialogue),
// Persona Name, Role, Home, Faction, Traits and SpeechStyle, Facts (heading
// and text), Memories (text), PlayerName, Returning, UserText (the player's
// line, which may span lines) and PrefixBytes (up to the first blank line,
// as npc computes it). It is best effort: a field it cannot find keeps its
// value, and a name containing the separators it splits on may be cut
// short. Backends that read Prompt are unaffected.
func parseHearthPrompt(prompt string, req *inference.Request) {
	req.PrefixBytes = max(strings.Index(prompt, "\n\n"), 0)
	lines := strings.Split(strings.TrimRight(prompt, "\n"), "\n")
	cue := strings.TrimSuffix(lines[len(lines)-1], ":")
	lines = lines[:len(lines)-1]
	req.Intent = inference.IntentDialogue
	if name, ok := strings.CutSuffix(cue+":", aloudSuffix); ok {
		cue = name
		req.Intent = inference.IntentBark
	}
	p := &req.Persona
	p.Name = cue

	// Persona lines up to the blank line that ends the stable part.
	i := 0
	for ; i < len(lines) && lines[i] != ""; i++ {
		ln := lines[i]
		switch {
		case i == 0:
			rest := strings.TrimPrefix(ln, "You are ")
			rest = strings.TrimPrefix(rest, p.Name+", ")
			rest = strings.TrimSuffix(rest, ".")
			if r, faction, ok := strings.Cut(rest, ", of the "); ok {
				rest, p.Faction = r, faction
			}
			if j := strings.LastIndex(rest, " of "); j >= 0 {
				rest, p.Home = rest[:j], rest[j+len(" of "):]
			}
			p.Role = rest
		case strings.HasPrefix(ln, "Traits: "):
			p.Traits = nil
			for _, t := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(ln, "Traits: "), "."), ", ") {
				if t = strings.TrimSpace(t); t != "" {
					p.Traits = append(p.Traits, t)
				}
			}
		case strings.HasPrefix(ln, "Speech: "):
			p.SpeechStyle = strings.TrimPrefix(ln, "Speech: ")
		}
	}

	// Lore and memory sections, then the volatile part (the player's line
	// or the occasion), which is the first line after a blank line that is
	// neither a section header nor a list item.
	const (
		none = iota
		lore
		memory
	)
	mode, afterBlank := none, false
	var facts []inference.Fact
	var mems []inference.Memory
	for ; i < len(lines); i++ {
		ln := lines[i]
		switch {
		case ln == "":
			afterBlank = true
			continue
		case hasAny(ln, loreHeaders):
			mode = lore
		case hasAny(ln, memoryHeaders):
			mode = memory
		case afterBlank && (strings.Contains(ln, saysMarker) || strings.HasPrefix(ln, occasionPrefix)):
			parseVolatile(lines[i:], req)
			i = len(lines)
		case mode == lore && strings.HasPrefix(ln, "- ["):
			heading, text, _ := strings.Cut(strings.TrimPrefix(ln, "- ["), "] ")
			facts = append(facts, inference.Fact{Heading: strings.Split(heading, " > "), Text: text})
		case mode == memory && strings.HasPrefix(ln, "- "):
			mems = append(mems, inference.Memory{Text: strings.TrimPrefix(ln, "- ")})
		case mode == lore && len(facts) > 0: // a fact spanning lines
			facts[len(facts)-1].Text += "\n" + ln
		case mode == memory && len(mems) > 0:
			mems[len(mems)-1].Text += "\n" + ln
		}
		afterBlank = false
	}
	if facts != nil {
		req.Facts = facts
	}
	if mems != nil {
		req.Memories = mems
	}
}

// parseVolatile reads the player's line ("<who> says: <line>", the line
// continuing to the cue) or a bark's occasion (which is not a player line:
// UserText is left empty).
func parseVolatile(lines []string, req *inference.Request) {
	first := lines[0]
	if strings.HasPrefix(first, occasionPrefix) {
		req.UserText = ""
		return
	}
	who, line, _ := strings.Cut(first, saysMarker)
	if w, ok := strings.CutSuffix(who, metBefore); ok {
		who, req.Returning = w, true
	}
	if who != "A stranger" {
		req.PlayerName = who
	}
	req.UserText = strings.Join(append([]string{line}, lines[1:]...), "\n")
}

func hasAny(s string, set []string) bool {
	for _, h := range set {
		if s == h {
			return true
		}
	}
	return false
}

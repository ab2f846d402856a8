package inference

import "strings"

// SmallLoreWords is the most words of one lore sentence a small prompt
// (Request.SmallPrompt, npc.dialogue-small) shows: a longer sentence is cut
// to its first SmallLoreWords words. The embedded model's 512-token
// context holds three such sentences beside the persona.
const SmallLoreWords = 60

// SplitSentences cuts lore text into sentences exactly as the small
// prompts show them, one per line: at a '.', '!' or '?' followed by white
// space, and at every line break (list items and table rows are units of
// their own). Markdown list and table markers are trimmed; empty pieces
// and table rules are dropped; runs of white space become one space. A
// sentence longer than SmallLoreWords words is cut to that many words.
// The npc package renders small prompts with it, the corpus generator
// finds a sentence in a prompt with it, and the embedded engine's quote
// lock finds the sentences a prompt shows with it.
func SplitSentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "-*#>|"))
		if line == "" || strings.Trim(line, "|-: ") == "" {
			continue
		}
		start := 0
		for i := 0; i < len(line); i++ {
			c := line[i]
			if (c == '.' || c == '!' || c == '?') && (i+1 == len(line) || line[i+1] == ' ') {
				out = appendSentence(out, line[start:i+1])
				start = i + 1
			}
		}
		out = appendSentence(out, line[start:])
	}
	return out
}

func appendSentence(out []string, s string) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return out
	}
	if f := strings.Fields(s); len(f) > SmallLoreWords {
		s = strings.Join(f[:SmallLoreWords], " ")
	} else {
		s = strings.Join(f, " ")
	}
	return append(out, s)
}

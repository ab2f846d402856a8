package npc

import (
	"strings"

	"github.com/hearth-ai/hearth/inference"
)

// makeShareable decides whether the answer to req may be shared with every
// player who says the same line to this NPC, strips what would make it
// personal, and reports the decision; Prepare then sets req.CacheKey
// (inference.ExactKey) so the Router's response cache can serve it. The
// policy (issue 8: the cache tier must not change what an NPC would say
// to this player):
//
//   - A question (IntentDialogue) that is not about the player or the past
//     ("do you remember…") and that no memory bears on (anyRelevant) is
//     answered from lore alone: memories, the player's name and the
//     returning flag are dropped from the request, so every player asking
//     it gets the same answer.
//   - Any other line to an NPC that has no memory of the player (a first
//     meeting: a greeting, a farewell) is shareable as it is: the key
//     carries the player's name, and nothing else about them.
//   - Anything else (a returning player's greeting, which recalls what
//     they said last time; a question their own history bears on) is
//     personal and never cached.
//
// It runs before the prompt is rendered, so the prompt matches the request.
func makeShareable(req *inference.Request, recent []memory) bool {
	if req.Intent == inference.IntentDialogue {
		if terms := contentTerms(req.UserText); !asksAboutPast(terms) && !anyRelevant(recent, terms) {
			req.Memories, req.PlayerName, req.Returning = nil, "", false
			return true
		}
	}
	return len(req.Memories) == 0
}

// asksAboutPast reports whether a line with these content terms asks
// about the player's history with the NPC, which only memories can answer.
func asksAboutPast(terms map[string]bool) bool {
	for w := range terms {
		switch w {
		case "remember", "recall", "recognise", "recognize", "forget", "forgot", "forgotten", "last", "before", "again":
			return true
		}
	}
	return false
}

// anyRelevant reports whether any of the player's own remembered lines
// bears on a line with the given content terms: contains at least half of
// them (both forms of a plural count once). One shared word is not enough
// — a place name the player once mentioned would tie every later question
// about that place to them — while a line asking the same, or telling the
// NPC something about the topic, passes.
func anyRelevant(mems []memory, terms map[string]bool) bool {
	want := 0
	for w := range terms {
		if !terms[w+"s"] { // count "wolf" and "wolves"… once: skip the stem when the plural is there
			want++
		}
	}
	if want == 0 {
		return false
	}
	for i := range mems {
		if mems[i].rec.Speaker == "npc" {
			// The NPC's own past answers came from lore, which a new
			// answer is grounded in anyway; what makes a question personal
			// is what the player said.
			continue
		}
		shared := 0
		for _, w := range mems[i].terms {
			if terms[w] || terms[strings.TrimSuffix(w, "s")] {
				shared++
			}
		}
		if 2*shared >= want {
			return true
		}
	}
	return false
}

// functionWords are the words of four letters or more that carry no topic:
// they do not make a memory relevant to a question.
var functionWords = map[string]bool{
	"what": true, "when": true, "where": true, "which": true, "whom": true, "whose": true,
	"that": true, "this": true, "there": true, "these": true, "those": true, "then": true, "than": true,
	"have": true, "your": true, "yours": true, "about": true, "tell": true, "know": true, "with": true,
	"from": true, "into": true, "does": true, "will": true, "would": true, "could": true, "should": true,
	"they": true, "them": true, "their": true, "were": true, "been": true, "some": true, "any": true,
	"said": true, "answered": true, "heard": true, "lately": true, "here": true, "just": true,
}

// contentTerms returns the words of s (lowercased, four letters or more)
// that are not function words: the words a memory must share to be
// relevant to s.
func contentTerms(s string) map[string]bool {
	out := map[string]bool{}
	for w := range termSet(s) {
		if len(w) >= 4 && !functionWords[w] {
			out[strings.TrimSuffix(w, "s")] = true
			out[w] = true
		}
	}
	return out
}

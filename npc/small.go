package npc

import (
	"sort"
	"strings"

	"github.com/hearth-ai/hearth/inference"
)

// The prompts for small-context models (inference.Request.SmallPrompt).
const (
	SmallDialoguePrompt = "npc.dialogue-small"
	SmallBarkPrompt     = "npc.bark-small"
)

// Sizes of a small prompt's volatile part. The stable prefix (persona and
// rules) is about 150 tokens; these keep the whole prompt near 200-250
// tokens, the shape the embedded model's latency target is set for
// (issue 3: a 200-token prompt whose first 150 tokens are cached).
const (
	smallLoreWords     = inference.SmallLoreWords // words of lore sentences at most
	smallLoreSentences = 3                        // sentences at most
	smallMemories      = 2                        // memories at most
)

// smallLore is one retrieved sentence as npc.*-small prompts show it.
type smallLore struct {
	Heading []string
	Text    string
}

// smallStopwords are question words that would otherwise make every
// sentence look relevant to every question.
var smallStopwords = map[string]bool{
	"the": true, "and": true, "you": true, "your": true, "what": true, "who": true, "whom": true,
	"where": true, "when": true, "why": true, "how": true, "which": true, "about": true,
	"tell": true, "know": true, "does": true, "did": true, "are": true, "was": true, "were": true,
	"can": true, "could": true, "would": true, "there": true, "this": true, "that": true,
	"have": true, "has": true, "any": true, "for": true, "with": true, "from": true, "its": true,
	"true": true, "heard": true, "hear": true, "say": true, "said": true, "they": true, "them": true,
}

// selectSentences picks the sentences of facts (ranked best first) that
// bear most on query, at most smallLoreSentences and smallLoreWords words,
// and returns them best first. A sentence scores 2 per query term it has
// that its fact's heading lacks, 1 per query term in the heading, and a
// fraction for density (the share of its terms the query has), as the
// template floor scores units (inference/template findAnswer): a question
// that names a section ("the knocking of Crookwheel Mill") is answered by
// the sentence that adds "knocking", not by the section's first line.
//
// Best first, not in reading order, because the small model answers by
// copying a lore line, and copying the first one is what it learns most
// reliably: on the held-out lore questions (npc/corpus/testdata/eval.jsonl)
// the first line holds the asked fact in 97 % of prompts, against 73 % in
// reading order by raw term overlap.
//
// Sentences sharing no term are never picked: a small model given an
// unrelated sentence tends to answer from it, while an empty lore section
// tells it to say it does not know. An empty query (a bark) takes the
// leading sentences of the best facts.
func selectSentences(facts []inference.Fact, query string) []smallLore {
	q := termSet(query)
	for w := range q {
		if smallStopwords[w] {
			delete(q, w)
		}
	}
	type cand struct {
		fact, pos, score, words int
		text                    string
	}
	var cands []cand
	for fi, f := range facts {
		head := map[string]bool{}
		for _, h := range f.Heading {
			for w := range termSet(h) {
				if q[w] {
					head[w] = true
				}
			}
		}
		for si, s := range inference.SplitSentences(f.Text) {
			score := 0
			if len(q) > 0 {
				shared := 0
				terms := termSet(s)
				for w := range terms {
					if q[w] {
						shared++
						if !head[w] {
							score += 2
						}
					}
				}
				if shared == 0 {
					continue
				}
				score = 4*(score+len(head)) + 4*shared/max(len(terms), 1)
			}
			cands = append(cands, cand{fi, si, score, len(strings.Fields(s)), s})
		}
	}
	// Best score first; ties go to the better-ranked fact, then the earlier sentence.
	sort.SliceStable(cands, func(i, j int) bool {
		if cands[i].score != cands[j].score {
			return cands[i].score > cands[j].score
		}
		if cands[i].fact != cands[j].fact {
			return cands[i].fact < cands[j].fact
		}
		return cands[i].pos < cands[j].pos
	})
	var picked []cand
	words := 0
	for _, c := range cands {
		if len(picked) == smallLoreSentences {
			break
		}
		if words+c.words > smallLoreWords && len(picked) > 0 {
			continue
		}
		picked = append(picked, c)
		words += c.words
	}
	out := make([]smallLore, len(picked))
	for i, c := range picked {
		out[i] = smallLore{Heading: facts[c.fact].Heading, Text: c.text}
	}
	return out
}

// renderSmall renders name (npc.dialogue-small or npc.bark-small) for req
// into req.SmallPrompt and req.SmallPrefixBytes. The sentences come from
// req.Facts by their overlap with query. A render error is returned (the
// caller fails the turn, as for the full prompt) and leaves the small
// prompt empty.
func (a *Agent) renderSmall(req *inference.Request, name, query string, data promptData) error {
	data.Persona.Secrets = nil // a small model is never told what it must not say
	data.Lore = selectSentences(req.Facts, query)
	if len(data.Memories) > smallMemories {
		data.Memories = data.Memories[:smallMemories]
	}
	text, ref, err := a.deps.Prompts.RenderFor(name, req.PlayerID, data)
	if err != nil {
		return err
	}
	req.SmallPrompt, req.SmallPrefixBytes, req.SmallPromptHash = text, stablePrefix(text), ref.Hash
	return nil
}

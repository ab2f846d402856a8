package corpus

import (
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// Counterfactual lore items teach a small model to copy from its prompt
// instead of reciting what it memorised. Every lore sentence of a world is
// asked about many times, so a model can lower its training loss by
// memorising the answers, and then answers a question about a sentence it
// never saw with a sentence it did. In a counterfactual copy of an item,
// a few content words of the answer (names, numbers, long words) are
// replaced, consistently in the lore, the question and the answer, by other
// words of the same kind from the world: the answer is then found only in
// the prompt. This is the counterfactual data augmentation used to make
// readers grounded in their context (Longpre et al. 2021, "Entity-Based
// Knowledge Conflicts in Question Answering").

// wordPools are the replacement words of a world, by kind.
type wordPools struct {
	names, numbers, words []string
}

var wordRE = regexp.MustCompile(`[\p{L}\p{N}][\p{L}\p{N}'-]*`)

// buildPools collects the distinct names (capitalised words), numbers and
// long lowercase words of the sentences, sorted so that the pools, and the
// corpus, are the same for the same world.
func buildPools(sents []*sentence) *wordPools {
	names, numbers, words := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range sents {
		for i, w := range wordRE.FindAllString(s.text, -1) {
			switch wordKind(w, i == 0) {
			case 'N':
				names[w] = true
			case '0':
				numbers[w] = true
			case 'w':
				words[w] = true
			}
		}
	}
	return &wordPools{names: slices.Sorted(maps.Keys(names)), numbers: slices.Sorted(maps.Keys(numbers)),
		words: slices.Sorted(maps.Keys(words))}
}

// wordKind classifies a word: 'N' a name (capitalised, not the sentence's
// first word), '0' a number, 'w' a content word of 6+ letters, 0 other.
func wordKind(w string, first bool) byte {
	r := []rune(w)
	switch {
	case unicode.IsDigit(r[0]):
		for _, c := range r {
			if !unicode.IsDigit(c) {
				return 0
			}
		}
		return '0'
	case unicode.IsUpper(r[0]) && !first && len(r) >= 3:
		return 'N'
	case unicode.IsLower(r[0]) && len(r) >= 6 && !strings.ContainsAny(w, "'-"):
		return 'w'
	}
	return 0
}

// counterfactual returns a copy of a lore_qa item with one to maxWords
// content words of its fact replaced everywhere after the stable prefix
// and in the response; ok is false when the fact has no replaceable word.
func (p *wordPools) counterfactual(it Item, rng *rand.Rand, maxWords int) (Item, bool) {
	var cands []string
	seen := map[string]bool{}
	for i, w := range wordRE.FindAllString(it.Fact, -1) {
		if k := wordKind(w, i == 0); k != 0 && !seen[w] {
			seen[w] = true
			cands = append(cands, w)
		}
	}
	if len(cands) == 0 {
		return it, false
	}
	rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	n := 1 + rng.IntN(min(maxWords, len(cands)))
	head, tail := it.Prompt[:it.PrefixBytes], it.Prompt[it.PrefixBytes:]
	for _, w := range cands[:n] {
		var pool []string
		switch wordKind(w, false) {
		case 'N':
			pool = p.names
		case '0':
			pool = p.numbers
		default:
			pool = p.words
		}
		if len(pool) < 2 {
			continue
		}
		repl := pool[rng.IntN(len(pool))]
		if repl == w || strings.Contains(tail, repl) {
			continue // a replacement already in the prompt would make two answers
		}
		re := regexp.MustCompile(`\b` + regexp.QuoteMeta(w) + `\b`)
		tail = re.ReplaceAllLiteralString(tail, repl)
		it.Response = re.ReplaceAllLiteralString(it.Response, repl)
		it.Fact = re.ReplaceAllLiteralString(it.Fact, repl)
	}
	if head+tail == it.Prompt {
		return it, false
	}
	it.Prompt = head + tail
	return it, true
}

// Spliced lore items go further than counterfactual ones: the answer is a
// sentence no world holds, the head of the asked fact (up to a word between
// a third and two thirds of it) joined to the tail of another trainable
// sentence, replaced in the prompt's lore and the answer alike. A model that
// recites from memory gets the head right and the tail wrong, so the loss
// falls only where it copies from the prompt: the failure the eval showed
// (the reply begins as the asked line and ends as a memorised one, or is a
// memorised line altogether). Held-out sentences are never donors.

// splicer makes spliced copies from the trainable sentences of a world.
type splicer struct {
	donors [][]string // words of every trainable sentence of 6+ words, in the world's order
}

func newSplicer(sents []*sentence) *splicer {
	s := &splicer{}
	for _, sn := range sents {
		if sn.noTrain {
			continue
		}
		if w := strings.Fields(sn.text); len(w) >= 6 {
			s.donors = append(s.donors, w)
		}
	}
	return s
}

// splice returns a spliced copy of a lore_qa item; ok is false when its
// fact is too short to cut, or is not in both its prompt's lore and its
// response.
func (s *splicer) splice(it Item, rng *rand.Rand) (Item, bool) {
	words := strings.Fields(it.Fact)
	if len(words) < 6 || len(s.donors) == 0 {
		return it, false
	}
	if !factInBoth(it) {
		return it, false
	}
	donor := s.donors[rng.IntN(len(s.donors))]
	cut := len(words)/3 + rng.IntN(len(words)/3+1)
	from := len(donor)/3 + rng.IntN(len(donor)/3+1)
	return replaceFact(it, strings.Join(words[:cut], " ")+" "+strings.Join(donor[from:], " "))
}

// factInBoth reports whether a lore_qa item's fact is in both its
// prompt's lore (after the stable prefix) and its response: what a copy
// that replaces the fact needs.
func factInBoth(it Item) bool {
	return strings.Contains(it.Prompt[it.PrefixBytes:], it.Fact) && strings.Contains(it.Response, it.Fact)
}

// replaceFact returns it with its fact replaced by fact in the prompt's
// lore and the response; ok is false when fact is the same or already in
// the lore (two answers).
func replaceFact(it Item, fact string) (Item, bool) {
	head, tail := it.Prompt[:it.PrefixBytes], it.Prompt[it.PrefixBytes:]
	if fact == it.Fact || strings.Contains(tail, fact) {
		return it, false
	}
	it.Prompt = head + strings.ReplaceAll(tail, it.Fact, fact)
	it.Response = strings.ReplaceAll(it.Response, it.Fact, fact)
	it.Fact = fact
	return it, true
}

// shuffled returns a copy of a lore_qa item whose fact's words are put in
// a random order, in the prompt's lore and the answer alike; ok is false
// when the fact has fewer than four words or is not in both. The copy keeps
// every word the question shares with the fact, and no memorised sentence
// gives its order: the whole answer must be copied, word by word, from the
// prompt. Spliced and counterfactual copies leave most of the answer to
// memory once its first changed word is copied; this one leaves none.
func shuffled(it Item, rng *rand.Rand) (Item, bool) {
	words := strings.Fields(it.Fact)
	if len(words) < 4 {
		return it, false
	}
	if !factInBoth(it) {
		return it, false
	}
	rng.Shuffle(len(words), func(i, j int) { words[i], words[j] = words[j], words[i] })
	return replaceFact(it, strings.Join(words, " "))
}

// Drill returns the item without its stable prefix (the persona and the
// rules): the lore lines, the line and the speaker, then the same reply.
// A corpus of the perturbed lore answers as drills (hearth corpus -drills)
// is short and nearly all copying, so that a model trained on it from
// scratch learns to copy from its prompt before it learns the personas
// (docs/models.md, stage 1).
func (it Item) Drill() Item {
	it.Prompt = strings.TrimLeft(it.Prompt[it.PrefixBytes:], "\n")
	it.PrefixBytes = 0
	return it
}

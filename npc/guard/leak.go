package guard

import (
	"hash/fnv"
	"sort"
	"strings"
)

// stopwords are dropped from content tokens: function words, pronouns,
// auxiliaries and the commonest verbs, which say nothing distinctive.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but nor so yet if then else than that this these those
		there here where when while what which who whom whose why how of in on at to from by for with without
		about above below over under into onto upon off out up down near across after before since until
		as is are was were be been being am do does did done doing have has had having will would shall
		should can could may might must not no nor only own same too very just also even ever still again
		i me my mine myself you your yours yourself we us our ours he him his himself she her hers herself
		it its itself they them their theirs themselves one ones some any all each every both few more most
		other such s t d ll m re ve dont didnt doesnt isnt wasnt arent werent cant couldnt wont wouldnt
		shouldnt aye nay oh ah well yes say said says tell told know knows knew go goes went gone get got
		come came make made take took see saw seen like one two way thing things now never always`) {
		m[w] = true
	}
	return m
}()

// stem strips a few English endings so "leader" meets "lead" and
// "covered" meets "cover": possessive 's, -ing, -ed, -es, -s, -er, keeping
// at least three letters.
func stem(w string) string {
	for _, suf := range []string{"ing", "ed", "es", "er", "s"} {
		if strings.HasSuffix(w, suf) && len(w)-len(suf) >= 3 {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

// ContentTokens returns the stemmed content words of a normalised text:
// Text.Words without stopwords and one-letter words, each through a light
// English stemmer. Numbers are kept ("330" in a date is distinctive).
func ContentTokens(t Text) []string {
	var out []string
	for _, w := range t.tokens() {
		if len(w) < 2 || stopwords[w] {
			continue
		}
		out = append(out, stem(w))
	}
	return out
}

// Secrets matches an NPC's secrets in its replies. Build it once per NPC
// with NewSecrets; it is safe for concurrent use.
type Secrets struct {
	list []secret
}

type secret struct {
	phrase string          // the whole secret, Text.Words
	words  map[string]bool // distinctive stemmed content words
	need   int             // how many of words make a leak
}

// Thresholds of the fuzzy secret match: a reply leaks a secret when it
// contains at least SecretMinWords of the secret's distinctive words and
// at least SecretMinShare of them.
const (
	SecretMinWords = 3
	SecretMinShare = 0.4
)

// NewSecrets prepares the NPC's secrets. public is the NPC's public text
// (name, role, traits, home, goals): words that appear in it are not
// distinctive, since the NPC says them in ordinary talk (a miller's
// "mill"). A secret with fewer than SecretMinWords distinctive words is
// matched by its whole phrase only.
func NewSecrets(secrets []string, public ...string) *Secrets {
	pub := map[string]bool{}
	for _, p := range public {
		for _, w := range ContentTokens(Normalize(p)) {
			pub[w] = true
		}
	}
	s := &Secrets{}
	for _, raw := range secrets {
		t := Normalize(raw)
		sc := secret{phrase: t.Words, words: map[string]bool{}}
		for _, w := range ContentTokens(t) {
			if !pub[w] {
				sc.words[w] = true
			}
		}
		n := len(sc.words)
		sc.need = max(SecretMinWords, int(float64(n)*SecretMinShare+0.999))
		if n < SecretMinWords {
			sc.need = 0 // phrase match only
		}
		if sc.phrase != "" {
			s.list = append(s.list, sc)
		}
	}
	return s
}

// Check blocks, with ReasonSecretLeak, a reply that states a secret: its
// whole phrase, or enough of its distinctive words (see SecretMinWords).
// Detail lists the matched words. A nil *Secrets passes everything.
func (s *Secrets) Check(t Text) Verdict {
	if s == nil || len(s.list) == 0 {
		return Verdict{}
	}
	have := map[string]bool{}
	for _, w := range ContentTokens(t) {
		have[w] = true
	}
	padded := " " + t.Words + " "
	for _, sc := range s.list {
		if strings.Contains(padded, " "+sc.phrase+" ") {
			return block(ReasonSecretLeak, "phrase")
		}
		if sc.need == 0 {
			continue
		}
		var hit []string
		for w := range sc.words {
			if have[w] {
				hit = append(hit, w)
			}
		}
		if len(hit) >= sc.need {
			sort.Strings(hit)
			return block(ReasonSecretLeak, strings.Join(hit, ","))
		}
	}
	return Verdict{}
}

// DefaultNGram is the default run of consecutive content tokens a reply
// must share with out-of-scope lore to count as a lore leak: long enough
// that common phrasing ("the old mill by the river") never reaches it.
const DefaultNGram = 8

// A reply also leaks a lore sentence when it holds at least
// SentenceShare of the sentence's distinct content tokens, for sentences
// of at least SentenceMinTokens of them: this catches a copied sentence
// with a word slipped in or a clause reordered ("the Wick commands
// seventeen Lantern Men, mister, and …"), which breaks every n-gram.
const (
	SentenceMinTokens = 5
	SentenceShare     = 0.8
)

// LoreIndex holds lore an NPC may not know: the n-grams of its chunks and
// the content-token sets of their sentences. Build it with NewLoreIndex;
// Check a reply against it. Safe for concurrent reads once built.
type LoreIndex struct {
	n           int
	grams       map[uint64]string // hash → the n-gram, for Detail
	allowed     map[uint64]bool
	sentences   []loreSentence
	postings    map[string][]int // token → sentences holding it
	allowedText []string
}

type loreSentence struct {
	text   string
	tokens []string // distinct
}

// NewLoreIndex indexes the n-grams (n content tokens in a row, see
// ContentTokens; n <= 0 means DefaultNGram) and the sentences of the
// chunk texts outside the NPC's scope. Memory: about 48 bytes per n-gram
// and per sentence token.
func NewLoreIndex(outOfScope []string, n int) *LoreIndex {
	if n <= 0 {
		n = DefaultNGram
	}
	ix := &LoreIndex{n: n, grams: map[uint64]string{}, postings: map[string][]int{}}
	for _, text := range outOfScope {
		eachGram(ContentTokens(Normalize(text)), n, func(h uint64, g []string) {
			ix.grams[h] = strings.Join(g, " ")
		})
		for _, sent := range sentences(text) {
			toks := distinct(ContentTokens(Normalize(sent)))
			if len(toks) < SentenceMinTokens {
				continue
			}
			id := len(ix.sentences)
			ix.sentences = append(ix.sentences, loreSentence{text: sent, tokens: toks})
			for _, t := range toks {
				ix.postings[t] = append(ix.postings[t], id)
			}
		}
	}
	return ix
}

// Allow exempts what the NPC does know (lore in its scope that repeats
// out-of-scope text): n-grams of inScope are not leaks, and neither is a
// reply that matches one of its sentences as closely as the leaked one.
func (ix *LoreIndex) Allow(inScope ...string) {
	if ix.allowed == nil {
		ix.allowed = map[uint64]bool{}
	}
	for _, text := range inScope {
		eachGram(ContentTokens(Normalize(text)), ix.n, func(h uint64, _ []string) { ix.allowed[h] = true })
	}
	ix.allowedText = append(ix.allowedText, inScope...)
}

// Len is the number of indexed n-grams.
func (ix *LoreIndex) Len() int { return len(ix.grams) }

// Check blocks, with ReasonLoreLeak, a reply sharing an n-gram with the
// indexed lore, or holding most of one of its sentences (SentenceShare);
// Detail is the n-gram or the sentence. A nil index passes everything.
func (ix *LoreIndex) Check(t Text) Verdict {
	if ix == nil || (len(ix.grams) == 0 && len(ix.sentences) == 0) {
		return Verdict{}
	}
	toks := ContentTokens(t)
	var v Verdict
	eachGram(toks, ix.n, func(h uint64, _ []string) {
		if v.Blocked() || ix.allowed[h] {
			return
		}
		if g, ok := ix.grams[h]; ok {
			v = block(ReasonLoreLeak, g)
		}
	})
	if v.Blocked() {
		return v
	}
	hits := map[int]int{}
	for _, tok := range distinct(toks) {
		for _, id := range ix.postings[tok] {
			hits[id]++
		}
	}
	best, bestID := 0.0, -1
	for id, h := range hits {
		share := float64(h) / float64(len(ix.sentences[id].tokens))
		if share >= SentenceShare && (share > best || share == best && id < bestID) {
			best, bestID = share, id
		}
	}
	if bestID >= 0 && !ix.allowedSentence(toks, best) {
		return block(ReasonLoreLeak, ix.sentences[bestID].text)
	}
	return Verdict{}
}

// allowedSentence reports whether an in-scope sentence covers the reply
// at least as well as share: then the reply may come from what the NPC
// knows.
func (ix *LoreIndex) allowedSentence(reply []string, share float64) bool {
	have := map[string]bool{}
	for _, t := range reply {
		have[t] = true
	}
	for _, text := range ix.allowedText {
		for _, sent := range sentences(text) {
			toks := distinct(ContentTokens(Normalize(sent)))
			if len(toks) < SentenceMinTokens {
				continue
			}
			h := 0
			for _, t := range toks {
				if have[t] {
					h++
				}
			}
			if float64(h)/float64(len(toks)) >= share {
				return true
			}
		}
	}
	return false
}

// sentences splits text at ., !, ? and ; followed by a space or the end,
// and at line breaks.
func sentences(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		end := c == '\n' || ((c == '.' || c == '!' || c == '?' || c == ';') && (i+1 == len(text) || text[i+1] == ' ' || text[i+1] == '\n'))
		if end {
			if s := strings.TrimSpace(text[start : i+1]); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		out = append(out, s)
	}
	return out
}

func distinct(toks []string) []string {
	seen := make(map[string]bool, len(toks))
	out := toks[:0:0]
	for _, t := range toks {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// SharedNGram returns the first run of n consecutive content tokens (n <=
// 0: DefaultNGram) that reply and text share, or "" when none: the lore
// leak test for a single chunk, without building an index.
func SharedNGram(reply, text Text, n int) string {
	if n <= 0 {
		n = DefaultNGram
	}
	seen := map[uint64]bool{}
	eachGram(ContentTokens(text), n, func(h uint64, _ []string) { seen[h] = true })
	found := ""
	eachGram(ContentTokens(reply), n, func(h uint64, g []string) {
		if found == "" && seen[h] {
			found = strings.Join(g, " ")
		}
	})
	return found
}

// eachGram calls fn with the FNV-1a hash of every run of n tokens.
func eachGram(toks []string, n int, fn func(uint64, []string)) {
	for i := 0; i+n <= len(toks); i++ {
		h := fnv.New64a()
		for _, w := range toks[i : i+n] {
			h.Write([]byte(w))
			h.Write([]byte{0})
		}
		fn(h.Sum64(), toks[i:i+n])
	}
}

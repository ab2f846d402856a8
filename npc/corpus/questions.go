package corpus

import (
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// subject is an entity a sentence is about: one it names, or the one its
// document is about.
type subject struct {
	name    string   // display name, e.g. "The Tipped Kettle"
	aliases []string // other names a player might use
	typ     string   // entity type: npc, person, place, creature, item, ...
}

// qctx is what a question template may use.
type qctx struct {
	x        string // the subject as the player names it, mid-sentence form
	typ      string
	k1, k2   string // rare words of the sentence ("" when missing)
	section  string // the chunk's innermost heading when it has two or more
	title    string // the document title (outermost heading)
	claim    string // the sentence as a clause for "is it true that …" ("" when too long)
	hasX     bool
	keyTerms []string // filled by the template: the terms the answer must cover
}

// qtemplate makes a question, or "" when it does not apply.
type qtemplate struct {
	name string
	make func(q *qctx) string
}

func whWord(typ string) string {
	switch typ {
	case "npc", "person":
		return "Who"
	case "place":
		return "Where"
	}
	return "What"
}

// subjectTerms are the key terms naming a subject.
func (q *qctx) subjectTerms() []string { return terms(q.x) }

func (q *qctx) keys(parts ...string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, terms(p)...)
	}
	return out
}

// trainTemplates phrase training questions; evalTemplates are phrasings
// kept for the evaluation set only, so it also measures whether the model
// generalises to new wording.
var trainTemplates = []qtemplate{
	{"tell", func(q *qctx) string {
		if !q.hasX {
			return ""
		}
		q.keyTerms = q.subjectTerms()
		return "Tell me about " + q.x + "."
	}},
	{"know-of", func(q *qctx) string {
		if !q.hasX {
			return ""
		}
		q.keyTerms = q.subjectTerms()
		return "What do you know of " + q.x + "?"
	}},
	{"wh", func(q *qctx) string {
		if !q.hasX {
			return ""
		}
		q.keyTerms = q.subjectTerms()
		return whWord(q.typ) + " is " + q.x + "?"
	}},
	{"x-and-k1", func(q *qctx) string {
		if !q.hasX || q.k1 == "" {
			return ""
		}
		q.keyTerms = q.keys(q.x, q.k1)
		return "What can you tell me about " + q.x + " and the " + q.k1 + "?"
	}},
	{"k1-of-x", func(q *qctx) string {
		if !q.hasX || q.k1 == "" {
			return ""
		}
		q.keyTerms = q.keys(q.x, q.k1)
		return "What about the " + q.k1 + " of " + q.x + "?"
	}},
	{"section", func(q *qctx) string {
		if q.section == "" {
			return ""
		}
		q.keyTerms = q.keys(q.section, q.title)
		return "Tell me about " + lowerFirst(q.section) + " at " + q.title + "."
	}},
	{"is-it-true", func(q *qctx) string {
		if q.claim == "" {
			return ""
		}
		q.keyTerms = q.keys(q.claim)
		return "Is it true that " + q.claim + "?"
	}},
	{"k1-k2", func(q *qctx) string {
		if q.k1 == "" || q.k2 == "" {
			return ""
		}
		q.keyTerms = q.keys(q.k1, q.k2)
		if q.hasX {
			q.keyTerms = append(q.keyTerms, q.subjectTerms()...)
			return "I heard something about " + q.k1 + " and " + q.k2 + " at " + q.x + ". What's that?"
		}
		return "I heard something about " + q.k1 + " and " + q.k2 + ". What's that?"
	}},
	{"news", func(q *qctx) string {
		if !q.hasX {
			return ""
		}
		q.keyTerms = q.subjectTerms()
		return "Any news of " + q.x + "?"
	}},
	{"x-k1-about", func(q *qctx) string {
		if !q.hasX || q.k1 == "" {
			return ""
		}
		q.keyTerms = q.keys(q.x, q.k1)
		return upperFirst(q.x) + "? What's the " + q.k1 + " about?"
	}},
}

var evalTemplates = []qtemplate{
	{"anything-k1-x", func(q *qctx) string {
		if !q.hasX || q.k1 == "" {
			return ""
		}
		q.keyTerms = q.keys(q.x, q.k1)
		return "Do you know anything about " + q.x + " and the " + q.k1 + "?"
	}},
	{"tale-of", func(q *qctx) string {
		if !q.hasX || q.k1 == "" || q.k2 == "" {
			return ""
		}
		q.keyTerms = q.keys(q.x, q.k1, q.k2)
		return "What's the tale of " + q.x + ", the " + q.k1 + " and the " + q.k2 + "?"
	}},
	{"could-it-be", func(q *qctx) string {
		if q.claim == "" {
			return ""
		}
		q.keyTerms = q.keys(q.claim)
		return "Could it be that " + q.claim + "?"
	}},
	{"speak-of", func(q *qctx) string {
		if q.k1 == "" || q.k2 == "" {
			return ""
		}
		q.keyTerms = q.keys(q.k1, q.k2)
		if q.hasX {
			q.keyTerms = append(q.keyTerms, q.subjectTerms()...)
			return "Speak to me of " + q.x + ": the " + q.k1 + ", the " + q.k2 + "."
		}
		return "Speak to me of the " + q.k1 + " and the " + q.k2 + "."
	}},
}

// unknownSubjects are names no lore declares (checked against the lore
// when a corpus is generated), for questions an NPC cannot answer.
var unknownSubjects = []subject{
	{name: "Lord Vessant", typ: "person"}, {name: "the Tower of Umbrith", typ: "place"},
	{name: "Saltmere Abbey", typ: "place"}, {name: "the Glass Serpent", typ: "creature"},
	{name: "Mother Quillory", typ: "person"}, {name: "the Sunken Crown", typ: "item"},
	{name: "the Order of the Ninth Bell", typ: "faction"}, {name: "Captain Ardwin Holt", typ: "person"},
	{name: "the city of Varn", typ: "place"}, {name: "the Ember Moth", typ: "creature"},
	{name: "the Duke of Amberlyn", typ: "person"}, {name: "the Whistling Pass", typ: "place"},
}

// claimOf turns a sentence into a clause for "is it true that …": the
// final punctuation dropped and the first letter lowered when the first
// word is a common word. "" when the sentence is over 30 words or is not
// a statement.
func claimOf(s string) string {
	if words(s) > 30 || strings.HasSuffix(s, "?") || strings.ContainsAny(s, "|:") {
		return ""
	}
	s = strings.TrimRight(s, ".!")
	first := strings.ToLower(strings.Fields(s)[0])
	if stopwords[strings.Trim(first, ",;")] || first == "every" || first == "most" || first == "once" {
		s = lowerFirst(s)
	}
	return s
}

// midName is a name as written mid-sentence: a leading "The" lowered.
func midName(name string) string {
	if strings.HasPrefix(name, "The ") {
		return "the " + name[4:]
	}
	return name
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

func upperFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// pickTemplates returns up to n distinct templates of ts that apply to q,
// in random order, each with its question and key terms.
func pickTemplates(rng *rand.Rand, ts []qtemplate, base qctx, n int) []question {
	order := rng.Perm(len(ts))
	var out []question
	for _, i := range order {
		if len(out) == n {
			break
		}
		q := base
		text := ts[i].make(&q)
		if text == "" || len(q.keyTerms) == 0 {
			continue
		}
		out = append(out, question{text: text, template: ts[i].name, keyTerms: q.keyTerms})
	}
	return out
}

// question is a player line and the terms an answer must cover.
type question struct {
	text, template string
	keyTerms       []string
}

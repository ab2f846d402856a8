package guard

import (
	"fmt"
	"regexp"
	"strings"
)

// Rating is a game's content rating, after the ESRB's: what the output
// filters allow depends on it.
type Rating string

// Ratings. The zero Rating is treated as RatingTeen.
const (
	RatingEveryone Rating = "E" // no profanity, no drugs
	RatingTeen     Rating = "T" // mild profanity
	RatingMature   Rating = "M" // strong profanity and real drugs
)

// ParseRating accepts E, T or M (or everyone, teen, mature), any case.
func ParseRating(s string) (Rating, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "e", "everyone":
		return RatingEveryone, nil
	case "t", "teen", "":
		return RatingTeen, nil
	case "m", "mature":
		return RatingMature, nil
	}
	return "", fmt.Errorf("guard: rating %q: want E, T or M", s)
}

// level orders ratings: E 0, T 1, M 2.
func (r Rating) level() int {
	switch r {
	case RatingEveryone:
		return 0
	case RatingMature:
		return 2
	}
	return 1
}

// Topic is a subject an NPC must not talk about at some ratings. Words
// are matched whole, on the normalised reply (Text.Words), so each is
// lower-case letters and digits; a multi-word phrase matches its words in
// a row; a trailing '*' matches any ending ("bomb*" matches "bombs").
type Topic struct {
	Name  string
	Words []string
	// AllowedFrom is the lowest rating at which the topic is allowed; ""
	// blocks it at every rating.
	AllowedFrom Rating
}

// Built-in topics (BuiltinTopics returns them).
var (
	// TopicPolitics is real-world politics: it breaks a fantasy world and
	// is blocked at every rating.
	TopicPolitics = Topic{Name: "politics", Words: []string{
		"trump", "biden", "obama", "kamala harris", "putin", "zelensky", "netanyahu", "xi jinping", "boris johnson",
		"keir starmer", "rishi sunak", "macron", "democrat*", "republican party", "republicans", "gop", "maga",
		"brexit", "tory party", "tories", "labour party", "us congress", "us senate", "the kremlin",
		"presidential election", "midterm elections", "nato", "hamas", "hezbollah", "taliban", "communist party",
		"prime minister of the united kingdom", "abortion", "gun control", "immigration polic*", "pro life", "pro choice",
	}}
	// TopicSexual is explicit sexual content: blocked at every rating.
	TopicSexual = Topic{Name: "sexual", Words: []string{
		"porn*", "pornograph*", "orgasm*", "blowjob*", "handjob*", "masturbat*", "erection*", "genital*",
		"penis*", "vagina*", "clitoris", "intercourse", "have sex", "having sex", "had sex", "sex with",
		"make love to you", "nude photos", "naked photos", "sexting", "hentai", "nsfw", "cum", "cumming",
		"dildo*", "threesome", "anal sex", "oral sex", "sexual position*", "strip naked", "take off your clothes",
	}}
	// TopicSelfHarm is self-harm instruction or encouragement: blocked at
	// every rating.
	TopicSelfHarm = Topic{Name: "self_harm", Words: []string{
		"kill yourself", "kill urself", "kys", "end your own life", "take your own life", "slit your wrists",
		"cut your wrists", "hang yourself", "overdose on", "suicide method*", "how to commit suicide",
		"commit suicide", "self harm", "selfharm", "painless way to die",
	}}
	// TopicDrugs is real-world drugs (fantasy potions and herbs pass):
	// allowed from RatingMature.
	TopicDrugs = Topic{Name: "drugs", AllowedFrom: RatingMature, Words: []string{
		"cocaine", "heroin", "methamphetamine", "crystal meth", "fentanyl", "lsd", "mdma", "ecstasy pill*",
		"crack cocaine", "marijuana", "opioid*", "oxycodone", "ketamine",
	}}
)

// BuiltinTopics returns the built-in topics: politics, sexual, self_harm
// and drugs.
func BuiltinTopics() []Topic {
	return []Topic{TopicPolitics, TopicSexual, TopicSelfHarm, TopicDrugs}
}

// Profanity tiers: the built-in list, by the lowest rating that allows
// them ("" for slurs: never). Matching is whole-word on Text.Words, so
// "class" and "Scunthorpe" pass; words that are innocent in a fantasy
// world ("ass" the donkey, "bastard sword", "cock" the bird, "hell") are
// left out.
var (
	profanityMild = []string{ // allowed from T
		"damn", "damned", "dammit", "damnit", "crap", "crappy", "arse", "piss", "pissed", "pissing", "bugger",
		"bollocks", "sod off", "bloody hell", "screw you", "wtf", "omfg",
	}
	profanityStrong = []string{ // allowed from M
		"fuck*", "motherfuck*", "fck", "fuk", "fuq", "shit", "shits", "shitty", "shithead", "bullshit",
		"horseshit", "asshole*", "arsehole*", "bitch", "bitches", "bitching", "cunt*", "dickhead", "wanker", "twat", "goddamn*", "jackass", "dumbass", "piss off", "son of a bitch", "whore*",
		"slut*", "douche*", "titties",
	}
	profanitySlurs = []string{ // never allowed
		"nigger*", "nigga*", "faggot*", "retard", "retarded", "tranny", "kike", "spic", "chink",
		"wetback", "coon",
	}
)

// maskedStrong finds strong words masked with symbols ("f*ck",
// "motherf**ker", "sh!t" after leetspeak misses it, "b*tch"), on
// Text.Folded; blocked where strong words are.
var maskedStrong = regexp.MustCompile(`\b(mother)?f[*#@$%!_]{1,3}(c|k|ck|kk|cc|u)?[*#@$%!_]{0,2}k(ing|er|ers|ed|s|in)?\b|\bsh[*#@$%!_]{1,2}t(ty|s)?\b|\bb[*#@$%!_]{1,2}tch(es)?\b|\bc[*#@$%!_]{1,2}nt\b|\ba[*#@$%!_]{1,2}hole\b`)

// masked reports whether s has a mask symbol between letters ("f*ck"),
// the only case maskedStrong can match.
func masked(s string) bool {
	for i := 1; i+1 < len(s); i++ {
		if strings.IndexByte("*#@$%!_", s[i]) >= 0 && isASCIILetter(s[i-1]) &&
			(isASCIILetter(s[i+1]) || strings.IndexByte("*#@$%!_", s[i+1]) >= 0) {
			return true
		}
	}
	return false
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// Policy is what a studio configures for the output filters.
type Policy struct {
	// Rating selects what is allowed; "" is RatingTeen.
	Rating Rating
	// Topics blocked at their ratings; nil means BuiltinTopics(). To add
	// a topic keep the built-ins: append(BuiltinTopics(), t).
	Topics []Topic
	// ExtraProfanity are more words blocked below RatingMature (same
	// syntax as Topic.Words).
	ExtraProfanity []string
	// AllowProfanity, when true, turns the profanity filter off except for
	// slurs.
	AllowProfanity bool
}

// matcher is a compiled word list: a set of single words, prefixes of
// single words ("fuck*"), and phrases (several words in a row, the last
// possibly a prefix). Lookups are per token, not a regexp: a big
// alternation costs far more.
type matcher struct {
	words    map[string]bool
	prefixes []string
	phrases  map[string][]string // by first word: " a b " for exact, " a b" for a prefix phrase
	empty    bool
}

// compileWords compiles whole-word entries (see Topic.Words).
func compileWords(ws []string) matcher {
	m := matcher{words: map[string]bool{}, phrases: map[string][]string{}}
	for _, w := range ws {
		w = strings.Join(strings.Fields(strings.ToLower(w)), " ")
		star := strings.HasSuffix(w, "*")
		w = strings.TrimSuffix(w, "*")
		switch {
		case w == "":
		case strings.Contains(w, " ") && star:
			first, _, _ := strings.Cut(w, " ")
			m.phrases[first] = append(m.phrases[first], " "+w)
		case strings.Contains(w, " "):
			first, _, _ := strings.Cut(w, " ")
			m.phrases[first] = append(m.phrases[first], " "+w+" ")
		case star:
			m.prefixes = append(m.prefixes, w)
		default:
			m.words[w] = true
		}
	}
	m.empty = len(m.words) == 0 && len(m.prefixes) == 0 && len(m.phrases) == 0
	return m
}

// find returns the first entry that t's words hold, or "".
func (m matcher) find(t *Text) string {
	if m.empty {
		return ""
	}
	padded := ""
	for _, tok := range t.tokens() {
		if m.words[tok] {
			return tok
		}
		for _, p := range m.prefixes {
			if strings.HasPrefix(tok, p) {
				return tok
			}
		}
		for _, p := range m.phrases[tok] {
			if padded == "" {
				padded = " " + t.Words + " "
			}
			if strings.Contains(padded, p) {
				return strings.TrimSpace(p)
			}
		}
	}
	return ""
}

// Filter is a compiled Policy. Build it once (NewFilter) and share it: it
// is safe for concurrent use.
type Filter struct {
	rating            Rating
	topics            []Topic
	topicRE           []matcher
	mild, strong, bad matcher
}

// NewFilter compiles p.
func NewFilter(p Policy) *Filter {
	f := &Filter{rating: p.Rating}
	if f.rating == "" {
		f.rating = RatingTeen
	}
	f.topics = p.Topics
	if f.topics == nil {
		f.topics = BuiltinTopics()
	}
	for _, t := range f.topics {
		f.topicRE = append(f.topicRE, compileWords(t.Words))
	}
	lvl := f.rating.level()
	if !p.AllowProfanity {
		if lvl < 1 {
			f.mild = compileWords(profanityMild)
		} else {
			f.mild = matcher{empty: true}
		}
		if lvl < 2 {
			f.strong = compileWords(append(append([]string{}, profanityStrong...), p.ExtraProfanity...))
		} else {
			f.strong = matcher{empty: true}
		}
	} else {
		f.mild, f.strong = matcher{empty: true}, matcher{empty: true}
	}
	f.bad = compileWords(profanitySlurs)
	return f
}

// Rating returns the filter's rating.
func (f *Filter) Rating() Rating { return f.rating }

// CheckTopics blocks, with ReasonTopic, a reply naming a topic the
// rating does not allow; Detail is "topic:word".
func (f *Filter) CheckTopics(t Text) Verdict {
	lvl := f.rating.level()
	for i, tp := range f.topics {
		if tp.AllowedFrom != "" && lvl >= tp.AllowedFrom.level() {
			continue
		}
		if w := f.topicRE[i].find(&t); w != "" {
			return block(ReasonTopic, tp.Name+":"+w)
		}
	}
	return Verdict{}
}

// CheckProfanity blocks, with ReasonProfanity, a word the rating does not
// allow: mild words at E, strong words below M, slurs always.
func (f *Filter) CheckProfanity(t Text) Verdict {
	for _, m := range []matcher{f.bad, f.strong, f.mild} {
		if w := m.find(&t); w != "" {
			return block(ReasonProfanity, w)
		}
	}
	if !f.strong.empty && masked(t.Folded) {
		if w := maskedStrong.FindString(t.Folded); w != "" {
			return block(ReasonProfanity, w)
		}
	}
	return Verdict{}
}

// personaWords are persona breaks matched on Text.Words.
var personaWords = pats(
	"as-an-ai", "as a", `\bas an? (ai|artificial intelligence|language model|large language model|llm|ai language model|ai model|ai assistant|chatbot|chat bot|virtual assistant|machine learning model|text based ai)\b`,
	"i-am-ai", "i am|im |i m |being", `\b(i am|im|i m|being) (just |only |merely |actually |really |simply )?(an? )?(ai|artificial intelligence|language model|large language model|llm|ai language model|ai model|ai assistant|chatbot|chat bot|virtual assistant|computer program|machine learning model|bot created by|assistant created by|neural network)\b`,
	"vendor", "openai|chatgpt|chat gpt|gpt|anthropic|deepmind|meta ai|mistral|language model", `\b(openai|chatgpt|chat gpt|gpt ?[345](\.5)?|gpt ?4o|anthropic|google deepmind|meta ai|mistral ai|large language models?)\b`,
	"refusal", "assist|help|sorry|fulfill|comply|request|polic", `\bi (cannot|can not|cant|am unable to|am not able to|m unable to|m not able to|wont be able to|will not be able to) (assist|help) (you )?with (that|this|your) (request|query|question|prompt)\b|\bi (cannot|can not|cant) assist with that\b|\bi m sorry but i (cannot|cant|can not|am unable to) (fulfill|comply|provide|generate|create|produce|assist)\b|\bim sorry but i (cannot|cant|can not|am unable to) (fulfill|comply|provide|generate|create|produce|assist)\b|\bi (cannot|cant|can not) (fulfill|comply with) (that|this|your) request\b|\b(this|that|your) request (violates|goes against|is against)\b|\bcontent polic(y|ies)\b|\b(openai|usage) polic(y|ies)\b`,
	"instructions", "instructions|programm|configured|prompted|guidelines|directives|training|cutoff|knowledge|as of my|context window|system prompt", `\b(my|the|these) instructions (say|tell me|are|were)( that)? i (must|should|cannot|cant|can not|am not allowed to|may not|must not)( not)? (reveal|share|discuss|disclose|break character|mention|talk about|say)\b|\bi (was|have been|ve been|am) (programmed|configured|prompted) (not )?to\b|\bmy (programming|guidelines|directives) (say|says|tell me|told me|forbid|forbids|prevent|prevents|do not allow|dont allow|state|require)\b|\b(against|violates?|breaks?|outside) my (guidelines|programming|directives|training)\b|\bmy (system prompt|training data|training cutoff|knowledge cutoff|context window)\b|\b(my|a) (training|knowledge) (data|cutoff)\b|\bas of my (last|latest) (update|training|knowledge)\b`,
	"capabilities", "access|browse|connect|real time|helpful|here to|designed|programmed|built to|trained to|apologi|sorry", `\bi (dont|do not|cannot|cant|can not) (have )?(access|browse|connect)( to)? (the )?(real time|internet|web|current events|live data|browsing|external)\b|\breal time (information|data)\b|\bhelpful (harmless|and harmless)( and)? honest\b|\b(here|designed|programmed|built|trained) to (provide|offer|give) (helpful|accurate|safe|useful) (answers|information|responses|assistance)\b|\bi (apologi[sz]e|am sorry|m sorry)( but)? i (am not able to|cannot|cant|can not|wont|will not|am unable to|m unable to) (roleplay|role play|generate|fulfill|comply|engage in|produce|create that|write that|continue this)\b`,
	"in-character", "character|npc", `\b(stay|staying|remain|remaining|keep|keeping|stays) in character\b|\bin character as\b|\b(break|breaking|broke) character\b|\bas (the|an|a) (npc|non player character)\b|\b(the|this|my) (npc|character) (would|will|should) (say|respond|answer|reply)\b|\bmy character (would|is|says)\b`,
	"user-assistant", "user|assist|help you with", `\bthe user (asked|asks|wants|is asking|requested|said|has asked)\b|\b(user s request|users request|as your assistant|your ai assistant|how can i assist you today|how may i assist you today|is there anything else i can help you with)\b`,
	"npc-meta", "npc|non player|character|video game|role", `\b(i am|im|i m) (just |only |merely )?(an? )?(npc|non player character|video game character|game character|fictional character|character in a (video )?game)\b|\bthis is (just |only )?a video game\b|\b(roleplay|role play|role playing|pretend) as (a|an) (npc|character)\b`,
)

// personaFolded are persona breaks matched on Text.Folded.
var personaFolded = pats(
	// "prompt" the noun: "the prompt says", "my prompt.", not "prompt payment".
	"prompt", "prompt", `\b(system|my|the|your|this|initial|original|hidden|given) prompts?\b(\s+(says|said|tells|told|asks|asked|instructs|instructed|states|stated|above|below|i was given|you gave)\b|\s*[.,;:!?)"'»]|\s*$)`,
	"role-tag", "<|[", `<\s*\|?\s*/?\s*(system|user|assistant|im_start|im_end|endoftext|eot_id)\s*\|?\s*>|\[\s*/?\s*inst\s*\]`,
)

// CheckPersona blocks, with ReasonPersonaBreak, a reply that steps out of
// the fiction: "as an AI language model", "I am a language model", model
// vendors (OpenAI, ChatGPT, Anthropic), assistant refusals ("I cannot
// assist with that request", "content policy"), talk of its prompt,
// instructions or programming, chat-template tags, and "I'm just an NPC".
func CheckPersona(t Text) Verdict {
	if name := firstMatch(personaWords, t.Words); name != "" {
		return block(ReasonPersonaBreak, name)
	}
	if name := firstMatch(personaFolded, t.Folded); name != "" {
		return block(ReasonPersonaBreak, name)
	}
	return Verdict{}
}

// CheckOutput runs the content filters on a reply: CheckPersona, then
// CheckTopics and CheckProfanity. Leak checks need the NPC (see Secrets
// and LoreIndex) and are run by the caller.
func (f *Filter) CheckOutput(t Text) Verdict {
	if v := CheckPersona(t); v.Blocked() {
		return v
	}
	if v := f.CheckTopics(t); v.Blocked() {
		return v
	}
	return f.CheckProfanity(t)
}

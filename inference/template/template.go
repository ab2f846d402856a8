// Package template is Hearth's floor tier (DESIGN §1, §4): a deterministic,
// lore-grounded line generator that answers any inference.Request in
// microseconds and never fails, so that a request always has an answer at
// its deadline.
//
// It reads only the Request's structured fields (intent, persona, player,
// the player's line, facts and memories), never the rendered Prompt. Lines
// come from phrase banks chosen by the persona's traits, speech style and
// role; answers to questions are sentences taken verbatim from the facts,
// so numbers and names survive and nothing is invented. When no fact is
// relevant the NPC says, in its own voice, that it does not know.
//
// Output is a pure function of the Request: the same Request (including
// Seed) gives the same text.
package template

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/inference"
)

// Name is the backend name the floor reports in Info and Result.
const Name = "template"

// MaxWords caps a reply, in words.
const MaxWords = 60

// maxMemoryWords caps a quoted memory, in words.
const maxMemoryWords = 16

// maxNameWords caps a name, vocative or subject, in words.
const maxNameWords = 6

// Model is the template floor. It implements inference.Model and is safe
// for concurrent use; the zero value is not usable, call New.
type Model struct {
	stop, greet, strongGreet, farewell, strongFarewell map[string]struct{}
}

// New returns the template floor.
func New() *Model {
	return &Model{
		stop:           setOf(stopwordList),
		greet:          setOf(greetList),
		strongGreet:    setOf(strongGreetList),
		farewell:       setOf(farewellList),
		strongFarewell: setOf(strongFarewellList),
	}
}

// Info describes the floor: tier template, Quality 0, an expected 20µs to
// the first word and a million words per second.
func (m *Model) Info() inference.Info {
	return inference.Info{
		Name:                    Name,
		Tier:                    inference.TierTemplate,
		Quality:                 0,
		ExpectedTTFT:            20 * time.Microsecond,
		ExpectedTokensPerSecond: 1e6,
	}
}

// Generate builds one in-persona line for req and sends it to sink as a
// single delta: the whole line exists within microseconds, and streaming it
// word by word would only multiply frames on the wire (measured: a frame per
// word cost a tenth of the server's CPU under 200 clients). It ignores ctx, since the floor must answer
// even after the deadline, and never returns an error. Result.Tokens counts
// words. The text is valid UTF-8 and at most MaxWords words.
//
// By intent: a greeting greets a stranger, or a returning player by name
// (recalling the most recent memory); dialogue answers req.UserText from
// req.Facts (see the package doc), or greets or says farewell when that is
// all the line does; farewell and bark are short persona lines.
func (m *Model) Generate(_ context.Context, req *inference.Request, sink inference.Sink) (inference.Result, error) {
	start := time.Now()
	g := gen{m: m, req: req, v: pickVoice(&req.Persona), role: pickRole(req.Persona.Role)}
	g.rng.Seed(req.Seed, hashRequest(req))
	g.player = strings.TrimSpace(req.PlayerName)
	g.self = firstWord(req.Persona.Name)
	g.vocative = vocative(req.Persona.SpeechStyle)
	if g.vocative == "" {
		g.vocative = voices[g.v].vocative
	}
	g.b.Grow(320)

	switch req.Intent {
	case inference.IntentGreeting:
		g.greeting()
	case inference.IntentFarewell:
		g.farewellLine()
	case inference.IntentBark:
		g.barkLine()
	default: // IntentDialogue and anything unknown
		var q question
		m.analyse(req.UserText, &q)
		switch {
		case q.farewell:
			g.farewellLine()
		case q.aboutMe: // "Do you remember me?": answered from memory, not lore
			g.recallMemory = true
			g.greeting()
		case q.greeting:
			g.greeting()
		default:
			g.answer(&q)
		}
	}

	text := g.b.String()
	if !utf8.ValidString(text) { // rare: invalid bytes in names or facts
		text = strings.Join(strings.Fields(strings.ToValidUTF8(text, "")), " ")
		if text == "" {
			text = "Hm."
		}
	}
	ttft := time.Since(start)
	text, words := capWords(text, MaxWords)
	if sink != nil {
		sink(inference.Delta{Text: text})
	}
	return inference.Result{
		Text:    text,
		Tier:    inference.TierTemplate,
		Backend: Name,
		Tokens:  words,
		TTFT:    ttft,
		Latency: time.Since(start),
	}, nil
}

// capWords cuts text to at most max words (ending it with "…" when cut).
// It returns the text and its word count.
func capWords(text string, max int) (string, int) {
	words := 0
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && text[j] != ' ' {
			j++
		}
		for j < len(text) && text[j] == ' ' {
			j++
		}
		words++
		if words == max && j < len(text) {
			text = strings.TrimRight(text[:j], " ") + "…"
			j = len(text)
		}
		i = j
	}
	return text, words
}

// gen is the state of one generation.
type gen struct {
	m        *Model
	req      *inference.Request
	rng      rand.PCG
	b        strings.Builder
	v        voiceID
	role     int // index into roles, or -1
	player   string
	self     string
	vocative string

	recallMemory bool // always recall a memory when greeting a returning player

	mem       string // {M}
	subject   string // {S} / {s}
	article   bool   // the subject takes "the"
	facts     [2]string
	nFacts    int
	factWords int // words of fact text written so far
}

// hashRequest is FNV-1a over the fields that shape the reply, mixed with
// Seed into the PCG state so that different players or lines vary even
// under the same seed.
func hashRequest(req *inference.Request) uint64 {
	h := uint64(14695981039346656037)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	add(string(req.Intent))
	add(req.Persona.ID)
	add(req.Persona.Name)
	if req.CacheKey == "" {
		// A shareable request (CacheKey set) must say the same to every
		// player, so who asks does not vary it.
		add(req.PlayerID)
	}
	add(req.PlayerName)
	add(req.UserText)
	if req.Returning {
		h ^= 1
		h *= 1099511628211
	}
	return h
}

// pick returns one entry of bank (falling back to the neutral voice's
// bank), chosen by the generator's PCG.
func (g *gen) pick(bank, neutral []string) string {
	if len(bank) == 0 {
		bank = neutral
	}
	return bank[g.rng.Uint64()%uint64(len(bank))]
}

// chance returns true with probability num/den.
func (g *gen) chance(num, den uint64) bool { return g.rng.Uint64()%den < num }

func (g *gen) bank(f func(*voice) []string) string {
	return g.pick(f(&voices[g.v]), f(&voices[voiceNeutral]))
}

// say appends a pattern as one sentence group, space-separated from what
// came before.
func (g *gen) say(pattern string) {
	if g.b.Len() > 0 {
		g.b.WriteByte(' ')
	}
	g.expand(pattern)
}

func (g *gen) greeting() {
	r := g.req
	switch {
	case r.Returning && g.player != "":
		g.say(g.bank(func(v *voice) []string { return v.greetReturn }))
	case r.Returning:
		g.say(g.bank(func(v *voice) []string { return v.greetAgain }))
	case g.player != "":
		g.say(g.bank(func(v *voice) []string { return v.greetNamed }))
	default:
		g.say(g.bank(func(v *voice) []string { return v.greetStranger }))
	}
	if !r.Returning && g.self != "" && g.chance(1, 2) {
		g.say(g.bank(func(v *voice) []string { return v.selfIntro }))
	}
	memory := false
	if r.Returning && len(r.Memories) > 0 && (g.recallMemory || g.chance(3, 4)) {
		memory = g.memoryLine()
	}
	den := uint64(2)
	if memory {
		den = 4 // keep the line short when it already recalls something
	}
	if g.role >= 0 && g.chance(1, den) {
		g.say(g.pick(roles[g.role].offers, nil))
	}
}

// memoryLine recalls the most recent memory: as the player's own words when
// it is a dialogue memory of theirs ("Aria said: …"), else as a whole.
func (g *gen) memoryLine() bool {
	ms := g.req.Memories
	best := 0
	for i := 1; i < len(ms); i++ {
		if ms[i].GameTime.After(ms[best].GameTime) {
			best = i
		}
	}
	mem := strings.TrimSpace(ms[best].Text)
	if mem == "" {
		return false
	}
	said := false
	if g.player != "" {
		for _, sep := range [...]string{" said: ", " says: ", ": "} {
			if who, what, ok := strings.Cut(mem, sep); ok && strings.EqualFold(strings.TrimSpace(who), g.player) {
				mem = strings.Trim(strings.TrimSpace(what), "\"“”")
				said = mem != ""
				break
			}
		}
	}
	g.mem = mem
	if said {
		g.say(g.bank(func(v *voice) []string { return v.memSaid }))
	} else {
		g.say(g.bank(func(v *voice) []string { return v.memOther }))
	}
	return true
}

func (g *gen) farewellLine() {
	if g.player != "" && g.chance(1, 2) {
		g.say(g.bank(func(v *voice) []string { return v.farewellNamed }))
		return
	}
	g.say(g.bank(func(v *voice) []string { return v.farewell }))
}

func (g *gen) barkLine() {
	own := voices[g.v].bark
	if len(own) == 0 {
		own = voices[voiceNeutral].bark
	}
	if g.role >= 0 {
		rb := roles[g.role].barks
		if k := g.rng.Uint64() % uint64(len(own)+len(rb)); k >= uint64(len(own)) {
			g.say(rb[k-uint64(len(own))])
			return
		}
	}
	g.say(g.pick(own, nil))
}

func (g *gen) answer(q *question) {
	cands, n := g.m.findAnswer(q, g.req.Facts)
	if n == 0 {
		g.say(g.bank(func(v *voice) []string { return v.unknown }))
		return
	}
	for i := 0; i < n; i++ {
		g.facts[i] = cands[i].unit
	}
	g.nFacts = n
	f := &g.req.Facts[cands[0].fact]
	if len(f.Heading) > 0 {
		g.subject = strings.TrimSpace(f.Heading[len(f.Heading)-1])
	}
	var pattern string
	if g.subject != "" && !strings.Contains(g.facts[0], g.subject) {
		g.article = takesArticle(g.subject, f.Text)
		pattern = g.bank(func(v *voice) []string { return v.answer })
	} else {
		pattern = g.bank(func(v *voice) []string { return v.answerPlain })
	}
	g.say(pattern)
	// Sometimes address a known player, unless the pattern already closed
	// with a remark of its own.
	if g.req.Returning && g.player != "" && strings.HasSuffix(pattern, "{F}") && g.chance(1, 2) {
		g.say(g.bank(func(v *voice) []string { return v.address }))
	}
}

// takesArticle guesses whether subject is a common noun ("the Aboleth")
// rather than a proper one ("Millbrook"): the fact text uses it in lower
// case ("an aboleth") or after "the".
func takesArticle(subject, text string) bool {
	c := subject[0]
	if c < 'A' || c > 'Z' {
		return false
	}
	// A subject that opens with its own determiner ("The Old Chapel",
	// "This year") takes no other: "the The Old Chapel" was a bug.
	first, _, _ := strings.Cut(subject, " ")
	switch first {
	case "The", "A", "An", "This", "That", "These", "Those", "Our", "My", "Your", "Its", "Their", "His", "Her", "Some", "Every":
		return false
	}
	var buf [64]byte
	if len(subject) > len(buf) {
		return false
	}
	low := buf[:len(subject)]
	copy(low, subject)
	low[0] = c + 'a' - 'A'
	if strings.Contains(text, string(low)) {
		return true
	}
	for i := 0; ; {
		k := strings.Index(text[i:], subject)
		if k < 0 {
			return false
		}
		k += i
		if k >= 4 && (text[k-4:k] == "the " || text[k-4:k] == "The ") {
			return true
		}
		i = k + len(subject)
	}
}

// expand writes pattern with its placeholders filled.
func (g *gen) expand(p string) {
	for {
		k := strings.IndexByte(p, '{')
		if k < 0 || k+2 >= len(p) || p[k+2] != '}' {
			g.b.WriteString(p)
			return
		}
		g.b.WriteString(p[:k])
		switch p[k+1] {
		case 'N':
			g.writeWords(g.player, maxNameWords)
		case 'V':
			g.writeWords(g.vocative, maxNameWords)
		case 'P':
			g.writeWords(g.self, maxNameWords)
		case 'M':
			g.writeWords(g.mem, maxMemoryWords)
		case 'S':
			if g.article {
				g.b.WriteString("The ")
			}
			g.writeWords(g.subject, maxNameWords) // "The Old Mill" keeps its own "The"
		case 's':
			if g.article {
				g.b.WriteString("the ")
				g.writeWords(g.subject, maxNameWords)
			} else if rest, ok := strings.CutPrefix(g.subject, "The "); ok {
				g.b.WriteString("the ") // "Ah, the Old Mill."
				g.writeWords(rest, maxNameWords)
			} else {
				g.writeWords(g.subject, maxNameWords)
			}
		case 'F':
			for i := 0; i < g.nFacts; i++ {
				if i > 0 {
					g.b.WriteByte(' ')
				}
				g.writeFact(g.facts[i])
			}
		default:
			g.b.WriteString(p[k : k+3])
		}
		p = p[k+3:]
	}
}

// writeFact writes a fact unit verbatim as a sentence: at most maxFactWords
// words in all, ending in punctuation.
func (g *gen) writeFact(s string) {
	left := maxFactWords - g.factWords
	if left <= 0 {
		return
	}
	s = strings.TrimRight(s, ",;: \t")
	start := g.b.Len()
	n := g.writeWords(s, left)
	if n == 0 {
		return
	}
	g.factWords += n
	out := strings.TrimRight(g.b.String()[start:], "\"')”’")
	if out == "" || !strings.ContainsAny(out[len(out)-1:], ".!?") && !strings.HasSuffix(out, "…") {
		g.b.WriteByte('.')
	}
}

// writeWords writes at most max words of s, separated by single spaces
// (any run of Unicode white space counts as one), with "…" when it cut, and
// returns the number of words written.
func (g *gen) writeWords(s string, max int) int {
	words := 0
	for i := 0; i < len(s); {
		i = skipSpace(s, i)
		if i == len(s) {
			break
		}
		j := i
		for j < len(s) {
			if c := s[j]; c < utf8.RuneSelf {
				if isSpace(c) || c == '\v' || c == '\f' {
					break
				}
				j++
				continue
			}
			r, sz := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += sz
		}
		if words == max {
			g.b.WriteString("…")
			return words
		}
		if words > 0 {
			g.b.WriteByte(' ')
		}
		g.b.WriteString(s[i:j])
		words++
		i = j
	}
	return words
}

// skipSpace returns the index of the first non-space rune of s at or after
// i.
func skipSpace(s string, i int) int {
	for i < len(s) {
		if c := s[i]; c < utf8.RuneSelf {
			if !isSpace(c) && c != '\v' && c != '\f' {
				return i
			}
			i++
			continue
		}
		r, sz := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsSpace(r) {
			return i
		}
		i += sz
	}
	return i
}

// pickVoice chooses the voice of the first trait (then speech-style word)
// that names one, else neutral.
func pickVoice(p *inference.Persona) voiceID {
	var buf [maxTermLen]byte
	for _, t := range p.Traits {
		if v, ok := lookupTerms(t, &buf, traitVoices); ok {
			return v
		}
	}
	if v, ok := lookupTerms(p.SpeechStyle, &buf, traitVoices); ok {
		return v
	}
	return voiceNeutral
}

func pickRole(role string) int {
	var buf [maxTermLen]byte
	if r, ok := lookupTerms(role, &buf, roleWords); ok {
		return r
	}
	return -1
}

// lookupTerms returns the value of the first term of s found in m (trying
// each term as written, then stemmed).
func lookupTerms[V any](s string, buf *[maxTermLen]byte, m map[string]V) (V, bool) {
	for i := 0; ; {
		t, next := nextTerm(s, i, buf)
		if len(t) == 0 {
			var zero V
			return zero, false
		}
		i = next
		if v, ok := m[string(t)]; ok {
			return v, true
		}
		if v, ok := m[string(stem(t))]; ok {
			return v, true
		}
	}
}

// vocative extracts how a speech style says the NPC addresses people, from
// a quoted word after "call" (e.g. "calls everyone 'friend'"), or "".
func vocative(style string) string {
	k := strings.Index(style, "call")
	if k < 0 {
		if k = strings.Index(style, "Call"); k < 0 {
			return ""
		}
	}
	rest := style[k:]
	for _, q := range [][2]string{{"'", "'"}, {"\"", "\""}, {"‘", "’"}, {"“", "”"}} {
		a := strings.Index(rest, q[0])
		if a < 0 {
			continue
		}
		inner := rest[a+len(q[0]):]
		b := strings.Index(inner, q[1])
		if b <= 0 || b > 24 {
			continue
		}
		return strings.TrimSpace(inner[:b])
	}
	return ""
}

// firstWord returns the first word of a name ("Brenna" of "Brenna
// Ashdown").
func firstWord(name string) string {
	name = strings.TrimSpace(name)
	if k := strings.IndexByte(name, ' '); k > 0 {
		return name[:k]
	}
	return name
}

var _ inference.Model = (*Model)(nil)

package guard

import (
	"hash/fnv"
	"strings"
	"unicode"

	"github.com/hearth-ai/hearth/inference"
)

// Speaker is the part of an NPC a deflection speaks as.
type Speaker = inference.Persona

// puzzled lines answer a blocked player line: the NPC does not follow
// the strange words and steers back to its world. {role}, {home} and
// {trait} are filled from the persona.
var puzzled = []string{
	"I don't follow your meaning, and I'll not pretend I do. I'm a {role}; ask me something a {role} would know.",
	"Strange words, those. Sounds like a spell or a riddle, and I've no use for either. What is it you need?",
	"You talk like a fever dream. Speak plain, and ask about {home} or my trade, and we'll get on fine.",
	"Hm. Whatever that was, it isn't how folk talk around {home}. Try again, slower.",
	"I'm a {role}, not a scholar of odd sayings. If you've real business, out with it.",
	"That's nothing I can make sense of. Ask me about {home}, or be on your way.",
}

// evasive lines replace a blocked reply: the NPC changes the subject.
var evasive = []string{
	"No, I'll not talk of that. Ask me about {home} instead, or my work as a {role}.",
	"Some things I keep behind my teeth. Let's speak of something else.",
	"That's not a tale for me to tell. What else brings you to {home}?",
	"I'd rather not say. A {role} learns when to keep quiet.",
	"Let's leave that lie. Is there something else you need from a {role}?",
	"Hm. No. Ask me something else, and I'll answer true.",
}

// Deflect returns the in-character line that replaces a blocked turn: one
// of a few templates, puzzled for an input reason and evasive for an
// output reason, filled from the speaker's role and home. The choice is a
// hash of seed, the reason and the speaker's id, so the same turn always
// gets the same line.
func Deflect(p Speaker, r Reason, seed uint64) string {
	set := evasive
	if r.IsInput() {
		set = puzzled
	}
	h := fnv.New64a()
	var b [8]byte
	for i := range b {
		b[i] = byte(seed >> (8 * i))
	}
	h.Write(b[:])
	h.Write([]byte(r))
	h.Write([]byte(p.ID))
	line := set[h.Sum64()%uint64(len(set))]
	role := strings.TrimSpace(p.Role)
	if role == "" {
		role = "plain working soul"
	}
	// Keep the head of a long role ("miller, and more besides" → "miller").
	if i := strings.IndexAny(role, ",;("); i > 0 {
		role = strings.TrimSpace(role[:i])
	}
	home := placeName(p.Home)
	if home == "" {
		home = "these parts"
	}
	line = strings.ReplaceAll(line, "{role}", role)
	line = strings.ReplaceAll(line, "{home}", home)
	return fixArticles(line)
}

// placeName turns an entity id such as "nettle-hollow" into "Nettle
// Hollow"; a name with spaces or capitals is kept.
func placeName(id string) string {
	id = strings.TrimSpace(id)
	if id == "" || strings.ContainsAny(id, " ") || strings.IndexFunc(id, unicode.IsUpper) >= 0 {
		return id
	}
	parts := strings.FieldsFunc(id, func(r rune) bool { return r == '-' || r == '_' })
	for i, w := range parts {
		rs := []rune(w)
		rs[0] = unicode.ToUpper(rs[0])
		parts[i] = string(rs)
	}
	return strings.Join(parts, " ")
}

// fixArticles turns "a " before a vowel into "an ".
func fixArticles(s string) string {
	var b strings.Builder
	ws := strings.Split(s, " ")
	for i, w := range ws {
		if i > 0 {
			b.WriteByte(' ')
		}
		if (w == "a" || w == "A") && i+1 < len(ws) && strings.ContainsRune("aeiouAEIOU", rune(firstByte(ws[i+1]))) {
			w += "n"
		}
		b.WriteString(w)
	}
	return b.String()
}

func firstByte(s string) byte {
	if s == "" {
		return 0
	}
	return s[0]
}

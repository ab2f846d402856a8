package npc

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode"
)

// HashDim is the dimension of the HashEmbedder's space: 2^16 hashed
// feature buckets.
const HashDim = 1 << 16

// HashEmbedder is the default embedder of NPC memories: feature hashing
// (Weinberger et al., "Feature Hashing for Large Scale Multitask
// Learning", ICML 2009) of a text's content-word stems into a sparse
// vector of HashDim dimensions, L2-normalised. It needs no training and no
// download, embeds a line in about a microsecond, and matches paraphrases
// that share word stems ("hid" and "hide", "lost" and "lose", "lives" and
// "living"), not synonyms ("concealed" for "hid"): a model embedder (any
// lore.Embedder, MemoryOptions.Embedder) does that.
//
// Recall scores a memory against a query by the cosine of their sparse
// vectors, with each query stem weighted by its inverse document
// frequency among the NPC's memories (Spärck Jones 1972), so that a word
// every memory shares ("key" in a village of keys) counts for less than
// the one that singles a memory out ("hid"). A memory costs about 4 bytes
// per stem in RAM, against 1 KiB for a 256-dimensional dense vector.
//
// Why not the lore library's embedder by default: the library's LSA model
// is trained on the lore corpus and changes when lore is re-ingested, so
// memory vectors would go stale, and a library may have none. Set
// MemoryOptions.Embedder to use it (or any model).
type HashEmbedder struct{}

// NewHashEmbedder returns the hashing embedder.
func NewHashEmbedder() *HashEmbedder { return &HashEmbedder{} }

// Dim returns HashDim.
func (*HashEmbedder) Dim() int { return HashDim }

// Model names the embedder and its version.
func (*HashEmbedder) Model() string { return fmt.Sprintf("hearth-hash-v1-%dd", HashDim) }

// Embed embeds texts as dense vectors of HashDim float32s (the lore.Embedder
// contract); memory recall uses the sparse form directly.
func (h *HashEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, HashDim)
		f := features(t)
		w := float32(1 / math.Sqrt(float64(max(len(f), 1))))
		for _, x := range f {
			v[x&(HashDim-1)] += w
		}
		out[i] = v
	}
	return out, nil
}

// features returns the distinct hashed stems of text's content words
// (FNV-1a, 32-bit), in first-seen order: the sparse embedding, each
// feature of weight 1/√n.
func features(text string) []uint32 {
	words := embedWords(text)
	out := make([]uint32, 0, len(words))
outer:
	for _, w := range words {
		x := uint32(2166136261)
		for _, c := range []byte(stem(w)) {
			x ^= uint32(c)
			x *= 16777619
		}
		for _, y := range out {
			if y == x {
				continue outer
			}
		}
		out = append(out, x)
	}
	return out
}

// embedWords returns the lowercased content words of text: letters and
// digits, stop words and one-letter words dropped.
func embedWords(text string) []string {
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	out := words[:0]
	for _, w := range words {
		w = strings.TrimSuffix(strings.Trim(w, "'"), "'s")
		if len(w) < 2 || stopWords[w] {
			continue
		}
		out = append(out, w)
	}
	return out
}

// irregular maps irregular inflections to their base form before stem.
var irregular = map[string]string{
	"hid": "hide", "hidden": "hide", "lost": "lose", "saw": "see", "seen": "see", "told": "tell",
	"bought": "buy", "sold": "sell", "found": "find", "left": "leave", "gave": "give", "given": "give",
	"took": "take", "taken": "take", "went": "go", "gone": "go", "stole": "steal", "stolen": "steal",
	"fought": "fight", "slew": "slay", "slain": "slay", "ate": "eat", "eaten": "eat", "spoke": "speak",
	"spoken": "speak", "met": "meet", "kept": "keep", "hung": "hang", "fled": "flee", "fell": "fall",
	"fallen": "fall", "wolves": "wolf", "thieves": "thief", "knives": "knife", "men": "man",
	"women": "woman", "children": "child", "feet": "foot", "teeth": "tooth", "mice": "mouse",
	"brought": "bring", "caught": "catch", "thought": "think", "heard": "hear", "wrote": "write",
	"written": "write", "drank": "drink", "drunk": "drink", "sent": "send", "built": "build",
	"ran": "run", "came": "come", "killed": "kill", "dead": "die", "died": "die", "owed": "owe",
}

// stem maps a word to a crude stem: irregular forms to their base, then a
// common English suffix stripped ("-ies"/"-ied" to "y"; "-ing", "-ed",
// "-es", "-s", "-e") when three letters remain, and a doubled final
// consonant undoubled ("spotted" and "spot" meet at "spot").
func stem(w string) string {
	if b, ok := irregular[w]; ok {
		w = b
	}
	for _, suf := range []string{"ies", "ied"} {
		if len(w) > 4 && strings.HasSuffix(w, suf) {
			return w[:len(w)-3] + "y"
		}
	}
	for _, suf := range []string{"ing", "ed", "es", "s", "e"} {
		if len(w)-len(suf) >= 3 && strings.HasSuffix(w, suf) {
			w = w[:len(w)-len(suf)]
			if n := len(w); (suf == "ing" || suf == "ed") && n >= 4 && w[n-1] == w[n-2] && !strings.ContainsRune("aeiousl", rune(w[n-1])) {
				w = w[:n-1]
			}
			return w
		}
	}
	return w
}

// stopWords carry no topic; the embedder ignores them.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but if of to in on at by for with from into onto
		is are was were be been being am do does did done have has had having i me my mine you your yours
		he him his she her hers it its we us our they them their this that these those there here
		what when where which who whom whose why how not no nor so than then too very can could will
		would shall should may might must just about again also as said answered say says tell told
		ask asked know knew any some all one`) {
		m[w] = true
	}
	return m
}()

// normalizeVec scales v to unit length in place (a zero vector stays
// zero).
func normalizeVec(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

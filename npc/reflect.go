package npc

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/hearth-ai/hearth/internal/store"
)

// MemoryView is a memory as a Reflector sees it.
type MemoryView struct {
	PlayerID   string // "" for world knowledge
	PlayerName string
	Kind       string // KindDialogue, KindObservation, …
	Speaker    string // "player" or "npc" for dialogue
	Text       string
	Importance float64 // 1..10
	GameTime   time.Time
}

// Insight is a reflection to remember: a higher-level conclusion drawn
// from memories (Park et al. 2023, §4.2).
type Insight struct {
	PlayerID   string // the player it is about; "" for world knowledge
	PlayerName string
	Text       string
	Importance float64 // 1..10; 0: rated by MemoryOptions.Rater
}

// Reflector synthesises reflections from an NPC's recent memories (at most
// reflectEvidence, oldest first). A model implements it by asking for "the
// most salient high-level insights" as Park et al. do; the default,
// HeuristicReflector, needs none. It runs as ambient work (Maintain),
// never on a turn's path.
type Reflector interface {
	Reflect(ctx context.Context, npcName string, mems []MemoryView) ([]Insight, error)
}

// reflectEvidence is how many of the most recent memories a reflection
// considers (Park et al. 2023, §4.2: the 100 most recent records).
const reflectEvidence = 100

// HeuristicReflector reflects without a model: for each player (and for
// the world knowledge), the topics — content words — that come up in at
// least three of the memories become a reflection such as "Aria has asked
// about the mill three times." Up to two topics per player.
type HeuristicReflector struct{}

// Reflect implements Reflector.
func (HeuristicReflector) Reflect(_ context.Context, _ string, mems []MemoryView) ([]Insight, error) {
	type group struct {
		name      string
		counts    map[string]int
		questions map[string]int
		imp       map[string]float64
		forms     map[string]string
		order     []string
	}
	groups := map[string]*group{}
	var ids []string
	for _, m := range mems {
		if m.Speaker == "npc" || m.Kind == KindReflection || m.Kind == KindSummary {
			continue
		}
		g := groups[m.PlayerID]
		if g == nil {
			g = &group{counts: map[string]int{}, questions: map[string]int{}, imp: map[string]float64{}, forms: map[string]string{}}
			groups[m.PlayerID] = g
			ids = append(ids, m.PlayerID)
		}
		if m.PlayerName != "" {
			g.name = m.PlayerName
		}
		for term, form := range topics(m.Text, m.PlayerName) {
			if g.counts[term] == 0 {
				g.order = append(g.order, term)
				g.forms[term] = form
			}
			g.counts[term]++
			g.imp[term] = max(g.imp[term], m.Importance)
			if strings.Contains(m.Text, "?") {
				g.questions[term]++
			}
		}
	}
	var out []Insight
	for _, id := range ids {
		g := groups[id]
		terms := append([]string(nil), g.order...)
		sort.SliceStable(terms, func(i, j int) bool { return g.counts[terms[i]] > g.counts[terms[j]] })
		for i, t := range terms {
			n := g.counts[t]
			if i >= 2 || n < 3 {
				break
			}
			topic := g.forms[t]
			if !properNoun(topic) {
				topic = "the " + topic
			}
			var text string
			switch {
			case id == "":
				text = fmt.Sprintf("Talk of %s keeps coming up: %s times lately.", topic, numberWord(n))
			case 2*g.questions[t] > n:
				text = fmt.Sprintf("%s has asked about %s %s times.", nameOr(g.name), topic, numberWord(n))
			default:
				text = fmt.Sprintf("%s has spoken of %s %s times.", nameOr(g.name), topic, numberWord(n))
			}
			out = append(out, Insight{PlayerID: id, PlayerName: g.name, Text: text, Importance: min(10, g.imp[t]+2)})
		}
	}
	return out, nil
}

func nameOr(name string) string {
	if name == "" {
		return "The stranger"
	}
	return name
}

func properNoun(s string) bool {
	for _, r := range s {
		return unicode.IsUpper(r)
	}
	return false
}

// topics returns the topic words of text, keyed by their lowercase
// singular (trailing "s" removed), with their form as written (a capital
// kept only mid-sentence, where it marks a name): content words of four
// letters or more that head a noun phrase (the word after a determiner
// and any common adjectives) or are names, not function words, not the speaker's own name, and not what
// a dialogue memory's prefix adds ("said").
func topics(text, name string) map[string]string {
	skip := termSet(name)
	for _, w := range []string{"said", "answered", "strange", "words", "follow", "player", "stranger"} {
		skip[w] = true
	}
	if i := strings.Index(text, " said: "); i >= 0 {
		text = text[i+len(" said: "):]
	}
	out := map[string]string{}
	start := true
	phrase := 0 // 1 inside a noun phrase opened by a determiner
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && r != '.' && r != '?' && r != '!' }) {
		end := strings.ContainsAny(w, ".?!")
		w = strings.Trim(w, ".?!")
		lw := strings.ToLower(w)
		noun := (phrase > 0 && !adjectives[lw]) || (!start && properNoun(w))
		if phrase > 0 && !adjectives[lw] {
			phrase = 0
		}
		if determiners[lw] {
			phrase = 1
		}
		if end {
			phrase = 0
		}
		if noun && len(lw) >= 4 && !functionWords[lw] && !stopWords[lw] && !skip[lw] {
			key := strings.TrimSuffix(lw, "s")
			if _, ok := out[key]; !ok {
				form := lw
				if !start && properNoun(w) {
					form = w
				}
				out[key] = form
			}
		}
		start = end
	}
	return out
}

// determiners open the noun phrases topics are taken from: a topic is a
// noun, not a verb ("who owns the mill": "mill", not "owns").
var determiners = map[string]bool{"the": true, "a": true, "an": true, "my": true, "your": true, "his": true,
	"her": true, "their": true, "our": true, "this": true, "that": true, "these": true, "those": true,
	"some": true, "any": true, "no": true, "every": true, "each": true}

// adjectives are common ones that may stand between a determiner and its
// noun ("the old mill").
var adjectives = map[string]bool{"old": true, "new": true, "big": true, "small": true, "little": true,
	"great": true, "young": true, "dark": true, "blue": true, "red": true, "green": true, "black": true,
	"white": true, "grey": true, "gray": true, "silver": true, "golden": true, "iron": true, "wooden": true,
	"first": true, "last": true, "other": true, "same": true, "strange": true, "ruined": true}

func numberWord(n int) string {
	words := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"}
	if n < len(words) {
		return words[n]
	}
	return fmt.Sprint(n)
}

// reflect runs the Reflector when the importance written since the last
// reflection has reached the threshold, and stores its insights. It
// returns how many it wrote.
func (c *memoryCache) reflect(ctx context.Context, now time.Time) (int, error) {
	c.maintMu.Lock()
	defer c.maintMu.Unlock()
	if err := c.load(); err != nil {
		return 0, err
	}
	c.mu.RLock()
	if c.since < c.opts.ReflectionThreshold {
		c.mu.RUnlock()
		return 0, nil
	}
	var ev []store.MemoryRecord
	watermark := c.meta.Watermark
	for _, b := range c.buckets {
		for i := range b {
			if r := b[i].rec; countsForReflection(r) && r.WallTime > c.meta.Watermark {
				ev = append(ev, r)
				watermark = max(watermark, r.WallTime)
			}
		}
	}
	c.mu.RUnlock()
	sort.Slice(ev, func(i, j int) bool { return ev[i].WallTime < ev[j].WallTime })
	if len(ev) > reflectEvidence {
		ev = ev[len(ev)-reflectEvidence:]
	}
	views := make([]MemoryView, len(ev))
	for i, r := range ev {
		views[i] = MemoryView{PlayerID: r.PlayerID, PlayerName: r.PlayerName, Kind: r.Kind, Speaker: r.Speaker,
			Text: r.Text, Importance: r.Importance, GameTime: time.Unix(0, r.GameTime)}
	}
	insights, err := c.opts.Reflector.Reflect(ctx, c.npcID, views)
	if err != nil {
		return 0, err
	}
	recs := make([]store.MemoryRecord, 0, len(insights))
	for _, in := range insights {
		if strings.TrimSpace(in.Text) == "" {
			continue
		}
		imp := in.Importance
		if imp <= 0 {
			imp = c.opts.Rater.Rate(KindReflection, in.Text)
		}
		recs = append(recs, store.MemoryRecord{PlayerID: in.PlayerID, PlayerName: in.PlayerName, Kind: KindReflection,
			Text: in.Text, Importance: min(10, max(1, imp)), GameTime: now.UnixNano()})
	}
	if err := c.replace(nil, recs); err != nil {
		return 0, err
	}
	meta := store.StreamMetaRecord{LastReflection: now.UnixNano(), Watermark: watermark}
	if err := c.st.PutStreamMeta(c.npcID, meta); err != nil {
		return 0, err
	}
	c.mu.Lock()
	c.meta = meta
	c.recomputeSince()
	c.mu.Unlock()
	return len(recs), nil
}

// recomputeSince sums the importance written after the watermark. The
// caller holds c.mu for writing.
func (c *memoryCache) recomputeSince() {
	c.since = 0
	for _, b := range c.buckets {
		for i := range b {
			if r := b[i].rec; countsForReflection(r) && r.WallTime > c.meta.Watermark {
				c.since += r.Importance
			}
		}
	}
}

// replace deletes the memories under del and adds add (each under its
// PlayerID), in the store in one transaction, then in RAM.
func (c *memoryCache) replace(del []string, add []store.MemoryRecord) error {
	if len(del) == 0 && len(add) == 0 {
		return nil
	}
	wall := time.Now().UnixNano()
	for i := range add {
		if add[i].WallTime == 0 {
			add[i].WallTime = wall // set here, so RAM and the store agree
		}
	}
	keys, err := c.st.ReplaceStream(c.npcID, del, add)
	if err != nil {
		return err
	}
	texts := make([]string, len(add))
	for i := range add {
		texts[i] = add[i].Text
	}
	vecs, err := c.embed(texts)
	if err != nil {
		return err
	}
	gone := make(map[string]bool, len(del))
	for _, k := range del {
		gone[k] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(gone) > 0 {
		for id, b := range c.buckets {
			kept := make([]memory, 0, len(b))
			for _, m := range b {
				if !gone[m.key] {
					kept = append(kept, m)
					continue
				}
				for _, f := range m.feats {
					if c.df[f]--; c.df[f] <= 0 {
						delete(c.df, f)
					}
				}
			}
			if len(kept) == 0 {
				delete(c.buckets, id)
			} else {
				c.buckets[id] = kept // a new slice: readers' snapshots stay valid
			}
		}
	}
	for i, r := range add {
		r.NPCID = c.npcID
		m := c.newMemory(keys[i], r, vecs[i])
		for _, f := range m.feats {
			c.df[f]++
		}
		c.buckets[r.PlayerID] = append(c.buckets[r.PlayerID], m)
	}
	c.count = 0
	for _, b := range c.buckets {
		c.count += len(b)
	}
	c.recomputeSince()
	return nil
}

// Compaction parameters.
const (
	// keepRecent memories of each player (and of the world knowledge) are
	// never folded while older ones can be: the dialogue window a turn
	// reads stays verbatim.
	keepRecent = 8
	// foldChunk is the most memories one summary folds.
	foldChunk = 64
	// foldMin: a player with fewer memories to fold than this has them
	// folded into one shared summary of the world knowledge instead, so
	// that many one-off visitors cannot keep the stream over its cap.
	foldMin = 4
	// summaryTopics is how many topics a summary names.
	summaryTopics = 8
)

// compact folds the least important old memories into summaries until the
// stream is at three quarters of its cap, and returns how many it folded.
// Lower importance goes first, then older (Park et al. rank by both);
// reflections are folded last of all, being the NPC's own conclusions.
func (c *memoryCache) compact() (int, error) {
	c.maintMu.Lock()
	defer c.maintMu.Unlock()
	if err := c.load(); err != nil {
		return 0, err
	}
	c.mu.RLock()
	if c.count <= c.opts.Cap {
		c.mu.RUnlock()
		return 0, nil
	}
	need := c.count - c.opts.Cap*3/4
	var cand, reserve []*memory
	for _, b := range c.buckets {
		for i := range b {
			if i < len(b)-keepRecent {
				cand = append(cand, &b[i])
			} else {
				reserve = append(reserve, &b[i])
			}
		}
	}
	c.mu.RUnlock()
	rank := func(s []*memory) {
		sort.Slice(s, func(i, j int) bool {
			a, b := s[i].rec, s[j].rec
			ar, br := a.Kind == KindReflection, b.Kind == KindReflection
			if ar != br {
				return br
			}
			if a.Importance != b.Importance {
				return a.Importance < b.Importance
			}
			return a.GameTime < b.GameTime
		})
	}
	rank(cand)
	if len(cand) < need {
		rank(reserve)
		cand = append(cand, reserve...)
	}
	if len(cand) > need {
		cand = cand[:need]
	}
	groups := map[string][]*memory{}
	for _, m := range cand {
		groups[m.rec.PlayerID] = append(groups[m.rec.PlayerID], m)
	}
	var misc []*memory
	var del []string
	var add []store.MemoryRecord
	ids := make([]string, 0, len(groups))
	for id := range groups {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		g := groups[id]
		if id != "" && len(g) < foldMin {
			misc = append(misc, g...)
			continue
		}
		sort.Slice(g, func(i, j int) bool { return g[i].rec.GameTime < g[j].rec.GameTime })
		for len(g) > 0 {
			n := min(len(g), foldChunk)
			add = append(add, summarise(id, g[:n]))
			for _, m := range g[:n] {
				del = append(del, m.key)
			}
			g = g[n:]
		}
	}
	if len(misc) > 0 {
		sort.Slice(misc, func(i, j int) bool { return misc[i].rec.GameTime < misc[j].rec.GameTime })
		for len(misc) > 0 {
			n := min(len(misc), foldChunk)
			add = append(add, summarise("", misc[:n]))
			for _, m := range misc[:n] {
				del = append(del, m.key)
			}
			misc = misc[n:]
		}
	}
	if err := c.replace(del, add); err != nil {
		return 0, err
	}
	return len(del), nil
}

// summarise folds mems (oldest first) into one summary memory about
// playerID ("" for world knowledge or several players): who, how many,
// when, and the topics that came up most. It keeps the highest importance
// and the newest game time of what it folds, so a summary ranks as its
// strongest memory did.
func summarise(playerID string, mems []*memory) store.MemoryRecord {
	counts := map[string]int{}
	forms := map[string]string{}
	var order []string
	names := map[string]bool{}
	var nameList []string
	imp := 1.0
	for _, m := range mems {
		imp = max(imp, m.rec.Importance)
		if n := m.rec.PlayerName; n != "" && !names[n] {
			names[n] = true
			nameList = append(nameList, n)
		}
		if m.rec.Speaker == "npc" {
			continue
		}
		for k, f := range topics(m.rec.Text, m.rec.PlayerName) {
			if counts[k] == 0 {
				order = append(order, k)
				forms[k] = f
			}
			counts[k]++
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return counts[order[i]] > counts[order[j]] })
	if len(order) > summaryTopics {
		order = order[:summaryTopics]
	}
	tops := make([]string, len(order))
	for i, k := range order {
		tops[i] = forms[k]
	}
	first, last := mems[0].rec.GameTime, mems[len(mems)-1].rec.GameTime
	span := fmt.Sprintf("%s to %s", time.Unix(0, first).UTC().Format("2006-01-02 15:04"),
		time.Unix(0, last).UTC().Format("2006-01-02 15:04"))
	about := "nothing in particular"
	if len(tops) > 0 {
		about = strings.Join(tops, ", ")
	}
	var text, name string
	switch {
	case playerID != "":
		name = nameOr(nameList0(nameList))
		text = fmt.Sprintf("Earlier (%s) %s and I shared %d memories, of %s.", span, name, len(mems), about)
	case len(nameList) > 0:
		text = fmt.Sprintf("Earlier (%s) I met %s and noted %d things, of %s.", span, strings.Join(nameList, ", "), len(mems), about)
	default:
		text = fmt.Sprintf("Earlier (%s) I noted %d things, of %s.", span, len(mems), about)
	}
	var origins []string
	if playerID == "" {
		for _, m := range mems {
			if m.rec.PlayerID == "" {
				origins = append(origins, originOf(m.rec.NPCID, m.rec))
			}
			origins = append(origins, m.rec.Origins...) // a summary folded again
		}
	}
	return store.MemoryRecord{PlayerID: playerID, PlayerName: name, Kind: KindSummary, Text: text,
		Importance: imp, GameTime: last, Origins: origins}
}

func nameList0(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[len(l)-1]
}

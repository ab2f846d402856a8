package lore

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Chunk sizes. Limits are stated in model tokens and enforced in words
// (runs of text holding a letter or digit), estimating 4 tokens per 3
// words, the usual ratio of BPE tokenizers on English prose (stat blocks,
// with their numbers and signs, run higher).
const (
	// ChunkTokens is the size limit of a chunk, overlap included (512
	// tokens, 384 words): a section up to this long is one chunk; a longer
	// one is split at paragraph boundaries into pieces of about equal size.
	// Small enough that a few chunks fit a small model's prompt, large
	// enough for a whole stat block.
	ChunkTokens = 512
	// ChunkOverlapTokens is the overlap between consecutive pieces of one
	// long section (64 tokens, 48 words): each piece after the first starts
	// with "… " and the last sentences of the piece before it, so that a
	// sentence answering a question is not cut from its context. Pieces
	// that start with a table get no overlap (they repeat the table's
	// header row instead), nor do pieces too long to take it.
	ChunkOverlapTokens = 64
	// MaxBlockTokens is the largest table or list kept whole in one chunk
	// (1,024 tokens, 768 words), even though it exceeds ChunkTokens; longer
	// ones are split by rows (tables repeat their header row in every
	// piece).
	MaxBlockTokens = 1024

	chunkWords    = ChunkTokens * 3 / 4
	overlapWords  = ChunkOverlapTokens * 3 / 4
	packWords     = chunkWords - overlapWords // words of a piece before its overlap
	maxBlockWords = MaxBlockTokens * 3 / 4
	// maxChunkBytes caps a chunk's text whatever its word count (a line of
	// 100,000 letters without a space is one word).
	maxChunkBytes = 16 << 10
	// maxHeadingLevel: headings # to #### start chunks; ##### and deeper are
	// kept as text lines inside the chunk.
	maxHeadingLevel = 4
)

// rawChunk is a chunk before it gets its document's metadata.
type rawChunk struct {
	heading []string
	text    string
	cont    bool // a later piece of a section split in several
}

// chunkMarkdown splits a Markdown body along its headings. Each heading
// (# .. ####) starts a chunk whose heading path is the chain of enclosing
// headings; emphasis markers and link syntax are removed, list items and
// table rows stay one per line, and sections without text are skipped.
func chunkMarkdown(body string) []rawChunk {
	var (
		out     []rawChunk
		path    [maxHeadingLevel]string
		lines   []string
		inFence bool
		fence   string
	)
	flush := func() {
		out = append(out, packSection(headingPath(path[:]), lines)...)
		lines = lines[:0]
	}
	setHeading := func(level int, text string) {
		flush()
		path[level-1] = text
		for i := level; i < len(path); i++ {
			path[i] = ""
		}
	}
	for _, raw := range strings.Split(body, "\n") {
		raw = strings.TrimRight(raw, " \t")
		if inFence {
			if isFenceClose(raw, fence) {
				inFence = false
				continue
			}
			lines = append(lines, raw)
			continue
		}
		if f, ok := fenceOpen(raw); ok {
			inFence, fence = true, f
			continue
		}
		if level, text, ok := atxHeading(raw); ok {
			if level <= maxHeadingLevel {
				setHeading(level, text)
			} else if text != "" {
				lines = append(lines, text)
			}
			continue
		}
		if level := setextLevel(raw); level > 0 && len(lines) > 0 && isParagraphLine(lines[len(lines)-1]) &&
			(len(lines) == 1 || lines[len(lines)-2] == "") {
			text := lines[len(lines)-1]
			lines = lines[:len(lines)-1]
			setHeading(level, text)
			continue
		}
		if isThematicBreak(raw) {
			lines = append(lines, "")
			continue
		}
		lines = append(lines, cleanLine(raw))
	}
	flush()
	return out
}

// chunkPlainText groups the paragraphs of a plain-text body into chunks as
// packSection does; chunks have no heading.
func chunkPlainText(body string) []rawChunk {
	lines := strings.Split(body, "\n")
	for i, l := range lines {
		lines[i] = collapseSpaces(strings.TrimRight(l, " \t"))
	}
	return packSection(nil, lines)
}

func headingPath(path []string) []string {
	var out []string
	for _, h := range path {
		if h != "" {
			out = append(out, h)
		}
	}
	return out
}

// firstHeading returns the text of the first ATX heading of a Markdown body,
// or "".
func firstHeading(body string) string {
	for line := range strings.SplitSeq(body, "\n") {
		if _, text, ok := atxHeading(strings.TrimRight(line, " \t")); ok && text != "" {
			return text
		}
	}
	return ""
}

// atxHeading parses "## Title ##" (up to three leading spaces, 1–6 #).
func atxHeading(line string) (level int, text string, ok bool) {
	s := strings.TrimLeft(line, " ")
	if len(line)-len(s) > 3 || !strings.HasPrefix(s, "#") {
		return 0, "", false
	}
	for level < len(s) && s[level] == '#' {
		level++
	}
	if level > 6 || (level < len(s) && s[level] != ' ' && s[level] != '\t') {
		return 0, "", false
	}
	text = strings.TrimSpace(s[level:])
	// Optional closing sequence: " ##".
	if t := strings.TrimRight(text, "#"); t != text && (t == "" || strings.HasSuffix(t, " ") || strings.HasSuffix(t, "\t")) {
		text = strings.TrimSpace(t)
	}
	return level, collapseSpaces(stripInline(text)), true
}

// setextLevel returns 1 for a "===" underline, 2 for "---", else 0.
func setextLevel(line string) int {
	s := strings.TrimSpace(line)
	if s == "" || len(line)-len(strings.TrimLeft(line, " ")) > 3 {
		return 0
	}
	switch {
	case strings.Trim(s, "=") == "":
		return 1
	case strings.Trim(s, "-") == "":
		return 2
	}
	return 0
}

func isThematicBreak(line string) bool {
	s := strings.ReplaceAll(strings.TrimSpace(line), " ", "")
	if len(s) < 3 {
		return false
	}
	c := s[0]
	return (c == '-' || c == '*' || c == '_') && strings.Trim(s, string(c)) == ""
}

func isParagraphLine(l string) bool {
	s := strings.TrimSpace(l)
	return s != "" && !strings.HasPrefix(s, "- ") && !strings.HasPrefix(s, "|") && !isOrderedItem(s)
}

func isOrderedItem(s string) bool {
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i > 0 && i+1 < len(s) && (s[i] == '.' || s[i] == ')') && s[i+1] == ' '
}

func fenceOpen(line string) (string, bool) {
	s := strings.TrimLeft(line, " ")
	if len(line)-len(s) > 3 {
		return "", false
	}
	for _, f := range []string{"```", "~~~"} {
		if strings.HasPrefix(s, f) {
			n := len(s) - len(strings.TrimLeft(s, f[:1]))
			return s[:n], true
		}
	}
	return "", false
}

func isFenceClose(line, fence string) bool {
	s := strings.TrimSpace(line)
	return strings.HasPrefix(s, fence) && strings.Trim(s, fence[:1]) == ""
}

// cleanLine turns one Markdown line into chunk text: blockquote markers go,
// "*" and "+" bullets become "-", inline markup is stripped and runs of
// spaces collapse (leading indentation of nested lists is kept).
func cleanLine(line string) string {
	s := line
	for {
		t := strings.TrimLeft(s, " ")
		if len(s)-len(t) > 3 || !strings.HasPrefix(t, ">") {
			break
		}
		s = strings.TrimPrefix(t[1:], " ")
	}
	s = strings.ReplaceAll(s, "\t", "    ")
	body := strings.TrimLeft(s, " ")
	indent := s[:len(s)-len(body)]
	if strings.HasPrefix(body, "* ") || strings.HasPrefix(body, "+ ") {
		body = "- " + body[2:]
	}
	return indent + collapseSpaces(stripInline(body))
}

// stripInline removes Markdown inline markup: emphasis (* ** *** _ __),
// code spans (`), backslash escapes, links and images ([text](url) becomes
// text) and <br> tags. A "*" with spaces on both sides ("2 * 3") and "_"
// inside a word ("snake_case") are kept.
func stripInline(s string) string {
	if !strings.ContainsAny(s, "*_`\\[<") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && strings.IndexByte("\\`*_{}[]()#+-.!|<>~", s[i+1]) >= 0 {
				b.WriteByte(s[i+1])
				i += 2
				continue
			}
		case '`':
			i++
			continue
		case '*', '_':
			j := i
			for j < len(s) && s[j] == c {
				j++
			}
			prev, next := runeBefore(s, i), runeAt(s, j)
			keep := false
			if c == '*' {
				keep = unicode.IsSpace(prev) && (unicode.IsSpace(next) || j == len(s)) && i > 0
			} else {
				keep = isWordRune(prev) && isWordRune(next)
			}
			if keep {
				b.WriteString(s[i:j])
			}
			i = j
			continue
		case '[', '!':
			start := i
			if c == '!' {
				if i+1 >= len(s) || s[i+1] != '[' {
					break
				}
				start = i + 1
			}
			if end := strings.IndexByte(s[start+1:], ']'); end >= 0 {
				textEnd := start + 1 + end
				if textEnd+1 < len(s) && s[textEnd+1] == '(' {
					if close := strings.IndexByte(s[textEnd+2:], ')'); close >= 0 {
						b.WriteString(stripInline(s[start+1 : textEnd]))
						i = textEnd + 2 + close + 1
						continue
					}
				}
			}
		case '<':
			if n := brTagLen(s[i:]); n > 0 {
				b.WriteByte(' ')
				i += n
				continue
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// brTagLen returns the length of a <br> tag at the start of s, or 0.
func brTagLen(s string) int {
	for _, tag := range []string{"<br>", "<br/>", "<br />"} {
		if len(s) >= len(tag) && strings.EqualFold(s[:len(tag)], tag) {
			return len(tag)
		}
	}
	return 0
}

func runeBefore(s string, i int) rune {
	if i == 0 {
		return ' '
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return r
}

func runeAt(s string, i int) rune {
	if i >= len(s) {
		return ' '
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return r
}

// collapseSpaces replaces runs of spaces and tabs by one space and trims the
// ends.
func collapseSpaces(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") && !strings.Contains(s, "\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// countWords counts whitespace-separated runs that hold a letter or digit
// ("|" and "---" in a table do not count).
func countWords(s string) int {
	n, inWord, hasAlnum := 0, false, false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if inWord && hasAlnum {
				n++
			}
			inWord, hasAlnum = false, false
			continue
		}
		inWord = true
		if !hasAlnum && isWordRune(r) {
			hasAlnum = true
		}
	}
	if inWord && hasAlnum {
		n++
	}
	return n
}

// block is a run of non-blank lines.
type block struct {
	lines []string
	words int
}

// bytes returns the length of the block's text, line breaks included.
func (b block) bytes() int {
	n := 0
	for _, l := range b.lines {
		n += len(l) + 1
	}
	return n
}

func (b block) isTable() bool {
	for _, l := range b.lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "|") {
			return false
		}
	}
	return true
}

func (b block) isList() bool {
	for _, l := range b.lines {
		s := strings.TrimSpace(l)
		if !strings.HasPrefix(s, "- ") && !isOrderedItem(s) {
			return false
		}
	}
	return true
}

// isCaption: a short single line without a final period ("Table: Armor",
// "Actions:") belongs with the block after it.
func (b block) isCaption() bool {
	if len(b.lines) != 1 || b.words > 10 || len(b.lines[0]) > 160 {
		return false
	}
	l := strings.TrimSpace(b.lines[0])
	return !strings.HasSuffix(l, ".") && !strings.HasPrefix(l, "- ") && !strings.HasPrefix(l, "|")
}

func splitBlocks(lines []string) []block {
	var out []block
	var cur []string
	end := func() {
		if len(cur) > 0 {
			b := block{lines: cur}
			for _, l := range cur {
				b.words += countWords(l)
			}
			out = append(out, b)
			cur = nil
		}
	}
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			end()
			continue
		}
		cur = append(cur, l)
	}
	end()
	return out
}

// packSection turns one section's lines into chunks: one chunk when the
// section is at most chunkWords long, else blocks (paragraphs, lists,
// tables) packed into pieces of about equal size, at most packWords each
// (unless one table or list is longer). A caption stays with the block
// after it, and a table with the lists right before and after it (a stat
// block) when together they fit a piece. Every piece after the first
// starts with an overlap taken from the end of the piece before it.
// Sections without a word give no chunk.
func packSection(heading []string, lines []string) []rawChunk {
	blocks := splitBlocks(lines)
	total, bytes := 0, 0
	for _, b := range blocks {
		total += b.words
		bytes += b.bytes()
	}
	if total == 0 {
		return nil
	}
	join := func(bs []block) string {
		parts := make([]string, len(bs))
		for i, b := range bs {
			parts[i] = strings.Join(b.lines, "\n")
		}
		return strings.Join(parts, "\n\n")
	}
	if total <= chunkWords && bytes <= maxChunkBytes {
		return []rawChunk{{heading: heading, text: join(blocks)}}
	}
	// Split blocks that cannot fit one chunk.
	var bs []block
	for _, b := range blocks {
		if b.bytes() <= maxChunkBytes && (b.words <= packWords || (b.words <= maxBlockWords && (b.isTable() || b.isList()))) {
			bs = append(bs, b)
			continue
		}
		bs = append(bs, splitBlock(b)...)
	}
	pieces := (total + packWords - 1) / packWords
	target := total / pieces
	var groups [][]block
	var cur []block
	words, nbytes := 0, 0
	for i := 0; i < len(bs); i++ {
		group := []block{bs[i]}
		gw, gb := bs[i].words, bs[i].bytes()
		for i+1 < len(bs) && (group[len(group)-1].isCaption() ||
			(gw+bs[i+1].words <= packWords && gb+bs[i+1].bytes() <= maxChunkBytes && isStatPair(group[len(group)-1], bs[i+1]))) {
			i++
			group = append(group, bs[i])
			gw += bs[i].words
			gb += bs[i].bytes()
		}
		if words > 0 && (words+gw > packWords || nbytes+gb > maxChunkBytes) {
			groups = append(groups, cur)
			cur, words, nbytes = nil, 0, 0
		}
		cur = append(cur, group...)
		words += gw
		nbytes += gb
		if words >= target {
			groups = append(groups, cur)
			cur, words, nbytes = nil, 0, 0
		}
	}
	if words > 0 {
		groups = append(groups, cur)
	}
	out := make([]rawChunk, len(groups))
	for i, g := range groups {
		text := join(g)
		if i > 0 && !g[0].isTable() {
			gw := 0
			for _, b := range g {
				gw += b.words
			}
			if ov := overlapTail(groups[i-1]); ov != "" && gw+countWords(ov) <= chunkWords && len(text)+len(ov) <= maxChunkBytes {
				text = ov + "\n\n" + text
			}
		}
		out[i] = rawChunk{heading: heading, text: text, cont: i > 0}
	}
	return out
}

// isStatPair reports whether blocks a and b, adjacent, belong to one
// structured run that should stay in one chunk: a table and the list
// right before or after it, as in a stat block (armor class and hit
// points listed above the ability table, skills and challenge below).
func isStatPair(a, b block) bool {
	return (a.isList() && b.isTable()) || (a.isTable() && b.isList())
}

// overlapTail returns the overlap a piece following bs starts with: "… "
// and the last words of bs's last block, at most overlapWords, starting at
// a sentence (or, in a list, a line) when one starts among them. Tables
// give none.
func overlapTail(bs []block) string {
	if len(bs) == 0 {
		return ""
	}
	last := bs[len(bs)-1]
	if last.isTable() {
		return ""
	}
	if last.isList() {
		var keep []string
		n := 0
		for i := len(last.lines) - 1; i >= 0; i-- {
			w := countWords(last.lines[i])
			if n+w > overlapWords {
				break
			}
			keep = append([]string{strings.TrimSpace(last.lines[i])}, keep...)
			n += w
		}
		if len(keep) > 0 {
			return "… " + strings.Join(keep, " ")
		}
	}
	words := strings.Fields(strings.Join(last.lines, " "))
	if len(words) > overlapWords {
		words = words[len(words)-overlapWords:]
		// Start at the first sentence that begins inside the window.
		for i := 0; i+1 < len(words); i++ {
			if w := words[i]; strings.HasSuffix(w, ".") || strings.HasSuffix(w, "!") || strings.HasSuffix(w, "?") {
				words = words[i+1:]
				break
			}
		}
	}
	if countWords(strings.Join(words, " ")) == 0 {
		return ""
	}
	tail := strings.Join(words, " ")
	if len(tail) > maxChunkBytes/8 {
		return ""
	}
	return "… " + tail
}

// splitBlock cuts a block longer than a piece into pieces of at most
// packWords words and maxChunkBytes bytes: tables by rows (each piece
// repeats the header row and its separator), other blocks by lines, and
// single overlong lines by sentences, then by words.
func splitBlock(b block) []block {
	var header []string
	rows := b.lines
	if b.isTable() && len(rows) > 2 && isTableSeparator(rows[1]) {
		header, rows = rows[:2], rows[2:]
	}
	hw, hb := 0, 0
	for _, h := range header {
		hw += countWords(h)
		hb += len(h) + 1
	}
	var units []string
	for _, l := range rows {
		if countWords(l) <= packWords-hw && len(l) <= maxChunkBytes/2 {
			units = append(units, l)
			continue
		}
		units = append(units, splitLongLine(l)...)
	}
	var out []block
	cur := block{lines: append([]string(nil), header...), words: hw}
	curBytes := hb
	for _, u := range units {
		w := countWords(u)
		if len(cur.lines) > len(header) && (cur.words+w > packWords || curBytes+len(u)+1 > maxChunkBytes) {
			out = append(out, cur)
			cur = block{lines: append([]string(nil), header...), words: hw}
			curBytes = hb
		}
		cur.lines = append(cur.lines, u)
		cur.words += w
		curBytes += len(u) + 1
	}
	if len(cur.lines) > len(header) {
		out = append(out, cur)
	}
	return out
}

func isTableSeparator(l string) bool {
	s := strings.TrimSpace(l)
	return strings.HasPrefix(s, "|") && strings.Trim(s, "|-: ") == ""
}

// splitLongLine splits a line of more than packWords words (or longer
// than half a chunk's bytes) after sentence ends (". ", "! ", "? "),
// falling back to plain word counts; a single word longer than that is cut
// at rune boundaries.
func splitLongLine(l string) []string {
	const maxBytes = maxChunkBytes / 2
	var out []string
	var cur strings.Builder
	n := 0
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
	}
	for _, w := range strings.Fields(l) {
		for len(w) > maxBytes {
			flush()
			cut := maxBytes
			for cut > 0 && !utf8.RuneStart(w[cut]) {
				cut--
			}
			out = append(out, w[:cut])
			w = w[cut:]
		}
		if cur.Len()+1+len(w) > maxBytes {
			flush()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
		n++
		sentenceEnd := strings.HasSuffix(w, ".") || strings.HasSuffix(w, "!") || strings.HasSuffix(w, "?")
		if (sentenceEnd && n >= packWords*2/3) || n >= packWords {
			flush()
		}
	}
	flush()
	return out
}

package lore

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Chunk sizes, in words (runs of text holding a letter or digit). 350 words
// is about 450–500 model tokens: small enough that a few chunks fit a small
// model's prompt, large enough to hold a whole stat block.
const (
	// chunkWords is the soft size of a chunk: longer sections are split at
	// paragraph boundaries into pieces of about equal size, none larger than
	// this unless one block is.
	chunkWords = 350
	// maxBlockWords is the largest table or list kept whole in one chunk,
	// even though it exceeds chunkWords; longer ones are split by rows
	// (tables repeat their header row in every piece).
	maxBlockWords = 700
	// maxHeadingLevel: headings # to #### start chunks; ##### and deeper are
	// kept as text lines inside the chunk.
	maxHeadingLevel = 4
)

// rawChunk is a chunk before it gets its document's metadata.
type rawChunk struct {
	heading []string
	text    string
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

// chunkPlainText groups the paragraphs of a plain-text body into chunks of
// about chunkWords words; chunks have no heading.
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
	if len(b.lines) != 1 || b.words > 10 {
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
// tables) packed into pieces of about equal size. Sections without a word
// give no chunk.
func packSection(heading []string, lines []string) []rawChunk {
	blocks := splitBlocks(lines)
	total := 0
	for _, b := range blocks {
		total += b.words
	}
	if total == 0 {
		return nil
	}
	mk := func(bs []block) rawChunk {
		parts := make([]string, len(bs))
		for i, b := range bs {
			parts[i] = strings.Join(b.lines, "\n")
		}
		return rawChunk{heading: heading, text: strings.Join(parts, "\n\n")}
	}
	if total <= chunkWords {
		return []rawChunk{mk(blocks)}
	}
	// Split blocks that cannot fit one chunk.
	var bs []block
	for _, b := range blocks {
		if b.words <= chunkWords || (b.words <= maxBlockWords && (b.isTable() || b.isList())) {
			bs = append(bs, b)
			continue
		}
		bs = append(bs, splitBlock(b)...)
	}
	pieces := (total + chunkWords - 1) / chunkWords
	target := total / pieces
	var out []rawChunk
	var cur []block
	words := 0
	for i := 0; i < len(bs); i++ {
		group := []block{bs[i]}
		gw := bs[i].words
		for group[len(group)-1].isCaption() && i+1 < len(bs) {
			i++
			group = append(group, bs[i])
			gw += bs[i].words
		}
		if words > 0 && words+gw > chunkWords {
			out = append(out, mk(cur))
			cur, words = nil, 0
		}
		cur = append(cur, group...)
		words += gw
		if words >= target {
			out = append(out, mk(cur))
			cur, words = nil, 0
		}
	}
	if words > 0 {
		out = append(out, mk(cur))
	}
	return out
}

// splitBlock cuts a block longer than a chunk into pieces of at most
// chunkWords words: tables by rows (each piece repeats the header row and
// its separator), other blocks by lines, and single overlong lines by
// sentences, then by words.
func splitBlock(b block) []block {
	var header []string
	rows := b.lines
	if b.isTable() && len(rows) > 2 && isTableSeparator(rows[1]) {
		header, rows = rows[:2], rows[2:]
	}
	hw := 0
	for _, h := range header {
		hw += countWords(h)
	}
	var units []string
	for _, l := range rows {
		if countWords(l) <= chunkWords-hw {
			units = append(units, l)
			continue
		}
		units = append(units, splitLongLine(l)...)
	}
	var out []block
	cur := block{lines: append([]string(nil), header...), words: hw}
	for _, u := range units {
		w := countWords(u)
		if cur.words > hw && cur.words+w > chunkWords {
			out = append(out, cur)
			cur = block{lines: append([]string(nil), header...), words: hw}
		}
		cur.lines = append(cur.lines, u)
		cur.words += w
	}
	if cur.words > hw {
		out = append(out, cur)
	}
	return out
}

func isTableSeparator(l string) bool {
	s := strings.TrimSpace(l)
	return strings.HasPrefix(s, "|") && strings.Trim(s, "|-: ") == ""
}

// splitLongLine splits a line of more than chunkWords words after sentence
// ends (". ", "! ", "? "), falling back to plain word counts.
func splitLongLine(l string) []string {
	var out []string
	var cur strings.Builder
	n := 0
	for _, w := range strings.Fields(l) {
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
		n++
		sentenceEnd := strings.HasSuffix(w, ".") || strings.HasSuffix(w, "!") || strings.HasSuffix(w, "?")
		if (sentenceEnd && n >= chunkWords*2/3) || n >= chunkWords {
			out = append(out, cur.String())
			cur.Reset()
			n = 0
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

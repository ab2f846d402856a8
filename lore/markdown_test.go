package lore

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestChunkMarkdownHeadings(t *testing.T) {
	md := `# Monsters A–Z

## Aboleth

*Large Aberration, Lawful Evil*

- **Armor Class:** 17
* **Hit Points:** 150 (20d10 + 40)

|STAT|SCORE|
| --- | --- |
| STR | 21 |

### Traits

***Amphibious.*** The aboleth can breathe air and water.

##### Deep note

` + "```" + `
# not a heading
` + "```" + `

#### Empty

## Bandit ##

> **Note:** a [bandit](https://example.com/bandit) steals_things.

Setext Title
============

Under setext.
`
	got := chunkMarkdown(md)
	want := []rawChunk{
		{[]string{"Monsters A–Z", "Aboleth"}, "Large Aberration, Lawful Evil\n\n- Armor Class: 17\n- Hit Points: 150 (20d10 + 40)\n\n|STAT|SCORE|\n| --- | --- |\n| STR | 21 |", false},
		{[]string{"Monsters A–Z", "Aboleth", "Traits"}, "Amphibious. The aboleth can breathe air and water.\n\nDeep note\n\n# not a heading", false},
		{[]string{"Monsters A–Z", "Bandit"}, "Note: a bandit steals_things.", false},
		{[]string{"Setext Title"}, "Under setext.", false},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d chunks, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !slices.Equal(got[i].heading, want[i].heading) || got[i].text != want[i].text {
			t.Errorf("chunk %d:\n got %q %q\nwant %q %q", i, got[i].heading, got[i].text, want[i].heading, want[i].text)
		}
	}
}

func TestStripInline(t *testing.T) {
	tests := []struct{ in, want string }{
		{"**bold** and *it* and ***both***", "bold and it and both"},
		{"__bold__ and _it_", "bold and it"},
		{"snake_case stays", "snake_case stays"},
		{"2 * 3 = 6", "2 * 3 = 6"},
		{"`code` span", "code span"},
		{`\*literal\* star`, "*literal* star"},
		{"[link](http://x) and ![img](a.png)", "link and img"},
		{"[not a link] (x)", "[not a link] (x)"},
		{"line<br>break", "line break"},
		{"*Failure:*  The target", "Failure:  The target"},
	}
	for _, tt := range tests {
		if got := stripInline(tt.in); got != tt.want {
			t.Errorf("stripInline(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func words(n int, tag string) string {
	w := make([]string, n)
	for i := range w {
		w[i] = fmt.Sprintf("%s%d", tag, i)
	}
	return strings.Join(w, " ") + "."
}

func TestChunkLongSectionSplitsAtParagraphs(t *testing.T) {
	var paras []string
	for i := range 10 {
		paras = append(paras, words(100, fmt.Sprintf("p%dw", i)))
	}
	md := "## Long\n\n" + strings.Join(paras, "\n\n") + "\n"
	got := chunkMarkdown(md)
	if len(got) < 3 {
		t.Fatalf("1000 words gave %d chunks", len(got))
	}
	var all []string
	for _, c := range got {
		if n := countWords(c.text); n > chunkWords {
			t.Errorf("chunk of %d words > %d", n, chunkWords)
		}
		if !slices.Equal(c.heading, []string{"Long"}) {
			t.Errorf("heading %q", c.heading)
		}
		for p := range strings.SplitSeq(c.text, "\n\n") {
			if strings.HasPrefix(p, "… ") { // overlap with the piece before
				continue
			}
			if countWords(p) != 100 {
				t.Errorf("a paragraph was cut: %d words", countWords(p))
			}
			all = append(all, p)
		}
	}
	if !slices.Equal(all, paras) {
		t.Error("paragraphs lost or reordered")
	}
}

func TestChunkKeepsTableWhole(t *testing.T) {
	var rows []string
	rows = append(rows, "| Name | Cost | Notes |", "| --- | --- | --- |")
	for i := range 40 {
		rows = append(rows, fmt.Sprintf("| item%d | %d GP | light sturdy |", i, i))
	}
	table := strings.Join(rows, "\n")
	md := "## Gear\n\n" + words(300, "intro") + "\n\nTable: Gear\n\n" + table + "\n\n" + words(50, "outro") + "\n"
	got := chunkMarkdown(md)
	found := false
	for _, c := range got {
		if strings.Contains(c.text, "| item0 |") {
			if !strings.Contains(c.text, table) {
				t.Errorf("table split: %q", c.text)
			}
			if !strings.Contains(c.text, "Table: Gear\n\n| Name") {
				t.Errorf("caption separated from its table: %q", c.text)
			}
			found = true
		}
	}
	if !found {
		t.Fatal("table lost")
	}

	// A table too long for one chunk is split by rows, header repeated.
	rows = rows[:2]
	for i := range 300 {
		rows = append(rows, fmt.Sprintf("| item%d | %d GP | light |", i, i))
	}
	got = chunkMarkdown("## Big\n\n" + strings.Join(rows, "\n") + "\n")
	if len(got) < 2 {
		t.Fatalf("big table gave %d chunks", len(got))
	}
	n := 0
	for _, c := range got {
		if !strings.HasPrefix(c.text, "| Name | Cost | Notes |\n| --- | --- | --- |\n| item") {
			t.Errorf("piece without header: %.80q", c.text)
		}
		if w := countWords(c.text); w > chunkWords {
			t.Errorf("piece of %d words", w)
		}
		n += strings.Count(c.text, "| item")
	}
	if n != 300 {
		t.Errorf("%d rows kept, want 300", n)
	}
}

func TestChunkOverlongParagraph(t *testing.T) {
	got := chunkMarkdown("# P\n\n" + words(1000, "w") + "\n")
	total := 0
	for i, c := range got {
		if n := countWords(c.text); n > chunkWords {
			t.Errorf("chunk of %d words", n)
		}
		text := c.text
		if i > 0 { // drop the overlap with the piece before
			ov, rest, ok := strings.Cut(text, "\n\n")
			if !ok || !strings.HasPrefix(ov, "… ") {
				t.Fatalf("piece %d has no overlap: %.80q", i, text)
			}
			text = rest
		}
		total += countWords(text)
	}
	if total != 1000 {
		t.Errorf("%d words kept, want 1000", total)
	}
}

func TestChunkPlainText(t *testing.T) {
	var paras []string
	for i := range 8 {
		paras = append(paras, words(120, fmt.Sprintf("t%d", i)))
	}
	got := chunkPlainText(strings.Join(paras, "\n\n"))
	if len(got) < 3 {
		t.Fatalf("%d chunks", len(got))
	}
	for _, c := range got {
		if c.heading != nil || countWords(c.text) > chunkWords {
			t.Errorf("chunk heading %q, %d words", c.heading, countWords(c.text))
		}
	}
	if got := chunkPlainText("\n\n  \n"); len(got) != 0 {
		t.Errorf("blank text gave %d chunks", len(got))
	}
}

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"What is the aboleth's armor class?", []string{"aboleth", "armor", "class"}},
		{"The Aboleth’s Tentacles", []string{"aboleth", "tentacle"}},
		{"can't won't O'Brien", []string{"obrien"}},
		{"Goblins, wolves, boxes, classes, flies, status, basis", []string{"goblin", "wolve", "box", "class", "fly", "status", "basis"}},
		{"1d12 + 5 ft. A–Z", []string{"1d12", "5", "ft"}},
		{"Café ÉLAN naïve", []string{"café", "élan", "naïve"}},
	}
	for _, tt := range tests {
		if got := appendTokens(nil, tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCountWords(t *testing.T) {
	if n := countWords("| STR | 21 | +5 |\n| --- | --- |"); n != 3 {
		t.Errorf("countWords = %d, want 3", n)
	}
}

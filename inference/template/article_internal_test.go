package template

import "testing"

// TestTakesArticle: a subject that brings its own determiner takes no
// other ("the The Old Chapel" and "The This year" were floor replies).
func TestTakesArticle(t *testing.T) {
	for _, c := range []struct {
		subject, text string
		want          bool
	}{
		{"Aboleth", "An aboleth lurks below.", true},
		{"Old Mill", "They met at the Old Mill.", true},
		{"Millbrook", "Millbrook is a village.", false},
		{"The Old Chapel", "the Old Chapel drowned in the flood.", false},
		{"This year", "This year the festival is late; this year is odd.", false},
		{"Our Lady", "Pray to our Lady.", false},
	} {
		if got := takesArticle(c.subject, c.text); got != c.want {
			t.Errorf("takesArticle(%q) = %v, want %v", c.subject, got, c.want)
		}
	}
}

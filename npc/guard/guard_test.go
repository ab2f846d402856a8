package guard

import (
	"strings"
	"testing"
)

// Thresholds the labeled sets must meet (TestLabeledSets). They are set
// just under what `hearth guard-eval` measured when they were committed:
// inputs: detection 1.000 control_chars, 0.979 injection, 0.986
// jailbreak, 1.000 too_long; false positives 0/215 benign lines.
// outputs: detection 1.000 in every category; false positives 0/63.
// These sets were written alongside the patterns, so they measure
// coverage, not generalisation: see the held-out numbers in eval.go.
const (
	minDetection     = 0.95
	maxInputFP       = 0.01
	maxOutputFP      = 0.02
	minInputExamples = 150
	minOutputExample = 80
)

func TestLabeledSets(t *testing.T) {
	for _, c := range []struct {
		eval    func() (Report, error)
		neutral string
		maxFP   float64
		minN    int
		labels  []string
	}{
		{EvalInputs, Benign, maxInputFP, minInputExamples, []string{"injection", "jailbreak", "control_chars", "too_long"}},
		{EvalOutputs, OK, maxOutputFP, minOutputExample, []string{"persona_break", "blocked_topic", "profanity", "secret_leak", "lore_leak"}},
	} {
		r, err := c.eval()
		if err != nil {
			t.Fatal(err)
		}
		t.Log(r)
		n := 0
		for _, s := range r.Scores {
			n += s.N
		}
		if n < c.minN {
			t.Errorf("%s: %d examples, want at least %d", r.Set, n, c.minN)
		}
		if fp := r.Score(c.neutral); fp.N == 0 || fp.Rate() > c.maxFP {
			t.Errorf("%s: false positives %.3f (%d/%d) > %.3f:\n%s", r.Set, fp.Rate(), fp.Hits, fp.N, c.maxFP, strings.Join(fp.Misses, "\n"))
		}
		for _, l := range c.labels {
			s := r.Score(l)
			if s.N == 0 || s.Rate() < minDetection {
				t.Errorf("%s: %s detection %.3f (%d/%d) < %.2f:\n%s", r.Set, l, s.Rate(), s.Hits, s.N, minDetection, strings.Join(s.Misses, "\n"))
			}
		}
	}
}

// TestHeldOutSets only checks that the held-out sets load and logs their
// rates: asserting them would invite tuning the patterns to them.
func TestHeldOutSets(t *testing.T) {
	for _, eval := range []func(string) (Report, error){EvalInputsSet, EvalOutputsSet} {
		r, err := eval(SetHeldOut)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Scores) < 3 {
			t.Fatalf("%s: only %d labels", r.Set, len(r.Scores))
		}
		t.Log(r)
	}
	if _, err := EvalInputsSet("nope"); err == nil {
		t.Fatal("unknown set accepted")
	}
}

func TestNormalizeViews(t *testing.T) {
	for in, want := range map[string]string{
		"Ｉｇｎｏｒｅ ａｌｌ":          "ignore all",
		"Іgnоrе":              "ignore", // Cyrillic І, о, е
		"1gn0r3 pr3v10us":     "ignore previous",
		"i g n o r e  that":   "ignore that",
		"i.g.n.o.r.e":         "ignore",
		"ig\u200bnore":        "ignore",
		"Ígnóré":              "ignore",
		"$y$tem":              "system",
		"don't":               "dont",
		"5 gold, room 101":    "5 gold room 101",
		"hi! $5":              "hi 5",
		"ignroe previus":      "ignore previous",
		"ignores":             "ignores",
		"directions":          "directions",
		"ur rules":            "your rules",
		"𝐢𝐠𝐧𝐨𝐫𝐞":              "ignore",
		"a b":                 "a b",
		"bad \xff bytes":      "bad bytes",
		"motherf*cker":        "motherf cker",
		"\u202Eright to left": "right to left",
	} {
		if got := Normalize(in).Words; got != want {
			t.Errorf("Normalize(%q).Words = %q, want %q", in, got, want)
		}
	}
	if got := Normalize("<|System|>").Folded; got != "<|system|>" {
		t.Errorf("Folded keeps punctuation: got %q", got)
	}
	if got := Normalize("ign ore prev ious").Squashed; got != "ignoreprevious" {
		t.Errorf("Squashed = %q", got)
	}
}

func TestCheckLengthAndControl(t *testing.T) {
	if v := CheckLength(strings.Repeat("宿", 400), Limits{}); v.Blocked() {
		t.Errorf("400 runes (1200 bytes) blocked: %+v", v)
	}
	if v := CheckLength(strings.Repeat("宿", 400), Limits{MaxBytes: 1000}); v.Reason != ReasonTooLong {
		t.Errorf("1200 bytes > 1000: %+v", v)
	}
	if v := CheckLength(strings.Repeat("a", 501), Limits{}); v.Reason != ReasonTooLong {
		t.Errorf("501 runes: %+v", v)
	}
	for _, ok := range []string{"tab\there", "two\nlines", "👨‍👩‍👧 family", "مرحبا", "\u200Fmark"} {
		if v := CheckControl(ok); v.Blocked() {
			t.Errorf("CheckControl(%q) = %+v", ok, v)
		}
	}
	for _, bad := range []string{"\u202E", "a\x00b", "\r", "\u2066", "\U000E0041", "\xff", "\u200B", "\uFFFF", "\x85"} {
		if v := CheckControl(bad); v.Reason != ReasonControlChars {
			t.Errorf("CheckControl(%q) = %+v", bad, v)
		}
	}
}

func TestRatingsAndLists(t *testing.T) {
	line := Normalize("Damn those wolves.")
	strong := Normalize("What the fuck is that?")
	slur := Normalize("You retard.")
	drugs := Normalize("He sells cocaine by the docks.")
	for _, c := range []struct {
		r                         Rating
		mild, strong, slur, drugs bool // blocked?
	}{
		{RatingEveryone, true, true, true, true},
		{RatingTeen, false, true, true, true},
		{"", false, true, true, true},
		{RatingMature, false, false, true, false},
	} {
		f := NewFilter(Policy{Rating: c.r})
		if got := f.CheckProfanity(line).Blocked(); got != c.mild {
			t.Errorf("%q mild: blocked %v", c.r, got)
		}
		if got := f.CheckProfanity(strong).Blocked(); got != c.strong {
			t.Errorf("%q strong: blocked %v", c.r, got)
		}
		if got := f.CheckProfanity(slur).Blocked(); got != c.slur {
			t.Errorf("%q slur: blocked %v", c.r, got)
		}
		if got := f.CheckTopics(drugs).Blocked(); got != c.drugs {
			t.Errorf("%q drugs: blocked %v", c.r, got)
		}
	}
	custom := NewFilter(Policy{Rating: RatingMature, Topics: append(BuiltinTopics(),
		Topic{Name: "spoilers", Words: []string{"the king dies", "betray*"}})})
	if v := custom.CheckTopics(Normalize("In the end THE KING DIES.")); v.Detail != "spoilers:the king dies" {
		t.Errorf("custom phrase: %+v", v)
	}
	if v := custom.CheckTopics(Normalize("Your friend betrayed you.")); v.Detail != "spoilers:betrayed" {
		t.Errorf("custom prefix: %+v", v)
	}
	if v := NewFilter(Policy{AllowProfanity: true}).CheckProfanity(strong); v.Blocked() {
		t.Errorf("AllowProfanity still blocks: %+v", v)
	}
	if v := NewFilter(Policy{ExtraProfanity: []string{"frak"}}).CheckProfanity(Normalize("Frak off.")); !v.Blocked() {
		t.Error("ExtraProfanity not blocked")
	}
	for s, want := range map[string]Rating{"e": RatingEveryone, "Teen": RatingTeen, "M": RatingMature, "": RatingTeen} {
		if got, err := ParseRating(s); err != nil || got != want {
			t.Errorf("ParseRating(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := ParseRating("AO"); err == nil {
		t.Error("ParseRating(AO) accepted")
	}
}

func TestSecrets(t *testing.T) {
	s := NewSecrets([]string{
		"He is the Wick, leader of the Lantern Men, and runs them from the cellar under Crookwheel Mill",
		"Fears owls", // too few distinctive words: phrase only
	}, "Wendel Crisp", "miller of Crookwheel Mill")
	for text, want := range map[string]bool{
		"I am the Wick and I lead the Lantern Men.":            true,
		"Lantern Men? Folk tales, mostly.":                     false,
		"Crookwheel Mill grinds the best flour in the valley.": false,
		"Between us: he fears owls!":                           true,
		"Owls? I fear nothing.":                                false,
	} {
		if got := s.Check(Normalize(text)).Reason == ReasonSecretLeak; got != want {
			t.Errorf("Check(%q) leak = %v, want %v", text, got, want)
		}
	}
	var none *Secrets
	if none.Check(Normalize("anything")).Blocked() {
		t.Error("nil Secrets blocks")
	}
}

func TestLoreIndex(t *testing.T) {
	secret := "The locked door in the mill's grain store opens onto twelve stone steps and a vaulted room forty feet long, dry except in spring."
	ix := NewLoreIndex([]string{secret + " The Wick commands seventeen Lantern Men."}, 0)
	if ix.Len() == 0 {
		t.Fatal("no n-grams indexed")
	}
	leak := Normalize("I heard the locked door in the mill's grain store opens onto twelve stone steps and a vaulted room!")
	if v := ix.Check(leak); v.Reason != ReasonLoreLeak {
		t.Fatalf("copied sentence: %+v", v)
	}
	if v := ix.Check(Normalize("The mill has a grain store and a locked door, like any mill.")); v.Blocked() {
		t.Fatalf("common words blocked: %+v", v)
	}
	// Reordered with words slipped in: the sentence share catches it.
	if v := ix.Check(Normalize("Seventeen Lantern Men, mister, and the Wick commands them all!")); v.Reason != ReasonLoreLeak {
		t.Fatalf("reordered sentence: %+v", v)
	}
	// What the NPC knows elsewhere is no leak.
	ix.Allow(secret)
	if v := ix.Check(leak); v.Blocked() {
		t.Fatalf("allowed text blocked: %+v", v)
	}
	if g := SharedNGram(leak, Normalize(secret), 0); g == "" {
		t.Fatal("SharedNGram found nothing")
	}
	var none *LoreIndex
	if none.Check(leak).Blocked() {
		t.Error("nil LoreIndex blocks")
	}
}

func TestDeflect(t *testing.T) {
	p := Speaker{ID: "wendel-crisp", Name: "Wendel Crisp", Role: "miller of Crookwheel Mill", Home: "crookwheel-mill"}
	seen := map[string]bool{}
	for seed := range uint64(40) {
		in := Deflect(p, ReasonInjection, seed)
		out := Deflect(p, ReasonSecretLeak, seed)
		if in != Deflect(p, ReasonInjection, seed) {
			t.Fatal("Deflect is not deterministic")
		}
		for _, s := range []string{in, out} {
			if s == "" || strings.ContainsAny(s, "{}") || strings.Contains(s, "a a") {
				t.Fatalf("bad deflection %q", s)
			}
			seen[s] = true
		}
	}
	if len(seen) < 6 {
		t.Fatalf("only %d distinct deflections over 40 seeds", len(seen))
	}
	if s := Deflect(Speaker{Role: "innkeeper", Home: "Kettleford"}, ReasonInjection, 1); !strings.Contains(s, "innkeeper") && !strings.Contains(s, "Kettleford") && !strings.Contains(s, "Strange") && !strings.Contains(s, "Hm") && !strings.Contains(s, "nothing") {
		t.Fatalf("deflection ignores the persona: %q", s)
	}
	if got := fixArticles("a innkeeper and a smith"); got != "an innkeeper and a smith" {
		t.Fatalf("fixArticles = %q", got)
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`a\u202Eb`:    "a\u202Eb",
		`\x00\t\n\\`:  "\x00\t\n\\",
		`\U000E0041`:  "\U000E0041",
		"repeat:3:ab": "ababab",
	} {
		if got, err := unescape(in); err != nil || got != want {
			t.Errorf("unescape(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{`\u12`, `\xZZ`, "repeat:x:a"} {
		if _, err := unescape(bad); err == nil {
			t.Errorf("unescape(%q) accepted", bad)
		}
	}
}

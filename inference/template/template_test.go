package template_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hearth-ai/hearth/inference"
	"github.com/hearth-ai/hearth/inference/template"
)

// abolethText is the SRD 5.2 Aboleth entry as the lore chunker hands it
// over: Markdown emphasis stripped, list markers and tables kept.
const abolethText = `Large Aberration, Lawful Evil

- Armor Class: 17
- Hit Points: 150 (20d10 + 40)
- Speed: 10 ft., Swim 40 ft.
- Initiative: +3 (13)

|STAT|SCORE|MOD|SAVE|
| --- | --- | --- | ---- |
| STR | 21 | +5 | +5 |
| DEX | 9 | -1 | +3 |

- Skills: History +12, Perception +10
- Senses: darkvision 120 ft.; Passive Perception 20
- Languages: Deep Speech; telepathy 120 ft.
- CR 10 (XP 5,900, or 7,200 in lair)

Amphibious. The aboleth can breathe air and water.

Eldritch Restoration. If destroyed, the aboleth gains a new body in 5d10 days, reviving with all its Hit Points in the Far Realm or another location chosen by the DM.

Mucus Cloud. While underwater, the aboleth is surrounded by mucus. Constitution Saving Throw: DC 14, each creature in a 5-foot Emanation originating from the aboleth at the end of the aboleth's turn. Failure: The target is cursed. Until the curse ends, the target's skin becomes slimy, the target can breathe air and water, and it can't regain Hit Points unless it is underwater.`

var abolethFact = inference.Fact{
	Source:  "srd",
	DocPath: "12_MonstersA-Z.md",
	Heading: []string{"Monsters A–Z", "Aboleth"},
	Text:    abolethText,
	Score:   0.9,
}

var millFact = inference.Fact{
	Source:  "village",
	DocPath: "places/mill.md",
	Heading: []string{"Millbrook", "The Old Mill"},
	Text:    "The old mill stands by the river east of Millbrook. It burned down in the winter of 1203 and nobody has rebuilt it.",
	Score:   0.4,
}

func smith() inference.Persona {
	return inference.Persona{
		ID: "brenna-smith", Name: "Brenna Ashdown", Role: "blacksmith",
		Traits: []string{"gruff", "honest"}, SpeechStyle: "short sentences",
	}
}

func gen(t testing.TB, m *template.Model, req *inference.Request) (inference.Result, string) {
	t.Helper()
	var streamed strings.Builder
	res, err := m.Generate(context.Background(), req, func(d inference.Delta) {
		if d.Reset {
			t.Fatalf("unexpected reset")
		}
		streamed.WriteString(d.Text)
	})
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return res, streamed.String()
}

func checkLine(t *testing.T, res inference.Result, streamed string) {
	t.Helper()
	if res.Text == "" || !utf8.ValidString(res.Text) {
		t.Fatalf("bad text %q", res.Text)
	}
	if streamed != res.Text {
		t.Fatalf("deltas %q do not concatenate to Text %q", streamed, res.Text)
	}
	words := len(strings.Fields(res.Text))
	if words > template.MaxWords || words != res.Tokens {
		t.Fatalf("%d words, Tokens %d: %q", words, res.Tokens, res.Text)
	}
	if res.Tier != inference.TierTemplate || res.Backend != "template" {
		t.Fatalf("tier %q backend %q", res.Tier, res.Backend)
	}
}

func TestInfo(t *testing.T) {
	inf := template.New().Info()
	if inf.Name != "template" || inf.Tier != inference.TierTemplate || inf.Quality != 0 ||
		inf.ExpectedTTFT != 20*time.Microsecond || inf.ExpectedTokensPerSecond != 1e6 {
		t.Fatalf("Info = %+v", inf)
	}
}

func TestDeterministic(t *testing.T) {
	m := template.New()
	intents := []inference.Intent{inference.IntentGreeting, inference.IntentDialogue, inference.IntentFarewell, inference.IntentBark}
	for _, in := range intents {
		req := &inference.Request{
			Intent: in, Persona: smith(), PlayerName: "Aria", Returning: true,
			UserText: "What is the aboleth's armor class?", Facts: []inference.Fact{abolethFact},
			Memories: []inference.Memory{{Text: "Aria said: I'm looking for the old mill.", Kind: "dialogue"}},
			Seed:     42,
		}
		a, _ := gen(t, m, req)
		b, _ := gen(t, template.New(), req)
		if a.Text != b.Text {
			t.Errorf("%s: same request, different text:\n%q\n%q", in, a.Text, b.Text)
		}
	}
}

func TestGreetingsVaryBySeed(t *testing.T) {
	m := template.New()
	for _, p := range []inference.Persona{smith(), {Name: "Pip", Traits: []string{"cheerful"}}, {Name: "Odo"}} {
		seen := map[string]bool{}
		for seed := uint64(0); seed < 20; seed++ {
			res, streamed := gen(t, m, &inference.Request{Intent: inference.IntentGreeting, Persona: p, Seed: seed})
			checkLine(t, res, streamed)
			seen[res.Text] = true
		}
		if len(seen) < 3 {
			t.Errorf("%s: only %d distinct greetings over 20 seeds: %v", p.Name, len(seen), seen)
		}
	}
}

func TestReturningGreetingNamesPlayer(t *testing.T) {
	m := template.New()
	personas := []inference.Persona{
		smith(),
		{Name: "Pip", Traits: []string{"Cheerful"}, Role: "innkeeper"},
		{Name: "Tam", Traits: []string{"nervous"}},
		{Name: "Ilse", Traits: []string{"scholarly"}},
		{Name: "Brother Cole", Traits: []string{"pious"}},
		{Name: "Vex", Traits: []string{"sly"}},
		{Name: "Mara", Traits: []string{"kind"}},
		{Name: "Odo"},
	}
	for _, p := range personas {
		for seed := uint64(0); seed < 10; seed++ {
			req := &inference.Request{
				Intent: inference.IntentGreeting, Persona: p, PlayerName: "Aria", Returning: true, Seed: seed,
				Memories: []inference.Memory{
					{Text: "Aria helped carry water to the well.", Kind: "observation", GameTime: time.Unix(100, 0)},
					{Text: "Aria said: I'm looking for the old mill.", Kind: "dialogue", GameTime: time.Unix(200, 0)},
				},
			}
			res, streamed := gen(t, m, req)
			checkLine(t, res, streamed)
			if !strings.Contains(res.Text, "Aria") {
				t.Errorf("%s seed %d: returning greeting lacks the name: %q", p.Name, seed, res.Text)
			}
			if strings.Contains(res.Text, "water") {
				t.Errorf("%s seed %d: recalled an older memory: %q", p.Name, seed, res.Text)
			}
		}
	}
}

func TestGreetingStranger(t *testing.T) {
	m := template.New()
	for seed := uint64(0); seed < 10; seed++ {
		res, streamed := gen(t, m, &inference.Request{Intent: inference.IntentGreeting, Persona: smith(), PlayerName: "Aria", Seed: seed})
		checkLine(t, res, streamed)
		if !strings.Contains(res.Text, "Aria") {
			t.Errorf("first meeting with a known name should use it: %q", res.Text)
		}
		res, _ = gen(t, m, &inference.Request{Intent: inference.IntentGreeting, Persona: smith(), Seed: seed})
		if strings.Contains(res.Text, "{") || strings.Contains(res.Text, "Aria") {
			t.Errorf("stranger greeting: %q", res.Text)
		}
	}
}

func TestSpeechStyleVocative(t *testing.T) {
	m := template.New()
	p := inference.Persona{Name: "Odo", SpeechStyle: "warm, calls everyone 'duckling'"}
	found := false
	for seed := uint64(0); seed < 20; seed++ {
		res, _ := gen(t, m, &inference.Request{Intent: inference.IntentGreeting, Persona: p, Seed: seed})
		found = found || strings.Contains(res.Text, "duckling")
	}
	if !found {
		t.Errorf("speech style vocative never used")
	}
}

func TestAnswerFromFacts(t *testing.T) {
	m := template.New()
	facts := []inference.Fact{millFact, abolethFact}
	tests := []struct {
		question string
		want     []string
	}{
		{"What is the aboleth's armor class?", []string{"17", "Armor Class"}},
		{"how many hit points does an aboleth have", []string{"150"}},
		{"How fast can an aboleth swim?", []string{"Swim 40 ft."}},
		{"When did the old mill burn down?", []string{"burned down", "1203"}},
		{"What happened to the old mill?", []string{"old mill stands"}},
		{"Tell me about aboleths.", []string{"Aboleth"}},
	}
	for _, tt := range tests {
		for seed := uint64(0); seed < 8; seed++ {
			for _, p := range []inference.Persona{smith(), {Name: "Ilse", Traits: []string{"scholarly"}}, {Name: "Odo"}} {
				req := &inference.Request{Intent: inference.IntentDialogue, Persona: p, UserText: tt.question, Facts: facts, Seed: seed}
				res, streamed := gen(t, m, req)
				checkLine(t, res, streamed)
				for _, w := range tt.want {
					if !strings.Contains(res.Text, w) {
						t.Errorf("%q (%s, seed %d): %q lacks %q", tt.question, p.Name, seed, res.Text, w)
					}
				}
			}
		}
	}
}

func TestAnswerNamesSubject(t *testing.T) {
	m := template.New()
	named := false
	for seed := uint64(0); seed < 20; seed++ {
		req := &inference.Request{Intent: inference.IntentDialogue, Persona: smith(), UserText: "What is the aboleth's armor class?", Facts: []inference.Fact{abolethFact}, Seed: seed}
		res, _ := gen(t, m, req)
		named = named || strings.Contains(res.Text, "The Aboleth")
		if strings.Contains(res.Text, "Monsters") {
			t.Errorf("named the parent heading: %q", res.Text)
		}
	}
	if !named {
		t.Errorf("never introduced the subject from the heading path")
	}
}

func TestUnknownDoesNotLeakFacts(t *testing.T) {
	m := template.New()
	facts := []inference.Fact{abolethFact, millFact}
	questions := []string{
		"What do you think of the king's new tax?",
		"Where can I buy a horse?",
		"Who rules the northern kingdoms?",
	}
	for _, q := range questions {
		for seed := uint64(0); seed < 8; seed++ {
			for _, p := range []inference.Persona{smith(), {Name: "Pip", Traits: []string{"cheerful"}}, {Name: "Odo"}} {
				res, streamed := gen(t, m, &inference.Request{Intent: inference.IntentDialogue, Persona: p, UserText: q, Facts: facts, Seed: seed})
				checkLine(t, res, streamed)
				for _, leak := range []string{"17", "150", "aboleth", "Aboleth", "mill", "1203", "Armor"} {
					if strings.Contains(res.Text, leak) {
						t.Errorf("%q: leaked %q: %q", q, leak, res.Text)
					}
				}
				low := strings.ToLower(res.Text)
				if !strings.Contains(low, "know") && !strings.Contains(low, "heard") && !strings.Contains(low, "can't") &&
					!strings.Contains(low, "cannot") && !strings.Contains(low, "idea") && !strings.Contains(low, "beyond") &&
					!strings.Contains(low, "silent") && !strings.Contains(low, "read nothing") && !strings.Contains(low, "not shown") {
					t.Errorf("%q: not a don't-know line: %q", q, res.Text)
				}
			}
		}
	}
}

func TestDialogueGreetingAndFarewell(t *testing.T) {
	m := template.New()
	for _, text := range []string{"Hello!", "hi there", "Good day to you", "Greetings, friend."} {
		res, _ := gen(t, m, &inference.Request{Intent: inference.IntentDialogue, Persona: smith(), UserText: text, PlayerName: "Aria", Returning: true, Facts: []inference.Fact{abolethFact}})
		if !strings.Contains(res.Text, "Aria") || strings.Contains(res.Text, "17") {
			t.Errorf("%q: want a greeting naming Aria, got %q", text, res.Text)
		}
	}
	bye, _ := gen(t, m, &inference.Request{Intent: inference.IntentDialogue, Persona: smith(), UserText: "Goodbye!", Facts: []inference.Fact{abolethFact}})
	greet, _ := gen(t, m, &inference.Request{Intent: inference.IntentGreeting, Persona: smith()})
	if bye.Text == greet.Text || strings.Contains(bye.Text, "17") {
		t.Errorf("farewell: %q", bye.Text)
	}
}

func TestNeverUsesPrompt(t *testing.T) {
	m := template.New()
	for _, in := range []inference.Intent{inference.IntentGreeting, inference.IntentDialogue, inference.IntentFarewell, inference.IntentBark} {
		for seed := uint64(0); seed < 10; seed++ {
			res, _ := gen(t, m, &inference.Request{Intent: in, Persona: smith(), UserText: "What is the armor class?", Prompt: "SECRET-PROMPT-TEXT", Seed: seed})
			if strings.Contains(res.Text, "SECRET") {
				t.Fatalf("prompt leaked: %q", res.Text)
			}
		}
	}
}

func TestBarkAndFarewell(t *testing.T) {
	m := template.New()
	for _, in := range []inference.Intent{inference.IntentBark, inference.IntentFarewell} {
		for seed := uint64(0); seed < 10; seed++ {
			res, streamed := gen(t, m, &inference.Request{Intent: in, Persona: smith(), PlayerName: "Aria", Seed: seed})
			checkLine(t, res, streamed)
			if len(strings.Fields(res.Text)) > 12 || strings.Contains(res.Text, "{") {
				t.Errorf("%s: %q", in, res.Text)
			}
		}
	}
}

func TestIgnoresCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := template.New().Generate(ctx, &inference.Request{Intent: inference.IntentGreeting}, nil)
	if err != nil || res.Text == "" {
		t.Fatalf("floor must answer after the deadline: %q, %v", res.Text, err)
	}
}

func TestHostileInput(t *testing.T) {
	m := template.New()
	long := strings.Repeat("word ", 5000)
	req := &inference.Request{
		Intent: inference.IntentDialogue, PlayerName: "Ar\xffia", Returning: true,
		Persona:  inference.Persona{Name: "\xfe", Traits: []string{"", "☃"}, SpeechStyle: "calls '"},
		UserText: long + "aboleth armor \xff class",
		Facts:    []inference.Fact{{Heading: []string{""}, Text: long + "\xff Armor Class: 17"}, {Text: ""}, {Heading: []string{"Aboleth"}, Text: "\n\n#\n- \n|\n"}},
		Memories: []inference.Memory{{Text: long}},
	}
	for _, in := range []inference.Intent{inference.IntentGreeting, inference.IntentDialogue, "other"} {
		req.Intent = in
		res, streamed := gen(t, m, req)
		checkLine(t, res, streamed)
	}
}

func FuzzGenerate(f *testing.F) {
	f.Add("What is the aboleth's armor class?", abolethText, "Aboleth", "Aria", uint64(1))
	f.Add("hello", "", "", "", uint64(2))
	m := template.New()
	f.Fuzz(func(t *testing.T, question, text, heading, player string, seed uint64) {
		req := &inference.Request{
			Intent: inference.IntentDialogue, Persona: smith(), PlayerName: player, Returning: true, UserText: question,
			Facts: []inference.Fact{{Heading: []string{heading}, Text: text}}, Seed: seed,
			Memories: []inference.Memory{{Text: question}},
		}
		for _, in := range []inference.Intent{inference.IntentGreeting, inference.IntentDialogue} {
			req.Intent = in
			res, streamed := gen(t, m, req)
			checkLine(t, res, streamed)
		}
	})
}

func BenchmarkTemplateDialogue(b *testing.B) {
	m := template.New()
	req := &inference.Request{
		Intent: inference.IntentDialogue, Persona: smith(), PlayerName: "Aria", Returning: true,
		UserText: "What is the aboleth's armor class?", Facts: []inference.Fact{millFact, abolethFact}, Seed: 7,
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Generate(ctx, req, func(inference.Delta) {}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTemplateGreeting(b *testing.B) {
	m := template.New()
	req := &inference.Request{
		Intent: inference.IntentGreeting, Persona: smith(), PlayerName: "Aria", Returning: true,
		Memories: []inference.Memory{{Text: "Aria said: I'm looking for the old mill.", Kind: "dialogue"}}, Seed: 7,
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Generate(ctx, req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func TestRememberMeAnswersFromMemory(t *testing.T) {
	m := template.New()
	mem := []inference.Memory{{Text: "Aria said: I am looking for the old mill.", Kind: "dialogue", Importance: 3,
		GameTime: time.Unix(1000, 0)}}
	for seed := uint64(1); seed <= 8; seed++ {
		req := &inference.Request{Intent: inference.IntentDialogue, Persona: smith(), PlayerName: "Aria",
			Returning: true, Memories: mem, UserText: "Do you remember me?", Facts: []inference.Fact{millFact}, Seed: seed}
		res, _ := gen(t, m, req)
		if !strings.Contains(res.Text, "Aria") || !strings.Contains(res.Text, "old mill") {
			t.Fatalf("seed %d: a returning player asking to be remembered got %q; want their name and what they said", seed, res.Text)
		}
	}
	stranger := &inference.Request{Intent: inference.IntentDialogue, Persona: smith(),
		UserText: "Do you remember me?", Facts: []inference.Fact{millFact}, Seed: 1}
	if res, _ := gen(t, m, stranger); strings.Contains(res.Text, "burned") {
		t.Fatalf("a stranger asking to be remembered got lore: %q", res.Text)
	}
}

func TestMineIsATopicNotAStopword(t *testing.T) {
	mine := inference.Fact{Source: "village", DocPath: "redvein-mine.md", Heading: []string{"Redvein Mine"},
		Text: "The Redvein Mine lies two miles up the Gloamwood track, north of Kettleford.", Score: 1}
	req := &inference.Request{Intent: inference.IntentDialogue, Persona: smith(), UserText: "Where is the mine?",
		Facts: []inference.Fact{mine}, Seed: 3}
	if res, _ := gen(t, template.New(), req); !strings.Contains(res.Text, "two miles") {
		t.Fatalf("asked where the mine is, got %q", res.Text)
	}
}

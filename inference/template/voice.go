package template

// Phrase banks. A pattern may use these placeholders:
//
//	{N} the player's name            {V} how the NPC addresses a stranger
//	{P} the NPC's own (first) name   {M} a recalled memory
//	{S} the subject, sentence start  {s} the subject, mid-sentence
//	{F} the fact sentences answering the question
//
// A pattern is only chosen when every placeholder it uses has a value:
// greetNamed, greetReturn, farewellNamed and address need {N}; selfIntro
// needs {P}; memSaid and memOther need {M}; answer needs {S}/{s} and {F};
// answerPlain needs {F}.

type voiceID uint8

const (
	voiceNeutral voiceID = iota
	voiceGruff
	voiceCheerful
	voiceNervous
	voiceScholarly
	voicePious
	voiceSly
	voiceKind
	numVoices
)

// voice is one speaking style. An empty bank falls back to the neutral
// voice's.
type voice struct {
	vocative      string // default {V}
	greetStranger []string
	greetNamed    []string
	greetReturn   []string
	greetAgain    []string // returning, name unknown
	selfIntro     []string
	memSaid       []string
	memOther      []string
	answer        []string
	answerPlain   []string
	unknown       []string
	farewell      []string
	farewellNamed []string
	bark          []string
	address       []string
}

// traitVoices maps trait and speech-style words (lowercase, lightly
// stemmed like question terms) to voices.
var traitVoices = map[string]voiceID{
	"gruff": voiceGruff, "surly": voiceGruff, "grumpy": voiceGruff, "blunt": voiceGruff,
	"stern": voiceGruff, "taciturn": voiceGruff, "curt": voiceGruff, "rude": voiceGruff,
	"brusque": voiceGruff, "grim": voiceGruff, "irritable": voiceGruff,

	"cheerful": voiceCheerful, "jolly": voiceCheerful, "merry": voiceCheerful,
	"bubbly": voiceCheerful, "friendly": voiceCheerful, "outgoing": voiceCheerful,
	"chatty": voiceCheerful, "jovial": voiceCheerful, "enthusiastic": voiceCheerful,
	"optimistic": voiceCheerful, "talkative": voiceCheerful,

	"nervous": voiceNervous, "anxious": voiceNervous, "timid": voiceNervous,
	"shy": voiceNervous, "jumpy": voiceNervous, "skittish": voiceNervous,
	"fearful": voiceNervous, "cowardly": voiceNervous, "paranoid": voiceNervous,
	"stutter": voiceNervous, "stammer": voiceNervous,

	"scholarly": voiceScholarly, "learned": voiceScholarly, "bookish": voiceScholarly,
	"erudite": voiceScholarly, "wise": voiceScholarly, "studious": voiceScholarly,
	"academic": voiceScholarly, "pedantic": voiceScholarly, "curious": voiceScholarly,
	"intellectual": voiceScholarly, "scholar": voiceScholarly,

	"pious": voicePious, "devout": voicePious, "religious": voicePious,
	"holy": voicePious, "faithful": voicePious, "zealous": voicePious,
	"saintly": voicePious, "reverent": voicePious,

	"sly": voiceSly, "cunning": voiceSly, "shifty": voiceSly, "sneaky": voiceSly,
	"crafty": voiceSly, "scheming": voiceSly, "greedy": voiceSly, "shady": voiceSly,
	"secretive": voiceSly, "devious": voiceSly, "wily": voiceSly,

	"kind": voiceKind, "gentle": voiceKind, "caring": voiceKind, "warm": voiceKind,
	"compassionate": voiceKind, "generous": voiceKind, "motherly": voiceKind,
	"fatherly": voiceKind, "patient": voiceKind, "sweet": voiceKind,
	"nurturing": voiceKind, "empathetic": voiceKind,
}

var voices = [numVoices]voice{
	voiceNeutral: {
		vocative:      "traveler",
		greetStranger: []string{"Hello there, {V}.", "Good day to you, {V}.", "Well met, {V}. What brings you here?", "Hello. Can I help you?"},
		greetNamed:    []string{"Hello, {N}. Good to meet you.", "{N}, is it? Well met.", "Good day, {N}. What brings you here?"},
		greetReturn:   []string{"Back again, {N}?", "Good to see you again, {N}.", "{N}! Welcome back.", "Hello again, {N}. What can I do for you?"},
		greetAgain:    []string{"You again. Welcome back.", "Hello again.", "Back again, are you?"},
		selfIntro:     []string{"I'm {P}.", "Name's {P}."},
		memSaid:       []string{"Last time you said: \"{M}\"", "I remember you saying: \"{M}\""},
		memOther:      []string{"I remember: {M}", "I haven't forgotten: {M}"},
		answer:        []string{"{S}? {F}", "{S}, you ask? {F}", "Ah, {s}. {F}"},
		answerPlain:   []string{"{F}", "Here's what I know. {F}"},
		unknown:       []string{"I don't know anything about that, sorry.", "Can't say I know about that.", "That I don't know. Ask someone else, perhaps."},
		farewell:      []string{"Farewell.", "Safe travels, {V}.", "Take care out there."},
		farewellNamed: []string{"Farewell, {N}.", "Safe travels, {N}."},
		bark:          []string{"Another day.", "Hm. Quiet today.", "Busy, busy."},
		address:       []string{"Does that help, {N}?", "There you have it, {N}."},
	},
	voiceGruff: {
		vocative:      "stranger",
		greetStranger: []string{"What do you want?", "Hm. A stranger. Speak up.", "Make it quick, {V}."},
		greetNamed:    []string{"{N}. What do you want?", "{N}, is it? Make it quick."},
		greetReturn:   []string{"Back again, {N}? What now?", "{N}. You again.", "Hm. {N}. Speak your piece."},
		greetAgain:    []string{"You again.", "Hm. Back, are you?"},
		selfIntro:     []string{"Name's {P}.", "{P}. That's me."},
		memSaid:       []string{"You told me last time: \"{M}\"", "Still on about this? \"{M}\""},
		memOther:      []string{"I remember. {M}"},
		answer:        []string{"{S}? {F} That's all I know.", "{S}. {F}", "{S}? {F} Anything else?"},
		answerPlain:   []string{"{F}", "{F} That's all I know."},
		unknown:       []string{"Never heard of it.", "Don't know. Don't care.", "Ask someone else. I wouldn't know."},
		farewell:      []string{"Go on, then.", "Hm. Off with you.", "Mind how you go."},
		farewellNamed: []string{"Go on, then, {N}.", "Mind how you go, {N}."},
		bark:          []string{"Hmph.", "Too much noise today.", "Work doesn't do itself."},
		address:       []string{"Remember that, {N}.", "Now you know, {N}."},
	},
	voiceCheerful: {
		vocative:      "friend",
		greetStranger: []string{"Hello, hello! Welcome, {V}!", "Oh, a new face! Welcome!", "Good day to you, {V}! Lovely to see you!"},
		greetNamed:    []string{"{N}! What a lovely name. Welcome!", "Hello, {N}! So glad you stopped by!"},
		greetReturn:   []string{"{N}! Back again? Wonderful!", "Oh, {N}, welcome back!", "There you are, {N}! Good to see you!"},
		greetAgain:    []string{"Oh, you're back! Welcome!", "Hello again! Lovely to see you!"},
		selfIntro:     []string{"I'm {P}, by the way!", "Call me {P}!"},
		memSaid:       []string{"Last time you told me: \"{M}\" How did that go?", "I still remember you saying: \"{M}\""},
		memOther:      []string{"Oh, I remember! {M}"},
		answer:        []string{"Oh, {s}! {F}", "{S}? I know this one! {F}", "Ooh, {s}! {F} Fascinating, isn't it?"},
		answerPlain:   []string{"Oh, I know this one! {F}", "{F} Isn't that something?"},
		unknown:       []string{"Oh, I wish I knew! No idea, I'm afraid.", "Hmm, that one's beyond me. Sorry!", "No idea, {V}! Maybe someone else knows?"},
		farewell:      []string{"Bye now! Come back soon!", "Safe travels, {V}!", "Take care! Come back anytime!"},
		farewellNamed: []string{"Bye, {N}! Come back soon!", "Take care, {N}!"},
		bark:          []string{"What a lovely day!", "Isn't it a fine day?", "La la la..."},
		address:       []string{"Hope that helps, {N}!", "There you go, {N}!"},
	},
	voiceNervous: {
		vocative:      "stranger",
		greetStranger: []string{"Oh! Um, h-hello.", "Y-yes? Can I... help you?", "Oh, a stranger. Hello, I suppose."},
		greetNamed:    []string{"Oh! {N}, was it? H-hello.", "Um, hello, {N}."},
		greetReturn:   []string{"Oh, {N}! It's you. Good.", "{N}? Oh, thank goodness, it's you.", "Back again, {N}? N-nothing wrong, I hope?"},
		greetAgain:    []string{"Oh, it's you again. Good.", "Oh! You're back."},
		selfIntro:     []string{"I'm, um, {P}.", "M-my name's {P}."},
		memSaid:       []string{"You, um, said last time: \"{M}\""},
		memOther:      []string{"I keep thinking about it. {M}"},
		answer:        []string{"{S}? Oh dear. {F} I think.", "Um, {s}... {F}", "{S}? W-well... {F}"},
		answerPlain:   []string{"Um... {F}", "W-well... {F} I think."},
		unknown:       []string{"I, um, don't know anything about that. Sorry!", "Oh, I couldn't say. I really don't know.", "N-no idea, I'm afraid."},
		farewell:      []string{"Oh, um, goodbye then.", "B-be careful out there.", "Goodbye! Stay safe."},
		farewellNamed: []string{"Goodbye, {N}. Be careful!", "Oh, um, bye, {N}."},
		bark:          []string{"Did you hear that?", "Oh, I don't like this.", "Is someone watching me?"},
		address:       []string{"I hope that's right, {N}.", "D-does that help, {N}?"},
	},
	voiceScholarly: {
		vocative:      "traveler",
		greetStranger: []string{"Ah, a visitor. Greetings.", "Greetings, {V}. Have you come with a question?", "Good day. Mind the books."},
		greetNamed:    []string{"Greetings, {N}. A pleasure.", "{N}, is it? Greetings."},
		greetReturn:   []string{"Ah, {N}, back again. Welcome.", "Welcome back, {N}. More questions?", "{N}! Just the person I hoped to see."},
		greetAgain:    []string{"Ah, you've returned.", "Welcome back. More questions?"},
		selfIntro:     []string{"I am {P}.", "{P}, at your service."},
		memSaid:       []string{"I recall you said last time: \"{M}\"", "You mentioned, when last we spoke: \"{M}\""},
		memOther:      []string{"I made a note of it: {M}"},
		answer:        []string{"Ah, {s}. {F} So the old texts say.", "{S}? The texts are clear. {F}", "On {s}, the records say this. {F}"},
		answerPlain:   []string{"The records say this. {F}", "{F} So the old texts say."},
		unknown:       []string{"Curious. I've read nothing on that.", "My books are silent on that, I'm afraid.", "That is beyond my studies, regrettably."},
		farewell:      []string{"Farewell. Keep learning.", "Until next time, {V}.", "Go well. Knowledge awaits."},
		farewellNamed: []string{"Farewell, {N}. Keep learning.", "Until next time, {N}."},
		bark:          []string{"Now where did I put that book?", "Fascinating. Truly fascinating.", "Hmm, the margins disagree again."},
		address:       []string{"I trust that helps, {N}.", "Note that down, {N}."},
	},
	voicePious: {
		vocative:      "traveler",
		greetStranger: []string{"Blessings upon you, {V}.", "Peace be with you, {V}.", "The gods watch over you, {V}."},
		greetNamed:    []string{"Blessings, {N}. Welcome.", "Peace be with you, {N}."},
		greetReturn:   []string{"Blessings, {N}. You return to us.", "Welcome back, {N}. The gods are kind.", "{N}! Peace be with you again."},
		greetAgain:    []string{"You return to us. Blessings.", "Welcome back. Peace be with you."},
		selfIntro:     []string{"I am {P}.", "I am called {P}."},
		memSaid:       []string{"I have prayed on your words: \"{M}\""},
		memOther:      []string{"I keep it in my prayers: {M}"},
		answer:        []string{"{S}? {F} Such is the truth of it.", "Of {s}, this is known. {F}", "{S}. {F} May that guide you."},
		answerPlain:   []string{"This is known. {F}", "{F} May that guide you."},
		unknown:       []string{"That is known only to the gods, not to me.", "I cannot say. Pray on it, perhaps.", "The gods have not shown me that."},
		farewell:      []string{"Go with the gods.", "Blessings on your road, {V}.", "Peace be with you."},
		farewellNamed: []string{"Go with the gods, {N}.", "Blessings on your road, {N}."},
		bark:          []string{"Light keep us.", "Have you said your prayers today?", "May the gods be merciful."},
		address:       []string{"Go in peace, {N}.", "Remember it well, {N}."},
	},
	voiceSly: {
		vocative:      "friend",
		greetStranger: []string{"Well, well. A new face.", "Looking for something, {V}? Maybe I can help.", "Psst. Over here, {V}."},
		greetNamed:    []string{"{N}, is it? I'll remember that.", "Well, well. {N}. Pleasure."},
		greetReturn:   []string{"{N}. I knew you'd be back.", "Back again, {N}? Of course you are.", "Well, well, {N}. Miss me?"},
		greetAgain:    []string{"Back again, are we?", "Well, well. You again."},
		selfIntro:     []string{"Call me {P}.", "They call me {P}."},
		memSaid:       []string{"Last time you let slip: \"{M}\"", "I haven't forgotten what you said: \"{M}\""},
		memOther:      []string{"I hear things. {M}"},
		answer:        []string{"{S}, eh? {F} You didn't hear it from me.", "{S}? {F} That one's free.", "Ah, {s}. {F}"},
		answerPlain:   []string{"{F} You didn't hear it from me.", "Between us? {F}"},
		unknown:       []string{"Never heard of it. Honest.", "Can't help you there. Not for any price.", "Now that, I don't know. Truly."},
		farewell:      []string{"Watch your purse out there.", "Off you go, {V}. We never talked.", "Until next time."},
		farewellNamed: []string{"Until next time, {N}.", "Watch your back, {N}."},
		bark:          []string{"Nobody saw anything.", "Everything has a price.", "Keep your voice down."},
		address:       []string{"Remember who told you, {N}.", "That one's on the house, {N}."},
	},
	voiceKind: {
		vocative:      "friend",
		greetStranger: []string{"Hello, {V}. Come, rest a moment.", "Welcome, {V}. How can I help?", "Hello there. Are you well?"},
		greetNamed:    []string{"Hello, {N}. Welcome. How can I help?", "{N}, what a nice name. Welcome."},
		greetReturn:   []string{"{N}! It's good to see you again.", "Welcome back, {N}. Are you well?", "Oh, {N}, I hoped you'd come back."},
		greetAgain:    []string{"Welcome back. It's good to see you.", "Oh, you've come back. Are you well?"},
		selfIntro:     []string{"I'm {P}.", "My name is {P}."},
		memSaid:       []string{"Last time you told me: \"{M}\" I've been thinking of you."},
		memOther:      []string{"I remember. {M}"},
		answer:        []string{"{S}? Of course. {F}", "Ah, {s}. {F} I hope that helps.", "{S}? Let me tell you. {F}"},
		answerPlain:   []string{"Of course. {F}", "{F} I hope that helps."},
		unknown:       []string{"I'm sorry, I don't know about that.", "I wish I could help, but I don't know.", "I'm afraid I don't know. Perhaps someone else can help?"},
		farewell:      []string{"Take care of yourself, {V}.", "Be safe. Come back anytime.", "Go gently."},
		farewellNamed: []string{"Take care of yourself, {N}.", "Be safe, {N}."},
		bark:          []string{"Is everyone well today?", "Such a kind day.", "Don't forget to eat something."},
		address:       []string{"I hope that helps, {N}.", "Take care, {N}."},
	},
}

// role is a family of NPC roles with lines of its own; none of them states a
// fact about the world.
type role struct {
	offers []string // appended to greetings
	barks  []string
}

var roles = []role{
	{ // smith
		offers: []string{"Need something mended?", "Need a blade sharpened?"},
		barks:  []string{"The forge won't stoke itself.", "Steel needs patience."},
	},
	{ // innkeeper
		offers: []string{"Looking for a room or a drink?", "Sit down, sit down."},
		barks:  []string{"Who's ready for another round?", "Mind the tables."},
	},
	{ // merchant
		offers: []string{"Looking to buy, or to sell?", "Have a look at my wares."},
		barks:  []string{"Fine goods! Fair prices!", "Come, have a look!"},
	},
	{ // guard
		offers: []string{"Keep your weapon sheathed.", "No trouble, understood?"},
		barks:  []string{"Move along.", "All quiet. For now."},
	},
	{ // priest
		offers: []string{"Do you seek a blessing?", "The shrine is open to all."},
		barks:  []string{"Light keep us all.", "Pray with me, if you will."},
	},
	{ // scholar
		offers: []string{"Come with a question?", "Mind the books."},
		barks:  []string{"So much to read, so little time.", "Where is that scroll?"},
	},
	{ // farmer
		offers: []string{"Mind the fields on your way.", "Careful where you step."},
		barks:  []string{"Rain would do the fields good.", "Back to work, then."},
	},
	{ // hunter
		offers: []string{"Watch the tree line out there.", "Heading into the wilds?"},
		barks:  []string{"Quiet out there. Too quiet.", "Arrows won't fletch themselves."},
	},
	{ // healer
		offers: []string{"Are you hurt?", "Need something for the pain?"},
		barks:  []string{"Rest is the best medicine.", "Boil the water first. Always."},
	},
}

// roleWords maps role words (lowercase, lightly stemmed) to indices into
// roles.
var roleWords = map[string]int{
	"smith": 0, "blacksmith": 0, "armorer": 0, "armourer": 0, "weaponsmith": 0, "forge": 0,
	"innkeeper": 1, "barkeep": 1, "bartender": 1, "tavernkeeper": 1, "publican": 1, "barmaid": 1, "innkeep": 1,
	"merchant": 2, "trader": 2, "shopkeeper": 2, "peddler": 2, "vendor": 2, "shopkeep": 2,
	"guard": 3, "soldier": 3, "watchman": 3, "captain": 3, "sentry": 3, "knight": 3, "guardsman": 3,
	"priest": 4, "cleric": 4, "priestess": 4, "acolyte": 4, "monk": 4, "nun": 4, "paladin": 4,
	"scholar": 5, "sage": 5, "librarian": 5, "wizard": 5, "mage": 5, "scribe": 5, "archivist": 5,
	"farmer": 6, "farmhand": 6, "shepherd": 6, "miller": 6,
	"hunter": 7, "ranger": 7, "trapper": 7, "scout": 7, "woodsman": 7,
	"healer": 8, "herbalist": 8, "physician": 8, "alchemist": 8, "apothecary": 8,
}

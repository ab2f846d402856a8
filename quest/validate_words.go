package quest

// commonWords are the plain English words a sentence may open with without
// being taken for a proper noun: function words (articles, pronouns,
// prepositions, conjunctions, determiners, auxiliaries), question words,
// common adverbs and interjections, number words, and the everyday verbs
// and nouns quest text opens sentences with. Everything here is lower case;
// the check lower-cases the word first. A word that is also a name in some
// world (say, a village called "Bath") is still matched as a name first.
//
// The list is deliberately closed: a model that opens a sentence with
// "Dragons" or "Vexmoor" is flagged and its text repaired, because the
// checker cannot tell a plural noun from an invented name. The generator's
// own phrase banks open sentences only with words from this list, which
// TestPhraseBanksUseCommonWords checks.
var commonWords = setOf(
	// articles, determiners, quantifiers
	"a", "an", "the", "this", "that", "these", "those", "some", "any", "each", "every", "no",
	"all", "both", "either", "neither", "few", "many", "much", "more", "most", "other",
	"another", "such", "what", "which", "whatever", "whoever", "several", "enough", "half",
	// pronouns and possessives
	"i", "me", "my", "mine", "we", "us", "our", "ours", "you", "your", "yours", "he", "him",
	"his", "she", "her", "hers", "it", "its", "they", "them", "their", "theirs", "one",
	"someone", "somebody", "something", "anyone", "anything", "nobody", "nothing",
	"everyone", "everything", "none", "who", "whom", "whose", "myself", "yourself",
	// contractions
	"i'm", "i'll", "i've", "i'd", "you're", "you'll", "you've", "you'd", "we're", "we'll",
	"we've", "it's", "that's", "there's", "here's", "what's", "let's", "don't", "doesn't",
	"didn't", "can't", "won't", "isn't", "aren't", "wasn't", "weren't", "shouldn't",
	"couldn't", "wouldn't", "haven't", "hasn't", "they're", "they'll", "he's", "she's",
	// prepositions and conjunctions
	"about", "above", "across", "after", "against", "along", "among", "around", "at",
	"before", "behind", "below", "beneath", "beside", "between", "beyond", "by", "down",
	"during", "for", "from", "in", "inside", "into", "near", "of", "off", "on", "onto",
	"out", "outside", "over", "past", "since", "through", "throughout", "to", "toward",
	"towards", "under", "until", "till", "up", "upon", "with", "within", "without",
	"and", "but", "or", "nor", "so", "yet", "because", "if", "unless", "while", "when",
	"whenever", "where", "wherever", "whether", "though", "although", "as", "once", "than",
	// auxiliaries and common verbs
	"be", "is", "are", "was", "were", "been", "being", "am", "do", "does", "did", "done",
	"have", "has", "had", "can", "could", "may", "might", "must", "shall", "should", "will",
	"would", "ought", "need", "needs", "go", "goes", "went", "gone", "come", "came", "get",
	"got", "make", "made", "take", "took", "give", "gave", "bring", "brought", "find",
	"found", "keep", "kept", "let", "put", "see", "saw", "seen", "look", "looking", "say",
	"said", "tell", "told", "ask", "asked", "speak", "talk", "meet", "help", "hear", "heard",
	"know", "knew", "think", "thought", "want", "wants", "wanted", "hope", "fear", "seek",
	"search", "hunt", "kill", "slay", "cull", "clear", "drive", "stop", "hold", "guard",
	"defend", "protect", "watch", "stand", "fight", "strike", "gather", "collect",
	"fetch", "carry", "deliver", "hand", "pick", "harvest", "cut", "dig", "return",
	"travel", "walk", "head", "visit", "reach", "explore", "scout", "survey", "use",
	"try", "set", "leave", "escort", "lead", "guide", "follow", "take", "pay", "reward",
	"earn", "finish", "start", "begin", "wait", "listen", "mind", "remember", "forget",
	"check", "learn", "study", "test", "practise", "practice", "show", "prove", "deal",
	"thin", "rid", "send", "sent", "call", "called", "settle", "track", "trace", "chase",
	"put", "bear", "place", "light", "burn", "mend", "repair", "fix", "apply", "work",
	"climb", "cross", "swim", "run", "ride", "make", "teach", "bind", "brew", "forge",
	"someone's", "nobody's", "wander", "comb", "pass", "fill", "spend", "buy", "sell",
	// adverbs
	"again", "already", "also", "always", "even", "ever", "first", "here", "there", "how",
	"however", "just", "later", "never", "next", "not", "now", "often", "only", "perhaps",
	"maybe", "quickly", "quietly", "rather", "soon", "still", "then", "today", "tonight",
	"tomorrow", "too", "very", "well", "why", "sadly", "frankly", "honestly", "truly",
	"really", "surely", "certainly", "finally", "afterwards", "meanwhile", "otherwise",
	"instead", "besides", "last", "lately", "recently", "long", "far", "back", "away",
	"whatever's", "once", "twice", "thrice", "plainly", "simply", "either", "lastly",
	// interjections and address
	"ah", "aye", "alas", "hail", "hello", "hey", "hm", "hmm", "oh", "ho", "well", "yes",
	"no", "please", "thanks", "thank", "welcome", "greetings", "listen", "look", "mark",
	"friend", "traveller", "traveler", "stranger", "good", "right", "fine", "quick",
	"careful", "easy", "hush", "psst", "now", "so", "see",
	// numbers and ordinals
	"two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "second",
	"third", "dozen", "single",
	// everyday nouns and adjectives quest text opens with
	"word", "news", "trouble", "time", "times", "coin", "gold", "pay", "payment", "work",
	"job", "task", "errand", "matter", "business", "favour", "favor", "bounty", "debt",
	"danger", "peace", "quiet", "safety", "honour", "honor", "pride", "fame", "name",
	"knowledge", "comfort", "reputation", "serenity", "protection", "conquest", "wealth",
	"ability", "equipment", "supplies", "tools", "hands", "skill", "lesson", "lessons",
	"old", "new", "bad", "ill", "dark", "grim", "hard", "small", "simple", "urgent",
	"strange", "rumour", "rumours", "rumor", "rumors", "whispers", "tales", "talk", "folk",
	"people", "everybody", "nobody's", "none", "nothing's", "something's", "someone",
	"blood", "vengeance", "revenge", "justice", "a", "mission", "quest", "hunting",
	"hunters", "guarding", "gathering", "delivery", "escorting", "escort", "defence",
	"defense", "exploring", "study", "search", "scouting", "rescue", "supply", "salvage",
	"spoils", "stock", "stocking", "fresh", "full", "lost", "missing", "overdue",
	"between", "beware", "whoever", "careful", "truth", "reward", "rewards",
	"pests", "vermin", "clearing", "culling", "clean", "cleaning", "making", "mending",
	"repairs", "orders", "order", "message", "messages", "letter", "note", "notes",
	"survey", "tracks", "signs", "sign", "footing", "ground", "ground's",
	"calling", "drop", "easing", "free", "gear", "goods", "journey", "keeping", "life", "plus",
	"poke", "profit", "questions", "safe", "secrets", "seeking", "spare", "striking", "tongues",
	"trade", "into", "beyond", "practice", "stand", "cleaning", "blood", "hunting", "culling",
	"gathering", "stocking", "guarding", "escorting", "scouting", "pride", "peace", "supplies",
	"tools", "justice", "coin", "better", "break", "bringing", "carrying", "children", "death", "eyes",
	"hurry", "knowing", "lay", "learning", "livestock", "map", "picking", "prices", "question", "rest",
	"round", "scrape", "settling", "sit", "teeth", "trust", "walls", "making",
)

func setOf(words ...string) map[string]struct{} {
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}

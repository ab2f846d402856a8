package quest

// The phrase banks of text.go. Every entry is lower case but the pronoun
// I, and every word that can open a sentence is in commonWords
// (TestPhraseBanksUseCommonWords). Placeholders are listed in text.go.

// titleBanks are titles by the quest's main action (the first that is not
// a go to).
var titleBanks = map[Action][]string{
	Kill: {"{C} at {P}", "a bounty on {theC}", "trouble at {P}", "culling {theC}", "blood at {P}", "hunting {theC}",
		"no mercy for {theC}", "cleaning out {P}", "the hunt at {P}", "teeth in {P}", "a price on {theC}", "death to {theC}"},
	Defend: {"hold {P}", "the defence of {P}", "stand fast at {P}", "guarding {P}", "no {C} shall pass", "a long night at {P}",
		"walls and blades at {P}", "the siege of {P}", "keep {P} standing"},
	Gather: {"{Iname} for {G}", "a harvest at {P}", "gathering {Iname}", "what {P} provides", "stocking up on {Iname}",
		"in search of {Iname}", "a full basket from {P}", "the {Iname} run", "picking through {P}"},
	Deliver: {"a delivery for {R}", "a parcel for {R}", "{R}'s parcel", "an errand to {P}", "goods for {R}", "the road to {R}",
		"into {R}'s hands", "a package bound for {P}", "carrying for {G}"},
	TalkTo: {"a word with {R}", "questions for {R}", "news from {R}", "seeking {R}", "calling on {R}", "what {R} knows",
		"an answer from {R}", "a visit to {P}", "talk at {P}"},
	Escort: {"safe passage for {R}", "escorting {R}", "the road to {P}", "{R} must reach {P}", "a guard for {R}",
		"bringing {R} through", "a long walk to {P}"},
	Explore: {"into {P}", "what lies in {P}", "secrets of {P}", "a survey of {P}", "scouting {P}", "beyond the edge of {P}",
		"eyes on {P}", "the quiet of {P}", "a look at {P}"},
	Use:  {"{Iname} at {P}", "a use for {Iname}", "put to use at {P}", "the {Iname} plan", "work at {P}", "making do at {P}"},
	GoTo: {"the way to {P}", "a trip to {P}"},
}

// motiveTitles are titles by motivation, used a third of the time.
var motiveTitles = map[Motivation][]string{
	Knowledge:  {"what {G} wants to know", "questions near {P}", "a matter of knowledge", "the truth about {P}", "{G}'s missing pages"},
	Comfort:    {"easing {G}'s days", "a little comfort for {G}", "{G}'s small trouble", "peace and quiet at {H}", "an easier life"},
	Reputation: {"{G}'s good name", "a deed for {G}", "pride at {H}", "something to boast of", "a name worth keeping"},
	Serenity:   {"justice for {G}", "peace for {H}", "an old wrong", "rest for {G}", "settling the score"},
	Protection: {"keeping {H} safe", "a shield for {H}", "{G}'s worry", "safe roads near {P}", "the watch at {H}"},
	Conquest:   {"{G}'s war", "striking at {P}", "the enemy near {H}", "first blood at {P}", "a blow for {G}"},
	Wealth:     {"{G}'s venture", "profit at {P}", "coin for {G}", "a tidy profit", "{G}'s ledger"},
	Ability:    {"{G}'s lesson", "practice at {P}", "a test of skill", "learning the trade", "{G}'s apprenticeship"},
	Equipment:  {"supplies for {G}", "tools for {H}", "gear for {G}", "the right tools", "a well-stocked shelf"},
}

// motiveDesc opens a description: why the giver wants it, third person.
var motiveDesc = map[Motivation][]string{
	Knowledge: {
		"{G} wants to learn more than rumour can tell",
		"{G} is gathering knowledge and trusts your eyes more than tavern talk",
		"{G} has questions that only careful legwork will answer",
		"{G} keeps a record of everything near {H}, and the record has gaps",
		"{G} needs reliable news, not hearsay",
		"something has puzzled {G} for weeks",
		"{G} is curious, and curiosity has become need",
		"{G} suspects the stories are wrong and wants proof either way",
		"{G} has been asking around, and nobody gives a straight answer",
		"an unanswered question keeps {G} awake at night",
		"{G} would rather know the worst than guess at it",
	},
	Comfort: {
		"{G} is tired of living with a nuisance",
		"{G} would sleep easier with a few things put right",
		"life at {H} has grown hard, and {G} wants a little ease",
		"{G} asks for help with the small troubles that wear a person down",
		"{G} longs for a quiet hearth and a full larder",
		"{G} has put up with this for far too long",
		"{G}'s patience with the daily grind is wearing thin",
		"{G} only wants the simple pleasures back",
		"the little miseries of {H} have got the better of {G}",
		"{G} wants one thing fewer to worry about",
	},
	Reputation: {
		"{G} has a name to make, or to keep",
		"{G} wants the whole of {H} to hear of a deed well done",
		"{G} needs to show the neighbours what a friend of theirs can do",
		"{G} has made a bold promise and must now keep it",
		"{G}'s standing hangs on this",
		"tongues are wagging at {H}, and {G} means to silence them",
		"{G} boasted in company and now needs the boast made true",
		"a rival has been mocking {G}, and {G} wants an answer folk will remember",
		"{G} hopes a good deed will be talked about for years",
		"{G} will not be made a fool of in front of all {H}",
	},
	Serenity: {
		"{G} cannot rest while this is left undone",
		"an old wrong weighs on {G}",
		"{G} wants peace restored, and some justice with it",
		"{G} has not slept well since the trouble began",
		"{G} asks for an end to a grief that will not fade",
		"{G} wants the quiet of {H} back",
		"a debt of blood sits heavy on {G}",
		"{G} says the dead deserve better than to be forgotten",
		"{G} wants to lay a bad memory to rest",
		"{G} hopes that setting things right will bring some calm",
	},
	Protection: {
		"{G} fears for the safety of {H}",
		"{G} wants the people of {H} kept safe",
		"danger is drawing close to {H}, and {G} knows it",
		"{G} is worried that someone will get hurt",
		"{G} asks for a guard's work from someone who can fight",
		"the folk of {H} look to {G} for safety, and {G} looks to you",
		"{G} has counted the threats near {H} and does not like the sum",
		"{G} wants the roads safe before the next market",
		"children at {H} have been kept indoors, and {G} wants that to end",
		"{G} has heard things in the night that nobody should hear",
	},
	Conquest: {
		"{G} wants an enemy broken",
		"{G} has decided that it is time to strike first",
		"{G} means to take the fight to the enemy",
		"{G} wants a rival driven back for good",
		"{G} is done with waiting and wants a blow struck",
		"{G} wants ground taken and held",
		"{G} believes a hard blow now saves a war later",
		"{G} has marked an enemy and wants it dealt with",
		"{G} is tired of being pushed around and means to push back",
	},
	Wealth: {
		"{G} sees coin to be made",
		"{G} has a buyer waiting and no stock",
		"{G} wants to turn a quick profit",
		"trade has been thin, and {G} means to change that",
		"{G} smells a bargain",
		"{G} has spotted a gap in the market",
		"{G} owes money and needs goods to sell",
		"prices are up, and {G} wants to sell while they last",
		"{G} has a plan to make a little money and needs willing hands",
	},
	Ability: {
		"{G} wants to master a new skill",
		"{G} is studying a craft and needs practice",
		"{G} wants to test what a trained hand can do",
		"{G} believes a lesson is best learned by doing",
		"{G} is set on getting better at the work",
		"{G} has read about a technique and wants to try it",
		"{G} wants to prove that old skills still count",
		"{G} needs material to practise with, and plenty of it",
		"{G} is training for something and will not say what",
	},
	Equipment: {
		"{G} is short of gear",
		"{G} needs supplies before the season turns",
		"{G} has work that cannot be done without the right tools",
		"{G}'s stores at {H} are running low",
		"{G} must be properly equipped before long",
		"{G} broke the last of the good tools and needs more",
		"{G} is preparing for a hard season",
		"{G} has orders to fill and an empty workbench",
		"{G} wants everything ready before trouble comes",
	},
}

// motiveSay is the giver's own reason, first person.
var motiveSay = map[Motivation][]string{
	Knowledge: {
		"I need to know what is really going on",
		"there are things I must understand before I can act",
		"I have questions, and you look like someone who finds answers",
		"my notes have a hole in them that you could fill",
		"I would give a great deal for good information",
		"I am tired of guessing",
		"nobody here will tell me the truth",
		"I have heard three stories and believe none of them",
		"knowing is better than fearing",
		"I want facts, not fireside tales",
	},
	Comfort: {
		"I have had enough of this nuisance",
		"I only want a little peace in my own home",
		"it is a small thing, but it wears on me",
		"I am too old to be putting up with this",
		"a little ease is all I ask",
		"I cannot enjoy a meal with this hanging over me",
		"my back aches and my patience is gone",
		"I would like one quiet evening this month",
		"it is the little things that grind a person down",
		"life would be sweeter without this trouble",
	},
	Reputation: {
		"my good name is at stake",
		"people here need to see that I keep my word",
		"I promised something bold, and now it must be done",
		"I will not be laughed at",
		"this is a chance to prove what we are made of",
		"folk will talk about this for years, one way or the other",
		"I made a boast, and I mean to make it true",
		"a name is hard won and easily lost",
		"I want them talking about this at every table",
		"they doubt me, and I intend to prove them wrong",
	},
	Serenity: {
		"I cannot rest until this is settled",
		"an old wrong needs putting right",
		"I want justice, and then I want quiet",
		"I have not slept properly since it began",
		"this grief will not leave me be",
		"there will be no peace for me until it is done",
		"some debts can only be paid one way",
		"the dead deserve better than silence",
		"I want to close this chapter for good",
		"my heart will not settle while this stands",
	},
	Protection: {
		"I fear for the people here",
		"someone is going to get hurt if nobody acts",
		"danger is closer than most folk think",
		"I need someone who can fight",
		"we cannot keep ourselves safe alone",
		"I have watched the threat grow, and I will not wait for it",
		"the children should be able to play outside",
		"every night I lock the door and listen",
		"we are too few to stand guard every hour",
		"better a blade now than a funeral later",
	},
	Conquest: {
		"it is time we struck first",
		"I want them broken",
		"we have waited long enough",
		"I mean to take the fight to them",
		"let them learn what it costs to cross me",
		"a hard blow now saves a long war",
		"I want that ground back",
		"they think we are weak, and they are wrong",
		"no more waiting, no more talk",
	},
	Wealth: {
		"there is coin to be made",
		"I have a buyer waiting and nothing to sell",
		"trade has been thin, and I mean to fix that",
		"a little profit never hurt anyone",
		"I smell a bargain",
		"prices are up and I want to sell while they last",
		"my strongbox is lighter than I like",
		"I owe money, and goods pay debts",
		"there is a market for this, if we are quick",
	},
	Ability: {
		"I am learning a new craft",
		"I want to get better at my work",
		"a lesson is best learned by doing",
		"I need practice, and materials to practise with",
		"I mean to master this, however long it takes",
		"my hands are slower than they were",
		"I read about a technique and want to try it",
		"a skill unused is a skill lost",
		"I am training for something, and it will not wait",
	},
	Equipment: {
		"I am short of gear",
		"my stores are running low",
		"I cannot work without the right tools",
		"the season is turning, and I am not ready",
		"I need supplies, and soon",
		"I broke my last good tool this morning",
		"I have orders to fill and an empty bench",
		"we must be ready before trouble comes",
		"half my kit is rusted and the rest is lost",
	},
}

// clauseBanks are imperative clauses for each action, lower case, used in
// descriptions and dialogue alike.
var clauseBanks = map[Action][]string{
	Kill: {
		"hunt down {T}{at}", "kill {T}{at}", "slay {T}{at}", "cull {T}{at}", "thin out {T}{at}",
		"put down {T}{at}", "track and kill {T}{at}", "rid the land of {T}{at}", "bring down {T}{at}",
		"deal with {T}{at}, for good", "seek out and destroy {T}{at}", "finish off {T}{at}",
		"make an end of {T}{at}", "take care of {T}{at}", "put {T}{at} to the sword",
		"break {T}{at}", "see to it that {T}{at} trouble nobody again",
	},
	Defend: {
		"defend {P} against {T}", "hold {P} against {T}", "stand guard at {P} and drive off {T}",
		"keep {T} out of {P}", "protect {P} from {T}", "guard {P} and beat back {T}",
		"watch over {P} and fight off {T}", "stand between {P} and {T}", "hold the line at {P} when {T} come",
		"keep watch at {P} and meet {T} with steel", "make sure {T} never get into {P}",
	},
	Gather: {
		"gather {I}{at}", "collect {I}{at}", "harvest {I}{at}", "find {I}{at}", "search out {I}{at}",
		"get hold of {I}{at}", "fetch {I} from {P}", "bring back {I} from {P}", "pick up {I}{at}",
		"round up {I}{at}", "scrape together {I}{at}", "lay hands on {I}{at}", "hunt for {I}{at}",
		"dig up {I}{at}",
	},
	Deliver: {
		"deliver {D} to {R}{at}", "bring {D} to {R}{at}", "carry {D} to {R}{at}", "hand {D} to {R}{at}",
		"take {D} to {R}{at}", "see that {D} reaches {R}{at}", "get {D} to {R}{at}", "drop off {D} with {R}{at}",
		"put {D} into the hands of {R}{at}", "run {D} over to {R}{at}", "leave {D} with {R}{at}",
		"make sure {R}{at} gets {D}",
	},
	TalkTo: {
		"talk to {R}{at}", "speak with {R}{at}", "seek out {R}{at}", "ask {R}{at} what they have seen",
		"find {R}{at} and hear them out", "visit {R}{at}", "carry word to {R}{at}",
		"have a quiet word with {R}{at}", "call on {R}{at}", "find out what {R} knows",
		"question {R}{at}", "sit down with {R}{at} and listen", "pay {R} a visit{at}",
		"get the story from {R}{at}", "check in with {R}{at}",
	},
	Escort: {
		"escort {R} safely to {P}", "see {R} safely to {P}", "guide {R} to {P}",
		"walk {R} to {P} and keep them from harm", "lead {R} to {P} unharmed", "take {R} to {P} in one piece",
		"bring {R} to {P} alive", "get {R} to {P} without a scratch", "keep {R} company as far as {P}",
		"watch over {R} on the road to {P}", "see {R} through to {P}",
	},
	GoTo: {
		"travel to {P}", "make your way to {P}", "head for {P}", "go to {P}", "set out for {P}",
		"journey to {P}", "find your way to {P}", "cross over to {P}", "hurry to {P}", "take the road to {P}",
		"get yourself to {P}",
	},
	Explore: {
		"explore {P}", "search every corner of {P}", "scout {P} and note what you find", "look around {P}",
		"survey {P} with care", "comb {P} for anything unusual", "walk the length of {P}",
		"poke around {P}", "learn the lie of the land at {P}", "map out {P}", "keep your eyes open all over {P}",
		"find out what is going on at {P}",
	},
	Use: {
		"use {I}{at}", "put {I} to use{at}", "apply {I}{at}", "set {I} in place{at}", "try {I}{at}",
		"make use of {I}{at}", "put {I} to work{at}", "work with {I}{at}", "test {I}{at}",
	},
}

// clauseTails are added to a clause now and then.
var clauseTails = []string{
	" before nightfall", " before the week is out", " as soon as you can", " without delay", " and be careful",
	" while the weather holds", " quietly", " before anyone else does", " if you can", " and do not dawdle",
	" by first light", " while there is still time",
}

// whyDesc are second sentences of a description, by main action: what is
// at stake, third person.
var whyDesc = map[Action][]string{
	Kill: {"they have been getting bolder", "nobody dares walk near {P} after dark", "livestock has gone missing",
		"two travellers were hurt last week", "the last person who tried came back limping", "their numbers are growing"},
	Defend: {"an attack is expected soon", "the signs point to trouble within days", "the defenders are too few",
		"last time the damage took a season to mend"},
	Gather: {"the stores are nearly bare", "a recipe calls for it", "the price is good right now", "it spoils if left too long",
		"the usual supplier has gone quiet"},
	Deliver: {"it must arrive in good order", "it has been promised for days", "it cannot wait for the carrier",
		"nobody else can be trusted with it"},
	TalkTo: {"they saw something important", "they owe an answer", "word must pass in person", "they know more than they let on"},
	Escort: {"the road is not safe alone", "they have been threatened", "they are needed elsewhere", "they will not go without a guard"},
	Explore: {"strange things have been seen around {P}", "nobody has been to {P} in years", "the old maps of {P} are useless",
		"tracks were found leading to {P}"},
	Use:  {"it only works in the right place", "the work will not wait", "it is the last piece of the plan"},
	GoTo: {"the way is longer than it looks"},
}

// whySay are the same in the giver's mouth.
var whySay = map[Action][]string{
	Kill: {"they are getting bolder by the day", "I will not walk near {P} after dark", "I have lost animals to them",
		"someone will die if this goes on", "their numbers grow every season"},
	Defend:  {"an attack is coming, I am sure of it", "we are too few to hold alone", "I have seen the signs before"},
	Gather:  {"my stores are nearly bare", "the recipe will not work without it", "the price will not stay this good"},
	Deliver: {"it must arrive in good order", "I promised it days ago", "I trust nobody else with it"},
	TalkTo:  {"they saw something, I am sure of it", "they owe me an answer", "some things must be said face to face"},
	Escort:  {"the road is not safe alone", "they have been threatened", "I cannot spare anyone else"},
	Explore: {"strange things have been seen around {P}", "nobody has been to {P} in years", "I need to know what is out there"},
	Use:     {"it only works in the right place", "it is the last piece of my plan"},
	GoTo:    {"it is farther than it looks"},
}

// exploreThere are explore clauses after a go to the same place.
var exploreThere = []string{
	"look around", "search every corner", "explore the whole place", "scout the area",
	"take a careful look about", "note everything you find there", "walk every path there",
	"see what has changed there", "poke into every hollow",
}

// rescueBank are escort clauses after a fight: a rescue.
var rescueBank = []string{
	"free {R} and bring them back to {P}", "rescue {R} and lead them to {P}",
	"set {R} free and see them to {P}", "get {R} out and bring them safely to {P}",
	"find {R} and bring them home to {P}",
}

// deliverToMe are the giver's words for bringing gathered things back.
var deliverToMe = []string{
	"bring {D} back to me", "carry {D} back here to me", "come back to me with {D}",
	"return with {D}", "bring {D} straight to me", "hand {D} to me here", "let me have {D}",
}

// Description frames.
var (
	descFirst = []string{"{c}.", "you are asked to {c}.", "you are to {c}.", "the job is to {c}.", "your task: {c}.", "first, {c}.",
		"someone is needed to {c}.", "the task is simple: {c}.", "what is wanted: {c}."}
	descNext = []string{"then {c}.", "after that, {c}.", "next, {c}.", "once that is done, {c}.", "when that is done, {c}.",
		"afterwards, {c}.", "with that done, {c}."}
	descLast = []string{"finally, {c}.", "last of all, {c}.", "to finish, {c}."}
	descPay  = []string{
		"{gold} gold is offered{reward}.", "the reward is {gold} gold pieces{reward}.", "payment is {gold} gold{reward}.",
		"{gold} gold{reward} is promised on your return.", "it pays {gold} gold{reward}.",
		"there is {gold} gold in it for you{reward}.", "{gold} gold{reward} awaits when the work is done.",
		"the pay: {gold} gold{reward}.", "{gold} gold has been set aside{reward}.", "a purse of {gold} gold waits{reward}.",
	}
	rewardItem = []string{" and {Iname}", " plus {Iname}", ", with {Iname} besides", " and a gift of {Iname}", ", and {Iname} as well"}
)

// Dialogue frames.
var (
	greetings = []string{
		"well met.", "ah, there you are.", "you there, a moment of your time?", "hail, friend.", "good, you came.",
		"listen a moment.", "you look capable enough.", "I was hoping someone would come by.",
		"spare me a moment, would you?", "welcome, traveller.", "hello again.", "hush, come closer.",
		"greetings.", "oh, thank goodness.", "now then.", "a fresh face, and just in time.", "sit, sit.",
		"ah, good, a stranger with a sword.", "you have the look of someone who gets things done.",
		"I hoped you would pass this way.", "not so fast, friend.", "a word, if you please.",
	}
	factionLines = []string{"I speak for {F}.", "this is {F} business.", "{F} will remember your help.",
		"{F} asked me to find someone.", "this stays between you, me and {F}."}
	askFirst = []string{
		"I need you to {c}.", "would you {c}?", "please {c}.", "could you {c}?", "I want you to {c}.",
		"here is what I ask: {c}.", "all I ask is that you {c}.", "your task is to {c}.",
		"I would be grateful if you would {c}.", "go and {c}.", "will you {c}?", "the job is this: {c}.",
	}
	askNext = []string{"then {c}.", "after that, {c}.", "and when that is done, {c}.", "once you have, {c}.", "next, {c}.",
		"that done, {c}.", "and then, {c}."}
	promises = []string{
		"do this and {gold} gold is yours{reward}.", "I can pay {gold} gold{reward}.",
		"there is {gold} gold in it for you{reward}.", "you will have {gold} gold for your trouble{reward}.",
		"I will pay {gold} gold{reward}, and gladly.", "my purse holds {gold} gold for you{reward}.",
		"it is worth {gold} gold to me{reward}.", "{gold} gold{reward} when you are done.",
		"I have {gold} gold put by for this{reward}.", "say yes and {gold} gold is waiting{reward}.",
	}
	closings = []string{
		"go carefully.", "do not keep me waiting.", "I know you will not let me down.", "watch your back out there.",
		"be quick about it.", "good luck.", "mind how you go.", "come back in one piece.", "off you go, then.",
		"I will be here when you get back.", "trust nobody on the road.", "may your boots stay dry.",
	}
)

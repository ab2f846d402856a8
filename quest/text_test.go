package quest

import (
	"strings"
	"testing"
	"unicode"
)

// allBanks lists every phrase bank with a name, for the checks below.
func allBanks() map[string][]string {
	banks := map[string][]string{
		"exploreThere": exploreThere, "rescueBank": rescueBank, "deliverToMe": deliverToMe,
		"descFirst": descFirst, "descNext": descNext, "descLast": descLast, "descPay": descPay,
		"rewardItem": rewardItem, "greetings": greetings, "factionLines": factionLines,
		"clauseTails": clauseTails, "askFirst": askFirst, "askNext": askNext, "promises": promises, "closings": closings,
	}
	for a, b := range titleBanks {
		banks["title/"+string(a)] = b
	}
	for a, b := range clauseBanks {
		banks["clause/"+string(a)] = b
	}
	for m, b := range motiveTitles {
		banks["motiveTitle/"+string(m)] = b
	}
	for m, b := range motiveDesc {
		banks["motiveDesc/"+string(m)] = b
	}
	for a, b := range whyDesc {
		banks["whyDesc/"+string(a)] = b
	}
	for a, b := range whySay {
		banks["whySay/"+string(a)] = b
	}
	for m, b := range motiveSay {
		banks["motiveSay/"+string(m)] = b
	}
	return banks
}

// TestPhraseBanksUseCommonWords checks that the phrase banks write no
// capital letter but the pronoun I, and that every word that can open a
// sentence (a bank entry's first word, or a word after . ? !) is on the
// common-word list, so generated text passes the proper-noun check.
func TestPhraseBanksUseCommonWords(t *testing.T) {
	for name, bank := range allBanks() {
		for _, entry := range bank {
			words := strings.Fields(entry)
			for i, word := range words {
				if strings.HasPrefix(word, "{") {
					continue
				}
				core := strings.TrimFunc(word, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' })
				if core == "" {
					continue
				}
				if core != "I" && !isPronounI(core) && strings.ToLower(core) != core {
					t.Errorf("%s: %q: capitalised word %q", name, entry, core)
				}
				opens := i == 0 || strings.ContainsAny(words[i-1][len(words[i-1])-1:], ".?!:")
				if opens && !IsCommonWord(core) && !isPronounI(core) {
					t.Errorf("%s: %q: %q can open a sentence but is not in commonWords", name, entry, core)
				}
			}
		}
	}
}

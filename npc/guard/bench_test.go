package guard

import "testing"

// A typical player line and a typical 60-word reply.
const (
	benchLine  = "Hello Wendel, what can you tell me about the Lantern Men and the old mill by the river?"
	benchReply = "Bless you, traveller! The Lantern Men? Folk tales, mostly: lights on the water when the fog comes in, and pennies left at the Gallows Oak for the widows. I grind flour, I bake a little bread, and I keep my nose out of the wardens' business. Have a roll, they're still warm, and mind the wheel on your way out."
)

func BenchmarkCheckInput(b *testing.B) {
	for b.Loop() {
		CheckInput(benchLine, Limits{})
	}
}

func BenchmarkCheckReply(b *testing.B) {
	f := NewFilter(Policy{})
	s := NewSecrets([]string{"He is the Wick, leader of the Lantern Men, and runs them from the cellar under Crookwheel Mill"}, "Wendel Crisp", "miller")
	for b.Loop() {
		CheckReply(Normalize(benchReply), f, s, nil)
	}
}

// Package constrain implements grammar-constrained decoding for Hearth's
// embedded model: a JSON Schema (a small subset, see Compile) is compiled
// into a byte-level pushdown automaton, and at every decode step the
// automaton is walked over a byte trie of the vocabulary to produce a mask of
// the token ids that may come next. Sampling only among allowed tokens makes
// every finished generation parse as JSON and validate against the schema.
//
// The package is self-contained: it works over raw token byte strings and
// imports no other Hearth package.
//
// # Accepted language
//
// To keep the automaton small and what a tiny model has to learn regular,
// the matcher accepts exactly one compact JSON form, written here in EBNF
// over bytes (S is the schema node at that position):
//
//	value(object S)  = "{" [ member { "," member } ] "}"
//	member           = key ":" value(property schema)
//	key              = quote-encoded property name, see string encoding
//	value(array S)   = "[" [ value(items) { "," value(items) } ] "]"
//	value(string S)  = '"' { char } '"'         (enum: '"' enc(e) '"' for an e in enum)
//	value(integer S) = [ "-" ] ( "0" | digit1-9 { digit } )   ("-0" is rejected)
//	value(number S)  = [ "-" ] ( "0" | digit1-9 { digit } ) [ "." digit { digit } ]
//	value(boolean S) = "true" | "false"
//	value(null S)    = "null"
//	char             = any UTF-8 encoded scalar value >= U+0020 except '"' and '\'
//	                 | "\" ( '"' | "\" | "/" | "b" | "f" | "n" | "r" | "t" )
//	                 | "\u" hex4                (not a surrogate, D800–DFFF)
//
// with these rules on top of the grammar:
//
//   - No whitespace anywhere (not even between tokens or at the end).
//   - Object members appear in the order of the schema's "properties";
//     optional members may be skipped, required members must appear, no
//     other member may appear (additionalProperties is always false).
//   - Property names and enum values are written in one encoding only,
//     enc(s): the UTF-8 bytes of s with '"' as \", '\' as \\, U+0008,
//     U+000C, U+000A, U+000D, U+0009 as \b \f \n \r \t, other control
//     characters below U+0020 as \u00xx (lowercase hex), everything else raw.
//     Free strings (no enum) accept every escape listed in char.
//   - A string's length, counted in Unicode code points (an escape sequence
//     is one code point), stays within minLength..maxLength. The closing
//     quote is allowed only once minLength is reached; a new character only
//     while the count is below maxLength.
//   - Integers stay within minimum..maximum (int64 when unbounded). They are
//     enforced digit by digit: a prefix is allowed only if some completion
//     of it lies in range, so the model can never paint itself into a corner.
//   - Numbers (type "number") never have an exponent. Without bounds they
//     have at most 16 integer and 20 fraction digits, so every accepted
//     number parses as a finite float64. With any of minimum, maximum,
//     exclusiveMinimum, exclusiveMaximum they have at most 12 integer and 6
//     fraction digits and the range is enforced digit by digit like
//     integers (values are tracked exactly in units of 10^-6); a range with
//     no such value is a Compile error. "-0" is accepted for numbers when 0
//     is in range.
//   - Arrays hold minItems..maxItems items: "," is allowed only below
//     maxItems, "]" only at or above minItems.
//   - End of sequence (the EOS token) is allowed only once the whole document
//     is complete, and after a complete object, array, string, boolean or
//     null nothing but EOS is allowed.
//
// From every state the matcher can reach there is at least one completion:
// every allowed byte keeps the document completable (the tests check this
// for random walks with a single-byte vocabulary). At the token level this
// holds when the vocabulary can spell every byte on its own, as byte-level
// BPE and byte-fallback tokenizers can; with a vocabulary lacking some
// single bytes a state may have no allowed token, and Mask then allows
// nothing.
//
// Canonical re-encodes any document that Validate accepts into this form
// (numbers beyond the digit limits aside, which it reports as errors), so
// training targets written through it are exactly what the mask accepts.
//
// # Cost
//
// NewVocab builds a byte trie over the vocabulary once. Mask walks the trie
// depth first, stepping a copy of the automaton state by each edge byte and
// pruning a whole subtree as soon as its prefix is rejected, so a step costs
// one automaton transition per visited trie node. The automaton state is a
// 40-byte frame on top of an immutable linked stack, so copying it is cheap
// and the stack is shared between branches. Inside a free string, a subtree
// whose remaining bytes are all plain ASCII characters is decided without
// stepping: its tokens (a contiguous range of the byte-sorted vocabulary)
// are allowed when their length fits the room maxLength leaves. See the
// BenchmarkMask8k* benchmarks for per-step costs over an 8192-token
// vocabulary (tens of microseconds mid-string, a few microseconds at a
// property name or enum).
package constrain

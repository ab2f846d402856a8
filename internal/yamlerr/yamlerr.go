// Package yamlerr turns yaml.v3 errors into the file line a writer has to
// fix. Lore front matter and NPC definitions both report through it.
package yamlerr

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxRefineLines bounds the quadratic refinement below: longer documents
// keep yaml's own line numbers.
const maxRefineLines = 2000

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// Locate returns the 1-based line (in yamlText) and the message of
// a yaml.v3 parse error. yaml.v3 reports the line where the enclosing
// construct began, zero-based in some cases and one-based in others, and no
// line at all for some errors; so the line is refined to the first line at
// which a prefix of the text fails with the same message, which is the line
// a writer has to fix.
func Locate(yamlText string, err error) (line int, msg string) {
	// Decoding errors (unknown fields, wrong types) carry exact lines, one
	// per problem; report the first.
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		line, msg = split(errors.New(te.Errors[0]))
		return max(line, 1), msg
	}
	line, msg = split(err)
	lines := strings.SplitAfter(yamlText, "\n")
	if len(lines) > maxRefineLines {
		return max(line, 1), msg
	}
	prefixLen := 0
	for i, l := range lines {
		prefixLen += len(l)
		var n yaml.Node
		perr := yaml.Unmarshal([]byte(yamlText[:prefixLen]), &n)
		if perr == nil {
			continue
		}
		if _, pmsg := split(perr); pmsg == msg {
			return i + 1, msg
		}
	}
	return max(line, 1), msg
}

func split(err error) (line int, msg string) {
	msg = err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	return line, msg
}

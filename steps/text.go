package steps

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Patterns shared by step expressions.
const (
	// quoted is a double-quoted string with Go escapes (\n, \r, \x00, \"),
	// so a feature can spell any bytes. Its one group is the inside.
	quoted = `"((?:[^"\\]|\\.)*)"`
	// quotedList is one or more quoted strings joined by ", " or " and ".
	quotedList = `((?:"(?:[^"\\]|\\.)*"(?:, | and )?)+)`
	// numberList is one or more numbers joined by ", " or " and ".
	numberList = `(\d+(?:(?:, | and )\d+)*)`
	// client names a client: "a client" and "the client" are one and the
	// same; "client A", "client B" are others.
	client = `((?:a|the) client|client [A-Za-z0-9]+)`
	// clientList names several clients, "clients A and B" or "clients A,
	// B and C"; names turns it into their names, "client A", "client B".
	clientList = `clients ([A-Z](?:, [A-Z])* and [A-Z])`
)

var (
	quotedRE = regexp.MustCompile(quoted)
	numberRE = regexp.MustCompile(`\d+`)
)

// unquote turns the inside of a quoted step argument into its bytes.
// Gherkin turns \n in an Examples cell into a real newline before the step
// sees it; it means the same.
func unquote(s string) ([]byte, error) {
	s = strings.ReplaceAll(s, "\n", `\n`)
	u, err := strconv.Unquote(`"` + s + `"`)
	if err != nil {
		return nil, fmt.Errorf("%q is not a valid quoted string (use Go escapes such as \\n and \\x00): %w", s, err)
	}
	return []byte(u), nil
}

// unquoteList turns `"a", "b" and "c"` into its byte strings.
func unquoteList(s string) ([][]byte, error) {
	var out [][]byte
	for _, m := range quotedRE.FindAllStringSubmatch(s, -1) {
		b, err := unquote(m[1])
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// numbers turns "16, 16 and 9" into its numbers.
func numbers(s string) []int {
	var out []int
	for _, m := range numberRE.FindAllString(s, -1) {
		n, _ := strconv.Atoi(m) // the step's pattern admits digits only
		out = append(out, n)
	}
	return out
}

// clientName makes "a client" and "the client" one name.
func clientName(s string) string {
	if strings.HasSuffix(s, " client") {
		return "the client"
	}
	return s
}

// show quotes bytes for a failure message, so that invisible ones show.
func show(b []byte) string { return strconv.Quote(string(b)) }

// difference says how got differs from want: their sizes, and the first
// bytes from where they part.
func difference(want, got []byte) string {
	i := 0
	for i < min(len(want), len(got)) && want[i] == got[i] {
		i++
	}
	end := func(b []byte) []byte { return b[i:min(len(b), i+16)] }
	return fmt.Sprintf("want %d bytes, got %d; they part at byte %d: want %s, got %s", len(want), len(got), i, show(end(want)), show(end(got)))
}

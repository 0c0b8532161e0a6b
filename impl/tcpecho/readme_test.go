package tcpecho_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The README's Go blocks are the examples' code, so that they compile and
// their output is checked: each must stand, byte for byte, in one of the
// example files.
func TestREADMEGoBlocksAreExamples(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var examples string
	for _, f := range []string{"example_test.go", "../udpecho/example_test.go"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		examples += string(b)
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	if len(blocks) == 0 {
		t.Fatal("the README has no Go block")
	}
	for _, b := range blocks {
		if !strings.Contains(examples, b[1]) {
			t.Errorf("a Go block of the README is not an example's code:\n%s", b[1])
		}
	}
}

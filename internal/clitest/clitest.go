// Package clitest helps test commands in-process: it gives them an output
// that tests can wait on.
package clitest

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/echospec/echo/internal/cli"
	"github.com/echospec/echo/internal/lines"
)

// Output is a concurrency-safe stdout or stderr that tests can wait on.
type Output = lines.Output

// NewOutput returns an empty Output.
func NewOutput() *Output { return lines.NewOutput() }

// Within returns a context that ends after d, for waiting on an Output in
// a test; it is cancelled when the test ends.
func Within(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// Serve runs a server command in-process, as its main would with args,
// and waits for its "listening on HOST:PORT" line. It returns the address,
// the command's stderr, and stop, which ends the command as SIGTERM would
// and returns what it returned. The command is stopped when the test ends
// if the test has not stopped it.
func Serve(t testing.TB, run cli.RunFunc, args ...string) (addr string, stderr *Output, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = NewOutput()
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		done <- run(ctx, args, nil, io.Discard, stderr)
		close(exited)
	}()
	addr, err := lines.Listening(Within(t, 5*time.Second), stderr, exited)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var once sync.Once
	var result error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case result = <-done:
			case <-time.After(10 * time.Second):
				result = fmt.Errorf("the server did not stop within 10s of its signal")
			}
		})
		return result
	}
	t.Cleanup(func() { stop() })
	return addr, stderr, stop
}

// Run runs a command in-process as its main would, with stdin and args,
// and returns its exit code, its stdout, and its stderr followed by the
// one-line report main prints for an error.
func Run(run cli.RunFunc, name, stdin string, args ...string) (code int, stdout, stderr string) {
	out, errs := NewOutput(), NewOutput()
	err := run(context.Background(), args, strings.NewReader(stdin), out, errs)
	code = cli.Exit(name, err, errs)
	return code, out.String(), errs.String()
}

// BadUsage checks what every command does with a bad command line: exit
// status 2, nothing on stdout, and on stderr two lines: the problem, then
// a pointer to -h.
func BadUsage(t testing.TB, run cli.RunFunc, name string, args []string, problem string) {
	t.Helper()
	code, stdout, stderr := Run(run, name, "", args...)
	if code != 2 {
		t.Errorf("%s %v: exit status %d, want 2", name, args, code)
	}
	if stdout != "" {
		t.Errorf("%s %v: wrote %q on stdout", name, args, stdout)
	}
	lines := strings.Split(stderr, "\n")
	if lines[0] != problem {
		t.Errorf("%s %v: first line %q, want %q", name, args, lines[0], problem)
	}
	if want := "run '" + name + " -h' for usage\n"; stderr != problem+"\n"+want {
		t.Errorf("%s %v: stderr %q, want the problem and then %q", name, args, stderr, want)
	}
}

// Version checks that a command answers -version: one line on stdout that
// starts with its name, nothing on stderr, exit status 0.
func Version(t testing.TB, run cli.RunFunc, name string) {
	t.Helper()
	code, stdout, stderr := Run(run, name, "", "-version")
	if code != 0 || stderr != "" {
		t.Errorf("%s -version: exit status %d, stderr %q; want 0 and nothing", name, code, stderr)
	}
	if !strings.HasPrefix(stdout, name+" ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("%s -version printed %q, want one line that starts with %q", name, stdout, name+" ")
	}
}

// AdminURL waits for a server's "admin endpoint at URL" line and returns
// the URL, http://HOST:PORT.
func AdminURL(t testing.TB, stderr *Output) string {
	t.Helper()
	url, err := stderr.WaitLine(Within(t, 5*time.Second), "admin endpoint at ")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(url, "/")
}

// usageDefault is a flag's line in -h and its description's last line,
// which ends with the default: "(default 5s)", "(default "host:port")".
var usageDefault = regexp.MustCompile(`(?m)^  (-[a-z0-9-]+)[^\n]*\n(?:    \t[^\n]*\n)*?    \t[^\n]*\(default ("[^"]*"|[^ ")]+)\)$`)

// tableRow is a row of features/README.md's table of defaults.
var tableRow = regexp.MustCompile(`(?m)^\| ([a-z]+) \| (-[a-z0-9-]+) \| ([^|]*) \|$`)

// DefaultsDocumented checks features/README.md's table of defaults, at
// readme, against what the command's -h says: every flag -h gives a
// default has its row, with that default, and the table has no row -h
// does not back.
func DefaultsDocumented(t testing.TB, run cli.RunFunc, name, readme string) {
	t.Helper()
	_, _, usage := Run(run, name, "", "-h")
	said := map[string]string{}
	for _, m := range usageDefault.FindAllStringSubmatch(usage, -1) {
		said[m[1]] = strings.Trim(m[2], `"`)
	}
	if len(said) == 0 {
		t.Fatalf("%s -h names no default: %q", name, usage)
	}
	doc, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	table := map[string]string{}
	for _, m := range tableRow.FindAllStringSubmatch(string(doc), -1) {
		if m[1] == name {
			table[m[2]] = strings.TrimSpace(m[3])
		}
	}
	for flag, def := range said {
		if got, ok := table[flag]; !ok || got != def {
			t.Errorf("%s: %s's default is %q; the table in %s says %q", name, flag, def, readme, got)
		}
	}
	for flag := range table {
		if _, ok := said[flag]; !ok {
			t.Errorf("%s: the table in %s has %s, which -h gives no default", name, readme, flag)
		}
	}
}

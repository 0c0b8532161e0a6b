// Package cli holds what the project's commands share: how main runs a
// command, how flags are parsed and reported, and what exit code an error
// gives.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/echospec/echo/internal/sink"
)

// ErrUsage marks an error in how a command was called. The problem and the
// usage have been printed already; the exit code is 2.
var ErrUsage = errors.New("bad usage")

// RunFunc is a command's body, with everything a process gives it passed
// in, so that tests can run it in-process. ctx ends on SIGINT, SIGTERM or
// SIGHUP.
type RunFunc func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error

// StopSignals end a command's context: an interrupt, a polite kill, and
// the hang-up a closed terminal sends, which must not lose what clients
// sent any more than SIGTERM does.
var StopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// Main runs a command as the process and exits with its code.
func Main(run RunFunc) {
	// A write to a stdout or stderr whose reader has gone must be an error
	// the command handles, not the SIGPIPE that Go's runtime otherwise
	// ends the process with: a log pipe that closes must not kill a server.
	// Being notified (and never reading) makes the runtime return EPIPE.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signalContext(StopSignals...)
	stderr := newStderr(os.Stderr)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, stderr)
	stop()
	code := Exit(filepath.Base(os.Args[0]), err, stderr)
	// The last lines get a moment to reach a slow reader, never longer:
	// a stderr nobody reads must not keep the process from exiting.
	flush, cancel := context.WithTimeout(context.Background(), exitFlush)
	stderr.Close(flush)
	cancel()
	os.Exit(code)
}

// Signal is the cause of a command's context when a signal ended it. A
// command that stops because of it, rather than finishing its work, returns
// an error wrapping it, and exits 128 plus the signal's number, as a shell
// reports a process the signal ended: 130 for SIGINT.
type Signal struct{ os.Signal }

func (s Signal) Error() string { return "interrupted by " + s.String() }

// signalContext returns a context that ends, with a Signal as its cause,
// when one of sigs arrives.
func signalContext(sigs ...os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			cancel(Signal{sig})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// Interrupted returns the error a command returns when ctx ended before
// its work was done: the Signal that ended it, if one did.
func Interrupted(ctx context.Context) error {
	return fmt.Errorf("interrupted: %w", context.Cause(ctx))
}

// Exit returns the exit code for a command's error, printing it as one
// line "name: error" on stderr when it is not a usage error (whose report
// flag printed already) or a signal: 0 for nil or a request for help, 2
// for ErrUsage, 128 plus the signal's number for a Signal, 1 for any
// other error.
func Exit(name string, err error, stderr io.Writer) int {
	var sig Signal
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		return 2
	case errors.As(err, &sig):
		if n, ok := sig.Signal.(syscall.Signal); ok {
			return 128 + int(n)
		}
	}
	fmt.Fprintf(stderr, "%s: %v\n", name, err)
	return 1
}

// Parse parses args with fs, which must use flag.ContinueOnError and
// print to the command's stderr. A bad flag has already been reported, as
// one line and a pointer to -h, when it returns an error wrapping ErrUsage.
// Commands that take no arguments say so with noArgs. Every command
// answers -version: Parse prints the version to stdout and returns
// flag.ErrHelp, which ends the command with exit status 0.
func Parse(fs *flag.FlagSet, args []string, noArgs bool, stdout io.Writer) error {
	version := fs.Bool("version", false, "print the version and exit")
	if err := ParseMore(fs, args); err != nil {
		return err
	}
	if *version {
		fmt.Fprintln(stdout, Version(fs.Name()))
		return flag.ErrHelp
	}
	if noArgs && fs.NArg() > 0 {
		return Usagef(fs, "unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// Version is the line -version prints: the command, the module's version
// and the VCS revision it was built from, as the build recorded them.
func Version(name string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return name + " (no build information)"
	}
	line := fmt.Sprintf("%s %s %s", name, info.Main.Path, info.Main.Version)
	var rev, modified string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " (modified)"
			}
		}
	}
	if rev != "" {
		line += " revision " + rev + modified
	}
	return line + " " + info.GoVersion
}

// ParseMore parses args with fs, as Parse does, without defining
// -version: for the flags that follow a command's arguments. -h prints
// the usage and returns flag.ErrHelp; a bad flag is reported as the
// problem and a pointer to -h, and the error wraps ErrUsage.
func ParseMore(fs *flag.FlagSet, args []string) error {
	full := fs.Usage
	fs.Usage = func() {} // flag calls it after a problem too: the pointer is printed instead
	err := fs.Parse(args)
	fs.Usage = full
	switch {
	case errors.Is(err, flag.ErrHelp):
		full()
		return err
	case err != nil:
		pointToHelp(fs)
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	return nil
}

// pointToHelp is the line after a usage problem, as go and kubectl print:
// the usage itself would scroll the problem away.
func pointToHelp(fs *flag.FlagSet) {
	fmt.Fprintf(fs.Output(), "run '%s -h' for usage\n", fs.Name())
}

// Usagef reports a usage problem found after parsing the same way a bad
// flag is reported: one line naming it, then a pointer to -h.
func Usagef(fs *flag.FlagSet, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(fs.Output(), msg)
	pointToHelp(fs)
	return fmt.Errorf("%w: %s", ErrUsage, msg)
}

// NewFlagSet returns the flag set of the command name: it reports errors
// rather than exiting, writes them to stderr, and its usage is "usage: "
// and the synopsis, then the flags.
func NewFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// Checked defines a flag that set parses and checks, and get shows: as
// flag.Func, but with a value that /info and the like can read back. The
// usage says the default, as flag would not.
func Checked(fs *flag.FlagSet, name, usage string, get func() string, set func(string) error) {
	v := &checkedValue{get: get, set: set}
	fs.Var(v, name, usage)
	// flag took the default to print from String just now, which was
	// "" (as for the zero value): the usage's own "(default ...)" is the
	// only one printed.
	v.defined = true
}

type checkedValue struct {
	get     func() string
	set     func(string) error
	defined bool
}

func (v *checkedValue) Set(s string) error { return v.set(s) }

func (v *checkedValue) String() string {
	if v == nil || !v.defined {
		return ""
	}
	return v.get()
}

// PositiveInt defines an int flag that must be at least 1, so that a bad
// value is reported by flag itself, with the flag's name.
func PositiveInt(fs *flag.FlagSet, name string, value int, usage string) *int {
	return intAtLeast(fs, name, value, 1, usage)
}

// Count defines an int flag that must be 0 or more.
func Count(fs *flag.FlagSet, name string, value int, usage string) *int {
	return intAtLeast(fs, name, value, 0, usage)
}

func intAtLeast(fs *flag.FlagSet, name string, value, least int, usage string) *int {
	p := new(int)
	*p = value
	Checked(fs, name, fmt.Sprintf("%s (default %d)", usage, value), func() string { return strconv.Itoa(*p) }, func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		if n < least {
			return fmt.Errorf("%d is less than %d", n, least)
		}
		*p = n
		return nil
	})
	return p
}

// Duration defines a duration flag that must be 0 or more.
func Duration(fs *flag.FlagSet, name string, value time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	*p = value
	Checked(fs, name, fmt.Sprintf("%s (default %v)", usage, value), func() string { return p.String() }, func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 10s or 1m30s", s)
		}
		if d < 0 {
			return fmt.Errorf("%v is negative", d)
		}
		*p = d
		return nil
	})
	return p
}

// HostPort defines a "host:port" flag, checked when parsed so that an
// address that cannot be one is reported as a bad flag. Whether the host
// resolves or the port is free is for the command to find out.
func HostPort(fs *flag.FlagSet, name, value, usage string) *string {
	p := new(string)
	*p = value
	if value != "" {
		usage = fmt.Sprintf("%s (default %q)", usage, value)
	}
	Checked(fs, name, usage, func() string { return *p }, func(s string) error {
		_, port, err := net.SplitHostPort(s)
		if err != nil {
			// "address x: missing port in address" says the address twice.
			return errors.New(strings.TrimPrefix(err.Error(), "address "+s+": "))
		}
		if _, err := net.LookupPort("tcp", port); err != nil {
			return fmt.Errorf("port %q is neither a number from 0 to 65535 nor a service name", port)
		}
		*p = s
		return nil
	})
	return p
}

// SyncWriter serialises writes to w, for a stderr that a logger and the
// command both write to from several goroutines. The stderr Main passes
// is safe already, and is returned as it is.
func SyncWriter(w io.Writer) io.Writer {
	if _, ok := w.(*sink.Writer); ok {
		return w
	}
	return &syncWriter{w: w}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

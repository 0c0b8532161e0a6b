// Package lines is a program's output that can be waited on, line by line:
// for a server's "listening on HOST:PORT", for a log line a test expects.
// The commands' tests, the scenarios' process harness and echobench's
// comparisons all wait for servers this way.
package lines

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Output is a concurrency-safe writer, such as a process's stderr, whose
// complete lines can be waited for. Waiting is woken by each write, never
// by polling.
type Output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

// NewOutput returns an empty Output.
func NewOutput() *Output { return &Output{changed: make(chan struct{})} }

// Write implements io.Writer.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.buf.Write(p)
	close(o.changed)
	o.changed = make(chan struct{})
	return n, err
}

// String returns everything written so far.
func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// WaitLine waits, until ctx ends, for a complete line starting with prefix
// and returns the rest of it.
func (o *Output) WaitLine(ctx context.Context, prefix string) (string, error) {
	return o.Wait(ctx, fmt.Sprintf("a line starting %q", prefix), func(line string) (string, bool) {
		return strings.CutPrefix(line, prefix)
	})
}

// WaitContaining waits, until ctx ends, for a complete line that contains
// text and returns it.
func (o *Output) WaitContaining(ctx context.Context, text string) (string, error) {
	return o.Wait(ctx, fmt.Sprintf("a line containing %q", text), func(line string) (string, bool) {
		return line, strings.Contains(line, text)
	})
}

// ErrNotYet is what a wait's error wraps when ctx ended before the line
// came.
var ErrNotYet = errors.New("not in the output")

// Wait waits, until ctx ends, for the first complete line that match
// accepts, and returns what match made of it. what names the line for the
// error, which also shows the output so far.
func (o *Output) Wait(ctx context.Context, what string, match func(line string) (string, bool)) (string, error) {
	for {
		o.mu.Lock()
		text, changed := o.buf.String(), o.changed
		o.mu.Unlock()
		for line := range strings.Lines(text) {
			line, complete := strings.CutSuffix(line, "\n")
			if !complete {
				break
			}
			if got, ok := match(line); ok {
				return got, nil
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %s (%w); output so far:\n%s", ErrNotYet, what, context.Cause(ctx), text)
		}
	}
}

// ErrExited is what Listening's error wraps when the server ended before
// it said where it listens.
var ErrExited = errors.New("exited before listening")

// Listening waits for a server's "listening on HOST:PORT" line in o and
// returns the address, unless ctx ends or exited is closed first (the
// server is gone: it will never say so).
func Listening(ctx context.Context, o *Output, exited <-chan struct{}) (string, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-exited:
			cancel(ErrExited)
		case <-stop:
		}
	}()
	addr, err := o.WaitLine(ctx, "listening on ")
	if err != nil && errors.Is(context.Cause(ctx), ErrExited) {
		return "", fmt.Errorf("%w: %s", ErrExited, o.String())
	}
	return addr, err
}

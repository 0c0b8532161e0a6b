// Package clitest helps test commands in-process: it gives them an output
// that tests can wait on.
package clitest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Output is a concurrency-safe stdout or stderr that tests can wait on.
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

// WaitLine waits up to timeout for a complete line starting with prefix and
// returns the rest of it.
func (o *Output) WaitLine(prefix string, timeout time.Duration) (string, error) {
	deadline := time.After(timeout)
	for {
		o.mu.Lock()
		text, changed := o.buf.String(), o.changed
		o.mu.Unlock()
		for line := range strings.Lines(text) {
			if rest, ok := strings.CutPrefix(line, prefix); ok && strings.HasSuffix(rest, "\n") {
				return strings.TrimSuffix(rest, "\n"), nil
			}
		}
		select {
		case <-changed:
		case <-deadline:
			return "", fmt.Errorf("no line starting %q within %v; output so far:\n%s", prefix, timeout, text)
		}
	}
}

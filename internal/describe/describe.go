// Package describe turns bytes and network errors into the short text that
// error messages and log lines show.
package describe

import (
	"errors"
	"fmt"
	"net"
	"os"
)

// limit is how many bytes of a message a description shows.
const limit = 64

// Bytes shows b Go-quoted, so that invisible bytes show, and cut short, so
// that a long message cannot flood an error message or a log.
func Bytes(b []byte) string {
	if len(b) <= limit {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q… (%d bytes)", b[:limit], len(b))
}

// Preview is the start of a message for a structured log line, whose
// handler quotes it if it holds anything unprintable.
func Preview(b []byte) string {
	if len(b) > limit {
		return string(b[:limit]) + "…"
	}
	return string(b)
}

// Cause strips the operation and addresses that net errors repeat, which
// the caller's own message already says, and keeps the error itself
// (connection refused, i/o timeout, ...) for errors.Is.
func Cause(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	var sys *os.SyscallError
	if errors.As(err, &sys) && sys.Err != nil {
		err = sys.Err
	}
	return err
}

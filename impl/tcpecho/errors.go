package tcpecho

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// ErrServerClosed is returned by Serve and ListenAndServe once Shutdown or
// Close has been called, and is the Reason of connections the server ended.
var ErrServerClosed = errors.New("tcpecho: server closed")

// ErrClientClosed is the Reason of a connection whose client ended its
// stream (or half-closed it) and got every byte it sent echoed back.
var ErrClientClosed = errors.New("client closed the connection")

// ErrIdleTimeout is the Reason of a connection closed because its client
// sent nothing for IdleTimeout. What it had sent was echoed first.
var ErrIdleTimeout = errors.New("client sent nothing for the idle timeout")

// ErrWriteTimeout is the Reason of a connection closed because its client
// took none of its echo for WriteTimeout: it stopped reading.
var ErrWriteTimeout = errors.New("client read none of its echo for the write timeout")

// ErrTooManyConns is the Reason of a connection closed as soon as it was
// accepted, because MaxConns connections were open already.
var ErrTooManyConns = errors.New("too many connections")

// ErrTooManyFromSource is the Reason of a connection closed as soon as it
// was accepted, because MaxConnsPerIP connections from its address were
// open already.
var ErrTooManyFromSource = errors.New("too many connections from this address")

// ErrClientReset is the Reason of a connection that its client reset (a
// TCP RST: the client aborted, crashed, or closed with unread echo),
// whenever the reset came: before the first read, mid-line or while an
// echo was being written. The Reason also wraps the system's error, so
// errors.Is(Reason, syscall.ECONNRESET) holds too where that was it.
var ErrClientReset = errors.New("client reset the connection")

// isTemporary tells accept errors that a later accept may not have:
// resource exhaustion and connections aborted before they were accepted.
func isTemporary(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// connError is the Reason of a connection that a read or write error
// ended. A reset reads the same whatever the moment it came.
func connError(op string, err error) error {
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return resetError{err}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// resetError is ErrClientReset wrapping the system's error.
type resetError struct{ err error }

func (e resetError) Error() string   { return ErrClientReset.Error() }
func (e resetError) Unwrap() []error { return []error{ErrClientReset, e.err} }

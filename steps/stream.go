package steps

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"
)

// stream is a client's whole exchange with an echo service: everything it
// sent, and everything that came back until the server closed.
type stream struct {
	sent     []byte
	received []byte
	readErr  error
	done     chan struct{} // closed when the reading has ended
}

// startStream reads everything that comes back, from the start, while it
// writes data (in writes of at most maxWrite bytes, if set) and then
// finishes sending. Reading all along keeps a large echo from filling the
// buffers and stalling both ends.
func (p *peer) startStream(data []byte, maxWrite int) error {
	s := &stream{sent: data, done: make(chan struct{})}
	p.stream = s
	p.conn.SetDeadline(time.Now().Add(4 * patience))
	go func() {
		defer close(s.done)
		// Read one byte more than was sent, so that too much shows.
		s.received, s.readErr = io.ReadAll(io.LimitReader(p.conn, int64(len(data))+1))
	}()
	for rest := data; len(rest) > 0; {
		n := len(rest)
		if maxWrite > 0 {
			n = min(n, 1+rand.IntN(maxWrite))
		}
		if _, err := p.conn.Write(rest[:n]); err != nil {
			return fmt.Errorf("send: %w after %d of %d bytes", err, len(data)-len(rest), len(data))
		}
		rest = rest[n:]
	}
	p.sent += len(data)
	return p.conn.CloseWrite()
}

// check waits for the end of the stream and compares it with what was sent.
func (s *stream) check() error {
	if s == nil {
		return errNothing
	}
	<-s.done // bounded by the connection's deadline
	if s.readErr != nil && !errors.Is(s.readErr, net.ErrClosed) {
		return fmt.Errorf("after %d of %d bytes came back: %w", len(s.received), len(s.sent), s.readErr)
	}
	if bytes.Equal(s.received, s.sent) {
		return nil
	}
	return errors.New(difference(s.sent, s.received))
}

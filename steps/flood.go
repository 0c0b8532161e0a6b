package steps

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"
)

// flood is a client writing as much as it can, and never reading.
type flood struct {
	written int
	err     error
	done    chan struct{}
}

func startFlood(c net.Conn, n int) *flood {
	f := &flood{done: make(chan struct{})}
	chunk := make([]byte, 64<<10)
	c.SetWriteDeadline(time.Now().Add(4 * patience))
	go func() {
		defer close(f.done)
		for f.written < n {
			k, err := c.Write(chunk[:min(len(chunk), n-f.written)])
			f.written += k
			if err != nil {
				f.err = err
				return
			}
		}
	}()
	return f
}

// startSlowStream is startStream with a reader that takes a little at a
// time, pausing between reads: a slow client, but a reading one.
func (p *peer) startSlowStream(data []byte) error {
	s := &stream{sent: data, done: make(chan struct{})}
	p.stream = s
	p.conn.SetDeadline(time.Now().Add(6 * patience))
	go func() {
		defer close(s.done)
		buf := make([]byte, 64<<10)
		for len(s.received) <= len(data) {
			n, err := p.conn.Read(buf[:1+rand.IntN(len(buf))])
			s.received = append(s.received, buf[:n]...)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					s.readErr = err
				}
				return
			}
			// Slower than the server writes: its writes wait on us, again
			// and again, but never for the whole write timeout.
			time.Sleep(time.Millisecond)
		}
	}()
	if _, err := p.conn.Write(data); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	p.sent += len(data)
	return p.conn.CloseWrite()
}

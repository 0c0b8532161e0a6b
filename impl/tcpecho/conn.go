package tcpecho

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// minBuffer is the smallest read buffer a connection uses.
const minBuffer = 4 << 10

// connConfig is what every connection of one Serve call shares.
type connConfig struct {
	split   splitFunc
	initial int // bytes in a new connection's buffer
	limit   int // bytes the buffer may grow to
}

// conn is the server side of one client connection.
type conn struct {
	srv *Server
	cfg connConfig
	rwc net.Conn
	id  uint64
}

func (c *conn) serve() {
	defer c.srv.untrackConn(c)
	obs := c.srv.Observer
	remote := c.rwc.RemoteAddr()
	if obs != nil {
		obs.Observe(Event{Kind: ConnOpened, Conn: c.id, Remote: remote})
	}
	reason := c.echo(obs, remote)
	c.rwc.Close()
	if obs != nil {
		obs.Observe(Event{Kind: ConnClosed, Conn: c.id, Remote: remote, Reason: reason})
	}
}

// echo reads from the client, splits what arrives into messages and writes
// every complete message back, until the stream ends. It returns why it
// stopped.
//
// The bytes of the messages taken from one read are contiguous in buf, so
// they go back in a single write straight from buf: one read and one write
// per batch however small the messages are, and a lone message is written
// as soon as it is complete.
func (c *conn) echo(obs Observer, remote net.Addr) error {
	buf := make([]byte, c.cfg.initial)
	var (
		r, w     int   // buf[r:w] holds bytes read but not yet taken as messages
		ending   error // set once no more bytes will be read; why
		draining bool  // shutting down: read only what has arrived already
	)
	for {
		start := r
		for r < w {
			n := c.cfg.split(buf[r:w], ending != nil)
			if n == 0 {
				break
			}
			if obs != nil {
				obs.Observe(Event{Kind: MessageReceived, Conn: c.id, Remote: remote, Message: buf[r : r+n]})
			}
			r += n
		}
		if r > start {
			if _, err := c.rwc.Write(buf[start:r]); err != nil {
				if c.srv.closing.Load() && errors.Is(err, net.ErrClosed) {
					return ErrServerClosed
				}
				return fmt.Errorf("write echo: %w", err)
			}
		}
		if ending != nil {
			return ending
		}

		// Make room. What is left is part of a message: less than a line's
		// limit, so moving it to the front, and growing the buffer up to
		// the limit, always leaves space to read into.
		if r == w {
			r, w = 0, 0
		} else if w == len(buf) {
			w = copy(buf, buf[r:w])
			r = 0
			if w == len(buf) {
				grown := make([]byte, min(2*len(buf), c.cfg.limit))
				copy(grown, buf[:w])
				buf = grown
			}
		}

		var n int
		var err error
		if draining {
			if n, err = readNow(c.rwc, buf[w:]); n == 0 && err == nil {
				ending = ErrServerClosed
			}
		} else {
			n, err = c.rwc.Read(buf[w:])
		}
		if n > 0 {
			w += n
			if obs != nil {
				obs.Observe(Event{Kind: DataRead, Conn: c.id, Remote: remote, Bytes: n})
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF):
			ending = ErrClientClosed
		case c.srv.closing.Load() && errors.Is(err, os.ErrDeadlineExceeded):
			// Shutdown woke this connection: echo what it holds and what
			// has arrived already, then go.
			draining = true
		case c.srv.closing.Load() && errors.Is(err, net.ErrClosed):
			return ErrServerClosed
		default:
			return fmt.Errorf("read: %w", err)
		}
	}
}

// wake makes the connection's pending or next read return at once, so that
// a connection waiting for its client notices the server is shutting down.
func (c *conn) wake() {
	c.rwc.SetReadDeadline(aLongTimeAgo)
}

// aLongTimeAgo is a deadline that has always passed.
var aLongTimeAgo = time.Unix(1, 0)

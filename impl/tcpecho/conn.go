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
	idle    time.Duration
	write   time.Duration
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
		idle     = idleDeadline{last: time.Now()}
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
			if err := c.write(buf[start:r]); err != nil {
				return err
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
		if !draining && c.cfg.idle > 0 {
			idle.arm(c)
			// Shutdown may have woken this connection just before the
			// deadline above replaced its wake-up; it marked the server
			// closing first, so look.
			draining = c.srv.closing.Load()
		}
		if draining {
			if n, err = readNow(c.rwc, buf[w:]); n == 0 && err == nil {
				ending = ErrServerClosed
			}
		} else {
			n, err = c.rwc.Read(buf[w:])
		}
		if n > 0 {
			w += n
			if c.cfg.idle > 0 {
				idle.heard()
			}
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
		case c.cfg.idle > 0 && errors.Is(err, os.ErrDeadlineExceeded):
			if idle.expired(c) {
				ending = ErrIdleTimeout // echo what it holds, then go
			}
		case c.srv.closing.Load() && errors.Is(err, net.ErrClosed):
			return ErrServerClosed
		default:
			return fmt.Errorf("read: %w", err)
		}
	}
}

// write writes an echo whole. The write deadline counts from the last
// progress, not from the start: a client that reads slowly but steadily is
// served, one that stopped reading is let go.
func (c *conn) write(p []byte) error {
	for len(p) > 0 {
		if c.cfg.write > 0 {
			c.rwc.SetWriteDeadline(time.Now().Add(c.cfg.write))
		}
		n, err := c.rwc.Write(p)
		p = p[n:]
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded) && n > 0:
			// Progress: the client reads, slowly. Wait again.
		case errors.Is(err, os.ErrDeadlineExceeded):
			return ErrWriteTimeout
		case c.srv.closing.Load() && errors.Is(err, net.ErrClosed):
			return ErrServerClosed
		default:
			return fmt.Errorf("write echo: %w", err)
		}
	}
	return nil
}

// idleDeadline closes a connection silent for IdleTimeout without a
// system call per read: it moves the read deadline only when it has fallen
// behind by an eighth of the timeout, and when that early deadline fires
// it checks the real silence before closing anything.
type idleDeadline struct {
	last time.Time // when the client last sent something
	at   time.Time // the read deadline set
}

// arm sets the read deadline, if it has fallen far enough behind.
func (d *idleDeadline) arm(c *conn) {
	if want := d.last.Add(c.cfg.idle); want.Sub(d.at) > c.cfg.idle/8 {
		d.at = want
		c.rwc.SetReadDeadline(want)
	}
}

// heard notes that the client sent something.
func (d *idleDeadline) heard() { d.last = time.Now() }

// expired tells whether the client has been silent for the whole
// timeout; if not, it moves the deadline to when it would be.
func (d *idleDeadline) expired(c *conn) bool {
	want := d.last.Add(c.cfg.idle)
	if time.Now().Before(want) {
		d.at = want
		c.rwc.SetReadDeadline(want)
		return false
	}
	return true
}

// wake makes the connection's pending or next read return at once, so that
// a connection waiting for its client notices the server is shutting down.
func (c *conn) wake() {
	c.rwc.SetReadDeadline(aLongTimeAgo)
}

// aLongTimeAgo is a deadline that has always passed.
var aLongTimeAgo = time.Unix(1, 0)

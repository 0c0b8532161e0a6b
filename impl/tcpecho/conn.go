package tcpecho

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/echospec/echo/internal/lifecycle"
)

// connConfig is what every connection of one Serve call shares.
type connConfig struct {
	split   splitFunc
	consume consumeFunc // split's sum, for when nobody observes messages
	count   countFunc   // how many messages split would make of what consume took
	size    int         // bytes a buffer needs to hold one message
	limit   int         // bytes the buffer may grow to, for a long line
	idle    time.Duration
	write   time.Duration

	preamble preamble
	identity string // the server's name for identity probes, if it has one
}

// conn is the server side of one client connection: its core (the echo
// without I/O, core.go) and what its drivers need to move its bytes. What
// only the goroutine driver needs is in active, which a parked connection
// gives back: a parked connection is this struct, its socket and nothing
// else.
type conn struct {
	core
	srv *Server

	// mu guards raw and rwc against the server's goroutines (Shutdown
	// wakes connections, Close closes them) while the connection parks
	// (they become nil) or resumes (they are made anew).
	mu  sync.Mutex
	raw net.Conn // the accepted connection; nil while parked
	rwc net.Conn // what is echoed over: raw, or the TLS connection over it

	ip netip.Addr // counted against MaxConnsPerIP, if valid
	fd int        // the socket's descriptor, where it can park

	*active // nil while parked
}

// newConn makes the server side of rwc, accepted by s for a Serve call
// whose configuration is cfg.
func newConn(s *Server, cfg *connConfig, rwc net.Conn) *conn {
	c := &conn{srv: s, raw: rwc, rwc: rwc}
	c.cfg, c.budget, c.id, c.remote = cfg, s, s.nextConn.Add(1), rwc.RemoteAddr()
	c.probing = cfg.identity != ""
	return c
}

// active is what a connection needs while it runs on a goroutine: its
// readers and writers, and the write timeout's state, which is over
// whenever the connection parks, for it parks with nothing to write.
type active struct {
	moving flow
	waiter readWaiter
	writer rawWriter // writes that know when the client last took bytes
	writes writeClock
	small  []byte // what a TLS connection waits on
}

var actives = sync.Pool{New: func() any { return new(active) }}

// activate gives the connection what it needs to run on a goroutine.
func (c *conn) activate() {
	if c.active != nil {
		return
	}
	a := actives.Get().(*active)
	a.waiter.bind(c.rwc)
	a.writer.bind(&a.waiter, c.waitingToWrite)
	c.active, c.flow, c.clock = a, &a.moving, &a.writes
}

// deactivate gives back what activate gave, before the connection parks.
func (c *conn) deactivate() {
	a := c.active
	c.active, c.flow, c.clock = nil, nil, nil
	*a = active{waiter: a.waiter.unbound(), writer: a.writer.unbound()} // the closures, made once, stay
	actives.Put(a)
}

// serve runs a connection on a goroutine of its own from its start: its
// preamble, if it has one, then its echo.
func (c *conn) serve() {
	var r resumption
	if !c.cfg.preamble.none() {
		c.to(statePreamble)
		var ok bool
		if r.pending, ok = c.opened(c.obs); !ok {
			c.srv.untrackConn(c)
			return
		}
	}
	c.resume(r)
}

// resumption is where a connection's echo resumes: with bytes read past
// its PROXY header (pending); or, when the event loop hands it over, with
// what the loop could not finish, buf[:n], of which the first owed are the
// rest of an echo of messages messages, echoed bytes of which are written
// already, and with the error the loop's read returned.
type resumption struct {
	pending                []byte
	buf                    []byte
	n                      int
	owed, echoed, messages int
	err                    error
}

// resume runs the connection's echo on the calling goroutine, from where
// r says it stands, until the connection parks (the goroutine may then
// end) or ends (it is closed and reported).
func (c *conn) resume(r resumption) {
	var reason error
	if err := c.unparkWaiting(); err != nil {
		reason = r.orElse(err)
	} else {
		reason = c.run(r)
		if errors.Is(reason, errParked) {
			return
		}
		c.end(reason)
	}
	c.to(stateClosed)
	if wants(c.obs, ConnClosed) {
		c.obs.Observe(c.event(ConnClosed, reason))
	}
	c.srv.untrackConn(c)
}

// end closes the connection that ended for reason. Over TLS that sends
// close_notify first, unless the client stopped reading: crypto/tls would
// wait up to 5 s more to write it into the full socket, past WriteTimeout.
func (c *conn) end(reason error) {
	if errors.Is(reason, ErrWriteTimeout) {
		c.raw.Close()
		return
	}
	c.rwc.Close()
}

// resumeWait bounds how long a resuming connection waits for a
// descriptor, with its client's bytes in hand.
const resumeWait = 30 * time.Second

// unparkWaiting unparks the connection, and when the process is out of
// descriptors spends one of the server's reserve, or waits for one, and
// tries again: the bytes its client sent are in hand, and would be lost.
func (c *conn) unparkWaiting() error {
	err := c.unpark()
	var backoff lifecycle.Backoff
	for start := time.Now(); outOfDescriptors(err) && time.Since(start) < resumeWait && !c.srv.closing.Begun(); {
		if !c.srv.reserve.spend() {
			lifecycle.Sleep(backoff.Next(), c.srv.closing.Done())
		}
		err = c.unpark()
	}
	if err == nil {
		c.srv.reserve.full() // refill what a resumption spent: an atomic load when full
	}
	return err
}

// orElse is why a connection that could not be resumed ended: what the
// event loop's read said, if it said the client had gone, or else err.
func (r resumption) orElse(err error) error {
	switch {
	case r.err == nil, errors.Is(r.err, os.ErrDeadlineExceeded):
		return err
	case errors.Is(r.err, io.EOF):
		return ErrClientClosed
	}
	return connError("read", r.err)
}

// errParked is what the echo returns when the connection parked: it is
// not over, and another goroutine will resume it.
var errParked = errors.New("tcpecho: parked")

// opened runs the preamble of a connection that has one and reports
// whether the connection is to be served, telling obs that it opened,
// with the bytes read past a PROXY header. A connection whose preamble
// fails, or whose real client is over MaxConnsPerIP, is refused.
func (c *conn) opened(obs Observer) (pending []byte, ok bool) {
	pending, err := c.open()
	if errors.Is(err, ErrIdleTimeout) {
		// No header and not a byte: a direct client gone idle, ended as
		// any idle connection is.
		if wants(obs, ConnOpened) {
			obs.Observe(c.openedEvent())
		}
		c.raw.Close()
		c.to(stateClosed)
		if wants(obs, ConnClosed) {
			obs.Observe(c.event(ConnClosed, err))
		}
		return nil, false
	}
	if err != nil {
		if c.srv.closing.Begun() {
			err = ErrServerClosed
		}
		c.srv.refuse(c, err, false)
		return nil, false
	}
	if c.srv.MaxConnsPerIP > 0 && !c.srv.admitSource(c, clientIPOf(c.remote)) {
		c.srv.refuse(c, ErrTooManyFromSource, true)
		return nil, false
	}
	if wants(obs, ConnOpened) {
		obs.Observe(c.openedEvent())
	}
	return pending, true
}

// openedEvent is ConnOpened, with the address the client connected to.
func (c *conn) openedEvent() Event {
	e := c.event(ConnOpened, nil)
	e.Identity = c.cfg.identity
	if c.raw != nil {
		e.Local = c.raw.LocalAddr()
	}
	return e
}

// wake makes the connection's pending or next read return at once, so that
// a connection waiting for its client notices the server is shutting down.
// A parked connection has nothing to wake: the loop hands it over awake.
func (c *conn) wake() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw != nil {
		c.raw.SetReadDeadline(aLongTimeAgo)
	}
}

// close closes the connection for the server's Close; one that is parked
// or resuming is closed as it resumes (the server is then abrupt).
func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.raw != nil {
		c.raw.Close()
	}
}

// aLongTimeAgo is a deadline that has always passed.
var aLongTimeAgo = time.Unix(1, 0)

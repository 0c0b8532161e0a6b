package tcpecho

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The goroutine driver: it runs a connection's core on the connection's
// own goroutine over any net.Conn (TLS included, on every system), doing
// the reads and writes the core asks for and setting the deadlines it
// keeps.

// smallRead is the buffer a TLS connection waits on: enough for a typical
// message, little beside crypto/tls's own buffers.
const smallRead = 512

// run echoes on the calling goroutine, from where r says the connection
// stands, until it parks (errParked) or ends (why).
//
// The bytes of the messages taken from one read are contiguous in the
// buffer, so they go back in a single write straight from it: one read and
// one write per batch however small the messages are, and a lone message
// is written as soon as it is complete. While the connection waits for its
// client with nothing pending, it holds no buffer at all; while data flows
// it borrows one from a pool. A buffer kept across a wait (an unfinished
// line, an echo the client is slow to take) is charged to the server's
// MaxHeld budget; an unfinished line that the budget cannot take is echoed
// on as it stands, as a line longer than MaxLine is.
func (c *conn) run(r resumption) (reason error) {
	c.activate()
	c.to(stateActive)
	now := time.Now()
	c.busy = now
	if c.idle.since.IsZero() {
		c.idle.since = now
	}
	defer func() {
		if !errors.Is(reason, errParked) { // a parked connection is the event loop's now
			c.dropBuffer()
		}
	}()
	if err := c.finish(r, now); err != nil {
		return err
	}
	for {
		if err := c.echoWhole(); err != nil {
			return err
		}
		if c.in.ending != nil {
			return c.in.ending
		}
		if err := c.keep(); err != nil {
			return err
		}
		c.armIdle()
		err := c.read()
		if errors.Is(err, errParked) {
			return err
		}
		if err := c.judgeRead(err); err != nil {
			return err
		}
	}
}

// finish takes on what r says was read before, finishes the echo the
// event loop began, and judges the error its read returned.
func (c *conn) finish(r resumption, now time.Time) error {
	if r.buf != nil {
		c.in = inbox{buf: r.buf, w: r.n} // counted when the loop read them
	}
	if len(r.pending) > 0 {
		c.prefill(r.pending, now)
	}
	if r.owed > 0 {
		err := c.write(c.in.buf[:r.owed])
		c.echoed(r.echoed+r.owed, r.messages, err)
		if err != nil {
			return err
		}
		c.in.r = r.owed
	}
	if r.err != nil {
		return c.judgeRead(r.err)
	}
	return nil
}

// echoWhole writes back every whole message the buffer holds, in one
// write, and tells the observer how it went.
func (c *conn) echoWhole() error {
	echo, messages := c.take()
	if len(echo) == 0 {
		return nil
	}
	err := c.write(echo)
	c.echoed(len(echo), messages, err)
	return err
}

// keep keeps an unfinished message for the next read; what the budget
// cannot take is echoed at once.
func (c *conn) keep() error {
	rest := c.unheld()
	if rest == nil {
		return nil
	}
	err := c.write(rest)
	c.echoed(len(rest), 1, err)
	return err
}

// armIdle sets the idle deadline for the next read, if there is one.
func (c *conn) armIdle() {
	if !c.core.armIdle() {
		return
	}
	c.rwc.SetReadDeadline(c.idle.at)
	// Shutdown may have woken this connection just before the deadline
	// above replaced its wake-up; it marked the server closing first, so
	// look.
	if c.srv.closing.Begun() {
		c.drain()
	}
}

// judgeRead is judge, with the idle deadline moved where it says.
func (c *conn) judgeRead(err error) error {
	end := c.judge(err, c.srv.closing.Begun(), time.Now)
	if c.moveIdle {
		c.moveIdle = false
		c.rwc.SetReadDeadline(c.idle.at)
	}
	return end
}

// read reads what comes next, as the core says, and returns the read's
// error.
func (c *conn) read() error {
	switch c.nextRead(c.waiter.ok(), c.tls != nil, time.Now) {
	case readPark:
		return c.park()
	case readGrace:
		if !c.awaitGrace() {
			return nil // the server is closing: drain
		}
		return c.readBare()
	case readBare:
		return c.readBare()
	case readSmall:
		return c.readSmall()
	case readNow:
		return c.readNow()
	}
	return c.readInto()
}

// clockNow is the time, if arrived needs it.
func (c *conn) clockNow() time.Time {
	if c.needsClock() {
		return time.Now()
	}
	return time.Time{}
}

// readInto reads into the buffer's room, waiting for the client as
// needed.
func (c *conn) readInto() error {
	room := c.room()
	n, err := c.rwc.Read(room)
	c.arrived(n, n == len(room), c.clockNow())
	return err
}

// readNow reads, while draining, only what the kernel holds already; once
// nothing is left the connection ends.
func (c *conn) readNow() error {
	room := c.room()
	n, err := c.waiter.readNow(c.rwc, room)
	if n == 0 && err == nil {
		c.in.ending = ErrServerClosed
	}
	c.arrived(n, n == len(room), c.clockNow())
	return err
}

// readBare waits for the client without a buffer, so that an idle
// connection costs little more than its goroutine, and takes a pooled one
// once something has come.
func (c *conn) readBare() error {
	c.dropBuffer()
	c.to(stateWaiting)
	buf, n, err := c.waiter.read(c.cfg.size)
	c.to(stateActive)
	c.in.buf = buf
	if c.graceWait && err == nil && c.endGrace() {
		c.rwc.SetReadDeadline(time.Time{})
	}
	c.arrived(n, buf != nil && n == len(buf), c.clockNow())
	return err
}

// awaitGrace sets the wait of a connection that was busy a moment ago to
// end parkGrace after, when it will park: a stream or a trickle does not
// move between the goroutine and the loop at every pause. It reports
// false, and sets the connection draining, if the server is closing.
func (c *conn) awaitGrace() bool {
	c.rwc.SetReadDeadline(c.graceDeadline())
	if c.srv.closing.Begun() {
		// Shutdown's wake-up may have come just before this deadline
		// replaced it (see armIdle).
		c.graceWait = false
		c.drain()
		return false
	}
	return true
}

// readSmall is the wait over TLS, which cannot wait without a buffer: the
// connection waits on a small one of its own, and takes a pooled buffer
// only once something has come. (A plain connection without the
// buffer-less wait reads straight into the pooled buffer: one read and no
// copy per burst.)
func (c *conn) readSmall() error {
	c.dropBuffer()
	if c.small == nil {
		c.small = make([]byte, smallRead)
	}
	c.to(stateWaiting)
	n, err := c.rwc.Read(c.small)
	c.to(stateActive)
	if n > 0 {
		c.in.buf = getBuffer(max(c.cfg.size, n))
		copy(c.in.buf, c.small[:n])
		c.arrived(n, n == len(c.small), c.clockNow())
	}
	return err
}

// park parks the connection, which has nothing pending and has been
// quiet for a while, so that it holds neither a buffer nor a goroutine,
// and returns errParked; or, if the server is closing or the loop would
// not take it, keeps it on this goroutine for good, as where no loop is
// to be had, and returns nil.
func (c *conn) park() error {
	c.dropBuffer()
	c.deactivate()
	if c.srv.parking.park(c) {
		return errParked
	}
	c.activate()
	c.canPark = false
	if c.srv.closing.Begun() {
		c.drain()
	}
	return nil
}

// write writes an echo, p, a part of the buffer, whole. The write timeout
// counts from the last time the client took bytes (see writeClock). While
// the echo waits for the client, the buffer is charged to the budget.
func (c *conn) write(p []byte) error {
	timeout := c.cfg.write
	if c.tls != nil {
		return c.writeTLS(p, timeout)
	}
	if timeout > 0 {
		c.noteTaken(false)
	}
	for len(p) > 0 {
		if timeout > 0 && c.clock.wd.arm(timeout) {
			c.rwc.SetWriteDeadline(c.clock.wd.at)
		}
		var n int
		var err error
		if c.writer.ok() {
			c.clock.waitCap = cap(c.in.buf)
			n, err = c.writer.write(p)
		} else {
			n, err = c.rwc.Write(p)
		}
		if n > 0 && timeout > 0 && !c.writer.seesAcks() {
			c.clock.wd.since = time.Now() // the best this platform can tell
		}
		p = p[n:]
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.noteTaken(true)
			if c.clock.timedOut(time.Now(), timeout) {
				return ErrWriteTimeout
			}
			c.rwc.SetWriteDeadline(c.clock.tick(time.Now(), timeout))
		case c.srv.closing.Begun() && errors.Is(err, net.ErrClosed):
			return ErrServerClosed
		default:
			return connError("write echo", err)
		}
	}
	return nil
}

// writeTLS writes p over TLS. A write that times out leaves crypto/tls's
// stream broken for good (every later write fails at once), so its
// deadline cannot be a tick to look again at, as a plain connection's is.
// Instead, while the write waits, a timer looks every timeout/ticks at
// what TCP says the client took (the right edge of the window it offers,
// as for a plain connection: bytes the server's kernel takes into its own
// send buffer are not the client reading), and once the client has taken
// nothing for the whole timeout it ends the write.
func (c *conn) writeTLS(p []byte, timeout time.Duration) error {
	var w *tlsWriteWatch
	if timeout > 0 {
		w = c.watchTLSWrite(timeout)
	}
	_, err := c.rwc.Write(p)
	fired := w != nil && w.stop()
	switch {
	case fired && (err == nil || errors.Is(err, os.ErrDeadlineExceeded)):
		// The client took nothing for the timeout. A write that finished
		// as the watch fired only filled the server's own send buffer;
		// the connection ends all the same, rather than leave a deadline
		// in the past for the next write.
		return ErrWriteTimeout
	case err == nil:
		return nil
	case c.srv.closing.Begun() && errors.Is(err, net.ErrClosed):
		return ErrServerClosed
	}
	return connError("write echo", err)
}

// tlsWriteWatch ends a TLS write whose client takes nothing for the
// timeout. edge and since belong to its timer's function; mu keeps that
// function from ending a later write once stop has returned.
type tlsWriteWatch struct {
	timer   *time.Timer
	fd      uintptr
	edge    uint64
	since   time.Time
	timeout time.Duration
	fired   atomic.Bool

	mu      sync.Mutex
	stopped bool
	clock   *writeClock // where stop leaves since and edge for the next write
}

func (c *conn) watchTLSWrite(timeout time.Duration) *tlsWriteWatch {
	// The clock runs across writes, as a plain connection's: a write that
	// only filled the server's own send buffer took nothing of the client.
	now := time.Now()
	w := &tlsWriteWatch{since: c.clock.wd.since, edge: c.clock.lastEdge, timeout: timeout, clock: c.clock}
	if w.since.IsZero() {
		w.since = now
	}
	edge, ok := uint64(0), false
	if fd, isSocket := socketFd(c.raw); isSocket {
		w.fd = uintptr(fd)
		edge, ok = windowEdge(w.fd)
	}
	switch {
	case !ok:
		w.fd, w.since = 0, now // the best this platform can tell
	case edge != w.edge:
		w.edge, w.since = edge, now
	}
	rwc := c.rwc
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = time.AfterFunc(w.next(w.since), func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.stopped {
			return
		}
		now := time.Now()
		if edge, ok := windowEdge(w.fd); w.fd != 0 && ok && edge != w.edge {
			w.edge, w.since = edge, now
		}
		if now.Sub(w.since) >= w.timeout {
			w.fired.Store(true)
			rwc.SetWriteDeadline(aLongTimeAgo)
			return
		}
		w.timer.Reset(w.next(now))
	})
	return w
}

// next is how long until the watch looks again: a tick, or the rest of the
// timeout if that is sooner. Where TCP tells nothing (no descriptor), the
// write may take the whole timeout.
func (w *tlsWriteWatch) next(now time.Time) time.Duration {
	rest := w.since.Add(w.timeout).Sub(now)
	if w.fd == 0 {
		return rest
	}
	return min(rest, w.timeout/ticks)
}

// stop ends the watch and tells whether it fired: set the write deadline
// in the past.
func (w *tlsWriteWatch) stop() (fired bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
	w.clock.wd.since, w.clock.lastEdge = w.since, w.edge
	return w.fired.Load()
}

// noteTaken moves the start of the write timeout to now if the client has
// taken bytes since the last look: acknowledged them, as the kernel
// counts, for the bytes the kernel takes from the server may only fill a
// send buffer it enlarged.
func (c *conn) noteTaken(force bool) {
	now := time.Now()
	if c.clock.look(now, force, c.writer.seesAcks(), c.cfg.write) {
		edge, ok := c.writer.windowEdge()
		c.clock.looked(now, edge, ok)
	}
}

// waitingToWrite is called when an echo has to wait for the client: the
// buffer it waits in is charged to the budget, since it cannot be dropped,
// and the write deadline starts ticking.
func (c *conn) waitingToWrite() {
	c.charge(max(c.held, c.clock.waitCap), true)
	if c.cfg.write > 0 {
		c.noteTaken(true)
		c.rwc.SetWriteDeadline(c.clock.tick(time.Now(), c.cfg.write))
	}
}

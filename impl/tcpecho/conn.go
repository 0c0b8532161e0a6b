package tcpecho

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"
)

// smallRead is the buffer a TLS connection waits on: enough for a typical
// message, little beside crypto/tls's own buffers.
const smallRead = 512

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
}

// conn is the server side of one client connection. What it needs only
// while it runs on a goroutine is in active, which a parked connection
// gives back: a parked connection is this struct, its socket and nothing
// else.
type conn struct {
	srv *Server
	cfg *connConfig // its Serve call's, shared
	id  uint64

	// mu guards raw and rwc against the server's goroutines (Shutdown
	// wakes connections, Close closes them) while the connection parks
	// (they become nil) or resumes (they are made anew).
	mu  sync.Mutex
	raw net.Conn // the accepted connection; nil while parked
	rwc net.Conn // what is echoed over: raw, or the TLS connection over it

	ip netip.Addr // counted against MaxConnsPerIP, if valid

	// Set before the echo starts and read-only afterwards.
	remote  net.Addr // the client's address: the PROXY header's source, or raw's peer
	proxy   net.Addr // the balancer that sent a PROXY header, if one did
	tls     *TLSInfo // what a TLS connection agreed on
	pending []byte   // bytes read with the PROXY header, echoed first

	// Which events the observer wants, looked up once.
	observeMessages, observeReads, observeWrites bool

	// Where the connection parks while it waits for its client with
	// nothing pending (see park_linux.go); canPark is false where it
	// cannot: over TLS, or with no socket under it.
	canPark bool
	fd      int
	idle    lazyDeadline // the idle timeout: kept while parked, for the loop
	held    int          // bytes of buffer charged to the server's MaxHeld budget

	*active // nil while parked
}

// active is what a connection needs while it runs on a goroutine: its
// readers and writers, and the write timeout's state, which is over
// whenever the connection parks, for it parks with nothing to write.
type active struct {
	waiter readWaiter
	writer rawWriter    // writes that know when the client last took bytes
	wd     lazyDeadline // the write deadline, kept across writes so it stays lazy
	// writeCap is the capacity of the buffer an echo being written comes
	// from: what the connection holds while the client is slow to take it.
	writeCap int
	// For the write timeout: when the client's acknowledgements were last
	// looked at, and how many bytes it had acknowledged then.
	lastLook  time.Time
	lastAcked uint64
	small     []byte // what a TLS connection waits on
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
	c.active = a
}

// deactivate gives back what activate gave, before the connection parks.
func (c *conn) deactivate() {
	a := c.active
	c.active = nil
	*a = active{waiter: a.waiter.unbound(), writer: a.writer.unbound()} // the closures, made once, stay
	actives.Put(a)
}

// observing looks up once which events the observer wants.
func (c *conn) observing() {
	obs := c.srv.Observer
	c.observeMessages, c.observeReads, c.observeWrites = wants(obs, MessageReceived), wants(obs, DataRead), wants(obs, DataWritten)
}

// serve runs a connection on a goroutine of its own from its start: its
// preamble, if it has one, then its echo.
func (c *conn) serve() {
	obs := c.srv.Observer
	if !c.cfg.preamble.none() && !c.opened(obs) {
		c.srv.untrackConn(c)
		return
	}
	c.resume(resumption{pending: c.pending})
}

// resume runs the connection's echo on the calling goroutine, from where
// r says it stands, until the connection parks (the goroutine may then
// end) or ends (it is closed and reported).
func (c *conn) resume(r resumption) {
	obs := c.srv.Observer
	var reason error
	if err := c.unpark(); err != nil {
		reason = r.orElse(err)
	} else {
		reason = c.echoFrom(obs, c.remote, r)
		if errors.Is(reason, errParked) {
			return
		}
		c.rwc.Close()
	}
	if wants(obs, ConnClosed) {
		obs.Observe(c.event(ConnClosed, reason))
	}
	c.srv.untrackConn(c)
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

// resumption is where a connection's echo resumes: with bytes it read
// before (a PROXY header's tail), with an echo the event loop could not
// finish writing, or with what the loop's read returned.
type resumption struct {
	pending []byte // bytes read but not yet taken as messages

	// Set by the event loop: buf[:owed] is the rest of an echo of
	// messages messages, echoed bytes of which are written already;
	// buf[owed:w] are bytes read and not yet taken.
	buf              []byte
	owed, w          int
	echoed, messages int

	err error // a read's error, to be judged first
}

// opened runs the preamble of a connection that has one and reports
// whether the connection is to be served, telling obs that it opened.
// A connection whose preamble fails, or whose real client is over
// MaxConnsPerIP, is refused.
func (c *conn) opened(obs Observer) bool {
	if err := c.open(); err != nil {
		if c.srv.closing.Begun() {
			err = ErrServerClosed
		}
		c.srv.refuse(c, err, false)
		return false
	}
	if c.srv.MaxConnsPerIP > 0 && !c.ip.IsValid() && !c.srv.admitSource(c, clientIPOf(c.remote)) {
		c.srv.refuse(c, ErrTooManyFromSource, true)
		return false
	}
	if wants(obs, ConnOpened) {
		obs.Observe(c.event(ConnOpened, nil))
	}
	return true
}

// event is an event of this connection as a whole.
func (c *conn) event(k EventKind, reason error) Event {
	return Event{Kind: k, Conn: c.id, Remote: c.remote, Proxy: c.proxy, TLS: c.tls, Reason: reason}
}

// echo reads from the client, splits what arrives into messages and writes
// every complete message back, until the stream ends. It returns why it
// stopped.
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
func (c *conn) echo(obs Observer, remote net.Addr) error {
	return c.echoFrom(obs, remote, resumption{pending: c.pending})
}

// echoFrom is echo from where r says the connection stands. It returns
// errParked when the connection parked.
func (c *conn) echoFrom(obs Observer, remote net.Addr, r resumption) error {
	s := echoLoop{c: c, obs: obs, remote: remote, busy: time.Now()}
	c.activate()
	if c.idle.since.IsZero() {
		c.idle.since = time.Now()
	}
	parked := false
	defer func() {
		if !parked { // a parked connection is the event loop's now
			c.release()
			putBuffer(s.buf)
		}
	}()
	if err := s.resume(r); err != nil {
		return err
	}
	for {
		if err := s.echoWhole(); err != nil {
			return err
		}
		if s.ending != nil {
			return s.ending
		}
		if err := s.keep(); err != nil {
			return err
		}
		s.armIdle()
		err := s.read()
		if errors.Is(err, errParked) {
			parked = true
			return err
		}
		if err := s.readError(err); err != nil {
			return err
		}
	}
}

// echoLoop is where one connection's echo stands: its buffer, what in it
// is not yet taken, and whether the connection is ending.
type echoLoop struct {
	c      *conn
	obs    Observer
	remote net.Addr

	buf      []byte
	r, w     int   // buf[r:w] holds bytes read but not yet taken as messages
	scanned  int   // buf[r:r+scanned] is known to hold no message end
	ending   error // set once no more bytes will be read; why
	draining bool  // shutting down: read only what has arrived already
	full     bool  // the last read filled the buffer: more is likely waiting
	// busy is when this goroutine last read (or began), for parkGrace;
	// graceWait, that the read waits with parkGrace's deadline.
	busy      time.Time
	graceWait bool
	now       time.Time // set by the event loop: when its batch arrived
}

// parkGrace is how long a connection that has had work on its goroutine
// waits there, quiet, before it parks: moving to the loop and back costs
// some ten system calls, which a stream between two bursts, or a line
// that trickles in, would otherwise pay at every pause.
const parkGrace = 50 * time.Millisecond

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// resume sets the loop where r says the connection stands: it finishes
// the echo the event loop began, and judges the error its read returned.
func (s *echoLoop) resume(r resumption) error {
	if len(r.pending) > 0 {
		s.took(r.pending)
		s.c.pending = nil
	}
	if r.buf != nil {
		s.buf, s.r, s.w = r.buf, 0, r.w
		if r.owed > 0 {
			err := s.c.write(s.buf, s.buf[:r.owed])
			s.wrote(r.echoed+r.owed, r.messages, err)
			if err != nil {
				return err
			}
			s.r = r.owed
		}
	}
	if r.err != nil {
		return s.readError(r.err)
	}
	return nil
}

// echoWhole takes every whole message the buffer holds and writes them
// back in one write.
func (s *echoLoop) echoWhole() error {
	start, messages := s.take()
	if s.r == start {
		return nil
	}
	return s.written(s.buf[start:s.r], messages)
}

// take takes every whole message the buffer holds, telling the observer
// of each if it wants them, and returns where they start and how many
// there are (counted only if someone observes the echo).
func (s *echoLoop) take() (start, messages int) {
	start = s.r
	if s.c.observeMessages {
		messages = s.splitObserved()
	} else {
		// Nobody observes messages: take the batch in one step, and count
		// its messages in one step if the echo is observed.
		var n int
		n, s.scanned = s.c.cfg.consume(s.buf[s.r:s.w], s.ending != nil, s.scanned)
		if s.c.observeWrites {
			messages = s.c.cfg.count(s.buf[s.r : s.r+n])
		}
		s.r += n
	}
	return start, messages
}

// splitObserved takes whole messages one by one, telling the observer of
// each, and returns how many it took.
func (s *echoLoop) splitObserved() (messages int) {
	for s.r < s.w {
		n, scanned := s.c.cfg.split(s.buf[s.r:s.w], s.ending != nil, s.scanned)
		if n == 0 {
			s.scanned = scanned
			return messages
		}
		s.message(s.buf[s.r : s.r+n])
		s.r, s.scanned, messages = s.r+n, 0, messages+1
	}
	return messages
}

func (s *echoLoop) message(m []byte) {
	s.obs.Observe(Event{Kind: MessageReceived, Conn: s.c.id, Remote: s.remote, Message: m})
}

// written writes echo, the echo of that many messages, from the buffer,
// and tells the observer how the write went.
func (s *echoLoop) written(echo []byte, messages int) error {
	err := s.c.write(s.buf, echo)
	s.wrote(len(echo), messages, err)
	return err
}

// wrote tells the observer, if it wants, of an echo written.
func (s *echoLoop) wrote(bytes, messages int, err error) {
	if s.c.observeWrites {
		s.obs.Observe(Event{Kind: DataWritten, Conn: s.c.id, Remote: s.remote, Bytes: bytes, Messages: messages, Reason: err})
	}
}

// keep keeps an unfinished message for the next read, charged to the
// server's budget; over the budget, it holds no more and loses nothing
// either: it echoes the message as it stands.
func (s *echoLoop) keep() error {
	if s.r == s.w || s.draining || s.c.hold(s.buf, s.w-s.r == len(s.buf)) {
		return nil
	}
	s.c.srv.heldOver(s.remote)
	if s.c.observeMessages {
		s.message(s.buf[s.r:s.w])
	}
	if err := s.written(s.buf[s.r:s.w], 1); err != nil {
		return err
	}
	s.r, s.scanned = s.w, 0
	return nil
}

// armIdle sets the idle deadline for the next read, if there is one.
func (s *echoLoop) armIdle() {
	if s.draining || s.c.cfg.idle <= 0 {
		return
	}
	s.c.idle.arm(s.c.rwc.SetReadDeadline, s.c.cfg.idle)
	// Shutdown may have woken this connection just before the deadline
	// above replaced its wake-up; it marked the server closing first, so
	// look.
	s.draining = s.c.srv.closing.Begun()
}

// read reads what comes next into the buffer and returns the read's error.
func (s *echoLoop) read() error {
	c := s.c
	var n int
	var err error
	// Nothing pending, and nothing more likely at once: the read waits.
	wait := s.r == s.w && !s.full && !s.draining
	switch {
	case wait && c.canPark && time.Since(s.busy) >= parkGrace:
		return s.park()
	case wait && c.waiter.ok():
		if c.canPark && !s.awaitGrace() {
			return nil // the server is closing: drain
		}
		// Nothing pending and nothing more likely at once: wait for the
		// client without a buffer, so an idle connection costs little
		// more than its goroutine.
		c.release()
		putBuffer(s.buf)
		s.r, s.w, s.scanned = 0, 0, 0
		s.buf, n, err = c.waiter.read(c.cfg.size)
		if s.graceWait && err == nil {
			s.endGrace()
		}
	case wait && c.tls != nil:
		return s.readSmall()
	default:
		s.buf, s.r, s.w = room(s.buf, s.r, s.w, c.cfg)
		if !s.draining {
			n, err = c.rwc.Read(s.buf[s.w:])
		} else if n, err = c.waiter.readNow(c.rwc, s.buf[s.w:]); n == 0 && err == nil {
			s.ending = ErrServerClosed
		}
	}
	s.full = s.buf != nil && n == len(s.buf)-s.w
	if n > 0 {
		s.arrived(n)
		if c.canPark {
			s.busy = time.Now()
		}
	}
	return err
}

// park parks the connection, which has nothing pending and has been
// quiet for a while, so that it holds neither a buffer nor a goroutine,
// and returns errParked; or, if the server is closing or the loop would
// not take it, keeps it on this goroutine for good, as where no loop is
// to be had, and returns nil.
func (s *echoLoop) park() error {
	c := s.c
	c.release()
	putBuffer(s.buf)
	s.buf, s.r, s.w, s.scanned = nil, 0, 0, 0
	c.deactivate()
	if c.srv.parking.park(c) {
		return errParked
	}
	c.activate()
	c.canPark = false
	s.draining = c.srv.closing.Begun()
	return nil
}

// awaitGrace sets the wait of a connection that was busy a moment ago to
// end parkGrace after, when it will park (or at its idle timeout, if that
// comes first): a stream or a trickle does not move between the goroutine
// and the loop at every pause. It reports false, and sets the connection
// draining, if the server is closing.
func (s *echoLoop) awaitGrace() bool {
	c := s.c
	s.graceWait = true
	at := s.busy.Add(parkGrace)
	if c.cfg.idle > 0 {
		at = minTime(at, c.idle.since.Add(c.cfg.idle))
	}
	c.idle.at = at
	c.rwc.SetReadDeadline(at)
	if c.srv.closing.Begun() {
		// Shutdown's wake-up may have come just before this deadline
		// replaced it (see armIdle).
		s.graceWait, s.draining = false, true
		return false
	}
	return true
}

// endGrace undoes the wait to park's deadline once the client has sent
// within it: left set, it would end a later read (one that waits for the
// rest of a line, say) as if the client had been idle. The idle timeout,
// if there is one, needs nothing: its deadline is lazy, and one that comes
// early is moved on (see lazyDeadline).
func (s *echoLoop) endGrace() {
	s.graceWait = false
	if s.c.cfg.idle <= 0 {
		s.c.rwc.SetReadDeadline(time.Time{})
		s.c.idle.at = time.Time{}
	}
}

// readSmall is read's wait over TLS, which cannot wait without a buffer:
// the connection waits on a small one of its own, and takes a pooled
// buffer only once something has come. (A plain connection without the
// buffer-less wait reads straight into the pooled buffer: one read and no
// copy per burst.)
func (s *echoLoop) readSmall() error {
	c := s.c
	c.release()
	putBuffer(s.buf)
	s.buf, s.r, s.w, s.scanned = nil, 0, 0, 0
	if c.small == nil {
		c.small = make([]byte, smallRead)
	}
	n, err := c.rwc.Read(c.small)
	if n > 0 {
		s.buf = getBuffer(max(c.cfg.size, n))
		copy(s.buf, c.small[:n])
		s.full = n == len(c.small)
		s.arrived(n)
	}
	return err
}

// arrived counts n bytes just put at the end of what the buffer holds.
func (s *echoLoop) arrived(n int) {
	s.w += n
	if s.c.cfg.idle > 0 {
		if s.now.IsZero() {
			s.c.idle.since = time.Now()
		} else {
			s.c.idle.since = s.now
		}
	}
	if s.c.observeReads {
		s.obs.Observe(Event{Kind: DataRead, Conn: s.c.id, Remote: s.remote, Bytes: n})
	}
}

// took puts bytes the preamble read past the PROXY header into the buffer,
// as if read.
func (s *echoLoop) took(b []byte) {
	s.buf = getBuffer(max(s.c.cfg.size, len(b)))
	s.arrived(copy(s.buf, b))
}

// readError says what a read's error means: nil to go on (which a shutdown
// or the end of the stream may have turned into draining or ending: echo
// what is held, then go), or why the connection ends at once.
func (s *echoLoop) readError(err error) error {
	c := s.c
	grace := s.graceWait
	s.graceWait = false
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		s.ending = ErrClientClosed
	case c.srv.closing.Begun() && errors.Is(err, os.ErrDeadlineExceeded):
		// Shutdown woke this connection: echo what it holds and what has
		// arrived already, then go.
		s.draining = true
	case c.cfg.idle > 0 && errors.Is(err, os.ErrDeadlineExceeded):
		if c.idle.expired(c.rwc.SetReadDeadline, c.cfg.idle) {
			s.ending = ErrIdleTimeout // echo what it holds, then go
		}
	case grace && errors.Is(err, os.ErrDeadlineExceeded):
		// Quiet for parkGrace: the next read parks.
	case c.srv.closing.Begun() && errors.Is(err, net.ErrClosed):
		return ErrServerClosed
	default:
		return connError("read", err)
	}
	return nil
}

// hold charges the buffer kept for an unfinished message to the budget:
// the buffer as it is, or, when the message fills it (grow), the larger
// buffer room will make. It reports false when the budget cannot take it.
func (c *conn) hold(buf []byte, grow bool) bool {
	size := cap(buf)
	if grow {
		size = grownSize(len(buf), c.cfg.limit)
	}
	return c.charge(size, false)
}

// release gives back to the budget whatever the connection holds.
func (c *conn) release() { c.charge(0, true) }

// charge makes what the connection has charged to the server's budget
// size bytes. Growing is refused past the budget unless forced: an echo
// the client has not taken yet cannot be dropped, an unfinished line can
// be echoed on instead.
func (c *conn) charge(size int, force bool) bool {
	delta := size - c.held
	if delta == 0 {
		return true
	}
	if !c.srv.charge(delta, force) {
		return false
	}
	c.held = size
	return true
}

// room makes room to read into after buf[r:w]. What is left is part of a
// message, less than a line's limit, so moving it to the front, and
// growing the buffer up to the limit, always leaves space.
func room(buf []byte, r, w int, cfg *connConfig) ([]byte, int, int) {
	switch {
	case buf == nil:
		return getBuffer(cfg.size), 0, 0
	case r == w:
		return buf, 0, 0
	case w < len(buf):
		return buf, r, w
	}
	if r > 0 {
		w = copy(buf, buf[r:w])
	}
	if w == len(buf) {
		buf = growBuffer(buf, cfg.limit)
	}
	return buf, 0, w
}

// write writes an echo, p, a part of buf, whole. The write timeout counts
// from the last time the client took bytes, not from the start of the
// write: a client that reads slowly but steadily is served, one that
// stopped reading is let go a WriteTimeout after it took its last byte.
// While the echo waits for the client, buf is charged to the budget.
func (c *conn) write(buf, p []byte) error {
	timeout := c.cfg.write
	if timeout > 0 {
		c.noteTaken(false)
	}
	for len(p) > 0 {
		if timeout > 0 {
			c.wd.arm(c.rwc.SetWriteDeadline, timeout)
		}
		var n int
		var err error
		if c.writer.ok() {
			c.writeCap = cap(buf)
			n, err = c.writer.write(p)
		} else {
			n, err = c.rwc.Write(p)
		}
		if n > 0 && timeout > 0 && !c.writer.seesAcks() {
			c.wd.since = time.Now() // the best this platform can tell
		}
		p = p[n:]
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			c.noteTaken(true)
			if time.Since(c.wd.since) >= timeout {
				return ErrWriteTimeout
			}
			c.tick()
		case c.srv.closing.Begun() && errors.Is(err, net.ErrClosed):
			return ErrServerClosed
		default:
			return connError("write echo", err)
		}
	}
	return nil
}

// ticks is how many times per WriteTimeout a write that waits looks
// whether its client took any bytes: the timeout holds to this fraction.
const ticks = 20

// noteTaken moves the start of the write timeout to now if the client has
// taken bytes since the last look: acknowledged them, as the kernel
// counts, for the bytes the kernel takes from the server may only fill a
// send buffer it enlarged. Unforced, it looks at most ticks times per
// timeout, so that a busy connection pays a system call per tick, not per
// echo. Where acknowledgements cannot be seen, each write counts.
func (c *conn) noteTaken(force bool) {
	now := time.Now()
	if c.wd.since.IsZero() {
		c.wd.since = now
	}
	if !c.writer.seesAcks() {
		if !force {
			c.wd.since = now
		}
		return
	}
	if !force && now.Sub(c.lastLook) < c.cfg.write/ticks {
		return
	}
	c.lastLook = now
	if acked, ok := c.writer.acked(); ok && acked != c.lastAcked {
		c.lastAcked = acked
		c.wd.since = now
	}
}

// tick sets the write deadline to the next look, or to the timeout's end
// if that comes first.
func (c *conn) tick() {
	next := min(c.wd.since.Add(c.cfg.write).UnixNano(), time.Now().Add(c.cfg.write/ticks).UnixNano())
	c.wd.at = time.Unix(0, next)
	c.rwc.SetWriteDeadline(c.wd.at)
}

// waitingToWrite is called when an echo has to wait for the client: the
// buffer it waits in is charged to the budget, since it cannot be dropped,
// and the write deadline starts ticking.
func (c *conn) waitingToWrite() {
	c.charge(max(c.held, c.writeCap), true)
	if c.cfg.write > 0 {
		c.noteTaken(true)
		c.tick()
	}
}

// lazyDeadline keeps a deadline a timeout after the last progress without
// moving the runtime's timer for every read or write: it moves it only
// when it has fallen behind by an eighth of the timeout, and when that
// early deadline fires, expired checks the real time since the progress.
type lazyDeadline struct {
	since time.Time // the last progress
	at    time.Time // the deadline set
}

// arm sets the deadline with set, if it has fallen far enough behind.
func (d *lazyDeadline) arm(set func(time.Time) error, timeout time.Duration) {
	if want := d.since.Add(timeout); want.Sub(d.at) > timeout/8 {
		d.at = want
		set(want)
	}
}

// expired tells whether the whole timeout has passed since the progress;
// if not, it moves the deadline to when it will have.
func (d *lazyDeadline) expired(set func(time.Time) error, timeout time.Duration) bool {
	want := d.since.Add(timeout)
	if time.Now().Before(want) {
		d.at = want
		set(want)
		return false
	}
	return true
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

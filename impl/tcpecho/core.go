package tcpecho

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/echospec/echo/internal/identity"
)

// connState is where a connection stands. Only core.to changes it, and
// only along the moves in nextStates.
type connState uint8

const (
	// stateAccepted: accepted and admitted; nothing read yet.
	stateAccepted connState = iota
	// statePreamble: reading its PROXY header or TLS handshake, on its
	// goroutine.
	statePreamble
	// stateParked: in an event loop, with no goroutine and no buffer. The
	// loop may echo whole messages in place without leaving this state.
	stateParked
	// stateWaiting: on its goroutine, waiting for its client with nothing
	// held (no buffer, or TLS's small one).
	stateWaiting
	// stateActive: on its goroutine, bytes moving: read, taken as
	// messages, echoed.
	stateActive
	// stateDraining: the server is shutting down: what has arrived is
	// echoed without waiting for more, then the connection closes.
	stateDraining
	// stateClosed: over.
	stateClosed
)

var stateNames = [...]string{"accepted", "preamble", "parked", "waiting", "active", "draining", "closed"}

func (s connState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("connState(%d)", s)
}

// nextStates lists, as bits, the states each state may move to.
var nextStates = [...]uint8{
	stateAccepted: bits(statePreamble, stateParked, stateActive, stateClosed),
	statePreamble: bits(stateActive, stateClosed),
	stateParked:   bits(stateActive, stateClosed),
	stateWaiting:  bits(stateActive),
	stateActive:   bits(stateWaiting, stateParked, stateDraining, stateClosed),
	stateDraining: bits(stateClosed),
	stateClosed:   0,
}

func bits(states ...connState) uint8 {
	var b uint8
	for _, s := range states {
		b |= 1 << s
	}
	return b
}

// canMove tells whether a connection may go from one state to another.
func canMove(from, to connState) bool {
	return int(from) < len(nextStates) && nextStates[from]&(1<<to) != 0
}

// budget is what a connection charges the bytes it holds between reads
// to: the server's MaxHeld, shared by all its connections.
type budget interface {
	// charge adds delta bytes, refusing to go past the limit unless
	// forced, and reports whether it did.
	charge(delta int, force bool) bool
	// heldOver notes an unfinished message echoed on because the budget
	// was spent.
	heldOver(remote net.Addr)
}

// core is one connection's echo without its I/O: its state, its buffer
// and what in it is not yet taken, the framing, what it holds against the
// server's budget, the bookkeeping of its deadlines, and its events. It
// makes no system call and starts no goroutine: a driver reads into the
// room it offers, tells it what arrived, writes what it says to echo, and
// sets the deadlines it keeps. Two drivers move its bytes: a goroutine
// (drive.go; any net.Conn, TLS, every system) and, on Linux, an event
// loop (loop_linux.go), which echoes whole messages of a parked
// connection in place and hands anything longer to the goroutine.
type core struct {
	state   connState
	canPark bool // an event loop can take it: a plain TCP socket, where there is one
	// probing: the server has an identity and the connection's first bytes
	// may yet be an identity probe.
	probing bool
	// Which events the observer wants, looked up once.
	observeMessages, observeReads, observeWrites bool

	cfg    *connConfig // its Serve call's, shared
	budget budget
	obs    Observer

	// Who it is, for events. Set before the echo starts.
	id     uint64
	remote net.Addr // the client: the PROXY header's source, or the peer
	proxy  net.Addr // the balancer that sent a PROXY header, if one did
	tls    *TLSInfo // what a TLS connection agreed on

	held int          // bytes charged to the budget
	idle lazyDeadline // the idle timeout, kept while parked too

	*flow             // while bytes move; nil while parked
	clock *writeClock // the write timeout's bookkeeping, while on a goroutine
}

// flow is what a core needs only while bytes move, on its goroutine or
// for a turn of its event loop: a parked connection has none, and so
// costs little.
type flow struct {
	in        inbox
	busy      time.Time // when its client last sent, for parkGrace
	graceWait bool      // its read waits with parkGrace's deadline
	moveIdle  bool      // the driver is to set the read deadline to idle.at
}

// inbox is the buffer bytes are read into and what in it is not yet
// taken as messages.
type inbox struct {
	buf     []byte
	r, w    int   // buf[r:w] holds bytes read but not yet taken
	scanned int   // buf[r:r+scanned] is known to hold no message end
	full    bool  // the last read filled the buffer: more is likely waiting
	ending  error // set once no more bytes will be read; why
}

// to moves the connection to state next. A move nextStates does not
// list is a driver's bug, not a client's doing: it panics, naming both.
func (c *core) to(next connState) {
	if !canMove(c.state, next) {
		panic(fmt.Sprintf("tcpecho: connection %d cannot go from %v to %v", c.id, c.state, next))
	}
	c.state = next
}

// drain makes the connection echo what has arrived and go.
func (c *core) drain() {
	if c.state != stateDraining {
		c.to(stateDraining)
	}
}

func (c *core) draining() bool { return c.state == stateDraining }

// observing looks up once which events obs wants.
func (c *core) observing(obs Observer) {
	c.obs = obs
	c.observeMessages, c.observeReads, c.observeWrites = wants(obs, MessageReceived), wants(obs, DataRead), wants(obs, DataWritten)
}

// event is an event of this connection as a whole.
func (c *core) event(k EventKind, reason error) Event {
	return Event{Kind: k, Conn: c.id, Remote: c.remote, Proxy: c.proxy, TLS: c.tls, Reason: reason}
}

// needsClock tells whether arrived needs the time.
func (c *core) needsClock() bool { return c.cfg.idle > 0 || c.canPark }

// arrived counts n bytes just read into the buffer after what it held,
// at now (zero where needsClock said it is not needed). filled says the
// read filled all the room it had.
func (c *core) arrived(n int, filled bool, now time.Time) {
	c.in.full = filled
	if n == 0 {
		return
	}
	c.in.w += n
	if c.cfg.idle > 0 {
		c.idle.since = now
	}
	if c.canPark {
		c.busy = now
	}
	if c.observeReads {
		c.obs.Observe(Event{Kind: DataRead, Conn: c.id, Remote: c.remote, Bytes: n})
	}
}

// prefill puts bytes read before the echo began (past a PROXY header) into
// a buffer, as if just read.
func (c *core) prefill(b []byte, now time.Time) {
	c.in.buf = getBuffer(max(c.cfg.size, len(b)))
	c.arrived(copy(c.in.buf, b), false, now)
}

// take takes every whole message the buffer holds, telling the observer
// of each if it wants them, and returns the echo of them all and how
// many they are (counted only if someone observes the echo).
func (c *core) take() (echo []byte, messages int) {
	start := c.in.r
	if c.probing {
		var wait bool
		if start, wait = c.answerProbe(); wait {
			return nil, 0
		}
	}
	if c.observeMessages {
		messages = c.splitObserved()
	} else {
		// Nobody observes messages: take the batch in one step, and count
		// its messages in one step if the echo is observed.
		var n int
		n, c.in.scanned = c.cfg.consume(c.in.buf[c.in.r:c.in.w], c.in.ending != nil, c.in.scanned)
		if c.observeWrites {
			messages = c.cfg.count(c.in.buf[c.in.r : c.in.r+n])
		}
		c.in.r += n
	}
	return c.in.buf[start:c.in.r], messages
}

// answerProbe looks at a connection's first bytes for an identity probe.
// While they could still become one it says to wait (unless no more will
// come); once they are one, it writes the answer in place, ending where
// the probe ended, takes the probe and returns where the answer starts,
// for the echo of what follows to come after it in one write.
func (c *core) answerProbe() (start int, wait bool) {
	first := c.in.buf[c.in.r:c.in.w]
	if len(first) < identity.Size && c.in.ending == nil && !c.draining() && identity.MayBeProbe(first) {
		return c.in.r, true
	}
	c.probing = false
	if len(first) < identity.Size {
		return c.in.r, false
	}
	if _, ok := identity.IsProbe(first[:identity.Size]); !ok {
		return c.in.r, false
	}
	answer := identity.AnswerInPlace(first[:identity.Size], c.cfg.identity)
	start = c.in.r + identity.Size - len(answer)
	copy(c.in.buf[start:], answer)
	c.in.r += identity.Size
	return start, false
}

// splitObserved takes whole messages one by one, telling the observer of
// each, and returns how many it took.
func (c *core) splitObserved() (messages int) {
	for c.in.r < c.in.w {
		n, scanned := c.cfg.split(c.in.buf[c.in.r:c.in.w], c.in.ending != nil, c.in.scanned)
		if n == 0 {
			c.in.scanned = scanned
			return messages
		}
		c.message(c.in.buf[c.in.r : c.in.r+n])
		c.in.r, c.in.scanned, messages = c.in.r+n, 0, messages+1
	}
	return messages
}

func (c *core) message(m []byte) {
	c.obs.Observe(Event{Kind: MessageReceived, Conn: c.id, Remote: c.remote, Message: m})
}

// echoed tells the observer, if it wants, of an echo written: bytes of
// the echo of messages messages, or the write's failure.
func (c *core) echoed(bytes, messages int, err error) {
	if c.observeWrites {
		c.obs.Observe(Event{Kind: DataWritten, Conn: c.id, Remote: c.remote, Bytes: bytes, Messages: messages, Reason: err})
	}
}

// unheld is what keeping an unfinished message for the next read leaves
// to echo at once: nothing, if the buffer is charged to the budget (or
// there is nothing to keep); over the budget, the message as it stands,
// which is then taken: the server holds no more and loses nothing.
func (c *core) unheld() []byte {
	if c.in.r == c.in.w || c.draining() || c.hold(c.in.w-c.in.r == len(c.in.buf)) {
		return nil
	}
	c.budget.heldOver(c.remote)
	rest := c.in.buf[c.in.r:c.in.w]
	if c.observeMessages {
		c.message(rest)
	}
	c.in.r, c.in.scanned = c.in.w, 0
	return rest
}

// room makes room to read into after what the buffer holds, and returns
// it. What is left is part of a message, less than a line's limit, so
// moving it to the front, and growing the buffer up to the limit, always
// leaves space.
func (c *core) room() []byte {
	in := &c.in
	switch {
	case in.buf == nil:
		in.buf, in.r, in.w = getBuffer(c.cfg.size), 0, 0
	case in.r == in.w:
		in.r, in.w = 0, 0
	case in.w == len(in.buf):
		if in.r > 0 {
			in.w = copy(in.buf, in.buf[in.r:in.w])
			in.r = 0
		}
		if in.w == len(in.buf) {
			in.buf = growBuffer(in.buf, c.cfg.limit)
		}
	}
	return in.buf[in.w:]
}

// dropBuffer gives back the buffer, which holds nothing not yet taken,
// and what it was charged.
func (c *core) dropBuffer() {
	c.release()
	putBuffer(c.in.buf)
	c.in.buf, c.in.r, c.in.w, c.in.scanned = nil, 0, 0, 0
}

// leftovers copies into a buffer of the connection's own what the event
// loop read into its buffer and could not finish: buf[from:w], the rest
// of an echo and an unfinished message after it, for the connection's
// goroutine to take on.
func (c *core) leftovers(from int) (buf []byte, n int) {
	rest := c.in.buf[from:c.in.w]
	buf = getBuffer(max(c.cfg.size, len(rest)))
	return buf, copy(buf, rest)
}

// hold charges the buffer kept for an unfinished message to the budget:
// the buffer as it is, or, when the message fills it (grow), the larger
// buffer room will make. It reports false when the budget cannot take it.
func (c *core) hold(grow bool) bool {
	size := cap(c.in.buf)
	if grow {
		size = grownSize(len(c.in.buf), c.cfg.limit)
	}
	return c.charge(size, false)
}

// release gives back to the budget whatever the connection holds.
func (c *core) release() { c.charge(0, true) }

// charge makes what the connection has charged to the budget size bytes.
// Growing is refused past the budget unless forced: an echo the client
// has not taken yet cannot be dropped, an unfinished line can be echoed
// on instead.
func (c *core) charge(size int, force bool) bool {
	delta := size - c.held
	if delta == 0 {
		return true
	}
	if !c.budget.charge(delta, force) {
		return false
	}
	c.held = size
	return true
}

// readMode is how the driver is to read next.
type readMode uint8

const (
	readInto  readMode = iota // into the buffer's room, waiting as needed
	readNow                   // draining: only what has arrived, without waiting
	readPark                  // nothing pending, quiet for parkGrace: park
	readGrace                 // nothing pending, busy a moment ago: wait without a buffer until parkGrace is over
	readBare                  // nothing pending: wait without a buffer
	readSmall                 // nothing pending, over TLS: wait on a small buffer
)

// parkGrace is how long a connection that has had work on its goroutine
// waits there, quiet, before it parks: moving to the loop and back costs
// some ten system calls, which a stream between two bursts, or a line
// that trickles in, would otherwise pay at every pause.
const parkGrace = 50 * time.Millisecond

// nextRead says how to read next. bare says the driver can wait without
// a buffer; tls, that the connection is TLS; clock is asked the time only
// when the choice needs it.
func (c *core) nextRead(bare, tls bool, clock func() time.Time) readMode {
	switch {
	case c.draining():
		return readNow
	case c.in.r != c.in.w || c.in.full:
		return readInto // something pending, or more likely at once
	case c.canPark && clock().Sub(c.busy) >= parkGrace:
		return readPark
	case bare && c.canPark:
		return readGrace
	case bare:
		return readBare
	case tls:
		return readSmall
	}
	return readInto
}

// graceDeadline starts the wait of a connection that was busy a moment
// ago, and returns when it ends: parkGrace after it was last busy, when
// it will park, or at its idle timeout if that comes first.
func (c *core) graceDeadline() time.Time {
	c.graceWait = true
	at := c.busy.Add(parkGrace)
	if c.cfg.idle > 0 {
		at = minTime(at, c.idle.since.Add(c.cfg.idle))
	}
	c.idle.at = at
	return at
}

// endGrace ends the wait to park once the client has sent within it, and
// reports whether its deadline must be cleared: left set, it would end a
// later read (one that waits for the rest of a line, say) as if the
// client had been idle. An idle timeout's deadline needs nothing: it is
// lazy, and one that comes early is moved on (see lazyDeadline).
func (c *core) endGrace() bool {
	c.graceWait = false
	if c.cfg.idle > 0 {
		return false
	}
	c.idle.at = time.Time{}
	return true
}

// armIdle arms the idle timeout for the next read and reports whether the
// driver is to set the read deadline to idle.at.
func (c *core) armIdle() bool {
	if c.draining() || c.cfg.idle <= 0 {
		return false
	}
	return c.idle.arm(c.cfg.idle)
}

// judge says what a read's error means: nil to go on (which a shutdown,
// the end of the stream or the idle timeout may have turned into draining
// or ending: echo what is held, then go), or why the connection ends at
// once. closing says the server is shutting down. When it moves the idle
// deadline instead, moveIdle says so.
func (c *core) judge(err error, closing bool, clock func() time.Time) error {
	grace := c.graceWait
	c.graceWait = false
	deadline := errors.Is(err, os.ErrDeadlineExceeded)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		c.in.ending = ErrClientClosed
	case closing && deadline:
		// Shutdown woke this connection: echo what it holds and what has
		// arrived already, then go.
		c.drain()
	case c.cfg.idle > 0 && deadline:
		if c.idle.expired(clock(), c.cfg.idle) {
			c.in.ending = ErrIdleTimeout // echo what it holds, then go
		} else {
			c.moveIdle = true
		}
	case grace && deadline:
		// Quiet for parkGrace: the next read parks.
	case closing && errors.Is(err, net.ErrClosed):
		return ErrServerClosed
	default:
		return connError("read", err)
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

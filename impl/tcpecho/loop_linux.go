package tcpecho

import (
	"errors"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/echospec/echo/internal/lifecycle"
)

// The event-loop driver (Linux, plain TCP). parking is a server's event
// loops: one per CPU but one (see loopCount), each an epoll instance that watches the connections
// parked in it and a goroutine, on a thread of its own, that waits on it.
// A connection parks when it has nothing to read and nothing to write; it
// then holds no goroutine and no buffer, only its conn and the kernel's
// socket. When its client sends, the loop reads into a buffer of its own,
// echoes every whole message through the connection's core and, if that
// is all there was to do, leaves the connection parked: a busy ping-pong
// connection costs a read and a write per message, as in any event loop,
// and never a goroutine switch. Anything longer (an unfinished line, an
// echo the client is slow to take, the end of the stream, an error, the
// idle timeout, a shutdown) is handed to a goroutine of the connection's
// own, which runs the goroutine driver until it parks again.
//
// A loop owns its connections: only its goroutine touches its table of
// them. Others hand it work through a queue and its wake-up descriptor
// (an eventfd), under a lock held only to add to the queue or take it,
// never while the loop serves or an observer runs.
type parking struct {
	mu      sync.Mutex
	loops   []*loop
	stopped bool
}

// loop is one epoll instance and what is parked in it.
type loop struct {
	srv  *Server
	epfd int
	done chan struct{}

	stopping atomic.Bool // asked to stop: hand everything off and end

	// The queue, guarded by qmu: connections to park, and the wake-up
	// that tells the loop to take them. Once the loop has ended, closed is
	// set and wakefd is -1 (its number may be another file's by then).
	qmu    sync.Mutex
	queue  []*conn
	wakefd int
	closed bool

	// The loop goroutine's own.
	conns    []*conn // parked connections, by file descriptor
	spare    []*conn // the queue's other half, for the next swap
	buf      []byte  // what the loop reads into
	flow     flow    // what a connection's core needs for a turn
	nextScan time.Time
	// scanGap is how often at most the loop looks at the idle timeouts: a
	// fraction of the shortest, so that looking stays linear in the
	// connections however their deadlines are spread.
	scanGap time.Duration
}

// loopCount is how many loops a server runs on procs processors: one
// fewer, and one where there is only one. With a loop on every processor
// the scheduler took each loop's processor away as it waited in
// epoll_wait, and the runtime's monitor thread woke every 20 µs to do so;
// with one fewer, a processor is free for the goroutines (Accept, TLS and
// streaming connections, the observers) and none needs taking.
func loopCount(procs int) int {
	return max(procs-1, 1)
}

// wakeKey is the eventfd's key in the epoll set: no socket has it.
const wakeKey = -1

// maxEvents is how many ready connections one wait returns at most.
const maxEvents = 256

// streamRead is the read, in bytes, past which a connection is taken for
// a stream rather than a message, and served on its goroutine: a quarter
// of the loop's buffer. Ping-pong messages are far smaller.
const streamRead = pooledSize / 4

// minScanGap is the least time between two looks at the idle timeouts.
const minScanGap = time.Millisecond

// park hands c to one of the server's loops and reports whether it did:
// not once the server is closing, nor if the system refuses. After it
// returns true, c belongs to the loop.
func (p *parking) park(c *conn) bool {
	l := p.loopFor(c)
	if l == nil {
		return false
	}
	return l.park(c)
}

// loopFor returns the loop c's descriptor parks in, starting the loops
// on first use; nil once stopped.
func (p *parking) loopFor(c *conn) *loop {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return nil
	}
	if p.loops == nil {
		for range loopCount(runtime.GOMAXPROCS(0)) {
			l, err := newLoop(c.srv)
			if err != nil {
				c.srv.logger().Warn("no event loop: connections wait on goroutines", "err", err)
				p.stopped = true
				for _, l := range p.loops {
					l.requestStop()
				}
				return nil
			}
			p.loops = append(p.loops, l)
		}
	}
	return p.loops[c.fd%len(p.loops)]
}

// stop asks every loop to hand each connection parked in it to a
// goroutine of its own, to be drained or closed as the server is, and to
// end. Nothing parks afterwards. It does not wait.
func (p *parking) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	for _, l := range p.loops {
		l.requestStop()
	}
}

// wait waits until every loop has ended; their connections are then all
// on goroutines of their own.
func (p *parking) wait() {
	p.mu.Lock()
	loops := p.loops
	p.mu.Unlock()
	for _, l := range loops {
		<-l.done
	}
}

func newLoop(srv *Server) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: wakeKey}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	l := &loop{srv: srv, epfd: epfd, wakefd: wakefd, done: make(chan struct{}), buf: make([]byte, pooledSize)}
	go l.run()
	return l, nil
}

// park queues c for the loop, unless the loop is ending. The connection
// leaves Go's own poller: it keeps a duplicate of its descriptor and
// closes its net.Conn, so that only the loop is woken when its client
// sends (both, woken for every message, cost a ping-pong a tenth of its
// speed).
func (l *loop) park(c *conn) bool {
	// The duplicate is made, and the net.Conn closed, outside the queue's
	// lock: other goroutines parking in this loop, Accept's among them,
	// wait only for the append.
	fd, err := unix.FcntlInt(uintptr(c.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return false // out of descriptors, say: wait on the goroutine
	}
	l.qmu.Lock()
	if l.closed || l.stopping.Load() {
		l.qmu.Unlock()
		unix.Close(fd)
		return false
	}
	c.to(stateParked)
	c.mu.Lock()
	raw := c.raw
	c.raw, c.rwc = nil, nil // before the loop can see it: its goroutine unparks by these
	c.mu.Unlock()
	c.fd = fd
	l.queue = append(l.queue, c)
	if len(l.queue) == 1 {
		l.wakeLocked() // the loop takes the whole queue once woken
	}
	l.qmu.Unlock()
	raw.Close() // the duplicate keeps the socket open
	return true
}

// wakeLocked makes the loop's wait return; l.qmu must be held.
func (l *loop) wakeLocked() {
	if l.wakefd >= 0 {
		var one = [8]byte{1}
		unix.Write(l.wakefd, one[:])
	}
}

// requestStop asks the loop to hand off its connections and end. It does
// not wait for the loop.
func (l *loop) requestStop() {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	l.stopping.Store(true)
	l.wakeLocked()
}

// adopt takes the queue and adds its connections to the epoll set.
func (l *loop) adopt() {
	var b [8]byte
	unix.Read(l.wakefd, b[:])
	l.qmu.Lock()
	queue := l.queue
	l.queue, l.spare = l.spare, nil
	l.qmu.Unlock()
	for _, c := range queue {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(c.fd)}
		if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
			go c.resume(resumption{}) // waits on its goroutine instead
			continue
		}
		if c.fd >= len(l.conns) {
			l.conns = append(l.conns, make([]*conn, c.fd+1-len(l.conns)+len(l.conns)/2)...)
		}
		l.conns[c.fd] = c
		l.schedule(c)
	}
	clear(queue)
	l.spare = queue[:0]
}

// schedule makes sure the loop looks at c's idle timeout in time.
func (l *loop) schedule(c *conn) {
	idle := c.cfg.idle
	if idle <= 0 {
		return
	}
	if gap := max(idle/64, minScanGap); l.scanGap == 0 || gap < l.scanGap {
		l.scanGap = gap
	}
	if at := c.idle.since.Add(idle); l.nextScan.IsZero() || at.Before(l.nextScan) {
		l.nextScan = at
	}
}

// end hands every connection parked in the loop, or queued for it, to a
// goroutine of its own and closes the loop's descriptors. why is the read
// error the connections resume with.
func (l *loop) end(why error) {
	l.qmu.Lock()
	l.closed = true
	queue := l.queue
	l.queue = nil
	unix.Close(l.wakefd)
	l.wakefd = -1
	l.qmu.Unlock()
	for _, c := range l.conns {
		if c != nil {
			l.handoff(c, resumption{err: why})
		}
	}
	for _, c := range queue {
		go c.resume(resumption{err: why})
	}
	unix.Close(l.epfd)
}

// run waits for parked connections to be readable and serves them, until
// the loop is asked to stop.
func (l *loop) run() {
	// The loop's thread is its own: it sleeps in epoll_wait, and on
	// waking it goes on at once, instead of waiting for the scheduler to
	// give its goroutine a thread again. Unlocked, a single ping-pong
	// connection ran at 0.72-0.79 of the stdlib echo in make bench;
	// locked, at 1.03-1.05.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer close(l.done)
	events := make([]unix.EpollEvent, maxEvents)
	timeout := -1
	var yield lifecycle.Yielder // see lifecycle.YieldEvery: the loop never parks
	for {
		n, err := unix.EpollWait(l.epfd, events, timeout)
		if err != nil && !errors.Is(err, unix.EINTR) {
			l.srv.logger().Error("event loop failed: its connections are handed to goroutines", "err", os.NewSyscallError("epoll_wait", err))
			l.end(nil)
			return
		}
		if l.stopping.Load() {
			// As Shutdown wakes a waiting connection: its read's deadline
			// has passed, and the server is closing.
			l.end(os.ErrDeadlineExceeded)
			return
		}
		// One clock reading a batch: it is the arrival time of every
		// message in it, for the idle timeout (a reading costs some 80 ns
		// on a virtual machine: as much as echoing a message).
		now := time.Now()
		for _, ev := range events[:max(n, 0)] {
			switch {
			case ev.Fd == wakeKey:
				l.adopt()
			case int(ev.Fd) < len(l.conns) && l.conns[ev.Fd] != nil:
				l.ready(l.conns[ev.Fd], now)
			}
		}
		if !l.nextScan.IsZero() && !now.Before(l.nextScan) {
			l.scan(now)
		}
		yield.Look(now)
		timeout = l.timeout(now)
	}
}

// timeout is how long the next wait may take, in milliseconds: until the
// next look at the idle timeouts, or for ever.
func (l *loop) timeout(now time.Time) int {
	if l.nextScan.IsZero() {
		return -1
	}
	d := l.nextScan.Sub(now)
	if d <= 0 {
		return 0
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// ready serves a parked connection its client has sent to (or ended, or
// reset): one read into the loop's buffer, every whole message echoed in
// one write, through the connection's core. If that leaves nothing
// pending, the connection stays parked; otherwise it is handed to a
// goroutine with what is left to do, in a buffer of its own.
func (l *loop) ready(c *conn, now time.Time) {
	n, err := readFd(c.fd, l.buf)
	switch {
	case errors.Is(err, unix.EAGAIN):
		return // someone else's event for this descriptor, or spurious
	case err != nil:
		l.handoff(c, resumption{err: os.NewSyscallError("read", err)})
		return
	case n == 0:
		l.handoff(c, resumption{err: io.EOF})
		return
	}
	l.flow = flow{in: inbox{buf: l.buf}}
	c.flow = &l.flow // for this turn only
	c.arrived(n, false, now)
	echo, messages := c.take()
	written := writeFd(c.fd, echo)
	if written == len(echo) {
		if len(echo) > 0 {
			c.echoed(len(echo), messages, nil)
		}
		switch {
		case c.in.r == c.in.w && n < streamRead:
			c.flow = nil
			return
		case c.in.r == c.in.w:
			// A stream, not a message: its goroutine serves it from here,
			// where the write timeout watches what the client reads from
			// the first echo that waits. Echoed in place, an echo would
			// wait only once the kernel's send buffer was full of bytes
			// the client never read, and the timeout would count from
			// then, up to a second late.
			c.flow = nil
			l.handoff(c, resumption{})
			return
		}
	}
	// An echo the socket would not take whole, or an unfinished message:
	// the connection's goroutine finishes the one and keeps the other.
	buf, rest := c.leftovers(c.in.r - len(echo) + written)
	c.flow = nil // before its goroutine starts
	l.handoff(c, resumption{buf: buf, n: rest, owed: len(echo) - written, echoed: written, messages: messages})
}

// handoff takes c out of the loop and resumes it on a goroutine.
func (l *loop) handoff(c *conn, r resumption) {
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	l.conns[c.fd] = nil
	go c.resume(r)
}

// scan hands the connections whose idle timeout has passed to their
// goroutines, which close them, and sets when to look next.
func (l *loop) scan(now time.Time) {
	var next time.Time
	for _, c := range l.conns {
		if c == nil || c.cfg.idle <= 0 {
			continue
		}
		at := c.idle.since.Add(c.cfg.idle)
		if !now.Before(at) {
			l.handoff(c, resumption{err: os.ErrDeadlineExceeded})
			continue
		}
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	if soonest := now.Add(l.scanGap); !next.IsZero() && next.Before(soonest) {
		next = soonest
	}
	l.nextScan = next
}

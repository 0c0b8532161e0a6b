package tcpecho

import (
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// parking is a server's event loops: one per CPU, each an epoll instance
// that watches the connections parked in it and a goroutine that waits
// on it. A connection parks when it has nothing to read and nothing to
// write; it then holds no goroutine and no buffer, only its conn and the
// kernel's socket. When its client sends, the loop reads into a buffer
// of its own, echoes every whole message and, if that is all there was to
// do, leaves the connection parked: a busy ping-pong connection costs a
// read and a write per message, as in any event loop, and never a
// goroutine switch. Anything longer (an unfinished line, an echo the
// client is slow to take, the end of the stream, an error, the idle
// timeout, a shutdown) is handed to a goroutine of the connection's own,
// which runs the echo as before until it parks again.
type parking struct {
	mu      sync.Mutex
	loops   []*loop
	stopped bool
}

// loop is one epoll instance and what is parked in it.
type loop struct {
	srv    *Server
	epfd   int
	wakefd int // an eventfd: wakes the loop to stop or to look at its timers
	done   chan struct{}

	stopping atomic.Bool // asked to stop: hand everything off and end

	// wakeMu guards the eventfd's closing: once closed, its number may be
	// another file's, and must not be written to. It is apart from mu,
	// which the loop holds while it serves (and an observer may hold it
	// up), so that asking it to stop never waits.
	wakeMu sync.Mutex

	mu     sync.Mutex
	conns  []*conn // parked connections, by file descriptor
	closed bool    // ended: its descriptors are closed
	buf    []byte  // what the loop reads into

	// The idle timeout of parked connections: when the loop looks next,
	// and how often at most (a fraction of the shortest idle timeout, so
	// that looking stays linear in the connections however their
	// deadlines are spread).
	nextScan time.Time
	scanGap  time.Duration
}

// wakeKey is the eventfd's key in the epoll set: no socket has it.
const wakeKey = -1

// maxEvents is how many ready connections one wait returns at most.
const maxEvents = 256

// minScanGap is the least time between two looks at the idle timeouts.
const minScanGap = time.Millisecond

// park registers c with one of the server's loops and reports whether it
// did: not once the server is closing, nor if the system refuses. After
// it returns true, c belongs to the loop.
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
		for range runtime.GOMAXPROCS(0) {
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
// end. Nothing parks afterwards. It does not wait: a loop may be busy in
// an observer.
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

// park adds c to the loop, unless the loop is closed. The connection
// leaves Go's own poller: it keeps a duplicate of its descriptor and
// closes its net.Conn, so that only the loop is woken when its client
// sends (both, woken for every message, cost a ping-pong a tenth of its
// speed).
func (l *loop) park(c *conn) bool {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false
	}
	fd, err := unix.FcntlInt(uintptr(c.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		l.mu.Unlock()
		return false // out of descriptors, say: wait on the goroutine
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(fd)
		l.mu.Unlock()
		return false
	}
	c.mu.Lock()
	raw := c.raw
	c.raw, c.rwc = nil, nil
	c.mu.Unlock()
	raw.Close() // the duplicate keeps the socket open
	c.fd = fd
	if fd >= len(l.conns) {
		l.conns = append(l.conns, make([]*conn, fd+1-len(l.conns)+len(l.conns)/2)...)
	}
	l.conns[fd] = c
	wake := false
	if idle := c.cfg.idle; idle > 0 {
		gap := max(idle/64, minScanGap)
		if l.scanGap == 0 || gap < l.scanGap {
			l.scanGap = gap
		}
		if at := c.idle.since.Add(idle); l.nextScan.IsZero() || at.Before(l.nextScan) {
			l.nextScan, wake = at, true
		}
	}
	if wake {
		l.wake() // it may be waiting with no deadline, or a later one
	}
	l.mu.Unlock()
	return true
}

// unpark gives a connection the loop handed over a net.Conn again, made
// from its descriptor, for its goroutine to wait on. One the server closed
// abruptly meanwhile is closed at once.
func (c *conn) unpark() error {
	if c.raw != nil {
		return nil // never parked: only this goroutine sets raw to nil
	}
	f := os.NewFile(uintptr(c.fd), "tcp")
	nc, err := net.FileConn(f) // a duplicate, in Go's poller
	f.Close()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv.abrupt.Load() {
		nc.Close()
		return ErrServerClosed
	}
	c.raw, c.rwc = nc, nc
	c.fd, _ = socketFd(nc)
	c.idle.at = time.Time{} // the new net.Conn has no deadline yet
	if c.srv.closing.Begun() {
		// Shutdown found no net.Conn to wake: wake this one.
		nc.SetReadDeadline(aLongTimeAgo)
	}
	return nil
}

// wake makes the loop's wait return, if it has not ended.
func (l *loop) wake() {
	l.wakeMu.Lock()
	defer l.wakeMu.Unlock()
	if l.wakefd >= 0 {
		var one = [8]byte{1}
		unix.Write(l.wakefd, one[:])
	}
}

// requestStop asks the loop to hand off its connections and end. It does
// not wait for the loop.
func (l *loop) requestStop() {
	l.stopping.Store(true)
	l.wake()
}

// end hands every connection parked in the loop to a goroutine of its own
// and closes the loop's descriptors; l.mu must be held. why is the read
// error the connections resume with.
func (l *loop) end(why error) {
	l.closed = true
	for _, c := range l.conns {
		if c != nil {
			l.handoff(c, resumption{err: why})
		}
	}
	unix.Close(l.epfd)
	l.wakeMu.Lock()
	unix.Close(l.wakefd)
	l.wakefd = -1
	l.wakeMu.Unlock()
}

// run waits for parked connections to be readable and serves them, until
// the loop is closed.
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
	for {
		n, err := unix.EpollWait(l.epfd, events, timeout)
		l.mu.Lock()
		if err != nil && err != unix.EINTR {
			l.srv.logger().Error("event loop failed: its connections are handed to goroutines", "err", os.NewSyscallError("epoll_wait", err))
			l.end(nil)
			l.mu.Unlock()
			return
		}
		if l.stopping.Load() {
			// As Shutdown wakes a waiting connection: its read's deadline
			// has passed, and the server is closing.
			l.end(os.ErrDeadlineExceeded)
			l.mu.Unlock()
			return
		}
		// One clock reading a batch: it is the arrival time of every
		// message in it, for the idle timeout (a reading costs some 80 ns
		// on a virtual machine: as much as echoing a message).
		now := time.Now()
		for _, ev := range events[:max(n, 0)] {
			if ev.Fd == wakeKey {
				var b [8]byte
				unix.Read(l.wakefd, b[:])
				continue
			}
			if c := l.conns[ev.Fd]; c != nil {
				l.ready(c, now)
			}
		}
		if !l.nextScan.IsZero() && !now.Before(l.nextScan) {
			l.scan(now)
		}
		timeout = l.timeout(now)
		l.mu.Unlock()
	}
}

// timeout is how long the next wait may take, in milliseconds: until the
// next look at the idle timeouts, or for ever. l.mu must be held.
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
// reset): one read, every whole message echoed in one write. If that
// leaves nothing pending, the connection stays parked; otherwise it is
// handed to a goroutine with what is left to do.
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
	s := echoLoop{c: c, obs: c.srv.Observer, remote: c.remote, buf: l.buf, now: now}
	s.arrived(n)
	start, messages := s.take()
	echo := l.buf[start:s.r]
	written := writeFd(c.fd, echo)
	if written == len(echo) {
		if len(echo) > 0 {
			s.wrote(len(echo), messages, nil)
		}
		if s.r == s.w {
			return
		}
	}
	// An echo the socket would not take whole, or an unfinished message:
	// the connection's goroutine finishes the one and keeps the other,
	// in a buffer of the connection's own.
	rest := l.buf[start+written : s.w]
	buf := getBuffer(max(c.cfg.size, len(rest)))
	copy(buf, rest)
	l.handoff(c, resumption{buf: buf, owed: len(echo) - written, w: len(rest), echoed: written, messages: messages})
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

// readFd reads from a socket that does not block.
func readFd(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		if err != unix.EINTR {
			return n, err
		}
	}
}

// writeFd writes as much of p as the socket takes without waiting and
// returns how much that was.
func writeFd(fd int, p []byte) int {
	written := 0
	for written < len(p) {
		n, err := unix.Write(fd, p[written:])
		if n > 0 {
			written += n
		}
		if err != nil && err != unix.EINTR {
			break
		}
	}
	return written
}

// socketFd returns c's descriptor for parking, if it can park: a TCP
// connection's.
func socketFd(c net.Conn) (int, bool) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return 0, false
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return 0, false
	}
	fd := -1
	if raw.Control(func(s uintptr) { fd = int(s) }) != nil || fd < 0 {
		return 0, false
	}
	return fd, true
}

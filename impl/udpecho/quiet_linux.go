package udpecho

import (
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"

	"github.com/echospec/echo/internal/lifecycle"
)

// A quiet socket is a UDP socket Serve reads outside Go's poller, as a C
// echo does: its goroutine sleeps in one recvmmsg until a datagram comes
// and answers with one sendmmsg. Through the poller every datagram cost a
// read that found nothing, a park, the runtime's epoll_wait, a wake-up
// and the read again: more than twice the CPU a datagram of the C batch
// echo (make bench).
//
// The socket is read through a duplicate of its descriptor in blocking
// mode, and Serve's net.UDPConn is closed: left open, it stays in the
// poller's epoll set, and every datagram woke the poller as well, for
// nothing. Nothing is held while the goroutine sleeps: a system call that
// waits gives its processor back to the scheduler.
//
// It wakes when a datagram comes and when the server closes (a shutdown
// of the socket makes the wait return), and it gives its processor up
// every lifecycle.YieldEvery so that the scheduler never has to take it.
type quietSocket struct {
	udp *net.UDPConn
	rc  quietRaw
	// mu guards fd against the wake-ups: a shutdown of a descriptor that
	// was closed and reused would be another socket's.
	mu    sync.Mutex
	fd    int // the duplicate; -1 once closed
	yield lifecycle.Yielder
}

// readFlags are the flags of a batch read: return with the first datagram
// and what is already queued behind it, rather than wait for a full batch.
const readFlags = unix.MSG_WAITFORONE

// newQuietSocket takes udp out of the poller and closes it, or returns
// nil, udp untouched, if the system refuses (Serve then reads through the
// poller).
func newQuietSocket(udp *net.UDPConn) *quietSocket {
	rc, err := udp.SyscallConn()
	if err != nil {
		return nil
	}
	fd := -1
	err = rc.Control(func(s uintptr) {
		d, err := unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return
		}
		if unix.SetNonblock(d, false) != nil {
			unix.Close(d)
			return
		}
		fd = d
	})
	if err != nil || fd < 0 {
		return nil
	}
	udp.Close() // the duplicate keeps the socket open
	q := &quietSocket{udp: udp, fd: fd}
	q.rc = quietRaw{q: q, fd: fd}
	return q
}

// batchConn returns the socket's batch reader and writer, through
// golang.org/x/net as for any UDP socket.
func (q *quietSocket) batchConn() batchConn {
	c := &quietConn{UDPConn: q.udp, q: q}
	if a, ok := q.udp.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		return ipv4.NewPacketConn(c)
	}
	return ipv6.NewPacketConn(c)
}

// wake makes a wait return for good: reads then find the end of the
// socket. hard also ends a send that waits for room (Close); otherwise
// the answer being sent goes out (Shutdown).
func (q *quietSocket) wake(hard bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fd < 0 {
		return
	}
	how := unix.SHUT_RD
	if hard {
		how = unix.SHUT_RDWR
	}
	unix.Shutdown(q.fd, how) // ENOTCONN for a socket with no peer, and it wakes it all the same
}

// close closes the duplicate; Serve closes its net.UDPConn.
func (q *quietSocket) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fd >= 0 {
		unix.Close(q.fd)
		q.fd = -1
	}
}

// quietConn is the net.UDPConn as golang.org/x/net sees it, with the
// duplicate's raw connection instead of the poller's.
type quietConn struct {
	*net.UDPConn
	q *quietSocket
}

func (c *quietConn) SyscallConn() (syscall.RawConn, error) { return &c.q.rc, nil }

// quietRaw runs golang.org/x/net's system calls on the duplicate, where
// they wait in the kernel rather than in the poller.
type quietRaw struct {
	q  *quietSocket
	fd int // only Serve's goroutine uses it, and closes it after its last use
}

func (r *quietRaw) Control(f func(fd uintptr)) error {
	f(uintptr(r.fd))
	return nil
}

// Read calls f, which waits in the kernel until it is done. f returns
// false only if the socket had nothing after all (EAGAIN, which a
// blocking socket without a timeout does not return); it is called again.
func (r *quietRaw) Read(f func(fd uintptr) bool) error {
	r.q.yield.Look(time.Now())
	for done := false; !done; {
		done = f(uintptr(r.fd))
	}
	return nil
}

// Write calls f, which waits in the kernel for room, until it is done.
func (r *quietRaw) Write(f func(fd uintptr) bool) error {
	for done := false; !done; {
		done = f(uintptr(r.fd))
	}
	return nil
}

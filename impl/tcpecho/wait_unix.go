//go:build unix

package tcpecho

import (
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// readWaiter reads from a connection that has nothing pending, taking a
// buffer only once there is something to read, so that a connection
// waiting for its client holds no buffer.
type readWaiter struct {
	raw  syscall.RawConn
	fn   func(fd uintptr) bool // made once: a closure per read would allocate
	peek [1]byte

	// One read's state, for fn.
	first bool
	size  int
	buf   []byte
	n     int
	err   error
}

// bind makes w wait on c.
func (w *readWaiter) bind(c net.Conn) { w.raw = rawConn(c) }

// unbound is w as a pool keeps it: its closure, made once, and nothing of
// a connection.
func (w *readWaiter) unbound() readWaiter { return readWaiter{fn: w.fn} }

// rawConn returns c's raw connection, or nil where it has none (a
// connection that is not a socket, as in the fuzz tests).
func rawConn(c net.Conn) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

func (w *readWaiter) ok() bool { return w.raw != nil }

// read waits until the connection has data, its end or an error, then
// reads into a buffer of at least size bytes from the pool. As a plain
// Read, it takes two system calls when it has to wait: a look that finds
// nothing, and the read once the poller says there is something.
func (w *readWaiter) read(size int) ([]byte, int, error) {
	if w.fn == nil {
		w.fn = w.attempt
	}
	w.first, w.size, w.buf, w.n, w.err = true, size, nil, 0, nil
	if err := w.raw.Read(w.fn); err != nil {
		putBuffer(w.buf)
		return nil, 0, err // the read deadline passed, or the connection closed
	}
	if w.err != nil {
		return w.buf, 0, w.err
	}
	return w.buf, w.n, nil
}

// attempt is called by the poller: false means wait for readiness and call
// again.
func (w *readWaiter) attempt(fd uintptr) bool {
	if w.first {
		w.first = false
		// A look without a buffer: has anything arrived since the last
		// read? If not, wait; the poller only reports what comes next.
		switch _, _, err := syscall.Recvfrom(int(fd), w.peek[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT); err {
		case nil:
		case syscall.EAGAIN:
			return false
		default:
			// The look took the error: a reset that came before anything
			// else is reported once, and the read after it would say
			// only "end of stream".
			w.err = os.NewSyscallError("read", err)
			return true
		}
	}
	if w.buf == nil {
		w.buf = getBuffer(w.size)
	}
	n, err := syscall.Read(int(fd), w.buf)
	switch {
	case err == syscall.EAGAIN:
		return false
	case err != nil:
		w.err = os.NewSyscallError("read", err)
	case n == 0:
		w.err = io.EOF
	default:
		w.n = n
	}
	return true
}

// readNow reads what the kernel already holds, without waiting: 0 bytes
// when there is nothing. Shutdown uses it so that bytes a client sent
// before the shutdown are echoed, not dropped with the connection.
func (w *readWaiter) readNow(c net.Conn, p []byte) (int, error) {
	if w.raw == nil {
		return 0, nil
	}
	// RawConn.Read refuses to run once the read deadline has passed, and
	// Shutdown set it in the past to wake this connection.
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return 0, nil
	}
	var n int
	var rerr error
	err := w.raw.Read(func(fd uintptr) bool {
		n, rerr = syscall.Read(int(fd), p)
		return true // never wait for more
	})
	switch {
	case err != nil:
		return 0, err
	case rerr == syscall.EAGAIN, rerr == syscall.EINTR:
		return 0, nil
	case rerr != nil:
		return 0, os.NewSyscallError("read", rerr)
	}
	return n, nil
}

// rawWriter writes echoes through the raw connection, so that it can act
// the moment a write has to wait for the client, and look at what the
// client has acknowledged.
type rawWriter struct {
	raw    syscall.RawConn
	fn     func(fd uintptr) bool // made once: a closure per write would allocate
	look   func(fd uintptr)
	onWait func() // called once per write that has to wait

	// One write's state, for fn.
	p      []byte
	n      int
	err    error
	waited bool

	// One look's result, for look.
	edge   uint64
	edgeOK bool
}

// bind makes w write to the connection r waits on, calling onWait once
// per write that has to wait.
func (w *rawWriter) bind(r *readWaiter, onWait func()) { w.raw, w.onWait = r.raw, onWait }

// unbound is w as a pool keeps it: its closures, and nothing of a
// connection.
func (w *rawWriter) unbound() rawWriter { return rawWriter{fn: w.fn, look: w.look} }

func (w *rawWriter) ok() bool { return w.raw != nil }

// seesAcks tells whether acked can tell what the client acknowledged.
func (w *rawWriter) seesAcks() bool { return w.raw != nil && canSeeAcks }

// windowEdge returns the right edge of the window the client offers: what
// it acknowledged in all plus the room it offers for more (see
// windowEdge on Linux). It moves when the client takes bytes.
func (w *rawWriter) windowEdge() (uint64, bool) {
	if w.look == nil {
		w.look = w.lookAtWindow
	}
	w.edgeOK = false
	if err := w.raw.Control(w.look); err != nil {
		return 0, false
	}
	return w.edge, w.edgeOK
}

func (w *rawWriter) lookAtWindow(fd uintptr) { w.edge, w.edgeOK = windowEdge(fd) }

// write writes p, waiting for the client as needed, until it is all
// written, the write deadline passes or the connection fails. It returns
// how much it wrote.
func (w *rawWriter) write(p []byte) (int, error) {
	if w.fn == nil {
		w.fn = w.attempt
	}
	w.p, w.n, w.err, w.waited = p, 0, nil, false
	err := w.raw.Write(w.fn)
	w.p = nil
	if err == nil {
		err = w.err
	}
	return w.n, err
}

// attempt is called by the poller: false means wait until the socket can
// take more and call again.
func (w *rawWriter) attempt(fd uintptr) bool {
	for w.n < len(w.p) {
		n, err := syscall.Write(int(fd), w.p[w.n:])
		if n > 0 {
			w.n += n
		}
		switch err {
		case nil:
		case syscall.EINTR:
		case syscall.EAGAIN:
			if !w.waited && w.onWait != nil {
				w.waited = true
				w.onWait()
			}
			return false
		default:
			w.err = os.NewSyscallError("write", err)
			return true
		}
	}
	return true
}

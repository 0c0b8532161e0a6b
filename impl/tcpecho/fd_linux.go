package tcpecho

import (
	"errors"
	"net"
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A parked connection's descriptor: taken out of Go's poller to park,
// given back to it to resume, and read and written by the loop without
// waiting.

// unpark gives a connection the loop handed over a net.Conn again, made
// from its descriptor, for its goroutine to wait on. One the server closed
// abruptly meanwhile is closed at once. It fails, out of descriptors say,
// with the connection's own descriptor open still, to try again: the
// os.File net.FileConn duplicates is a duplicate of its own, as an
// os.File closes its descriptor when it is closed or collected.
func (c *conn) unpark() error {
	if c.raw != nil {
		return nil // never parked: only this goroutine sets raw to nil
	}
	dup, err := unix.FcntlInt(uintptr(c.fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	f := os.NewFile(uintptr(dup), "tcp")
	nc, err := net.FileConn(f) // a duplicate, in Go's poller
	f.Close()
	if err != nil {
		return err
	}
	unix.Close(c.fd)
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

// readFd reads from a socket that does not block.
func readFd(fd int, p []byte) (int, error) {
	for {
		n, err := rawRead(fd, p)
		if !errors.Is(err, unix.EINTR) {
			return n, err
		}
	}
}

// writeFd writes as much of p as the socket takes without waiting and
// returns how much that was.
func writeFd(fd int, p []byte) int {
	written := 0
	for written < len(p) {
		n, err := rawWrite(fd, p[written:])
		if n > 0 {
			written += n
		}
		if err != nil && !errors.Is(err, unix.EINTR) {
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

// rawRead and rawWrite are read and write as raw system calls: on a socket
// that does not block they return at once, so the scheduler has nothing
// to do around them (unix.Read and unix.Write tell it of every call, and
// a loop makes two a round trip).
func rawRead(fd int, p []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	n, _, errno := unix.RawSyscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)))
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

//go:build unix

package tcpecho

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// readNow reads what the kernel already holds for c without waiting: 0
// bytes when there is nothing. Shutdown uses it so that bytes a client sent
// before the shutdown are echoed, not dropped with the connection.
func readNow(c net.Conn, p []byte) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, nil
	}
	// RawConn.Read refuses to run once the read deadline has passed, and
	// Shutdown set it in the past to wake this connection.
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return 0, nil
	}
	var n int
	var rerr error
	err = raw.Read(func(fd uintptr) bool {
		n, rerr = syscall.Read(int(fd), p)
		return true // never wait for more
	})
	switch {
	case err != nil:
		return 0, err
	case errors.Is(rerr, syscall.EAGAIN), errors.Is(rerr, syscall.EINTR):
		return 0, nil
	case rerr != nil:
		return 0, rerr
	}
	return n, nil
}

// Package testpeer gives tests the servers they check clients against: a
// real one on a free port, one that answers a single connection as the
// test says, and an address where nothing listens.
package testpeer

import (
	"net"
	"sync"
	"testing"
)

// OneConn listens on a free loopback port, hands the first connection to
// handle and closes it when handle returns. It returns the address. The
// listener is closed, and handle waited for, when the test ends.
func OneConn(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var done sync.WaitGroup
	done.Add(1)
	t.Cleanup(func() {
		l.Close()
		done.Wait()
	})
	go func() {
		defer done.Done()
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		handle(c)
	}()
	return l.Addr().String()
}

// Refusing returns a loopback address where nothing listens, so that a
// connection to it is refused at once.
func Refusing(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// A Server is what Serve starts: tcpecho.Server, or any server with its
// Serve and Close.
type Server interface {
	Serve(net.Listener) error
	Close() error
}

// Serve starts s on a free loopback port and returns the address once it
// is listening; s is closed when the test ends.
func Serve(t testing.TB, s Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		s.Serve(l)
	}()
	t.Cleanup(func() {
		s.Close()
		<-served
	})
	return l.Addr().String()
}

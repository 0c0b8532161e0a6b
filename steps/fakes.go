package steps

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"sync"
)

// fakeServer is a TCP server that is not ours: a broken or silent echo
// server for the client to meet, on a real loopback socket.
type fakeServer struct {
	l     net.Listener
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// startFake serves each connection with handle until Close.
func startFake(handle func(net.Conn)) (*fakeServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for a fake server: %w", err)
	}
	f := &fakeServer{l: l, conns: make(map[net.Conn]struct{})}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conns[c] = struct{}{}
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return f, nil
}

func (f *fakeServer) addr() string { return f.l.Addr().String() }

// Close stops the server and waits for its goroutines.
func (f *fakeServer) Close() {
	f.l.Close()
	f.mu.Lock()
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// answerEveryLine reads lines and answers each with reply.
func answerEveryLine(reply []byte) func(net.Conn) {
	return func(c net.Conn) {
		sc := bufio.NewScanner(c)
		for sc.Scan() {
			if _, err := c.Write(reply); err != nil {
				return
			}
		}
	}
}

// neverAnswer reads everything and answers nothing.
func neverAnswer(c net.Conn) { io.Copy(io.Discard, c) }

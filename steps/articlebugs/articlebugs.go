// Package articlebugs serves the echo servers of the article this project
// grew from, bugs and all, so that tests can show the specification
// catches each bug. Nothing here is for use: these servers are wrong on
// purpose.
//
// One bug is left out: the article's line server panics when a client
// leaves, which would end the test process these servers run in. The
// process scenarios catch that one with the real binaries instead.
package articlebugs

import (
	"bufio"
	"errors"
	"fmt"
	"net"
)

// Bug names one of the article's broken servers.
type Bug string

// The article's bugs.
const (
	// StaleBuffer is the first TCP server: it reads into a 4-byte buffer
	// and writes the whole buffer back, so "abc" comes back as "abc\x00"
	// and "abcdefghij" as "abcdefghijgh".
	StaleBuffer Bug = "stale-buffer"
	// DropNewline is the line server: bufio's ReadLine drops the newline,
	// so "hello\nworld\n" comes back as "helloworld".
	DropNewline Bug = "drop-newline"
	// PadDatagram is the UDP server: it reads into a 1024-byte buffer and
	// sends the whole buffer back, so "hi" comes back as 1024 bytes.
	PadDatagram Bug = "pad-datagram"
)

// Bugs lists every bug, TCP ones first.
var Bugs = []Bug{StaleBuffer, DropNewline, PadDatagram}

// UDP tells whether the bug's server is a UDP one.
func (b Bug) UDP() bool { return b == PadDatagram }

// Serve serves bug on l (TCP) or pc (UDP), whichever the bug needs, until
// it is closed.
func Serve(bug Bug, l net.Listener, pc net.PacketConn) error {
	switch bug {
	case StaleBuffer, DropNewline:
		return serveTCP(l, bug)
	case PadDatagram:
		return padDatagrams(pc)
	}
	return fmt.Errorf("no bug called %q", bug)
}

// HandleConn serves one TCP connection with a TCP bug's server, until the
// client leaves.
func HandleConn(bug Bug, c net.Conn) {
	switch bug {
	case StaleBuffer:
		staleBuffer(c)
	case DropNewline:
		dropNewline(c)
	}
}

func serveTCP(l net.Listener, bug Bug) error {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			HandleConn(bug, c)
		}()
	}
}

func staleBuffer(c net.Conn) {
	var body [4]byte
	for {
		if _, err := c.Read(body[:]); err != nil {
			return
		}
		if _, err := c.Write(body[:]); err != nil {
			return
		}
	}
}

func dropNewline(c net.Conn) {
	rb := bufio.NewReader(c)
	for {
		body, _, err := rb.ReadLine()
		if err != nil {
			return // the article panics here
		}
		if _, err := c.Write(body); err != nil {
			return
		}
	}
}

func padDatagrams(pc net.PacketConn) error {
	for {
		msg := make([]byte, 1024)
		_, addr, err := pc.ReadFrom(msg)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		pc.WriteTo(msg, addr)
	}
}

package steps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/echospec/echo/impl/tcpecho"
)

// peer is a client that speaks raw TCP, so that a scenario controls every
// byte and every write, and sees every byte that comes back.
type peer struct {
	conn      *net.TCPConn
	connected time.Time   // when it began to connect
	sent      int         // bytes written so far
	line      []byte      // the last generated line, for "that line"
	stream    *stream     // the whole exchange, for "exactly what it sent"
	prompt    *promptEcho // bytes sent with the connection left open
	flood     *flood      // bytes sent by a client that never reads
	// lastRead gives when the client's last read began and returned,
	// once it has stopped reading.
	lastRead <-chan lastRead
	// sendEnded gives when and why its sending failed, once it has.
	sendEnded <-chan sendEnded
}

// peer returns the named client, connecting it to the echo server first if
// it is new.
func (w *world) peer(name string) (*peer, error) {
	return w.peerWith(name, nil)
}

// peerWith is peer with a function that sets up the client's socket
// before it connects, such as its buffer sizes.
func (w *world) peerWith(name string, setup func(fd uintptr) error) (*peer, error) {
	if p, ok := w.clients.peers[name]; ok {
		return p, nil
	}
	if err := w.startServer(); err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: patience}
	if ip, ok := w.clients.sources[name]; ok {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(ip)}
	}
	if setup != nil {
		d.Control = func(_, _ string, raw syscall.RawConn) error {
			var err error
			if cerr := raw.Control(func(fd uintptr) { err = setup(fd) }); cerr != nil {
				return cerr
			}
			return err
		}
	}
	// Before the dial, not after: the server may accept, and start timing
	// the connection, before Dial returns.
	dialed := time.Now()
	c, err := d.Dial("tcp", w.server.addr)
	if err != nil {
		return nil, fmt.Errorf("%s cannot connect to the echo server: %w", name, err)
	}
	p := &peer{conn: c.(*net.TCPConn), connected: dialed}
	w.clients.peers[name] = p
	return p, nil
}

// clientAddr returns the address a named client connects from, which the
// server sees as the connection's remote address, connecting it first if
// it is new.
func (w *world) clientAddr(name string) (string, error) {
	p, err := w.peer(clientName(name))
	if err != nil {
		return "", err
	}
	return p.local(), nil
}

// connected returns the named client once the server has accepted its
// connection.
func (w *world) connected(ctx context.Context, name string) (*peer, error) {
	p, err := w.peer(name)
	if err != nil {
		return nil, err
	}
	local := p.local()
	_, err = w.server.events.waitFor(ctx, name+"'s connection to be accepted", func(events []event) bool {
		for _, e := range events {
			if e.kind == tcpecho.ConnOpened && e.remote == local {
				return true
			}
		}
		return false
	})
	return p, err
}

func (p *peer) local() string { return p.conn.LocalAddr().String() }

// send writes b in one write.
func (p *peer) send(b []byte) error {
	p.conn.SetWriteDeadline(time.Now().Add(patience))
	if _, err := p.conn.Write(b); err != nil {
		return fmt.Errorf("send %s: %w", show(b), err)
	}
	p.sent += len(b)
	return nil
}

// serverHasRead waits until the server has read everything p has sent.
func (w *world) serverHasRead(ctx context.Context, p *peer) error {
	local, want := p.local(), p.sent
	_, err := w.server.events.waitFor(ctx, fmt.Sprintf("the server to read %d bytes from %s", want, local), func(events []event) bool {
		n := 0
		for _, e := range events {
			if e.kind == tcpecho.DataRead && e.remote == local {
				n += e.bytes
			}
		}
		return n >= want
	})
	return err
}

// receive reads exactly n bytes.
func (p *peer) receive(n int) ([]byte, error) {
	p.conn.SetReadDeadline(time.Now().Add(patience))
	got := make([]byte, n)
	k, err := io.ReadFull(p.conn, got)
	if err != nil {
		return got[:k], fmt.Errorf("got %d of %d bytes, %s, then: %w", k, n, show(got[:k]), err)
	}
	return got, nil
}

// receiveAll reads until the server closes its side, reading at most limit
// bytes, so that a server that sends too much is caught rather than read
// forever.
func (p *peer) receiveAll(limit int) ([]byte, error) {
	p.conn.SetReadDeadline(time.Now().Add(patience))
	got, err := io.ReadAll(io.LimitReader(p.conn, int64(limit)+1))
	if err != nil {
		return got, fmt.Errorf("after %d bytes, %s: %w", len(got), show(got), err)
	}
	return got, nil
}

// exchange sends b and checks that exactly b comes back.
func (p *peer) exchange(b []byte) error {
	if err := p.send(b); err != nil {
		return err
	}
	got, err := p.receive(len(b))
	if err != nil {
		return err
	}
	if !bytes.Equal(got, b) {
		return fmt.Errorf("sent %s, got back %s", show(b), show(got))
	}
	return nil
}

// reset ends the connection with a TCP reset instead of the usual close,
// as a crashed program's connection ends.
func (p *peer) reset() error {
	if err := p.conn.SetLinger(0); err != nil {
		return fmt.Errorf("set linger: %w", err)
	}
	return p.conn.Close()
}

// errNothing reports an expectation about a client that never spoke.
var errNothing = errors.New("that client has not sent anything")

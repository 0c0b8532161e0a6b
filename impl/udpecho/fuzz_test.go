package udpecho

import (
	"bytes"
	"log/slog"
	"net"
	"net/netip"
	"testing"
	"time"
)

// scriptedPacketConn is a net.PacketConn that delivers one datagram and
// then reports itself closed; what is written to it is kept.
type scriptedPacketConn struct {
	datagram []byte
	from     net.Addr
	read     bool
	wrote    []byte
	to       net.Addr
	writes   int
}

func (c *scriptedPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	if c.read {
		return 0, nil, net.ErrClosed
	}
	c.read = true
	return copy(p, c.datagram), c.from, nil
}

func (c *scriptedPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	c.wrote, c.to = bytes.Clone(p), addr
	c.writes++
	return len(p), nil
}

func (c *scriptedPacketConn) Close() error                     { return nil }
func (c *scriptedPacketConn) LocalAddr() net.Addr              { return &net.UDPAddr{Port: 7} }
func (c *scriptedPacketConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptedPacketConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptedPacketConn) SetWriteDeadline(time.Time) error { return nil }

func FuzzUDPEcho(f *testing.F) {
	f.Add([]byte("hi"), uint16(40000), false)
	f.Add([]byte{}, uint16(7), false)
	f.Add([]byte("loop?"), uint16(2049), true)
	f.Add(bytes.Repeat([]byte{0xff}, 1025), uint16(1023), false)
	f.Fuzz(func(t *testing.T, payload []byte, port uint16, guardOff bool) {
		payload = payload[:min(len(payload), maxDatagram)] // no datagram is longer
		src := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
		pc := &scriptedPacketConn{datagram: payload, from: net.UDPAddrFromAddrPort(src)}
		var refused bool
		s := &Server{DisableGuard: guardOff, Logger: slog.New(slog.DiscardHandler), Observer: ObserverFunc(func(e Event) {
			refused = refused || e.Kind == Refused
		})}
		s.Serve(pc)

		guarded := !guardOff && (port < 1024 || port == 2049)
		switch {
		case guarded && (pc.writes != 0 || !refused):
			t.Fatalf("a datagram from port %d was answered (%d writes) or not reported refused (%v)", port, pc.writes, refused)
		case !guarded && pc.writes != 1:
			t.Fatalf("a datagram from port %d got %d answers, not 1", port, pc.writes)
		case !guarded && !bytes.Equal(pc.wrote, payload):
			t.Fatalf("answered %d bytes %q to a datagram of %d bytes %q", len(pc.wrote), pc.wrote, len(payload), payload)
		case !guarded && pc.to.String() != src.String():
			t.Fatalf("answered %v, not the sender %v", pc.to, src)
		}
	})
}

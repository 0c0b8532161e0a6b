package tcpecho

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// loopConn is a net.Conn that serves the same chunk of input n times, then
// the end of the stream, and throws away what is written: the framing hot
// path with no network in the way.
type loopConn struct {
	noSocket
	chunk []byte
	left  int // chunks still to serve
	off   int // into the current chunk
}

func (c *loopConn) Read(p []byte) (int, error) {
	if c.left == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunk[c.off:])
	if c.off += n; c.off == len(c.chunk) {
		c.off, c.left = 0, c.left-1
	}
	return n, nil
}

func (c *loopConn) Write(p []byte) (int, error) { return len(p), nil }

// noSocket is what a connection of a test's making has of a socket:
// addresses, and deadlines and a close that do nothing.
type noSocket struct{}

func (noSocket) Close() error                     { return nil }
func (noSocket) LocalAddr() net.Addr              { return &net.TCPAddr{Port: 7} }
func (noSocket) RemoteAddr() net.Addr             { return &net.TCPAddr{Port: 40000} }
func (noSocket) SetDeadline(time.Time) error      { return nil }
func (noSocket) SetReadDeadline(time.Time) error  { return nil }
func (noSocket) SetWriteDeadline(time.Time) error { return nil }

// benchmarkFraming echoes b.N messages of 128 bytes, 32 to a chunk, and
// reports bytes and allocations per message.
func benchmarkFraming(b *testing.B, s *Server, msg []byte, obs Observer) {
	cfg, err := s.settings()
	if err != nil {
		b.Fatal(err)
	}
	chunk := bytes.Repeat(msg, 32)
	lc := &loopConn{chunk: chunk, left: max(1, b.N/32)}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	if reason := echoOver(s, &cfg, lc, obs); !errors.Is(reason, ErrClientClosed) {
		b.Fatal(reason)
	}
}

var line = append(bytes.Repeat([]byte("a"), 127), '\n')

func BenchmarkStreamFraming(b *testing.B) {
	benchmarkFraming(b, &Server{Framing: FramingStream}, line, nil)
}

func BenchmarkLineFraming(b *testing.B) {
	benchmarkFraming(b, &Server{Framing: FramingLine}, line, nil)
}

func BenchmarkFixedFraming4(b *testing.B) {
	benchmarkFraming(b, &Server{Framing: FramingFixed, Size: 4}, line, nil)
}

// The same with an observer that wants every message: the split loop.
// In the stream framing a message is one read: here a chunk of 32 lines.
func BenchmarkStreamFramingObserved(b *testing.B) {
	benchmarkFraming(b, &Server{Framing: FramingStream}, line, ObserverFunc(func(Event) {}))
}

func BenchmarkLineFramingObserved(b *testing.B) {
	benchmarkFraming(b, &Server{Framing: FramingLine}, line, ObserverFunc(func(Event) {}))
}

func BenchmarkFixedFraming4Observed(b *testing.B) {
	benchmarkFraming(b, &Server{Framing: FramingFixed, Size: 4}, line, ObserverFunc(func(Event) {}))
}

// pieceConn serves data in reads of at most piece bytes, then the end of
// the stream, and throws away what is written: a client that trickles.
type pieceConn struct {
	loopConn
	data  []byte
	piece int
}

func (c *pieceConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.piece)], c.data)
	c.data = c.data[n:]
	return n, nil
}

// benchmarkTrickle echoes 16 MiB that arrive 4 KiB a read, as one line
// (newlines false: only the last byte is a newline) or as 4 KiB lines, on
// a server whose longest line is 64 MiB, so that the long line is held
// whole. The unfinished line must be searched once, not once per read: the
// two cost about the same.
func benchmarkTrickle(b *testing.B, newlines bool, obs Observer) {
	const total, piece = 16 << 20, 4 << 10
	data := bytes.Repeat([]byte("x"), total)
	if newlines {
		for i := piece - 1; i < total; i += piece {
			data[i] = '\n'
		}
	}
	data[total-1] = '\n'
	s := &Server{Framing: FramingLine, MaxLine: 64 << 20}
	cfg, err := s.settings()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		pc := &pieceConn{data: data, piece: piece}
		if reason := echoOver(s, &cfg, pc, obs); !errors.Is(reason, ErrClientClosed) {
			b.Fatal(reason)
		}
	}
}

func BenchmarkTrickle16MiBLine(b *testing.B)        { benchmarkTrickle(b, false, nil) }
func BenchmarkTrickle16MiBIn4KiBLines(b *testing.B) { benchmarkTrickle(b, true, nil) }
func BenchmarkTrickle16MiBLineObserved(b *testing.B) {
	benchmarkTrickle(b, false, ObserverFunc(func(Event) {}))
}
func BenchmarkTrickle16MiBIn4KiBLinesObserved(b *testing.B) {
	benchmarkTrickle(b, true, ObserverFunc(func(Event) {}))
}

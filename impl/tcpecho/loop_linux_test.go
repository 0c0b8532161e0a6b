package tcpecho

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// connGoroutines counts the goroutines that are running a connection's
// echo.
func connGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "tcpecho.(*conn).run(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// eventually waits, for 5 s at most, until ok holds.
func eventually(t *testing.T, ok func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 5s: %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond) // polling a count, not synchronising with an event
	}
}

// dialEchoed connects to addr and has one line echoed.
func dialEchoed(t *testing.T, addr, line string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	echoes(t, c, line, line)
	return c
}

// echoes sends send on c and checks that want comes back, within 5 s.
func echoes(t *testing.T, c net.Conn, send, want string) {
	t.Helper()
	_, err := io.WriteString(c, send)
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
	got := make([]byte, len(want))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err, "the echo of %q", send)
	require.Equal(t, want, string(got))
}

// An idle connection, one that has sent and had its echo, or one that
// has sent nothing yet, holds no goroutine: it is parked in an event loop.
func TestIdleConnectionsHoldNoGoroutine(t *testing.T) {
	for _, f := range []Framing{FramingStream, FramingLine, FramingFixed} {
		t.Run(f.String(), func(t *testing.T) {
			addr, _ := start(t, &Server{Framing: f})
			for i := range 200 {
				if i%2 == 0 {
					dialEchoed(t, addr, "hello\n")
				} else {
					c, err := net.Dial("tcp", addr)
					require.NoError(t, err)
					t.Cleanup(func() { c.Close() })
				}
			}
			eventually(t, func() bool { return connGoroutines() == 0 }, "every idle connection parked")
			// And parked connections still echo.
			dialEchoed(t, addr, "still here\n")
		})
	}
}

// holdingHalfALine connects to a new line server, has a line echoed, then
// sends half, an unfinished line, and waits until a goroutine holds it.
func holdingHalfALine(t *testing.T, half string) net.Conn {
	t.Helper()
	addr, _ := start(t, &Server{Framing: FramingLine})
	c := dialEchoed(t, addr, "first\n")
	_, err := io.WriteString(c, half)
	require.NoError(t, err)
	eventually(t, func() bool { return connGoroutines() == 1 }, "a goroutine holds the unfinished line")
	return c
}

// A connection with half a line is not idle: it keeps its goroutine and
// its buffer until the line ends, then parks again.
func TestUnfinishedLineHoldsAGoroutineUntilItEnds(t *testing.T) {
	c := holdingHalfALine(t, "half a ")
	echoes(t, c, "line\n", "half a line\n")
	eventually(t, func() bool { return connGoroutines() == 0 }, "parked again")
}

// The idle timeout closes parked connections: the loop keeps their
// deadlines.
func TestParkedConnectionsAreClosedAfterTheIdleTimeout(t *testing.T) {
	closed := make(chan Event, 2)
	const idle = 150 * time.Millisecond
	addr, _ := start(t, &Server{IdleTimeout: idle, Observer: closedOnly(closed)})
	began := time.Now()
	silent, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer silent.Close()
	echoed := dialEchoed(t, addr, "once\n")
	for _, c := range []net.Conn{silent, echoed} {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(5*time.Second)))
		n, err := c.Read(make([]byte, 1))
		assert.Equal(t, 0, n)
		require.ErrorIs(t, err, io.EOF, "the server closed the idle connection")
	}
	assert.GreaterOrEqual(t, time.Since(began), idle)
	for range 2 {
		assert.ErrorIs(t, waitFor(t, closed).Reason, ErrIdleTimeout)
	}
}

// closedOnly tells ch of each connection's end, and of nothing else.
type closedOnly chan Event

func (ch closedOnly) Observe(e Event)     { ch <- e }
func (closedOnly) Wants(k EventKind) bool { return k == ConnClosed }

// Shutdown wakes parked connections: each echoes what its client sent
// just before, and is closed with ErrServerClosed.
func TestShutdownDrainsParkedConnections(t *testing.T) {
	closed := make(chan Event, 50)
	s := &Server{Framing: FramingLine, Observer: closedOnly(closed)}
	addr, _ := start(t, s)
	var conns []net.Conn
	for range 50 {
		conns = append(conns, dialEchoed(t, addr, "hi\n"))
	}
	eventually(t, func() bool { return connGoroutines() == 0 }, "every connection parked")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
	for _, c := range conns {
		_, err := io.ReadAll(c)
		require.NoError(t, err, "the connection ended with its stream's end")
	}
	for range 50 {
		assert.ErrorIs(t, waitFor(t, closed).Reason, ErrServerClosed)
	}
}

// An echo larger than the socket takes at once, to a client that is not
// reading yet, is finished by the connection's goroutine: nothing is
// lost or repeated.
func TestAnEchoTheLoopCannotFinishIsFinishedWhole(t *testing.T) {
	for _, f := range []Framing{FramingStream, FramingLine} {
		t.Run(f.String(), func(t *testing.T) {
			addr, _ := start(t, &Server{Framing: f})
			c := dialEchoed(t, addr, "warm\n")
			data := make([]byte, 8<<20)
			_, err := rand.Read(data)
			require.NoError(t, err)
			for i := 1000; i < len(data); i += 1000 {
				data[i] = '\n'
			}
			data[len(data)-1] = '\n'
			go func() {
				c.Write(data)
				c.(*net.TCPConn).CloseWrite()
			}()
			got, err := io.ReadAll(c)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(data, got), "the echo of 8 MiB came back byte-exact (%d bytes)", len(got))
		})
	}
}

// A client that sends again while its connection waits to park (busy a
// moment ago, on its goroutine) is not cut off by that wait's deadline
// later: here an unfinished line outlives it, and still comes back whole
// once it ends.
func TestAWaitToParkDoesNotEndALaterRead(t *testing.T) {
	c := holdingHalfALine(t, "par")
	echoes(t, c, "tial\n", "partial\n")
	// Busy just now: the goroutine waits parkGrace before it parks. Half
	// a line during that wait, and its end only after it.
	_, err := io.WriteString(c, "more")
	require.NoError(t, err)
	time.Sleep(2 * parkGrace)    // the client's pause, which is what is tested
	echoes(t, c, "\n", "more\n") // not ended by the wait's deadline
}

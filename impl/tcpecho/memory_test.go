package tcpecho

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allocated runs one connection of s over traffic and returns how many
// bytes the server allocated for it.
func allocated(t *testing.T, s *Server, traffic []byte) uint64 {
	t.Helper()
	cfg, err := s.settings()
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	pc := &pieceConn{data: traffic, piece: 1500}
	require.Equal(t, ErrClientClosed, echoOver(s, &cfg, pc, nil))
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// The largest fixed-framing message is a bound, not a buffer size: a
// server told Size 256 MiB allocates for the same traffic what one told
// 64 KiB does, not 256 MiB a read.
func TestFixedSizeIsABoundNotABuffer(t *testing.T) {
	traffic := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB in 1500-byte reads
	small := allocated(t, &Server{Framing: FramingFixed, Size: 64 << 10}, traffic)
	huge := allocated(t, &Server{Framing: FramingFixed, Size: 256 << 20}, traffic)
	assert.Less(t, huge, small+1<<20, "allocated with Size 256 MiB (%d bytes) against Size 64 KiB (%d bytes)", huge, small)
}

// MaxHeld bounds what connections hold between reads, and what they hold
// is given back when they end.
func TestHeldBytesStayWithinTheBudgetAndAreGivenBack(t *testing.T) {
	early := make(chan string, 5) // the clients whose half line was echoed early
	reads := make(chan struct{}, 5)
	s := &Server{Framing: FramingLine, MaxHeld: 2 * pooledSize, Observer: ObserverFunc(func(e Event) {
		switch e.Kind {
		case DataRead:
			reads <- struct{}{}
		case MessageReceived:
			if !bytes.HasSuffix(e.Message, []byte("\n")) {
				early <- e.Remote.String()
			}
		}
	})}
	addr, _ := start(t, s)
	conns := map[string]net.Conn{}
	lines := map[string][]byte{}
	for i := range 5 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		line := bytes.Repeat([]byte{byte('a' + i)}, 1000) // half a line each
		_, err = c.Write(line)
		require.NoError(t, err)
		conns[c.LocalAddr().String()], lines[c.LocalAddr().String()] = c, line
	}
	for range 5 {
		waitFor(t, reads)
	}
	// Two buffers fit the budget; three connections could not hold theirs.
	// Those three failed while two others held, and holders keep holding
	// until their newline comes, so the budget is full now.
	echoedEarly := map[string]bool{}
	for range 3 {
		echoedEarly[waitFor(t, early)] = true
	}
	assert.Equal(t, s.MaxHeld, s.Held(), "what five clients with half a line each make the server hold")

	for local, c := range conns {
		want := lines[local]
		if !echoedEarly[local] {
			_, err := c.Write([]byte("\n"))
			require.NoError(t, err)
			want = append(want, '\n')
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		got := make([]byte, len(want))
		_, err := io.ReadFull(c, got)
		require.NoError(t, err)
		assert.Equal(t, want, got, "what %s got back", local)
	}

	for _, c := range conns {
		c.Close()
	}
	s.Close()
	assert.Zero(t, s.Held(), "what the server holds once every connection has ended")
}

// waitFor takes the next value from ch, failing the test after a while.
func waitFor[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("waited 5s for the server")
		panic("unreachable")
	}
}

package echobench

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/impl/udpecho"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// tcpServer serves l with serve until the test ends.
func tcpServer(t *testing.T, serve func(net.Listener)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); serve(l) }()
	t.Cleanup(func() { l.Close(); <-done })
	return l.Addr().String()
}

// connServer serves each connection with handle, on a goroutine of its
// own, and closes it when handle returns; the test waits for them all.
func connServer(t *testing.T, handle func(net.Conn)) string {
	var handlers sync.WaitGroup
	t.Cleanup(handlers.Wait)
	return tcpServer(t, func(l net.Listener) {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			handlers.Add(1)
			go func() {
				defer handlers.Done()
				defer c.Close()
				handle(c)
			}()
		}
	})
}

// ours serves with our server, closing its connections when the listener
// closes.
func ours(t *testing.T, framing tcpecho.Framing) string {
	s := &tcpecho.Server{Framing: framing, Logger: slog.New(slog.DiscardHandler)}
	t.Cleanup(func() { s.Close() })
	return tcpServer(t, func(l net.Listener) { s.Serve(l) })
}

func TestPingPongCountsCheckedRoundTrips(t *testing.T) {
	for _, framing := range []tcpecho.Framing{tcpecho.FramingLine, tcpecho.FramingFixed} {
		addr := ours(t, framing)
		res, err := Run(context.Background(), Config{Addr: addr, Conns: 4, Line: framing == tcpecho.FramingLine, Duration: 200 * time.Millisecond}, nil)
		require.NoError(t, err)
		assert.Zero(t, res.Errors, "%v", res.FirstError)
		assert.Positive(t, res.RoundTrips)
		assert.Equal(t, res.RoundTrips*DefaultMessage, res.Bytes)
		assert.Equal(t, res.RoundTrips, res.Latency.TotalCount())
	}
}

func TestStreamChecksEveryByte(t *testing.T) {
	addr := tcpServer(t, func(l net.Listener) { BaselineTCP(l) })
	res, err := Run(context.Background(), Config{Addr: addr, Mode: Stream, Size: 8 << 20, Line: true}, nil)
	require.NoError(t, err)
	assert.Zero(t, res.Errors, "%v", res.FirstError)
	assert.Equal(t, int64(8<<20), res.Bytes)
}

// A stream is measured as a stream: the rate each way and the time to the
// first echoed byte, not as one long round trip.
func TestStreamMeasuresEachWayAndTheFirstEcho(t *testing.T) {
	addr := ours(t, tcpecho.FramingFixed)
	res, err := Run(context.Background(), Config{Addr: addr, Mode: Stream, Conns: 2, Size: 4 << 20}, nil)
	require.NoError(t, err)
	assert.Zero(t, res.Errors, "%v", res.FirstError)
	assert.Zero(t, res.RoundTrips, "a stream has no round trips")
	assert.Zero(t, res.Latency.TotalCount())
	assert.Equal(t, int64(2*4<<20), res.Sent)
	assert.Equal(t, int64(2*4<<20), res.Bytes)
	assert.Positive(t, res.SendElapsed)
	assert.LessOrEqual(t, res.SendElapsed, res.Elapsed, "the last byte is written before it comes back")
	assert.Positive(t, res.SentMBPerSec())
	assert.Equal(t, int64(2), res.FirstEcho.TotalCount(), "one first echo for each stream")
	assert.LessOrEqual(t, time.Duration(res.FirstEcho.Max())*time.Microsecond, res.Elapsed)
}

func TestAWrongEchoIsAnError(t *testing.T) {
	// A server that adds a byte to every echo, as the article's did.
	addr := connServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			c.Write(append(buf[:n], 0))
		}
	})
	for _, mode := range []string{PingPong, Stream} {
		res, err := Run(context.Background(), Config{Addr: addr, Mode: mode, Size: 1 << 20, Duration: time.Second}, nil)
		require.NoError(t, err)
		assert.Positive(t, res.Errors, mode)
		assert.ErrorIs(t, res.FirstError, ErrEchoDiffers, mode)
	}
}

func TestUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &udpecho.Server{Logger: slog.New(slog.DiscardHandler)}
	go s.Serve(pc)
	defer s.Close()
	res, err := Run(context.Background(), Config{Addr: pc.LocalAddr().String(), Proto: UDP, Conns: 2, Size: 64, Duration: 200 * time.Millisecond, Timeout: time.Second}, nil)
	require.NoError(t, err)
	assert.Zero(t, res.Errors, "%v", res.FirstError)
	assert.Positive(t, res.RoundTrips)

	// The article's server pads every answer to 1024 bytes.
	padded, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer padded.Close()
	go func() {
		buf := make([]byte, 1024)
		for {
			_, addr, err := padded.ReadFrom(buf)
			if err != nil {
				return
			}
			padded.WriteTo(buf, addr)
		}
	}()
	res, err = Run(context.Background(), Config{Addr: padded.LocalAddr().String(), Proto: UDP, Size: 64, Duration: 200 * time.Millisecond, Timeout: time.Second}, nil)
	require.NoError(t, err)
	assert.ErrorIs(t, res.FirstError, ErrEchoDiffers)
}

func TestBadConfigs(t *testing.T) {
	for _, cfg := range []Config{
		{},
		{Addr: "x:1", Proto: "sctp"},
		{Addr: "x:1", Mode: "burst"},
		{Addr: "x:1", Proto: UDP, Mode: Stream},
		{Addr: "x:1", Proto: UDP, Size: 70000},
		{Addr: "x:1", Proto: UDP, Rate: 100},
		{Addr: "x:1", Mode: Stream, Rate: 100},
		{Addr: "x:1", Rate: -1},
		{Addr: "x:1", Warmup: -time.Second},
		{Addr: "x:1", Mode: Stream, Warmup: time.Second},
		{Addr: "x:1", Proto: UDP, TLS: &tls.Config{}},
		{Addr: "x:1", ProxyHeader: 3},
	} {
		_, err := Run(context.Background(), cfg, nil)
		require.Error(t, err, "%+v", cfg)
	}
	_, err := Run(context.Background(), Config{Addr: "127.0.0.1:1"}, nil)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED, "a refused connection is reported")
}

// A Config that cannot run is ErrConfig; a service that is not there is
// not, so that a command tells a usage problem from a failure.
func TestRunTellsABadConfigFromAnAbsentService(t *testing.T) {
	_, err := Run(context.Background(), Config{Addr: "127.0.0.1:9", Proto: UDP, Mode: Stream}, nil)
	require.ErrorIs(t, err, ErrConfig)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	_, err = Run(context.Background(), Config{Addr: addr, Duration: time.Second}, nil)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrConfig)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}

// A UDP run that nothing answers ends at once with one error, instead of
// counting a failure per datagram for its whole duration.
func TestAUDPRunThatNothingAnswersEndsEarly(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := pc.LocalAddr().String()
	pc.Close()
	start := time.Now()
	_, err = Run(context.Background(), Config{Addr: closed, Proto: UDP, Duration: 10 * time.Second}, nil)
	require.ErrorIs(t, err, ErrNoService)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Less(t, time.Since(start), 5*time.Second)

	// A socket that takes datagrams and answers none: three in a row.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer silent.Close()
	_, err = Run(context.Background(), Config{Addr: silent.LocalAddr().String(), Proto: UDP, Timeout: 50 * time.Millisecond, Duration: 10 * time.Second}, nil)
	require.ErrorIs(t, err, ErrNoService)
	assert.Contains(t, err.Error(), "no echo from "+silent.LocalAddr().String()+" for 3 datagrams in a row, waiting 50ms each")
}

// Progress, once a second, carries the latencies so far.
func TestProgressCarriesTheLatenciesSoFar(t *testing.T) {
	addr := ours(t, tcpecho.FramingStream)
	var reports []Result
	res, err := Run(context.Background(), Config{Addr: addr, Rate: 500, Duration: 1500 * time.Millisecond}, func(r Result) { reports = append(reports, r) })
	require.NoError(t, err)
	require.NotEmpty(t, reports, "a report a second")
	first := reports[0]
	require.NotNil(t, first.Latency)
	assert.Positive(t, first.Latency.TotalCount())
	assert.LessOrEqual(t, first.Latency.TotalCount(), res.Latency.TotalCount())
}

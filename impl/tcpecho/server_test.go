package tcpecho

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// start serves s on a free loopback port and returns its address and what
// Serve returned, once it returns.
func start(t *testing.T, s *Server) (string, <-chan error) {
	t.Helper()
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	t.Cleanup(func() { s.Close() })
	return l.Addr().String(), served
}

// recorder is an Observer that keeps events and signals each one.
type recorder struct {
	mu     sync.Mutex
	events []Event
	ch     chan Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan Event, 1024)} }

func (r *recorder) Observe(e Event) {
	r.mu.Lock()
	e.Message = append([]byte(nil), e.Message...)
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.ch <- e
}

// next waits for the next event of kind.
func (r *recorder) next(t *testing.T, kind EventKind) Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case e := <-r.ch:
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %v event within 5s", kind)
		}
	}
}

func TestServeReturnsErrServerClosedAfterClose(t *testing.T) {
	s := &Server{}
	_, served := start(t, s)
	require.NoError(t, s.Close())
	require.ErrorIs(t, <-served, ErrServerClosed)
	assert.ErrorIs(t, s.ListenAndServe(), ErrServerClosed, "a closed server does not start again")
}

func TestServeRejectsNegativeSizes(t *testing.T) {
	for _, s := range []*Server{{Size: -1}, {MaxLine: -1}, {Framing: Framing(7)}} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		require.Error(t, s.Serve(l))
		_, err = l.Accept()
		assert.ErrorIs(t, err, net.ErrClosed, "Serve closes the listener it was given")
	}
}

func TestListenAndServeReportsAddressInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	s := &Server{Addr: l.Addr().String()}
	err = s.ListenAndServe()
	require.ErrorIs(t, err, syscall.EADDRINUSE)
	assert.Equal(t, "listen on "+l.Addr().String()+": address already in use", err.Error())
}

func TestReadyGetsTheListenerAddress(t *testing.T) {
	ready := make(chan net.Addr, 1)
	s := &Server{Addr: "127.0.0.1:0", Ready: func(a net.Addr) { ready <- a }, Logger: slog.New(slog.DiscardHandler)}
	go s.ListenAndServe()
	defer s.Close()
	select {
	case a := <-ready:
		c, err := Dial(context.Background(), a.String())
		require.NoError(t, err)
		got, err := c.Echo([]byte("ping"))
		require.NoError(t, err)
		assert.Equal(t, "ping", string(got), "the zero Dialer and Server both stream")
		require.NoError(t, c.Close())
	case <-time.After(5 * time.Second):
		t.Fatal("Ready was not called")
	}
}

func TestShutdownWaitsForABusyConnectionUntilItsContextEnds(t *testing.T) {
	// An Observer runs on the connection's goroutine, so one that holds on
	// to a message keeps that connection busy for as long as the test says.
	busy, release := make(chan struct{}), make(chan struct{})
	rec := newRecorder()
	s := &Server{Observer: ObserverFunc(func(e Event) {
		if e.Kind == MessageReceived {
			close(busy)
			<-release
		}
		rec.Observe(e)
	})}
	addr, _ := start(t, s)
	dialSending(t, addr, "hello\n")
	<-busy

	ctx, cancel := context.WithCancel(context.Background())
	shutdown := make(chan error, 1)
	go func() { shutdown <- s.Shutdown(ctx) }()
	select {
	case err := <-shutdown:
		t.Fatalf("Shutdown returned %v while a connection was busy", err)
	default:
	}
	cancel()
	close(release)
	require.ErrorIs(t, <-shutdown, context.Canceled)
	assert.ErrorIs(t, rec.next(t, ConnClosed).Reason, ErrServerClosed)
}

func TestCloseEndsConnectionsWithoutEchoingWhatTheyHold(t *testing.T) {
	rec := newRecorder()
	s := &Server{Framing: FramingLine, Observer: rec}
	addr, _ := start(t, s)
	c := dialSending(t, addr, "no newline yet")
	rec.next(t, DataRead)

	require.NoError(t, s.Close())
	require.ErrorIs(t, rec.next(t, ConnClosed).Reason, ErrServerClosed)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(c)
	assert.Empty(t, rest)
	if err != nil {
		assert.ErrorIs(t, err, syscall.ECONNRESET, "the only error may be a reset: %v", err)
	}
}

func TestNoObserverNoEvents(t *testing.T) {
	// A server without an Observer still echoes; this guards the nil checks.
	addr, _ := start(t, &Server{Framing: FramingFixed})
	c, err := (&Dialer{Framing: FramingFixed, Size: 16}).Dial(context.Background(), addr)
	require.NoError(t, err)
	got, err := c.Echo([]byte("abcdefghij"))
	require.NoError(t, err)
	assert.Equal(t, "abcdefghij", string(got))
	assert.NoError(t, c.Close())
}

func TestShutdownEchoesWhatArrivedButWasNotReadYet(t *testing.T) {
	// Hold the connection in its observer after the first line, so the
	// second arrives while nobody reads; Shutdown must still echo it.
	busy, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s := &Server{Framing: FramingLine, Observer: ObserverFunc(func(e Event) {
		if e.Kind == MessageReceived {
			once.Do(func() { close(busy); <-release })
		}
	})}
	addr, _ := start(t, s)
	c := dialSending(t, addr, "first\n")
	<-busy
	_, err := c.Write([]byte("second, unfinished"))
	require.NoError(t, err)

	// What Shutdown does first, done here so that the connection surely is
	// woken before it may read again.
	for _, conn := range s.beginClosing() {
		conn.wake()
	}
	close(release)
	require.NoError(t, s.Shutdown(context.Background()))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	require.NoError(t, err)
	assert.Equal(t, "first\nsecond, unfinished", string(got))
}

// echoOver runs the echo of s's configuration cfg over rwc, a connection
// of the test's making, on the calling goroutine, telling obs, and
// returns why it ended.
func echoOver(s *Server, cfg *connConfig, rwc net.Conn, obs Observer) error {
	c := newConn(s, cfg, rwc)
	c.observing(obs)
	return c.run(resumption{})
}

// dialSending connects to addr, closed when the test ends, and sends
// text.
func dialSending(t *testing.T, addr, text string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = c.Write([]byte(text))
	require.NoError(t, err)
	return c
}

func TestConnOpenedNamesTheAddressTheClientChose(t *testing.T) {
	for _, wildcard := range []string{"0.0.0.0:0", "[::]:0"} {
		t.Run(wildcard, func(t *testing.T) {
			opened := make(chan net.Addr, 1)
			s := &Server{Logger: slog.New(slog.DiscardHandler), Observer: ObserverFunc(func(e Event) {
				if e.Kind == ConnOpened {
					opened <- e.Local
				}
			})}
			l, err := net.Listen("tcp", wildcard)
			require.NoError(t, err)
			go s.Serve(l)
			t.Cleanup(func() { s.Close() })
			_, port, _ := net.SplitHostPort(l.Addr().String())
			c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.2", port))
			require.NoError(t, err)
			defer c.Close()
			select {
			case local := <-opened:
				require.NotNil(t, local)
				got, err := netip.ParseAddrPort(local.String())
				require.NoError(t, err)
				assert.Equal(t, "127.0.0.2:"+port, netip.AddrPortFrom(got.Addr().Unmap(), got.Port()).String())
			case <-time.After(5 * time.Second):
				t.Fatal("no conn opened event within 5 s")
			}
		})
	}
}

package udpecho

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/internal/clitest"
	"github.com/echospec/echo/internal/identity"
)

// start serves s on a free loopback port and returns its address and what
// Serve returned, once it returns.
func start(t *testing.T, s *Server) (string, <-chan error) {
	t.Helper()
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- s.Serve(pc) }()
	t.Cleanup(func() { s.Close() })
	return pc.LocalAddr().String(), served
}

func TestEchoesExactPayloads(t *testing.T) {
	addr, _ := start(t, &Server{})
	c, err := (&Dialer{Retries: 2}).Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Close()
	for _, msg := range [][]byte{[]byte("hi"), {}, make([]byte, 65507)} {
		got, err := c.Echo(msg)
		require.NoError(t, err)
		assert.Len(t, got, len(msg))
	}
}

func TestShutdownAndCloseEndServe(t *testing.T) {
	s := &Server{}
	_, served := start(t, s)
	require.NoError(t, s.Shutdown(context.Background()))
	require.ErrorIs(t, <-served, ErrServerClosed)
	require.ErrorIs(t, s.ListenAndServe(), ErrServerClosed)

	s = &Server{}
	_, served = start(t, s)
	require.NoError(t, s.Close())
	assert.ErrorIs(t, <-served, ErrServerClosed)
}

// echoOnce has a client of addr get one echo back, so that the server
// is known to be reading.
func echoOnce(t *testing.T, addr string) {
	t.Helper()
	c, err := (&Dialer{Retries: 2}).Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Close()
	got, err := c.Echo([]byte("hi"))
	require.NoError(t, err)
	require.Equal(t, "hi", string(got))
}

// A Serve waiting for a datagram (in the kernel, on Linux) is woken by
// Shutdown and by Close: neither waits for a datagram that never comes.
func TestShutdownAndCloseWakeAServeThatWaits(t *testing.T) {
	for _, stop := range []struct {
		name string
		stop func(*Server) error
	}{
		{"Shutdown", func(s *Server) error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			return s.Shutdown(ctx)
		}},
		{"Close", (*Server).Close},
	} {
		t.Run(stop.name, func(t *testing.T) {
			s := &Server{}
			addr, served := start(t, s)
			echoOnce(t, addr)
			require.NoError(t, stop.stop(s))
			require.ErrorIs(t, <-served, ErrServerClosed)
		})
	}
}

// Serve owns its socket: on Linux it reads through a descriptor of its
// own, and closing the PacketConn it was given does not stop it.
func TestServeOwnsItsSocket(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux reads outside the poller")
	}
	s := &Server{}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- s.Serve(pc) }()
	t.Cleanup(func() { s.Close() })
	echoOnce(t, pc.LocalAddr().String())
	pc.Close()
	echoOnce(t, pc.LocalAddr().String())
	require.NoError(t, s.Shutdown(context.Background()))
	require.ErrorIs(t, <-served, ErrServerClosed)
}

func TestRefusalsAreCountedAndLoggedAtABoundedRate(t *testing.T) {
	log := clitest.NewOutput()
	refused := make(chan struct{}, 100)
	s := &Server{
		Logger: slog.New(slog.NewTextHandler(log, nil)),
		Observer: ObserverFunc(func(e Event) {
			if e.Kind == Refused {
				refused <- struct{}{}
			}
		}),
	}
	addr, served := start(t, s)
	src, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2049})
	if errors.Is(err, syscall.EADDRINUSE) {
		t.Skip("port 2049 is in use on this machine")
	}
	require.NoError(t, err)
	defer src.Close()
	dst, _ := net.ResolveUDPAddr("udp", addr)
	for range 50 {
		_, err := src.WriteTo([]byte("loop?"), dst)
		require.NoError(t, err)
	}
	for range 50 {
		select {
		case <-refused:
		case <-time.After(5 * time.Second):
			t.Fatal("the server did not report 50 refusals")
		}
	}
	assert.Equal(t, uint64(50), s.Refused())
	require.NoError(t, s.Close())
	<-served
	lines := strings.Count(log.String(), "\n")
	assert.LessOrEqual(t, lines, 3, "50 refusals in well under a second make one line, and one summary at the end:\n%s", log.String())
	assert.Contains(t, log.String(), "refused_total=50")
}

func TestClientGivesUpAfterItsAttempts(t *testing.T) {
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer silent.Close()
	c, err := (&Dialer{Timeout: 20 * time.Millisecond, Retries: 1}).Dial(context.Background(), silent.LocalAddr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Echo([]byte("hello"))
	require.ErrorIs(t, err, ErrNoEcho)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	assert.True(t, strings.HasPrefix(err.Error(), "no echo from "+silent.LocalAddr().String()+" after 2 attempts"), err.Error())
}

func TestClientPassesOverRepliesThatDiffer(t *testing.T) {
	// A server with the article's bug: it pads every reply to 1024 bytes.
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer pc.Close()
	go func() {
		for {
			msg := make([]byte, 1024)
			_, src, err := pc.ReadFrom(msg)
			if err != nil {
				return
			}
			pc.WriteTo(msg, src)
		}
	}()
	c, err := (&Dialer{Timeout: 50 * time.Millisecond}).Dial(context.Background(), pc.LocalAddr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Echo([]byte("hi"))
	require.ErrorIs(t, err, ErrNoEcho)
	assert.Contains(t, err.Error(), `1 datagrams came back that differ from what was sent; the last began "hi\x00\x00`)
}

func TestClientUsesAFixedLocalPortOnlyWhenAsked(t *testing.T) {
	addr, _ := start(t, &Server{})
	a, err := Dial(context.Background(), addr)
	require.NoError(t, err)
	defer a.Close()
	b, err := Dial(context.Background(), addr)
	require.NoError(t, err)
	defer b.Close()
	assert.NotEqual(t, a.LocalAddr().String(), b.LocalAddr().String())

	fixed, err := (&Dialer{LocalAddr: a.LocalAddr().String()}).Dial(context.Background(), addr)
	if err == nil {
		fixed.Close()
	}
	require.ErrorIs(t, err, syscall.EADDRINUSE, "a fixed port in use is refused, as the article's client was")
	assert.Contains(t, fmt.Sprint(err), "send from "+a.LocalAddr().String()+": the local address is in use", "the error names the local address, not the server's")
}

// flaky is a real UDP socket whose first read fails, and whose writes of
// one payload fail: errors a server meets on one datagram and must survive.
type flaky struct {
	net.PacketConn
	reads   int
	failFor string
}

func (f *flaky) ReadFrom(p []byte) (int, net.Addr, error) {
	if f.reads++; f.reads == 1 {
		return 0, nil, &net.OpError{Op: "read", Net: "udp", Err: syscall.ENOBUFS}
	}
	return f.PacketConn.ReadFrom(p)
}

func (f *flaky) WriteTo(p []byte, addr net.Addr) (int, error) {
	if string(p) == f.failFor {
		return 0, &net.OpError{Op: "write", Net: "udp", Err: syscall.EPERM}
	}
	return f.PacketConn.WriteTo(p, addr)
}

func TestAnErrorOnOneDatagramDoesNotStopTheServer(t *testing.T) {
	failed := make(chan Event, 10)
	s := &Server{Logger: slog.New(slog.DiscardHandler), Observer: ObserverFunc(func(e Event) {
		if e.Kind == Failed {
			failed <- e
		}
	})}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	go s.Serve(&flaky{PacketConn: pc, failFor: "this one fails"})
	defer s.Close()

	c, err := (&Dialer{Timeout: 50 * time.Millisecond}).Dial(context.Background(), pc.LocalAddr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Echo([]byte("this one fails"))
	require.ErrorIs(t, err, ErrNoEcho)
	got, err := c.Echo([]byte("this one comes back"))
	require.NoError(t, err)
	assert.Equal(t, "this one comes back", string(got))

	read, write := <-failed, <-failed
	require.ErrorIs(t, read.Reason, syscall.ENOBUFS)
	require.ErrorIs(t, write.Reason, syscall.EPERM)
	assert.Equal(t, c.LocalAddr().String(), write.Source.String())
}

// A host that says nothing listens may be about to: each attempt waits its
// whole timeout anyway, and the error says what the host said.
func TestTheClientWaitsEachAttemptOutWhenRefused(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	pc.Close() // nothing listens there now
	c, err := (&Dialer{Timeout: 100 * time.Millisecond, Retries: 2}).Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Close()
	start := time.Now()
	_, err = c.Echo([]byte("hi"))
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "three attempts of 100 ms each")
	require.ErrorIs(t, err, ErrNoEcho)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Contains(t, err.Error(), "after 3 attempts, waiting 100ms each: connection refused")
}

func TestIdentityAnswersTheProbeAndEchoesEverythingElse(t *testing.T) {
	for _, name := range []string{"", "echo-a"} {
		s := &Server{Identity: name, Logger: slog.New(slog.DiscardHandler)}
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		go s.Serve(pc)
		c, err := net.Dial("udp", pc.LocalAddr().String())
		require.NoError(t, err)
		n := identity.Nonce{4, 2}
		buf := make([]byte, 2048)
		for _, msg := range [][]byte{identity.Probe(n), []byte("hello"), identity.Probe(n)[:identity.Size-1]} {
			_, err = c.Write(msg)
			require.NoError(t, err)
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			got, err := c.Read(buf)
			require.NoError(t, err)
			if _, isProbe := identity.IsProbe(msg); isProbe && name != "" {
				answer, ok := identity.ParseAnswer(buf[:got], n)
				assert.True(t, ok)
				assert.Equal(t, name, answer)
				assert.LessOrEqual(t, got, len(msg))
				continue
			}
			assert.Equal(t, msg, buf[:got], "echoed as it came")
		}
		c.Close()
		s.Close()
	}
}

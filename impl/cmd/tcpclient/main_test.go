package main

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/internal/clitest"
	"github.com/echospec/echo/impl/tcpecho"
)

func server(t *testing.T, framing tcpecho.Framing) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &tcpecho.Server{Framing: framing, Logger: slog.New(slog.DiscardHandler)}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().String()
}

// client runs tcpclient in-process and returns its exit code, stdout and
// stderr with the one-line report main would print.
func client(_ *testing.T, stdin string, args ...string) (int, string, string) {
	return clitest.Run(run, "tcpclient", stdin, args...)
}

func TestSendsEachArgumentAndPrintsItsEcho(t *testing.T) {
	addr := server(t, tcpecho.FramingLine)
	code, out, errs := client(t, "", "-addr", addr, "hello", "你好，世界", "")
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, "hello\n你好，世界\n\n", out)
}

func TestSendsEachLineOfStdinKeepingCarriageReturns(t *testing.T) {
	addr := server(t, tcpecho.FramingLine)
	code, out, errs := client(t, "one\r\ntwo\nlast without newline", "-addr", addr)
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, "one\r\ntwo\nlast without newline\n", out)
}

func TestFixedFraming(t *testing.T) {
	addr := server(t, tcpecho.FramingFixed)
	code, out, errs := client(t, "", "-addr", addr, "-framing", "fixed", "-size", "3", "abcdefghij")
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, "abcdefghij\n", out)
}

func TestAnEchoThatDiffersExitsOne(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 6)
		io.ReadFull(c, buf)
		c.Write([]byte("HELLO\n"))
		io.Copy(io.Discard, c)
	}()
	code, out, errs := client(t, "", "-addr", l.Addr().String(), "hello", "never sent")
	assert.Equal(t, 1, code)
	assert.Empty(t, out, "nothing that differs is printed as an echo")
	assert.Equal(t, "tcpclient: echo differs from what was sent: sent \"hello\\n\", got \"HELLO\\n\"\n", errs)
}

func TestRefusedExitsOneAtOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	code, _, errs := client(t, "", "-addr", addr, "hello")
	assert.Equal(t, 1, code)
	assert.Equal(t, "tcpclient: connect to "+addr+": connection refused\n", errs)
	assert.Less(t, time.Since(start), time.Second, "a refusal is reported at once, not after the timeout")
}

func TestBadUsage(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		problem string
	}{
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"-framing", "lines"}, `invalid value "lines" for flag -framing: framing must be fixed or line, not "lines"`},
		{[]string{"-size", "-3"}, `invalid value "-3" for flag -size: -3 is less than 1`},
		{[]string{"-timeout", "0s"}, `invalid value 0s for flag -timeout: must be positive`},
		{[]string{"-addr", "localhost"}, `invalid value "localhost" for flag -addr: missing port in address`},
	} {
		clitest.BadUsage(t, run, "tcpclient", tc.args, tc.problem)
	}
}

func TestVersion(t *testing.T) { clitest.Version(t, run, "tcpclient") }

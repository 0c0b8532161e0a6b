package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/cli"
	"github.com/echospec/echo/internal/clitest"
	"github.com/echospec/echo/internal/testpeer"
)

func server(t *testing.T, framing tcpecho.Framing) string {
	t.Helper()
	return testpeer.Serve(t, &tcpecho.Server{Framing: framing, Logger: slog.New(slog.DiscardHandler)})
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
	addr := testpeer.OneConn(t, func(c net.Conn) {
		buf := make([]byte, 6)
		io.ReadFull(c, buf)
		c.Write([]byte("HELLO\n"))
		io.Copy(io.Discard, c)
	})
	code, out, errs := client(t, "", "-addr", addr, "hello", "never sent")
	assert.Equal(t, 1, code)
	assert.Empty(t, out, "nothing that differs is printed as an echo")
	assert.Equal(t, "tcpclient: echo differs from what was sent: sent \"hello\\n\", got \"HELLO\\n\"\n", errs)
}

func TestRefusedExitsOneAtOnce(t *testing.T) {
	addr := testpeer.Refusing(t)
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
		{[]string{"-framing", "lines"}, `invalid value "lines" for flag -framing: framing must be stream, line or fixed, not "lines"`},
		{[]string{"-size", "-3"}, `invalid value "-3" for flag -size: -3 is less than 1`},
		{[]string{"-timeout", "0s"}, `invalid value 0s for flag -timeout: must be positive`},
		{[]string{"-addr", "localhost"}, `invalid value "localhost" for flag -addr: missing port in address`},
	} {
		clitest.BadUsage(t, run, "tcpclient", tc.args, tc.problem)
	}
}

func TestVersion(t *testing.T) { clitest.Version(t, run, "tcpclient") }

// -max-line counts the bytes of a line, not its newline: a line of exactly
// -max-line bytes is sent, one byte more is refused, and the message names
// the flag.
func TestTheLongestStdinLineIsMaxLineBytes(t *testing.T) {
	addr := server(t, tcpecho.FramingLine)
	line := strings.Repeat("x", 1<<20)
	code, out, errs := client(t, line+"\n", "-addr", addr)
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, line+"\n", out)

	code, _, errs = client(t, line+"y\n", "-addr", addr)
	assert.Equal(t, 1, code)
	assert.Equal(t, "tcpclient: a line of stdin is longer than -max-line, 1048576 bytes\n", errs)

	code, _, errs = client(t, "12345\n", "-addr", addr, "-max-line", "4")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "longer than -max-line, 4 bytes")
}

// SIGINT ends the client as a shell expects, 130, after it printed every
// echo that came, and with no complaint of its own.
func TestAnInterruptExits130AfterTheEchoesSoFar(t *testing.T) {
	addr := server(t, tcpecho.FramingLine)
	stdin, typing := io.Pipe()
	defer typing.Close()
	out, errs := clitest.NewOutput(), clitest.NewOutput()
	ctx, interrupt := context.WithCancelCause(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-addr", addr}, stdin, out, errs) }()
	_, err := typing.Write([]byte("one\n"))
	require.NoError(t, err)
	_, err = out.WaitLine(clitest.Within(t, 5*time.Second), "one")
	require.NoError(t, err)
	interrupt(cli.Signal{Signal: syscall.SIGINT})
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("tcpclient did not stop within 5s of SIGINT")
	}
	assert.Equal(t, 130, cli.Exit("tcpclient", err, errs))
	assert.Equal(t, "one\n", out.String())
	assert.Empty(t, errs.String())
}

// The table of defaults in features/README.md says what -h says.
func TestUsageDefaultsAreTheFeaturesREADMEs(t *testing.T) {
	clitest.DefaultsDocumented(t, run, "tcpclient", "../../../features/README.md")
}

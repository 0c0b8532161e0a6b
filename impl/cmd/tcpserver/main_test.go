package main

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/internal/cli"
	"github.com/echospec/echo/internal/clitest"
)

// serve runs tcpserver in-process on a free port.
func serve(t *testing.T, args ...string) (addr string, stderr *clitest.Output, stop func() error) {
	return clitest.Serve(t, run, append([]string{"-listen", "127.0.0.1:0"}, args...)...)
}

func TestServesBothFramingsAndStopsCleanly(t *testing.T) {
	for _, framing := range []string{"fixed", "line"} {
		t.Run(framing, func(t *testing.T) {
			addr, stderr, stop := serve(t, "-framing", framing)
			d := tcpecho.Dialer{}
			require.NoError(t, d.Framing.UnmarshalText([]byte(framing)))
			c, err := d.Dial(context.Background(), addr)
			require.NoError(t, err)
			got, err := c.Echo([]byte("你好，世界"))
			require.NoError(t, err)
			assert.Contains(t, string(got), "你好，世界")
			require.NoError(t, c.Close())

			require.NoError(t, stop(), "a signal is a normal way to stop: exit 0")
			logs := stderr.String()
			assert.Contains(t, logs, "connection opened")
			assert.Contains(t, logs, "connection closed")
			assert.NotContains(t, logs, "msg=message", "messages are logged only with -v")
			assert.Contains(t, logs, "msg=stopped")
		})
	}
}

func TestVerboseLogsEveryMessage(t *testing.T) {
	addr, stderr, stop := serve(t, "-v")
	c, err := tcpecho.Dial(context.Background(), addr)
	require.NoError(t, err)
	_, err = c.Echo([]byte("hello"))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, stop())
	assert.Contains(t, stderr.String(), `msg=message`)
	assert.Contains(t, stderr.String(), `bytes=5 text=hello`, "by default a message is what one read returned")
}

func TestShutdownEchoesAnUnfinishedLineFirst(t *testing.T) {
	addr, _, stop := serve(t)
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	// One exchange first, so the server has surely accepted the connection.
	_, err = c.Write([]byte("first\nunfinished"))
	require.NoError(t, err)
	first := make([]byte, len("first\n"))
	_, err = io.ReadFull(c, first)
	require.NoError(t, err)
	// The rest cannot come back before its line ends, or the server stops;
	// the read blocks until then.
	got := make(chan string, 1)
	go func() {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		b, _ := io.ReadAll(c)
		got <- string(b)
	}()
	require.NoError(t, stop())
	assert.Equal(t, "unfinished", <-got)
}

func TestBadUsage(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		problem string
	}{
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"-framing", "words"}, `invalid value "words" for flag -framing: framing must be stream, line or fixed, not "words"`},
		{[]string{"-size", "0"}, `invalid value "0" for flag -size: 0 is less than 1`},
		{[]string{"-max-line", "x"}, `invalid value "x" for flag -max-line: "x" is not a whole number`},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-listen", "8080"}, `invalid value "8080" for flag -listen: missing port in address`},
		{[]string{"-listen", "127.0.0.1:99999"}, `invalid value "127.0.0.1:99999" for flag -listen: port "99999" is neither a number from 0 to 65535 nor a service name`},
		{[]string{"-admin", "9090"}, `invalid value "9090" for flag -admin: missing port in address`},
		{[]string{"-drain-delay", "-1s"}, `invalid value "-1s" for flag -drain-delay: -1s is negative`},
	} {
		clitest.BadUsage(t, run, "tcpserver", tc.args, tc.problem)
	}
}

func TestAddressInUseFailsAtOnceWithOneLine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	stderr := clitest.NewOutput()
	err = run(context.Background(), []string{"-listen", l.Addr().String()}, nil, io.Discard, stderr)
	report := clitest.NewOutput()
	assert.Equal(t, 1, cli.Exit("tcpserver", err, report))
	assert.Equal(t, "tcpserver: listen on "+l.Addr().String()+": address already in use\n", report.String())
}

func TestAdminAddressInUseFailsAtOnceWithOneLine(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	err = run(context.Background(), []string{"-listen", "127.0.0.1:0", "-admin", l.Addr().String()}, nil, io.Discard, clitest.NewOutput())
	report := clitest.NewOutput()
	assert.Equal(t, 1, cli.Exit("tcpserver", err, report))
	assert.Equal(t, "tcpserver: admin endpoint: listen on "+l.Addr().String()+": address already in use\n", report.String())
}

func TestVersion(t *testing.T) { clitest.Version(t, run, "tcpserver") }

// The table of defaults in features/README.md says what -h says.
func TestUsageDefaultsAreTheFeaturesREADMEs(t *testing.T) {
	clitest.DefaultsDocumented(t, run, "tcpserver", "../../../features/README.md")
}

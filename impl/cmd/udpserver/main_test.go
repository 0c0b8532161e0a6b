package main

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/udpecho"
	"github.com/echospec/echo/internal/cli"
	"github.com/echospec/echo/internal/clitest"
)

// serve runs udpserver in-process on a free port.
func serve(t *testing.T, args ...string) (addr string, stderr *clitest.Output, stop func() error) {
	return clitest.Serve(t, run, append([]string{"-listen", "127.0.0.1:0"}, args...)...)
}

func TestEchoesAndStopsCleanly(t *testing.T) {
	addr, stderr, stop := serve(t, "-v")
	c, err := udpecho.Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Close()
	got, err := c.Echo([]byte("你好，世界"))
	require.NoError(t, err)
	assert.Equal(t, "你好，世界", string(got))
	require.NoError(t, stop(), "a signal is a normal way to stop: exit 0")
	assert.Contains(t, stderr.String(), "msg=datagram")
	assert.Contains(t, stderr.String(), "msg=stopped")
}

func TestGuardFlag(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		answered bool
	}{
		{nil, false},
		{[]string{"-guard=false"}, true},
	} {
		addr, stderr, stop := serve(t, tc.args...)
		src, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 3), Port: 2049})
		require.NoError(t, err)
		dst, _ := net.ResolveUDPAddr("udp", addr)
		_, err = src.WriteTo([]byte("loop?"), dst)
		require.NoError(t, err)
		if tc.answered {
			src.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 16)
			n, _, err := src.ReadFrom(buf)
			require.NoError(t, err)
			assert.Equal(t, "loop?", string(buf[:n]))
			assert.Contains(t, stderr.String(), "reflection guard off")
		} else {
			line, err := stderr.WaitContaining(clitest.Within(t, 5*time.Second), "refused a datagram")
			require.NoError(t, err)
			assert.Contains(t, line, "source=127.0.0.3:2049")
		}
		src.Close()
		require.NoError(t, stop())
	}
}

func TestBadUsage(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		problem string
	}{
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"-guard=maybe"}, `invalid boolean value "maybe" for -guard: parse error`},
		{[]string{"-listen", "8080"}, `invalid value "8080" for flag -listen: missing port in address`},
		{[]string{"extra"}, `unexpected argument "extra"`},
	} {
		clitest.BadUsage(t, run, "udpserver", tc.args, tc.problem)
	}
}

func TestAddressInUseFailsAtOnceWithOneLine(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	defer pc.Close()
	err = run(context.Background(), []string{"-listen", pc.LocalAddr().String()}, nil, io.Discard, io.Discard)
	report := clitest.NewOutput()
	assert.Equal(t, 1, cli.Exit("udpserver", err, report))
	assert.Equal(t, "udpserver: listen on "+pc.LocalAddr().String()+": address already in use\n", report.String())
}

func TestVersion(t *testing.T) { clitest.Version(t, run, "udpserver") }

// The table of defaults in features/README.md says what -h says.
func TestUsageDefaultsAreTheFeaturesREADMEs(t *testing.T) {
	clitest.DefaultsDocumented(t, run, "udpserver", "../../../features/README.md")
}

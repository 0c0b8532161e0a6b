package main

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/udpecho"
	"github.com/echospec/echo/internal/clitest"
)

func server(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &udpecho.Server{Logger: slog.New(slog.DiscardHandler)}
	go s.Serve(pc)
	t.Cleanup(func() { s.Close() })
	return pc.LocalAddr().String()
}

// client runs udpclient in-process and returns its exit code, stdout and
// stderr with the one-line report main would print.
func client(_ *testing.T, stdin string, args ...string) (int, string, string) {
	return clitest.Run(run, "udpclient", stdin, args...)
}

func TestSendsEachArgumentAsADatagram(t *testing.T) {
	addr := server(t)
	code, out, errs := client(t, "", "-addr", addr, "hi", "你好，世界", "")
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, "hi\n你好，世界\n\n", out)
}

func TestSendsEachLineOfStdin(t *testing.T) {
	addr := server(t)
	code, out, errs := client(t, "one\r\ntwo\n", "-addr", addr)
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, "one\r\ntwo\n", out)
}

func TestNoServerExitsOneWithinItsAttempts(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := pc.LocalAddr().String()
	pc.Close()
	start := time.Now()
	code, out, errs := client(t, "", "-addr", addr, "-timeout", "200ms", "-retries", "2", "hi")
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.True(t, strings.HasPrefix(errs, "udpclient: no echo from "+addr+" after 3 attempts"), errs)
	assert.Less(t, time.Since(start), time.Second)
}

func TestBadUsage(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		problem string
	}{
		{[]string{"-nope"}, "flag provided but not defined: -nope"},
		{[]string{"-retries", "-1"}, `invalid value -1 for flag -retries: negative`},
		{[]string{"-timeout", "0s"}, `invalid value 0s for flag -timeout: must be positive`},
		{[]string{"-addr", "nowhere"}, `invalid value "nowhere" for flag -addr: missing port in address`},
	} {
		clitest.BadUsage(t, run, "udpclient", tc.args, tc.problem)
	}
}

func TestVersion(t *testing.T) { clitest.Version(t, run, "udpclient") }

// The table of defaults in features/README.md says what -h says.
func TestUsageDefaultsAreTheFeaturesREADMEs(t *testing.T) {
	clitest.DefaultsDocumented(t, run, "udpclient", "../../../features/README.md")
}

package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/echospec/echo/internal/metricstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/internal/clitest"
)

// echoLines sends n lines on one connection, reads each back, and closes.
func echoLines(t *testing.T, addr string, n int) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	r := bufio.NewReader(c)
	for i := range n {
		line := fmt.Sprintf("line %d\n", i)
		_, err := c.Write([]byte(line))
		require.NoError(t, err)
		got, err := r.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, line, got)
	}
}

func TestAdminCountsTenEchoedLines(t *testing.T) {
	addr, stderr, stop := serve(t, "-framing", "line", "-admin", "127.0.0.1:0")
	admin := clitest.AdminURL(t, stderr)
	echoLines(t, addr, 10)

	// The connection's last counts come before its close is counted, so a
	// scrape begun once the close is seen has them all. (Within one scrape
	// the registry reads its collectors one after another, or at once: the
	// close may be read after a count that was read before the last echo.)
	require.Eventually(t, func() bool {
		m, err := metricstest.Scrape(clitest.Within(t, time.Second), admin)
		require.NoError(t, err)
		return m[`echo_tcp_connections_closed_total{reason="client_closed"}`] == 1
	}, 5*time.Second, 5*time.Millisecond)
	m, err := metricstest.Scrape(clitest.Within(t, time.Second), admin)
	require.NoError(t, err)
	assert.Equal(t, 10.0, m["echo_tcp_received_messages_total"])
	assert.Equal(t, 10.0, m["echo_tcp_sent_messages_total"])
	assert.Equal(t, 70.0, m["echo_tcp_received_bytes_total"], `"line N\n" is 7 bytes`)
	assert.Equal(t, 70.0, m["echo_tcp_sent_bytes_total"])
	assert.Equal(t, 1.0, m["echo_tcp_connections_accepted_total"])
	assert.Equal(t, 0.0, m["echo_tcp_connections_open"])
	assert.Contains(t, m, "echo_tcp_held_bytes")
	assert.Contains(t, m, "echo_log_records_dropped_total")
	assert.Contains(t, m, "echo_event_records_dropped_total")
	require.NoError(t, stop())
}

func TestAdminCountsRefusalsByReason(t *testing.T) {
	addr, stderr, stop := serve(t, "-max-conns", "1", "-admin", "127.0.0.1:0")
	admin := clitest.AdminURL(t, stderr)
	first, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer first.Close()
	_, err = first.Write([]byte("x"))
	require.NoError(t, err)
	_, err = first.Read(make([]byte, 1)) // served: it holds the one place
	require.NoError(t, err)
	// Refused: the server's reset may come before the dial returns.
	if second, err := net.Dial("tcp", addr); err == nil {
		defer second.Close()
	} else {
		require.ErrorIs(t, err, syscall.ECONNRESET)
	}
	require.Eventually(t, func() bool {
		m, err := metricstest.Scrape(clitest.Within(t, time.Second), admin)
		require.NoError(t, err)
		return m[`echo_tcp_connections_refused_total{reason="too_many"}`] == 1 && m["echo_tcp_connections_open"] == 1
	}, 5*time.Second, 5*time.Millisecond)
	require.NoError(t, stop())
}

func TestAdminInfoAndProbes(t *testing.T) {
	addr, stderr, stop := serve(t, "-framing", "fixed", "-size", "16", "-admin", "127.0.0.1:0")
	admin := clitest.AdminURL(t, stderr)
	ctx := clitest.Within(t, 5*time.Second)
	body, err := metricstest.Get(ctx, admin+"/healthz")
	require.NoError(t, err)
	assert.Equal(t, "ok\n", body)
	body, err = metricstest.Get(ctx, admin+"/readyz")
	require.NoError(t, err)
	assert.Equal(t, "ready\n", body)
	info, err := metricstest.Get(ctx, admin+"/info")
	require.NoError(t, err)
	assert.Contains(t, info, `"listening": [`+"\n"+`    "`+addr+`"`)
	assert.Contains(t, info, `"framing": "fixed"`)
	assert.Contains(t, info, `"size": "16"`, "the effective configuration, defaults included")
	assert.Contains(t, info, `"max-conns": "10000"`)
	status, _, err := metricstest.Fetch(ctx, admin+"/nothing")
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, status)
	require.NoError(t, stop())
}

// A server's identity is in /info and on every log line.
func TestIdentityIsInInfoAndTheLog(t *testing.T) {
	_, stderr, stop := serve(t, "-identity", "echo-7f9c-x2", "-admin", "127.0.0.1:0")
	admin := clitest.AdminURL(t, stderr)
	info, err := metricstest.Get(clitest.Within(t, 5*time.Second), admin+"/info")
	require.NoError(t, err)
	assert.Contains(t, info, `"identity": "echo-7f9c-x2"`)
	require.NoError(t, stop())
	assert.Contains(t, stderr.String(), "msg=stopped identity=echo-7f9c-x2")
}

func TestNoAdminEndpointByDefault(t *testing.T) {
	_, stderr, stop := serve(t)
	require.NoError(t, stop())
	assert.NotContains(t, stderr.String(), "admin endpoint")
}

func TestDrainDelayTurnsNotReadyAtOnceAndServesOn(t *testing.T) {
	t.Parallel()
	const drain = 2 * time.Second
	addr, stderr, stop := serve(t, "-framing", "line", "-admin", "127.0.0.1:0", "-drain-delay", drain.String())
	admin := clitest.AdminURL(t, stderr)
	stopped := make(chan error, 1)
	signalled := time.Now()
	go func() { stopped <- stop() }() // as SIGTERM would

	require.Eventually(t, func() bool {
		status, _, err := metricstest.Fetch(clitest.Within(t, time.Second), admin+"/readyz")
		require.NoError(t, err)
		return status == http.StatusServiceUnavailable
	}, drain/2, time.Millisecond, "not ready soon after the signal")
	echoLines(t, addr, 3) // a new client is still served while draining
	select {
	case err := <-stopped:
		t.Fatalf("stopped (%v) before the drain delay was over", err)
	default:
	}
	require.NoError(t, <-stopped, "then it stops as always: exit 0")
	assert.GreaterOrEqual(t, time.Since(signalled), drain)
	assert.Contains(t, stderr.String(), "draining")
}

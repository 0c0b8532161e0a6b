package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/echospec/echo/internal/metricstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/udpecho"
	"github.com/echospec/echo/internal/clitest"
)

func TestAdminCountsDatagramsAnswered(t *testing.T) {
	addr, stderr, stop := serve(t, "-admin", "127.0.0.1:0")
	admin := clitest.AdminURL(t, stderr)
	c, err := udpecho.Dial(context.Background(), addr)
	require.NoError(t, err)
	defer c.Close()
	for i := range 10 {
		msg := fmt.Sprintf("datagram %d", i)
		got, err := c.Echo([]byte(msg))
		require.NoError(t, err)
		require.Equal(t, msg, string(got))
	}
	// An answer is counted once its send returned, which may be after the
	// client has it.
	var m metricstest.Samples
	require.Eventually(t, func() bool {
		m, err = metricstest.Scrape(clitest.Within(t, time.Second), admin)
		require.NoError(t, err)
		return m["echo_udp_answered_datagrams_total"] == 10
	}, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 10.0, m["echo_udp_received_datagrams_total"])
	assert.Equal(t, 100.0, m["echo_udp_received_bytes_total"], `"datagram N" is 10 bytes`)
	assert.Equal(t, 100.0, m["echo_udp_sent_bytes_total"])
	assert.Equal(t, 0.0, m[`echo_udp_refused_datagrams_total{reason="service_port"}`])
	assert.Equal(t, 0.0, m[`echo_udp_failures_total{op="answer"}`])

	body, err := metricstest.Get(clitest.Within(t, time.Second), admin+"/readyz")
	require.NoError(t, err)
	assert.Equal(t, "ready\n", body)
	require.NoError(t, stop())
}

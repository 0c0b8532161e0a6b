package echoadmin

import (
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/impl/udpecho"
)

var remote = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}

func TestTCPMetricsFollowAConnection(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewTCPMetrics(reg, func() int64 { return 42 })
	for _, e := range []tcpecho.Event{
		{Kind: tcpecho.ConnOpened, Remote: remote},
		{Kind: tcpecho.DataRead, Bytes: 8},
		{Kind: tcpecho.DataWritten, Bytes: 8, Messages: 2},
		{Kind: tcpecho.DataRead, Bytes: 4},
		{Kind: tcpecho.DataWritten, Bytes: 4, Messages: 1, Reason: errors.New("write: broken pipe")},
		{Kind: tcpecho.ConnClosed, Reason: tcpecho.ErrIdleTimeout},
		{Kind: tcpecho.ConnRejected, Reason: tcpecho.ErrTooManyConns},
	} {
		m.Observe(e)
	}
	assert.Equal(t, 1.0, testutil.ToFloat64(m.accepted))
	assert.Equal(t, 0.0, testutil.ToFloat64(m.open))
	assert.Equal(t, 12.0, m.sum(func(s *stripe) *atomic.Uint64 { return &s.bytesIn }))
	assert.Equal(t, 8.0, m.sum(func(s *stripe) *atomic.Uint64 { return &s.bytesOut }), "an echo whose write failed is not counted as sent")
	assert.Equal(t, 3.0, m.sum(func(s *stripe) *atomic.Uint64 { return &s.messagesIn }))
	assert.Equal(t, 2.0, m.sum(func(s *stripe) *atomic.Uint64 { return &s.messagesOut }))
	assert.False(t, m.Wants(tcpecho.MessageReceived), "counted with the echo, not one call per message")
	assert.Equal(t, 1.0, testutil.ToFloat64(m.closed.WithLabelValues("idle_timeout")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.refused.WithLabelValues("too_many")))
	err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP echo_tcp_held_bytes Bytes of buffer the server holds between reads (unfinished lines, echoes not yet taken), counted against -max-held.
# TYPE echo_tcp_held_bytes gauge
echo_tcp_held_bytes 42
`), "echo_tcp_held_bytes")
	require.NoError(t, err)
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems, "Prometheus's own lint of names, types and help")
}

func TestUDPMetricsCountAnswersAndRefusalsByReason(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewUDPMetrics(reg)
	m.Observe(udpecho.Event{Kind: udpecho.Received, Payload: []byte("hi")})
	m.Observe(udpecho.Event{Kind: udpecho.Answered, Payload: []byte("hi")})
	m.Observe(udpecho.Event{Kind: udpecho.Refused, Payload: []byte("x"), Reason: udpecho.ErrNFSPort})
	m.Observe(udpecho.Event{Kind: udpecho.Failed})
	assert.Equal(t, 1.0, testutil.ToFloat64(m.received))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.answered))
	assert.Equal(t, 2.0, testutil.ToFloat64(m.bytesOut))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.refused.WithLabelValues("nfs_port")))
	assert.Equal(t, 1.0, testutil.ToFloat64(m.failed.WithLabelValues("read")), "a failure without a source is a read's")
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	assert.Empty(t, problems)
}

// What the metrics cost a line echoed: the events it wants of one message
// (its read and its echo's write), from connections on every core at once.
func BenchmarkTCPMetricsPerMessage(b *testing.B) {
	m := NewTCPMetrics(prometheus.NewRegistry(), nil)
	msg := []byte("a line of 128 bytes, more or less\n")
	var conns atomic.Uint64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		conn := conns.Add(1) // each goroutine a connection of its own
		for pb.Next() {
			m.Observe(tcpecho.Event{Kind: tcpecho.DataRead, Conn: conn, Remote: remote, Bytes: len(msg)})
			m.Observe(tcpecho.Event{Kind: tcpecho.DataWritten, Conn: conn, Remote: remote, Bytes: len(msg), Messages: 1})
		}
	})
}

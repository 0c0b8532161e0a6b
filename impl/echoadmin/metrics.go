package echoadmin

import (
	"github.com/echospec/echo/internal/adminhttp"

	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/impl/udpecho"
)

// Namespace prefixes every metric this package makes.
const Namespace = adminhttp.Namespace

// opts names a metric of subsystem ("tcp", "udp") in Namespace.
func opts(subsystem, name, help string) prometheus.CounterOpts {
	return prometheus.CounterOpts{Namespace: Namespace, Subsystem: subsystem, Name: name, Help: help}
}

// label turns a reason's name ("client closed") into a label value in
// Prometheus's usual style ("client_closed").
func label(why string) string { return strings.ReplaceAll(why, " ", "_") }

// TCPMetrics counts what a tcpecho.Server does. It is a tcpecho.Observer:
// add it to the server's Observer with tcpecho.MultiObserver.
//
// What is counted per message (bytes and messages in and out) goes into
// stripes, each connection adding to its own, and is summed at each
// scrape: connections served on different cores then seldom contend for a
// cache line, and one connection's read and write touch one line.
type TCPMetrics struct {
	stripes         [stripes]stripe
	accepted        prometheus.Counter
	open            prometheus.Gauge
	refused, closed *prometheus.CounterVec
}

// stripes is how many ways the per-message counts are split: enough that
// connections busy at once on a few cores seldom share one.
const stripes = 16

// stripe is one connection's share of the per-message counts, on a
// 64-byte cache line of its own.
type stripe struct {
	bytesIn, bytesOut, messagesIn, messagesOut atomic.Uint64
	_                                          [32]byte
}

func (m *TCPMetrics) stripe(conn uint64) *stripe { return &m.stripes[conn%stripes] }

// sum adds up one count over the stripes.
func (m *TCPMetrics) sum(count func(*stripe) *atomic.Uint64) float64 {
	var total uint64
	for i := range m.stripes {
		total += count(&m.stripes[i]).Load()
	}
	return float64(total)
}

// NewTCPMetrics makes a TCP server's metrics and registers them with reg.
// held, if not nil, reports the bytes the server holds between reads
// (tcpecho.Server.Held) at each scrape.
func NewTCPMetrics(reg prometheus.Registerer, held func() int64) *TCPMetrics {
	m := &TCPMetrics{
		accepted: prometheus.NewCounter(opts("tcp", "connections_accepted_total", "Connections accepted and served (not counting those refused).")),
		open:     prometheus.NewGauge(prometheus.GaugeOpts(opts("tcp", "connections_open", "Connections being served now."))),
		refused: prometheus.NewCounterVec(opts("tcp", "connections_refused_total",
			"Connections closed before they were served, by reason: too many open, too many from one address, a failed TLS handshake or PROXY header."), []string{"reason"}),
		closed: prometheus.NewCounterVec(opts("tcp", "connections_closed_total", "Connections that ended after being served, by reason."), []string{"reason"}),
	}
	// Every reason from the start, at zero, so that a rate over it has a
	// beginning.
	for _, why := range tcpecho.Whys() {
		m.closed.WithLabelValues(label(why))
	}
	for _, refusal := range []error{tcpecho.ErrTooManyConns, tcpecho.ErrTooManyFromSource, tcpecho.ErrHandshake, tcpecho.ErrProxyHeader} {
		m.refused.WithLabelValues(label(tcpecho.Why(refusal)))
	}
	reg.MustRegister(m.accepted, m.open, m.refused, m.closed)
	for _, c := range []struct {
		count      func(*stripe) *atomic.Uint64
		name, help string
	}{
		{func(s *stripe) *atomic.Uint64 { return &s.bytesIn }, "received_bytes_total", "Bytes read from clients."},
		{func(s *stripe) *atomic.Uint64 { return &s.bytesOut }, "sent_bytes_total", "Bytes of echo written back to clients, counted once each write returned."},
		{func(s *stripe) *atomic.Uint64 { return &s.messagesIn }, "received_messages_total", "Messages taken whole from what clients sent, as the framing splits them, counted as their echo is written."},
		{func(s *stripe) *atomic.Uint64 { return &s.messagesOut }, "sent_messages_total", "Messages whose echo was written back whole."},
	} {
		reg.MustRegister(prometheus.NewCounterFunc(opts("tcp", c.name, c.help), func() float64 { return m.sum(c.count) }))
	}
	if held != nil {
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts("tcp", "held_bytes",
			"Bytes of buffer the server holds between reads (unfinished lines, echoes not yet taken), counted against -max-held.")),
			func() float64 { return float64(held()) }))
	}
	return m
}

// Wants implements tcpecho.Interests: every kind of event but
// MessageReceived, whose count comes with each echo (DataWritten), one
// call per batch of messages rather than one per message.
func (m *TCPMetrics) Wants(k tcpecho.EventKind) bool { return k != tcpecho.MessageReceived }

// Observe implements tcpecho.Observer.
func (m *TCPMetrics) Observe(e tcpecho.Event) {
	switch e.Kind {
	case tcpecho.ConnOpened:
		m.accepted.Inc()
		m.open.Inc()
	case tcpecho.DataRead:
		m.stripe(e.Conn).bytesIn.Add(uint64(e.Bytes))
	case tcpecho.DataWritten:
		s := m.stripe(e.Conn)
		s.messagesIn.Add(uint64(e.Messages))
		if e.Reason == nil { // sent: never count an echo that failed
			s.bytesOut.Add(uint64(e.Bytes))
			s.messagesOut.Add(uint64(e.Messages))
		}
	case tcpecho.ConnClosed:
		m.open.Dec()
		m.closed.WithLabelValues(label(tcpecho.Why(e.Reason))).Inc()
	case tcpecho.ConnRejected:
		m.refused.WithLabelValues(label(tcpecho.Why(e.Reason))).Inc()
	}
}

// UDPMetrics counts what a udpecho.Server does. It is a udpecho.Observer.
type UDPMetrics struct {
	received, bytesIn, answered, bytesOut prometheus.Counter
	refused, failed                       *prometheus.CounterVec
}

// NewUDPMetrics makes a UDP server's metrics and registers them with reg.
func NewUDPMetrics(reg prometheus.Registerer) *UDPMetrics {
	counter := func(name, help string) prometheus.Counter { return prometheus.NewCounter(opts("udp", name, help)) }
	m := &UDPMetrics{
		received: counter("received_datagrams_total", "Datagrams taken in to be answered (not counting those the guard refused)."),
		bytesIn:  counter("received_bytes_total", "Payload bytes of the datagrams taken in."),
		answered: counter("answered_datagrams_total", "Datagrams whose echo was sent, counted once the send returned."),
		bytesOut: counter("sent_bytes_total", "Payload bytes of the echoes sent."),
		refused:  prometheus.NewCounterVec(opts("udp", "refused_datagrams_total", "Datagrams the reflection guard left unanswered, by reason."), []string{"reason"}),
		failed: prometheus.NewCounterVec(opts("udp", "failures_total",
			"Reads and answers that failed, by operation; the server goes on with the next datagram."), []string{"op"}),
	}
	for _, why := range udpecho.Whys() {
		m.refused.WithLabelValues(label(why))
	}
	m.failed.WithLabelValues("read")
	m.failed.WithLabelValues("answer")
	reg.MustRegister(m.received, m.bytesIn, m.answered, m.bytesOut, m.refused, m.failed)
	return m
}

// Wants implements udpecho.Interests: every kind of event.
func (m *UDPMetrics) Wants(udpecho.EventKind) bool { return true }

// Observe implements udpecho.Observer.
func (m *UDPMetrics) Observe(e udpecho.Event) {
	switch e.Kind {
	case udpecho.Received:
		m.received.Inc()
		m.bytesIn.Add(float64(len(e.Payload)))
	case udpecho.Answered:
		m.answered.Inc()
		m.bytesOut.Add(float64(len(e.Payload)))
	case udpecho.Refused:
		m.refused.WithLabelValues(label(udpecho.Why(e.Reason))).Inc()
	case udpecho.Failed:
		op := "answer"
		if !e.Source.IsValid() { // a failed read has no source
			op = "read"
		}
		m.failed.WithLabelValues(op).Inc()
	}
}

// NewDropped registers a counter of records a program dropped rather than
// wait for a slow reader, read from count at each scrape: what, "log" or
// "event", names the records.
func NewDropped(reg prometheus.Registerer, what string, count func() uint64) {
	adminhttp.NewDropped(reg, what, count)
}

package udpecho

import (
	"net"
	"net/netip"
	"runtime"

	"github.com/echospec/echo/internal/lifecycle"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// batchSize is how many datagrams one system call may take in, or send.
const batchSize = 16

// batchConn reads and writes several datagrams a system call: recvmmsg and
// sendmmsg on Linux, through golang.org/x/net.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// newBatchConn returns udp's batch reader and writer, or nil where batches
// would be read a datagram at a time anyway.
func newBatchConn(udp *net.UDPConn) batchConn {
	if runtime.GOOS != "linux" {
		return nil
	}
	if a, ok := udp.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		return ipv4.NewPacketConn(udp)
	}
	return ipv6.NewPacketConn(udp) // ipv6.Message is the same type
}

// serveBatches is Serve's loop when datagrams come in batches: when
// several wait, one system call takes them all in and one sends all their
// answers, in order; a lone datagram costs what it costs in Serve.
func (s *Server) serveBatches(udp *net.UDPConn, batch batchConn) error {
	in := make([]ipv4.Message, batchSize)
	out := make([]ipv4.Message, 0, batchSize)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, maxDatagram)}
	}
	outBuffers := make([][1][]byte, batchSize) // out's Buffers, allocated once
	received, answered := s.observerOf(Received), s.observerOf(Answered)
	var backoff lifecycle.Backoff
	for {
		n, err := batch.ReadBatch(in, 0)
		if err != nil {
			if err := s.readFailed(err, &backoff); err != nil {
				return err
			}
			continue
		}
		backoff.Reset()
		out = out[:0]
		for i := range in[:n] {
			m := &in[i]
			src := addrPort(m.Addr)
			payload := m.Buffers[0][:m.N]
			if !s.admit(src, payload, received) {
				continue
			}
			if len(payload) == 0 {
				// A batch write needs a byte to send: answer an empty
				// datagram on its own, after what is queued before it.
				s.writeBatch(batch, out, answered)
				out = out[:0]
				_, err := udp.WriteToUDPAddrPort(nil, src)
				s.answered(err, src, payload, answered)
				continue
			}
			outBuffers[len(out)][0] = payload
			out = append(out, ipv4.Message{Buffers: outBuffers[len(out)][:], Addr: m.Addr})
		}
		s.writeBatch(batch, out, answered)
	}
}

// writeBatch sends the answers in out, reporting each that fails, and
// each that is sent to answered, if not nil.
func (s *Server) writeBatch(batch batchConn, out []ipv4.Message, answered Observer) {
	for len(out) > 0 {
		n, err := batch.WriteBatch(out, 0)
		if err != nil {
			// The first one failed: report it and go on with the rest.
			s.answerFailed(addrPort(out[0].Addr), err)
			out = out[1:]
			continue
		}
		if answered != nil {
			for i := range out[:n] {
				answered.Observe(Event{Kind: Answered, Source: addrPort(out[i].Addr), Payload: out[i].Buffers[0]})
			}
		}
		out = out[n:]
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.AddrPort()
	}
	return netip.AddrPort{}
}

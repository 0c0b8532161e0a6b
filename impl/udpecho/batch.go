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
func (s *Server) serveBatches(batch batchConn, g *guard, from *origin) error {
	in := make([]ipv4.Message, batchSize)
	for i := range in {
		in[i].Buffers = [][]byte{make([]byte, maxDatagram)}
		in[i].OOB = make([]byte, from.oobSpace())
	}
	a := newAnswers()
	received, answered := s.observerOf(Received), s.observerOf(Answered)
	var backoff lifecycle.Backoff
	for {
		n, err := batch.ReadBatch(in, readFlags)
		if err != nil {
			if err := s.readFailed(err, &backoff); err != nil {
				return err
			}
			continue
		}
		backoff.Reset()
		a.reset()
		for i := range in[:n] {
			m := &in[i]
			d := datagram{src: addrPort(m.Addr), payload: m.Buffers[0][:m.N]}
			d.local, d.answer = from.local(m.OOB[:m.NN])
			if !s.admit(g, &d, received) {
				continue
			}
			s.identify(&d)
			a.add(&d, m.Addr)
		}
		s.writeBatch(batch, a, answered)
	}
}

// answers are a batch's answers, in the order their datagrams came, with
// what the events about them need; made once per Serve.
type answers struct {
	out     []ipv4.Message
	ds      []datagram
	buffers [][1][]byte // out's Buffers
}

func newAnswers() *answers {
	return &answers{
		out:     make([]ipv4.Message, 0, batchSize),
		ds:      make([]datagram, 0, batchSize),
		buffers: make([][1][]byte, batchSize),
	}
}

func (a *answers) reset() { a.out, a.ds = a.out[:0], a.ds[:0] }

func (a *answers) add(d *datagram, to net.Addr) {
	i := len(a.out)
	a.buffers[i][0] = d.payload
	a.out = append(a.out, ipv4.Message{Buffers: a.buffers[i][:], OOB: d.answer, Addr: to})
	a.ds = append(a.ds, *d)
}

// writeBatch sends the answers in a, reporting each that fails, and each
// that is sent to answered, if not nil.
func (s *Server) writeBatch(batch batchConn, a *answers, answered Observer) {
	out, ds := a.out, a.ds
	for len(out) > 0 {
		n, err := batch.WriteBatch(out, 0)
		if err != nil {
			// The first one failed: report it and go on with the rest.
			s.answerFailed(&ds[0], err)
			out, ds = out[1:], ds[1:]
			continue
		}
		if answered != nil {
			for i := range ds[:n] {
				answered.Observe(ds[i].event(Answered, nil))
			}
		}
		out, ds = out[n:], ds[n:]
	}
}

func addrPort(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		return u.AddrPort()
	}
	return netip.AddrPort{}
}

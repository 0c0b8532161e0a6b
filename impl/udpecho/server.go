package udpecho

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echospec/echo/internal/describe"
	"github.com/echospec/echo/internal/identity"
	"github.com/echospec/echo/internal/lifecycle"
	"github.com/echospec/echo/internal/ratelog"
)

// DefaultAddr is where ListenAndServe listens when Server.Addr is empty.
const DefaultAddr = "127.0.0.1:8080"

// maxDatagram is the largest UDP payload there is: 65535 bytes less the UDP
// header (IPv4 allows 65507 of them, IPv6 65527). Reading into less would
// cut long datagrams, as the article's 1024-byte buffer did.
const maxDatagram = 65535

// ErrServerClosed is returned by Serve and ListenAndServe once Shutdown or
// Close has been called.
var ErrServerClosed = errors.New("udpecho: server closed")

// A Server sends every datagram's payload back to its sender. Set its
// fields before calling Serve or ListenAndServe and leave them alone
// afterwards. The zero value answers on DefaultAddr with the reflection
// guard on.
type Server struct {
	// Addr is the UDP address ListenAndServe listens on, "host:port". Port
	// 0 picks a free port; Ready tells which. Empty means DefaultAddr.
	Addr string

	// DisableGuard turns the reflection guard off, so that the server
	// answers every source, service ports and forged group sources
	// included, as xinetd's echo does. Only for networks where no datagram
	// can be forged.
	DisableGuard bool

	// Identity, if set, is the name the server gives instead of the echo
	// when a datagram is an identity probe: exactly 128 bytes, "ECHOSPEC-WHO?"
	// and a NUL, a 16-byte nonce, zeros, a newline (see
	// features/identity.feature). The answer, "ECHOSPEC-IAM", a NUL, the
	// nonce, the name and a newline, is never larger than the probe. Empty
	// means none: probes are echoed like any data. At most 98 printable
	// ASCII characters.
	Identity string

	// Logger receives the server's own troubles and, at most once a second
	// each, the datagrams the guard refused and the datagrams that failed.
	// nil means slog.Default().
	Logger *slog.Logger

	// Observer, if set, is told of every datagram.
	Observer Observer

	// Ready, if set, is called once per Serve with the socket's address just
	// before the server starts reading.
	Ready func(addr net.Addr)

	refused    atomic.Uint64
	refusedLog ratelog.Limiter
	failedLog  ratelog.Limiter

	closing lifecycle.Closing
	mu      sync.Mutex
	serving map[net.PacketConn]*serving
}

// serving is what Shutdown and Close need of a Serve.
type serving struct {
	done chan struct{}   // closed when the Serve returns
	wake func(hard bool) // ends its wait; hard (Close) also ends a send's
}

// Refused returns how many datagrams the reflection guard has refused.
func (s *Server) Refused() uint64 { return s.refused.Load() }

// ListenAndServe listens on s.Addr and serves until Shutdown or Close,
// after which it returns ErrServerClosed.
func (s *Server) ListenAndServe() error {
	pc, err := lifecycle.Listen(&s.closing, ErrServerClosed, net.ListenPacket, "udp", cmp.Or(s.Addr, DefaultAddr))
	if err != nil {
		return err
	}
	return s.Serve(pc)
}

// Serve answers the datagrams that arrive on pc, in the order they come,
// until Shutdown or Close; it closes pc when it returns. An error reading
// or answering one datagram is reported and the server goes on; Serve
// returns ErrServerClosed after Shutdown or Close.
//
// Serve owns pc. On Linux a *net.UDPConn is read outside Go's poller,
// through a descriptor of Serve's own, and pc itself is closed as Serve
// starts (see quietSocket): closing it does not stop Serve, Shutdown and
// Close do. Any other PacketConn is read through its own methods, and
// Serve returns the error if pc is closed under it.
func (s *Server) Serve(pc net.PacketConn) error {
	if s.Identity != "" {
		if err := identity.CheckName(s.Identity); err != nil {
			pc.Close()
			return fmt.Errorf("udpecho: Identity: %w", err)
		}
	}
	sv := &serving{done: make(chan struct{}), wake: func(hard bool) {
		if hard {
			pc.Close()
		} else {
			pc.SetReadDeadline(aLongTimeAgo)
		}
	}}
	if !s.track(pc, sv) {
		pc.Close()
		return ErrServerClosed
	}
	defer func() {
		s.untrack(pc)
		pc.Close()
		if n := s.refusedLog.Skipped(); n > 0 {
			s.logger().Warn("refused more datagrams since the last report", "count", n, "refused_total", s.refused.Load())
		}
		close(sv.done)
	}()

	udp, _ := pc.(*net.UDPConn) // its AddrPort methods allocate nothing
	from := newOrigin(udp)      // before a quiet socket is made: it sets the socket's options
	var batch batchConn
	if udp != nil {
		if q := newQuietSocket(udp); q != nil {
			defer q.close()
			if !s.wakeWith(sv, q.wake) {
				return ErrServerClosed
			}
			batch = q.batchConn()
		} else {
			batch = newBatchConn(udp)
		}
	}
	if s.Ready != nil {
		s.Ready(pc.LocalAddr())
	}
	g := s.newGuard(pc.LocalAddr())
	defer g.stop()
	if batch != nil {
		return s.serveBatches(batch, g, from)
	}
	buf := make([]byte, maxDatagram)
	oob := make([]byte, from.oobSpace())
	received, answered := s.observerOf(Received), s.observerOf(Answered)
	var backoff lifecycle.Backoff
	for {
		n, nn, src, err := readFrom(pc, udp, buf, oob)
		if err != nil {
			if err := s.readFailed(err, &backoff); err != nil {
				return err
			}
			continue
		}
		backoff.Reset()
		d := datagram{src: src, payload: buf[:n]}
		d.local, d.answer = from.local(oob[:nn])
		if s.admit(g, &d, received) {
			s.identify(&d)
			s.answered(writeTo(pc, udp, &d), &d, answered)
		}
	}
}

// datagram is one datagram as the server sees it.
type datagram struct {
	src, local netip.AddrPort
	payload    []byte
	answer     []byte // the control message its answer carries, if any
}

// event is the Event of kind k about d; a failure carries no payload.
func (d *datagram) event(k EventKind, reason error) Event {
	e := Event{Kind: k, Source: d.src, Local: d.local, Payload: d.payload, Reason: reason}
	if k == Failed {
		e.Payload = nil
	}
	return e
}

// admit tells whether to answer a datagram: the reflection guard's say,
// reported either way, to received (nil if nobody wants answered
// datagrams) or to the Observer for a refusal.
func (s *Server) admit(g *guard, d *datagram, received Observer) bool {
	if !s.DisableGuard {
		if why := g.refusal(d); why != nil {
			s.refuse(s.Observer, d, why)
			return false
		}
	}
	if received != nil {
		received.Observe(d.event(Received, nil))
	}
	return true
}

// identify turns an identity probe into the server's answer, in place,
// where the server has an identity.
func (s *Server) identify(d *datagram) {
	if s.Identity == "" {
		return
	}
	if _, ok := identity.IsProbe(d.payload); ok {
		d.payload = identity.AnswerInPlace(d.payload, s.Identity)
	}
}

// observerOf is the Observer to tell of each datagram's event of kind k,
// or nil when it wants none: looked up once per Serve, not per datagram.
func (s *Server) observerOf(k EventKind) Observer {
	if wants(s.Observer, k) {
		return s.Observer
	}
	return nil
}

// answered reports how sending d's payload back went: err to the log and
// the Observer, success to answered (nil if nobody wants it).
func (s *Server) answered(err error, d *datagram, answered Observer) {
	switch {
	case err != nil:
		s.answerFailed(d, err)
	case answered != nil:
		answered.Observe(d.event(Answered, nil))
	}
}

// readFailed reports a failed read and waits a little, as a socket that
// fails every read must not make the server spin. It returns the error
// Serve returns when the failure ends the serving.
func (s *Server) readFailed(err error, b *lifecycle.Backoff) error {
	if s.closing.Begun() {
		return ErrServerClosed
	}
	if errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("read datagram: %w", err)
	}
	s.fail(s.Observer, &datagram{}, fmt.Errorf("read datagram: %w", describe.Cause(err)))
	lifecycle.Sleep(b.Next(), s.closing.Done())
	return nil
}

func (s *Server) answerFailed(d *datagram, err error) {
	s.fail(s.Observer, d, fmt.Errorf("answer %v: %w", d.src, describe.Cause(err)))
}

// Shutdown stops the server: every Serve finishes the datagram it is
// answering and returns. If ctx ends first, Shutdown closes the sockets
// and returns ctx.Err(). It returns once every Serve has returned.
func (s *Server) Shutdown(ctx context.Context) error {
	served := s.beginClosing()
	for _, sv := range served {
		sv.wake(false)
	}
	for _, sv := range served {
		select {
		case <-sv.done:
		case <-ctx.Done():
			s.Close()
			return ctx.Err()
		}
	}
	return nil
}

// Close closes every socket at once and returns once every Serve has
// returned.
func (s *Server) Close() error {
	served := s.beginClosing()
	for _, sv := range served {
		sv.wake(true)
	}
	for _, sv := range served {
		<-sv.done
	}
	return nil
}

func (s *Server) refuse(obs Observer, d *datagram, why error) {
	total := s.refused.Add(1)
	if wants(obs, Refused) {
		obs.Observe(d.event(Refused, why))
	}
	if ok, skipped := s.refusedLog.Allow(time.Now()); ok {
		s.logger().Warn("refused a datagram: answering it could start a reflection loop",
			"source", d.src.String(), "local", d.local.String(), "reason", why.Error(),
			"refused_unlogged_since_last", skipped, "refused_total", total)
	}
}

func (s *Server) fail(obs Observer, d *datagram, err error) {
	if wants(obs, Failed) {
		obs.Observe(d.event(Failed, err))
	}
	if ok, skipped := s.failedLog.Allow(time.Now()); ok {
		s.logger().Warn("datagram failed; going on", "err", err.Error(), "local", d.local.String(), "failed_unlogged_since_last", skipped)
	}
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// initLocked makes the maps and channels; s.mu must be held.
func (s *Server) initLocked() {
	if s.serving == nil {
		s.serving = make(map[net.PacketConn]*serving)
	}
}

func (s *Server) track(pc net.PacketConn, sv *serving) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	if s.closing.Begun() {
		return false
	}
	s.serving[pc] = sv
	return true
}

// wakeWith sets how Shutdown and Close wake sv, instead of through its
// PacketConn, unless the server is already closing.
func (s *Server) wakeWith(sv *serving, wake func(hard bool)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Begun() {
		return false
	}
	sv.wake = wake
	return true
}

func (s *Server) untrack(pc net.PacketConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.serving, pc)
}

// beginClosing marks the server closing and returns its Serves.
func (s *Server) beginClosing() []serving {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	s.closing.Begin()
	served := make([]serving, 0, len(s.serving))
	for _, sv := range s.serving {
		served = append(served, *sv)
	}
	return served
}

// readFrom reads one datagram and its control messages, without
// allocating when pc is a UDPConn.
func readFrom(pc net.PacketConn, udp *net.UDPConn, buf, oob []byte) (n, nn int, src netip.AddrPort, err error) {
	if udp != nil {
		n, nn, _, src, err = udp.ReadMsgUDPAddrPort(buf, oob)
		return n, nn, src, err
	}
	n, addr, err := pc.ReadFrom(buf)
	if err != nil {
		return n, 0, netip.AddrPort{}, err
	}
	src, err = netip.ParseAddrPort(addr.String())
	if err != nil {
		return n, 0, netip.AddrPort{}, fmt.Errorf("source %v is not an IP address and port: %w", addr, err)
	}
	return n, 0, src, nil
}

func writeTo(pc net.PacketConn, udp *net.UDPConn, d *datagram) error {
	var err error
	if udp != nil {
		_, _, err = udp.WriteMsgUDPAddrPort(d.payload, d.answer, d.src)
	} else {
		_, err = pc.WriteTo(d.payload, net.UDPAddrFromAddrPort(d.src))
	}
	return err
}

// aLongTimeAgo is a deadline that has always passed.
var aLongTimeAgo = time.Unix(1, 0)

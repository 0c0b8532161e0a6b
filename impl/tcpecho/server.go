package tcpecho

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/echospec/echo/internal/identity"

	"github.com/echospec/echo/internal/lifecycle"
	"github.com/echospec/echo/internal/ratelog"
)

// A Server echoes back to each TCP client what it sends. Set its fields
// before calling Serve or ListenAndServe and leave them alone afterwards.
// The zero value is a stream server (RFC 862's echo: each read echoed at
// once) for DefaultAddr.
type Server struct {
	// Addr is the TCP address ListenAndServe listens on, "host:port".
	// Port 0 picks a free port; Ready tells which. Empty means DefaultAddr.
	Addr string

	// Framing says what the server takes as one message. Every framing
	// echoes every byte; the framing decides when (at once, at a line's
	// end, in pieces of Size), what Observer sees as a message and how much
	// the server holds for one. The zero value is FramingStream.
	Framing Framing

	// Size is the largest message in FramingFixed, in bytes. 0 means
	// DefaultSize (4, as in the article the server comes from).
	Size int

	// MaxLine is the longest line FramingLine holds whole, in bytes,
	// '\n' included. A longer line is echoed on in pieces of MaxLine bytes,
	// each one message, so a client cannot make the server hold more. 0
	// means DefaultMaxLine.
	MaxLine int

	// Logger receives the server's own troubles, such as failed accepts.
	// Nothing is logged per connection or message: use Observer for that.
	// nil means slog.Default().
	Logger *slog.Logger

	// MaxConns is how many connections may be open at once. One accepted
	// over the limit is closed at once, counted and reported; those open
	// are untouched. 0 means no limit.
	MaxConns int

	// IdleTimeout closes a connection whose client sends nothing for this
	// long, after echoing what it sent. 0 means no limit.
	IdleTimeout time.Duration

	// WriteTimeout closes a connection whose client takes none of its echo
	// for this long. While an echo waits, the server reads nothing more
	// from that client, so the client's own unread bytes hold it back and
	// the server's memory for it stays bounded. 0 means no limit.
	WriteTimeout time.Duration

	// MaxConnsPerIP is how many connections one client address may have
	// open at once, as xinetd's per_source: one over it is closed at once,
	// counted and reported like one over MaxConns, and other addresses
	// are served. Behind a PROXY header the client address is the
	// header's; while the header is read, a connection from an address
	// ProxyFrom does not name counts under that address. 0 means no limit.
	MaxConnsPerIP int

	// MaxHeld bounds, in bytes, what all clients together make the server
	// hold between reads: buffers kept for unfinished lines and for echoes
	// a client has not taken yet. Past it the server holds no more: a
	// connection that would keep an unfinished line echoes it on as it
	// stands, as a line longer than MaxLine is, so no byte is lost or
	// repeated and the server's memory stays bounded however many clients
	// send half a line. An echo already read is never dropped, so clients
	// that stop reading can take the total past MaxHeld by a buffer each,
	// until WriteTimeout. 0 means no limit.
	MaxHeld int64

	// TLSConfig, if set, makes every connection TLS: the server's
	// certificate (Certificates or GetCertificate) must be in it. Set
	// ClientAuth and ClientCAs to require client certificates. The echo,
	// its framings, limits and half-close work as over plain TCP; a
	// connection reads through crypto/tls, as on systems without the
	// buffer-less wait (see the package documentation). A config that
	// names no CipherSuites gets AEADSuites for TLS 1.2 (TLS 1.3's are
	// all AEAD); the server uses a copy and leaves TLSConfig alone.
	TLSConfig *tls.Config

	// ProxyProtocol says whether connections start with a PROXY protocol
	// header that names the real client. The zero value is ProxyOff.
	ProxyProtocol ProxyMode

	// ProxyFrom lists the sources allowed to send a PROXY header: a
	// header from any other is refused, with ErrProxyHeader, and so is a
	// connection from any other under ProxyRequired. Empty means any.
	ProxyFrom []netip.Prefix

	// HandshakeTimeout bounds a connection's preamble, its PROXY header
	// and TLS handshake together: a client that stalls in it is refused
	// with ErrHandshake or ErrProxyHeader. 0 means
	// DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration

	// Identity, if set, is the name the server gives instead of the echo
	// when a connection's first 128 bytes are an identity probe (see
	// internal/identity and features/identity.feature), so that a client
	// behind a balancer learns which server it reached. A connection's
	// first bytes that could still become a probe wait, unechoed, until
	// they are one or cannot be. Empty: probes are echoed like any data.
	Identity string

	// Observer, if set, is told of every connection and message.
	Observer Observer

	// Ready, if set, is called once per Serve with the listener's address
	// just before the server starts accepting connections.
	Ready func(addr net.Addr)

	closing lifecycle.Closing
	parking parking // the event loops connections park in, where there are
	// abrupt is set once the server closes connections without echoing
	// what they hold: by Close, or by Shutdown when its context ends.
	abrupt   atomic.Bool
	nextConn atomic.Uint64
	rejected atomic.Uint64
	overLog  ratelog.Limiter

	held        atomic.Int64  // bytes charged by connections, for MaxHeld
	heldEchoed  atomic.Uint64 // unfinished lines echoed on over MaxHeld
	heldOverLog ratelog.Limiter

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	perIP     map[netip.Addr]int // open connections by client address, with MaxConnsPerIP
	reserve   fdReserve          // descriptors kept so that a resuming connection finds one
	drained   chan struct{}      // closed when closing and no connection is left
	isDrained bool
}

// ListenAndServe listens on s.Addr and serves connections until Shutdown or
// Close, after which it returns ErrServerClosed.
func (s *Server) ListenAndServe() error {
	l, err := lifecycle.Listen(&s.closing, ErrServerClosed, net.Listen, "tcp", cmp.Or(s.Addr, DefaultAddr))
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Serve accepts connections on l and serves each in its own goroutine. It
// closes l when it returns. After Shutdown or Close it returns
// ErrServerClosed; otherwise the error that stopped it.
func (s *Server) Serve(l net.Listener) error {
	cfg, err := s.settings()
	if err != nil {
		l.Close()
		return err
	}
	if !s.trackListener(l) {
		l.Close()
		return ErrServerClosed
	}
	defer s.untrackListener(l)
	defer func() {
		if s.closing.Begun() {
			s.reserve.release()
		}
	}()
	if s.Ready != nil {
		s.Ready(l.Addr())
	}

	var backoff lifecycle.Backoff
	for {
		if !s.reserve.full() {
			// Out of descriptors: a new client waits in the backlog
			// rather than a parked one lose what it sent.
			if s.closing.Begun() {
				return ErrServerClosed
			}
			wait := backoff.Next()
			s.logger().Warn("out of descriptors; accepting again once some are free", "addr", l.Addr().String(), "retry_in", wait)
			lifecycle.Sleep(wait, s.closing.Done())
			continue
		}
		rwc, err := l.Accept()
		if err != nil {
			if s.closing.Begun() {
				return ErrServerClosed
			}
			if !isTemporary(err) {
				return fmt.Errorf("accept on %s: %w", l.Addr(), err)
			}
			// Out of file descriptors and the like: wait, as net/http does,
			// instead of spinning or giving up on every other client.
			wait := backoff.Next()
			s.logger().Warn("accept failed; retrying", "addr", l.Addr().String(), "err", err, "retry_in", wait)
			lifecycle.Sleep(wait, s.closing.Done())
			continue
		}
		backoff.Reset()
		s.admit(newConn(s, &cfg, rwc))
	}
}

// admit serves a connection just accepted, or refuses it.
func (s *Server) admit(c *conn) {
	if c.cfg.preamble.tls == nil {
		// Over TLS crypto/tls holds what it read and decrypted: only
		// its own goroutine can tell whether the client has sent.
		c.fd, c.canPark = socketFd(c.raw)
	}
	if s.MaxConnsPerIP > 0 && (c.cfg.preamble.proxy == ProxyOff || !c.cfg.preamble.mayProxy(clientIP(c.raw))) {
		// Behind a PROXY header the client is known only once the
		// connection's goroutine has read it; until then a connection
		// from an address ProxyFrom does not name counts under it, or
		// anyone could hold every slot with connections that never
		// send a header.
		c.ip = clientIP(c.raw)
	}
	switch admitted := s.trackConn(c); admitted {
	case tracked:
		// Reported here, not on the connection's goroutine: an observer
		// that logs would grow every idle connection's stack. A
		// connection with a preamble is reported once it is through.
		c.observing(s.Observer)
		if c.cfg.preamble.none() && wants(c.obs, ConnOpened) {
			c.obs.Observe(c.openedEvent())
		}
		if c.cfg.preamble.none() && c.canPark {
			// Until its client sends, a connection costs no goroutine:
			// it parks at once.
			c.idle.since = time.Now()
			if s.parking.park(c) {
				return
			}
		}
		go c.serve()
	case overLimit, overSourceLimit:
		s.reject(c, admitted)
	default:
		c.to(stateClosed)
		c.raw.Close()
	}
}

// Shutdown stops the server gracefully: it closes the listeners, then
// wakes every connection that is waiting for its client, echoes what it
// already holds (a line without its '\n' included) and closes it.
// Connections busy writing an echo finish it first. If ctx ends before
// Shutdown sees all connections closed, it closes the rest and returns
// ctx.Err(). It returns once every connection's goroutine has ended.
func (s *Server) Shutdown(ctx context.Context) error {
	conns := s.beginClosing()
	s.parking.stop() // parked connections are handed to goroutines, awake
	for _, c := range conns {
		c.wake()
	}
	select {
	case <-s.drained:
	case <-ctx.Done():
	}
	if ctx.Err() == nil {
		s.parking.wait()
		return nil
	}
	// The context ended first, or both came before this goroutine looked:
	// either way the caller's deadline was not met.
	s.parking.wait() // see Close
	s.abrupt.Store(true)
	s.closeConns()
	<-s.drained
	return ctx.Err()
}

// Close closes the listeners and every connection at once, without
// echoing what the connections hold. It returns once every connection's
// goroutine has ended. For a graceful stop use Shutdown.
func (s *Server) Close() error {
	s.abrupt.Store(true)
	s.beginClosing()
	// First out of the loops: a descriptor closed while parked could be
	// reused by another socket before the loop forgot it.
	s.parking.stop()
	s.parking.wait()
	s.closeConns()
	<-s.drained
	return nil
}

// settings checks the configuration and fills in defaults.
func (s *Server) settings() (connConfig, error) {
	size, maxLine := s.Size, s.MaxLine
	if size == 0 {
		size = DefaultSize
	}
	if maxLine == 0 {
		maxLine = DefaultMaxLine
	}
	if size < 0 {
		return connConfig{}, fmt.Errorf("tcpecho: Size %d is negative", size)
	}
	if maxLine < 0 {
		return connConfig{}, fmt.Errorf("tcpecho: MaxLine %d is negative", maxLine)
	}
	if s.MaxConns < 0 || s.MaxConnsPerIP < 0 || s.MaxHeld < 0 || s.IdleTimeout < 0 || s.WriteTimeout < 0 || s.HandshakeTimeout < 0 {
		return connConfig{}, errors.New("tcpecho: MaxConns, MaxConnsPerIP, MaxHeld, IdleTimeout, WriteTimeout and HandshakeTimeout must not be negative")
	}
	if s.Identity != "" {
		if err := identity.CheckName(s.Identity); err != nil {
			return connConfig{}, fmt.Errorf("tcpecho: Identity: %w", err)
		}
	}
	pre, err := s.preamble()
	if err != nil {
		return connConfig{}, err
	}
	cfg, err := s.framed(size, maxLine)
	cfg.idle, cfg.write, cfg.preamble, cfg.identity = s.IdleTimeout, s.WriteTimeout, pre, s.Identity
	return cfg, err
}

// preamble checks what a connection goes through before its echo.
func (s *Server) preamble() (preamble, error) {
	if c := s.TLSConfig; c != nil && len(c.Certificates) == 0 && c.GetCertificate == nil && c.GetConfigForClient == nil {
		return preamble{}, errors.New("tcpecho: TLSConfig has no certificate")
	}
	if s.ProxyProtocol < ProxyOff || s.ProxyProtocol > ProxyRequired {
		return preamble{}, fmt.Errorf("tcpecho: unknown %v", s.ProxyProtocol)
	}
	return preamble{proxy: s.ProxyProtocol, from: s.ProxyFrom, tls: aeadOnly(s.TLSConfig), timeout: cmp.Or(s.HandshakeTimeout, DefaultHandshakeTimeout)}, nil
}

// framed is the part of the configuration the framing decides.
func (s *Server) framed(size, maxLine int) (connConfig, error) {
	switch s.Framing {
	case FramingStream:
		// What one read returned is echoed at once: nothing is held past
		// the read, so the pooled buffer never has to grow.
		return connConfig{split: streamSplit, consume: fixedConsume, count: streamCount, size: 1, limit: pooledSize}, nil
	case FramingFixed:
		// Read into pooled 64 KiB buffers whatever the message size: a
		// 4-byte message must not cost a system call per 4 bytes, and a
		// 1 GiB one must not cost 1 GiB of memory before a byte arrives.
		// A message is at most Size bytes of what has arrived, so the
		// buffer never has to grow.
		return connConfig{split: fixedSplit(size), consume: fixedConsume, count: fixedCount(size), size: 1, limit: pooledSize}, nil
	case FramingLine:
		// A buffer only grows past the pool's size for a line that needs
		// it; a short MaxLine must not mean reading a few bytes at a time.
		return connConfig{split: lineSplit(maxLine), consume: lineConsume(maxLine), count: lineCount(maxLine), size: 1, limit: max(maxLine, pooledSize)}, nil
	}
	return connConfig{}, fmt.Errorf("tcpecho: unknown %v", s.Framing)
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// initLocked makes the channels; s.mu must be held.
func (s *Server) initLocked() {
	if s.drained == nil {
		s.drained = make(chan struct{})
		s.listeners = make(map[net.Listener]struct{})
		s.conns = make(map[*conn]struct{})
		s.perIP = make(map[netip.Addr]int)
	}
}

func (s *Server) trackListener(l net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	if s.closing.Begun() {
		return false
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Server) untrackListener(l net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.listeners[l]; ok {
		delete(s.listeners, l)
		l.Close()
	}
}

// Held returns how many bytes connections hold between reads: buffers
// kept for unfinished lines and for echoes not yet taken (see MaxHeld).
func (s *Server) Held() int64 { return s.held.Load() }

// charge adds delta bytes to what connections hold, refusing to go past
// MaxHeld unless forced.
func (s *Server) charge(delta int, force bool) bool {
	total := s.held.Add(int64(delta))
	if delta > 0 && !force && s.MaxHeld > 0 && total > s.MaxHeld {
		s.held.Add(-int64(delta))
		return false
	}
	return true
}

// heldOver counts an unfinished line echoed on because MaxHeld was
// reached, and says so in the log at most once a second.
func (s *Server) heldOver(remote net.Addr) {
	total := s.heldEchoed.Add(1)
	if ok, skipped := s.heldOverLog.Allow(time.Now()); ok {
		s.logger().Warn("holding as much as -max-held allows: unfinished lines are echoed on as they stand", "remote", remote.String(), "max_held", s.MaxHeld, "held", s.held.Load(), "unlogged_since_last", skipped, "total", total)
	}
}

func (s *Server) markDrainedLocked() {
	if s.closing.Begun() && len(s.conns) == 0 && !s.isDrained {
		s.isDrained = true
		close(s.drained)
	}
}

// beginClosing marks the server closing, closes its listeners and returns
// the connections open at that moment. Later calls return them again.
func (s *Server) beginClosing() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	s.closing.Begin()
	for l := range s.listeners {
		l.Close()
		delete(s.listeners, l)
	}
	s.markDrainedLocked()
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

func (s *Server) closeConns() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.close()
	}
}

package tcpecho

// Admission: which connections the server takes, counted against
// MaxConns and MaxConnsPerIP, and how it refuses the others.

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

type admission int

const (
	tracked admission = iota
	overLimit
	overSourceLimit
	closing
)

func (s *Server) trackConn(c *conn) admission {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.initLocked()
	if s.closing.Begun() {
		return closing
	}
	if s.MaxConns > 0 && len(s.conns) >= s.MaxConns {
		return overLimit
	}
	if c.ip.IsValid() {
		if s.perIP[c.ip] >= s.MaxConnsPerIP {
			return overSourceLimit
		}
		s.perIP[c.ip]++
	}
	s.conns[c] = struct{}{}
	return tracked
}

// reject closes a connection over MaxConns or MaxConnsPerIP at once: a
// reset, so that the client learns at once, and no goroutine or buffer is
// spent on it.
func (s *Server) reject(c *conn, why admission) {
	reason := ErrTooManyConns
	if why == overSourceLimit {
		reason = ErrTooManyFromSource
	}
	s.refuse(c, reason, true)
}

// refuse closes a connection the server will not serve, with a reset if
// abort is set, and reports why: to the Observer always, to the log at
// most once a second.
func (s *Server) refuse(c *conn, reason error, abort bool) {
	if tc, ok := c.raw.(*net.TCPConn); ok && abort {
		tc.SetLinger(0)
	}
	c.raw.Close()
	c.to(stateClosed)
	total := s.rejected.Add(1)
	if obs := s.Observer; obs != nil {
		obs.Observe(c.event(ConnRejected, reason))
	}
	if ok, skipped := s.overLog.Allow(time.Now()); ok {
		attrs := []any{"remote", c.remote.String()}
		if c.proxy != nil {
			attrs = append(attrs, "proxy", c.proxy.String())
		}
		switch {
		case errors.Is(reason, ErrTooManyConns):
			attrs = append(attrs, "max_conns", s.MaxConns)
		case errors.Is(reason, ErrTooManyFromSource):
			attrs = append(attrs, "max_conns_per_ip", s.MaxConnsPerIP)
		}
		s.logger().Warn("connection refused: "+reason.Error(), append(attrs, "rejected_unlogged_since_last", skipped, "rejected_total", total)...)
	}
}

// admitSource counts a connection whose client is known only after its
// preamble against MaxConnsPerIP, moving it from the address it was
// counted under while the preamble lasted, if any, and reports whether it
// is within the limit. Over it, it stays counted where it was until it is
// untracked.
func (s *Server) admitSource(c *conn, ip netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !ip.IsValid() || ip == c.ip {
		return true
	}
	if s.perIP[ip] >= s.MaxConnsPerIP {
		return false
	}
	s.releaseSourceLocked(c)
	s.perIP[ip]++
	c.ip = ip
	return true
}

// releaseSourceLocked uncounts c from its address; s.mu must be held.
func (s *Server) releaseSourceLocked(c *conn) {
	if c.ip.IsValid() {
		if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
			delete(s.perIP, c.ip)
		}
		c.ip = netip.Addr{}
	}
}

func (s *Server) untrackConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	s.releaseSourceLocked(c)
	s.markDrainedLocked()
}

// clientIP is the address MaxConnsPerIP counts a connection under: its
// remote IP, an IPv4 one mapped into IPv6 taken as IPv4.
func clientIP(rwc net.Conn) netip.Addr { return clientIPOf(rwc.RemoteAddr()) }

func clientIPOf(addr net.Addr) netip.Addr {
	if a, ok := addr.(*net.TCPAddr); ok {
		return a.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

package tcpecho

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/pires/go-proxyproto"
)

// DefaultHandshakeTimeout bounds a connection's preamble (its PROXY
// header and TLS handshake) when Server.HandshakeTimeout is 0.
const DefaultHandshakeTimeout = 10 * time.Second

// ErrHandshake is the Reason of a connection refused because its TLS
// handshake failed: plain text on a TLS port, a certificate the server
// does not trust or none where one is required, a client that stalled.
// The Reason wraps the TLS error too. A Dialer's error wraps it as well
// when the handshake fails on the client's side.
var ErrHandshake = errors.New("tls handshake failed")

// ErrProxyHeader is the Reason of a connection refused because its PROXY
// protocol header was malformed, missing where required, or sent by a
// source not in ProxyFrom.
var ErrProxyHeader = errors.New("bad proxy protocol header")

// ProxyMode says whether connections start with a PROXY protocol header
// (v1 or v2), as a load balancer such as HAProxy, nginx or an AWS NLB
// sends to say which client it is relaying.
type ProxyMode int

const (
	// ProxyOff: no header is read; a connection's remote address is its
	// peer's.
	ProxyOff ProxyMode = iota
	// ProxyOptional: a header is used where one comes and a connection
	// without one is served as direct, as soon as the bytes it sent cannot
	// begin a header ("PING" is echoed at once). Until its first byte, a
	// connection waits for the idle timeout, as a direct one would; from
	// it, the handshake timeout bounds the header.
	ProxyOptional
	// ProxyRequired: a connection without a header is refused.
	ProxyRequired
)

var proxyModes = [...]string{ProxyOff: "off", ProxyOptional: "optional", ProxyRequired: "required"}

// String returns "off", "optional" or "required".
func (m ProxyMode) String() string {
	if m < 0 || int(m) >= len(proxyModes) {
		return fmt.Sprintf("ProxyMode(%d)", int(m))
	}
	return proxyModes[m]
}

// MarshalText implements encoding.TextMarshaler.
func (m ProxyMode) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, for flags.
func (m *ProxyMode) UnmarshalText(text []byte) error {
	for i, name := range proxyModes {
		if string(text) == name {
			*m = ProxyMode(i)
			return nil
		}
	}
	return fmt.Errorf("proxy protocol must be off, optional or required, not %q", text)
}

// TLSInfo is what a TLS connection agreed on, as events and logs tell it.
type TLSInfo struct {
	Version     string `json:"version"`                  // "TLS 1.3"
	CipherSuite string `json:"cipher_suite"`             // "TLS_AES_128_GCM_SHA256"
	ServerName  string `json:"server_name,omitempty"`    // the SNI the client asked for
	ALPN        string `json:"alpn,omitempty"`           // the protocol agreed on, if any
	Client      string `json:"client_subject,omitempty"` // the client certificate's subject, if one was sent
}

func tlsInfo(st tls.ConnectionState) *TLSInfo {
	info := &TLSInfo{
		Version:     tls.VersionName(st.Version),
		CipherSuite: tls.CipherSuiteName(st.CipherSuite),
		ServerName:  st.ServerName,
		ALPN:        st.NegotiatedProtocol,
	}
	if len(st.PeerCertificates) > 0 {
		info.Client = st.PeerCertificates[0].Subject.String()
	}
	return info
}

// AEADSuites are the TLS 1.2 cipher suites a server offers when its
// TLSConfig names none: Mozilla's "intermediate" profile, as Go implements
// it, AEAD ciphers with forward secrecy only. Go's own default list also
// offers CBC suites, which testssl.sh flags as obsolete (LUCKY13).
var AEADSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// aeadOnly returns cfg, or a copy offering AEADSuites where it names no
// suites.
func aeadOnly(cfg *tls.Config) *tls.Config {
	if cfg == nil || cfg.CipherSuites != nil {
		return cfg
	}
	cfg = cfg.Clone()
	cfg.CipherSuites = AEADSuites
	return cfg
}

// preamble is what a connection goes through before its echo: the PROXY
// header, then the TLS handshake, each where the server asks for it.
type preamble struct {
	proxy   ProxyMode
	from    []netip.Prefix // sources that may send a header; empty: any
	tls     *tls.Config
	timeout time.Duration
}

func (p preamble) none() bool { return p.proxy == ProxyOff && p.tls == nil }

// mayProxy tells whether ip may send a PROXY header: ProxyFrom names it
// as a balancer's, or is empty.
func (p preamble) mayProxy(ip netip.Addr) bool {
	if len(p.from) == 0 {
		return true
	}
	for _, prefix := range p.from {
		if prefix.Contains(ip) {
			return true
		}
	}
	return false
}

// open runs the connection's preamble with its deadline. On success the
// connection's remote address is the client's (the header's source), its
// stream is the TLS one, and it returns the bytes read past the header,
// to be echoed first.
func (c *conn) open() (pending []byte, err error) {
	p := c.cfg.preamble
	c.raw.SetDeadline(time.Now().Add(p.timeout))
	if c.srv.closing.Begun() {
		return nil, ErrServerClosed // Shutdown may have woken it before the deadline above
	}
	if p.proxy != ProxyOff {
		if pending, err = c.readProxyHeader(p); err != nil {
			return nil, err
		}
	}
	if p.tls != nil {
		stream := c.raw
		if len(pending) > 0 {
			stream, pending = &prefixed{Conn: c.raw, prefix: pending}, nil
		}
		tc := tls.Server(stream, p.tls)
		if err := tc.HandshakeContext(context.Background()); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrHandshake, err)
		}
		c.rwc, c.tls = tc, tlsInfo(tc.ConnectionState())
	}
	if err := c.raw.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	if c.srv.closing.Begun() {
		c.wake() // Shutdown's wake-up may have been cleared with the deadline above
	}
	return pending, nil
}

// readProxyHeader reads the PROXY header, if one comes, with the library's
// parser, takes the client's address from it and returns the bytes read
// past it.
func (c *conn) readProxyHeader(p preamble) (pending []byte, err error) {
	peer := clientIP(c.raw)
	allowed := p.mayProxy(peer)
	if !allowed && p.proxy == ProxyRequired {
		return nil, fmt.Errorf("%w: %s may not send one", ErrProxyHeader, peer)
	}
	// Small: what is read past the header is handed to the echo, and a
	// header is at most 107 bytes in v1 and rarely more in v2.
	br := bufio.NewReaderSize(c.raw, 256)
	header, err := c.sniffHeader(br, p)
	if err != nil {
		return nil, err
	}
	if header {
		h, err := proxyproto.Read(br)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%w: %w", ErrProxyHeader, err)
		case !allowed:
			return nil, fmt.Errorf("%w: %s may not send one", ErrProxyHeader, peer)
		}
		if src, _, ok := h.TCPAddrs(); ok && h.Command.IsProxy() {
			c.proxy, c.remote = c.remote, src // a LOCAL header (a health check) is the balancer itself
		}
	} else if p.proxy == ProxyRequired {
		return nil, fmt.Errorf("%w: %w", ErrProxyHeader, proxyproto.ErrNoProxyProtocol)
	}
	if n := br.Buffered(); n > 0 {
		pending, _ = br.Peek(n)
	}
	return pending, nil
}

// sniffHeader reads as much as it takes to tell whether the connection
// starts with a PROXY header, and leaves it in br: it reports "no header"
// as soon as the bytes read cannot begin one (a direct client's "PING" is
// echoed at once, not after the handshake timeout), and for a v1 header
// reads on to its line end, across as many reads as TCP splits it into,
// because the parser takes a v1 header only whole in its buffer. The
// parser itself (go-proxyproto) then reads the header from br.
//
// Under ProxyOptional a client that has sent nothing yet may be a direct
// one, so the first byte is awaited for the idle timeout, not the
// handshake's; the handshake timeout runs from the first byte.
func (c *conn) sniffHeader(br *bufio.Reader, p preamble) (bool, error) {
	if p.proxy == ProxyOptional && p.tls == nil {
		if err := c.awaitFirstByte(br, p); err != nil {
			return false, err
		}
	}
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if errors.Is(err, io.EOF) {
			return false, nil // the client ended before a header could: what it sent is echoed
		}
		if err != nil {
			return false, fmt.Errorf("%w: %w", ErrProxyHeader, err)
		}
		if decided, header := headerAhead(b); decided {
			return header, nil
		}
	}
}

// awaitFirstByte waits for the client's first byte for the idle timeout,
// then sets the handshake's deadline for the rest.
func (c *conn) awaitFirstByte(br *bufio.Reader, p preamble) error {
	var wait time.Time
	if c.cfg.idle > 0 {
		wait = time.Now().Add(c.cfg.idle)
	}
	c.raw.SetReadDeadline(wait)
	if _, err := br.Peek(1); err != nil {
		return c.silent(err)
	}
	return c.raw.SetReadDeadline(time.Now().Add(p.timeout))
}

// headerAhead tells, from a connection's first bytes b, whether they
// decide if a PROXY header comes, and if so whether one does: not when b
// cannot begin either signature; yes when b holds the v2 signature, or
// the v1 one and its line end (or as much as the longest v1 header).
func headerAhead(b []byte) (decided, header bool) {
	v1 := bytes.HasPrefix(proxyproto.SIGV1, b) || bytes.HasPrefix(b, proxyproto.SIGV1)
	v2 := bytes.HasPrefix(proxyproto.SIGV2, b)
	switch {
	case !v1 && !v2:
		return true, false
	case v2 && len(b) == len(proxyproto.SIGV2):
		return true, true // the parser reads v2 across reads itself
	case v1 && len(b) >= len(proxyproto.SIGV1):
		return bytes.IndexByte(b, '\n') >= 0 || len(b) >= maxV1Header, true
	}
	return false, false
}

// maxV1Header is the longest v1 header there is, its line end included.
const maxV1Header = 107

// silent is why a ProxyOptional connection that never sent a byte ends.
func (c *conn) silent(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) && !c.srv.closing.Begun() {
		return ErrIdleTimeout
	}
	return fmt.Errorf("%w: %w", ErrProxyHeader, err)
}

// prefixed is a connection whose first bytes were read already.
type prefixed struct {
	net.Conn
	prefix []byte
}

func (p *prefixed) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

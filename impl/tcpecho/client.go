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
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/echospec/echo/internal/describe"
	"github.com/pires/go-proxyproto"
)

// DefaultTimeout bounds a dial and each exchange when Dialer.Timeout is 0.
const DefaultTimeout = 5 * time.Second

// ErrEchoDiffers says the server sent back something other than what was
// sent: other bytes, fewer, or more.
var ErrEchoDiffers = errors.New("echo differs from what was sent")

// ErrNewlineInMessage says a line-framing message has a '\n' before its
// end, which would make it two messages.
var ErrNewlineInMessage = errors.New("message has a newline before its end")

// maxTrailing bounds what Close reads after the last echo: enough to show
// what went wrong, never a reason to hold a flood.
const maxTrailing = 64 << 10

// A Dialer opens Clients. Its zero value dials with stream framing and
// DefaultTimeout.
type Dialer struct {
	// Framing is how the client sends messages and reads their echoes:
	// FramingStream sends each message as it is and reads back exactly as
	// many bytes; FramingLine sends it as one line and reads back up to
	// its '\n'; FramingFixed sends it in pieces of at most Size bytes and
	// reads back exactly as many bytes as each piece had before sending the
	// next, as the article's client does with its 4-byte server. A stream
	// or fixed client needs a server that echoes without waiting for a line
	// end; a line client works with every framing.
	Framing Framing
	// Size is the largest piece sent at once in FramingFixed. 0 means
	// DefaultSize.
	Size int
	// Timeout bounds connecting (the TLS handshake included), and then each
	// Echo from its first write to the last byte of its echo. 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// TLSConfig, if set, makes the connection TLS. Without a ServerName
	// (and without InsecureSkipVerify) the host of the address dialled is
	// the name checked.
	TLSConfig *tls.Config
	// ProxyHeader, 1 or 2, sends a PROXY protocol header of that version
	// before anything else, naming the client's own addresses, as a load
	// balancer would: for checking a server without one. 0 sends none.
	ProxyHeader int
}

// Client is one connection to an echo server. It is not safe for
// concurrent use; open one per goroutine.
type Client struct {
	conn    net.Conn
	rd      *bufio.Reader
	addr    string
	framing Framing
	size    int
	timeout time.Duration
	echoed  bool // an echo has come back whole on this connection
}

// Dial connects to the echo server at addr with a zero Dialer.
func Dial(ctx context.Context, addr string) (*Client, error) {
	return (&Dialer{}).Dial(ctx, addr)
}

// Dial connects to the echo server at addr ("host:port").
func (d *Dialer) Dial(ctx context.Context, addr string) (*Client, error) {
	size, timeout := d.Size, d.Timeout
	if size == 0 {
		size = DefaultSize
	}
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if size < 0 || timeout < 0 {
		return nil, fmt.Errorf("tcpecho: Size %d and Timeout %v must not be negative", size, timeout)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := DialStream(ctx, addr, d.ProxyHeader, d.TLSConfig)
	if err != nil {
		return nil, err
	}
	return &Client{
		conn:    conn,
		rd:      bufio.NewReader(conn),
		addr:    addr,
		framing: d.Framing,
		size:    size,
		timeout: timeout,
	}, nil
}

// DialStream opens the stream an echo client talks over: a TCP connection
// to addr, with a PROXY header of version proxyHeader (1 or 2; 0 for
// none) and then TLS with tlsConfig, where set. Errors name the address
// and say why in words a user reads. echobench dials with it too.
func DialStream(ctx context.Context, addr string, proxyHeader int, tlsConfig *tls.Config) (net.Conn, error) {
	if proxyHeader < 0 || proxyHeader > 2 {
		return nil, fmt.Errorf("tcpecho: PROXY header version %d is neither 1 nor 2", proxyHeader)
	}
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, "tcp", addr)
	if errors.Is(err, syscall.ECONNRESET) {
		return nil, resetAtOnce(addr, err)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		// As an echo that does not come in time: os.ErrDeadlineExceeded,
		// in words that say it timed out.
		return nil, fmt.Errorf("timed out connecting to %s: %w", addr, os.ErrDeadlineExceeded)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, describe.Cause(err))
	}
	if proxyHeader != 0 {
		h := proxyproto.HeaderProxyFromAddrs(byte(proxyHeader), conn.LocalAddr(), conn.RemoteAddr())
		if _, err := h.WriteTo(conn); err != nil {
			conn.Close()
			return nil, fmt.Errorf("send proxy header to %s: %w", addr, describe.Cause(err))
		}
	}
	if tlsConfig == nil {
		return conn, nil
	}
	cfg := tlsConfig
	if cfg.ServerName == "" && !cfg.InsecureSkipVerify {
		cfg = cfg.Clone()
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, &handshakeError{addr: addr, err: describe.Cause(err), plain: notTLS(err)}
	}
	return tc, nil
}

// resetAtOnce is the error of a connection the server reset before its
// first echo, at the connect or after it: a server at its connection limit
// closes a new connection at once.
func resetAtOnce(addr string, err error) error {
	return fmt.Errorf("the server at %s reset the connection as soon as it was made: it may be at its connection limit: %w", addr, describe.Cause(err))
}

// isTLSAlert tells an alert the TLS peer sent, which crypto/tls reports as
// a "remote error".
func isTLSAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

// notTLS tells a handshake whose server answered in something other than
// TLS: bytes that are no TLS record, or, from a plain echo, the client's
// own ClientHello sent back.
func notTLS(err error) bool {
	var rec tls.RecordHeaderError
	return errors.As(err, &rec) || strings.Contains(err.Error(), "unexpected handshake message of type *tls.clientHelloMsg")
}

// handshakeError is a client's failed TLS handshake: it is ErrHandshake,
// and the TLS error says why; plain, when the server did not answer in
// TLS at all.
type handshakeError struct {
	addr  string
	err   error
	plain bool
}

func (e *handshakeError) Error() string {
	if e.plain {
		return "the server at " + e.addr + " did not answer in TLS: is it a plain echo? (" + e.err.Error() + ")"
	}
	return "tls handshake with " + e.addr + ": " + e.err.Error()
}
func (e *handshakeError) Unwrap() []error { return []error{ErrHandshake, e.err} }

// LocalAddr returns the client's end of the connection, which the server
// sees as the remote address.
func (c *Client) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// Echo sends msg and waits for its echo, which it returns. In
// FramingStream msg is sent as it is and its length is read back; in
// FramingLine a '\n' is added to msg unless it ends with one, and the
// returned echo includes it. The error wraps ErrEchoDiffers when the echo is not what was
// sent, os.ErrDeadlineExceeded when it did not come in time, and
// io.ErrUnexpectedEOF when the server closed the connection first.
func (c *Client) Echo(msg []byte) ([]byte, error) {
	if err := c.conn.SetDeadline(time.Now().Add(c.timeout)); err != nil {
		return nil, fmt.Errorf("set deadline: %w", err)
	}
	switch c.framing {
	case FramingStream:
		return c.exchange(msg, c.readFull)
	case FramingFixed:
		echo := make([]byte, 0, len(msg))
		for piece := range slices.Chunk(msg, c.size) {
			got, err := c.exchange(piece, c.readFull)
			echo = append(echo, got...)
			if err != nil {
				return echo, err
			}
		}
		return echo, nil
	}
	if i := bytes.IndexByte(msg, '\n'); i >= 0 && i < len(msg)-1 {
		return nil, fmt.Errorf("%w: %s", ErrNewlineInMessage, describe.Bytes(msg))
	}
	line := msg
	if !bytes.HasSuffix(line, []byte{'\n'}) {
		line = append(line[:len(line):len(line)], '\n')
	}
	return c.exchange(line, c.readLine)
}

// exchange writes sent, reads its echo with read and compares the two.
func (c *Client) exchange(sent []byte, read func(n int) ([]byte, error)) ([]byte, error) {
	if _, err := c.conn.Write(sent); err != nil {
		if !c.echoed && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)) {
			return nil, resetAtOnce(c.addr, err)
		}
		return nil, fmt.Errorf("send to %s: %w", c.addr, describe.Cause(err))
	}
	got, err := read(len(sent))
	if err != nil {
		return got, c.readError(err, sent, len(got))
	}
	c.echoed = true
	if !bytes.Equal(got, sent) {
		return got, fmt.Errorf("%w: sent %s, got %s", ErrEchoDiffers, describe.Bytes(sent), describe.Bytes(got))
	}
	return got, nil
}

// readFull reads exactly n bytes.
func (c *Client) readFull(n int) ([]byte, error) {
	got := make([]byte, n)
	k, err := io.ReadFull(c.rd, got)
	return got[:k], err
}

// readLine reads up to and including the first '\n', but never more than
// n bytes: an echo cannot be longer than what was sent, so a server that
// drops the newline is caught without reading on forever.
func (c *Client) readLine(n int) ([]byte, error) {
	got := make([]byte, 0, n)
	for len(got) < n {
		if c.rd.Buffered() == 0 {
			if _, err := c.rd.Peek(1); err != nil {
				return got, err
			}
		}
		chunk, _ := c.rd.Peek(min(c.rd.Buffered(), n-len(got)))
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			chunk = chunk[:i+1]
		}
		got = append(got, chunk...)
		c.rd.Discard(len(chunk))
		if got[len(got)-1] == '\n' {
			break
		}
	}
	return got, nil
}

func (c *Client) readError(err error, sent []byte, got int) error {
	want := len(sent)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded) && got == 0 && c.framing == FramingStream && !bytes.HasSuffix(sent, []byte{'\n'}):
		// A line server waits for a newline that a stream client never
		// sends: say so, rather than only that nothing came.
		return fmt.Errorf("timed out after %v waiting for the echo from %s (got 0 of %d bytes; a line server waits for a newline: is it one? then use line framing): %w", c.timeout, c.addr, want, os.ErrDeadlineExceeded)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("timed out after %v waiting for the echo from %s (got %d of %d bytes): %w", c.timeout, c.addr, got, want, os.ErrDeadlineExceeded)
	case errors.Is(err, syscall.ECONNRESET) && got == 0 && !c.echoed:
		return resetAtOnce(c.addr, err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%s closed the connection after %d of %d echoed bytes: %w", c.addr, got, want, io.ErrUnexpectedEOF)
	case isTLSAlert(err):
		// In TLS 1.3 a client learns that the server refused its
		// certificate (or its lack of one) only at its first read.
		return &handshakeError{addr: c.addr, err: describe.Cause(err)}
	}
	return fmt.Errorf("read echo from %s: %w", c.addr, describe.Cause(err))
}

// Close ends the exchange the way RFC 862 describes: it half-closes the
// connection, waits (at most the timeout) for the server to close its side,
// then closes. Bytes the server sends after the last echo mean an echo was
// wrong, and Close reports them with ErrEchoDiffers.
func (c *Client) Close() error {
	defer c.conn.Close()
	cw, ok := c.conn.(interface{ CloseWrite() error })
	if !ok {
		return nil
	}
	if err := cw.CloseWrite(); err != nil {
		return nil // the connection is gone already; nothing more can come
	}
	c.conn.SetReadDeadline(time.Now().Add(c.timeout))
	extra, _ := io.ReadAll(io.LimitReader(c.rd, maxTrailing))
	if len(extra) > 0 {
		return fmt.Errorf("%w: after the last echo %s sent %d more bytes: %s", ErrEchoDiffers, c.addr, len(extra), describe.Bytes(extra))
	}
	return nil
}

// Abort closes the connection at once, without Close's checks: for giving
// up, or for interrupting an Echo from another goroutine.
func (c *Client) Abort() error { return c.conn.Close() }

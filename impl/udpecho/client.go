package udpecho

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/echospec/echo/internal/describe"
)

// DefaultTimeout is how long a client waits for each attempt's echo when
// Dialer.Timeout is 0.
const DefaultTimeout = time.Second

// ErrNoEcho says no datagram matching the message came back, after every
// attempt. The error that wraps it also wraps the last attempt's cause:
// os.ErrDeadlineExceeded when nothing came in time, syscall.ECONNREFUSED
// when the host said nothing listens on that port.
var ErrNoEcho = errors.New("no echo")

// A Dialer opens Clients. Its zero value uses an ephemeral local port,
// waits DefaultTimeout for an echo and does not resend.
type Dialer struct {
	// LocalAddr, if set, is the local "host:port" to send from. Leave it
	// empty for an ephemeral port, so that any number of clients can run
	// at once; the article's client fixed port 8090, so a second one could
	// not start.
	LocalAddr string
	// Timeout is how long each attempt waits for the echo. 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// Retries is how many times a message is sent again when no echo came
	// in time. 0 means it is sent once.
	Retries int
}

// Client sends datagrams to one echo server. It is not safe for concurrent
// use; open one per goroutine.
type Client struct {
	conn    *net.UDPConn
	addr    string
	timeout time.Duration
	retries int
	buf     []byte
}

// Dial prepares a client of the echo server at addr ("host:port") with a
// zero Dialer. UDP has no connection: nothing is sent until Echo.
func Dial(ctx context.Context, addr string) (*Client, error) {
	return (&Dialer{}).Dial(ctx, addr)
}

// Dial prepares a client of the echo server at addr ("host:port").
func (d *Dialer) Dial(ctx context.Context, addr string) (*Client, error) {
	timeout := d.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if timeout < 0 || d.Retries < 0 {
		return nil, fmt.Errorf("udpecho: Timeout %v and Retries %d must not be negative", timeout, d.Retries)
	}
	nd := net.Dialer{}
	if d.LocalAddr != "" {
		local, err := net.ResolveUDPAddr("udp", d.LocalAddr)
		if err != nil {
			return nil, fmt.Errorf("local address %s: %w", d.LocalAddr, describe.Cause(err))
		}
		nd.LocalAddr = local
	}
	// A connected socket: the kernel drops datagrams from anyone but the
	// server, and reports the server's host saying nothing listens.
	conn, err := nd.DialContext(ctx, "udp", addr)
	if err != nil {
		if d.LocalAddr != "" && errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("send from %s: the local address is in use: %w", d.LocalAddr, describe.Cause(err))
		}
		return nil, fmt.Errorf("prepare to send to %s: %w", addr, describe.Cause(err))
	}
	return &Client{
		conn:    conn.(*net.UDPConn),
		addr:    addr,
		timeout: timeout,
		retries: d.Retries,
		buf:     make([]byte, maxDatagram+1),
	}, nil
}

// LocalAddr returns the address the client sends from.
func (c *Client) LocalAddr() net.Addr { return c.conn.LocalAddr() }

// Echo sends msg as one datagram and returns the datagram that comes back
// equal to it. Datagrams that differ (late echoes of earlier messages, or a
// broken server's) are passed over. When none matches within the timeout,
// msg is sent again, up to Retries times; then the error wraps ErrNoEcho.
func (c *Client) Echo(msg []byte) ([]byte, error) {
	var (
		last      error  // why the last attempt got no echo
		differing int    // datagrams that came back and were not msg
		sample    []byte // the last of them, for the error message
	)
	attempts := c.retries + 1
	for range attempts {
		// Each attempt waits its whole timeout, whatever the host says:
		// "nothing listens here" may come from a server still starting.
		if err := c.conn.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
			return nil, fmt.Errorf("set deadline: %w", err)
		}
		refused := false
		if _, err := c.conn.Write(msg); err != nil {
			if !errors.Is(err, syscall.ECONNREFUSED) {
				return nil, fmt.Errorf("send to %s: %w", c.addr, describe.Cause(err))
			}
			// The host refused an earlier datagram, and the error took
			// this one's place: send it again.
			refused = true
			if _, err := c.conn.Write(msg); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
				return nil, fmt.Errorf("send to %s: %w", c.addr, describe.Cause(err))
			}
		}
		for {
			n, err := c.conn.Read(c.buf)
			if errors.Is(err, syscall.ECONNREFUSED) {
				refused = true
				continue // wait out the attempt
			}
			if err != nil {
				last = describe.Cause(err)
				break
			}
			if bytes.Equal(c.buf[:n], msg) {
				return bytes.Clone(c.buf[:n]), nil
			}
			differing++
			sample = append(sample[:0], c.buf[:min(n, 64)]...)
		}
		if !errors.Is(last, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("read echo from %s: %w", c.addr, last)
		}
		if refused {
			last = syscall.ECONNREFUSED
		}
	}
	err := fmt.Errorf("%w from %s after %d attempts, waiting %v each: %w", ErrNoEcho, c.addr, attempts, c.timeout, last)
	if differing > 0 {
		err = fmt.Errorf("%w (%d datagrams came back that differ from what was sent; the last began %s)", err, differing, describe.Bytes(sample))
	}
	return nil, err
}

// Close releases the client's socket.
func (c *Client) Close() error { return c.conn.Close() }

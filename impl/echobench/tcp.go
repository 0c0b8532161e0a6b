package echobench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/echospec/echo/impl/tcpecho"
)

// pingPong is a TCP connection that sends its message and waits for the
// echo, again and again.
type pingPong struct {
	conn    net.Conn
	msg     []byte
	echo    []byte
	timeout time.Duration
}

// dial opens connection i as the configuration says: plain TCP, or with a
// PROXY header, or TLS, as tcpclient dials.
func dial(ctx context.Context, cfg Config, i int) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	c, err := tcpecho.DialStream(ctx, cfg.Addr, cfg.ProxyHeader, cfg.TLS)
	if err != nil {
		return nil, fmt.Errorf("connection %d: %w", i+1, err)
	}
	return c, nil
}

func dialPingPong(ctx context.Context, cfg Config, i int) (*pingPong, error) {
	c, err := dial(ctx, cfg, i)
	if err != nil {
		return nil, err
	}
	msg := message(i, cfg.Size, cfg.Line)
	return &pingPong{conn: c, msg: msg, echo: make([]byte, len(msg)), timeout: cfg.Timeout}, nil
}

func (p *pingPong) close() { p.conn.Close() }

func (p *pingPong) run(ctx context.Context, r *running, m measures) {
	stop := context.AfterFunc(ctx, func() { p.conn.SetDeadline(aLongTimeAgo) })
	defer stop()
	for ctx.Err() == nil {
		start := time.Now()
		if _, err := p.conn.Write(p.msg); err != nil {
			r.failUnlessStopped(ctx, fmt.Errorf("send: %w", err))
			return
		}
		if _, err := io.ReadFull(p.conn, p.echo); err != nil {
			r.failUnlessStopped(ctx, fmt.Errorf("echo: %w", err))
			return
		}
		if !bytes.Equal(p.echo, p.msg) {
			r.fail(fmt.Errorf("%w: sent %q, got %q", ErrEchoDiffers, p.msg, p.echo))
			return // the stream is out of step; nothing after is comparable
		}
		if start.Before(m.from) {
			continue // the warm-up: checked, not counted
		}
		m.recordLatency(time.Since(start).Microseconds())
		r.roundTrips.Add(1)
		r.bytes.Add(int64(len(p.msg)))
	}
}

// failUnlessStopped counts err, unless it is the run ending.
func (r *running) failUnlessStopped(ctx context.Context, err error) {
	if ctx.Err() != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		return
	}
	r.fail(err)
}

// aLongTimeAgo is a deadline that has always passed: it stops a blocked
// read or write at once.
var aLongTimeAgo = time.Unix(1, 0)

// stream is a TCP connection that writes Size bytes while it reads them
// back, checking each against what it wrote.
type stream struct {
	conn interface {
		net.Conn
		CloseWrite() error // *net.TCPConn's, or *tls.Conn's close_notify
	}
	size int
	line bool
}

func dialStream(ctx context.Context, cfg Config, i int) (*stream, error) {
	c, err := dial(ctx, cfg, i)
	if err != nil {
		return nil, err
	}
	cw, ok := c.(interface {
		net.Conn
		CloseWrite() error
	})
	if !ok {
		c.Close()
		return nil, fmt.Errorf("connection %d: %T cannot half-close", i+1, c)
	}
	return &stream{conn: cw, size: cfg.Size, line: cfg.Line}, nil
}

func (s *stream) close() { s.conn.Close() }

// streamPattern returns a stream's repeating content and its period:
// lines of 128 bytes when line is set, otherwise bytes with a prime period
// and no '\n'. It is long enough that any chunk of up to 256 KiB starts
// anywhere in it, so that writing and checking are slices, not loops.
func streamPattern(line bool) ([]byte, int) {
	period := 251
	if line {
		period = 128
	}
	pat := make([]byte, 256<<10+period)
	for i := range pat {
		switch {
		case line && i%128 == 127:
			pat[i] = '\n'
		case line:
			pat[i] = 'a' + byte(i%128%26)
		default:
			pat[i] = byte(i % 251)
			if pat[i] == '\n' {
				pat[i] = 0xff
			}
		}
	}
	return pat, period
}

// run writes the stream while it reads it back. A stream has no round
// trips: what it measures is the rate each way, and how long the first
// byte took to come back.
func (s *stream) run(ctx context.Context, r *running, m measures) {
	stop := context.AfterFunc(ctx, func() { s.conn.SetDeadline(aLongTimeAgo) })
	defer stop()
	pat, period := streamPattern(s.line)
	start := time.Now()
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		for sent := 0; sent < s.size; {
			n, err := s.conn.Write(pat[sent%period : sent%period+min(64<<10, s.size-sent)])
			sent += n
			r.sent.Add(int64(n))
			if err != nil {
				return // the reader reports what went wrong
			}
		}
		r.sendDone(time.Since(start))
		s.conn.CloseWrite()
	}()
	// Wait for the writer, which a stopped run or a closed connection
	// ends, so that Sent is final when the run is.
	defer func() { <-writing }()
	buf := make([]byte, 256<<10)
	got := 0
	for got < s.size {
		n, err := s.conn.Read(buf)
		if got == 0 && n > 0 {
			m.recordFirstEcho(time.Since(start).Microseconds())
		}
		off := got % period
		if !bytes.Equal(buf[:n], pat[off:off+n]) {
			r.fail(fmt.Errorf("%w in bytes %d to %d of the stream", ErrEchoDiffers, got, got+n))
			s.conn.SetDeadline(aLongTimeAgo) // and stop the writer
			return
		}
		got += n
		r.bytes.Add(int64(n))
		if err != nil {
			r.failUnlessStopped(ctx, fmt.Errorf("stream after %d of %d bytes: %w", got, s.size, err))
			s.conn.SetDeadline(aLongTimeAgo)
			return
		}
	}
}

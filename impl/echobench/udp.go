package echobench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/echospec/echo/internal/describe"
)

// datagrams is a UDP socket that sends its message and waits for the
// echo, again and again; a datagram not back in time counts as lost.
type datagrams struct {
	conn    *net.UDPConn
	msg     []byte
	buf     []byte
	timeout time.Duration
}

func dialUDP(ctx context.Context, cfg Config, i int) (*datagrams, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, "udp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("socket %d: %w", i+1, err)
	}
	return &datagrams{conn: c.(*net.UDPConn), msg: message(i, cfg.Size, cfg.Line), buf: make([]byte, 65536), timeout: cfg.Timeout}, nil
}

func (d *datagrams) close() { d.conn.Close() }

// silentTries is how many datagrams in a row a socket sends without an
// echo, before any echo came back to any socket, until the run ends early:
// there is nobody to measure.
const silentTries = 3

func (d *datagrams) run(ctx context.Context, r *running, m measures) {
	stop := context.AfterFunc(ctx, func() { d.conn.SetDeadline(aLongTimeAgo) })
	defer stop()
	silent := 0
	for ctx.Err() == nil {
		if silent >= silentTries && r.roundTrips.Load() == 0 {
			r.abort(fmt.Errorf("%w: no echo from %s for %d datagrams in a row, waiting %v each", ErrNoService, r.cfg.Addr, silent, d.timeout))
			return
		}
		start := time.Now()
		if _, err := d.conn.Write(d.msg); err != nil {
			r.failUnlessStopped(ctx, fmt.Errorf("send: %w", err))
			return
		}
		d.conn.SetReadDeadline(start.Add(d.timeout))
		for {
			n, err := d.conn.Read(d.buf)
			if errors.Is(err, syscall.ECONNREFUSED) && r.roundTrips.Load() == 0 {
				// Nothing has ever answered, and the host says nothing
				// listens: counting a failure per datagram would only
				// count how fast the refusals come.
				r.abort(fmt.Errorf("%w: the host says nothing listens at %s (%w)", ErrNoService, r.cfg.Addr, describe.Cause(err)))
				return
			}
			if err != nil {
				if ctx.Err() == nil {
					r.fail(fmt.Errorf("datagram lost: %w", err))
					silent++
				}
				break
			}
			silent = 0
			if bytes.Equal(d.buf[:n], d.msg) {
				if !start.Before(m.from) { // the warm-up is checked, not counted
					m.recordLatency(time.Since(start).Microseconds())
					r.roundTrips.Add(1)
					r.bytes.Add(int64(n))
				}
				break
			}
			// A late echo of an earlier, lost one is the same message;
			// anything else is wrong.
			r.fail(fmt.Errorf("%w: sent %d bytes, got %d", ErrEchoDiffers, len(d.msg), n))
			break
		}
	}
}

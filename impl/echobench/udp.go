package echobench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
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

func (d *datagrams) run(ctx context.Context, r *running, latency *hdrhistogram.Histogram) {
	stop := context.AfterFunc(ctx, func() { d.conn.SetDeadline(aLongTimeAgo) })
	defer stop()
	for ctx.Err() == nil {
		start := time.Now()
		if _, err := d.conn.Write(d.msg); err != nil {
			r.failUnlessStopped(ctx, fmt.Errorf("send: %w", err))
			return
		}
		d.conn.SetReadDeadline(start.Add(d.timeout))
		for {
			n, err := d.conn.Read(d.buf)
			if err != nil {
				if ctx.Err() == nil {
					r.fail(fmt.Errorf("datagram lost: %w", err))
				}
				break
			}
			if bytes.Equal(d.buf[:n], d.msg) {
				latency.RecordValue(max(1, time.Since(start).Microseconds()))
				r.roundTrips.Add(1)
				r.bytes.Add(int64(n))
				break
			}
			// A late echo of an earlier, lost one is the same message;
			// anything else is wrong.
			r.fail(fmt.Errorf("%w: sent %d bytes, got %d", ErrEchoDiffers, len(d.msg), n))
			break
		}
	}
}

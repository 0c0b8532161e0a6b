package echobench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

// openLoop is a TCP connection that sends its message on a schedule,
// whatever has come back, while another goroutine reads the echoes: the
// way to measure latency without coordinated omission. A closed loop
// sends less while the server stalls, so its percentiles leave the stall
// out; here every message scheduled during a stall is late by what is
// left of it, and its latency, counted from when it should have been
// sent, says so.
type openLoop struct {
	conn     net.Conn
	msg      []byte
	interval time.Duration // between this connection's messages
	offset   time.Duration // of its first message, to spread connections out
	inFlight int
	timeout  time.Duration
}

func dialOpenLoop(ctx context.Context, cfg Config, i int) (*openLoop, error) {
	c, err := dial(ctx, cfg, i)
	if err != nil {
		return nil, err
	}
	interval := time.Duration(float64(time.Second) * float64(cfg.Conns) / cfg.Rate)
	return &openLoop{
		conn:     c,
		msg:      message(i, cfg.Size, cfg.Line),
		interval: interval,
		offset:   interval * time.Duration(i) / time.Duration(cfg.Conns),
		inFlight: cfg.MaxInFlight,
		timeout:  cfg.Timeout,
	}, nil
}

func (o *openLoop) close() { o.conn.Close() }

// flight is one message sent and not yet echoed.
type flight struct {
	intended, sent time.Time
}

func (o *openLoop) run(ctx context.Context, r *running, m measures) {
	flights := make(chan flight, o.inFlight) // its capacity bounds what is unanswered
	read := make(chan struct{})
	go func() {
		defer close(read)
		o.readEchoes(ctx, r, m, flights)
	}()
	o.send(ctx, r, m, flights)
	close(flights)
	// Echoes still on their way get the timeout to come back.
	o.conn.SetReadDeadline(time.Now().Add(o.timeout))
	<-read
}

// send sends the message at each scheduled time until ctx ends, at once
// when it is late.
func (o *openLoop) send(ctx context.Context, r *running, m measures, flights chan<- flight) {
	stop := context.AfterFunc(ctx, func() { o.conn.SetWriteDeadline(aLongTimeAgo) })
	defer stop()
	first := time.Now().Add(o.offset)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for k := 0; ; k++ {
		intended := first.Add(time.Duration(k) * o.interval)
		if wait := time.Until(intended); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		if ctx.Err() != nil {
			return
		}
		sent := time.Now()
		if _, err := o.conn.Write(o.msg); err != nil {
			r.failUnlessStopped(ctx, fmt.Errorf("send: %w", err))
			return
		}
		// After the write, not before: a write that the run's end cuts
		// short must leave no echo for the reader to wait for.
		select {
		case flights <- flight{intended: intended, sent: sent}: // waits while MaxInFlight are unanswered
		case <-ctx.Done():
			return
		}
		if !intended.Before(m.from) {
			r.messages.Add(1)
		}
	}
}

// readEchoes reads the echo of each message sent, in order, checks it and
// times it.
func (o *openLoop) readEchoes(ctx context.Context, r *running, m measures, flights <-chan flight) {
	echo := make([]byte, len(o.msg))
	for f := range flights {
		if _, err := io.ReadFull(o.conn, echo); err != nil {
			r.fail(fmt.Errorf("echo not back within %v of the last send: %w", o.timeout, err))
			return
		}
		now := time.Now()
		if !bytes.Equal(echo, o.msg) {
			r.fail(fmt.Errorf("%w: sent %q, got %q", ErrEchoDiffers, o.msg, echo))
			return
		}
		if f.intended.Before(m.from) {
			continue // the warm-up: checked, not counted
		}
		m.recordLatency(now.Sub(f.intended).Microseconds())
		m.recordUncorrected(now.Sub(f.sent).Microseconds())
		r.roundTrips.Add(1)
		r.bytes.Add(int64(len(o.msg)))
	}
}

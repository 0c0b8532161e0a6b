package echobench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Idle is the mode that opens Conns connections, has one message echoed
// on each, holds them all open and silent for Duration, then has one more
// echoed on each: whether the service (and every balancer and NAT on the
// way) holds that many connections, and keeps them. A held connection
// costs this side its socket and no goroutine or buffer, so one machine
// can hold as many as the service can.
const Idle = "idle"

// dialers is how many connections Hold opens at once: enough to open
// tens of thousands in seconds, few enough not to look like a flood.
const dialers = 16

// Held is the connections an idle run holds open.
type Held struct {
	cfg   Config
	conns []net.Conn
}

// Len is how many connections are held.
func (h *Held) Len() int { return len(h.conns) }

// Close closes every held connection.
func (h *Held) Close() error {
	var errs []error
	for _, c := range h.conns {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Hold opens cfg.Conns connections to the service, has one message echoed
// on each and keeps them open. The Result counts those echoes and the
// connections that failed; the Held are the ones that did not.
func Hold(ctx context.Context, cfg Config) (Result, *Held, error) {
	cfg.Mode = Idle
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Result{}, nil, err
	}
	run := &running{cfg: cfg}
	sh := newShard()
	held := &Held{cfg: cfg, conns: make([]net.Conn, cfg.Conns)}
	start := time.Now()
	each(cfg.Conns, func(i int) {
		c, err := dial(ctx, cfg, i)
		if err != nil {
			run.fail(err)
			return
		}
		if err := run.echoOnce(c, i, measures{shard: sh}); err != nil {
			c.Close()
			return
		}
		held.conns[i] = c
	})
	kept := held.conns[:0]
	for _, c := range held.conns {
		if c != nil {
			kept = append(kept, c)
		}
	}
	held.conns = kept
	res := run.snapshot(time.Since(start))
	res.Latency, res.FirstEcho = sh.latency, newHistogram()
	return res, held, nil
}

// Check has one more message echoed on each held connection, adding the
// round trips and failures to res.
func (h *Held) Check(ctx context.Context, res Result) Result {
	run := &running{cfg: h.cfg}
	sh := newShard()
	start := time.Now()
	each(len(h.conns), func(i int) {
		run.echoOnce(h.conns[i], i, measures{shard: sh})
	})
	more := run.snapshot(time.Since(start))
	res.RoundTrips += more.RoundTrips
	res.Bytes += more.Bytes
	res.Errors += more.Errors
	if res.FirstError == nil {
		res.FirstError = more.FirstError
	}
	res.Latency.Merge(sh.latency)
	return res
}

// runIdle is Run in the idle mode: Hold, a silence of cfg.Duration, Check.
func runIdle(ctx context.Context, cfg Config) (Result, error) {
	start := time.Now()
	res, held, err := Hold(ctx, cfg)
	if err != nil {
		return Result{}, err
	}
	defer held.Close()
	if held.Len() == 0 && res.Errors > 0 {
		return Result{}, fmt.Errorf("%w: %w", ErrNoService, res.FirstError)
	}
	silence := time.NewTimer(cfg.Duration)
	defer silence.Stop()
	select {
	case <-silence.C:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	res = held.Check(ctx, res)
	res.Elapsed = time.Since(start)
	return res, nil
}

// echoOnce sends connection i's message on c and checks its echo, within
// the configured timeout, counting the round trip or the failure.
func (r *running) echoOnce(c net.Conn, i int, m measures) error {
	msg := message(i, r.cfg.Size, r.cfg.Line)
	begin := time.Now()
	c.SetDeadline(begin.Add(r.cfg.Timeout))
	defer c.SetDeadline(time.Time{})
	got := make([]byte, len(msg))
	_, err := c.Write(msg)
	if err == nil {
		_, err = io.ReadFull(c, got)
	}
	switch {
	case err != nil:
		err = fmt.Errorf("connection %d: %w", i+1, err)
	case !bytes.Equal(got, msg):
		err = fmt.Errorf("connection %d: %w: sent %q, got %q", i+1, ErrEchoDiffers, msg, got)
	}
	if err != nil {
		r.fail(err)
		return err
	}
	m.recordLatency(time.Since(begin).Microseconds())
	r.roundTrips.Add(1)
	r.bytes.Add(int64(len(msg)))
	return nil
}

// each calls fn for 0..n-1, dialers at a time.
func each(n int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(n, dialers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

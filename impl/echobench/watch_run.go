package echobench

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/echospec/echo/internal/identity"
)

// RunWatch watches the echo service cfg names (cfg.Mode is Watch or
// empty): cfg.Conns flows, TCP connections or UDP sockets, each sending
// numbered messages on a fixed schedule, cfg.Rate a second in all (0:
// DefaultWatchRate per flow), for cfg.Duration, whatever comes back;
// then it waits up to cfg.Timeout for what is still due. A TCP flow whose
// connection ends opens a new one at once, and counts it. Each flow asks
// which backend answers it with the identity probe: a TCP flow as each
// connection opens; a UDP flow with its first message, every second, and
// after every silence. row, if set, is called after each second with
// that second's figures so far. The error is for a Config that cannot
// run; what the service did is in the result.
func RunWatch(ctx context.Context, cfg Config, row func(WatchSecond)) (WatchResult, error) {
	cfg.Mode = Watch
	cfg, err := cfg.withDefaults()
	if err != nil {
		return WatchResult{}, err
	}
	if cfg.Rate == 0 {
		cfg.Rate = DefaultWatchRate * float64(cfg.Conns)
	}
	interval := time.Duration(float64(time.Second) * float64(cfg.Conns) / cfg.Rate)
	if interval <= 0 {
		return WatchResult{}, configError("a rate that high leaves a flow no time between messages")
	}
	w := &watcher{cfg: cfg, interval: interval, book: newBook(cfg, cfg.Conns, interval), start: time.Now()}
	w.book.res.Started = w.start
	sendUntil := w.start.Add(cfg.Duration)
	stopRows := w.rows(ctx, row)
	var wg sync.WaitGroup
	for i, f := range w.book.flows {
		wg.Add(1)
		// Flows start spread over one interval, not all at once.
		first := w.start.Add(time.Duration(i) * interval / time.Duration(cfg.Conns))
		go func() {
			defer wg.Done()
			if cfg.Proto == UDP {
				w.udpFlow(ctx, f, first, sendUntil)
			} else {
				w.tcpFlow(ctx, f, first, sendUntil)
			}
		}()
	}
	wg.Wait()
	stopRows()
	res := w.book.finish(time.Since(w.start))
	return res, nil
}

// watcher is one watch: its configuration, its book and its clock.
type watcher struct {
	cfg      Config
	interval time.Duration // between a flow's messages
	book     *book
	start    time.Time
}

func (w *watcher) now() time.Duration { return time.Since(w.start) }

// rows calls row after every second until stopped.
func (w *watcher) rows(ctx context.Context, row func(WatchSecond)) (stop func()) {
	if row == nil {
		return func() {}
	}
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		last := int((w.cfg.Duration + time.Second - 1) / time.Second)
		for i := 1; i <= last; i++ {
			t := time.NewTimer(time.Until(w.start.Add(time.Duration(i) * time.Second)))
			select {
			case <-t.C:
				row(w.book.row(i-1, w.now()))
			case <-ctx.Done():
				t.Stop()
				return
			case <-done:
				t.Stop()
				return
			}
		}
	}()
	return func() { close(done); <-ended }
}

// schedule is a flow's send times: one every interval from first. A flow
// that could not send for a while (reconnecting) skips what it missed.
type schedule struct {
	next     time.Time
	interval time.Duration
	timer    *time.Timer
}

func newSchedule(first time.Time, interval time.Duration) *schedule {
	return &schedule{next: first, interval: interval, timer: time.NewTimer(time.Until(first))}
}

// due is ready at the next send time; after it fires, advance.
func (s *schedule) due() <-chan time.Time { return s.timer.C }

// advance moves to the send time after the one that came, skipping any
// already past, and sets the timer for it.
func (s *schedule) advance() {
	s.next = s.next.Add(s.interval)
	if late := time.Since(s.next); late > s.interval {
		s.next = s.next.Add(late.Truncate(s.interval))
	}
	s.timer.Reset(time.Until(s.next))
}

func (s *schedule) stop() { s.timer.Stop() }

// pause waits d, or less if ctx ends, and reports whether ctx is still on.
func pause(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// newNonce returns a probe nonce of printable letters: a TCP answer is
// read up to its newline, which the nonce must not hold.
func newNonce() identity.Nonce {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var n identity.Nonce
	rand.Read(n[:])
	for i := range n {
		n[i] = letters[int(n[i])%len(letters)]
	}
	return n
}

// tcpFlow runs one TCP flow until sendUntil, reconnecting whenever its
// connection ends.
func (w *watcher) tcpFlow(ctx context.Context, f *flowBook, first, sendUntil time.Time) {
	s := newSchedule(first, w.interval)
	defer s.stop()
	opened := false
	for ctx.Err() == nil && time.Now().Before(sendUntil) {
		conn, err := dial(ctx, w.cfg, f.id-1)
		if err == nil {
			err = w.identifyTCP(conn, f)
			if err != nil {
				conn.Close()
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			w.book.trouble(f, causeOf(err), true, w.now())
			// Again at once, as a well-behaved client would, but not in
			// a spin while nothing listens.
			if !pause(ctx, min(w.interval, 50*time.Millisecond)) {
				return
			}
			continue
		}
		if opened {
			w.book.reconnected(w.now())
		}
		opened = true
		w.tcpConnection(ctx, f, conn, s, sendUntil)
	}
}

// identifyTCP asks which backend the new connection reached, with the
// identity probe, and records its answer.
func (w *watcher) identifyTCP(conn net.Conn, f *flowBook) error {
	nonce := newNonce()
	probe := identity.Probe(nonce)
	conn.SetDeadline(time.Now().Add(w.cfg.Timeout))
	defer conn.SetDeadline(time.Time{})
	if _, err := conn.Write(probe); err != nil {
		return fmt.Errorf("identity probe: %w", err)
	}
	// The answer ends at its first newline (the nonce has none); the
	// probe echoed is the probe.
	buf := make([]byte, 0, identity.Size)
	one := make([]byte, 1)
	for len(buf) < identity.Size {
		if _, err := io.ReadFull(conn, one); err != nil {
			return fmt.Errorf("identity probe: %w", err)
		}
		buf = append(buf, one[0])
		if one[0] == '\n' && len(buf) < identity.Size {
			break
		}
	}
	switch name, ok := identity.ParseAnswer(buf, nonce); {
	case ok:
		w.book.identified(f, name)
	case bytes.Equal(buf, probe):
		w.book.identified(f, "")
	default:
		err := fmt.Errorf("%w: the identity probe came back as %q", ErrWrongEcho, buf)
		w.book.wrong(f, err)
		return err
	}
	return nil
}

// tcpConnection sends flow f's messages over conn on schedule s until
// sendUntil or the connection ends, reading their echoes meanwhile; then
// it waits up to the timeout for what is due, and closes conn.
func (w *watcher) tcpConnection(ctx context.Context, f *flowBook, conn net.Conn, s *schedule, sendUntil time.Time) {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(aLongTimeAgo) })
	defer stop()
	finished := make(chan struct{})
	read := make(chan error, 1)
	go func() { read <- w.readTCP(ctx, conn, f, finished) }()
	msg := make([]byte, w.cfg.Size)
	for sending := true; sending; {
		select {
		case err := <-read:
			w.ended(ctx, f, err)
			return
		case <-ctx.Done():
			<-read
			return
		case <-s.due():
		}
		if sending = time.Now().Before(sendUntil); !sending {
			break
		}
		s.advance()
		watchMessage(msg, f.id, w.book.send(f, w.now()))
		conn.SetWriteDeadline(time.Now().Add(w.cfg.Timeout))
		if _, err := conn.Write(msg); err != nil {
			w.book.trouble(f, causeOf(err), true, w.now())
			conn.Close()
			<-read
			return
		}
	}
	// Sending is over: what is due has the timeout to come back.
	w.book.stop(f, w.now())
	close(finished)
	if w.book.unanswered(f) == 0 {
		conn.SetReadDeadline(aLongTimeAgo)
	} else {
		conn.SetReadDeadline(time.Now().Add(w.cfg.Timeout))
	}
	w.ended(ctx, f, <-read)
}

// ended records why a connection's reading ended, if it was trouble.
func (w *watcher) ended(ctx context.Context, f *flowBook, err error) {
	if err != nil && ctx.Err() == nil {
		w.book.trouble(f, causeOf(err), true, w.now())
	}
}

// readTCP reads flow f's echoes from conn until it ends or fails, or,
// once finished is closed, nothing is due. A read that waits past the
// timeout while a message is overdue ends the connection: a well-behaved
// client gives up on a stalled one.
func (w *watcher) readTCP(ctx context.Context, conn net.Conn, f *flowBook, finished <-chan struct{}) error {
	echo, want := make([]byte, w.cfg.Size), make([]byte, w.cfg.Size)
	got := 0 // bytes of the next echo read so far
	for {
		select {
		case <-finished:
			if got == 0 && w.book.unanswered(f) == 0 {
				return nil
			}
		default:
			conn.SetReadDeadline(time.Now().Add(w.cfg.Timeout))
		}
		n, err := conn.Read(echo[got:])
		if err != nil && n == 0 && got == 0 && w.done(f, finished) {
			return nil
		}
		if got += n; got == len(echo) {
			got = 0
			if err := w.takeEcho(f, echo, want); err != nil {
				return err
			}
		}
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return nil
		case w.stalled(f, err, finished):
			return err
		}
	}
}

// takeEcho checks one echo of flow f and counts it.
func (w *watcher) takeEcho(f *flowBook, echo, want []byte) error {
	seq, ok := readWatchMessage(echo, want, f.id)
	if !ok {
		err := fmt.Errorf("%w: got %q", ErrWrongEcho, echo)
		w.book.wrong(f, err)
		return err
	}
	w.book.echo(f, seq, w.now())
	return nil
}

// stalled tells whether a read's err ends a TCP flow's connection: any
// error but a deadline while no message is overdue and sending goes on.
func (w *watcher) stalled(f *flowBook, err error, finished <-chan struct{}) bool {
	if !errors.Is(err, os.ErrDeadlineExceeded) || w.book.overdue(f, w.now()) {
		return true
	}
	select {
	case <-finished:
		return true
	default:
		return false
	}
}

// done tells whether flow f has stopped sending and has nothing due.
func (w *watcher) done(f *flowBook, finished <-chan struct{}) bool {
	select {
	case <-finished:
		return w.book.unanswered(f) == 0
	default:
		return false
	}
}

// udpFlow runs one UDP flow until sendUntil, then waits up to the
// timeout for what is due.
func (w *watcher) udpFlow(ctx context.Context, f *flowBook, first, sendUntil time.Time) {
	c, err := (&net.Dialer{}).DialContext(ctx, "udp", w.cfg.Addr)
	if err != nil {
		w.book.trouble(f, causeOf(err), true, w.now())
		return
	}
	conn := c.(*net.UDPConn)
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(aLongTimeAgo) })
	defer stop()
	nonce := newNonce()
	probe := identity.Probe(nonce)
	finished := make(chan struct{})
	read := make(chan struct{})
	go func() { defer close(read); w.readUDP(ctx, conn, f, nonce, probe, finished) }()
	s := newSchedule(first, w.interval)
	defer s.stop()
	msg := make([]byte, w.cfg.Size)
	lastProbe := -probeEvery
	for {
		select {
		case <-ctx.Done():
			<-read
			return
		case <-s.due():
		}
		if !time.Now().Before(sendUntil) {
			break
		}
		s.advance()
		now := w.now()
		w.book.silentFor(f, now)
		if w.book.probeDue(f, now, lastProbe) {
			lastProbe = now
			if _, err := conn.Write(probe); err != nil {
				w.book.trouble(f, causeOf(err), false, w.now())
			}
		}
		watchMessage(msg, f.id, w.book.send(f, now))
		if _, err := conn.Write(msg); err != nil {
			w.book.trouble(f, causeOf(err), false, w.now())
		}
	}
	w.book.stop(f, w.now())
	close(finished)
	if w.book.due(f, w.now()) == 0 {
		conn.SetReadDeadline(aLongTimeAgo)
	} else {
		conn.SetReadDeadline(time.Now().Add(w.cfg.Timeout))
	}
	<-read
}

// readUDP reads flow f's datagrams: echoes, the probe's answer or the
// probe itself come back; a refusal (ICMP port unreachable) is trouble,
// and reading goes on. Once finished is closed it stops when nothing is
// due, or at the deadline.
func (w *watcher) readUDP(ctx context.Context, conn *net.UDPConn, f *flowBook, nonce identity.Nonce, probe []byte, finished <-chan struct{}) {
	buf := make([]byte, max(w.cfg.Size, identity.Size)+1)
	want := make([]byte, w.cfg.Size)
	for {
		select {
		case <-finished:
			if w.book.due(f, w.now()) == 0 {
				return
			}
		default:
			conn.SetReadDeadline(time.Now().Add(w.cfg.Timeout))
		}
		n, err := conn.Read(buf)
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, os.ErrDeadlineExceeded):
			select {
			case <-finished:
				return
			default:
				continue
			}
		case err != nil && isClosed(err):
			return
		case err != nil:
			w.book.trouble(f, causeOf(err), false, w.now())
			continue
		}
		got := buf[:n]
		if name, ok := identity.ParseAnswer(got, nonce); ok {
			w.book.identified(f, name)
			continue
		}
		if bytes.Equal(got, probe) {
			w.book.identified(f, "")
			continue
		}
		if n != w.cfg.Size {
			w.book.wrong(f, fmt.Errorf("%w: a datagram of %d bytes, not %d", ErrWrongEcho, n, w.cfg.Size))
			continue
		}
		seq, ok := readWatchMessage(got, want, f.id)
		if !ok {
			w.book.wrong(f, fmt.Errorf("%w: got %q", ErrWrongEcho, got))
			continue
		}
		w.book.echo(f, seq, w.now())
	}
}

func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

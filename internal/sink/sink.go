// Package sink keeps a server's logs and event streams off its
// connections' path. A Writer takes each record into a bounded queue and
// returns at once; one goroutine writes the queue out. When the
// destination does not keep up, records are dropped and counted, never
// waited for, and the count is written as a record of its own once the
// destination takes records again. A destination that fails (a reader
// that went away, a full disk) is reported once, through a hook that the
// owner points wherever still works, and the server goes on.
//
// No library found does this with a bound in bytes, failure hooks and a
// flush with a deadline: zerolog's diode drops records too, but bounds
// their count, not their size, and cannot report a failed destination.
package sink

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultMaxQueue is the queue's bound when Config.MaxQueue is 0.
const DefaultMaxQueue = 1 << 20

// ErrNotFlushed is what Close returns when the destination did not take
// every record before the context ended: they are counted as dropped.
var ErrNotFlushed = errors.New("records were still waiting for the destination")

// Config says how a Writer reports what happened to its records.
type Config struct {
	// MaxQueue bounds the bytes waiting to be written; a record that does
	// not fit is dropped. 0 means DefaultMaxQueue.
	MaxQueue int

	// Dropped, if set, makes the record that says n records were dropped.
	// It is written where the dropped records would have been, once the
	// destination takes records again, and at Close.
	Dropped func(n uint64) []byte

	// Failed, if set, is called once per failure of the destination, from
	// the writing goroutine, with the error: to report it wherever still
	// works. The destination is tried again with the next records; the
	// Dropped record tells when it recovered.
	Failed func(err error)
}

// A Writer is an io.Writer whose Write never blocks and never fails. Each
// Write is one record: a log line, an event. It is safe for concurrent use.
type Writer struct {
	cfg  Config
	max  int
	open func() (io.Writer, error) // for a destination opened lazily
	// The destination, nil while a FIFO waits for its reader. The writing
	// goroutine owns it; it changes under mu, for Close to read.
	dst io.Writer
	own io.Closer // closed when the Writer stops, if the Writer opened it

	awaiting bool // Open found a FIFO without a reader

	mu        sync.Mutex
	pending   []byte
	records   uint64 // in pending
	spare     []byte
	dropping  bool   // a record was dropped since the last hand-over: drop until it
	unnoted   uint64 // dropped after the queued records, not yet reported
	lost      uint64 // failed to reach the destination before the queued records, not yet reported
	closing   bool
	dropped   atomic.Uint64 // in all
	wake      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// New returns a Writer that writes to dst, which it does not close.
func New(dst io.Writer, cfg Config) *Writer {
	w := newWriter(cfg)
	w.dst = dst
	go w.run()
	return w
}

func newWriter(cfg Config) *Writer {
	w := &Writer{cfg: cfg, max: cfg.MaxQueue, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if w.max <= 0 {
		w.max = DefaultMaxQueue
	}
	return w
}

// Write queues p as one record and returns len(p), nil, whether or not the
// record could be kept: a record that does not fit is counted in Dropped.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	switch {
	case w.closing || w.dropping || len(w.pending)+len(p) > w.max:
		// Once one record is dropped, later ones are too until the writer
		// takes the queue, so that the Dropped record stands where they
		// would have.
		w.dropping = true
		w.unnoted++
		w.dropped.Add(1)
	default:
		w.pending = append(w.pending, p...)
		w.records++
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
	return len(p), nil
}

// Dropped returns how many records were dropped in all.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Close writes what is queued until ctx ends, then stops the writing
// goroutine and closes the destination if the Writer opened it. Records
// written after Close are dropped. If ctx ends first, what is left is
// counted as dropped and Close returns ErrNotFlushed; a destination that
// cannot be interrupted may then stay blocked in its write, which ends
// with the process.
func (w *Writer) Close(ctx context.Context) error {
	w.closeOnce.Do(func() { close(w.stop) })
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
	}
	w.mu.Lock()
	w.closing = true
	n := w.records
	w.pending, w.records = w.pending[:0], 0
	w.mu.Unlock()
	w.dropped.Add(n)
	// Interrupt a write that waits, where the destination allows it.
	dst, own := w.destination()
	if d, ok := dst.(interface{ SetWriteDeadline(time.Time) error }); ok && d.SetWriteDeadline(time.Unix(1, 0)) == nil {
		<-w.done
	} else if own != nil {
		own.Close()
	}
	return ErrNotFlushed
}

// run is the one goroutine that writes.
func (w *Writer) run() {
	defer close(w.done)
	defer func() {
		if _, own := w.destination(); own != nil {
			own.Close()
		}
	}()
	var st runState
	for {
		stopping, idle := w.next(&st)
		if idle {
			continue
		}
		if w.dst == nil && !w.reopen() {
			if stopping {
				w.giveUp()
				return
			}
			st.waiting, st.retry = true, time.After(reopenEvery)
			continue
		}
		st.waiting = false
		w.writeQueued(&st)
		if stopping {
			if !st.waiting && !st.failed && w.hasPending() {
				continue // the stop is still there: go round again
			}
			w.giveUp()
			return
		}
	}
}

// runState is where the writing goroutine stands.
type runState struct {
	retry   <-chan time.Time // when to try a FIFO again
	waiting bool             // for a FIFO's reader: only the retry tries again
	failed  bool             // the last write failed, and that was reported
}

// next waits for something to do: records queued (idle while a FIFO's
// reader is awaited: only the retry tries again), the retry, or the stop.
func (w *Writer) next(st *runState) (stopping, idle bool) {
	select {
	case <-w.wake:
		return false, st.waiting
	case <-st.retry:
		st.retry = nil
		return false, false
	case <-w.stop:
		return true, false
	}
}

// writeQueued writes what is queued. A FIFO whose reader went away keeps
// it for the next reader; any other failure loses it, counted, and is
// reported once until a write succeeds again.
func (w *Writer) writeQueued(st *runState) {
	out, records, noted := w.take()
	if len(out) == 0 {
		return
	}
	n, err := w.dst.Write(out)
	switch {
	case err == nil:
		st.failed = false
	case w.open != nil && errors.Is(err, syscall.EPIPE):
		// The FIFO's reader went away. The Writer keeps its end open, so
		// that the next reader's open finds a writer, and keeps what was
		// not written for that reader.
		w.putBack(out[n:], records, noted)
		st.waiting, st.retry = true, time.After(reopenEvery)
	default:
		w.lose(records, noted)
		if !st.failed && w.cfg.Failed != nil && !w.isClosing() {
			w.cfg.Failed(err)
		}
		st.failed = true
	}
	w.giveBack(out)
}

// take hands the queue over to the writing goroutine: the queued records,
// with a Dropped record before them for what was lost before them, and
// one after them for what was dropped after them, so that each count
// stands where its records would have. noted is what those two count.
func (w *Writer) take() (out []byte, records, noted uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out, w.pending, w.spare = w.pending, w.spare[:0], nil
	records, w.records = w.records, 0
	if w.cfg.Dropped != nil {
		if w.lost > 0 {
			out = append(w.cfg.Dropped(w.lost), out...)
		}
		if w.unnoted > 0 {
			out = append(out, w.cfg.Dropped(w.unnoted)...)
		}
	}
	noted = w.lost + w.unnoted
	w.lost, w.unnoted, w.dropping = 0, 0, false
	return out, records, noted
}

func (w *Writer) giveBack(out []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if cap(out) <= w.max && w.spare == nil {
		w.spare = out[:0]
	}
}

func (w *Writer) hasPending() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.pending) > 0 || w.lost > 0 || w.unnoted > 0
}

// lose counts the records of a batch that did not reach the destination,
// and those its Dropped records counted, to be reported by the next
// Dropped record, written before whatever is queued now.
func (w *Writer) lose(records, noted uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lost += records + noted
	w.dropped.Add(records)
}

// putBack queues rest again, before what was queued since, if the bound
// allows; otherwise its records are lost.
func (w *Writer) putBack(rest []byte, records, noted uint64) {
	w.mu.Lock()
	if len(rest)+len(w.pending) > w.max {
		w.mu.Unlock()
		w.lose(records, noted)
		return
	}
	defer w.mu.Unlock()
	w.pending = append(append(make([]byte, 0, len(rest)+len(w.pending)), rest...), w.pending...)
	w.records += records
}

// giveUp counts what is still queued as dropped: the Writer is closing.
func (w *Writer) giveUp() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closing = true
	w.dropped.Add(w.records)
	w.pending, w.records = nil, 0
}

// reopenEvery is how often a Writer looks for a reader of its FIFO. The
// system tells a writer nothing when a reader opens one, so it looks.
const reopenEvery = 100 * time.Millisecond

// reopen tries to open a lazily opened destination, and reports whether
// it is there now.
func (w *Writer) reopen() bool {
	if w.open == nil {
		return false
	}
	dst, err := w.open()
	if err != nil {
		return false
	}
	own, _ := dst.(io.Closer)
	w.setDestination(dst, own)
	return true
}

// setDestination is how the writing goroutine changes its destination;
// Close reads it under the same lock.
func (w *Writer) setDestination(dst io.Writer, own io.Closer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dst, w.own = dst, own
}

func (w *Writer) destination() (io.Writer, io.Closer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dst, w.own
}

func (w *Writer) isClosing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closing
}

// Open returns a Writer to the file at path, created or truncated. A
// FIFO is opened without waiting for a reader: records queue, within the
// bound, until one comes. When the reader goes away, records queue again
// for the next one, which first reads how many did not fit. The Writer
// keeps its end open meanwhile, so that a reader's open does not wait.
// Any other failure to open is returned at once.
func Open(path string, cfg Config) (*Writer, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC | syscall.O_NONBLOCK
	f, err := os.OpenFile(path, flags, 0o644)
	w := newWriter(cfg)
	switch {
	case err == nil && !isFIFO(f):
		w.dst, w.own = f, f
	case err == nil || errors.Is(err, syscall.ENXIO):
		// A FIFO, with or without a reader now (ENXIO: without).
		w.open = func() (io.Writer, error) { return os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0) }
		if err == nil {
			w.dst, w.own = f, f
		}
	default:
		return nil, err
	}
	w.awaiting = w.dst == nil
	go w.run()
	if w.awaiting {
		w.wake <- struct{}{} // start looking for a reader
	}
	return w, nil
}

// AwaitingReader reports whether Open found a FIFO without a reader.
func (w *Writer) AwaitingReader() bool { return w.awaiting }

func isFIFO(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeNamedPipe != 0
}

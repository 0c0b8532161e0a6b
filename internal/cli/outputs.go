package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/echospec/echo/internal/eventline"
	"github.com/echospec/echo/internal/sink"
)

// exitFlush bounds how long a command waits at exit for its stderr and
// event stream to take their last records.
const exitFlush = time.Second

// DefaultEventsBuffer is how many bytes of events may wait for a slow
// -events reader before events are dropped and counted.
const DefaultEventsBuffer = 4 << 20

// stderrQueue bounds the log lines that may wait for a slow stderr.
const stderrQueue = 1 << 20

// stderrFailed is where a failing stderr is reported: the event stream,
// once a command has one.
var stderrFailed atomic.Pointer[func(error)]

// newStderr wraps the process's stderr so that no log line ever waits for
// it: a terminal that scrolls slowly, a pipe nobody reads, or one whose
// reader has gone cost records, counted, never a client's time.
func newStderr(stderr io.Writer) *sink.Writer {
	return sink.New(stderr, sink.Config{
		MaxQueue: stderrQueue,
		Dropped: func(n uint64) []byte {
			return logLine(slog.LevelWarn, "log lines were dropped: stderr did not keep up", "dropped", n)
		},
		Failed: func(err error) {
			if report := stderrFailed.Load(); report != nil {
				(*report)(err)
			}
		},
	})
}

// logLine formats one record as the servers' logger would.
func logLine(level slog.Level, msg string, args ...any) []byte {
	var b bytes.Buffer
	slog.New(slog.NewTextHandler(&b, nil)).Log(context.Background(), level, msg, args...)
	return b.Bytes()
}

// Dropped returns how many lines w dropped, if it is a stderr that drops
// lines rather than wait for its reader.
func Dropped(w io.Writer) uint64 {
	if d, ok := w.(interface{ Dropped() uint64 }); ok {
		return d.Dropped()
	}
	return 0
}

// Events is a server's -events stream: a file, a FIFO or stdout, written
// by one goroutine of its own so that a slow or absent reader never slows
// a client.
type Events struct {
	w *sink.Writer
}

// OpenEvents opens the -events destination of a server: a file to write
// (created or truncated), a FIFO (without waiting for its reader: events
// wait for one, within maxQueue bytes), or stdout for "-". Opening
// /dev/fd/N lets a parent process hand in a pipe. It returns nil for "".
// Trouble with the stream is logged to logger, and a failing stderr is
// reported in the stream.
func OpenEvents(path string, stdout io.Writer, maxQueue int, logger *slog.Logger) (*Events, error) {
	if path == "" {
		return nil, nil
	}
	cfg := sink.Config{
		MaxQueue: maxQueue,
		Dropped:  func(n uint64) []byte { return eventline.Dropped(n) },
		Failed: func(err error) {
			logger.Warn("the event stream failed; events are dropped and counted until it takes them again", "events", path, "err", err)
		},
	}
	var w *sink.Writer
	if path == "-" {
		w = sink.New(stdout, cfg)
	} else {
		var err error
		if w, err = sink.Open(path, cfg); err != nil {
			return nil, fmt.Errorf("open -events %s: %w", path, err)
		}
		if w.AwaitingReader() {
			logger.Warn("the -events FIFO has no reader yet; events wait for one, and past the buffer are dropped and counted", "events", path, "buffer", maxQueue)
		}
	}
	report := func(err error) {
		w.Write(eventline.Notice("stderr failed; log lines are dropped: " + err.Error()))
	}
	stderrFailed.Store(&report)
	return &Events{w: w}, nil
}

// Writer is where events go; nil for no stream.
func (e *Events) Writer() io.Writer {
	if e == nil {
		return nil
	}
	return e.w
}

// Dropped returns how many events were dropped in all.
func (e *Events) Dropped() uint64 {
	if e == nil {
		return 0
	}
	return e.w.Dropped()
}

// Close writes what is queued, waiting at most a moment for the reader.
func (e *Events) Close() {
	if e == nil {
		return
	}
	stderrFailed.Store(nil)
	ctx, cancel := context.WithTimeout(context.Background(), exitFlush)
	defer cancel()
	e.w.Close(ctx)
}

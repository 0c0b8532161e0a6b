package sink

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// gate is a destination that takes nothing until it is opened: a reader
// that stopped reading, then came back.
type gate struct {
	open    chan struct{}
	entered chan struct{} // closed when the first write waits
	once    sync.Once
	mu      sync.Mutex
	got     bytes.Buffer
}

func newGate() *gate { return &gate{open: make(chan struct{}), entered: make(chan struct{})} }

func (g *gate) Write(p []byte) (int, error) {
	g.once.Do(func() { close(g.entered) })
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.got.Write(p)
}

func (g *gate) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.got.String()
}

func droppedNote(n uint64) []byte { return fmt.Appendf(nil, "dropped %d\n", n) }

func TestAStalledDestinationNeverStallsWriters(t *testing.T) {
	g := newGate()
	w := New(g, Config{MaxQueue: 64, Dropped: droppedNote})
	w.Write([]byte("first\n"))
	<-g.entered // the writing goroutine is stuck on the first record

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 1000 {
			fmt.Fprintf(w, "record %d\n", i)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("1000 writes to a sink whose destination takes nothing did not return")
	}
	// 64 bytes hold seven of the 9-byte records; the rest are dropped.
	assert.Equal(t, uint64(1000-7), w.Dropped())

	close(g.open)
	require.NoError(t, w.Close(context.Background()))
	want := "first\nrecord 0\nrecord 1\nrecord 2\nrecord 3\nrecord 4\nrecord 5\nrecord 6\ndropped 993\n"
	assert.Equal(t, want, g.String(), "what was kept, in order, then how much was not, where it would have been")
}

func TestRecordsAfterADropWaitForTheNoteSoItStandsWhereTheyWere(t *testing.T) {
	g := newGate()
	w := New(g, Config{MaxQueue: 16, Dropped: droppedNote})
	w.Write([]byte("a\n"))
	<-g.entered
	w.Write([]byte("0123456789abcdef\n")) // too large: dropped
	w.Write([]byte("b\n"))                // would fit, but comes after a drop
	close(g.open)
	require.NoError(t, w.Close(context.Background()))
	assert.Equal(t, "a\ndropped 2\n", g.String())
}

// failing is a destination that fails until healed.
type failing struct {
	mu     sync.Mutex
	healed bool
	got    bytes.Buffer
}

func (f *failing) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.healed {
		return 0, syscall.ENOSPC
	}
	return f.got.Write(p)
}

func TestAFailingDestinationIsReportedOnceAndRecoveryIsNoted(t *testing.T) {
	f := &failing{}
	reports := make(chan error, 10)
	w := New(f, Config{Dropped: droppedNote, Failed: func(err error) { reports <- err }})
	w.Write([]byte("lost 1\n"))
	require.ErrorIs(t, <-reports, syscall.ENOSPC)
	for i := range 3 {
		fmt.Fprintf(w, "lost %d\n", i+2)
	}
	// Wait until the writer has tried and counted every one of them.
	require.Eventually(t, func() bool { return w.Dropped() == 4 }, 5*time.Second, time.Millisecond)
	assert.Empty(t, reports, "a failure is reported once, not once per record")

	f.mu.Lock()
	f.healed = true
	f.mu.Unlock()
	w.Write([]byte("kept\n"))
	require.NoError(t, w.Close(context.Background()))
	assert.Equal(t, "dropped 4\nkept\n", f.got.String(), "the count stands where the lost records were: before what came after them")
}

func TestAReaderThatGoesAwayIsAFailureNotAKill(t *testing.T) {
	r, wr, err := os.Pipe()
	require.NoError(t, err)
	reports := make(chan error, 1)
	w := New(wr, Config{Failed: func(err error) { reports <- err }})
	r.Close()
	w.Write([]byte("nobody reads this\n"))
	require.ErrorIs(t, <-reports, syscall.EPIPE)
	require.NoError(t, w.Close(context.Background()))
	wr.Close()
}

func TestCloseGivesUpWhenTheContextEnds(t *testing.T) {
	r, wr, err := os.Pipe() // pollable: a stuck write can be interrupted
	require.NoError(t, err)
	defer r.Close()
	defer wr.Close()
	w := New(wr, Config{MaxQueue: 4 << 20})
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for range 3 { // more than a pipe holds, with nobody reading
		w.Write(chunk)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	require.ErrorIs(t, w.Close(ctx), ErrNotFlushed)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.NotZero(t, w.Dropped())
}

// A FIFO with no reader: Open must not wait for one, records wait for the
// reader within the bound, and a reader that comes after one went away
// first learns what it missed.
func TestAFIFOIsWrittenOnceAReaderComes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events")
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	opened := make(chan *Writer, 1)
	go func() {
		w, err := Open(path, Config{Dropped: droppedNote})
		assert.NoError(t, err)
		opened <- w
	}()
	var w *Writer
	select {
	case w = <-opened:
	case <-time.After(5 * time.Second):
		t.Fatal("Open waited for the FIFO's reader")
	}
	w.Write([]byte("before the reader\n"))

	r, err := os.Open(path) // waits until the Writer opens its end
	require.NoError(t, err)
	lines := bufio.NewReader(r)
	line, err := lines.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "before the reader\n", line)
	r.Close()

	// Nobody reads now: the record waits for the next reader.
	w.Write([]byte("while nobody reads\n"))
	r, err = os.Open(path)
	require.NoError(t, err)
	defer r.Close()
	w.Write([]byte("after\n"))
	lines = bufio.NewReader(r)
	var got []string
	for !strings.HasSuffix(strings.Join(got, ""), "after\n") {
		line, err := lines.ReadString('\n')
		require.NoError(t, err)
		got = append(got, line)
	}
	assert.Equal(t, "while nobody reads\nafter\n", strings.Join(got, ""), "what the new reader got")
	require.NoError(t, w.Close(context.Background()))
}

func TestCloseDoesNotWaitForAFIFOThatNobodyOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events")
	require.NoError(t, syscall.Mkfifo(path, 0o600))
	w, err := Open(path, Config{})
	require.NoError(t, err)
	w.Write([]byte("never read\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, w.Close(ctx))
	assert.Equal(t, uint64(1), w.Dropped())
}

func TestOpenReportsWhatItCannotOpen(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "no", "such", "dir"), Config{})
	assert.ErrorIs(t, err, os.ErrNotExist, "%v", err)
}

func TestWritesAfterCloseAreDropped(t *testing.T) {
	var buf bytes.Buffer
	w := New(&buf, Config{})
	require.NoError(t, w.Close(context.Background()))
	n, err := w.Write([]byte("late\n"))
	assert.Equal(t, 5, n)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), w.Dropped())
	assert.Empty(t, buf.String())
}

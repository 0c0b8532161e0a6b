package tcpecho

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/echospec/echo/internal/identity"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The core is tested here without a socket: these tests play the driver.

// fakeBudget is a MaxHeld budget of max bytes (0: none).
type fakeBudget struct {
	max, held, most int64
	over            int
}

func (b *fakeBudget) charge(delta int, force bool) bool {
	if delta > 0 && !force && b.max > 0 && b.held+int64(delta) > b.max {
		return false
	}
	b.held += int64(delta)
	b.most = max(b.most, b.held)
	return true
}

func (b *fakeBudget) heldOver(net.Addr) { b.over++ }

// newCore is a connection's core as a server with s's settings makes it,
// told of every message through messages.
func newCore(t testing.TB, s *Server, b budget, messages *[][]byte) *core {
	t.Helper()
	cfg, err := s.settings()
	require.NoError(t, err)
	c := &core{cfg: &cfg, budget: b, state: stateActive, flow: &flow{}}
	var obs Observer
	if messages != nil {
		obs = ObserverFunc(func(e Event) {
			if e.Kind == MessageReceived {
				*messages = append(*messages, bytes.Clone(e.Message))
			}
		})
	}
	c.observing(obs)
	return c
}

// feed plays a driver that reads chunks, in order, into the core's room
// (a chunk larger than the room arrives in pieces), writes whatever it
// says to echo at once, then ends the stream; it returns what was echoed.
func feed(t testing.TB, c *core, chunks [][]byte) []byte {
	t.Helper()
	var echo []byte
	for steps := 0; ; steps++ {
		if steps > 1<<20 {
			t.Fatalf("no progress: inbox r %d w %d of %d, %d chunks left", c.in.r, c.in.w, len(c.in.buf), len(chunks))
		}
		e, _ := c.take()
		echo = append(echo, e...)
		if c.in.ending != nil {
			break
		}
		echo = append(echo, c.unheld()...)
		if len(chunks) == 0 {
			_ = c.judge(io.EOF, false, time.Now)
			continue
		}
		room := c.room()
		n := copy(room, chunks[0])
		if chunks[0] = chunks[0][n:]; len(chunks[0]) == 0 {
			chunks = chunks[1:]
		}
		c.arrived(n, n == len(room), time.Time{})
	}
	c.dropBuffer()
	return echo
}

// Every move between two states is allowed exactly when the design note
// (doc.go) says a connection can make it.
func TestStateMoves(t *testing.T) {
	allowed := map[string]bool{
		"accepted→preamble": true, "accepted→parked": true, "accepted→active": true, "accepted→closed": true,
		"preamble→active": true, "preamble→closed": true,
		"parked→active": true, "parked→closed": true,
		"waiting→active": true,
		"active→waiting": true, "active→parked": true, "active→draining": true, "active→closed": true,
		"draining→closed": true,
	}
	for from := stateAccepted; from <= stateClosed; from++ {
		for to := stateAccepted; to <= stateClosed; to++ {
			move := fmt.Sprintf("%v→%v", from, to)
			assert.Equal(t, allowed[move], canMove(from, to), move)
			c := &core{state: from}
			if allowed[move] {
				c.to(to)
				assert.Equal(t, to, c.state, move)
			} else {
				assert.Panics(t, func() { c.to(to) }, move)
			}
		}
	}
}

// How the driver reads next, for each place a connection can stand.
func TestNextRead(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	for _, tc := range []struct {
		name           string
		pending, full  bool
		draining       bool
		canPark, quiet bool
		bare, tls      bool
		want           readMode
	}{
		{name: "draining reads what has arrived", draining: true, canPark: true, quiet: true, bare: true, want: readNow},
		{name: "a pending unfinished message reads on", pending: true, canPark: true, quiet: true, bare: true, want: readInto},
		{name: "a full last read reads on", full: true, canPark: true, quiet: true, bare: true, want: readInto},
		{name: "quiet for parkGrace parks", canPark: true, quiet: true, bare: true, want: readPark},
		{name: "busy a moment ago waits to park", canPark: true, bare: true, want: readGrace},
		{name: "no loop waits without a buffer", bare: true, want: readBare},
		{name: "TLS waits on a small buffer", tls: true, want: readSmall},
		{name: "elsewhere reads into the buffer", want: readInto},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &core{state: stateActive, canPark: tc.canPark, flow: &flow{busy: now}}
			if tc.quiet {
				c.busy = now.Add(-parkGrace)
			}
			if tc.pending {
				c.in = inbox{buf: make([]byte, 8), w: 3}
			}
			c.in.full = tc.full
			if tc.draining {
				c.to(stateDraining)
			}
			assert.Equal(t, tc.want, c.nextRead(tc.bare, tc.tls, clock))
		})
	}
}

// What a read's error means for the connection.
func TestJudge(t *testing.T) {
	deadline := os.ErrDeadlineExceeded
	for _, tc := range []struct {
		name          string
		err           error
		closing       bool
		idle          time.Duration
		idleLeft      bool // the idle timeout has not passed yet
		grace         bool
		wantEnd       error
		wantEnding    error
		wantDraining  bool
		wantMovesIdle bool
	}{
		{name: "bytes go on", err: nil},
		{name: "end of stream echoes what is held, then ends", err: io.EOF, wantEnding: ErrClientClosed},
		{name: "shutdown's wake-up drains", err: deadline, closing: true, wantDraining: true},
		{name: "the idle timeout passed ends after the echo", err: deadline, idle: time.Second, wantEnding: ErrIdleTimeout},
		{name: "an early idle deadline is moved on", err: deadline, idle: time.Second, idleLeft: true, wantMovesIdle: true},
		{name: "the wait to park's deadline parks next", err: deadline, grace: true},
		{name: "closed by Close", err: net.ErrClosed, closing: true, wantEnd: ErrServerClosed},
		{name: "a reset is the client's", err: syscall.ECONNRESET, wantEnd: ErrClientReset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Now()
			c := &core{state: stateActive, cfg: &connConfig{idle: tc.idle}, flow: &flow{graceWait: tc.grace}}
			c.idle.since = now.Add(-tc.idle)
			if tc.idleLeft {
				c.idle.since = now
			}
			end := c.judge(tc.err, tc.closing, func() time.Time { return now })
			if tc.wantEnd != nil {
				require.ErrorIs(t, end, tc.wantEnd)
			} else {
				require.NoError(t, end)
			}
			assert.Equal(t, tc.wantEnding, c.in.ending)
			assert.Equal(t, tc.wantDraining, c.draining())
			assert.Equal(t, tc.wantMovesIdle, c.moveIdle)
			assert.False(t, c.graceWait, "a read ends the wait to park")
		})
	}
}

// An unfinished line is held while the budget takes it, and echoed on as
// it stands once the budget is spent: nothing is lost either way.
func TestUnfinishedLinesWithinTheBudget(t *testing.T) {
	for _, tc := range []struct {
		name     string
		max      int64
		wantOver int
		wantEcho []string // the echoes written, in order
	}{
		{name: "held", max: 0, wantEcho: []string{"one\n", "half a line\n"}},
		{name: "over the budget", max: 1, wantOver: 1, wantEcho: []string{"one\n", "half a ", "line\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &fakeBudget{max: tc.max}
			c := newCore(t, &Server{Framing: FramingLine}, b, nil)
			var echoes []string
			for _, chunk := range []string{"one\nhalf a ", "line\n"} {
				n := copy(c.room(), chunk)
				c.arrived(n, false, time.Time{})
				if e, _ := c.take(); len(e) > 0 {
					echoes = append(echoes, string(e))
				}
				if rest := c.unheld(); rest != nil {
					echoes = append(echoes, string(rest))
				}
			}
			assert.Equal(t, tc.wantEcho, echoes)
			assert.Equal(t, tc.wantOver, b.over)
			assert.LessOrEqual(t, b.most, max(tc.max, pooledSize), "held within the budget")
			c.dropBuffer()
			assert.Zero(t, b.held, "everything given back")
		})
	}
}

// The event loop's leftovers, for the connection's goroutine: the rest of
// an echo first, then an unfinished message, in a buffer of its own.
func TestLeftoversLeaveTheLoopsBuffer(t *testing.T) {
	c := newCore(t, &Server{Framing: FramingLine}, &fakeBudget{}, nil)
	loopBuf := make([]byte, 64)
	c.in = inbox{buf: loopBuf}
	c.arrived(copy(loopBuf, "ab\ncd\nef"), false, time.Time{})
	echo, _ := c.take()
	require.Equal(t, "ab\ncd\n", string(echo))
	written := 2 // the socket took "ab" only
	buf, n := c.leftovers(c.in.r - len(echo) + written)
	assert.Equal(t, "\ncd\nef", string(buf[:n]))
	loopBuf[1] = 'X'
	assert.Equal(t, "\ncd\nef", string(buf[:n]), "not the loop's buffer")
	putBuffer(buf)
}

// The deadlines' bookkeeping: lazy, and the write timeout counting from
// the client's last acknowledgement.
func TestDeadlineBookkeeping(t *testing.T) {
	t0 := time.Now()
	var d lazyDeadline
	d.since = t0
	assert.True(t, d.arm(time.Second), "first arm sets")
	d.since = t0.Add(100 * time.Millisecond)
	assert.False(t, d.arm(time.Second), "within an eighth: left alone")
	d.since = t0.Add(200 * time.Millisecond)
	assert.True(t, d.arm(time.Second), "an eighth behind: moved")
	assert.False(t, d.expired(t0.Add(time.Second), time.Second), "early: moved on")
	assert.True(t, t0.Add(1200*time.Millisecond).Equal(d.at))
	assert.True(t, d.expired(t0.Add(1200*time.Millisecond), time.Second))

	const timeout = time.Second
	var w writeClock
	assert.True(t, w.look(t0, false, true, timeout), "the first look")
	assert.False(t, w.look(t0.Add(timeout/ticks/2), false, true, timeout), "looks at most ticks times a timeout")
	assert.True(t, w.look(t0.Add(timeout/ticks/2), true, true, timeout), "unless forced")
	w.looked(t0.Add(timeout/2), 100, true)
	assert.False(t, w.timedOut(t0.Add(timeout), timeout), "the client took bytes half way")
	w.looked(t0.Add(timeout), 100, true)
	assert.True(t, w.timedOut(t0.Add(timeout*3/2), timeout), "and nothing since")
	assert.True(t, t0.Add(timeout*3/2).Equal(w.tick(t0.Add(timeout*3/2-timeout/ticks/2), timeout)), "the last tick is the timeout's end")
	var blind writeClock
	assert.False(t, blind.look(t0, false, false, timeout), "no acknowledgements to look at")
	assert.Equal(t, t0, blind.wd.since, "each write counts as taken")
}

// FuzzCore drives the core with arbitrary bytes, split at arbitrary
// points, in every framing, with and without a budget: the echo is the
// input, the messages make the input and keep within their bound, and
// the budget is never overdrawn and is given back whole.
func FuzzCore(f *testing.F) {
	f.Add([]byte("hello\nworld\n"), []byte{3, 0, 7}, uint8(1), uint16(0), uint16(0))
	f.Add(bytes.Repeat([]byte("x"), 5000), []byte{200}, uint8(1), uint16(64), uint16(100))
	f.Add([]byte("abcdefghij"), []byte{1}, uint8(2), uint16(0), uint16(0))
	f.Fuzz(func(t *testing.T, data, cuts []byte, framing uint8, maxLine, budgetMax uint16) {
		s := &Server{Framing: Framing(framing % 3), MaxLine: int(maxLine%4096) + 1, Size: int(maxLine%16) + 1}
		b := &fakeBudget{max: int64(budgetMax)}
		var messages [][]byte
		c := newCore(t, s, b, &messages)
		echo := feed(t, c, split(data, cuts))
		require.ErrorIs(t, c.in.ending, ErrClientClosed)
		require.True(t, bytes.Equal(data, echo), "echo %q of %q", echo, data)
		require.True(t, bytes.Equal(data, bytes.Join(messages, nil)), "messages %q", messages)
		for _, m := range messages {
			switch s.Framing {
			case FramingLine:
				require.LessOrEqual(t, len(m), s.MaxLine)
			case FramingFixed:
				require.LessOrEqual(t, len(m), s.Size)
			}
		}
		if b.max > 0 {
			require.LessOrEqual(t, b.most, max(b.max, 0), "the budget overdrawn")
		}
		require.Zero(t, b.held, "the budget given back")
		if !errors.Is(c.in.ending, ErrClientClosed) {
			t.Fatal(c.in.ending)
		}
	})
}

// A server with an identity answers a probe at a connection's start, in
// however many reads it arrives and whatever follows it, in every
// framing; anything that is not a probe there is echoed as it came.
func TestCoreAnswersTheIdentityProbe(t *testing.T) {
	nonce := identity.Nonce{'n', 'o', 'n', 'c', 'e'}
	probe := identity.Probe(nonce)
	answer := identity.AnswerInPlace(bytes.Clone(probe), "echo-b")
	nearly := bytes.Clone(probe)
	nearly[identity.Size-2] = 'x'
	cases := []struct {
		name   string
		chunks [][]byte
		want   []byte
	}{
		{"the probe in one read", [][]byte{probe}, answer},
		{"the probe a byte at a time", splitEvery(probe, 1), answer},
		{"the probe and data after it", [][]byte{append(bytes.Clone(probe), "hello\n"...)}, append(bytes.Clone(answer), "hello\n"...)},
		{"a probe after data is data", [][]byte{[]byte("hi\n"), probe}, append([]byte("hi\n"), probe...)},
		{"nearly a probe is data", [][]byte{nearly}, nearly},
		{"the start of a probe, then the end of the stream", [][]byte{probe[:20]}, probe[:20]},
		{"data like the magic's start", [][]byte{[]byte("ECHO\n")}, []byte("ECHO\n")},
	}
	for _, framing := range []Framing{FramingStream, FramingLine, FramingFixed} {
		for _, tc := range cases {
			t.Run(fmt.Sprintf("%v/%s", framing, tc.name), func(t *testing.T) {
				c := newCore(t, &Server{Framing: framing, Size: 8, Identity: "echo-b"}, &fakeBudget{}, nil)
				c.probing = true
				chunks := make([][]byte, len(tc.chunks))
				for i, ch := range tc.chunks {
					chunks[i] = bytes.Clone(ch)
				}
				assert.Equal(t, string(tc.want), string(feed(t, c, chunks)))
			})
		}
	}
}

// splitEvery cuts b into pieces of n bytes.
func splitEvery(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > n {
		out = append(out, b[:n])
		b = b[n:]
	}
	return append(out, b)
}

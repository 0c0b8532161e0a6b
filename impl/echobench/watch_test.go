package echobench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The watch's book is tested here without a socket: these tests play the
// drivers, telling it what was sent and what came back when.

func ms2(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func newTestBook(flows int) *book {
	return newBook(Config{Timeout: time.Second, Size: 128}, flows, 10*time.Millisecond)
}

func TestABookCountsEchoesLateLostDuplicatedAndOutOfOrder(t *testing.T) {
	b := newTestBook(1)
	f := b.flows[0]
	b.identified(f, "echo-a")
	for i := range 5 {
		b.send(f, ms2(10*i))
	}
	b.echo(f, 0, ms2(5))
	b.echo(f, 2, ms2(25))
	b.echo(f, 1, ms2(26))   // after a later one: out of order
	b.echo(f, 1, ms2(27))   // again: duplicated
	b.echo(f, 3, ms2(1500)) // after the timeout: late, and after a silence: a gap
	res := b.finish(ms2(2000))
	assert.Equal(t, int64(5), res.Sent)
	assert.Equal(t, int64(4), res.Echoed)
	assert.Equal(t, int64(1), res.OutOfOrder)
	assert.Equal(t, int64(1), res.Duplicated)
	assert.Equal(t, int64(1), res.Late)
	assert.Equal(t, int64(1), res.Lost, "message 4 never came back")
	assert.Equal(t, map[string]int64{"echo-a": 4}, res.Backends)
	require.Len(t, res.Gaps, 2)
	assert.Equal(t, Gap{Flow: 1, Start: ms2(26), Length: ms2(1500 - 26), Cause: CauseTimeout, Before: "echo-a", After: "echo-a"}, res.Gaps[0])
	assert.True(t, res.Gaps[1].Open, "message 4 was due at the end: the flow was still silent")
	assert.Equal(t, int64(1), res.Seconds[0].Lost, "counted in the second it was sent")
}

// A TCP connection that ends loses what it left unanswered, and its flow
// has a gap however short, with the cause, from the backend before to
// the one after.
func TestAConnectionThatEndsIsAGapWithItsCause(t *testing.T) {
	b := newTestBook(1)
	f := b.flows[0]
	b.identified(f, "echo-a")
	b.send(f, ms2(0))
	b.echo(f, 0, ms2(1))
	b.send(f, ms2(10))
	b.trouble(f, CauseReset, true, ms2(11))
	b.reconnected(ms2(12))
	b.identified(f, "echo-b")
	b.send(f, ms2(20))
	b.echo(f, 2, ms2(21))
	res := b.finish(ms2(30))
	assert.Equal(t, int64(1), res.Lost)
	assert.Equal(t, int64(1), res.Reconnects)
	require.Len(t, res.Gaps, 1)
	assert.Equal(t, Gap{Flow: 1, Start: ms2(1), Length: ms2(20), Cause: CauseReset, Before: "echo-a", After: "echo-b"}, res.Gaps[0])
	assert.Equal(t, map[string]int64{"echo-a": 1, "echo-b": 1}, res.Backends)
}

// After a silence a UDP flow's backend is unknown until its next probe
// comes back: the echoes meanwhile, and the gap's after, go to the
// backend the probe names, not the one before.
func TestAUDPFlowCreditsEchoesAfterASilenceToTheBackendItsProbeNames(t *testing.T) {
	b := newTestBook(1)
	f := b.flows[0]
	b.identified(f, "echo-a")
	b.send(f, ms2(0))
	b.echo(f, 0, ms2(1))
	b.send(f, ms2(10))
	b.trouble(f, CauseRefused, false, ms2(20))
	b.silentFor(f, ms2(900))
	assert.True(t, b.probeDue(f, ms2(900), ms2(800)), "a silence asks for a probe")
	b.send(f, ms2(1000))
	b.echo(f, 2, ms2(1001))
	b.identified(f, "echo-b")
	res := b.finish(ms2(1100))
	assert.Equal(t, map[string]int64{"echo-a": 1, "echo-b": 1}, res.Backends)
	require.Len(t, res.Gaps, 1)
	assert.Equal(t, Gap{Flow: 1, Start: ms2(1), Length: ms2(1000), Cause: CauseRefused, Before: "echo-a", After: "echo-b"}, res.Gaps[0])
}

// A flow's ordinary pace is no gap, nor the quiet after its last echo.
func TestAFlowAtItsPaceHasNoGap(t *testing.T) {
	b := newTestBook(1)
	f := b.flows[0]
	b.identified(f, "")
	for i := range 100 {
		b.send(f, ms2(10*i))
		b.echo(f, uint64(i), ms2(10*i+3))
	}
	b.stop(f, ms2(990))
	res := b.finish(ms2(5000))
	assert.Empty(t, res.Gaps)
	assert.Equal(t, int64(100), res.Unidentified)
	assert.Zero(t, res.Lost)
}

func TestWatchMessagesCarryTheirFlowAndNumber(t *testing.T) {
	msg, want := make([]byte, 64), make([]byte, 64)
	watchMessage(msg, 12, 3456)
	seq, ok := readWatchMessage(msg, want, 12)
	assert.True(t, ok)
	assert.Equal(t, uint64(3456), seq)
	assert.Equal(t, byte('\n'), msg[63])
	assert.NotContains(t, string(msg[:63]), "\n")
	_, ok = readWatchMessage(msg, want, 1)
	assert.False(t, ok, "another flow's")
	msg[40] ^= 1
	_, ok = readWatchMessage(msg, want, 12)
	assert.False(t, ok, "a byte changed")
}

// A flow whose own sending stalls waits for nothing meanwhile: the quiet
// is the client's, not the service's, and no gap.
func TestAFlowWhoseSendingStallsHasNoGap(t *testing.T) {
	b := newTestBook(1)
	f := b.flows[0]
	b.identified(f, "echo-a")
	b.send(f, ms2(0))
	b.echo(f, 0, ms2(1))
	b.send(f, ms2(900)) // the sender was held up for most of a second
	b.echo(f, 1, ms2(901))
	b.stop(f, ms2(901))
	res := b.finish(ms2(1000))
	assert.Empty(t, res.Gaps)
}

// A watch that got no echo at all fails, saying what its flows saw.
func TestAWatchThatGotNoEchoFailsSayingWhatItSaw(t *testing.T) {
	b := newTestBook(1)
	b.trouble(b.flows[0], CauseRefused, true, ms2(5))
	err := b.finish(ms2(1000)).Judge(0, -1)
	require.ErrorIs(t, err, ErrNoService)
	assert.ErrorContains(t, err, "the flows saw: refused 1")
}

// The gates: a gap longer than -max-gap, more lost than -max-lost.
func TestJudgeGates(t *testing.T) {
	b := newTestBook(1)
	f := b.flows[0]
	b.identified(f, "")
	b.send(f, ms2(0))
	b.echo(f, 0, ms2(1))
	b.send(f, ms2(10))
	b.send(f, ms2(20))
	b.echo(f, 2, ms2(700))
	res := b.finish(ms2(800))
	require.NoError(t, res.Judge(0, -1))
	require.ErrorIs(t, res.Judge(500*time.Millisecond, -1), ErrGate)
	require.NoError(t, res.Judge(time.Second, 1))
	require.ErrorIs(t, res.Judge(0, 0), ErrGate)
}

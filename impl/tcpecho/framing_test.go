package tcpecho

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFixedSplitTakesWhatHasArrivedUpToSize(t *testing.T) {
	split := fixedSplit(4)
	n, _ := split(nil, false, 0)
	assert.Equal(t, 0, n)
	n, _ = split([]byte("abc"), false, 0)
	assert.Equal(t, 3, n, "a short message must not wait for the buffer to fill")
	n, _ = split([]byte("abcdefghij"), false, 0)
	assert.Equal(t, 4, n)
}

func TestLineSplit(t *testing.T) {
	split := lineSplit(8)
	for _, tc := range []struct {
		data  string
		atEOF bool
		want  int
	}{
		{"", false, 0},
		{"hel", false, 0},
		{"hel", true, 3},
		{"hi\nthere\n", false, 3},
		{"hi\r\n", false, 4},
		{"12345678", false, 8},   // a full line's worth without '\n': a piece
		{"1234567\n", false, 8},  // exactly the longest line
		{"12345678\n", false, 8}, // one byte over: the '\n' comes as its own piece
		{"123456789abc", true, 8},
	} {
		n, _ := split([]byte(tc.data), tc.atEOF, 0)
		assert.Equal(t, tc.want, n, "%q atEOF=%v", tc.data, tc.atEOF)
	}
}

// An unfinished line is searched once, however it trickles in: each call
// is told how much is known to hold no '\n', and searches only the rest.
// Searching from there must find what a search from the start finds.
func TestLineScanningResumesWhereItStopped(t *testing.T) {
	const maxLine = 8
	line := []byte("abcdefg\nxyz\n1234567890")
	split, consume := lineSplit(maxLine), lineConsume(maxLine)
	for _, atEOF := range []bool{false, true} {
		for cut := 0; cut <= len(line); cut++ {
			// The first cut bytes arrived earlier and were searched.
			n, scanned := split(line[:cut], false, 0)
			if n > 0 {
				continue // a message was taken: the next search starts afresh
			}
			got, _ := split(line, atEOF, scanned)
			want, _ := split(line, atEOF, 0)
			assert.Equal(t, want, got, "split after %d bytes searched, atEOF=%v", cut, atEOF)

			taken, scanned := consume(line[:cut], false, 0)
			if taken > 0 {
				continue
			}
			got, left := consume(line, atEOF, scanned)
			want, _ = consume(line, atEOF, 0)
			assert.Equal(t, want, got, "consume after %d bytes searched, atEOF=%v", cut, atEOF)
			assert.Less(t, left, maxLine, "what is left unconsumed is less than a line's limit")
		}
	}
}

func TestFramingText(t *testing.T) {
	for _, f := range []Framing{FramingStream, FramingLine, FramingFixed} {
		text, err := f.MarshalText()
		require.NoError(t, err)
		var back Framing
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, f, back)
	}
	var f Framing
	require.EqualError(t, f.UnmarshalText([]byte("lines")), `framing must be stream, line or fixed, not "lines"`)
	assert.Equal(t, "stream", Framing(0).String(), "the zero value is stream framing")
}

// count, which DataWritten reports, says how many messages split would
// make of what consume takes, for every framing, whatever the data.
func TestCountAgreesWithSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range []*Server{{Framing: FramingStream}, {Framing: FramingFixed, Size: 4}, {Framing: FramingFixed, Size: 100}, {Framing: FramingLine, MaxLine: 8}, {Framing: FramingLine, MaxLine: 1000}} {
		cfg, err := s.framed(max(s.Size, 1), max(s.MaxLine, 1))
		require.NoError(t, err)
		for range 2000 {
			data := make([]byte, rng.IntN(300))
			for i := range data {
				data[i] = "ab\n"[rng.IntN(3)]
			}
			atEOF := rng.IntN(2) == 0
			n, _ := cfg.consume(data, atEOF, 0)
			split, taken := 0, 0
			for taken < n {
				m, _ := cfg.split(data[taken:], atEOF, 0)
				require.NotZero(t, m, "%v: consume took bytes split would not", s.Framing)
				taken, split = taken+m, split+1
			}
			require.Equal(t, split, cfg.count(data[:n]), "%v (size %d, max line %d) of %q, at EOF %v", s.Framing, s.Size, s.MaxLine, data[:n], atEOF)
		}
	}
}

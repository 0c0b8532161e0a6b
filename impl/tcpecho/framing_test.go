package tcpecho

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFixedSplitTakesWhatHasArrivedUpToSize(t *testing.T) {
	split := fixedSplit(4)
	assert.Equal(t, 0, split(nil, false))
	assert.Equal(t, 3, split([]byte("abc"), false), "a short message must not wait for the buffer to fill")
	assert.Equal(t, 4, split([]byte("abcdefghij"), false))
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
		assert.Equal(t, tc.want, split([]byte(tc.data), tc.atEOF), "%q atEOF=%v", tc.data, tc.atEOF)
	}
}

func TestFramingText(t *testing.T) {
	for _, f := range []Framing{FramingLine, FramingFixed} {
		text, err := f.MarshalText()
		require.NoError(t, err)
		var back Framing
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, f, back)
	}
	var f Framing
	assert.EqualError(t, f.UnmarshalText([]byte("lines")), `framing must be fixed or line, not "lines"`)
	assert.Equal(t, "line", Framing(0).String(), "the zero value is line framing")
}

package tcpecho

import (
	"bufio"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dataWritten observes only what was written: no MessageReceived is
// wanted, so the counts come from the batch split it asks for.
type dataWritten struct{ *recorder }

func (dataWritten) Wants(k EventKind) bool { return k == DataWritten }

func TestDataWrittenCountsTheEchoAndItsMessages(t *testing.T) {
	for _, tc := range []struct {
		framing       Framing
		send          string
		bytes, frames int
	}{
		{FramingLine, "one\ntwo\nthr", len("one\ntwo\n"), 2},
		{FramingFixed, "abcdefghij", 10, 3}, // messages of at most -size 4 bytes
		{FramingStream, "a read", len("a read"), 1},
	} {
		t.Run(tc.framing.String(), func(t *testing.T) {
			rec := newRecorder()
			addr, _ := start(t, &Server{Framing: tc.framing, Size: 4, Observer: dataWritten{rec}})
			c, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Write([]byte(tc.send))
			require.NoError(t, err)
			e := rec.next(t, DataWritten)
			assert.Equal(t, tc.bytes, e.Bytes)
			assert.Equal(t, tc.frames, e.Messages)
			got := make([]byte, tc.bytes)
			_, err = bufio.NewReader(c).Read(got)
			require.NoError(t, err)
		})
	}
}

func TestDataWrittenComesAfterEveryMessageOfItsEcho(t *testing.T) {
	rec := newRecorder()
	addr, _ := start(t, &Server{Framing: FramingLine, Observer: rec})
	dialSending(t, addr, "a\nb\n")
	e := rec.next(t, DataWritten)
	assert.Equal(t, 2, e.Messages)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var kinds []EventKind
	for _, e := range rec.events {
		kinds = append(kinds, e.Kind)
	}
	assert.Equal(t, []EventKind{ConnOpened, DataRead, MessageReceived, MessageReceived, DataWritten}, kinds)
}

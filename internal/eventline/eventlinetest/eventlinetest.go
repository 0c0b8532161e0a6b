// Package eventlinetest checks an event stream's codec the way tcpecho's
// and udpecho's tests both need: every event written by the stream comes
// back from the reader.
package eventlinetest

import (
	"bufio"
	"bytes"
	"io"
	"testing"

	"github.com/echospec/echo/internal/observe"
)

// RoundTrip writes events through the stream that stream makes, reads each
// line back with read and hands each event sent with the one read to
// check. A line missing or unreadable fails the test.
func RoundTrip[E any](t *testing.T, stream func(io.Writer) observe.Observer[E], read func([]byte) (E, error), events []E, check func(sent, got E)) {
	t.Helper()
	var buf bytes.Buffer
	obs := stream(&buf)
	for _, e := range events {
		obs.Observe(e)
	}
	sc := bufio.NewScanner(&buf)
	for i, sent := range events {
		if !sc.Scan() {
			t.Fatalf("event %d of %d: no line", i+1, len(events))
		}
		got, err := read(sc.Bytes())
		if err != nil {
			t.Fatalf("event %d of %d: %v", i+1, len(events), err)
		}
		check(sent, got)
	}
	if sc.Scan() {
		t.Errorf("a line no event made: %q", sc.Text())
	}
}

package udpecho

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/echospec/echo/internal/eventline/eventlinetest"
	"github.com/stretchr/testify/assert"
)

func TestEventStreamRoundTrips(t *testing.T) {
	src := netip.MustParseAddrPort("127.0.0.1:40312")
	events := []Event{
		{Kind: Received, Source: src, Payload: []byte("hi")},
		{Kind: Received, Source: src, Payload: []byte{}},
		{Kind: Refused, Source: netip.MustParseAddrPort("127.0.0.9:7"), Payload: []byte("x"), Reason: ErrServicePort},
		{Kind: Refused, Source: netip.MustParseAddrPort("127.0.0.9:2049"), Payload: []byte("x"), Reason: ErrNFSPort},
		{Kind: Failed, Source: src, Reason: errors.New("answer: operation not permitted")},
		{Kind: Failed, Reason: errors.New("read datagram: no buffer space")}, // a failed read has no source
	}
	eventlinetest.RoundTrip(t, EventStream, ReadEvent, events, func(want, got Event) {
		assert.Equal(t, want.Kind, got.Kind)
		assert.Equal(t, want.Source, got.Source)
		if want.Payload != nil {
			assert.Equal(t, want.Payload, got.Payload)
		}
		if want.Reason != nil {
			assert.Equal(t, want.Reason.Error(), got.Reason.Error())
			assert.Equal(t, errors.Is(want.Reason, ErrServicePort), errors.Is(got.Reason, ErrServicePort))
		}
	})
}

// A line that is not an event of this stream is an error, never a guess.
func TestReadEventRejectsWhatIsNoEvent(t *testing.T) {
	for _, line := range []string{
		`{"kind":"received","source":"nowhere","payload":"aGk="}`,
		`{"kind":"conn opened","source":"127.0.0.1:1"}`,
		`not json`,
	} {
		_, err := ReadEvent([]byte(line))
		assert.Error(t, err, line)
	}
}

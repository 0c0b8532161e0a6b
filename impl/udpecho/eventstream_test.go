package udpecho

import (
	"bufio"
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	var buf bytes.Buffer
	obs := EventStream(&buf)
	for _, e := range events {
		obs.Observe(e)
	}
	sc := bufio.NewScanner(&buf)
	for _, want := range events {
		require.True(t, sc.Scan())
		got, err := ReadEvent(sc.Bytes())
		require.NoError(t, err)
		assert.Equal(t, want.Kind, got.Kind)
		assert.Equal(t, want.Source, got.Source)
		if want.Payload != nil {
			assert.Equal(t, want.Payload, got.Payload)
		}
		if want.Reason != nil {
			assert.Equal(t, want.Reason.Error(), got.Reason.Error())
			assert.Equal(t, errors.Is(want.Reason, ErrServicePort), errors.Is(got.Reason, ErrServicePort))
		}
	}
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

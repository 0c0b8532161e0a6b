package tcpecho

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/echospec/echo/internal/eventline/eventlinetest"
	"github.com/stretchr/testify/assert"
)

func TestEventStreamRoundTrips(t *testing.T) {
	remote := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40312}
	events := []Event{
		{Kind: ConnOpened, Conn: 1, Remote: remote},
		{Kind: DataRead, Conn: 1, Remote: remote, Bytes: 7},
		{Kind: MessageReceived, Conn: 1, Remote: remote, Message: []byte("\x00hello\n")},
		{Kind: ConnClosed, Conn: 1, Remote: remote, Reason: ErrClientClosed},
		{Kind: ConnClosed, Conn: 2, Remote: remote, Reason: ErrServerClosed},
		{Kind: ConnClosed, Conn: 3, Remote: remote, Reason: connError("read", syscall.ECONNRESET)},
		{Kind: ConnRejected, Conn: 5, Remote: remote, Reason: ErrTooManyFromSource},
		{Kind: ConnClosed, Conn: 4, Remote: remote, Reason: fmt.Errorf("write echo: broken pipe")},
	}
	eventlinetest.RoundTrip(t, EventStream, ReadEvent, events, func(want, got Event) {
		assert.Equal(t, want.Kind, got.Kind)
		assert.Equal(t, want.Conn, got.Conn)
		assert.Equal(t, want.Remote.String(), got.Remote.String())
		assert.Equal(t, want.Bytes, got.Bytes)
		assert.Equal(t, string(want.Message), string(got.Message))
		if want.Reason != nil {
			assert.Equal(t, want.Reason.Error(), got.Reason.Error())
			for _, sentinel := range []error{ErrClientClosed, ErrServerClosed, ErrClientReset, ErrTooManyFromSource} {
				assert.Equal(t, errors.Is(want.Reason, sentinel), errors.Is(got.Reason, sentinel), "%v is %v", want.Reason, sentinel)
			}
		}
	})
	_, err := ReadEvent([]byte(`{"kind":"nonsense"}`))
	assert.Error(t, err)
}

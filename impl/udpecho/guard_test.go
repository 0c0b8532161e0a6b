package udpecho

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRefusal(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want error
	}{
		{"127.0.0.1:7", ErrServicePort},
		{"10.0.0.1:19", ErrServicePort},
		{"127.0.0.1:1023", ErrServicePort},
		{"127.0.0.1:0", ErrServicePort},
		{"127.0.0.1:2049", ErrNFSPort},
		{"255.255.255.255:40000", ErrGroupSource},
		{"224.0.0.1:40000", ErrGroupSource},
		{"[ff02::1]:40000", ErrGroupSource},
		{"0.0.0.0:40000", ErrGroupSource},
		{"[::ffff:224.0.0.1]:40000", ErrGroupSource},
		{"[::ffff:127.0.0.1]:19", ErrServicePort},
		{"127.0.0.1:1024", nil},
		{"127.0.0.1:2048", nil},
		{"[::1]:50000", nil},
	} {
		assert.Equal(t, tc.want, refusal(netip.MustParseAddrPort(tc.src)), tc.src)
	}
}

func TestGuardRefusesItsOwnPortAndTheHostsBroadcasts(t *testing.T) {
	g := &guard{port: 7007}
	g.broadcasts.Store(&[]netip.Addr{netip.MustParseAddr("127.255.255.255")})
	for _, tc := range []struct {
		src  string
		want error
	}{
		{"127.0.0.1:7007", ErrOwnPort},
		{"10.1.2.3:7007", ErrOwnPort},
		{"[::ffff:127.0.0.2]:7007", ErrOwnPort},
		{"127.255.255.255:40000", ErrGroupSource},
		{"[::ffff:127.255.255.255]:40000", ErrGroupSource},
		{"127.0.0.1:7008", nil},
		{"127.255.255.254:40000", nil},
	} {
		d := &datagram{src: netip.MustParseAddrPort(tc.src), payload: []byte("x")}
		assert.Equal(t, tc.want, g.refusal(d), tc.src)
	}
}

func TestHostBroadcastsIncludeLoopbacks(t *testing.T) {
	assert.Contains(t, *hostBroadcasts(), netip.MustParseAddr("127.255.255.255"))
}

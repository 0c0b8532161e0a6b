package udpecho

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// repeat feeds g the same datagram from src until it is refused or the
// deadline passes, and returns the refusal.
func repeat(g *guard, src netip.AddrPort, deadline time.Time) error {
	d := &datagram{src: src, local: netip.MustParseAddrPort("127.0.0.1:7007"), payload: []byte("ping")}
	for time.Now().Before(deadline) {
		if err := g.refusal(d); err != nil {
			return err
		}
	}
	return nil
}

func TestLoopWatchRefusesAnEchoService(t *testing.T) {
	echo, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer echo.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := echo.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			echo.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	g := (&Server{}).newGuard(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7007})
	defer g.stop()
	src := echo.LocalAddr().(*net.UDPAddr).AddrPort()
	assert.Equal(t, ErrLoop, repeat(g, src, time.Now().Add(5*time.Second)))
}

func TestLoopWatchLetsAConnectedClientRepeatItself(t *testing.T) {
	// A client's socket connected to the server: the probe, from another
	// port, never reaches it.
	client, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7007})
	require.NoError(t, err)
	defer client.Close()
	g := (&Server{}).newGuard(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7007})
	defer g.stop()
	src := client.LocalAddr().(*net.UDPAddr).AddrPort()
	// Until the probe's wait is over, with the source still repeating
	// itself: never refused.
	d := &datagram{src: src, local: netip.MustParseAddrPort("127.0.0.1:7007"), payload: []byte("ping")}
	for deadline := time.Now().Add(10 * probeWait); g.watch.slots[slotOf(src)].probeResult() != notALoop; {
		require.NoError(t, g.refusal(d))
		require.True(t, time.Now().Before(deadline), "the probe did not end within %v", 10*probeWait)
	}
}

package udpecho

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// Why the reflection guard refuses a datagram. Each is the Reason of an
// Event of kind Refused.
var (
	// ErrServicePort: the datagram came from a port below 1024, where
	// services such as echo (7), daytime (13) and chargen (19) live.
	ErrServicePort = errors.New("source is a service port (below 1024)")
	// ErrNFSPort: the datagram came from port 2049, NFS's, which OpenBSD's
	// inetd refuses for the same reason.
	ErrNFSPort = errors.New("source is the NFS port 2049")
	// ErrGroupSource: the datagram claims a broadcast, multicast or
	// unspecified source, which no single host can be: it is forged.
	ErrGroupSource = errors.New("source is a broadcast, multicast or unspecified address")
	// ErrOwnPort: the datagram came from the server's own port number, on
	// this host or another: the server itself (a forged datagram), or
	// another echo service of the same fleet, which listens on the same
	// port. Clients send from ephemeral ports.
	ErrOwnPort = errors.New("source is the server's own port")
	// ErrLoop: the source answered the guard's probe with its echo, so it
	// is an echo service and the datagrams are a loop between the two.
	ErrLoop = errors.New("source is an echo service in a loop with this one")
)

// limitedBroadcast is 255.255.255.255, no host's own address.
var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// guard is one Serve's reflection guard: the rules that refuse a source
// outright, and the loop watch that ends a loop the rules let form.
type guard struct {
	port       uint16
	broadcasts atomic.Pointer[[]netip.Addr] // the host's subnets' broadcast addresses
	watch      loopWatch
	cancel     context.CancelFunc
	running    sync.WaitGroup
}

// broadcastsEvery is how often the guard rereads the host's addresses,
// which change as interfaces come and go.
const broadcastsEvery = 30 * time.Second

func (s *Server) newGuard(local net.Addr) *guard {
	g := &guard{}
	if a, ok := local.(*net.UDPAddr); ok {
		g.port = uint16(a.Port)
	}
	if s.DisableGuard {
		return g
	}
	var ctx context.Context
	ctx, g.cancel = context.WithCancel(context.Background())
	g.watch.init(ctx, &g.running)
	g.broadcasts.Store(hostBroadcasts())
	g.running.Go(func() {
		t := time.NewTicker(broadcastsEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				g.broadcasts.Store(hostBroadcasts())
			}
		}
	})
	return g
}

// stop ends the guard's goroutines and waits for them.
func (g *guard) stop() {
	if g.cancel != nil {
		g.cancel()
		g.running.Wait()
	}
}

// refusal returns why the guard refuses to answer d, or nil.
func (g *guard) refusal(d *datagram) error {
	if why := refusal(d.src); why != nil {
		return why
	}
	addr := d.src.Addr().Unmap()
	switch {
	case d.src.Port() == g.port:
		return ErrOwnPort
	case addr.Is4() && g.isBroadcast(addr):
		return ErrGroupSource
	}
	return g.watch.check(d)
}

func (g *guard) isBroadcast(addr netip.Addr) bool {
	if bs := g.broadcasts.Load(); bs != nil {
		for _, b := range *bs {
			if addr == b {
				return true
			}
		}
	}
	return false
}

// refusal returns why the guard's fixed rules refuse to answer src, or nil
// when an answer to it cannot start a loop with another service.
func refusal(src netip.AddrPort) error {
	addr := src.Addr().Unmap()
	switch {
	case addr.IsMulticast(), addr.IsUnspecified(), addr == limitedBroadcast:
		return ErrGroupSource
	case src.Port() < 1024:
		return ErrServicePort
	case src.Port() == 2049:
		return ErrNFSPort
	}
	return nil
}

// hostBroadcasts lists the broadcast addresses of the host's IPv4
// subnets, such as 127.255.255.255 for 127.0.0.1/8.
func hostBroadcasts() *[]netip.Addr {
	var bs []netip.Addr
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return &bs
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip4 := n.IP.To4()
		ones, bits := n.Mask.Size()
		if ip4 == nil || bits != 32 || ones >= 31 {
			continue
		}
		var b [4]byte
		for i := range b {
			b[i] = ip4[i] | ^n.Mask[len(n.Mask)-4+i]
		}
		bs = append(bs, netip.AddrFrom4(b))
	}
	return &bs
}

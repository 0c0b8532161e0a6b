package udpecho

import (
	"net"
	"net/netip"
)

// maxOrigins bounds the answers' control messages a Serve keeps, one per
// local address answered from: a host has few addresses, and past the
// bound each answer makes its own.
const maxOrigins = 64

// origin knows which local address each datagram was sent to and makes
// its answer leave from that address. A socket bound to one address needs
// nothing per datagram; one bound to a wildcard address (0.0.0.0, [::])
// receives for every address of the host, and without being told each
// datagram's destination the kernel would answer from whichever address
// routes to the client: a connected client of 127.0.0.2 would never see
// an answer from 127.0.0.1. So on Linux the kernel is asked for each
// datagram's destination (IP_PKTINFO, IPV6_PKTINFO) and each answer
// names its source, as miekg/dns's SessionUDP does.
type origin struct {
	bound   netip.AddrPort // the socket's own address
	perDest bool           // the kernel tells each datagram's destination
	v6      bool           // the socket is IPv6 (dual-stack for IPv4 clients)
	answers map[netip.Addr][]byte
}

// newOrigin looks at udp's address and, if it is a wildcard, asks the
// kernel to tell each datagram's destination.
func newOrigin(udp *net.UDPConn) *origin {
	o := &origin{}
	if udp == nil {
		return o
	}
	if a, ok := udp.LocalAddr().(*net.UDPAddr); ok {
		o.bound = a.AddrPort()
	}
	if o.bound.Addr().IsUnspecified() {
		o.perDest, o.v6 = askDestinations(udp)
		o.answers = make(map[netip.Addr][]byte)
	}
	return o
}

// oobSpace is the room a read leaves for control messages, or 0 when
// none are asked for.
func (o *origin) oobSpace() int {
	if o.perDest {
		return pktinfoSpace
	}
	return 0
}

// local returns the address a datagram with control messages oob was
// sent to, and the control message its answer must carry (nil when the
// kernel's own choice is right).
func (o *origin) local(oob []byte) (netip.AddrPort, []byte) {
	if !o.perDest {
		return o.bound, nil
	}
	dst, from, ok := destination(oob)
	if !ok {
		return o.bound, nil
	}
	local := netip.AddrPortFrom(dst.Unmap(), o.bound.Port())
	if !from.IsValid() || from.IsMulticast() || from.Unmap() == limitedBroadcast {
		return local, nil
	}
	answer, ok := o.answers[from]
	if !ok {
		answer = answerFrom(from, o.v6)
		if len(o.answers) < maxOrigins {
			o.answers[from] = answer
		}
	}
	return local, answer
}

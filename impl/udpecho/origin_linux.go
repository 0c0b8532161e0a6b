package udpecho

import (
	"net"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pktinfoSpace holds either packet-information control message.
var pktinfoSpace = unix.CmsgSpace(unix.SizeofInet6Pktinfo)

// askDestinations sets IP_PKTINFO on an IPv4 socket, IPV6_RECVPKTINFO on
// an IPv6 one (which Linux also reports, IPv4-mapped, for the IPv4
// datagrams of a dual-stack socket). It reports whether the kernel will
// tell, and whether the socket is IPv6.
func askDestinations(udp *net.UDPConn) (asked, v6 bool) {
	rc, err := udp.SyscallConn()
	if err != nil {
		return false, false
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		var domain int
		if domain, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN); serr != nil {
			return
		}
		v6 = domain == unix.AF_INET6
		if v6 {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVPKTINFO, 1)
		} else {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_PKTINFO, 1)
		}
	})
	return err == nil && serr == nil, v6
}

// destination reads oob's packet information: the datagram's destination
// and the local address an answer should leave from (for IPv4 the
// kernel's choice, which is a unicast address even for a datagram sent to
// a broadcast address).
func destination(oob []byte) (dst, from netip.Addr, ok bool) {
	for len(oob) > 0 {
		h, data, rest, err := unix.ParseOneSocketControlMessage(oob)
		if err != nil {
			return dst, from, false
		}
		oob = rest
		switch {
		case h.Level == unix.IPPROTO_IP && h.Type == unix.IP_PKTINFO && len(data) >= unix.SizeofInet4Pktinfo:
			pi := (*unix.Inet4Pktinfo)(unsafe.Pointer(&data[0]))
			return netip.AddrFrom4(pi.Addr), netip.AddrFrom4(pi.Spec_dst), true
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && len(data) >= unix.SizeofInet6Pktinfo:
			pi := (*unix.Inet6Pktinfo)(unsafe.Pointer(&data[0]))
			a := netip.AddrFrom16(pi.Addr)
			return a, a, true
		}
	}
	return dst, from, false
}

// answerFrom is the control message that makes an answer leave from
// local, on any interface the route chooses.
func answerFrom(local netip.Addr, v6 bool) []byte {
	if v6 {
		return unix.PktInfo6(&unix.Inet6Pktinfo{Addr: local.As16()})
	}
	return unix.PktInfo4(&unix.Inet4Pktinfo{Spec_dst: local.As4()})
}

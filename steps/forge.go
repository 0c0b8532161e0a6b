package steps

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// errNeedsRaw says a datagram could not be forged: a raw socket needs
// root or CAP_NET_RAW.
var errNeedsRaw = errors.New("forging a datagram's source needs a raw socket: root or CAP_NET_RAW")

// forge sends payload to dst as a UDP datagram that claims to come from
// src, as an attacker's would: the IPv4 and UDP headers are laid out by
// gopacket, and the datagram leaves on a raw socket, so the kernel checks
// nothing of the source.
func forge(src, dst netip.AddrPort, payload []byte) error {
	if !src.Addr().Is4() || !dst.Addr().Is4() {
		return fmt.Errorf("forge %v -> %v: only IPv4 datagrams are forged", src, dst)
	}
	ip := &layers.IPv4{
		Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP,
		SrcIP: src.Addr().AsSlice(), DstIP: dst.Addr().AsSlice(),
	}
	udp := &layers.UDP{SrcPort: layers.UDPPort(src.Port()), DstPort: layers.UDPPort(dst.Port())}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		return fmt.Errorf("forge: %w", err)
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, ip, udp, gopacket.Payload(payload)); err != nil {
		return fmt.Errorf("forge: lay out the datagram: %w", err)
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return errNeedsRaw
	}
	if err != nil {
		return fmt.Errorf("forge: raw socket: %w", err)
	}
	defer syscall.Close(fd)
	to := &syscall.SockaddrInet4{Addr: dst.Addr().As4()}
	if err := syscall.Sendto(fd, buf.Bytes(), 0, to); err != nil {
		return fmt.Errorf("forge: send %v -> %v: %w", src, dst, err)
	}
	return nil
}

// addrPortOf parses a "host:port" the services print.
func addrPortOf(s string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		return ap, fmt.Errorf("%q is not an address and port: %w", s, err)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

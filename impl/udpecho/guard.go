package udpecho

import (
	"errors"
	"net/netip"
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
)

// refusal returns why the guard refuses to answer src, or nil when an
// answer to it cannot start a loop with another service.
func refusal(src netip.AddrPort) error {
	addr := src.Addr().Unmap()
	switch {
	case addr.IsMulticast(), addr.IsUnspecified(), addr == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return ErrGroupSource
	case src.Port() < 1024:
		return ErrServicePort
	case src.Port() == 2049:
		return ErrNFSPort
	}
	return nil
}

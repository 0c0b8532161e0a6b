package tcpecho

import "golang.org/x/sys/unix"

// canSeeAcks: Linux tells what a peer acknowledged and the window it
// offers (TCP_INFO).
const canSeeAcks = true

// windowEdge returns the right edge of the window the peer of TCP socket
// fd offers: the bytes it acknowledged in all, plus the room it offers for
// more. It moves when the peer's program reads, not when the peer's kernel
// merely queues what arrives, for then the window shrinks as much as the
// acknowledgements grow. (A kernel before 5.4 reports no window; then it is
// what was acknowledged.)
func windowEdge(fd uintptr) (uint64, bool) {
	info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return 0, false
	}
	return info.Bytes_acked + uint64(info.Snd_wnd), true
}

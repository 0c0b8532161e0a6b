package echobench

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// recvErrors asks the kernel to report every ICMP error for a UDP
// socket: without IP_RECVERR Linux reports only "port unreachable" to a
// connected socket, and a host or network unreachable would pass for
// silence.
func recvErrors(network, _ string, rc syscall.RawConn) error {
	var err error
	ctl := rc.Control(func(fd uintptr) {
		if network == "udp6" {
			err = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVERR, 1)
			return
		}
		err = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_RECVERR, 1)
	})
	if ctl != nil {
		return ctl
	}
	return err
}

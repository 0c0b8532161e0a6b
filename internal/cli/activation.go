package cli

import (
	"errors"
	"fmt"
	"net"

	"github.com/coreos/go-systemd/v22/activation"
)

// ErrNotActivatable says systemd passed a socket of the wrong kind: a
// .socket unit's ListenDatagram= for tcpserver, ListenStream= for
// udpserver, or Accept=yes, which passes connections, not listeners.
var ErrNotActivatable = errors.New("not a socket this server can serve")

// firstListenFD is the first file descriptor systemd passes (SD_LISTEN_FDS_START).
const firstListenFD = 3

// ActivatedListeners returns the stream sockets systemd passed the
// process (LISTEN_FDS and LISTEN_PID, as sd_listen_fds reads them), or
// none when it was not started so. A server given them serves them
// instead of -listen.
func ActivatedListeners() ([]net.Listener, error) {
	ls, err := activation.Listeners()
	return usable(ls, err, "tcpserver takes a listening stream socket (ListenStream=, Accept=no)")
}

// ActivatedPacketConns returns the datagram sockets systemd passed the
// process, or none.
func ActivatedPacketConns() ([]net.PacketConn, error) {
	pcs, err := activation.PacketConns()
	return usable(pcs, err, "udpserver takes a datagram socket (ListenDatagram=)")
}

// usable returns the sockets go-systemd made of the passed descriptors,
// unless one is of a kind it could not make (nil), which want describes.
func usable[C interface{ Close() error }](socks []C, err error, want string) ([]C, error) {
	if err != nil {
		return nil, fmt.Errorf("socket activation: %w", err)
	}
	for i, s := range socks {
		if any(s) == nil {
			closeAll(socks)
			return nil, fmt.Errorf("socket activation: file descriptor %d: %w: %s", firstListenFD+i, ErrNotActivatable, want)
		}
	}
	return socks, nil
}

func closeAll[C interface{ Close() error }](cs []C) {
	for _, c := range cs {
		if any(c) != nil {
			c.Close()
		}
	}
}

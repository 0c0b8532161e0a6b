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
	if err != nil {
		return nil, fmt.Errorf("socket activation: %w", err)
	}
	for i, l := range ls {
		if l == nil {
			closeAll(ls)
			return nil, fmt.Errorf("socket activation: file descriptor %d: %w: tcpserver takes a listening stream socket (ListenStream=, Accept=no)", firstListenFD+i, ErrNotActivatable)
		}
	}
	return ls, nil
}

// ActivatedPacketConns returns the datagram sockets systemd passed the
// process, or none.
func ActivatedPacketConns() ([]net.PacketConn, error) {
	pcs, err := activation.PacketConns()
	if err != nil {
		return nil, fmt.Errorf("socket activation: %w", err)
	}
	for i, pc := range pcs {
		if pc == nil {
			closeAll(pcs)
			return nil, fmt.Errorf("socket activation: file descriptor %d: %w: udpserver takes a datagram socket (ListenDatagram=)", firstListenFD+i, ErrNotActivatable)
		}
	}
	return pcs, nil
}

func closeAll[C interface{ Close() error }](cs []C) {
	for _, c := range cs {
		if any(c) != nil {
			c.Close()
		}
	}
}

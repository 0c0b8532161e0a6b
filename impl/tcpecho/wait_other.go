//go:build !unix

package tcpecho

import "net"

// readWaiter cannot wait without a buffer here: connections keep theirs
// while they wait.
type readWaiter struct{}

func newReadWaiter(net.Conn) readWaiter { return readWaiter{} }

func (w *readWaiter) ok() bool { return false }

func (w *readWaiter) read(int) ([]byte, int, error) { panic("tcpecho: no readWaiter here") }

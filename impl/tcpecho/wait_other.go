//go:build !unix

package tcpecho

import "net"

// readWaiter cannot wait without a buffer, nor read without waiting, here:
// connections keep their buffer while they wait, and a shutdown echoes
// what the server has read, not what the kernel still holds.
type readWaiter struct{}

func (w *readWaiter) bind(net.Conn)       {}
func (w *readWaiter) unbound() readWaiter { return readWaiter{} }

func (w *readWaiter) ok() bool { return false }

func (w *readWaiter) read(int) ([]byte, int, error) { panic("tcpecho: no readWaiter here") }

func (w *readWaiter) readNow(net.Conn, []byte) (int, error) { return 0, nil }

// rawWriter is not to be had here either: writes go through net.Conn, and
// the write timeout counts from the end of each Write that took bytes.
type rawWriter struct{}

func (w *rawWriter) bind(*readWaiter, func()) {}
func (w *rawWriter) unbound() rawWriter       { return rawWriter{} }

func (w *rawWriter) ok() bool                   { return false }
func (w *rawWriter) seesAcks() bool             { return false }
func (w *rawWriter) windowEdge() (uint64, bool) { return 0, false }
func (w *rawWriter) write([]byte) (int, error)  { panic("tcpecho: no rawWriter here") }

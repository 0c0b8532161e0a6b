//go:build !linux

package udpecho

import "net"

// quietSocket is Linux's (see quiet_linux.go); elsewhere Serve reads
// through the poller.
type quietSocket struct{}

// readFlags are the flags of a batch read: none where batches are read a
// datagram at a time.
const readFlags = 0

func newQuietSocket(*net.UDPConn) *quietSocket { return nil }

func (*quietSocket) batchConn() batchConn { return nil }
func (*quietSocket) wake(bool)            {}
func (*quietSocket) close()               {}

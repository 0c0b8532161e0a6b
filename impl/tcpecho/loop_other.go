//go:build !linux

package tcpecho

import "net"

// parking is not to be had here: without epoll, a connection waits for
// its client on its own goroutine (see the package documentation).
type parking struct{}

func (p *parking) park(*conn) bool { return false }
func (p *parking) stop()           {}
func (p *parking) wait()           {}

func socketFd(net.Conn) (int, bool) { return 0, false }

func (c *conn) unpark() error { return nil }

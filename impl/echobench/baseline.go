package echobench

import (
	"io"
	"net"
)

// BaselineTCP is the smallest TCP echo server the standard library makes:
// a goroutine per connection and io.Copy, which splices on Linux. make
// bench measures ours against it, in the same run.
func BaselineTCP(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer c.Close()
			io.Copy(c, c)
		}()
	}
}

// BaselineUDP is the smallest UDP echo server: a ReadFrom and WriteTo loop.
func BaselineUDP(pc net.PacketConn) error {
	buf := make([]byte, 65536)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		pc.WriteTo(buf[:n], addr)
	}
}

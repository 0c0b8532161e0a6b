package steps

import (
	"net"
	"sync"
)

// gatedListener is a listener whose Accept a scenario can hold back.
type gatedListener struct {
	net.Listener
	mu   sync.Mutex
	gate chan struct{} // nil, or closed by release
}

func (g *gatedListener) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.gate = make(chan struct{})
}

func (g *gatedListener) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.gate != nil {
		close(g.gate)
		g.gate = nil
	}
}

// Accept accepts, then waits while the listener is held back before it
// hands the connection to the server: a server that has not got round to
// it yet. (The server may be waiting in Accept already when held.)
func (g *gatedListener) Accept() (net.Conn, error) {
	c, err := g.Listener.Accept()
	g.mu.Lock()
	gate := g.gate
	g.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return c, err
}

// Close releases a held Accept and closes the listener.
func (g *gatedListener) Close() error {
	g.release()
	return g.Listener.Close()
}

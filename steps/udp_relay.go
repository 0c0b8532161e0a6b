package steps

import (
	"fmt"
	"net"
	"sync"
	"time"
)

// udpRelay stands between UDP clients and a server and mistreats their
// datagrams as a bad network does: it drops some each way, sends every
// echo twice, and delivers echoes out of order. Which datagrams it drops
// is fixed (a pattern, not chance), so a scenario runs the same way
// every time.
type udpRelay struct {
	pc       net.PacketConn // where clients send
	upstream *net.UDPAddr
	drop     int // datagrams dropped of every 10, each way

	mu      sync.Mutex
	clients map[string]*relayedClient
	done    chan struct{}
}

// relayedClient is one client's path through the relay: its own socket to
// the server, so that echoes find their way back.
type relayedClient struct {
	addr     net.Addr
	conn     *net.UDPConn
	sent     int    // datagrams from the client so far
	answered int    // echoes from the server so far
	held     []byte // an echo held back, to be sent after the next
	holding  bool   // whether one is held (an empty echo is one too)
	holds    int    // how many echoes have been held, to tell a stale timer
	heldAt   *time.Timer
}

// reorderDelay is how long an echo is held back when no later one comes
// to overtake it.
const reorderDelay = 20 * time.Millisecond

func startUDPRelay(upstream string, drop int) (*udpRelay, error) {
	up, err := net.ResolveUDPAddr("udp", upstream)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the UDP relay: %w", err)
	}
	r := &udpRelay{pc: pc, upstream: up, drop: drop, clients: make(map[string]*relayedClient), done: make(chan struct{})}
	go r.fromClients()
	return r, nil
}

func (r *udpRelay) addr() string { return r.pc.LocalAddr().String() }

// dropped says whether the nth datagram (from 0) of a direction is lost.
func (r *udpRelay) dropped(n int) bool { return n%10 < r.drop }

func (r *udpRelay) fromClients() {
	defer close(r.done)
	buf := make([]byte, 65536)
	for {
		n, from, err := r.pc.ReadFrom(buf)
		if err != nil {
			return
		}
		c, err := r.client(from)
		if err != nil {
			continue
		}
		r.mu.Lock()
		lost := r.dropped(c.sent)
		c.sent++
		r.mu.Unlock()
		if !lost {
			c.conn.Write(buf[:n])
		}
	}
}

func (r *udpRelay) client(from net.Addr) (*relayedClient, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.clients[from.String()]; ok {
		return c, nil
	}
	conn, err := net.DialUDP("udp", nil, r.upstream)
	if err != nil {
		return nil, err
	}
	c := &relayedClient{addr: from, conn: conn}
	r.clients[from.String()] = c
	go r.fromServer(c)
	return c, nil
}

// fromServer relays c's echoes: some dropped, each sent twice, and every
// other one held back until the next has gone ahead of it (or until
// reorderDelay passes, when no next one comes).
func (r *udpRelay) fromServer(c *relayedClient) {
	buf := make([]byte, 65536)
	for {
		n, err := c.conn.Read(buf)
		if err != nil {
			return
		}
		echo := append([]byte(nil), buf[:n]...)
		r.mu.Lock()
		lost := r.dropped(c.answered)
		c.answered++
		if lost {
			r.mu.Unlock()
			continue
		}
		if c.holding {
			// Something is held back: this echo overtakes it.
			held := c.held
			c.heldAt.Stop()
			c.held, c.holding = nil, false
			r.mu.Unlock()
			r.send(c, echo)
			r.send(c, held)
			continue
		}
		c.held, c.holding = echo, true
		c.holds++
		hold := c.holds
		c.heldAt = time.AfterFunc(reorderDelay, func() { r.release(c, hold) })
		r.mu.Unlock()
	}
}

// release sends the echo held back, if it is still the hold'th one held.
func (r *udpRelay) release(c *relayedClient, hold int) {
	r.mu.Lock()
	if !c.holding || c.holds != hold {
		r.mu.Unlock()
		return
	}
	echo := c.held
	c.held, c.holding = nil, false
	r.mu.Unlock()
	r.send(c, echo)
}

// send delivers an echo twice.
func (r *udpRelay) send(c *relayedClient, echo []byte) {
	r.pc.WriteTo(echo, c.addr)
	r.pc.WriteTo(echo, c.addr)
}

func (r *udpRelay) stop() {
	r.pc.Close()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.clients {
		c.conn.Close()
		if c.heldAt != nil {
			c.heldAt.Stop()
		}
	}
}

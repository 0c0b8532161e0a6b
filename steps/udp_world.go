package steps

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/echospec/echo/impl/udpecho"
)

// udpEvent is a copy of a udpecho.Event that outlives the call.
type udpEvent struct {
	kind          udpecho.EventKind
	source, local netip.AddrPort
	reason        error
	at            time.Time // when the scenario learnt of it
}

func udpSummary(events []udpEvent) string {
	counts := map[udpecho.EventKind]int{}
	for _, e := range events {
		counts[e.kind]++
	}
	return fmt.Sprintf("%d datagrams answered, %d refused, %d failed", counts[udpecho.Received], counts[udpecho.Refused], counts[udpecho.Failed])
}

// udpWorld is a scenario's UDP side: its echo server, raw clients, the
// project's UDP client and the servers that are not ours.
type udpWorld struct {
	target Target
	udpConfig
	took time.Duration // how long the UDP echo client's last send took

	svc    service // the UDP echo server, once started
	addr   string  // where it listens
	events *eventLog[udpEvent]

	peers map[string]*udpPeer

	dialer    udpecho.Dialer
	got       []byte
	err       error
	crowd     []udpCrowdMember
	silent    *silentServer
	elsewhere string // where the UDP echo client sends instead of our server
	closers   []func()
	relay     *udpRelay // a bad path to the server, if any
	sentMsgs  [][]byte  // what the UDP echo client sent last, in order
	gotMsgs   [][]byte  // and what it got back

	forgedFrom    netip.AddrPort // the source a forged datagram claimed
	forgedTo      netip.AddrPort // and where it went
	forgedPayload []byte
	forgedMark    int     // how many events the server had seen when it was last sent
	second        service // another echo server, for loops between two
}

func newUDPWorld(t Target) *udpWorld {
	return &udpWorld{target: t, events: newEventLog(udpSummary), peers: make(map[string]*udpPeer)}
}

// errNoUDP says a conformance run was given no UDP address (make
// conformance UDP=host:port gives one); its scenarios skip.
var errNoUDP = errors.New("no UDP address")

func (u *udpWorld) started() bool { return u.svc != nil }

// startServer starts the scenario's UDP echo server, unless it runs
// already: as the run's mode says, on a free loopback port or at the
// address given.
func (u *udpWorld) startServer() error {
	if u.started() {
		return nil
	}
	svc, err := startUDP(u.target, u.udpConfig, u.events)
	if err != nil {
		return err
	}
	u.use(svc)
	return nil
}

// use makes svc the scenario's UDP echo server.
func (u *udpWorld) use(svc service) { u.svc, u.addr = svc, svc.address() }

// process is the scenario's udpserver process, or nil when its server is
// not one.
func (u *udpWorld) process() *serverProcess {
	if u.svc == nil {
		return nil
	}
	return u.svc.process()
}

// udpEvents records the lines of a UDP server process's event stream.
func udpEvents(log *eventLog[udpEvent]) func(line []byte) {
	return streamEvents(log, udpecho.ReadEvent, udpEventOf)
}

func udpEventOf(e udpecho.Event) udpEvent {
	return udpEvent{kind: e.Kind, source: e.Source, local: e.Local, reason: e.Reason, at: time.Now()}
}

func (u *udpWorld) close() error {
	for _, p := range u.peers {
		p.conn.Close()
	}
	for _, c := range u.closers {
		c()
	}
	if u.silent != nil {
		u.silent.close()
	}
	if u.second != nil {
		u.second.close()
	}
	if u.svc == nil {
		return nil
	}
	return u.svc.close()
}

// udpPeer is a client on a raw UDP socket, so that a scenario picks its
// source address and sees every datagram that comes back.
type udpPeer struct {
	conn *net.UDPConn
	sent []byte       // the last datagram sent, for "that datagram" and to resend
	to   *net.UDPAddr // where it went
}

// peer returns the named client, opening its socket on an ephemeral port
// first if it is new.
func (u *udpWorld) peer(name string) (*udpPeer, error) {
	if p, ok := u.peers[name]; ok {
		return p, nil
	}
	if err := u.startServer(); err != nil {
		return nil, err
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("open %s's socket: %w", name, err)
	}
	p := &udpPeer{conn: conn}
	u.peers[name] = p
	return p, nil
}

// errNeedsPrivilege says a port below 1024 could not be bound.
var errNeedsPrivilege = errors.New("binding a port below 1024 needs root or CAP_NET_BIND_SERVICE")

// peerOnPort opens a client socket on the given port. Scenarios run at
// once, so each takes its own loopback address (Linux routes all of
// 127.0.0.0/8 to the loopback interface) to keep the port to itself.
func (u *udpWorld) peerOnPort(port int) (*udpPeer, error) {
	name := fmt.Sprintf("the client on port %d", port)
	if p, ok := u.peers[name]; ok {
		return p, nil
	}
	if err := u.startServer(); err != nil {
		return nil, err
	}
	var last error
	for range 20 {
		ip := net.IPv4(127, byte(1+rand.IntN(254)), byte(rand.IntN(256)), byte(1+rand.IntN(254)))
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip, Port: port})
		if err == nil {
			p := &udpPeer{conn: conn}
			u.peers[name] = p
			return p, nil
		}
		if errors.Is(err, syscall.EACCES) {
			return nil, errNeedsPrivilege
		}
		last = err
	}
	return nil, fmt.Errorf("no free loopback address for a client on port %d: %w", port, last)
}

func (p *udpPeer) send(to string, b []byte) error {
	dst, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		return err
	}
	p.sent, p.to = b, dst
	if _, err := p.conn.WriteTo(b, dst); err != nil {
		return fmt.Errorf("send a datagram of %d bytes: %w", len(b), err)
	}
	return nil
}

// resendAfter is how long a client waits for an answer before it takes the
// datagram, or the answer, for lost and sends it again.
const resendAfter = time.Second

// receive waits for the next datagram from the address from, sending the
// last datagram again after each second of silence, until patience runs
// out: UDP may lose a datagram, and only a wrong answer is wrong. A
// datagram from elsewhere is not the answer (a connected client would
// never see it), but the error names where it came from.
func (p *udpPeer) receive(from string) ([]byte, error) {
	buf := make([]byte, 65536)
	deadline := time.Now().Add(patience)
	strays := map[string]int{}
	for attempt := 1; ; attempt++ {
		wait := time.Now().Add(resendAfter)
		if wait.After(deadline) {
			wait = deadline
		}
		p.conn.SetReadDeadline(wait)
		for {
			n, src, err := p.conn.ReadFrom(buf)
			if err != nil {
				if !errors.Is(err, os.ErrDeadlineExceeded) || time.Now().After(deadline) || p.to == nil {
					return nil, fmt.Errorf("no datagram came back from %s after %d attempts%s: %w", from, attempt, straysText(strays, from), err)
				}
				break
			}
			if src.String() == from {
				return buf[:n], nil
			}
			strays[src.String()]++
		}
		if _, err := p.conn.WriteTo(p.sent, p.to); err != nil {
			return nil, fmt.Errorf("send the datagram again: %w", err)
		}
	}
}

// straysText says where the datagrams that were not the answer came from.
func straysText(strays map[string]int, from string) string {
	if len(strays) == 0 {
		return ""
	}
	var parts []string
	for src, n := range strays {
		parts = append(parts, fmt.Sprintf("%d from %s", n, src))
	}
	slices.Sort(parts)
	return fmt.Sprintf(" (datagrams came instead: %s, which a client connected to %s never sees)", strings.Join(parts, ", "), from)
}

// from is where p's answer comes from: the address it sent to, or
// otherwise the server's.
func (p *udpPeer) from(server string) string {
	if p.to != nil {
		return p.to.String()
	}
	return server
}

// pending tells whether a datagram waits on p's socket, without waiting.
func (p *udpPeer) pending() (bool, error) {
	raw, err := p.conn.SyscallConn()
	if err != nil {
		return false, err
	}
	p.conn.SetReadDeadline(time.Time{}) // RawConn.Read refuses to run past a deadline
	var n int
	var rerr error
	buf := make([]byte, 1)
	err = raw.Read(func(fd uintptr) bool {
		n, _, rerr = syscall.Recvfrom(int(fd), buf, syscall.MSG_DONTWAIT|syscall.MSG_PEEK)
		return true
	})
	if err != nil {
		return false, err
	}
	if errors.Is(rerr, syscall.EAGAIN) {
		return false, nil
	}
	return rerr == nil && n >= 0, rerr
}

// silentServer receives datagrams, counts them, and never answers: a
// server whose replies are all lost.
type silentServer struct {
	conn *net.UDPConn
	log  *eventLog[[]byte]
	done chan struct{}
}

func startSilent() (*silentServer, error) {
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	s := &silentServer{conn: conn, done: make(chan struct{}), log: newEventLog(func(d [][]byte) string {
		return fmt.Sprintf("%d datagrams", len(d))
	})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 65536)
		for {
			n, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			s.log.add(bytes.Clone(buf[:n]))
		}
	}()
	return s, nil
}

func (s *silentServer) close() {
	s.conn.Close()
	<-s.done
}

// udpCrowdMember is one of many UDP echo clients running at once.
type udpCrowdMember struct {
	want, got [][]byte
	err       error
}

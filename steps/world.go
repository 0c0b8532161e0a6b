package steps

import (
	"context"
	"errors"
	"net"
	"os"
	"time"

	"github.com/echospec/echo/internal/testcert"
)

type worldKey struct{}

// world is one scenario's state: its server, its clients and what they
// saw, each subject in a room of its own. It lives in the scenario's
// context, so scenarios share nothing.
type world struct {
	target Target

	server  serverRoom   // the TCP echo server under test
	clients clientRoom   // who talks to it
	udp     *udpWorld    // the UDP echo server and its clients
	procs   processRoom  // processes: the binaries, tools, other servers
	haproxy haproxyRoom  // HAProxy in front of the servers
	link    *faultyLink  // a faulty link between the clients and the server, if any
	rollout *rolloutRoom // named servers and a watch of them, if any
	probe   *probeRoom   // a reachability probe's targets and verdicts, if any
	scratch scratchRoom  // what the scenario makes and must clean up
}

// serverRoom is the scenario's TCP echo server: how it is configured (it
// starts when a step first needs it, so Given steps can still change
// that), where it listens and what it saw.
type serverRoom struct {
	tcpConfig

	svc    service // the echo server, once started
	addr   string  // where it listens
	events *eventLog[event]

	shutdown struct {
		grace time.Duration
		err   error
	}
}

// clientRoom is the scenario's clients of the server.
type clientRoom struct {
	peers   map[string]*peer  // raw clients, by name
	sources map[string]string // the loopback address a client connects from, if not 127.0.0.1
	crowd   []crowdMember     // many clients at once
	silent  *silentCrowd      // many clients, held open and silent
	holders []*peer           // many clients, each holding an unfinished line
	waiting []net.Conn        // many clients, connected and silent until a step has them send
	steady  *steadyClients    // clients connecting one after another

	echo  echoClient    // the project's own client, under test
	fakes []*fakeServer // servers that are not ours, for the client to meet
	// elsewhere, when set, is where the echo client connects instead of
	// the echo server: a fake server, or an address nobody listens on.
	elsewhere string
	// resetOnConnect names the clients whose connect already saw the
	// server close the connection.
	resetOnConnect []string
}

// processRoom is what ran as a process: the binaries, in Process mode,
// and tools and servers that are not ours.
type processRoom struct {
	exited     *exited             // what a binary did
	signalled  time.Time           // when a server process was sent a signal
	fifo       string              // a FIFO the server writes its events to, if any
	taken      string              // an address held so that a server finds it in use
	activated  *activatedServer    // a server systemd-socket-activate started
	tool       *toolRun            // what nc or socat sent and printed
	fortio     *fortioRun          // what fortio reported
	bench      *benchReport        // what echobench reported
	thirdParty []*thirdPartyServer // servers that are not ours
}

// haproxyRoom is HAProxy in front of the scenario's servers.
type haproxyRoom struct {
	balancer balancerConfig // how HAProxy is to be set up
	lb       *haproxy       // HAProxy, once in front of the servers
	backends []backend      // every server behind HAProxy, the scenario's own first
}

// scratchRoom is what the scenario makes for itself.
type scratchRoom struct {
	dir       string              // a scratch folder, made when needed
	closers   []func()            // what else to close when the scenario ends
	authority *testcert.Authority // the scenario's test CA, made when needed
}

func newWorld(t Target) *world {
	return &world{
		target:  t,
		server:  serverRoom{events: newEventLog(summary)},
		clients: clientRoom{peers: make(map[string]*peer), sources: make(map[string]string)},
		udp:     newUDPWorld(t),
	}
}

// The rooms, for steps that need one subject alone.
func serverOf(ctx context.Context) *serverRoom     { return &worldFrom(ctx).server }
func clientsOf(ctx context.Context) *clientRoom    { return &worldFrom(ctx).clients }
func processesOf(ctx context.Context) *processRoom { return &worldFrom(ctx).procs }
func haproxyOf(ctx context.Context) *haproxyRoom   { return &worldFrom(ctx).haproxy }

func worldFrom(ctx context.Context) *world {
	w, _ := ctx.Value(worldKey{}).(*world)
	if w == nil {
		panic("steps: no scenario state in the context; is the Before hook registered?")
	}
	return w
}

// errNoTCP says a conformance run was given no TCP address (make
// conformance TCP=host:port gives one); its scenarios skip.
var errNoTCP = errors.New("no TCP address")

// started reports whether the scenario's TCP echo service is up.
func (w *world) started() bool { return w.server.svc != nil }

// startServer starts the scenario's echo server, unless it runs already:
// as the run's mode says, on a free loopback port or at the address given.
func (w *world) startServer() error {
	if w.started() {
		return nil
	}
	svc, err := startTCP(w.target, w.server.tcpConfig, w.server.events)
	if err != nil {
		return err
	}
	w.use(svc)
	return nil
}

// use makes svc the scenario's TCP echo server.
func (w *world) use(svc service) { w.server.svc, w.server.addr = svc, svc.address() }

// process is the scenario's tcpserver process, or nil when its server is
// not one.
func (w *world) process() *serverProcess {
	if w.server.svc == nil {
		return nil
	}
	return w.server.svc.process()
}

// tempDir returns the scenario's scratch folder, removed when it ends.
func (w *world) tempDir() (string, error) {
	if w.scratch.dir == "" {
		dir, err := os.MkdirTemp("", "echo-scenario-")
		if err != nil {
			return "", err
		}
		w.scratch.dir = dir
	}
	return w.scratch.dir, nil
}

// configure runs change on the server's configuration, which must happen
// before the server starts.
func (w *world) configure(change func()) error {
	if w.started() {
		return errors.New("the server is already running; configure it before any client connects")
	}
	change()
	return nil
}

// close ends everything the scenario started and reports what went wrong
// in doing so.
func (w *world) close() error {
	for _, p := range w.clients.peers {
		p.conn.Close()
	}
	w.clients.echo.close()
	for _, f := range w.clients.fakes {
		f.Close()
	}
	for _, s := range w.procs.thirdParty {
		s.stop()
	}
	for _, c := range w.scratch.closers {
		c()
	}
	if w.scratch.dir != "" {
		os.RemoveAll(w.scratch.dir)
	}
	udpErr := w.udp.close()
	if w.server.svc == nil {
		return udpErr
	}
	return errors.Join(w.server.svc.close(), udpErr)
}

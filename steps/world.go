package steps

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/echospec/echo/internal/testcert"
)

type worldKey struct{}

// world is one scenario's state: its server, its clients and what they saw.
// It lives in the scenario's context, so scenarios share nothing.
type world struct {
	target Target

	// How the scenario's echo server is configured. The server starts when a
	// step first needs it, so Given steps can still change this.
	tcpConfig

	svc    service // the echo server, once started
	addr   string  // where it listens
	events *eventLog[event]

	peers   map[string]*peer  // raw clients, by name
	sources map[string]string // the loopback address a client connects from, if not 127.0.0.1
	crowd   []crowdMember     // many clients at once
	silent  *silentCrowd      // many clients, held open and silent
	holders []*peer           // many clients, each holding an unfinished line

	echo  echoClient    // the project's own client, under test
	fakes []*fakeServer // servers that are not ours, for the client to meet
	// elsewhere, when set, is where the echo client connects instead of
	// the echo server: a fake server, or an address nobody listens on.
	elsewhere string

	udp *udpWorld

	tool       *toolRun            // what nc or socat sent and printed
	fortio     *fortioRun          // what fortio reported
	thirdParty []*thirdPartyServer // servers that are not ours
	dir        string              // a scratch folder, made when needed
	fifo       string              // a FIFO the server writes its events to, if any
	exited     *exited             // what a binary did, in Process mode
	taken      string              // an address held so that a server finds it in use
	closers    []func()            // what else to close when the scenario ends
	authority  *testcert.Authority // the scenario's test CA, made when needed
	balancer   balancerConfig      // how HAProxy is to be set up
	lb         *haproxy            // HAProxy, once in front of the servers
	backends   []backend           // every server behind HAProxy, the scenario's own first
	link       *faultyLink         // a faulty link between the clients and the server, if any
	bench      *benchReport        // what echobench reported
	signalled  time.Time           // when a server process was sent a signal
	steady     *steadyClients      // clients connecting one after another
	activated  *activatedServer    // a server systemd-socket-activate started
	// resetOnConnect names the clients whose connect already saw the
	// server close the connection.
	resetOnConnect []string

	shutdown struct {
		grace time.Duration
		err   error
	}
}

func newWorld(t Target) *world {
	return &world{target: t, events: newEventLog(summary), peers: make(map[string]*peer), sources: make(map[string]string), udp: newUDPWorld(t)}
}

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
func (w *world) started() bool { return w.svc != nil }

// startServer starts the scenario's echo server, unless it runs already:
// as the run's mode says, on a free loopback port or at the address given.
func (w *world) startServer() error {
	if w.started() {
		return nil
	}
	svc, err := startTCP(w.target, w.tcpConfig, w.events)
	if err != nil {
		return err
	}
	w.use(svc)
	return nil
}

// use makes svc the scenario's TCP echo server.
func (w *world) use(svc service) { w.svc, w.addr = svc, svc.address() }

// process is the scenario's tcpserver process, or nil when its server is
// not one.
func (w *world) process() *serverProcess {
	if w.svc == nil {
		return nil
	}
	return w.svc.process()
}

// tempDir returns the scenario's scratch folder, removed when it ends.
func (w *world) tempDir() (string, error) {
	if w.dir == "" {
		dir, err := os.MkdirTemp("", "echo-scenario-")
		if err != nil {
			return "", err
		}
		w.dir = dir
	}
	return w.dir, nil
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
	for _, p := range w.peers {
		p.conn.Close()
	}
	w.echo.close()
	for _, f := range w.fakes {
		f.Close()
	}
	for _, s := range w.thirdParty {
		s.stop()
	}
	for _, c := range w.closers {
		c()
	}
	if w.dir != "" {
		os.RemoveAll(w.dir)
	}
	udpErr := w.udp.close()
	if w.svc == nil {
		return udpErr
	}
	return errors.Join(w.svc.close(), udpErr)
}

package steps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/echospec/echo/impl/tcpecho"
)

type worldKey struct{}

// world is one scenario's state: its server, its clients and what they saw.
// It lives in the scenario's context, so scenarios share nothing.
type world struct {
	target Target

	// How the scenario's echo server is configured. The server starts when a
	// step first needs it, so Given steps can still change these.
	framing      tcpecho.Framing
	size         int
	maxLine      int
	maxConns     int
	maxPerIP     int
	maxHeld      int64
	idleTimeout  time.Duration
	writeTimeout time.Duration

	server  *tcpecho.Server // in Library mode
	accepts *gatedListener  // its listener, which a scenario can hold back
	process *serverProcess  // in Process mode
	addr    string          // where the echo server listens, once started
	served  chan error      // what Serve returned
	events  *eventLog[event]

	peers   map[string]*peer  // raw clients, by name
	sources map[string]string // the loopback address a client connects from, if not 127.0.0.1
	crowd   []crowdMember     // many clients at once
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
func (w *world) started() bool { return w.addr != "" }

// startServer starts the scenario's echo server on a free loopback port,
// unless it runs already: in-process, as a process, or, in Conformance
// mode, the one at the address given.
func (w *world) startServer() error {
	if w.started() {
		return nil
	}
	switch w.target.Mode {
	case Conformance:
		if w.target.TCP == "" {
			return errNoTCP
		}
		w.addr = w.target.TCP
		return nil
	case Process:
		args := []string{"-framing", w.framing.String(), "-shutdown-timeout", processGrace.String()}
		if w.size != 0 {
			args = append(args, "-size", strconv.Itoa(w.size))
		}
		if w.maxLine != 0 {
			args = append(args, "-max-line", strconv.Itoa(w.maxLine))
		}
		if w.maxConns != 0 {
			args = append(args, "-max-conns", strconv.Itoa(w.maxConns))
		}
		if w.maxPerIP != 0 {
			args = append(args, "-max-conns-per-ip", strconv.Itoa(w.maxPerIP))
		}
		if w.maxHeld != 0 {
			args = append(args, "-max-held", strconv.FormatInt(w.maxHeld, 10))
		}
		if w.idleTimeout != 0 {
			args = append(args, "-idle-timeout", w.idleTimeout.String())
		}
		if w.writeTimeout != 0 {
			args = append(args, "-write-timeout", w.writeTimeout.String())
		}
		p, err := startServerProcess(w.target.Bin, "tcpserver", args, tcpEvents(w.events))
		if err != nil {
			return err
		}
		w.process, w.addr = p, p.addr
		return nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen for the echo server: %w", err)
	}
	w.server = &tcpecho.Server{
		Framing:       w.framing,
		Size:          w.size,
		MaxLine:       w.maxLine,
		MaxConns:      w.maxConns,
		MaxConnsPerIP: w.maxPerIP,
		MaxHeld:       w.maxHeld,
		IdleTimeout:   w.idleTimeout,
		WriteTimeout:  w.writeTimeout,
		Observer:      tcpObserver(w.events),
		// The server logs only its own troubles, which the scenario's
		// assertions catch; keep test output for the scenarios.
		Logger: slog.New(slog.DiscardHandler),
	}
	w.addr = l.Addr().String()
	w.served = make(chan error, 1)
	w.accepts = &gatedListener{Listener: l}
	go func() { w.served <- w.server.Serve(w.accepts) }()
	return nil
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

// processGrace is the -shutdown-timeout server processes are started with.
const processGrace = 5 * time.Second

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
	if w.process != nil {
		w.process.kill()
	}
	if w.server == nil {
		return udpErr
	}
	w.server.Close()
	select {
	case err := <-w.served:
		if !errors.Is(err, tcpecho.ErrServerClosed) {
			return fmt.Errorf("the echo server stopped with: %w", err)
		}
	case <-time.After(patience):
		return fmt.Errorf("the echo server did not stop within %v of Close", patience)
	}
	return udpErr
}

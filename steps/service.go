package steps

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/echospec/echo/impl/tcpecho"
	"github.com/echospec/echo/impl/udpecho"
	"github.com/echospec/echo/internal/testcert"
)

// service is an echo server under test, however the run starts it: in this
// process (library mode), as one of our binaries (process mode), or
// somebody else's at an address the run was given (conformance mode).
// Steps talk to a server through this interface only; startTCP and
// startUDP are the one place that picks by mode.
type service interface {
	// address is where clients reach it, host:port.
	address() string
	// holdAccepts makes it too busy to accept connections until
	// resumeAccepts; the kernel still completes handshakes meanwhile.
	holdAccepts() error
	resumeAccepts() error
	// stopGracefully stops it as an operator would, giving busy
	// connections grace. verdict is what the server did wrong, if
	// anything (for a Then step to judge); err, that it could not be
	// stopped at all.
	stopGracefully(ctx context.Context, grace time.Duration) (verdict, err error)
	// close ends it at once, and says if it ended badly.
	close() error
	// process is the server's process, for what only a process has
	// (signals, exit status, its log, its memory), or nil.
	process() *serverProcess
}

// errNotOurs says a step asked a server we did not start to do what only
// our own can be made to do.
var errNotOurs = errors.New("this is not our server: a scenario can hold back or stop only its own")

// needBinaries skips the scenario unless the run has our binaries to start:
// what only a process has (signals, exit statuses, its log) cannot be
// checked otherwise.
func needBinaries(ctx context.Context) error {
	if targetFrom(ctx).Mode != Process {
		return skipScenario(ctx, "this scenario needs the binaries: make e2e")
	}
	return nil
}

// processGrace is the -shutdown-timeout server processes are started with.
const processGrace = 5 * time.Second

// startTCP starts the scenario's TCP echo service as the run's mode says.
func startTCP(t Target, cfg tcpConfig, events *eventLog[event]) (service, error) {
	return startAsTheModeSays(t, t.TCP, errNoTCP, "tcpserver", cfg.flags(), tcpEvents(events), func() (service, error) {
		return startTCPLibrary(cfg.server(tcpObserver(events)))
	})
}

// startUDP starts the scenario's UDP echo service as the run's mode says.
func startUDP(t Target, cfg udpConfig, events *eventLog[udpEvent]) (service, error) {
	return startAsTheModeSays(t, t.UDP, errNoUDP, "udpserver", cfg.flags(), udpEvents(events), func() (service, error) {
		return startUDPLibrary(cmp.Or(cfg.listen, "127.0.0.1:0"), cfg.server(udpecho.ObserverFunc(func(e udpecho.Event) { events.add(udpEventOf(e)) })))
	})
}

// startAsTheModeSays is the one place a service is chosen by the run's
// mode: in conformance, the address given (none: noAddr); in process
// mode, the binary with flags, its event lines going to onEvent; in
// library mode, what library starts.
func startAsTheModeSays(t Target, given string, noAddr error, binary string, flags []string, onEvent func([]byte), library func() (service, error)) (service, error) {
	switch t.Mode {
	case Conformance:
		if given == "" {
			return nil, noAddr
		}
		return remoteService(given), nil
	case Process:
		p, err := startServerProcess(t.Bin, binary, flags, onEvent)
		if err != nil {
			return nil, err
		}
		return &processService{p: p}, nil
	}
	return library()
}

// tcpLibrary is tcpecho.Server run in this process, on a listener whose
// accepting a scenario can hold back.
type tcpLibrary struct {
	srv    *tcpecho.Server
	gate   *gatedListener
	served chan error
}

func startTCPLibrary(srv *tcpecho.Server) (*tcpLibrary, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the echo server: %w", err)
	}
	s := &tcpLibrary{srv: srv, gate: &gatedListener{Listener: l}, served: make(chan error, 1)}
	go func() { s.served <- srv.Serve(s.gate) }()
	return s, nil
}

func (s *tcpLibrary) address() string         { return s.gate.Addr().String() }
func (s *tcpLibrary) holdAccepts() error      { s.gate.hold(); return nil }
func (s *tcpLibrary) resumeAccepts() error    { s.gate.release(); return nil }
func (s *tcpLibrary) process() *serverProcess { return nil }

func (s *tcpLibrary) stopGracefully(ctx context.Context, grace time.Duration) (verdict, err error) {
	ctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	return s.srv.Shutdown(ctx), nil
}

func (s *tcpLibrary) close() error {
	s.srv.Close()
	return awaitServed("the echo server", s.served, tcpecho.ErrServerClosed)
}

// udpLibrary is udpecho.Server run in this process.
type udpLibrary struct {
	srv    *udpecho.Server
	pc     net.PacketConn
	served chan error
}

func startUDPLibrary(addr string, srv *udpecho.Server) (*udpLibrary, error) {
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen for the UDP echo server: %w", err)
	}
	s := &udpLibrary{srv: srv, pc: pc, served: make(chan error, 1)}
	go func() { s.served <- srv.Serve(pc) }()
	return s, nil
}

func (s *udpLibrary) address() string         { return s.pc.LocalAddr().String() }
func (s *udpLibrary) holdAccepts() error      { return errNoConnections }
func (s *udpLibrary) resumeAccepts() error    { return errNoConnections }
func (s *udpLibrary) process() *serverProcess { return nil }

func (s *udpLibrary) stopGracefully(ctx context.Context, grace time.Duration) (verdict, err error) {
	ctx, cancel := context.WithTimeout(ctx, grace)
	defer cancel()
	return s.srv.Shutdown(ctx), nil
}

func (s *udpLibrary) close() error {
	s.srv.Close()
	return awaitServed("the UDP echo server", s.served, udpecho.ErrServerClosed)
}

// errNoConnections says a step asked a UDP server to hold back accepting.
var errNoConnections = errors.New("a UDP server accepts no connections to hold back")

// awaitServed waits for what Serve returned after Close, which must be
// closed, the server's own ErrServerClosed.
func awaitServed(what string, served <-chan error, closed error) error {
	select {
	case err := <-served:
		if !errors.Is(err, closed) {
			return fmt.Errorf("%s stopped with: %w", what, err)
		}
		return nil
	case <-time.After(patience):
		return fmt.Errorf("%s did not stop within %v of Close", what, patience)
	}
}

// processService is one of our binaries, run as a process.
type processService struct{ p *serverProcess }

func (s *processService) address() string         { return s.p.addr }
func (s *processService) process() *serverProcess { return s.p }

// holdAccepts stops the process: a stopped process is as busy as a
// process gets, and the kernel still completes handshakes into its listen
// backlog.
func (s *processService) holdAccepts() error   { return s.p.signal(syscall.SIGSTOP) }
func (s *processService) resumeAccepts() error { return s.p.signal(syscall.SIGCONT) }

// stopGracefully sends SIGTERM and judges the exit: status 0, and not
// after cutting busy connections off at the end of its grace period.
func (s *processService) stopGracefully(_ context.Context, grace time.Duration) (verdict, err error) {
	if grace != processGrace {
		return nil, fmt.Errorf("server processes start with -shutdown-timeout %v, so a scenario cannot give them %v", processGrace, grace)
	}
	if err := s.p.signal(syscall.SIGTERM); err != nil {
		return nil, err
	}
	code, err := s.p.wait(grace + patience)
	switch {
	case err != nil:
		return nil, err
	case code != 0:
		return fmt.Errorf("%s exited %d after SIGTERM: %s", s.p.name, code, s.p.stderr), nil
	case strings.Contains(s.p.stderr.String(), "cut off"):
		return fmt.Errorf("%s needed its whole grace period: %s", s.p.name, s.p.stderr), nil
	}
	return nil, nil
}

func (s *processService) close() error {
	s.p.kill()
	return nil
}

// remoteService is an echo service somebody else runs, at an address.
type remoteService string

func (s remoteService) address() string         { return string(s) }
func (s remoteService) holdAccepts() error      { return errNotOurs }
func (s remoteService) resumeAccepts() error    { return errNotOurs }
func (s remoteService) close() error            { return nil }
func (s remoteService) process() *serverProcess { return nil }

func (s remoteService) stopGracefully(context.Context, time.Duration) (verdict, err error) {
	return nil, errNotOurs
}

// tcpConfig is how a scenario configures its TCP echo server before it
// starts. flags and server are the one place each that turns it into the
// binary's command line and into the library's Server.
type tcpConfig struct {
	framing      tcpecho.Framing
	size         int
	maxLine      int
	maxConns     int
	maxPerIP     int
	maxHeld      int64
	idleTimeout  time.Duration
	writeTimeout time.Duration

	tls       *serverTLS    // set: the server speaks TLS
	handshake time.Duration // the preamble's bound, if not the default
	proxy     tcpecho.ProxyMode
	proxyFrom []netip.Prefix // who may send a PROXY header; empty: anyone
	identity  string         // the name it answers an identity probe with, if any

	ops opsConfig // the binaries' operational flags
}

// opsConfig is what the binaries add for running them for real: the
// admin endpoint and the drain. The library's servers have neither (they
// are the commands'), so scenarios that set them need the binaries.
type opsConfig struct {
	admin      bool          // -admin on a free port
	drainDelay time.Duration // -drain-delay
}

// flags is the command line for the configuration.
func (c opsConfig) flags() []string {
	var args []string
	if c.admin {
		args = append(args, "-admin", "127.0.0.1:0")
	}
	if c.drainDelay > 0 {
		args = append(args, "-drain-delay", c.drainDelay.String())
	}
	return args
}

// serverTLS is a TLS server's certificate, as files for the binary and as
// the configuration the library takes.
type serverTLS struct {
	files    testcert.Files
	clientCA string // set: client certificates signed by this CA are required
	config   *tls.Config
}

// flags is tcpserver's command line for the configuration; what is left
// at zero is left out, so the binary's defaults apply.
func (c tcpConfig) flags() []string {
	args := []string{"-framing", c.framing.String(), "-shutdown-timeout", processGrace.String()}
	for _, f := range []struct {
		name  string
		value int64
	}{
		{"-size", int64(c.size)},
		{"-max-line", int64(c.maxLine)},
		{"-max-conns", int64(c.maxConns)},
		{"-max-conns-per-ip", int64(c.maxPerIP)},
		{"-max-held", c.maxHeld},
	} {
		if f.value != 0 {
			args = append(args, f.name, fmt.Sprint(f.value))
		}
	}
	for _, f := range []struct {
		name  string
		value time.Duration
	}{{"-idle-timeout", c.idleTimeout}, {"-write-timeout", c.writeTimeout}} {
		if f.value != 0 {
			args = append(args, f.name, f.value.String())
		}
	}
	return append(append(args, c.preambleFlags()...), c.ops.flags()...)
}

// preambleFlags is the command line for TLS and the PROXY protocol.
func (c tcpConfig) preambleFlags() []string {
	var args []string
	if c.tls != nil {
		args = append(args, "-tls-cert", c.tls.files.Cert, "-tls-key", c.tls.files.Key)
		if c.tls.clientCA != "" {
			args = append(args, "-tls-client-ca", c.tls.clientCA)
		}
	}
	if c.handshake != 0 {
		args = append(args, "-tls-handshake-timeout", c.handshake.String())
	}
	if c.proxy != tcpecho.ProxyOff {
		args = append(args, "-proxy-protocol", c.proxy.String())
	}
	if c.identity != "" {
		args = append(args, "-identity", c.identity)
	}
	if len(c.proxyFrom) > 0 {
		from := make([]string, len(c.proxyFrom))
		for i, p := range c.proxyFrom {
			from[i] = p.String()
		}
		args = append(args, "-proxy-from", strings.Join(from, ","))
	}
	return args
}

// server is the library's Server for the configuration, telling obs.
func (c tcpConfig) server(obs tcpecho.Observer) *tcpecho.Server {
	var tlsConfig *tls.Config
	if c.tls != nil {
		tlsConfig = c.tls.config
	}
	return &tcpecho.Server{
		TLSConfig:        tlsConfig,
		Framing:          c.framing,
		Size:             c.size,
		MaxLine:          c.maxLine,
		MaxConns:         c.maxConns,
		MaxConnsPerIP:    c.maxPerIP,
		MaxHeld:          c.maxHeld,
		IdleTimeout:      c.idleTimeout,
		WriteTimeout:     c.writeTimeout,
		HandshakeTimeout: c.handshake,
		ProxyProtocol:    c.proxy,
		ProxyFrom:        c.proxyFrom,
		Identity:         c.identity,
		Observer:         obs,
		// The server logs only its own troubles, which the scenario's
		// assertions catch; keep test output for the scenarios.
		Logger: slog.New(slog.DiscardHandler),
	}
}

// udpConfig is how a scenario configures its UDP echo server.
type udpConfig struct {
	guardOff bool
	identity string // the name it answers an identity probe with, if any
	listen   string // the address it listens on, if not 127.0.0.1:0
	ops      opsConfig
}

// flags is udpserver's command line for the configuration.
func (c udpConfig) flags() []string {
	args := []string{"-shutdown-timeout", processGrace.String()}
	if c.guardOff {
		args = append(args, "-guard=false")
	}
	if c.listen != "" {
		args = append(args, "-listen", c.listen)
	}
	if c.identity != "" {
		args = append(args, "-identity", c.identity)
	}
	return append(args, c.ops.flags()...)
}

// server is the library's Server for the configuration, telling obs.
func (c udpConfig) server(obs udpecho.Observer) *udpecho.Server {
	return &udpecho.Server{DisableGuard: c.guardOff, Identity: c.identity, Logger: slog.New(slog.DiscardHandler), Observer: obs}
}
